/**
 * A transfer that got no answer from the server: the file on the medium gone (a USB stick pulled
 * out) or the network. tus-js-client cannot tell them apart (the browser sends nothing either
 * way); the upload reads the file to know, and the send panel words each with what to do.
 */
import { DetailedError } from "tus-js-client";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { isReadError, MediumReadError, stillReadable, transferFailure, uploadArchive } from "./tus";

/** tus-js-client's error for a request that got no answer, or the answer `status`. */
function tusError(status?: number, cause: unknown = null): DetailedError {
  const request = { getHeader: (name: string) => (name === "Upload-Offset" ? "16384" : undefined), getMethod: () => "PATCH", getURL: () => "/u" };
  const response = status === undefined ? null : { getStatus: () => status, getBody: () => "" };
  const error = new DetailedError("tus: failed to upload chunk at offset 16384");
  return Object.assign(error, { originalRequest: request, originalResponse: response, causingError: cause }) as DetailedError;
}

/** A file the browser can no longer read (its medium removed): each read fails as Chromium's does. */
function goneFile(size = 50_000, name = "NotFoundError"): Blob {
  const fail = () => Promise.reject(new DOMException("A requested file or directory could not be found", name));
  return { size, slice: () => ({ arrayBuffer: fail }) } as unknown as Blob;
}

const readableFile = () => new Blob(["x".repeat(50_000)]);

describe("why a transfer failed", () => {
  it.each([
    ["the server's refusal (it answered)", "refused", tusError(409)],
    ["no answer at all: the network", "network", tusError(undefined, new Event("error"))],
    ["no answer, the status 0 of a failed XHR", "network", tusError(0)],
    ["the file on the medium could not be read", "medium", new MediumReadError(tusError())],
    ["a read error tus wrapped (NotReadableError)", "medium", tusError(undefined, new DOMException("gone", "NotReadableError"))],
    ["a read error itself (NotFoundError)", "medium", new DOMException("gone", "NotFoundError")],
    ["anything else", "network", new Error("boom")],
  ])("%s → %s", (_, failure, error) => {
    expect(transferFailure(error)).toBe(failure);
  });

  it("a read error is only a File API one, never another DOMException", () => {
    expect(isReadError(new DOMException("aborted", "AbortError"))).toBe(false);
    expect(isReadError(null)).toBe(false);
    expect(isReadError("NotFoundError")).toBe(false);
  });

  it("a file is readable until its medium goes", async () => {
    expect(await stillReadable(readableFile(), 16_384)).toBe(true);
    expect(await stillReadable(new Blob([]))).toBe(true);
    expect(await stillReadable(goneFile())).toBe(false);
    expect(await stillReadable(goneFile(50_000, "NotReadableError"), 60_000)).toBe(false);
  });
});

/** tus-js-client's Upload, replaced: no request gets an answer; two retries, then the error. */
const uploads: { aborted: boolean; attempts: number }[] = [];
vi.mock("tus-js-client", async (importOriginal) => {
  const real = await importOriginal<typeof import("tus-js-client")>();
  class Upload {
    aborted = false;
    attempts = 0;
    constructor(
      _file: Blob,
      private options: { onShouldRetry: (e: DetailedError, n: number, o: unknown) => boolean; onError: (e: Error) => void },
    ) {
      uploads.push(this);
    }
    start() {
      this.attempts += 1;
      const error = tusError();
      if (this.attempts < 3 && this.options.onShouldRetry(error, this.attempts - 1, this.options)) {
        setTimeout(() => (this.aborted ? undefined : this.start()), 20);
      } else {
        this.options.onError(error);
      }
    }
    abort() {
      this.aborted = true;
      return Promise.resolve();
    }
  }
  return { ...real, Upload };
});

describe("a transfer with no answer from the server", () => {
  beforeEach(() => void vi.stubGlobal("window", { location: { href: "http://127.0.0.1/import" } }));
  afterEach(() => {
    uploads.splice(0);
    vi.unstubAllGlobals();
  });
  const options = { uploadUrl: "http://127.0.0.1/u/1", token: "t", chunkSize: 16_384 };

  it("stops at once when the file on the medium can no longer be read, and says so", async () => {
    const failure = await uploadArchive(goneFile(), options).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(MediumReadError);
    expect(transferFailure(failure)).toBe("medium");
    // after the first failure, not after minutes of retries
    expect(uploads[0]!.attempts).toBe(1);
    expect(uploads[0]!.aborted).toBe(true);
  });

  it("is a network failure while the file can still be read", async () => {
    const failure = await uploadArchive(readableFile(), options).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(DetailedError);
    expect(transferFailure(failure)).toBe("network");
    expect(uploads[0]!.attempts).toBe(3);
    expect(uploads[0]!.aborted).toBe(false);
  });
});
