import { BlobReader, BlobWriter, ZipReader } from "@zip.js/zip.js";
import { describe, expect, it } from "vitest";
import type { MediaFile } from "./types";
import { buildZip, entryName } from "./zip";

function file(path: string, text: string, lastModified = Date.UTC(2024, 4, 6, 7, 8, 10)): MediaFile {
  const blob = new Blob([text]);
  return { path, file: blob, size: blob.size, lastModified };
}

async function entries(zip: Blob): Promise<Record<string, string>> {
  const reader = new ZipReader(new BlobReader(zip));
  const out: Record<string, string> = {};
  for (const entry of await reader.getEntries()) {
    if (entry.directory) continue;
    const data = await entry.getData!(new BlobWriter());
    out[entry.filename] = await data.text();
  }
  await reader.close();
  return out;
}

describe("buildZip", () => {
  it("holds every file under its path in the medium", async () => {
    const zip = await buildZip([
      file("DICOMDIR", "index"),
      file("DICOM/PAT1/IM0001", "x".repeat(10_000)),
      file("DICOM/PAT1/IM0002", ""),
    ]);
    expect(await entries(zip)).toEqual({
      DICOMDIR: "index",
      "DICOM/PAT1/IM0001": "x".repeat(10_000),
      "DICOM/PAT1/IM0002": "",
    });
    expect(zip.size).toBeGreaterThan(10_000); // stored by default
    const deflated = await buildZip([file("DICOM/PAT1/IM0001", "x".repeat(10_000))], { level: 1 });
    expect(deflated.size).toBeLessThan(1_000);
    expect(await entries(deflated)).toEqual({ "DICOM/PAT1/IM0001": "x".repeat(10_000) });
  });

  it("gives the same bytes for the same files (a reload can resume the upload)", async () => {
    const files = [file("A/1", "one"), file("A/2", "two".repeat(500))];
    const first = new Uint8Array(await (await buildZip(files)).arrayBuffer());
    const second = new Uint8Array(await (await buildZip(files)).arrayBuffer());
    expect(second).toEqual(first);
  });

  it("reports progress up to the total input size", async () => {
    const seen: number[] = [];
    const files = [file("a", "a".repeat(3000)), file("b", "b".repeat(5000))];
    await buildZip(files, { onProgress: (p) => seen.push(p.done) });
    expect(seen.at(-1)).toBe(8000);
    expect(seen).toEqual([...seen].sort((x, y) => x - y));
  });

  it("keeps dates before 1980 writable and names unique", async () => {
    const zip = await buildZip([file("x", "1", 0), file("X", "2", 0)]);
    expect(Object.keys(await entries(zip)).sort()).toEqual(["X_", "x"]);
  });

  it.each([
    ["../../etc/passwd", "etc/passwd"],
    ["/abs/path", "abs/path"],
    ["a\\b\\c", "a/b/c"],
    ["./a/./b", "a/b"],
  ])("entry name of %s is %s", (path, name) => {
    expect(entryName(path)).toBe(name);
  });
});
