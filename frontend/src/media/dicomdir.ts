/**
 * The DICOMDIR (PS3.10 media directory) read in the browser as the medium's index, so that only
 * the files it names are zipped and sent (not the viewer program and autorun files of a CD).
 *
 * File IDs are matched the way real CDs need, like the server does (importer/media/dicomdir.py):
 * case-insensitively, without ISO 9660 version suffixes (`;1`), without trailing dots, and
 * tolerating a `.dcm` appended on disk.
 */
import { parseDicom, type DataSet } from "dicom-parser";
import { fileIdKey } from "./fileid";

export { fileIdKey, isRootDicomdir } from "./fileid";

const DIRECTORY_RECORD_SEQUENCE = "x00041220";
const RECORD_TYPE = "x00041430";
const REFERENCED_FILE_ID = "x00041500";
const PATIENT_NAME = "x00100010";
const PATIENT_ID = "x00100020";
const STUDY_INSTANCE_UID = "x0020000d";
const SERIES_INSTANCE_UID = "x0020000e";

export interface DirectoryRecord {
  type: string;
  /** Referenced File ID as path components, or null for records that name no file */
  fileId: string[] | null;
  patientName: string;
  patientId: string;
  studyUid: string;
  seriesUid: string;
}

export interface Dicomdir {
  records: DirectoryRecord[];
  patients: number;
  studies: number;
  series: number;
  patientNames: string[];
}

function text(ds: DataSet, tag: string): string {
  try {
    return (ds.string(tag) ?? "").trim();
  } catch {
    return "";
  }
}

/** Parse a DICOMDIR; throws when the bytes are not one. */
export function parseDicomdir(bytes: Uint8Array): Dicomdir {
  const ds = parseDicom(bytes);
  const sequence = ds.elements[DIRECTORY_RECORD_SEQUENCE];
  if (!sequence?.items) {
    throw new Error("not a DICOMDIR: no Directory Record Sequence");
  }
  const records: DirectoryRecord[] = [];
  let patient = { name: "", id: "" };
  let study = "";
  let series = "";
  for (const item of sequence.items) {
    const rec = item.dataSet;
    if (!rec) continue;
    const type = text(rec, RECORD_TYPE).toUpperCase();
    // records come depth-first in almost every DICOMDIR: carry the parent keys down
    if (type === "PATIENT") {
      patient = { name: text(rec, PATIENT_NAME), id: text(rec, PATIENT_ID) };
      study = "";
      series = "";
    } else if (type === "STUDY") {
      study = text(rec, STUDY_INSTANCE_UID);
      series = "";
    } else if (type === "SERIES") {
      series = text(rec, SERIES_INSTANCE_UID);
    }
    const raw = rec.elements[REFERENCED_FILE_ID] ? text(rec, REFERENCED_FILE_ID) : "";
    const fileId = raw
      ? raw
          .split(/[\\/]/)
          .map((p) => p.trim())
          .filter((p) => p !== "")
      : [];
    records.push({
      type,
      fileId: fileId.length > 0 ? fileId : null,
      patientName: patient.name,
      patientId: patient.id,
      studyUid: study,
      seriesUid: series,
    });
  }
  const byType = (t: string) => records.filter((r) => r.type === t);
  const patients = new Set(byType("PATIENT").map((r) => `${r.patientName}|${r.patientId}`));
  const studies = new Set(byType("STUDY").map((r) => r.studyUid || `#${records.indexOf(r)}`));
  const seriesSet = new Set(byType("SERIES").map((r) => r.seriesUid || `#${records.indexOf(r)}`));
  return {
    records,
    patients: patients.size,
    studies: studies.size,
    series: seriesSet.size,
    patientNames: [...new Set(byType("PATIENT").map((r) => r.patientName))].filter(Boolean),
  };
}

export interface Selection<T extends { path: string }> {
  selected: T[];
  /** referenced file IDs (as written) that no file on the medium matches */
  missing: string[];
  /** files on the medium that the DICOMDIR does not name */
  leftOut: T[];
}

/**
 * The files a DICOMDIR names, found among the medium's files. The DICOMDIR itself is kept (the
 * server reads it too, to report files it names that the medium lacks). References that climb
 * out of the medium (`..`) are ignored.
 */
export function selectReferenced<T extends { path: string }>(
  files: T[],
  dicomdirPath: string,
  records: DirectoryRecord[],
): Selection<T> {
  const byKey = new Map<string, T>();
  for (const f of files) {
    const key = fileIdKey(f.path.split("/"));
    if (!byKey.has(key)) byKey.set(key, f);
  }
  const chosen = new Set<T>();
  const missing: string[] = [];
  for (const rec of records) {
    if (!rec.fileId) continue;
    if (rec.fileId.some((p) => p === "..")) continue;
    const hit = byKey.get(fileIdKey(rec.fileId));
    if (hit) chosen.add(hit);
    else missing.push(rec.fileId.join("/"));
  }
  const dicomdir = files.find((f) => f.path === dicomdirPath);
  const selected = files.filter((f) => chosen.has(f) || f === dicomdir);
  const leftOut = files.filter((f) => !chosen.has(f) && f !== dicomdir);
  return { selected, missing, leftOut };
}
