/**
 * An import's status as the seed shows it: a badge with a colour AND a word (and an icon), never
 * colour alone. The server says which colour (`badge`): processing turns green once stages
 * finish with no error so far, red on a failed stage.
 */
export type Tone = "muted" | "warning" | "primary" | "success" | "danger";

const TONES: readonly Tone[] = ["muted", "warning", "primary", "success", "danger"];

const DEFAULT_TONE: Record<string, Tone> = {
  created: "muted",
  queued: "warning",
  analyzing: "primary",
  awaiting_confirmation: "primary",
  processing: "primary",
  completed: "success",
  failed: "danger",
  cancelled: "muted",
  expired: "muted",
};

export type StatusLabel =
  | "created"
  | "queued"
  | "analyzing"
  | "awaiting_confirmation"
  | "processing"
  | "processingOk"
  | "completed"
  | "failed"
  | "cancelled"
  | "expired"
  | "unknown";

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
  const tone: Tone =
    badge && (TONES as readonly string[]).includes(badge)
      ? (badge as Tone)
      : (DEFAULT_TONE[status] ?? "muted");
  let label: StatusLabel = status in DEFAULT_TONE ? (status as StatusLabel) : "unknown";
  if (status === "processing" && tone === "success") label = "processingOk";
  if (status === "processing" && tone === "danger") label = "failed";
  return { tone, label, icon: ICONS[tone] };
}

/** Can the monitoring page of this import be opened? Once processing has started (seed). */
export function canOpen(status: string): boolean {
  return status !== "created";
}

export type StageTone = "muted" | "primary" | "success" | "danger";

export function stageTone(status: string): StageTone {
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

export const STAGE_ICONS: Record<string, string> = {
  pending: "○",
  running: "◑",
  done: "✓",
  skipped: "–",
  failed: "✕",
};

/** A study's own end (`StudyOut.outcome`): the others of the same import may end otherwise. */
export type StudyOutcome = "not_selected" | "already_present" | "waiting" | "processing" | "done" | "failed";

const OUTCOMES: readonly StudyOutcome[] = ["not_selected", "already_present", "waiting", "processing", "done", "failed"];

/**
 * What the monitoring page says of one study. A study the PACS held already is "already
 * present" whether or not it was sent with the confirmation: it was never sent again.
 */
export function studyOutcome(study: { outcome: string; on_pacs: boolean; pacs_conflict: boolean }): StudyOutcome {
  const o = (OUTCOMES as readonly string[]).includes(study.outcome) ? (study.outcome as StudyOutcome) : "waiting";
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
    case "processing":
      return { outcome: imp.status, done, total };
    default:
      return { outcome: "waiting", done, total };
  }
}
