/**
 * What will be sent from a medium, and the summary shown before sending: the DICOMDIR at the
 * root selects the files when there is one (and says who and what is on the medium); otherwise
 * every file is sent and the summary comes from the files' headers.
 */
import { isRootDicomdir, parseDicomdir, selectReferenced } from "./dicomdir";
import { HEADER_BYTES, looksLikeDicom, readHeader } from "./headers";
import { classify, count, type FoundKinds } from "./kinds";
import type { MediaFile, MediaPlan, MediaSummary } from "./types";

const MAX_NAMES = 5;

/**
 * Reads the first `limit` bytes of a file (all of it without a limit): a folder's files are
 * Blobs, a ZIP's entries are read from inside the ZIP (`zip-content.ts`).
 */
export type ReadBytes = (file: MediaFile, limit?: number) => Promise<Uint8Array>;

export const readBlob: ReadBytes = async (f, limit) => {
  const part = limit !== undefined && f.file.size > limit ? f.file.slice(0, limit) : f.file;
  return new Uint8Array(await part.arrayBuffer());
};

/** The server offers at most this many documents of a medium, each of at most this size. */
export const MAX_DOCUMENTS = 100;
export const MAX_DOCUMENT_BYTES = 64 * 1024 * 1024;

/** A PDF, JPEG or PNG by its first bytes (as the server tells them): a document to offer. */
export function isDocument(head: Uint8Array): boolean {
  const starts = (...sig: number[]) => head.length >= sig.length && sig.every((b, i) => head[i] === b);
  return (
    starts(0x25, 0x50, 0x44, 0x46, 0x2d) || // %PDF-
    starts(0xff, 0xd8, 0xff) || // JPEG
    starts(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a) // PNG
  );
}

/** The documents among files a DICOMDIR does not name, by content, within the server's caps. */
export async function pickDocuments(files: MediaFile[], read: ReadBytes = readBlob): Promise<MediaFile[]> {
  const picked: MediaFile[] = [];
  for (const f of files) {
    if (picked.length >= MAX_DOCUMENTS) break;
    if (f.size === 0 || f.size > MAX_DOCUMENT_BYTES) continue;
    if (isDocument(await read(f, 16))) picked.push(f);
  }
  return picked;
}

function total(files: MediaFile[]): number {
  return files.reduce((sum, f) => sum + f.size, 0);
}

/** Summary from the files' headers (no DICOMDIR, or one that cannot be read). */
export async function summariseHeaders(
  files: MediaFile[],
  onProgress?: (done: number, total: number) => void,
  read: ReadBytes = readBlob,
): Promise<MediaSummary> {
  const found: FoundKinds = {};
  const patients = new Set<string>();
  const names = new Set<string>();
  const studies = new Set<string>();
  const series = new Set<string>();
  let dicom = 0;
  let done = 0;
  for (const f of files) {
    const head = await read(f, HEADER_BYTES);
    let header = readHeader(head);
    if (header === null && f.size > HEADER_BYTES && looksLikeDicom(head)) {
      header = readHeader(await read(f, 8 * HEADER_BYTES));
    }
    count(found, header ? "dicom" : classify(f.path, head));
    if (header) {
      dicom += 1;
      patients.add(`${header.patientName}|${header.patientId}`);
      if (header.patientName) names.add(header.patientName);
      studies.add(header.studyUid);
      series.add(`${header.studyUid}|${header.seriesUid}`);
    }
    done += 1;
    onProgress?.(done, files.length);
  }
  return {
    patients: patients.size,
    studies: studies.size,
    series: series.size,
    files: files.length,
    dicom,
    bytes: total(files),
    patientNames: [...names].slice(0, MAX_NAMES),
    found,
  };
}

export async function planMedia(
  files: MediaFile[],
  onProgress?: (done: number, total: number) => void,
  read: ReadBytes = readBlob,
): Promise<MediaPlan> {
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const root = sorted.find((f) => isRootDicomdir(f.path));
  if (root) {
    try {
      const dir = parseDicomdir(await read(root));
      const { selected, missing, leftOut } = selectReferenced(sorted, root.path, dir.records);
      if (selected.length > 1) {
        // the report and photos the DICOMDIR does not name go too: the user may file them
        const documents = await pickDocuments(leftOut, read);
        const sent = [...selected, ...documents];
        return {
          source: "dicomdir",
          dicomdir: { path: root.path, readable: true },
          files: sent,
          missing,
          leftOut: leftOut.length - documents.length,
          summary: {
            patients: dir.patients,
            studies: dir.studies,
            series: dir.series,
            files: sent.length,
            dicom: selected.length - 1,
            bytes: total(sent),
            patientNames: dir.patientNames.slice(0, MAX_NAMES),
            documents: documents.length,
          },
        };
      }
    } catch {
      // an unreadable DICOMDIR: every file is sent, the server reads what it can
    }
  }
  return {
    source: "all-files",
    dicomdir: root ? { path: root.path, readable: false } : null,
    files: sorted,
    missing: [],
    leftOut: 0,
    summary: await summariseHeaders(sorted, onProgress, read),
  };
}
