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
        return {
          source: "dicomdir",
          dicomdir: { path: root.path, readable: true },
          files: selected,
          missing,
          leftOut: leftOut.length,
          summary: {
            patients: dir.patients,
            studies: dir.studies,
            series: dir.series,
            files: selected.length,
            dicom: selected.length - 1,
            bytes: total(selected),
            patientNames: dir.patientNames.slice(0, MAX_NAMES),
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
