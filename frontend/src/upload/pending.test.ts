import { describe, expect, it } from "vitest";
import type { MediaFile } from "../media/types";
import { fingerprint, resumable } from "./pending";
import { shouldRetry } from "./tus";

const file = (path: string, size = 3, lastModified = 1): MediaFile => ({
  path,
  size,
  lastModified,
  file: new Blob(["abc"]),
});

describe("resuming after a reload", () => {
  const files = [file("DICOMDIR"), file("IM1")];
  const pending = { importId: "i", uploadUrl: "/u/i", accession: "A1", fingerprint: fingerprint(files), size: 100 };

  it("resumes the same files of the same order", () => {
    expect(resumable(pending, "A1", [file("DICOMDIR"), file("IM1")], 100)).toBe(pending);
  });

  it.each([
    ["another order", "A2", files, 100],
    ["another archive size", "A1", files, 101],
    ["another file", "A1", [file("DICOMDIR"), file("IM2")], 100],
    ["a changed file", "A1", [file("DICOMDIR"), file("IM1", 3, 2)], 100],
  ])("does not resume %s", (_, accession, chosen, size) => {
    expect(resumable(pending, accession as string, chosen as MediaFile[], size as number)).toBeNull();
  });
});

describe("tus retries", () => {
  it.each([
    [undefined, true],
    [0, true],
    [409, true],
    [423, true],
    [429, true],
    [503, true],
    [401, false],
    [404, false],
    [413, false],
    [415, false],
  ])("status %s → retry %s", (status, retry) => {
    expect(shouldRetry(status)).toBe(retry);
  });

  it("does not retry an upload the server closed (import cancelled or expired)", () => {
    const closed = JSON.stringify({ error: { code: "upload_closed", message: "closed" } });
    const busy = JSON.stringify({ error: { code: "upload_busy", message: "busy" } });
    expect(shouldRetry(409, closed)).toBe(false);
    expect(shouldRetry(409, busy)).toBe(true);
    expect(shouldRetry(409, "not json")).toBe(true);
  });
});

describe("an interrupted upload", () => {
  const store = new Map<string, string>();
  const session = {
    getItem: (k: string) => store.get(k) ?? null,
    setItem: (k: string, v: string) => void store.set(k, v),
    removeItem: (k: string) => void store.delete(k),
  };

  it("is the one left when the page loaded, never one this page starts", async () => {
    const { clearPending, interruptedAtLoad, reloadInterrupted, savePending, settleInterrupted } = await import("./pending");
    Object.assign(globalThis, { sessionStorage: session });
    const first = { importId: "i1", uploadUrl: "/u/i1", accession: "A1", fingerprint: "f", size: 10 };
    reloadInterrupted(); // a page load with nothing pending
    savePending(first); // the first transfer of this page
    expect(interruptedAtLoad()).toBeNull();

    reloadInterrupted(); // the page is reloaded mid-transfer
    expect(interruptedAtLoad()).toEqual(first);
    settleInterrupted("other");
    expect(interruptedAtLoad()).toEqual(first);
    settleInterrupted("i1"); // its resume started (or it was cancelled)
    expect(interruptedAtLoad()).toBeNull();

    clearPending();
    reloadInterrupted();
    expect(interruptedAtLoad()).toBeNull();
  });
});
