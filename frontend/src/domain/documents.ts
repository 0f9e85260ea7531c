/**
 * The rest of the disc (issue 16, point 3): the outside report as a PDF, photos or scanned pages
 * as JPEG or PNG (`ImportOut.documents`). At confirmation the user ticks those to file, each with
 * one study that is sent: a study ticked, or (order mode, temporary zone) a study the PACS holds
 * already, which is then sent for its documents alone. Nothing is ticked at first.
 *
 * A ticked document keeps the study it was given. When that study is no longer sent (the user
 * untook its tick), the document is not moved to another study nor left out behind the user's
 * back: it stays ticked, says so, and Confirm waits until the user chooses another study for it
 * or unticks it (`strandedDocuments`). Ticking the study again puts it right.
 */
import { isAlreadyPresent, isSelectable } from "./identity";

/** What the user said of one document: ticked (`on`) and the study it goes with. */
export interface DocumentChoice {
  on: boolean;
  /** the Study Instance UID it goes with (kept while unticked, to come back to) */
  study: string | null;
}

/** Per document id; a document absent is not ticked. */
export type DocumentChoices = Readonly<Record<string, DocumentChoice>>;

interface TargetLike {
  study_instance_uid: string;
  on_pacs: boolean;
  pacs_conflict: boolean;
}

/**
 * The studies a document may be filed with, in the order the screen lists them: the studies
 * ticked first, then (`present`: order mode and the temporary zone) those the PACS holds already
 * under the right patient, which confirming sends for their documents alone. Never a study held
 * under another patient.
 */
export function documentTargets<S extends TargetLike>(studies: readonly S[], selected: readonly string[], present: boolean): S[] {
  const ticked = studies.filter((s) => isSelectable(s) && selected.includes(s.study_instance_uid));
  return present ? [...ticked, ...studies.filter(isAlreadyPresent)] : ticked;
}

const uids = (targets: readonly TargetLike[]) => targets.map((s) => s.study_instance_uid);

/**
 * Tick or untick a document. Ticked, it goes with the study it had when that is still one to
 * file with, else with the first study sent (none when no study is).
 */
export function tickDocument(choices: DocumentChoices, id: string, on: boolean, targets: readonly TargetLike[]): DocumentChoices {
  const before = choices[id];
  if (!on) return { ...choices, [id]: { on: false, study: before?.study ?? null } };
  const keep = before?.study && uids(targets).includes(before.study) ? before.study : null;
  return { ...choices, [id]: { on: true, study: keep ?? targets[0]?.study_instance_uid ?? null } };
}

/** The study a document goes with, chosen in its list. */
export function chooseStudy(choices: DocumentChoices, id: string, study: string): DocumentChoices {
  return { ...choices, [id]: { on: choices[id]?.on ?? true, study } };
}

/** The ticked documents whose study is not sent (untaken since, or none): Confirm waits for them. */
export function strandedDocuments(choices: DocumentChoices, targets: readonly TargetLike[]): string[] {
  const ok = uids(targets);
  return Object.entries(choices)
    .filter(([, c]) => c.on && (c.study === null || !ok.includes(c.study)))
    .map(([id]) => id);
}

/** What Confirm sends as `documents`: each ticked document with its study (the stranded ones never). */
export function documentsToFile(choices: DocumentChoices, targets: readonly TargetLike[]): Record<string, string> {
  const ok = uids(targets);
  const out: Record<string, string> = {};
  for (const [id, c] of Object.entries(choices)) if (c.on && c.study !== null && ok.includes(c.study)) out[id] = c.study;
  return out;
}

/** The documents filed with a study, and those filed with none (`null`), in the server's order. */
export function documentsByStudy<D extends { study_instance_uid: string | null }>(documents: readonly D[], study: string | null): D[] {
  return documents.filter((d) => d.study_instance_uid === study);
}
