import { describe, expect, it } from "vitest";
import en from "./en";
import fr from "./fr";
import itLang from "./it";

function leaves(value: unknown, prefix = ""): Record<string, string> {
  if (typeof value === "string") return { [prefix]: value };
  return Object.entries(value as Record<string, unknown>).reduce<Record<string, string>>(
    (out, [k, v]) => ({ ...out, ...leaves(v, prefix ? `${prefix}.${k}` : k) }),
    {},
  );
}

const placeholders = (s: string) => [...s.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]).sort();

describe("translations", () => {
  const source = leaves(en);
  it.each([
    ["it", itLang],
    ["fr", fr],
  ])("%s has every English key, no empty string, the same placeholders", (_, lang) => {
    const target = leaves(lang);
    expect(Object.keys(target).sort()).toEqual(Object.keys(source).sort());
    for (const [key, text] of Object.entries(target)) {
      expect(text.trim(), key).not.toBe("");
      expect(placeholders(text), key).toEqual(placeholders(source[key]!));
    }
  });

  it("uses the seed's words in Italian", () => {
    expect(itLang.confirm.study.onPacs).toBe("Già presente su PACS, rimosso da importazione");
    expect(itLang.confirm.overall.mismatch).toBe("PAZIENTE NON CORRISPONDE");
    expect(itLang.status.queued).toBe("In attesa processo");
  });
});

/**
 * One term per concept in each language, the seeds' own where they have one (the glossary at the
 * end of docs/user-guide.it.md and docs/user-guide.fr.md). English only picks out which strings
 * speak of an order or a study; every assertion is on the Italian and French values.
 */
describe("terminology", () => {
  const source = leaves(en);
  const italian = leaves(itLang);
  const french = leaves(fr);
  // the words only: placeholders such as {{accession}} are not terms
  const values = (catalog: Record<string, string>) =>
    Object.entries(catalog).map(([k, v]) => [k, v.replace(/\{\{\w+\}\}/g, "")] as const);
  // keys whose English speaks of the RIS order or of a DICOM study ("Names in another order" is neither)
  const aboutOrder = Object.keys(source).filter(
    (k) => /\border(s|'s)?\b/i.test(source[k]!) && !k.endsWith("NAME_ORDER_SWAPPED"),
  );
  const aboutStudy = Object.keys(source).filter((k) => /\bstud(y|ies)\b/i.test(source[k]!));

  it.each([
    // concept, language, catalog, forbidden variants
    // case-sensitive: only "Accession Number", as the seed writes it
    ["accession number", "it", italian, /[Aa]ccettazione|[Nn]umero di accesso|[Nn]\. ?accesso|[Nn]umero accesso|[Aa]cc[Nn]um|[Aa]ccession (?!Number)|accession Number/],
    ["accession number", "fr", french, /n° d'accession|numéro accession|accnum|\baccession\b(?<!d'accession)/i],
    ["study UID", "it", italian, /study ?uid|\buid\b(?! dello studio)/i],
    ["study UID", "fr", french, /study ?uid|\buid\b(?! de l'étude)/i],
    ["DICOM study", "it", italian, /\besam[ei]\b/i],
    ["order", "fr", french, /\bdemandes?\b(?! créée)/i],
    ["import", "fr", french, /\bimportations?\b/i],
    ["temporary zone", "it", italian, /\bzona\b(?! temporanea)|\btampone\b/i],
    ["temporary zone", "fr", french, /\bzone\b(?! temporaire)|\bzone tampon\b/i],
    ["medium", "it", italian, /\bmedia\b|\bdispositiv/i],
    ["medium", "fr", french, /\bmédias?\b/i],
    ["hospital ID", "fr", french, /\bID hôpital|identifiant hospitalier/i],
    ["a file's or folder's name", "it", italian, /\bnom[ei] (del |della |dei |delle )?(file|cartell)/i],
    ["a file's or folder's name", "fr", french, /\bnoms? (du |de |des )?(fichier|dossier)/i],
  ])("%s in %s: no variant", (_, __, catalog, forbidden) => {
    for (const [key, text] of values(catalog)) expect(text, key).not.toMatch(forbidden);
  });

  it("Italian: the seed's Accession Number and UID dello studio, never AccNum", () => {
    expect(italian["terms.accession"]).toBe("Accession Number");
    expect(italian["terms.studyUid"]).toBe("UID dello studio");
  });

  it("Italian: “Nome” is the given name only; the whole name is “Cognome e nome”", () => {
    expect(itLang.worklist.field.given).toBe("Nome");
    expect(itLang.worklist.field.name).toBe("Cognome");
    expect(itLang.terms.name).toBe("Cognome e nome");
    for (const [key, text] of values(italian)) {
      // the whole name is never "Nome", "nome completo", "nome paziente" or "i nomi"
      expect(text, key).not.toMatch(/\bnome (completo|(del )?pazient)|\bnomi\b(?! e)/i);
    }
  });

  it("French: “Nom” is the family name only; the whole name is “Nom et prénom”", () => {
    expect(fr.worklist.field.name).toBe("Nom");
    expect(fr.worklist.field.given).toBe("Prénom");
    expect(fr.terms.name).toBe("Nom et prénom");
    for (const [key, text] of values(french)) expect(text, key).not.toMatch(/\bnom (complet|du patient)\b/i);
  });

  it("Italian says “already present” the seed's way", () => {
    expect(itLang.confirm.study.onPacs).toBe("Già presente su PACS, rimosso da importazione");
    for (const [key, text] of values(italian)) {
      if (!/già/i.test(text) || !/PACS/.test(text)) continue;
      // "già presente su PACS" (the confirmation screen), or the seed's error "Studio già presente sul PACS"
      expect(text, key).toMatch(/già present[ei] su PACS|Studio già presente sul PACS/i);
      expect(text, key).not.toMatch(/già (sul|nel|al) PACS|PACS aveva già/i);
    }
    expect(itLang.monitor.studyOutcome.already_present).toMatch(/^Già presente su PACS/);
  });

  it("French: “étude” is the DICOM study, “examen” the order", () => {
    for (const key of aboutOrder) expect(french[key], key).not.toMatch(/\bdemandes?\b|\bcommandes?\b/i);
    // where only a study is spoken of, never "examen"; where only the order, never "étude"
    for (const key of aboutStudy.filter((k) => !aboutOrder.includes(k)))
      expect(french[key], key).not.toMatch(/\bexamens?\b/i);
    for (const key of aboutOrder.filter((k) => !aboutStudy.includes(k))) expect(french[key], key).not.toMatch(/étude/i);
    for (const key of ["confirm.title", "confirm.studies", "summary.studies", "temporary.studies", "stage.verify", "confirm.study.select"])
      expect(french[key], key).toMatch(/étude/i);
    for (const key of ["patient.title", "confirm.orderPatient", "worklist.title", "worklist.choose", "monitor.order", "temporary.promote"])
      expect(french[key], key).toMatch(/examen/i);
    expect(fr.confirm.study.onPacs).toBe("Déjà présente sur le PACS, retirée de l'import");
  });

  it("one word each for the hospital's patient ID and for any patient ID", () => {
    for (const key of ["terms.hospitalId"]) {
      expect(italian[key], key).toBe("ID Ospedale");
      expect(french[key], key).toBe("IPP");
    }
    expect(itLang.confirm.otherId).toBe("ID paziente");
    expect(fr.confirm.otherId).toBe("ID patient");
  });

  it("one key per shared term: a screen says terms.*, never a copy of its own", () => {
    const terms = Object.entries(source).filter(([key]) => key.startsWith("terms."));
    expect(terms.length).toBeGreaterThan(0);
    for (const [key, text] of Object.entries(source)) {
      // a plural form (confirm.group.title_one) belongs to its counted text
      if (key.startsWith("terms.") || /_(one|other)$/.test(key)) continue;
      for (const [term, word] of terms) expect(text.toLowerCase(), `${key} copies ${term}`).not.toBe(word.toLowerCase());
    }
  });

  it("one label for the patient found on the medium: the Italian seed's “Paziente trovato (DICOM)”", () => {
    for (const key of ["terms.mediumPatient", "confirm.group.title_one"]) {
      expect(italian[key], key).toBe("Paziente trovato (DICOM)");
      expect(french[key], key).toBe("Patient trouvé sur le support (DICOM)");
    }
  });

  it("the seed's buttons: one term for confirming and one for cancelling an import", () => {
    expect([itLang.confirm.confirm, itLang.confirm.cancel, itLang.send.cancel]).toEqual([
      "Conferma importazione",
      "Annulla importazione",
      "Annulla importazione",
    ]);
    expect([fr.confirm.confirm, fr.confirm.cancel, fr.send.cancel]).toEqual([
      "Confirmer l'import",
      "Annuler l'import",
      "Annuler l'import",
    ]);
  });
});
