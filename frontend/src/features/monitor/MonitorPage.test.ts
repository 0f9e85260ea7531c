/**
 * The import's progress, rendered to HTML (no browser needed): a study whose objects cannot
 * reach the PACS names them, as the analysis foresaw them and then as the store found them, in
 * the same words as the confirmation.
 */
import i18n from "i18next";
import { createElement } from "react";
import { initReactI18next } from "react-i18next";
import { beforeAll, describe, expect, it } from "vitest";
import type { DocumentOut, ImportOut, StudyOut } from "../../api/client";
import { documentOf, importOf, orderOf, PATIENT_KEY, patientLaunchOf, renderPage, study } from "../../api/testing";
import { resources } from "../../i18n/resources";
import { inLanguage } from "../../i18n/testing";
import { MonitorPage } from "./MonitorPage";

beforeAll(async () => {
  await i18n.use(initReactI18next).init({ resources, lng: "en", fallbackLng: "en", interpolation: { escapeValue: false } });
});

const AT = "2024-06-01T10:05:00Z";
type Stage = StudyOut["stages"][number];
const stage = (name: Stage["name"], status: Stage["status"], extra: Partial<Stage> = {}): Stage => ({
  name,
  status,
  attempts_left: 3,
  code: null,
  message: "",
  params: {},
  updated_at: AT,
  ...extra,
});

/** A study of 40 images, not compared, verified and stored. */
const stored = (extra: Partial<StudyOut> = {}): StudyOut =>
  study({ institution: "", instance_count: 40, identity: null, outcome: "done", stages: [stage("verify", "done"), stage("store", "done")], ...extra });

/** The import, completed. */
const imp = (studies: StudyOut[], extra: Partial<ImportOut> = {}): ImportOut =>
  importOf(studies, {
    media: { dicom: 40, dicomdir: true, files: 41, non_dicom: 1, skipped: [], unreadable: 0 },
    status: "completed",
    updated_at: AT,
    ...extra,
  });

const page = (i: ImportOut): string => renderPage("/imports/imp1", "/imports/:id", createElement(MonitorPage), i);

/** What the store found: the objects that did not reach the PACS. */
const UNSENT: StudyOut["unsent"] = [
  { path: "DICOM/ST000001/SE000002/IM0003", reason: "cannot_convert", syntax: "JPEG-LS" },
  { path: "DICOM/ST000001/SE000009/SR0001", reason: "sop_class_not_accepted", syntax: "1.2.840.10008.1.2.1" },
];

describe("the progress names the files that cannot reach the PACS", () => {
  const failedStore = stage("store", "failed", { code: "cannot_convert", params: { count: 1, total: 40, syntax: "JPEG-LS" } });
  const failed = stored({ outcome: "failed", stages: [stage("verify", "done"), failedStore], unsent: UNSENT, unsent_count: 2, unsent_found: true, to_convert: 3 });

  it("after the store: the warning and the list under the study's result", () => {
    const out = page(imp([failed], { status: "failed" }));
    expect(out).toContain("2 images cannot be sent to the PACS");
    expect(out).toContain(
      "The other images of this study were sent, but the study is not complete on the PACS. The files of these images are kept on the server for the PACS administrator.",
    );
    expect(out).toMatch(/<ul class="unsent-list" aria-labelledby="[^"]+"><li data-reason="cannot_convert">/);
    expect(out).toContain("DICOM/ST000001/SE000002/IM0003: cannot be converted to a format the PACS accepts (JPEG-LS)");
    expect(out).toContain("DICOM/ST000001/SE000009/SR0001: the PACS does not accept this kind of object");
    // under the study's result, before its stages
    expect(out.indexOf("Final result")).toBeLessThan(out.indexOf("cannot be sent to the PACS"));
    expect(out.indexOf("cannot be sent to the PACS")).toBeLessThan(out.indexOf('<table class="table stages">'));
    // the stage's own message says the rest
    expect(out).toContain("1 image cannot be converted to a format the PACS accepts (JPEG-LS)");
    // the conversion is the confirmation's business: the store's note says what was converted
    expect(out).not.toContain("will be converted");
  });

  it("before the store has sent: said in the future, as the confirmation foresaw it", () => {
    const pending = { ...failed, unsent_found: false, outcome: "processing" as const, stages: [stage("verify", "done"), stage("store", "running")] };
    const out = page(imp([pending], { status: "processing" }));
    expect(out).toContain("The other images of this study will be sent, but the study will not be complete on the PACS.");
    expect(out).not.toContain("were sent");
    // every one of them: none could be sent
    const all = page(imp([{ ...failed, unsent_count: 40 }], { status: "failed" }));
    expect(all).toContain("No image of this study could be sent: the study is not on the PACS.");
    // the PACS held the 38 others already: none of those it was to send could be sent
    const rest = page(imp([{ ...failed, instances_on_pacs: 38 }], { status: "failed" }));
    expect(rest).toContain("No image of this study could be sent");
  });

  it("a store that failed before it sent anything: still what was foreseen, in the future", () => {
    const before = { ...failed, unsent_found: false };
    const out = page(imp([before], { status: "failed" }));
    expect(out).toContain("The other images of this study will be sent, but");
    expect(out).not.toContain("were sent");
  });

  it("more than the list names: the rest counted", () => {
    const out = page(imp([{ ...failed, unsent_count: 75 }], { status: "failed" }));
    expect(out).toContain("75 images cannot be sent to the PACS");
    expect(out).toContain("and 73 more files");
  });

  it("a study every object of which reached the PACS: nothing said", () => {
    const out = page(imp([stored({ to_convert: 2 })]));
    expect(out).not.toContain("cannot be sent");
    expect(out).not.toContain("unsent-list");
    expect(out).not.toContain("notice-warning");
  });

  it("in Italian", async () => {
    await i18n.changeLanguage("it");
    try {
      const out = page(imp([{ ...failed, unsent_count: 51 }], { status: "failed" }));
      expect(out).toContain("51 immagini non possono essere inviate al PACS");
      expect(out).toContain("DICOM/ST000001/SE000002/IM0003: non può essere convertito in un formato accettato dal PACS (JPEG-LS)");
      expect(out).toContain("DICOM/ST000001/SE000009/SR0001: il PACS non accetta questo tipo di oggetto");
      expect(out).toContain("e altri 49 file");
    } finally {
      await i18n.changeLanguage("en");
    }
  });
});

describe("an import for a patient without an order", () => {
  it("says so in place of the order's line, and goes back to the patient; never the key of the patient", () => {
    const out = page(imp([stored()], { order: patientLaunchOf() }));
    expect(out).toContain('<span class="hint"> · For the patient, without an order: no accession number</span>');
    expect(out).toContain(">Back to the patient</a>");
    expect(out).not.toContain(PATIENT_KEY);
    expect(out).not.toContain("Order ");
  });

  it("an order's import names its order, as before", () => {
    const out = page(imp([stored()], { order: orderOf() }));
    expect(out).toContain('<span class="hint"> · Order ACC-1</span>');
    expect(out).toContain(">Back to the order</a>");
  });

  it.each([
    ["it", "Per il paziente, senza ordine: nessun Accession Number", "Torna al paziente"],
    ["fr", "Pour le patient, sans examen : pas de numéro d&#x27;accession", "Retour au patient"],
  ])("in %s", async (lng, line, back) => {
    const out = await inLanguage(lng, () => page(imp([stored()], { order: patientLaunchOf() })));
    expect(out).toContain(line);
    expect(out).toContain(back);
    expect(out).not.toContain(PATIENT_KEY);
  });
});

describe("the medium's documents", () => {
  const doc = (extra: Partial<DocumentOut>): DocumentOut => documentOf({ id: "d1", study_instance_uid: "1.2.3", outcome: "stored", ...extra });
  const documents = [
    doc({}),
    doc({ id: "d2", path: "FOTO/LESIONE.JPG", kind: "jpeg", pages: null, width: 1600, height: 1200, size: 1_250_000, outcome: "waiting" }),
    doc({ id: "d3", path: "SCAN/PAGINA2.PNG", kind: "png", pages: null, width: 800, height: 1100, study_instance_uid: null, outcome: "not_selected" }),
  ];

  /** The list item of the document at `path`. */
  const item = (out: string, path: string) => new RegExp(`<li data-document="${path}"[^>]*>(?:(?!</li>).)*</li>`, "s").exec(out)?.[0] ?? "";

  it("under each study, those filed with it and their outcome; the others apart, not filed", () => {
    const out = page(imp([stored()], { status: "processing", documents }));
    expect(out).toContain("Documents filed with this study");
    expect(item(out, "REPORT/REFERTO.PDF")).toContain('data-outcome="stored"');
    expect(item(out, "REPORT/REFERTO.PDF")).toContain("(PDF document · 3 pages · 48.2 kB)");
    expect(item(out, "REPORT/REFERTO.PDF")).toContain("Stored on the PACS");
    expect(item(out, "FOTO/LESIONE.JPG")).toContain("To be sent");
    expect(item(out, "SCAN/PAGINA2.PNG")).toContain("Not filed");
    expect(out).toContain("Documents of the medium not filed");
    // in the study's card, before the apart list
    expect(out.indexOf("Documents filed with this study")).toBeLessThan(out.indexOf("Documents of the medium not filed"));
    expect(out.indexOf("FOTO/LESIONE.JPG")).toBeLessThan(out.indexOf("Documents of the medium not filed"));
    expect(out.indexOf("SCAN/PAGINA2.PNG")).toBeGreaterThan(out.indexOf("Documents of the medium not filed"));
  });

  it("a study that failed, or an import undone: said of each document", () => {
    const failed = page(imp([stored({ outcome: "failed" })], { status: "failed", documents: [doc({ outcome: "failed" })] }));
    expect(item(failed, "REPORT/REFERTO.PDF")).toContain("Not stored: the study failed");
    const undone = page(imp([stored()], { documents: [doc({ outcome: "taken_back" })] }));
    expect(item(undone, "REPORT/REFERTO.PDF")).toContain("Taken back from the PACS (undo)");
  });

  it("no document: nothing said", () => {
    const out = page(imp([stored()]));
    expect(out).not.toContain("Documents filed");
    expect(out).not.toContain("not filed");
  });

  it.each([
    ["it", "Documenti archiviati con questo studio", "Archiviato su PACS", "Da inviare", "Documenti del supporto non archiviati", "Non archiviato", "Documento PDF · 3 pagine"],
    ["fr", "Documents classés avec cette étude", "Archivé sur le PACS", "À envoyer", "Documents du support non classés", "Non classé", "Document PDF · 3 pages"],
  ])("in %s", async (lng, title, stored_, waiting, notFiled, notSelected, facts) => {
    const out = await inLanguage(lng, () => page(imp([stored()], { status: "processing", documents })));
    for (const text of [title, stored_, waiting, notFiled, notSelected, facts]) expect(out).toContain(text);
    expect(out).not.toContain("Stored on the PACS");
  });
});
