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
