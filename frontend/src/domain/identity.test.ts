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
  failingFields,
  fieldTone,
  initialSelection,
  isAccepted,
  isAlreadyPresent,
  needsAcknowledgement,
  overallOf,
  reasonKey,
  samePatient,
  seenPatient,
  serverComparison,
  studiesToConfirm,
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
    });
  });

  it("leaves seen_patients out when nothing was compared (the server then compares first)", () => {
    expect(confirmBody([{ ...study("1", "match"), compared_with: null }], ["1"], true)).toEqual({
      studies: ["1"],
      acknowledge_identity: true,
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

  it("lists the seed's failing-field lines for similar, mismatch and missing fields", () => {
    expect(
      failingFields({
        overall: "mismatch",
        fields: { name: "similar", birth_date: "match", sex: "missing" },
        reasons: [],
      }),
    ).toEqual(["name", "sex"]);
    expect(
      failingFields({
        overall: "format_different",
        fields: { name: "format_different", birth_date: "match", sex: "match" },
        reasons: [],
      }),
    ).toEqual([]);
  });

  it("never shows a similar field as fine", () => {
    expect(fieldTone("similar")).toBe("warning");
    expect(fieldTone("mismatch")).toBe("danger");
    expect(fieldTone("missing")).toBe("danger");
    expect(fieldTone("match")).toBe("success");
  });

  // docs/identity.md §4: every reason code with its words in the three languages
  const DOCUMENTED: Record<string, [string, string, string]> = {
    NAME_MISSING: ["Patient name missing", "Nome paziente mancante", "Nom du patient absent"],
    NAME_ORDER_SWAPPED: ["Names in another order", "Ordine dei nomi invertito", "Ordre des noms inversé"],
    NAME_TYPO: ["Family name possibly misspelt", "Cognome forse scritto male", "Nom peut-être mal orthographié"],
    GIVEN_NAME_TYPO: ["Given name possibly misspelt", "Nome forse scritto male", "Prénom peut-être mal orthographié"],
    BIRTH_DATE_DIFFERS: [
      "Birth date does not match",
      "Data di nascita non corrisponde",
      "La date de naissance ne correspond pas",
    ],
    BIRTH_DATE_DAY_MONTH_SWAPPED: ["Day and month swapped?", "Giorno e mese invertiti?", "Jour et mois inversés ?"],
    SEX_DIFFERS: ["Sex does not match", "Sesso non corrisponde", "Le sexe ne correspond pas"],
  };

  it.each(Object.entries(DOCUMENTED))("%s has the documented words", (code, [e, i, f]) => {
    expect(reasonKey(code, en.identity.reason)).toBe(`identity.reason.${code}`);
    expect(en.identity.reason[code as keyof typeof en.identity.reason]).toBe(e);
    expect(itLang.identity.reason[code as keyof typeof en.identity.reason]).toBe(i);
    expect(fr.identity.reason[code as keyof typeof en.identity.reason]).toBe(f);
  });

  it("has words for all 27 documented reason codes", () => {
    expect(Object.keys(en.identity.reason)).toHaveLength(27);
  });

  it("falls back for a code it does not know", () => {
    expect(reasonKey("NEW_CODE", en.identity.reason)).toBeNull();
    expect(reasonKey("toString", en.identity.reason)).toBeNull();
  });
});
