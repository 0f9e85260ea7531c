/** What the summary needs from one DICOM file's header (read with dicom-parser, pixels never). */
import { parseDicom } from "dicom-parser";

export interface HeaderInfo {
  patientName: string;
  patientId: string;
  studyUid: string;
  seriesUid: string;
  sopInstanceUid: string;
}

/** How much of each file is read first; a header rarely needs more. */
export const HEADER_BYTES = 128 * 1024;

/** True when the bytes start like a DICOM Part 10 file (128-byte preamble, then "DICM"). */
export function looksLikeDicom(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 132 &&
    bytes[128] === 0x44 &&
    bytes[129] === 0x49 &&
    bytes[130] === 0x43 &&
    bytes[131] === 0x4d
  );
}

/** The header of a DICOM file, or null when it is not one (or cannot be read from `bytes`). */
export function readHeader(bytes: Uint8Array): HeaderInfo | null {
  if (!looksLikeDicom(bytes)) return null;
  try {
    const ds = parseDicom(bytes, { untilTag: "x7fe00010" });
    const get = (tag: string) => (ds.string(tag) ?? "").trim();
    const studyUid = get("x0020000d");
    if (!studyUid) return null;
    return {
      patientName: get("x00100010"),
      patientId: get("x00100020"),
      studyUid,
      seriesUid: get("x0020000e"),
      sopInstanceUid: get("x00080018"),
    };
  } catch {
    return null;
  }
}
