import type { FoundKinds } from "./kinds";

/** One file of the medium, with its path inside the medium (folders joined by "/"). */
export interface MediaFile {
  path: string;
  file: Blob;
  size: number;
  /** ms since the epoch; kept in the ZIP so the same folder zips to the same bytes */
  lastModified: number;
}

export interface MediaSummary {
  patients: number;
  studies: number;
  series: number;
  /** files that will be sent */
  files: number;
  /** of which recognised as DICOM (from the DICOMDIR or the file headers) */
  dicom: number;
  bytes: number;
  /** the patients' names as written on the medium (DICOM PN), at most a few */
  patientNames: string[];
  /** the PDFs and images the DICOMDIR does not name, sent too: the user may file them */
  documents?: number;
  /** what the files are, when their headers were read (no DICOMDIR): PDFs, programs… */
  found?: FoundKinds;
}

export interface MediaPlan {
  /** how the files were chosen */
  source: "dicomdir" | "all-files";
  /** the DICOMDIR at the root, when there is one */
  dicomdir: { path: string; readable: boolean } | null;
  files: MediaFile[];
  /** files named by the DICOMDIR that the medium lacks */
  missing: string[];
  /** files on the medium not named by the DICOMDIR (viewer programs, autorun…): not sent */
  leftOut: number;
  summary: MediaSummary;
  /**
   * A ZIP chosen as it is: `files` is that one ZIP, sent unchanged; the summary tells what is in
   * it. `readable` false: the browser could not list it (damaged, or not a ZIP).
   */
  archive?: { readable: boolean; entries: number };
}
