import { describe, expect, it } from "vitest";
import en from "../i18n/en";
import fr from "../i18n/fr";
import itLang from "../i18n/it";
import {
  emphasis,
  failingFields,
  fieldTone,
  initialSelection,
  isAccepted,
  overallOf,
  reasonKey,
} from "./identity";

function study(uid: string, overall: string | null, extra: { on_pacs?: boolean; pacs_conflict?: boolean } = {}) {
  return {
    study_instance_uid: uid,
    identity: overall === null ? null : { overall, fields: {}, reasons: [] },
    on_pacs: extra.on_pacs ?? false,
    pacs_conflict: extra.pacs_conflict ?? false,
  };
}

describe("emphasis rule (seed: Confirm small and red, Cancel large and blue)", () => {
  it.each([
    ["match", false],
    ["format_different", false],
    ["mismatch", true],
    [null, true],
    ["something-new", true],
  ])("a selected study whose identity is %s → danger %s", (overall, danger) => {
    const e = emphasis([study("1.1", overall)], ["1.1"], false);
    expect(e.danger).toBe(danger);
    expect(e.acknowledgeRequired).toBe(danger);
    expect(e.canConfirm).toBe(!danger);
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

  it("ignores studies that cannot be imported even if listed", () => {
    const studies = [study("1.1", "mismatch", { on_pacs: true }), study("1.2", "mismatch", { pacs_conflict: true })];
    expect(emphasis(studies, ["1.1", "1.2"], true)).toEqual({
      danger: false,
      acknowledgeRequired: false,
      canConfirm: false,
    });
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
