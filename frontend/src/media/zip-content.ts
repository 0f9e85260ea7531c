/**
 * What is inside a ZIP the user chose as it is (Files tab, or dropped): the browser lists it with
 * @zip.js/zip.js and reads the first bytes of each entry as the folder scan does (DICOMDIR,
 * DICOM headers, what the other files are), so the summary says what will be sent before it is
 * sent — and a ZIP with no DICOM in it is not sent at all. The ZIP itself is sent unchanged.
 *
 * A stored entry (the usual case for DICOM: it hardly compresses) is read straight from the ZIP
 * at its offset; a deflated one is inflated only as far as the bytes asked for.
 */
import { BlobReader, ZipReader, type Entry, type FileEntry } from "@zip.js/zip.js";
import { count, type FoundKinds } from "./kinds";
import { planMedia, type ReadBytes } from "./plan";
import type { MediaFile, MediaPlan } from "./types";

const LOCAL_HEADER = 0x04034b50;

async function slice(blob: Blob, start: number, end: number): Promise<Uint8Array> {
  return new Uint8Array(await blob.slice(start, end).arrayBuffer());
}

/** A stored entry's bytes, from its local header on: no inflating, nothing read twice. */
async function readStored(zip: Blob, entry: FileEntry, limit: number): Promise<Uint8Array> {
  const header = await slice(zip, entry.offset, entry.offset + 30);
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
  if (header.length < 30 || view.getUint32(0, true) !== LOCAL_HEADER) throw new Error("bad local header");
  const start = entry.offset + 30 + view.getUint16(26, true) + view.getUint16(28, true);
  return slice(zip, start, start + Math.min(limit, entry.uncompressedSize));
}

/** The first `limit` bytes of any entry: inflating stops once they are there. */
async function readInflated(entry: FileEntry, limit: number): Promise<Uint8Array> {
  const controller = new AbortController();
  const chunks: Uint8Array[] = [];
  let got = 0;
  const sink = new WritableStream<Uint8Array>({
    write(chunk) {
      chunks.push(chunk);
      got += chunk.length;
      if (got >= limit) controller.abort();
    },
  });
  try {
    await entry.getData(sink, { signal: controller.signal });
  } catch (error) {
    if (!controller.signal.aborted) throw error;
  }
  const out = new Uint8Array(Math.min(got, limit));
  let at = 0;
  for (const chunk of chunks) {
    if (at >= out.length) break;
    const part = chunk.subarray(0, out.length - at);
    out.set(part, at);
    at += part.length;
  }
  return out;
}

export async function readEntry(zip: Blob, entry: FileEntry, limit?: number): Promise<Uint8Array> {
  const max = limit ?? entry.uncompressedSize;
  if (max <= 0 || entry.uncompressedSize === 0) return new Uint8Array(0);
  if (entry.compressionMethod === 0 && !entry.encrypted) return readStored(zip, entry, max);
  return readInflated(entry, max);
}

function unreadable(zip: MediaFile): MediaPlan {
  return {
    source: "all-files",
    dicomdir: null,
    files: [zip],
    missing: [],
    leftOut: 0,
    summary: { patients: 0, studies: 0, series: 0, files: 0, dicom: 0, bytes: zip.size, patientNames: [] },
    archive: { readable: false, entries: 0 },
  };
}

/**
 * The plan of a ZIP sent as it is: `files` is the ZIP alone; the summary counts what is in it
 * (patients, studies, series from its DICOMDIR or its headers; what the other files are).
 */
export async function planZip(
  zip: MediaFile,
  onProgress?: (done: number, total: number) => void,
): Promise<MediaPlan> {
  const reader = new ZipReader(new BlobReader(zip.file), { useWebWorkers: false });
  let entries: Entry[];
  try {
    entries = await reader.getEntries();
  } catch {
    return unreadable(zip);
  }
  try {
    const byPath = new Map<string, FileEntry>();
    const files: MediaFile[] = [];
    const protectedFiles: FoundKinds = {};
    let total = 0;
    for (const entry of entries) {
      if (entry.directory) continue;
      total += 1;
      if (entry.encrypted) {
        count(protectedFiles, "encrypted");
        continue;
      }
      const path = entry.filename.replace(/\\/g, "/");
      byPath.set(path, entry);
      files.push({
        path,
        file: zip.file, // never read as such: `read` below reads the entry
        size: entry.uncompressedSize,
        lastModified: entry.lastModDate.getTime(),
      });
    }
    const read: ReadBytes = async (f, limit) => {
      const entry = byPath.get(f.path);
      if (!entry) return new Uint8Array(0);
      try {
        return await readEntry(zip.file, entry, limit);
      } catch {
        return new Uint8Array(0); // a damaged entry: counted as "other", the server decides
      }
    };
    const inner = await planMedia(files, onProgress, read);
    // password-protected entries are said even when the rest of the medium is DICOM
    const merged = { ...(inner.summary.found ?? {}), ...protectedFiles };
    const found = Object.keys(merged).length ? merged : undefined;
    return {
      source: inner.source,
      dicomdir: inner.dicomdir,
      files: [zip],
      missing: inner.missing,
      leftOut: 0,
      summary: {
        ...inner.summary,
        files: total,
        bytes: zip.size,
        ...(found ? { found } : {}),
      },
      archive: { readable: true, entries: total },
    };
  } finally {
    await reader.close().catch(() => undefined);
  }
}
