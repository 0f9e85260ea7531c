/**
 * What the confirmation screen makes of the identity reports: banners, field badges, reason
 * lines, and the seed's emphasis rule.
 */
import type en from "../i18n/en";

export type Overall = "match" | "format_different" | "mismatch" | "unknown";
export type FieldStatus = "match" | "format_different" | "similar" | "mismatch" | "missing";
export type FieldName = "name" | "birth_date" | "sex";
export type ReasonCode = keyof typeof en.identity.reason;

export const FIELDS: readonly FieldName[] = ["name", "birth_date", "sex"];

interface IdentityLike {
  overall: string;
  fields: Record<string, string>;
  reasons: string[];
}

interface StudyLike {
  study_instance_uid: string;
  identity: IdentityLike | null;
  on_pacs: boolean;
  pacs_conflict: boolean;
}

export function overallOf(identity: IdentityLike | null | undefined): Overall {
  const o = identity?.overall;
  return o === "match" || o === "format_different" || o === "mismatch" ? o : "unknown";
}

/** Accepted without an acknowledgment: the same person written the same way or formatted otherwise. */
export function isAccepted(identity: IdentityLike | null | undefined): boolean {
  const o = overallOf(identity);
  return o === "match" || o === "format_different";
}

export function fieldStatus(identity: IdentityLike | null | undefined, field: FieldName): FieldStatus {
  const s = identity?.fields[field];
  return s === "match" || s === "format_different" || s === "similar" || s === "mismatch" || s === "missing"
    ? s
    : "missing";
}

export type BadgeTone = "success" | "info" | "warning" | "danger";

export function fieldTone(status: FieldStatus): BadgeTone {
  switch (status) {
    case "match":
      return "success";
    case "format_different":
      return "info";
    case "similar":
      return "warning";
    default:
      return "danger";
  }
}

export function overallTone(overall: Overall): BadgeTone {
  return overall === "match" ? "success" : overall === "format_different" ? "info" : "danger";
}

/** The seed's capital "… DOES NOT MATCH" lines: a field that is similar, different or missing. */
export function failingFields(identity: IdentityLike | null | undefined): FieldName[] {
  if (!identity) return [];
  return FIELDS.filter((f) => {
    const s = fieldStatus(identity, f);
    return s === "similar" || s === "mismatch" || s === "missing";
  });
}

/** i18n key of a reason code, or null for a code this version does not know. */
export function reasonKey(code: string, known: Record<string, string>): `identity.reason.${ReasonCode}` | null {
  return Object.hasOwn(known, code) ? (`identity.reason.${code}` as `identity.reason.${ReasonCode}`) : null;
}

export function isSelectable(study: StudyLike): boolean {
  return !study.on_pacs && !study.pacs_conflict;
}

/** Studies ticked when the screen opens: every one that can be imported. */
export function initialSelection(studies: StudyLike[]): string[] {
  return studies.filter(isSelectable).map((s) => s.study_instance_uid);
}

export interface Emphasis {
  /** a selected study's patient is not accepted: Confirm small and red, Cancel large and blue */
  danger: boolean;
  /** the "I have verified…" tick is needed before confirming */
  acknowledgeRequired: boolean;
  /** Confirm can be pressed now */
  canConfirm: boolean;
}

export function emphasis(studies: StudyLike[], selected: readonly string[], acknowledged: boolean): Emphasis {
  const chosen = studies.filter((s) => selected.includes(s.study_instance_uid) && isSelectable(s));
  const danger = chosen.some((s) => !isAccepted(s.identity));
  return {
    danger,
    acknowledgeRequired: danger,
    canConfirm: chosen.length > 0 && (!danger || acknowledged),
  };
}
