/** Files chosen by the user, as media files: from a folder input, a file input or a drop. */
import type { MediaFile } from "./types";

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

/**
 * From a drop: files and whole folders. A single dropped folder becomes the medium's root (as the
 * folder picker does), so its DICOMDIR is found.
 */
export async function fromDrop(items: DataTransferItemList): Promise<MediaFile[]> {
  const entries = Array.from(items)
    .filter((item) => item.kind === "file")
    .map((item) => item.webkitGetAsEntry())
    .filter((e): e is FileSystemEntry => e !== null);
  const out: MediaFile[] = [];
  if (entries.length === 1 && entries[0]!.isDirectory) {
    const children = await readAll((entries[0] as FileSystemDirectoryEntry).createReader());
    for (const child of children) await walk(child, "", out);
    return out;
  }
  for (const entry of entries) await walk(entry, "", out);
  return out;
}
