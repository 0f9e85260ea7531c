import { describe, expect, it } from "vitest";
import type { IdentityOut, StudyOut, WorklistCandidate } from "../api/client";
import { study } from "../api/testing";
import { patientsOf, promoteCheck, worklistCheck } from "./checks";

const MATCH: IdentityOut = { overall: "match", fields: {}, reasons: [] };
const MISMATCH: IdentityOut = { overall: "mismatch", fields: {}, reasons: [] };

const VERDI = { name: "Verdi^Giuseppe", id: "EXT-1", issuer: "", birth_date: "19610315", sex: "M" };
const OTHER = { name: "Verdi^Giovanna", id: "EXT-2", issuer: "", birth_date: "19610315", sex: "F" };

/** A study of these patients (its own the first), not compared yet. */
const studyOf = (patients: (typeof VERDI)[], extra: Partial<StudyOut> = {}): StudyOut =>
  study({
    time: "",
    accession_number: "",
    institution: "",
    series_count: 1,
    instance_count: 1,
    patient: patients[0]!,
    identity: null,
    patients: patients.map((patient) => ({ patient, identity: null })),
    compared_with: null,
    ...extra,
  });

function candidate(patient: typeof VERDI, identity = MATCH, accession = "WL-1"): WorklistCandidate {
  return {
    accession_number: accession,
    requested_procedure_id: "RP1",
    procedure: { code: "", description: "" },
    modality: "CT",
    scheduled_date: "",
    scheduled_time: "",
    patient: { ...patient, name: patient.name.toUpperCase(), id: "HOSP-1", issuer: "HOSPITAL" },
    identity,
    score: 100,
    step: "name",
  };
}

describe("worklist mode: the checks of a study against the order chosen", () => {
  it("compares every patient of the study, each with the order read again for it", () => {
    const chosen = candidate(VERDI);
    const check = worklistCheck(studyOf([VERDI, OTHER]), chosen, [chosen, candidate(VERDI, MISMATCH)]);
    expect(check.comparisons.map((c) => [c.patient.name, c.identity?.overall])).toEqual([
      ["Verdi^Giuseppe", "match"],
      ["Verdi^Giovanna", "mismatch"],
    ]);
    expect(check.acknowledgementRequired).toBe(true);
  });

  it("a patient the order could not be read again for is not compared: the tick is needed", () => {
    const chosen = candidate(VERDI);
    const check = worklistCheck(studyOf([VERDI, OTHER]), chosen, [chosen, undefined]);
    expect(check.comparisons[1]!.identity).toBeNull();
    expect(check.acknowledgementRequired).toBe(true);
  });

  it("one patient who matches: no tick; the order shown is the one read again (sent back as seen)", () => {
    const chosen = candidate(VERDI);
    const reread = candidate({ ...VERDI, birth_date: "19610316" });
    const check = worklistCheck(studyOf([VERDI]), chosen, [reread]);
    expect(check.acknowledgementRequired).toBe(false);
    expect(check.order).toBe(reread);
  });

  it("after order_changed: the server's comparison with that very patient, and its verdict", () => {
    const now = candidate(OTHER, MATCH);
    const s = studyOf([VERDI], {
      compared_with: now.patient,
      patients: [{ patient: VERDI, identity: MISMATCH }],
      acknowledgement_required: true,
    });
    const check = worklistCheck(s, candidate(VERDI), [now]);
    expect(check.comparisons).toEqual([{ patient: VERDI, identity: MISMATCH }]);
    expect(check.acknowledgementRequired).toBe(true);
    // a comparison with another patient than the order shows now is not used
    expect(worklistCheck(s, candidate(VERDI), [candidate(VERDI)]).comparisons[0]!.identity).toEqual(MATCH);
  });
});

describe("temporary zone: the checks of a promotion", () => {
  const a = studyOf([VERDI], { study_instance_uid: "1.1" });
  const b = studyOf([VERDI, OTHER], { study_instance_uid: "1.2" });

  it("compares each distinct patient of every study once", () => {
    expect(patientsOf([a, b]).map((p) => p.name)).toEqual(["Verdi^Giuseppe", "Verdi^Giovanna"]);
    const order = candidate(VERDI);
    const check = promoteCheck([a, b], order, [order, candidate(VERDI, MISMATCH)]);
    expect(check.comparisons.map((c) => c.identity?.overall)).toEqual(["match", "mismatch"]);
    expect(check.acknowledgementRequired).toBe(true);
    expect(promoteCheck([a], order, [order]).acknowledgementRequired).toBe(false);
  });

  it("uses the server's comparison when every study was compared with the order's patient shown", () => {
    const order = candidate(OTHER);
    const compared = (s: StudyOut, ack: boolean) => ({
      ...s,
      compared_with: order.patient,
      acknowledgement_required: ack,
      patients: s.patients.map((p) => ({ ...p, identity: MISMATCH })),
    });
    const check = promoteCheck([compared(a, false), compared(b, true)], order, []);
    expect(check.comparisons).toHaveLength(2);
    expect(check.acknowledgementRequired).toBe(true);
    // one study not compared with it: the worklist's comparisons instead
    expect(promoteCheck([compared(a, false), b], order, [order, order]).comparisons[0]!.identity).toEqual(MATCH);
  });
});
