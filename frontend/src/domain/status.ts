/**
 * An import's status as the seed shows it: a badge with a colour AND a word (and an icon), never
 * colour alone. The server says which colour (`badge`): processing turns green once stages
 * finish with no error so far, red on a failed stage.
 */
import type { ImportStatus, StageName, StageStatus, StudyOut } from "../api/client";

export type Tone = "muted" | "warning" | "primary" | "success" | "danger";

const TONES: readonly Tone[] = ["muted", "warning", "primary", "success", "danger"];

/**
 * Every status the server names (its OpenAPI `ImportStatus`, so a status added there fails the
 * type check here until the app knows it): its colour when the server sends none, and whether the
 * import has ended (`terminal`: nothing about it changes any more, its event stream is not
 * followed).
 */
const STATUSES: Record<ImportStatus, { tone: Tone; terminal: boolean }> = {
  created: { tone: "muted", terminal: false },
  queued: { tone: "warning", terminal: false },
  analyzing: { tone: "primary", terminal: false },
  awaiting_confirmation: { tone: "primary", terminal: false },
  processing: { tone: "primary", terminal: false },
  completed: { tone: "success", terminal: true },
  failed: { tone: "danger", terminal: true },
  cancelled: { tone: "muted", terminal: true },
  expired: { tone: "muted", terminal: true },
  purged: { tone: "muted", terminal: true },
};

/** A status this version knows (a newer server may send others: they read as "unknown"). */
export function isKnownStatus(status: string): status is ImportStatus {
  return Object.hasOwn(STATUSES, status);
}

/** The import has ended: nothing about it changes any more, so the app stops following it. */
export function isTerminal(status: string | undefined): boolean {
  return status !== undefined && isKnownStatus(status) && STATUSES[status].terminal;
}

/**
 * Finished and needing nobody (the French procedure's "tâches finalisées"): a terminal import
 * other than a failed one, which a person may still retry or look into.
 */
export function isFinished(status: string | undefined): boolean {
  return isTerminal(status) && status !== "failed";
}

export type StatusLabel = ImportStatus | "processingOk" | "unknown";

export interface StatusPresentation {
  tone: Tone;
  label: StatusLabel;
  icon: string;
}

const ICONS: Record<Tone, string> = {
  muted: "○",
  warning: "◔",
  primary: "◑",
  success: "✓",
  danger: "✕",
};

export function statusPresentation(status: string, badge?: string | null): StatusPresentation {
  const known = isKnownStatus(status);
  const tone: Tone =
    badge && (TONES as readonly string[]).includes(badge) ? (badge as Tone) : known ? STATUSES[status].tone : "muted";
  let label: StatusLabel = known ? status : "unknown";
  if (status === "processing" && tone === "success") label = "processingOk";
  if (status === "processing" && tone === "danger") label = "failed";
  return { tone, label, icon: ICONS[tone] };
}

/** Can the monitoring page of this import be opened? Once processing has started (seed). */
export function canOpen(status: string): boolean {
  return status !== "created";
}

export type StageTone = "muted" | "primary" | "success" | "danger";

export function stageTone(status: StageStatus): StageTone {
  switch (status) {
    case "running":
      return "primary";
    case "done":
      return "success";
    case "failed":
      return "danger";
    default:
      return "muted";
  }
}

export const STAGE_ICONS: Record<StageStatus, string> = {
  pending: "○",
  running: "◑",
  done: "✓",
  skipped: "–",
  failed: "✕",
};

/** A study's own end (`StudyOut.outcome`): the others of the same import may end otherwise. */
export type StudyOutcome = StudyOut["outcome"];

/** Every outcome the server names (a new one there fails the type check here). */
const OUTCOMES: Record<StudyOutcome, true> = {
  not_selected: true,
  already_present: true,
  waiting: true,
  processing: true,
  done: true,
  failed: true,
};

/**
 * What the monitoring page says of one study. A study the PACS held already is "already
 * present" whether or not it was sent with the confirmation: it was never sent again.
 */
export function studyOutcome(study: { outcome: string; on_pacs: boolean; pacs_conflict: boolean }): StudyOutcome {
  const o = Object.hasOwn(OUTCOMES, study.outcome) ? (study.outcome as StudyOutcome) : "waiting";
  if (o === "not_selected" && study.on_pacs && !study.pacs_conflict) return "already_present";
  return o;
}

export function outcomeTone(outcome: StudyOutcome): Tone {
  switch (outcome) {
    case "done":
      return "success";
    case "failed":
      return "danger";
    case "processing":
      return "primary";
    case "waiting":
      return "warning";
    default:
      return "muted";
  }
}

export const OUTCOME_ICONS: Record<StudyOutcome, string> = {
  not_selected: "–",
  already_present: "✓",
  waiting: "○",
  processing: "◑",
  done: "✓",
  failed: "✕",
};

export type ImportOutcome =
  | "completed"
  | "nothingSent"
  | "partlyFailed"
  | "failed"
  | "cancelled"
  | "expired"
  | "purged"
  | "processing"
  | "waiting";

/**
 * The monitoring page's one-line outcome, from the import's status and its studies' own ends:
 * an import completed with every selected study already on the PACS sent nothing; a failed
 * import may have filed some studies.
 */
export function importOutcome(imp: {
  status: string;
  studies: { outcome: string; on_pacs: boolean; pacs_conflict: boolean; selected: boolean }[];
}): { outcome: ImportOutcome; done: number; total: number } {
  const chosen = imp.studies.filter((s) => s.selected);
  const ends = chosen.map(studyOutcome);
  const done = ends.filter((o) => o === "done" || o === "already_present").length;
  const total = chosen.length;
  switch (imp.status) {
    case "completed":
      return {
        outcome: total > 0 && ends.every((o) => o === "already_present") ? "nothingSent" : "completed",
        done,
        total,
      };
    case "failed":
      return { outcome: done > 0 ? "partlyFailed" : "failed", done, total };
    case "cancelled":
    case "expired":
    case "purged":
    case "processing":
      return { outcome: imp.status, done, total };
    default:
      return { outcome: "waiting", done, total };
  }
}

/** A reason as the server gives it: a message code with its params (worded by `messageText`). */
export interface CodedReason {
  code: string | null | undefined;
  params?: Record<string, string | number> | null;
}

/**
 * The words of a study's state on the monitoring page (`monitor.studyOutcome.<label>`): `done`
 * is "Imported", or `kept` for the temporary zone, where a study is kept for review, not filed,
 * and `purged` once that copy is deleted.
 */
export type StudyStateLabel = StudyOutcome | "kept" | "purged";

export interface StudyState {
  outcome: StudyOutcome;
  label: StudyStateLabel;
  tone: Tone;
  icon: string;
  /** The step the study is at (processing) or failed at (failed), else null. */
  stage: StageName | null;
  /** Why it failed: the failing step's note, else the import's error; null when neither says. */
  reason: CodedReason | null;
}

/**
 * One study's state in the clerk's words (the Italian procedure's "Risultato finale"): in
 * progress (at which step), imported, kept in the temporary zone, already on the PACS, not
 * selected, or failed with the reason the server gave.
 */
export function studyState(
  study: {
    outcome: string;
    on_pacs: boolean;
    pacs_conflict: boolean;
    stages: readonly { name: StageName; status: StageStatus; code?: string | null; params?: Record<string, string | number> | null }[];
  },
  context: { zone: string; status?: string; error?: CodedReason | null },
): StudyState {
  const outcome = studyOutcome(study);
  const kept = outcome === "done" && context.zone === "temporary";
  const label: StudyStateLabel = kept ? (context.status === "purged" ? "purged" : "kept") : outcome;
  let stage: StageName | null = null;
  let reason: CodedReason | null = null;
  if (outcome === "processing") {
    stage = (study.stages.find((s) => s.status === "running") ?? study.stages.find((s) => s.status === "pending"))?.name ?? null;
  } else if (outcome === "failed") {
    const failed = study.stages.find((s) => s.status === "failed");
    stage = failed?.name ?? null;
    if (failed?.code) reason = { code: failed.code, params: failed.params ?? {} };
    else if (context.error?.code) reason = { code: context.error.code, params: context.error.params ?? {} };
  }
  if (label === "purged") {
    return { outcome, label, tone: STATUSES.purged.tone, icon: ICONS[STATUSES.purged.tone], stage, reason };
  }
  return { outcome, label, tone: outcomeTone(outcome), icon: OUTCOME_ICONS[outcome], stage, reason };
}
