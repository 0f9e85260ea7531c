/**
 * The identity checks of an order the user picks (worklist mode, temporary-zone promotion): the
 * order as the worklist gives it now, each patient found on the medium compared with it. Before
 * the server has compared, the comparisons are the worklist's, read per patient (a patient it
 * could not compare needs the tick); once the server has compared a study with that very patient
 * (after `order_changed` / `identity_not_compared`), its comparison and verdict are used.
 */
import type { ConfirmIn, PatientFound, PromoteIn, StudyOut, WorklistCandidate } from "../api/client";
import type { WorklistQuery } from "../api/queries";
import {
  comparisonsOf,
  distinctComparisons,
  distinctPatients,
  needsAcknowledgement,
  samePatient,
  seenFiledBefore,
  seenPatient,
  serverComparison,
  type Compared,
  type PersonLike,
} from "./identity";
import { prefill } from "./worklist";

export interface OrderCheck {
  /** the order whose patient is shown (and sent back as the patient seen) */
  order: WorklistCandidate;
  comparisons: Compared<PatientFound>[];
  acknowledgementRequired: boolean;
}

/**
 * The order chosen (`accession`) read again for a patient of a study of an import: ranked against
 * that patient, and — the import and the study named — compared by the server with what that
 * patient of the medium was filed under before (`filed_before`: given only with `import_id` and
 * `study`, for a study of one patient; a study of several is compared with the fields sent).
 */
export function rereadQuery(importId: string, studyUid: string | undefined, patient: PatientFound, accession: string): WorklistQuery {
  return { ...prefill(patient), date: "", accession, ...(studyUid ? { import_id: importId, study: studyUid } : {}) };
}

/**
 * One study against the order chosen for it. `reread[i]` is the chosen order read again for the
 * study's i-th patient (undefined: not found, so not compared).
 */
export function worklistCheck(
  study: StudyOut,
  chosen: WorklistCandidate,
  reread: (WorklistCandidate | undefined)[],
): OrderCheck {
  const order = reread[0] ?? chosen;
  const server = serverComparison(study, order.patient);
  if (server) return { order, ...server };
  const comparisons = comparisonsOf(study).map((c, i) => ({ patient: c.patient, identity: reread[i]?.identity ?? null }));
  return { order, comparisons, acknowledgementRequired: needsAcknowledgement(comparisons.map((c) => c.identity)) };
}

/** The distinct patients of studies, in the order met: what a promotion compares. */
export function patientsOf(studies: StudyOut[]): PatientFound[] {
  return distinctPatients(studies.flatMap((s) => comparisonsOf(s).map((c) => c.patient)));
}

/**
 * Every study of a temporary-zone import against one order. `reread[i]` is the order read again
 * for the i-th patient of `patientsOf(studies)`.
 */
export function promoteCheck(
  studies: StudyOut[],
  order: WorklistCandidate,
  reread: (WorklistCandidate | undefined)[],
): OrderCheck {
  const server = studies.map((s) => serverComparison(s, order.patient));
  if (studies.length > 0 && server.every((c) => c !== null)) {
    return {
      order,
      comparisons: distinctComparisons(server.flatMap((x) => x!.comparisons)),
      acknowledgementRequired: server.some((x) => x!.acknowledgementRequired),
    };
  }
  const comparisons = patientsOf(studies).map((patient, i) => ({ patient, identity: reread[i]?.identity ?? null }));
  return { order, comparisons, acknowledgementRequired: needsAcknowledgement(comparisons.map((c) => c.identity)) };
}

/**
 * The study of a temporary-zone import a patient of `patientsOf(studies)` is read again against:
 * the first that names that patient alone (the server says what a patient was filed under before
 * only for a study of one patient), else the first that names them.
 */
export function studyOfPatient(studies: StudyOut[], patient: PatientFound): StudyOut | undefined {
  const naming = studies.filter((s) => comparisonsOf(s).some((c) => samePatient(c.patient, patient)));
  return naming.find((s) => comparisonsOf(s).length === 1) ?? naming[0];
}

/**
 * What worklist mode's Confirm sends: each study with the order chosen for it, the order's patient
 * exactly as the checks showed it (`seen_patients`), and what the checks' comparisons said its
 * patients were filed under before, under other patients of the hospital (`seen_filed_before`,
 * an empty list for a study whose checks said none).
 */
export function worklistConfirmBody(
  picked: readonly string[],
  checks: Readonly<Record<string, OrderCheck>>,
  acknowledge: boolean,
): ConfirmIn {
  const check = (uid: string) => checks[uid]!;
  return {
    studies: [...picked],
    order_for_study: Object.fromEntries(picked.map((u) => [u, check(u).order.accession_number])),
    seen_patients: Object.fromEntries(picked.map((u) => [u, seenPatient(check(u).order.patient)])),
    seen_filed_before: Object.fromEntries(picked.map((u) => [u, seenFiledBefore(check(u).comparisons.map((c) => c.identity))])),
    acknowledge_identity: acknowledge,
  };
}

/**
 * What Promote sends: the order, its patient exactly as compared (`seen_patient`) and what the
 * comparisons shown said a patient of the medium was filed under before, under other patients of
 * the hospital (`seen_filed_before`, empty when they said none).
 */
export function promoteBody(check: OrderCheck, acknowledge: boolean): PromoteIn {
  return {
    accession_number: check.order.accession_number,
    patient_launch: false,
    acknowledge_identity: acknowledge,
    seen_patient: seenPatient(check.order.patient),
    seen_filed_before: seenFiledBefore(check.comparisons.map((c) => c.identity)),
  };
}

/**
 * The checks of a temporary-zone import against the patient the session was launched for
 * without an order: the server's own comparison of every study with that very patient, once it
 * has made one (the worklist knows no such patient); null until then.
 */
export interface PatientCheck {
  /** the session's patient, as compared (and sent back as the patient seen) */
  patient: PersonLike;
  comparisons: Compared<PatientFound>[];
  acknowledgementRequired: boolean;
}

export function patientLaunchCheck(studies: StudyOut[], patient: PersonLike): PatientCheck | null {
  const server = studies.map((s) => serverComparison(s, patient));
  if (studies.length === 0 || server.some((c) => c === null)) return null;
  return {
    patient,
    comparisons: distinctComparisons(server.flatMap((x) => x!.comparisons)),
    acknowledgementRequired: server.some((x) => x!.acknowledgementRequired),
  };
}

/**
 * What asks the server to compare a temporary-zone import with the session's patient: no patient
 * seen, so nothing is filed; it answers 409 `identity_not_compared` with the comparison made
 * (recorded on the studies). Sent only while `patientLaunchCheck` has none: a study already
 * compared with this patient would be filed at once.
 */
export const PATIENT_COMPARE_BODY: PromoteIn = { patient_launch: true, acknowledge_identity: false };

/**
 * What "File under this patient" sends: the session's patient exactly as compared
 * (`seen_patient`) and what the comparisons shown said a patient of the medium was filed under
 * before, under other patients of the hospital (`seen_filed_before`, empty when they said none).
 */
export function patientPromoteBody(check: PatientCheck, acknowledge: boolean): PromoteIn {
  return {
    patient_launch: true,
    acknowledge_identity: acknowledge,
    seen_patient: seenPatient(check.patient),
    seen_filed_before: seenFiledBefore(check.comparisons.map((c) => c.identity)),
  };
}
