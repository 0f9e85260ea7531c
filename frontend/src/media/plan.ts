/**
 * What will be sent from a medium, and the summary shown before sending: the DICOMDIR at the
 * root selects the files when there is one (and says who and what is on the medium); otherwise
 * every file is sent and the summary comes from the files' headers.
 */
import { isRootDicomdir, parseDicomdir, selectReferenced } from "./dicomdir";
import { HEADER_BYTES, readHeader } from "./headers";
import type { MediaFile, MediaPlan, MediaSummary } from "./types";

const MAX_NAMES = 5;

async function bytesOf(blob: Blob, limit?: number): Promise<Uint8Array> {
  const part = limit !== undefined && blob.size > limit ? blob.slice(0, limit) : blob;
  return new Uint8Array(await part.arrayBuffer());
}

function total(files: MediaFile[]): number {
  return files.reduce((sum, f) => sum + f.size, 0);
}

/** Summary from the files' headers (no DICOMDIR, or one that cannot be read). */
export async function summariseHeaders(
  files: MediaFile[],
  onProgress?: (done: number, total: number) => void,
): Promise<MediaSummary> {
  const patients = new Set<string>();
  const names = new Set<string>();
  const studies = new Set<string>();
  const series = new Set<string>();
  let dicom = 0;
  let done = 0;
  for (const f of files) {
    let header = readHeader(await bytesOf(f.file, HEADER_BYTES));
    if (header === null && f.size > HEADER_BYTES) {
      header = readHeader(await bytesOf(f.file, 8 * HEADER_BYTES));
    }
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
  };
}

export async function planMedia(
  files: MediaFile[],
  onProgress?: (done: number, total: number) => void,
): Promise<MediaPlan> {
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const root = sorted.find((f) => isRootDicomdir(f.path));
  if (root) {
    try {
      const dir = parseDicomdir(await bytesOf(root.file));
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
    summary: await summariseHeaders(sorted, onProgress),
  };
}
