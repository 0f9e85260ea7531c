import { describe, expect, it } from "vitest";
import type { IdentityOut, StudyOut, WorklistCandidate } from "../api/client";
import { study } from "../api/testing";
import {
  PATIENT_COMPARE_BODY,
  patientLaunchCheck,
  patientPromoteBody,
  patientsOf,
  promoteBody,
  promoteCheck,
  rereadQuery,
  studyOfPatient,
  worklistCheck,
  worklistConfirmBody,
} from "./checks";

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

/** Filed before under another patient of the hospital (`same: false`) or under the order's own. */
const filed = (id: string, issuer: string, same = false) => ({
  patient: { id, issuer, name: "BIANCHI^LUCA", birth_date: "19700303" },
  at: "2026-12-05T12:00:00Z",
  by: "Giulia Bianchi",
  same,
});
const withFiled = (identity: IdentityOut, ...filedBefore: ReturnType<typeof filed>[]): IdentityOut => ({ ...identity, filed_before: filedBefore });

describe("the order read again for the checks (issue 16: what was filed before)", () => {
  it("names the import and the study, so the server says what the patient was filed under before", () => {
    expect(rereadQuery("imp1", "1.1", VERDI, "WL-1")).toEqual({
      name: "Verdi",
      given: "Giuseppe",
      birth_date: "19610315",
      sex: "M",
      date: "",
      accession: "WL-1",
      patient_id: "",
      import_id: "imp1",
      study: "1.1",
    });
    // no study to name: neither (the server takes them together)
    expect(rereadQuery("imp1", undefined, VERDI, "WL-1")).not.toHaveProperty("import_id");
    expect(rereadQuery("imp1", undefined, VERDI, "WL-1")).not.toHaveProperty("study");
  });

  it("promotion: reads each patient against a study naming them alone when there is one", () => {
    const both = studyOf([VERDI, OTHER], { study_instance_uid: "1.1" });
    const alone = studyOf([OTHER], { study_instance_uid: "1.2" });
    expect(studyOfPatient([both, alone], OTHER)?.study_instance_uid).toBe("1.2");
    expect(studyOfPatient([both, alone], VERDI)?.study_instance_uid).toBe("1.1");
    expect(studyOfPatient([alone], VERDI)).toBeUndefined();
  });
});

describe("what worklist mode's Confirm sends", () => {
  it("per study: its order, its patient and what its checks said was filed before under other patients", () => {
    const order = candidate(VERDI);
    const s1 = studyOf([VERDI, OTHER], { study_instance_uid: "1.1" });
    const s2 = studyOf([VERDI], { study_instance_uid: "1.2" });
    const checks = {
      "1.1": worklistCheck(s1, order, [
        candidate(VERDI, withFiled(MISMATCH, filed("HOSP-7", "HOSPITAL"), filed("HOSP-1", "HOSPITAL", true))),
        // the same local patient said twice, and one of the same ID under another issuer
        candidate(OTHER, withFiled(MISMATCH, filed("HOSP-7", "HOSPITAL"), filed("HOSP-7", "OTHER-HOSPITAL"))),
      ]),
      "1.2": worklistCheck(s2, order, [order]),
    };
    expect(worklistConfirmBody(["1.1", "1.2"], checks, true)).toEqual({
      studies: ["1.1", "1.2"],
      order_for_study: { "1.1": "WL-1", "1.2": "WL-1" },
      seen_patients: { "1.1": order.patient, "1.2": order.patient },
      seen_filed_before: {
        "1.1": [
          { id: "HOSP-7", issuer: "HOSPITAL" },
          { id: "HOSP-7", issuer: "OTHER-HOSPITAL" },
        ],
        "1.2": [],
      },
      acknowledge_identity: true,
    });
  });

  it("after a renewed comparison: the server's comparison shown, so what it says", () => {
    const now = candidate(VERDI);
    const s = studyOf([VERDI], {
      study_instance_uid: "1.1",
      compared_with: now.patient,
      patients: [{ patient: VERDI, identity: withFiled(MISMATCH, filed("HOSP-7", "HOSPITAL")) }],
      acknowledgement_required: true,
    });
    const body = worklistConfirmBody(["1.1"], { "1.1": worklistCheck(s, now, [now]) }, false);
    expect(body.seen_filed_before).toEqual({ "1.1": [{ id: "HOSP-7", issuer: "HOSPITAL" }] });
  });
});

describe("what Promote sends", () => {
  const a = studyOf([VERDI], { study_instance_uid: "1.1" });
  const b = studyOf([VERDI, OTHER], { study_instance_uid: "1.2" });

  it("the order, its patient and every local patient other than the order's the comparisons shown said, once", () => {
    const order = candidate(VERDI);
    const check = promoteCheck([a, b], order, [
      candidate(VERDI, withFiled(MISMATCH, filed("HOSP-7", "HOSPITAL"), filed("HOSP-1", "HOSPITAL", true))),
      candidate(OTHER, withFiled(MISMATCH, filed("HOSP-7", "HOSPITAL"), filed("HOSP-9", ""))),
    ]);
    expect(promoteBody(check, true)).toEqual({
      accession_number: "WL-1",
      patient_launch: false,
      acknowledge_identity: true,
      seen_patient: order.patient,
      seen_filed_before: [
        { id: "HOSP-7", issuer: "HOSPITAL" },
        { id: "HOSP-9", issuer: "" },
      ],
    });
  });

  it("an empty list when the comparisons said none", () => {
    const order = candidate(VERDI);
    expect(promoteBody(promoteCheck([a], order, [order]), false)).toEqual({
      accession_number: "WL-1",
      patient_launch: false,
      acknowledge_identity: false,
      seen_patient: order.patient,
      seen_filed_before: [],
    });
  });
});

describe("filing under the patient the session was launched for without an order", () => {
  /** ROSSI MARIO as the RIS launched the session for him (no order). */
  const ROSSI = { name: "ROSSI^MARIO", id: "HOSP-0042", issuer: "HOSPITAL", birth_date: "19740101", sex: "M" };
  const rossiOnMedium = { ...VERDI, name: "Rossi^Mario", birth_date: "19740101" };
  const compared = (patients: (typeof VERDI)[], identity: IdentityOut, extra: Partial<StudyOut> = {}) =>
    studyOf(patients, {
      identity,
      patients: patients.map((patient) => ({ patient, identity })),
      compared_with: ROSSI,
      acknowledgement_required: identity.overall === "mismatch",
      ...extra,
    });

  it("asks the server to compare first: the patient launch, no patient seen, nothing acknowledged (so nothing filed)", () => {
    expect(PATIENT_COMPARE_BODY).toEqual({ patient_launch: true, acknowledge_identity: false });
    expect(PATIENT_COMPARE_BODY).not.toHaveProperty("accession_number");
    expect(PATIENT_COMPARE_BODY).not.toHaveProperty("seen_patient");
  });

  it("no check until the server has compared every study with this very patient", () => {
    expect(patientLaunchCheck([studyOf([rossiOnMedium])], ROSSI)).toBeNull();
    // one study compared, the other not yet
    expect(patientLaunchCheck([compared([rossiOnMedium], MATCH), studyOf([rossiOnMedium], { study_instance_uid: "1.9" })], ROSSI)).toBeNull();
    // compared with another patient (a worklist order's, before)
    expect(patientLaunchCheck([compared([rossiOnMedium], MATCH, { compared_with: { ...ROSSI, id: "HOSP-0777" } })], ROSSI)).toBeNull();
    expect(patientLaunchCheck([], ROSSI)).toBeNull();
  });

  it("once compared: the server's comparisons, each patient once, and its verdict on the tick", () => {
    const match = patientLaunchCheck([compared([rossiOnMedium], MATCH), compared([rossiOnMedium], MATCH, { study_instance_uid: "1.9" })], ROSSI);
    expect(match?.comparisons.map((c) => [c.patient.name, c.identity?.overall])).toEqual([["Rossi^Mario", "match"]]);
    expect(match?.acknowledgementRequired).toBe(false);
    const twin = patientLaunchCheck([compared([rossiOnMedium, OTHER], MISMATCH)], ROSSI);
    expect(twin?.comparisons).toHaveLength(2);
    expect(twin?.acknowledgementRequired).toBe(true);
  });

  it("File under sends the patient launch, the patient as compared and what was filed before elsewhere, never an accession number", () => {
    const identity = withFiled(MISMATCH, filed("HOSP-7", "HOSPITAL"), filed("HOSP-0042", "HOSPITAL", true));
    const check = patientLaunchCheck([compared([rossiOnMedium], identity)], ROSSI)!;
    const body = patientPromoteBody(check, true);
    expect(body).toEqual({
      patient_launch: true,
      acknowledge_identity: true,
      seen_patient: ROSSI,
      seen_filed_before: [{ id: "HOSP-7", issuer: "HOSPITAL" }],
    });
    expect(body).not.toHaveProperty("accession_number");
    expect(patientPromoteBody(patientLaunchCheck([compared([rossiOnMedium], MATCH)], ROSSI)!, false)).toEqual({
      patient_launch: true,
      acknowledge_identity: false,
      seen_patient: ROSSI,
      seen_filed_before: [],
    });
  });
});
