/** Files chosen by the user, as media files: from a folder input, a file input or a drop. */
import type { MediaFile } from "./types";

/**
 * One ZIP file chosen alone: sent as it is (its content is read, not re-zipped). Here, not
 * beside the ZIP reader, so that the page does not load @zip.js/zip.js (the worker does).
 */
export function isZip(files: MediaFile[]): boolean {
  return files.length === 1 && /\.zip$/i.test(files[0]!.path);
}

function toMedia(file: File, path: string): MediaFile {
  return { path, file, size: file.size, lastModified: file.lastModified };
}

/**
 * From `<input webkitdirectory>`: every path starts with the chosen folder's name, which is
 * dropped so that the DICOMDIR of a CD's root sits at the root of the medium.
 */
export function fromFolderInput(list: FileList | File[]): { folder: string; files: MediaFile[] } {
  const files = Array.from(list);
  const first = files[0]?.webkitRelativePath ?? "";
  const folder = first.includes("/") ? first.split("/")[0]! : "";
  return {
    folder,
    files: files.map((f) => {
      const rel = f.webkitRelativePath || f.name;
      const path = folder && rel.startsWith(`${folder}/`) ? rel.slice(folder.length + 1) : rel;
      return toMedia(f, path);
    }),
  };
}

export function fromFileInput(list: FileList | File[]): MediaFile[] {
  return Array.from(list).map((f) => toMedia(f, f.name));
}

function readAll(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  return new Promise((resolve, reject) => {
    const out: FileSystemEntry[] = [];
    const next = () =>
      reader.readEntries((batch) => {
        if (batch.length === 0) resolve(out);
        else {
          out.push(...batch);
          next();
        }
      }, reject);
    next();
  });
}

async function walk(entry: FileSystemEntry, prefix: string, out: MediaFile[]): Promise<void> {
  const path = prefix ? `${prefix}/${entry.name}` : entry.name;
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) =>
      (entry as FileSystemFileEntry).file(resolve, reject),
    );
    out.push(toMedia(file, path));
  } else if (entry.isDirectory) {
    const children = await readAll((entry as FileSystemDirectoryEntry).createReader());
    for (const child of children) await walk(child, path, out);
  }
}

/** What a drop brought: the files, and a name for them (the folder's, or the file's). */
export interface Dropped {
  files: MediaFile[];
  label: string;
}

/**
 * From dropped entries (files and whole folders). A single dropped folder becomes the medium's
 * root (as the folder picker does), so its DICOMDIR is found; `loose` are dropped files the
 * browser gave no entry for (then read as plain files).
 */
export async function fromEntries(entries: FileSystemEntry[], loose: File[] = []): Promise<Dropped> {
  const out: MediaFile[] = [];
  if (entries.length === 1 && loose.length === 0 && entries[0]!.isDirectory) {
    const root = entries[0] as FileSystemDirectoryEntry;
    const children = await readAll(root.createReader());
    for (const child of children) await walk(child, "", out);
    return { files: out, label: root.name };
  }
  for (const entry of entries) await walk(entry, "", out);
  out.push(...loose.map((f) => toMedia(f, f.name)));
  return { files: out, label: out.length === 1 ? out[0]!.path : entries.length === 1 ? entries[0]!.name : "" };
}

/**
 * From a drop event's DataTransfer: its entries are taken at once (the browser empties the list
 * once the event is over), then folders are walked.
 */
export function fromDrop(data: DataTransfer): Promise<Dropped> {
  const entries: FileSystemEntry[] = [];
  const loose: File[] = [];
  for (const item of Array.from(data.items ?? [])) {
    if (item.kind !== "file") continue;
    const entry = typeof item.webkitGetAsEntry === "function" ? item.webkitGetAsEntry() : null;
    if (entry) entries.push(entry);
    else {
      const file = item.getAsFile();
      if (file) loose.push(file);
    }
  }
  if (entries.length === 0 && loose.length === 0) loose.push(...Array.from(data.files ?? []));
  return fromEntries(entries, loose);
}

/** Does this drag carry files (not text or a link dragged from the page)? */
export function carriesFiles(data: DataTransfer | null): boolean {
  return data !== null && Array.from(data.types ?? []).includes("Files");
}
