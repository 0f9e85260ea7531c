/**
 * The medium as one ZIP (Zip64 when it needs it), built with @zip.js/zip.js from Blobs read as
 * streams, so a DVD never sits in memory twice. Runs inside the media Web Worker (never on the
 * page's thread); pure enough for Vitest.
 *
 * The same files (paths, sizes, dates) give the same bytes, so a transfer interrupted by a reload
 * can resume on the same upload after the user picks the folder again.
 */
import { BlobReader, BlobWriter, ZipWriter, configure } from "@zip.js/zip.js";
import type { MediaFile } from "./types";

configure({ useWebWorkers: false });

/**
 * Default deflate level: 0 (stored). Measured in headless Chromium (bench/README.md), deflate
 * runs at about 12 MB/s on one core and shrinks CT to about 40 %, storing runs at about 100 MB/s:
 * storing is faster on any link above ~40 Mbit/s. A site on a slow link sets `zipLevel` to 1
 * in config.json.
 */
export const ZIP_LEVEL = 0;

export interface ZipProgress {
  /** input bytes compressed so far */
  done: number;
  total: number;
  file: number;
  files: number;
}

export interface ZipOptions {
  level?: number;
  onProgress?: (p: ZipProgress) => void;
  signal?: AbortSignal;
}

/** Entry name of a path in the archive: forward slashes, nothing absolute or climbing out. */
export function entryName(path: string): string {
  return path
    .replace(/\\/g, "/")
    .split("/")
    .filter((p) => p !== "" && p !== "." && p !== "..")
    .join("/");
}

export async function buildZip(files: MediaFile[], options: ZipOptions = {}): Promise<Blob> {
  const total = files.reduce((sum, f) => sum + f.size, 0);
  const writer = new ZipWriter(new BlobWriter("application/zip"), {
    level: options.level ?? ZIP_LEVEL,
    // the browser's CompressionStream ignores the level (zlib's default, 6): about 10 MB/s on
    // noisy CT in Chromium; zip.js's own deflate at level 1 is several times faster
    useCompressionStream: false,
    bufferedWrite: false,
    keepOrder: true,
    useWebWorkers: false,
    // ZIP dates are DOS dates: before 1980 they cannot be written
    extendedTimestamp: false,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  let done = 0;
  const used = new Set<string>();
  for (const [index, f] of files.entries()) {
    let name = entryName(f.path) || `file-${index}`;
    while (used.has(name.toLowerCase())) name = `${name}_`;
    used.add(name.toLowerCase());
    const before = done;
    await writer.add(name, new BlobReader(f.file), {
      lastModDate: new Date(Math.max(f.lastModified, Date.UTC(1980, 0, 2))),
      onprogress: (progress: number) => {
        options.onProgress?.({ done: before + progress, total, file: index + 1, files: files.length });
      },
    });
    done = before + f.size;
    options.onProgress?.({ done, total, file: index + 1, files: files.length });
  }
  return writer.close();
}
