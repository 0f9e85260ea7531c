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

/** A comparison as the server or the worklist reports it (read leniently: an unknown word is "unknown"). */
export interface IdentityLike {
  overall: string;
  fields: Record<string, string>;
  reasons: string[];
  /** the local patients this patient of the medium was filed under before, the last first */
  filed_before?: FiledBeforeLike[];
}

/**
 * A local patient the medium's patient (the same outside patient: Patient ID with its issuer or
 * institution, name and birth date) was filed under before, when and by whom.
 */
export interface FiledBeforeLike {
  patient: { id: string; issuer: string; name: string; birth_date: string };
  /** ISO date-time */
  at: string;
  /** the user's name */
  by: string;
  /** that patient is the order's; false: another patient of the hospital (a mismatch, the server says) */
  same: boolean;
}

/**
 * What a comparison says was filed before: under another patient of the hospital (`other`, the
 * warning) and under the order's own (`same`, good to know), each the last first.
 */
export function filedBeforeOf(identity: IdentityLike | null | undefined): { same: FiledBeforeLike[]; other: FiledBeforeLike[] } {
  const all = identity?.filed_before ?? [];
  return { same: all.filter((f) => f.same), other: all.filter((f) => !f.same) };
}

/** A patient of the hospital as `seen_filed_before` names one: its ID and issuer. */
export interface LocalSeen {
  id: string;
  issuer: string;
}

/**
 * What the comparisons shown said a patient of the medium was filed under before, under another
 * patient of the hospital (every `filed_before` entry with `same: false`): each local patient once
 * (by ID and issuer, written as the server wrote them), in the order shown — what
 * `seen_filed_before` takes. Empty when none was shown. The server refuses (`identity_changed`)
 * when what it remembers now names another one.
 */
export function seenFiledBefore(identities: readonly (IdentityLike | null | undefined)[]): LocalSeen[] {
  const out: LocalSeen[] = [];
  for (const identity of identities) {
    for (const { patient } of filedBeforeOf(identity).other) {
      if (!out.some((s) => s.id === patient.id && s.issuer === patient.issuer)) out.push({ id: patient.id, issuer: patient.issuer });
    }
  }
  return out;
}

/** The comparisons a study shows: each of its patients' (`patients`), else its own (`identity`). */
function shownIdentities(study: { identity: IdentityLike | null; patients?: { identity: IdentityLike | null }[] }): (IdentityLike | null)[] {
  return study.patients && study.patients.length > 0 ? study.patients.map((c) => c.identity) : [study.identity];
}

interface StudyLike {
  study_instance_uid: string;
  on_pacs: boolean;
  pacs_conflict: boolean;
  /** the server's identity gate: a patient of this study is not the order's (match or format_different) */
  acknowledgement_required: boolean;
}

/** A patient as an order or a medium names them (order, worklist candidate, study). */
export interface PersonLike {
  name: string;
  id: string;
  issuer: string;
  birth_date: string;
  sex: string;
}

/** One patient found in a study, with its comparison (null: not compared). */
export interface Compared<P extends PersonLike = PersonLike> {
  patient: P;
  identity: IdentityLike | null;
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

/** The field a server reason code is about (NAME_, FAMILY_, GIVEN_ → name), or null for a code of no field. */
export function reasonField(code: string): FieldName | null {
  if (code.startsWith("BIRTH_DATE_")) return "birth_date";
  if (code.startsWith("SEX_")) return "sex";
  if (code.startsWith("NAME_") || code.startsWith("FAMILY_") || code.startsWith("GIVEN_")) return "name";
  return null;
}

/** A reason that only says again what its field's line says ("SEX DOES NOT MATCH" / SEX_DIFFERS). */
function restatesLine(code: string, status: FieldStatus): boolean {
  if (status === "missing") return code.endsWith("_MISSING");
  if (status === "mismatch") return code === "SEX_DIFFERS" || code === "BIRTH_DATE_DIFFERS";
  return false;
}

/** One line under the comparison: a field that is not a plain match, in the words of its badge. */
export interface FieldLine {
  field: FieldName;
  /** the field's status, as its badge shows it: the line says the same ("… SIMILAR – CHECK", "… DOES NOT MATCH") */
  status: FieldStatus;
  tone: BadgeTone;
  /** the server's reason codes about this field, but those that only restate the line */
  reasons: string[];
}

/**
 * The lines under a comparison, in field order: one per field that is not a plain match (or
 * that has reasons), saying what its badge says — the seed's capital "… DOES NOT MATCH" only for
 * a real mismatch, "… SIMILAR – CHECK", "… MISSING", "…: DIFFERENT FORMAT" otherwise — with the
 * server's reasons about that field under it; `others`: reason codes of no known field.
 */
export function fieldLines(identity: IdentityLike | null | undefined): { lines: FieldLine[]; others: string[] } {
  if (!identity) return { lines: [], others: [] };
  const codes = [...new Set(identity.reasons)];
  const lines = FIELDS.flatMap((field): FieldLine[] => {
    const status = fieldStatus(identity, field);
    const own = codes.filter((c) => reasonField(c) === field);
    if (status === "match" && own.length === 0) return [];
    return [{ field, status, tone: fieldTone(status), reasons: own.filter((c) => !restatesLine(c, status)) }];
  });
  return { lines, others: codes.filter((c) => reasonField(c) === null) };
}

/** i18n key of a reason code, or null for a code this version does not know. */
export function reasonKey(code: string, known: Record<string, string>): `identity.reason.${ReasonCode}` | null {
  return Object.hasOwn(known, code) ? (`identity.reason.${code}` as `identity.reason.${ReasonCode}`) : null;
}

/** Can be imported: not on the PACS already, not held there under another patient. */
export function isSelectable(study: Pick<StudyLike, "on_pacs" | "pacs_conflict">): boolean {
  return !study.on_pacs && !study.pacs_conflict;
}

/**
 * On the PACS already under this patient: shown, never sent again (the seed's "Already on PACS,
 * removed from import"); confirming ignores it.
 */
export function isAlreadyPresent(study: Pick<StudyLike, "on_pacs" | "pacs_conflict">): boolean {
  return study.on_pacs && !study.pacs_conflict;
}

/** Studies ticked when the screen opens: every one that can be imported. */
export function initialSelection(studies: Pick<StudyLike, "study_instance_uid" | "on_pacs" | "pacs_conflict">[]): string[] {
  return studies.filter(isSelectable).map((s) => s.study_instance_uid);
}

/**
 * What Confirm sends: the importable studies ticked; when there are none to import at all, every
 * study already on the PACS, so that the import ends (completed, nothing sent) instead of leaving
 * Cancel as the only way out.
 */
export function studiesToConfirm(
  studies: Pick<StudyLike, "study_instance_uid" | "on_pacs" | "pacs_conflict">[],
  selected: readonly string[],
): string[] {
  const chosen = studies.filter((s) => isSelectable(s) && selected.includes(s.study_instance_uid));
  if (chosen.length > 0) return chosen.map((s) => s.study_instance_uid);
  if (studies.some(isSelectable)) return [];
  return studies.filter(isAlreadyPresent).map((s) => s.study_instance_uid);
}

/**
 * What Confirm sends: the studies, and for each the order's patient the user saw it compared
 * with (`seen_patients`): the server refuses (`order_changed`) when the order names another
 * patient now, instead of filing under a patient the user never saw compared; and the patients of
 * the hospital other than the order's its comparisons said were filed under before
 * (`seen_filed_before`, an empty list for a study that showed none): the server refuses
 * (`identity_changed`) when what it remembers now says more.
 */
export function confirmBody(
  studies: (Pick<StudyLike, "study_instance_uid" | "on_pacs" | "pacs_conflict"> & {
    compared_with: PersonLike | null;
    identity: IdentityLike | null;
    patients?: { identity: IdentityLike | null }[];
  })[],
  selected: readonly string[],
  acknowledge: boolean,
  documents: Readonly<Record<string, string>> = {},
): {
  studies: string[];
  acknowledge_identity: boolean;
  seen_patients?: Record<string, PersonLike>;
  seen_filed_before: Record<string, LocalSeen[]>;
  documents?: Record<string, string>;
} {
  const sent = withDocumentStudies(studies, studiesToConfirm(studies, selected), documents);
  const seen: Record<string, PersonLike> = {};
  const filed: Record<string, LocalSeen[]> = {};
  for (const s of studies) {
    if (!sent.includes(s.study_instance_uid)) continue;
    if (s.compared_with) seen[s.study_instance_uid] = seenPatient(s.compared_with);
    filed[s.study_instance_uid] = seenFiledBefore(shownIdentities(s));
  }
  return {
    studies: sent,
    acknowledge_identity: acknowledge,
    ...(Object.keys(seen).length ? { seen_patients: seen } : {}),
    seen_filed_before: filed,
    ...(Object.keys(documents).length ? { documents: { ...documents } } : {}),
  };
}

/**
 * `sent`, and after them the studies the PACS holds already that documents are filed with
 * (`documents`: document id → Study Instance UID): confirming sends them for their documents.
 */
export function withDocumentStudies(
  studies: Pick<StudyLike, "study_instance_uid" | "on_pacs" | "pacs_conflict">[],
  sent: readonly string[],
  documents: Readonly<Record<string, string>>,
): string[] {
  const wanted = new Set(Object.values(documents));
  const more = studies.filter((s) => wanted.has(s.study_instance_uid) && !sent.includes(s.study_instance_uid) && isAlreadyPresent(s));
  return [...sent, ...more.map((s) => s.study_instance_uid)];
}

/** Every study on the medium is already on the PACS: confirming sends nothing. */
export function allAlreadyPresent(studies: Pick<StudyLike, "on_pacs" | "pacs_conflict">[]): boolean {
  return studies.length > 0 && studies.every(isAlreadyPresent);
}

/** What says how much of a study the PACS holds. */
interface OnPacsLike {
  on_pacs: boolean;
  pacs_conflict: boolean;
  instances_on_pacs: number | null;
  instance_count: number;
}

/**
 * The PACS holds every instance of the study, not under another patient: nothing of it would be
 * sent. The server's rule (`wholly_on_pacs` in `importer/imports/reconcile.py`), mirrored: in
 * worklist mode such a study needs no order; one only partly there (or in conflict) does.
 */
export function whollyOnPacs(study: OnPacsLike): boolean {
  return study.on_pacs && !study.pacs_conflict && study.instances_on_pacs !== null && study.instances_on_pacs === study.instance_count;
}

/**
 * Worklist mode: every study of the medium is wholly on the PACS, so the import can end
 * (completed, nothing sent, filed under no one) without choosing any order.
 */
export function endsWithoutOrder(studies: OnPacsLike[]): boolean {
  return studies.length > 0 && studies.every(whollyOnPacs);
}

export interface Emphasis {
  /** a selected study's patient is not accepted: Confirm small and red, Cancel large and blue */
  danger: boolean;
  /** the "I have verified…" tick is needed before confirming */
  acknowledgeRequired: boolean;
  /** Confirm can be pressed now */
  canConfirm: boolean;
}

/**
 * The seed's emphasis rule over the server's verdict: whether a study needs the acknowledgement
 * is the server's `acknowledgement_required` (its one identity gate), never decided here.
 */
export function emphasis(
  studies: StudyLike[],
  selected: readonly string[],
  acknowledged: boolean,
  documents: Readonly<Record<string, string>> = {},
): Emphasis {
  const sent = studiesToConfirm(studies, selected);
  // a study the PACS holds already is filed (through the identity gate) when documents go with it
  const filed = withDocumentStudies(studies, sent.filter((u) => studies.some((s) => s.study_instance_uid === u && isSelectable(s))), documents);
  const danger = studies.some((s) => filed.includes(s.study_instance_uid) && s.acknowledgement_required);
  return {
    danger,
    acknowledgeRequired: danger,
    canConfirm: (sent.length > 0 || filed.length > 0) && (!danger || acknowledged),
  };
}

/** Every patient of a study with its comparison; the first is the study's `patient`. */
export function comparisonsOf<P extends PersonLike>(study: {
  patient: P;
  identity: IdentityLike | null;
  patients?: Compared<P>[];
}): Compared<P>[] {
  return study.patients && study.patients.length > 0
    ? study.patients
    : [{ patient: study.patient, identity: study.identity }];
}

const norm = (v: string) => v.trim().toUpperCase();

/** The same patient written the same way (for what the app shows; the server decides the rest). */
export function samePatient(a: PersonLike, b: PersonLike): boolean {
  return (
    norm(a.name) === norm(b.name) &&
    a.id.trim() === b.id.trim() &&
    a.issuer.trim() === b.issuer.trim() &&
    a.birth_date.trim() === b.birth_date.trim() &&
    norm(a.sex) === norm(b.sex)
  );
}

/** Each patient once, in the order met. */
export function distinctPatients<P extends PersonLike>(people: P[]): P[] {
  const out: P[] = [];
  for (const p of people) if (!out.some((q) => samePatient(p, q))) out.push(p);
  return out;
}

/** Each patient's comparison once, in the order met. */
export function distinctComparisons<P extends PersonLike>(list: Compared<P>[]): Compared<P>[] {
  const out: Compared<P>[] = [];
  for (const c of list) if (!out.some((k) => samePatient(k.patient, c.patient))) out.push(c);
  return out;
}

/** The patient the user saw compared, as `seen_patients` / `seen_patient` take it (and nothing more). */
export function seenPatient(p: PersonLike): PersonLike {
  return { name: p.name, id: p.id, issuer: p.issuer, birth_date: p.birth_date, sex: p.sex };
}

/**
 * The study was compared with a patient the order no longer names (the RIS changed the order
 * since): confirming will be refused and the comparison made again.
 */
export function comparedWithAnother(study: { compared_with: PersonLike | null }, orderPatient: PersonLike): boolean {
  return study.compared_with !== null && !samePatient(study.compared_with, orderPatient);
}

/**
 * Before the server has compared (worklist mode, temporary zone: the order is the one the user
 * picks), the comparisons shown come from the worklist search; a patient not compared, or not
 * accepted, needs the tick. Once the server has compared a study with that very patient, its
 * verdict is used instead (`serverComparison`).
 */
export function needsAcknowledgement(identities: (IdentityLike | null)[]): boolean {
  return identities.some((i) => !isAccepted(i));
}

/**
 * The server's own comparison of a study with `orderPatient`, when it has made one (after an
 * `order_changed` or `identity_not_compared` answer): every patient of the study, and whether
 * the server requires the acknowledgement.
 */
export function serverComparison<P extends PersonLike>(
  study: {
    patient: P;
    identity: IdentityLike | null;
    patients?: Compared<P>[];
    compared_with: PersonLike | null;
    acknowledgement_required: boolean;
  },
  orderPatient: PersonLike,
): { comparisons: Compared<P>[]; acknowledgementRequired: boolean } | null {
  if (study.compared_with === null || !samePatient(study.compared_with, orderPatient)) return null;
  return { comparisons: comparisonsOf(study), acknowledgementRequired: study.acknowledgement_required };
}

/** A study as the confirmation groups it under the patients found on the medium. */
interface GroupableStudy<P extends PersonLike> {
  study_instance_uid: string;
  patient: P;
  identity: IdentityLike | null;
  patients?: Compared<P>[];
  compared_with: PersonLike | null;
}

/** A study under one of its patients. */
export interface GroupEntry<S> {
  study: S;
  /**
   * The study's card (its tick, facts, previews) is here: the group of its first patient. In the
   * group of another patient of the same study, the study is named and points there.
   */
  primary: boolean;
  /** the groups (indexes) of every patient of this study, the primary first */
  groups: number[];
}

/** One patient found on the medium, compared once with the order's patient, with their studies. */
export interface PatientGroup<P extends PersonLike, S> {
  patient: P;
  identity: IdentityLike | null;
  /** the order's patient the comparison was made with (the server's `compared_with`), null: not compared */
  comparedWith: PersonLike | null;
  entries: GroupEntry<S>[];
}

const sameIdentity = (a: IdentityLike | null, b: IdentityLike | null) => JSON.stringify(a) === JSON.stringify(b);
/** Written exactly alike (a group shows its patient as written: a case difference is another group). */
const writtenAlike = (a: PersonLike, b: PersonLike) => JSON.stringify(seenPatient(a)) === JSON.stringify(seenPatient(b));

/**
 * The studies grouped under each patient found on the medium, in the order met: one group per
 * patient and comparison (the same patient compared with another order's patient, or reported
 * otherwise, is another group — a comparison is never shown for a study it was not made for). A
 * study that holds several patients is in the group of each: its card with the first.
 */
export function patientGroups<P extends PersonLike, S extends GroupableStudy<P>>(studies: S[]): PatientGroup<P, S>[] {
  const groups: PatientGroup<P, S>[] = [];
  for (const study of studies) {
    const indexes: number[] = [];
    for (const c of comparisonsOf(study)) {
      const cw = study.compared_with;
      let index = groups.findIndex(
        (g) =>
          writtenAlike(g.patient, c.patient) &&
          (g.comparedWith === null ? cw === null : cw !== null && writtenAlike(g.comparedWith, cw)) &&
          sameIdentity(g.identity, c.identity),
      );
      if (index < 0) index = groups.push({ patient: c.patient, identity: c.identity, comparedWith: cw, entries: [] }) - 1;
      if (!indexes.includes(index)) indexes.push(index);
    }
    indexes.forEach((index, i) => groups[index]!.entries.push({ study, primary: i === 0, groups: indexes }));
  }
  return groups;
}
