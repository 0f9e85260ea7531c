import { describe, expect, it } from "vitest";
import en from "../i18n/en";
import fr from "../i18n/fr";
import itLang from "../i18n/it";
import {
  allAlreadyPresent,
  comparedWithAnother,
  comparisonsOf,
  confirmBody,
  distinctComparisons,
  distinctPatients,
  emphasis,
  endsWithoutOrder,
  fieldLines,
  filedBeforeOf,
  fieldTone,
  initialSelection,
  isAccepted,
  isAlreadyPresent,
  needsAcknowledgement,
  overallOf,
  patientGroups,
  reasonField,
  reasonKey,
  samePatient,
  seenFiledBefore,
  seenPatient,
  serverComparison,
  studiesToConfirm,
  whollyOnPacs,
  type IdentityLike,
} from "./identity";

function study(
  uid: string,
  overall: string | null,
  extra: { on_pacs?: boolean; pacs_conflict?: boolean; ack?: boolean } = {},
) {
  return {
    study_instance_uid: uid,
    identity: overall === null ? null : { overall, fields: {}, reasons: [] },
    on_pacs: extra.on_pacs ?? false,
    pacs_conflict: extra.pacs_conflict ?? false,
    // the server's gate, which the app follows (here: not match/format_different, unless told)
    acknowledgement_required: extra.ack ?? !(overall === "match" || overall === "format_different"),
  };
}

const ROSSI = { name: "ROSSI^MARIO", id: "HOSP-0042", issuer: "HOSPITAL", birth_date: "19740101", sex: "M" };
const VERDI = { name: "VERDI^ANNA", id: "HOSP-0099", issuer: "HOSPITAL", birth_date: "19800512", sex: "F" };

describe("emphasis rule (seed: Confirm small and red, Cancel large and blue)", () => {
  it.each([
    [false, false],
    [true, true],
  ])("a selected study whose acknowledgement_required is %s → danger %s", (ack, danger) => {
    const e = emphasis([study("1.1", "match", { ack })], ["1.1"], false);
    expect(e.danger).toBe(danger);
    expect(e.acknowledgeRequired).toBe(danger);
    expect(e.canConfirm).toBe(!danger);
  });

  it("follows the server's verdict, not the first patient's words (a second patient may not match)", () => {
    expect(emphasis([study("1.1", "match", { ack: true })], ["1.1"], false).danger).toBe(true);
    expect(emphasis([study("1.1", "mismatch", { ack: false })], ["1.1"], false).danger).toBe(false);
  });

  it("needs the tick to confirm a mismatch, and then allows it", () => {
    const studies = [study("1.1", "mismatch")];
    expect(emphasis(studies, ["1.1"], false).canConfirm).toBe(false);
    expect(emphasis(studies, ["1.1"], true).canConfirm).toBe(true);
  });

  it("only counts the studies that are selected", () => {
    const studies = [study("1.1", "match"), study("1.2", "mismatch")];
    expect(emphasis(studies, ["1.1"], false)).toEqual({
      danger: false,
      acknowledgeRequired: false,
      canConfirm: true,
    });
    expect(emphasis(studies, ["1.1", "1.2"], false).danger).toBe(true);
  });

  it("never asks the tick for a study already on the PACS (it is ignored) nor for a conflict", () => {
    const studies = [study("1.1", "mismatch", { on_pacs: true }), study("1.2", "mismatch", { on_pacs: true, pacs_conflict: true })];
    expect(emphasis(studies, ["1.1", "1.2"], false)).toEqual({
      danger: false,
      acknowledgeRequired: false,
      // every importable study is on the PACS already: confirming is allowed, nothing is sent
      canConfirm: true,
    });
  });

  it("cannot confirm a conflict alone", () => {
    expect(emphasis([study("1.2", "match", { on_pacs: true, pacs_conflict: true })], ["1.2"], false).canConfirm).toBe(false);
  });

  it("cannot confirm nothing", () => {
    expect(emphasis([study("1.1", "match")], [], false).canConfirm).toBe(false);
  });
});

describe("selection", () => {
  it("starts with every importable study ticked", () => {
    expect(
      initialSelection([
        study("1", "match"),
        study("2", "mismatch"),
        study("3", "match", { on_pacs: true }),
        study("4", "match", { pacs_conflict: true }),
      ]),
    ).toEqual(["1", "2"]);
  });

  it("sends the ticked importable studies, never one already on the PACS beside them", () => {
    const studies = [study("1", "match"), study("2", "match", { on_pacs: true }), study("3", "match")];
    expect(studiesToConfirm(studies, ["1", "2"])).toEqual(["1"]);
    // nothing ticked while some could be imported: nothing to send
    expect(studiesToConfirm(studies, [])).toEqual([]);
  });

  it("when every study is on the PACS already, sends them (ignored: the import ends, nothing sent)", () => {
    const studies = [study("2", "match", { on_pacs: true }), study("3", "match", { on_pacs: true })];
    expect(studiesToConfirm(studies, [])).toEqual(["2", "3"]);
    expect(allAlreadyPresent(studies)).toBe(true);
    expect(allAlreadyPresent([...studies, study("4", "match")])).toBe(false);
    expect(allAlreadyPresent([])).toBe(false);
  });

  it("never sends a study held on the PACS under another patient", () => {
    const studies = [study("2", "match", { on_pacs: true }), study("4", "match", { on_pacs: true, pacs_conflict: true })];
    expect(studiesToConfirm(studies, ["4"])).toEqual(["2"]);
    expect(isAlreadyPresent(studies[1]!)).toBe(false);
  });
});

describe("what Confirm sends", () => {
  it("sends, per study, the order's patient it was shown compared with (and only its five fields)", () => {
    const studies = [
      { ...study("1", "match"), compared_with: { ...ROSSI, extra: "x" } },
      { ...study("2", "match"), compared_with: null },
      { ...study("3", "match"), compared_with: VERDI },
    ];
    expect(confirmBody(studies, ["1", "2"], false)).toEqual({
      studies: ["1", "2"],
      acknowledge_identity: false,
      seen_patients: { "1": ROSSI },
      seen_filed_before: { "1": [], "2": [] },
    });
  });

  it("leaves seen_patients out when nothing was compared (the server then compares first)", () => {
    expect(confirmBody([{ ...study("1", "match"), compared_with: null }], ["1"], true)).toEqual({
      studies: ["1"],
      acknowledge_identity: true,
      seen_filed_before: { "1": [] },
    });
  });

  it("sends, per study, the other patients of the hospital every comparison shown said were filed before, once", () => {
    const at = "2026-12-05T12:00:00Z";
    const local = (id: string, issuer: string) => ({ id, issuer, name: "BIANCHI^LUCA", birth_date: "19700303" });
    const said = (...filed: [string, string, boolean][]): IdentityLike => ({
      overall: "mismatch",
      fields: {},
      reasons: [],
      filed_before: filed.map(([id, issuer, same]) => ({ patient: local(id, issuer), at, by: "G", same })),
    });
    const studies = [
      {
        // two patients: both comparisons shown, the first one's own (`identity`) among them
        ...study("1", "mismatch"),
        compared_with: ROSSI,
        identity: said(["HOSP-7", "HOSPITAL", false]),
        patients: [
          { identity: said(["HOSP-7", "HOSPITAL", false], ["HOSP-0042", "HOSPITAL", true]) },
          { identity: said(["HOSP-7", "HOSPITAL", false], ["HOSP-7", "OTHER", false]) },
        ],
      },
      // patients not listed: the study's own comparison
      { ...study("2", "mismatch"), compared_with: ROSSI, identity: said(["HOSP-9", "", false]), patients: [] },
      // not sent: nothing said of it
      { ...study("3", "mismatch"), compared_with: ROSSI, identity: said(["HOSP-5", "HOSPITAL", false]) },
    ];
    expect(confirmBody(studies, ["1", "2"], true).seen_filed_before).toEqual({
      "1": [
        { id: "HOSP-7", issuer: "HOSPITAL" },
        { id: "HOSP-7", issuer: "OTHER" },
      ],
      "2": [{ id: "HOSP-9", issuer: "" }],
    });
  });
});

describe("the patients of a study", () => {
  const found = (name: string) => ({ ...ROSSI, name, id: "EXT-1" });

  it("lists every patient the server found, the first being the study's", () => {
    const patients = [
      { patient: found("ROSSI^MARIO"), identity: { overall: "match", fields: {}, reasons: [] } },
      { patient: found("ROSSI^MARIA"), identity: { overall: "mismatch", fields: {}, reasons: [] } },
    ];
    expect(comparisonsOf({ patient: found("ROSSI^MARIO"), identity: null, patients })).toBe(patients);
  });

  it("falls back to the study's own patient for an import analysed before patients were listed", () => {
    expect(comparisonsOf({ patient: found("ROSSI^MARIO"), identity: null, patients: [] })).toEqual([
      { patient: found("ROSSI^MARIO"), identity: null },
    ]);
  });

  it("keeps each patient once", () => {
    expect(distinctPatients([ROSSI, { ...ROSSI, name: "rossi^mario " }, VERDI])).toEqual([ROSSI, VERDI]);
    expect(
      distinctComparisons([
        { patient: ROSSI, identity: null },
        { patient: { ...ROSSI }, identity: null },
      ]),
    ).toHaveLength(1);
  });
});

describe("which comparison is shown", () => {
  const compared = { patient: ROSSI, identity: { overall: "match", fields: {}, reasons: [] }, patients: [] };

  it("says when the order names another patient than the one compared", () => {
    expect(comparedWithAnother({ compared_with: ROSSI }, VERDI)).toBe(true);
    expect(comparedWithAnother({ compared_with: ROSSI }, { ...ROSSI, name: " rossi^mario" })).toBe(false);
    expect(comparedWithAnother({ compared_with: null }, VERDI)).toBe(false);
  });

  it("uses the server's comparison and verdict only when made with that very patient", () => {
    const s = { ...compared, compared_with: VERDI, acknowledgement_required: true };
    expect(serverComparison(s, VERDI)).toEqual({
      comparisons: [{ patient: ROSSI, identity: compared.identity }],
      acknowledgementRequired: true,
    });
    expect(serverComparison(s, ROSSI)).toBeNull();
    expect(serverComparison({ ...s, compared_with: null }, VERDI)).toBeNull();
  });

  it("asks the tick for a worklist comparison that is missing or not accepted", () => {
    expect(needsAcknowledgement([{ overall: "match", fields: {}, reasons: [] }])).toBe(false);
    expect(needsAcknowledgement([{ overall: "match", fields: {}, reasons: [] }, null])).toBe(true);
    expect(needsAcknowledgement([{ overall: "format_different", fields: {}, reasons: [] }])).toBe(false);
    expect(needsAcknowledgement([{ overall: "mismatch", fields: {}, reasons: [] }])).toBe(true);
  });

  it("sends back exactly the five fields of a patient seen", () => {
    expect(seenPatient({ ...ROSSI, extra: 1 } as typeof ROSSI)).toEqual(ROSSI);
    expect(samePatient(ROSSI, VERDI)).toBe(false);
  });
});

describe("identity words", () => {
  it("accepts only match and format_different", () => {
    expect(isAccepted({ overall: "match", fields: {}, reasons: [] })).toBe(true);
    expect(isAccepted({ overall: "format_different", fields: {}, reasons: [] })).toBe(true);
    expect(isAccepted({ overall: "mismatch", fields: {}, reasons: [] })).toBe(false);
    expect(isAccepted(null)).toBe(false);
    expect(overallOf(null)).toBe("unknown");
  });

  it("a line per field that is not a plain match, saying what its badge says", () => {
    const { lines, others } = fieldLines({
      overall: "mismatch",
      fields: { name: "similar", birth_date: "match", sex: "missing" },
      reasons: [],
    });
    expect(lines.map((l) => [l.field, l.status, l.tone])).toEqual([
      ["name", "similar", "warning"],
      ["sex", "missing", "danger"],
    ]);
    expect(others).toEqual([]);
    expect(fieldLines(null)).toEqual({ lines: [], others: [] });
  });

  it("a similar name is not said to differ; its reasons are under its line; SEX_DIFFERS is not said twice", () => {
    // ROSSI^MARIO vs ROSSI^MARIA, F: the e2e mismatch journey
    const { lines } = fieldLines({
      overall: "mismatch",
      fields: { name: "similar", birth_date: "match", sex: "mismatch" },
      reasons: ["GIVEN_NAME_TYPO", "SEX_DIFFERS"],
    });
    expect(lines).toEqual([
      { field: "name", status: "similar", tone: "warning", reasons: ["GIVEN_NAME_TYPO"] },
      { field: "sex", status: "mismatch", tone: "danger", reasons: [] },
    ]);
  });

  it("groups each reason under its field and drops only those that restate the line", () => {
    const { lines, others } = fieldLines({
      overall: "mismatch",
      fields: { name: "mismatch", birth_date: "mismatch", sex: "missing" },
      reasons: ["FAMILY_NAME_DIFFERS", "GIVEN_NAME_DIFFERS", "NAME_SUFFIX_DIFFERS", "BIRTH_DATE_DIFFERS", "SEX_MISSING", "NEW_CODE"],
    });
    expect(Object.fromEntries(lines.map((l) => [l.field, l.reasons]))).toEqual({
      // more precise than "PATIENT NAME DOES NOT MATCH": kept
      name: ["FAMILY_NAME_DIFFERS", "GIVEN_NAME_DIFFERS", "NAME_SUFFIX_DIFFERS"],
      birth_date: [],
      sex: [],
    });
    expect(others).toEqual(["NEW_CODE"]);
    // a birth date that is only similar keeps its reason; an invalid one says why
    const date = (status: string, code: string) =>
      fieldLines({ overall: "mismatch", fields: { name: "match", birth_date: status, sex: "match" }, reasons: [code] }).lines;
    expect(date("similar", "BIRTH_DATE_DAY_MONTH_SWAPPED")[0]!.reasons).toEqual(["BIRTH_DATE_DAY_MONTH_SWAPPED"]);
    expect(date("mismatch", "BIRTH_DATE_INVALID")[0]!.reasons).toEqual(["BIRTH_DATE_INVALID"]);
    expect(date("missing", "BIRTH_DATE_MISSING")[0]!.reasons).toEqual([]);
  });

  it("a different format: info lines with their reasons, never a mismatch", () => {
    const { lines } = fieldLines({
      overall: "format_different",
      fields: { name: "format_different", birth_date: "match", sex: "match" },
      reasons: ["NAME_ORDER_SWAPPED", "NAME_CASE"],
    });
    expect(lines).toEqual([
      { field: "name", status: "format_different", tone: "info", reasons: ["NAME_ORDER_SWAPPED", "NAME_CASE"] },
    ]);
  });

  it("a reason never disappears: one of a matching field still gets its line", () => {
    const { lines } = fieldLines({
      overall: "format_different",
      fields: { name: "match", birth_date: "match", sex: "match" },
      reasons: ["NAME_CASE", "NAME_CASE"],
    });
    expect(lines).toEqual([{ field: "name", status: "match", tone: "success", reasons: ["NAME_CASE"] }]);
  });

  it("knows the field of every documented reason code", () => {
    // what the medium's patient was filed under before is about no field: listed apart
    const fields = Object.keys(en.identity.reason)
      .filter((code) => code !== "FILED_BEFORE_UNDER_ANOTHER_PATIENT")
      .map(reasonField);
    expect(fields.every((f) => f !== null)).toBe(true);
    expect(reasonField("FILED_BEFORE_UNDER_ANOTHER_PATIENT")).toBeNull();
    expect(reasonField("FAMILY_NAME_PARTIAL")).toBe("name");
    expect(reasonField("GIVEN_NAME_MISSING")).toBe("name");
    expect(reasonField("BIRTH_DATE_FORMAT")).toBe("birth_date");
    expect(reasonField("SEX_MISSING")).toBe("sex");
    expect(reasonField("STUDY_PATIENTS_DIFFER")).toBeNull();
  });

  it("a field's line repeats its badge", () => {
    expect(en.confirm.fieldLine.similar.name).toBe("PATIENT NAME SIMILAR – CHECK");
    expect(en.confirm.fieldLine.similar.name).toContain(en.confirm.fieldStatus.similar.toUpperCase());
    expect(en.confirm.fieldLine.mismatch.name).toBe("PATIENT NAME DOES NOT MATCH");
    // the seed's capital "… NON CORRISPONDE" for a real mismatch only
    expect(itLang.confirm.fieldLine.mismatch.birth_date).toBe("DATA NASCITA NON CORRISPONDE");
    expect(itLang.confirm.fieldLine.mismatch.sex).toBe("SESSO NON CORRISPONDE");
    expect(itLang.confirm.fieldLine.similar.birth_date).toContain(itLang.confirm.fieldStatus.similar.toUpperCase());
    expect(fr.confirm.fieldLine.similar.birth_date).toContain(fr.confirm.fieldStatus.similar.toUpperCase());
    for (const lang of [en, itLang, fr]) {
      for (const field of ["name", "birth_date", "sex"] as const) {
        for (const status of ["format_different", "similar", "missing"] as const)
          expect(lang.confirm.fieldLine[status][field]).not.toBe(lang.confirm.fieldLine.mismatch[field]);
      }
    }
  });

  it("never shows a similar field as fine", () => {
    expect(fieldTone("similar")).toBe("warning");
    expect(fieldTone("mismatch")).toBe("danger");
    expect(fieldTone("missing")).toBe("danger");
    expect(fieldTone("match")).toBe("success");
  });

  // docs/identity.md §4: every reason code with its words in the three languages
  const DOCUMENTED: Record<string, [string, string, string]> = {
    // the whole name is "Cognome e nome", "Nom et prénom" (the terminology test in i18n/languages.test.ts)
    NAME_MISSING: ["Patient name missing", "Cognome e nome mancanti", "Nom et prénom absents"],
    NAME_ORDER_SWAPPED: ["Names in another order", "Cognome e nome invertiti", "Nom et prénom inversés"],
    NAME_TYPO: ["Family name possibly misspelt", "Cognome forse scritto male", "Nom peut-être mal orthographié"],
    GIVEN_NAME_TYPO: ["Given name possibly misspelt", "Nome forse scritto male", "Prénom peut-être mal orthographié"],
    BIRTH_DATE_DIFFERS: [
      "Birth date does not match",
      "Data di nascita non corrisponde",
      "La date de naissance ne correspond pas",
    ],
    BIRTH_DATE_DAY_MONTH_SWAPPED: ["Day and month swapped?", "Giorno e mese invertiti?", "Jour et mois inversés ?"],
    SEX_DIFFERS: ["Sex does not match", "Sesso non corrisponde", "Le sexe ne correspond pas"],
    // docs/identity.md §5: the medium's patient was filed before under another patient of the hospital
    FILED_BEFORE_UNDER_ANOTHER_PATIENT: [
      "Filed before under another patient of the hospital",
      "Archiviato in precedenza sotto un altro paziente dell'ospedale",
      "Classé auparavant sous un autre patient de l'hôpital",
    ],
  };

  it.each(Object.entries(DOCUMENTED))("%s has the documented words", (code, [e, i, f]) => {
    expect(reasonKey(code, en.identity.reason)).toBe(`identity.reason.${code}`);
    expect(en.identity.reason[code as keyof typeof en.identity.reason]).toBe(e);
    expect(itLang.identity.reason[code as keyof typeof en.identity.reason]).toBe(i);
    expect(fr.identity.reason[code as keyof typeof en.identity.reason]).toBe(f);
  });

  it("has words for all 28 documented reason codes", () => {
    expect(Object.keys(en.identity.reason)).toHaveLength(28);
  });

  it("a comparison made a mismatch by what was filed before: the reason under no field, no field line", () => {
    const { lines, others } = fieldLines({
      overall: "mismatch",
      fields: { name: "match", birth_date: "match", sex: "match" },
      reasons: ["FILED_BEFORE_UNDER_ANOTHER_PATIENT"],
    });
    expect(lines).toEqual([]);
    expect(others).toEqual(["FILED_BEFORE_UNDER_ANOTHER_PATIENT"]);
  });

  it("splits what was filed before: under another patient, under the order's own", () => {
    const at = "2026-12-05T12:00:00Z";
    const rossi = { id: "HOSP-0042", issuer: "H", name: "ROSSI^MARIO", birth_date: "19740101" };
    const bianchi = { ...rossi, id: "HOSP-0777", name: "BIANCHI^LUCA" };
    const identity = {
      overall: "mismatch",
      fields: {},
      reasons: [],
      filed_before: [
        { patient: bianchi, at, by: "G", same: false },
        { patient: rossi, at, by: "G", same: true },
      ],
    };
    expect(filedBeforeOf(identity)).toEqual({ other: [identity.filed_before[0]], same: [identity.filed_before[1]] });
    expect(filedBeforeOf({ overall: "match", fields: {}, reasons: [] })).toEqual({ other: [], same: [] });
    expect(filedBeforeOf(null)).toEqual({ other: [], same: [] });
  });

  it("says which other patients of the hospital comparisons said were filed before: each once, in the order shown", () => {
    const at = "2026-12-05T12:00:00Z";
    const entry = (id: string, issuer: string, same: boolean) => ({ patient: { id, issuer, name: "X^Y", birth_date: "" }, at, by: "G", same });
    const one = { overall: "mismatch", fields: {}, reasons: [], filed_before: [entry("B", "H", false), entry("A", "H", true)] };
    const two = { overall: "mismatch", fields: {}, reasons: [], filed_before: [entry("C", "", false), entry("B", "H", false), entry("B", "K", false)] };
    expect(seenFiledBefore([one, null, two])).toEqual([
      { id: "B", issuer: "H" },
      { id: "C", issuer: "" },
      { id: "B", issuer: "K" },
    ]);
    expect(seenFiledBefore([{ overall: "match", fields: {}, reasons: [] }, null])).toEqual([]);
    expect(seenFiledBefore([])).toEqual([]);
  });

  it("falls back for a code it does not know", () => {
    expect(reasonKey("NEW_CODE", en.identity.reason)).toBeNull();
    expect(reasonKey("toString", en.identity.reason)).toBeNull();
  });
});

describe("the studies grouped under each patient found on the medium", () => {
  const MARIA = { ...ROSSI, name: "ROSSI^MARIA", sex: "F" };
  const MATCH: IdentityLike = { overall: "match", fields: { name: "match", birth_date: "match", sex: "match" }, reasons: [] };
  const DIFF: IdentityLike = { overall: "mismatch", fields: { name: "similar", birth_date: "match", sex: "mismatch" }, reasons: ["GIVEN_NAME_TYPO", "SEX_DIFFERS"] };
  const st = (uid: string, patients: [typeof ROSSI, IdentityLike][], compared_with: typeof ROSSI | null = ROSSI) => ({
    study_instance_uid: uid,
    patient: patients[0]![0],
    identity: patients[0]![1],
    patients: patients.map(([patient, identity]) => ({ patient, identity })),
    compared_with,
  });
  const shape = (studies: ReturnType<typeof st>[]) =>
    patientGroups(studies).map((g) => [g.patient.name, g.entries.map((e) => `${e.study.study_instance_uid}${e.primary ? "" : "*"}`)]);

  it("one group, one comparison, for every study of the same patient", () => {
    const groups = patientGroups([st("1", [[ROSSI, MATCH]]), st("2", [[ROSSI, MATCH]])]);
    expect(groups).toHaveLength(1);
    expect(groups[0]!.identity).toEqual(MATCH);
    expect(groups[0]!.comparedWith).toEqual(ROSSI);
    expect(groups[0]!.entries.map((e) => [e.study.study_instance_uid, e.primary, e.groups])).toEqual([
      ["1", true, [0]],
      ["2", true, [0]],
    ]);
  });

  it("a study hiding a second patient: that patient gets a group of their own, the study is named in both", () => {
    expect(shape([st("1", [[ROSSI, MATCH], [MARIA, DIFF]])])).toEqual([
      ["ROSSI^MARIO", ["1"]],
      ["ROSSI^MARIA", ["1*"]],
    ]);
    expect(patientGroups([st("1", [[ROSSI, MATCH], [MARIA, DIFF]])])[1]!.entries[0]!.groups).toEqual([0, 1]);
    // and a study of that second patient alone joins the second group with its card
    expect(shape([st("1", [[ROSSI, MATCH], [MARIA, DIFF]]), st("2", [[MARIA, DIFF]])])).toEqual([
      ["ROSSI^MARIO", ["1"]],
      ["ROSSI^MARIA", ["1*", "2"]],
    ]);
  });

  it("never shares a comparison made with another order's patient, or reported otherwise", () => {
    expect(shape([st("1", [[ROSSI, MATCH]]), st("2", [[ROSSI, MATCH]], VERDI), st("3", [[ROSSI, MATCH]], null)])).toEqual([
      ["ROSSI^MARIO", ["1"]],
      ["ROSSI^MARIO", ["2"]],
      ["ROSSI^MARIO", ["3"]],
    ]);
    expect(shape([st("1", [[ROSSI, MATCH]]), st("2", [[ROSSI, DIFF]])])).toHaveLength(2);
  });

  it("a study without its patients list is grouped by its patient", () => {
    const bare = { study_instance_uid: "9", patient: ROSSI, identity: MATCH, compared_with: ROSSI };
    expect(patientGroups([bare])[0]!.entries).toEqual([{ study: bare, primary: true, groups: [0] }]);
  });
});

describe("worklist mode: a medium wholly on the PACS ends without an order", () => {
  const onPacs = (on_pacs: boolean, held: number | null, total = 2, pacs_conflict = false) => ({
    on_pacs,
    pacs_conflict,
    instances_on_pacs: held,
    instance_count: total,
  });

  it.each([
    ["every instance there", onPacs(true, 2), true],
    ["partly there: the missing ones need an order", onPacs(false, 1), false],
    ["not there", onPacs(false, null), false],
    ["there under another patient", onPacs(true, 2, 2, true), false],
    ["a conflict not counted", onPacs(true, null, 2, true), false],
  ])("%s", (_, s, expected) => {
    expect(whollyOnPacs(s)).toBe(expected);
  });

  it("ends only when every study is wholly there", () => {
    expect(endsWithoutOrder([onPacs(true, 2), onPacs(true, 1, 1)])).toBe(true);
    expect(endsWithoutOrder([onPacs(true, 2), onPacs(false, 1)])).toBe(false);
    expect(endsWithoutOrder([])).toBe(false);
  });
});
