/**
 * The identity checks of an order the user picks (worklist mode, temporary-zone promotion): the
 * order as the worklist gives it now, each patient found on the medium compared with it. Before
 * the server has compared, the comparisons are the worklist's, read per patient (a patient it
 * could not compare needs the tick); once the server has compared a study with that very patient
 * (after `order_changed` / `identity_not_compared`), its comparison and verdict are used.
 */
import type { PatientFound, StudyOut, WorklistCandidate } from "../api/client";
import {
  comparisonsOf,
  distinctComparisons,
  distinctPatients,
  needsAcknowledgement,
  serverComparison,
  type Compared,
} from "./identity";

export interface OrderCheck {
  /** the order whose patient is shown (and sent back as the patient seen) */
  order: WorklistCandidate;
  comparisons: Compared<PatientFound>[];
  acknowledgementRequired: boolean;
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
