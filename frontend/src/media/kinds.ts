/**
 * What a file that is not a DICOM image is, from its name and first bytes: so a medium with
 * nothing to send says what was found on it ("3 PDF documents, 1 program") instead of only
 * "no DICOM".
 */
import { fileIdKey } from "./fileid";

export const FILE_KINDS = [
  "dicom",
  "dicomdir",
  "pdf",
  "image",
  "program",
  "document",
  "archive",
  "encrypted",
  "other",
] as const;

export type FileKind = (typeof FILE_KINDS)[number];

/** How many files of each kind were found (kinds with none are left out). */
export type FoundKinds = Partial<Record<FileKind, number>>;

const PROGRAM_EXT = new Set([
  "exe", "dll", "msi", "com", "bat", "cmd", "sys", "ocx", "so", "dylib", "jar", "sh", "app", "ps1", "vbs",
]);
const IMAGE_EXT = new Set(["jpg", "jpeg", "png", "gif", "bmp", "tif", "tiff", "ico", "webp"]);
const ARCHIVE_EXT = new Set(["zip", "rar", "7z", "gz", "tgz", "bz2", "xz", "tar", "iso", "cab"]);
const DOCUMENT_EXT = new Set([
  "txt", "htm", "html", "xml", "inf", "ini", "rtf", "doc", "docx", "odt", "css", "js", "json", "cfg", "log",
  "nfo", "url", "chm", "hlp", "csv", "md",
]);

function extension(path: string): string {
  const name = path.split("/").pop() ?? "";
  const dot = name.lastIndexOf(".");
  return dot > 0 ? name.slice(dot + 1).toLowerCase() : "";
}

function startsWith(bytes: Uint8Array, ...sig: number[]): boolean {
  return bytes.length >= sig.length && sig.every((b, i) => bytes[i] === b);
}

/**
 * The kind of a file that is not a readable DICOM image (the caller has tried its header):
 * the bytes decide first (a viewer renamed "README" is still a program), then the extension.
 */
export function classify(path: string, head: Uint8Array): Exclude<FileKind, "dicom" | "encrypted"> {
  const name = (path.split("/").pop() ?? "").toUpperCase();
  if (fileIdKey([name]) === "dicomdir") return "dicomdir"; // also a CD's "DICOMDIR;1", "DICOMDIR."
  if (startsWith(head, 0x25, 0x50, 0x44, 0x46)) return "pdf"; // %PDF
  if (
    startsWith(head, 0x4d, 0x5a) || // MZ: Windows
    startsWith(head, 0x7f, 0x45, 0x4c, 0x46) || // ELF
    startsWith(head, 0xcf, 0xfa, 0xed, 0xfe) || // Mach-O 64
    startsWith(head, 0xce, 0xfa, 0xed, 0xfe) ||
    startsWith(head, 0xca, 0xfe, 0xba, 0xbe) // Mach-O universal
  ) {
    return "program";
  }
  if (
    startsWith(head, 0xff, 0xd8, 0xff) || // JPEG
    startsWith(head, 0x89, 0x50, 0x4e, 0x47) || // PNG
    startsWith(head, 0x47, 0x49, 0x46, 0x38) // GIF8
  ) {
    return "image";
  }
  if (
    startsWith(head, 0x50, 0x4b, 0x03, 0x04) || // ZIP
    startsWith(head, 0x52, 0x61, 0x72, 0x21) || // Rar!
    startsWith(head, 0x37, 0x7a, 0xbc, 0xaf) || // 7z
    startsWith(head, 0x1f, 0x8b) // gzip
  ) {
    return extension(path) === "jar" ? "program" : "archive";
  }
  const ext = extension(path);
  if (ext === "pdf") return "pdf";
  if (PROGRAM_EXT.has(ext)) return "program";
  if (IMAGE_EXT.has(ext)) return "image";
  if (ARCHIVE_EXT.has(ext)) return "archive";
  if (DOCUMENT_EXT.has(ext)) return "document";
  return "other";
}

/** Adds one file of `kind` to `found`. */
export function count(found: FoundKinds, kind: FileKind): void {
  found[kind] = (found[kind] ?? 0) + 1;
}

/** The kinds found, most numerous first (ties in the order of `FILE_KINDS`), "other" last. */
export function foundList(found: FoundKinds): { kind: FileKind; count: number }[] {
  return FILE_KINDS.filter((k) => (found[k] ?? 0) > 0)
    .map((kind) => ({ kind, count: found[kind]! }))
    .sort((a, b) => {
      if (a.kind === "other" || b.kind === "other") return a.kind === "other" ? 1 : -1;
      return b.count - a.count;
    });
}
