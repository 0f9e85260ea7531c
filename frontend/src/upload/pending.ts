/**
 * An upload that has not finished, remembered for this tab so a reload can resume it: the same
 * files (paths, sizes, dates) zip to the same bytes, so when the user picks the same folder again
 * the archive continues on the same upload from where the server stopped.
 */
import type { MediaFile } from "../media/types";

const KEY = "pmi.pendingUpload";

export interface PendingUpload {
  importId: string;
  uploadUrl: string;
  accession: string;
  fingerprint: string;
  size: number;
}

/** Identifies a selection of files without reading them. */
export function fingerprint(files: MediaFile[]): string {
  let hash = 0x811c9dc5;
  const text = files.map((f) => `${f.path}\u0000${f.size}\u0000${f.lastModified}`).join("\u0001");
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return `${files.length}:${hash.toString(16)}`;
}

export function loadPending(): PendingUpload | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    return raw ? (JSON.parse(raw) as PendingUpload) : null;
  } catch {
    return null;
  }
}

export function savePending(value: PendingUpload): void {
  sessionStorage.setItem(KEY, JSON.stringify(value));
}

export function clearPending(): void {
  sessionStorage.removeItem(KEY);
}

/** The pending upload to resume for these files and this archive, if it is the same. */
export function resumable(
  pending: PendingUpload | null,
  accession: string,
  files: MediaFile[],
  size: number,
): PendingUpload | null {
  if (!pending) return null;
  if (pending.accession !== accession || pending.size !== size) return null;
  return pending.fingerprint === fingerprint(files) ? pending : null;
}

/**
 * The upload left unfinished when this page was loaded (a reload, or the tab reopened cut it):
 * read once per page load, so an upload this page starts is never taken for an interrupted
 * one. Forgotten once resumed or cancelled (`settleInterrupted`).
 */
let atLoad: PendingUpload | null = loadPending();

export function interruptedAtLoad(): PendingUpload | null {
  return atLoad;
}

export function settleInterrupted(importId: string): void {
  if (atLoad?.importId === importId) atLoad = null;
}

/** For tests: read the pending upload again, as a new page load does. */
export function reloadInterrupted(): void {
  atLoad = loadPending();
}
