/**
 * File IDs matched the way real CDs need, like the server does (importer/media/dicomdir.py):
 * case-insensitively, without ISO 9660 version suffixes (`;1`), without trailing dots, and
 * tolerating a `.dcm` appended on disk. Apart from the DICOMDIR reader, so that the page can
 * name a DICOMDIR without loading dicom-parser (the media worker reads the DICOMDIR).
 */

const VERSION = /;[0-9]*$/;

function component(part: string, last: boolean): string {
  let value = part.trim();
  for (;;) {
    const before = value;
    value = value.replace(VERSION, "").replace(/[. ]+$/, "");
    if (last && value.toLowerCase().endsWith(".dcm") && value.length > 4) {
      value = value.slice(0, -4);
    }
    if (value === before) return value.toLowerCase();
  }
}

/** Comparison key of a path: case-folded, no `;1` suffixes, no trailing dots or `.dcm`. */
export function fileIdKey(parts: string[]): string {
  const items = parts.filter((p) => p !== "" && p !== ".");
  return items.map((p, i) => component(p, i === items.length - 1)).join("/");
}

/** Is this path (inside the medium) the DICOMDIR at its root? (`DICOMDIR`, `dicomdir;1`, `DICOMDIR.`) */
export function isRootDicomdir(path: string): boolean {
  return !path.includes("/") && fileIdKey([path]) === "dicomdir";
}
