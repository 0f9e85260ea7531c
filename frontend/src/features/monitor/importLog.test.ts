import type { TFunction } from "i18next";
import { beforeAll, describe, expect, it } from "vitest";
import { translators } from "../../i18n/testing";
import { logDetailsText } from "./importLog";

let en: TFunction;
let itT: TFunction;
let fr: TFunction;

beforeAll(async () => {
  ({ en, it: itT, fr } = await translators());
});

describe("an import's log line in the clerk's words", () => {
  it("a step's event: the study's number, the step's status and its note, not the step again", () => {
    const entry = { action: "stage.verify", details: { stage: "verify", status: "done", study: 1, code: "instances_verified", params: { count: 4 } } } as const;
    expect(logDetailsText(en, entry, "en-GB")).toEqual(["Study 1", "Done", "4 images verified."]);
    expect(logDetailsText(itT, entry, "it-IT")).toEqual(["Studio 1", itT("stageStatus.done"), "Studio verificato: 4 immagini."]);
    expect(logDetailsText(fr, entry, "fr-FR")).toEqual(["Étude 1", fr("stageStatus.done"), "4 images vérifiées."]);
  });

  it("a failed import: the step it failed at and the error, worded from the code", () => {
    const entry = { action: "import.failed", details: { stage: "store", code: "store_failed", params: { count: 2 }, count: 1 } } as const;
    expect(logDetailsText(en, entry, "en-GB")).toEqual(["Step: Send to PACS", "The PACS refused 2 images.", "1 study"]);
    expect(logDetailsText(fr, entry, "fr-FR")[0]).toBe(`Étape : ${fr("stage.store")}`);
  });

  it("the medium's analysis: counts with their plurals, a size in the locale's units", () => {
    const entry = { action: "import.analysed", details: { files: 12, dicom: 10, skipped: 2, series: 1, instances: 1, total: 1 } } as const;
    expect(logDetailsText(en, entry, "en-GB")).toEqual([
      "12 files on the medium",
      "10 DICOM files",
      "2 files not taken",
      "1 series",
      "1 image",
      "1 study in all",
    ]);
    expect(logDetailsText(itT, { action: "upload.completed", details: { size: 2_500_000 } }, "it-IT")).toEqual([
      new Intl.NumberFormat("it-IT", { style: "unit", unit: "megabyte", unitDisplay: "short", maximumFractionDigits: 1 }).format(2.5),
    ]);
  });

  it("nothing skipped and nothing already present say nothing", () => {
    expect(logDetailsText(en, { action: "import.analysed", details: { skipped: 0, already_present: 0, documents: 0 } }, "en-GB")).toEqual([]);
  });

  it("the disc's reports and photos: found, then filed with a study", () => {
    expect(logDetailsText(en, { action: "import.analysed", details: { documents: 2 } }, "en-GB")).toEqual(["2 reports or photos (PDF, JPEG, PNG)"]);
    expect(logDetailsText(fr, { action: "import.confirmed", details: { documents: 1 } }, "fr-FR")).toEqual(["1 compte rendu ou photo (PDF, JPEG, PNG)"]);
    expect(logDetailsText(itT, { action: "import.confirmed", details: { documents: 2 } }, "it-IT")).toEqual(["2 referti o foto (PDF, JPEG, PNG)"]);
  });

  it("a confirmation: how many studies, the comparison, the acknowledgement, the destination", () => {
    const entry = {
      action: "import.confirmed",
      details: { count: 2, identity: "mismatch", acknowledged: true, zone: "pacs", mode: "order", already_present: 1 },
    } as const;
    expect(logDetailsText(itT, entry, "it-IT")).toEqual([
      "Con l'ordine del RIS",
      "Destinazione: il PACS",
      "PAZIENTE NON CORRISPONDE",
      "La differenza del paziente è stata confermata dall'utente",
      "2 studi",
      "1 studio già presente su PACS",
    ]);
  });

  it("an import for a patient without an order says so", () => {
    const created = { action: "import.created", details: { zone: "pacs", mode: "patient" } } as const;
    expect(logDetailsText(en, created, "en-GB")[0]).toBe("For the patient from the RIS, without an order");
    expect(logDetailsText(fr, created, "fr-FR")[0]).toBe("Pour le patient du RIS, sans examen");
  });

  it("a retry counts the steps run again; a cancellation says what the import was", () => {
    expect(logDetailsText(en, { action: "import.retried", details: { count: 3 } }, "en-GB")).toEqual(["3 steps run again"]);
    expect(logDetailsText(fr, { action: "import.cancelled", details: { from_status: "awaiting_confirmation", count: 1 } }, "fr-FR")).toEqual([
      `État précédent : ${fr("status.awaiting_confirmation")}`,
      "1 étude",
    ]);
    expect(logDetailsText(en, { action: "import.expired", details: { after_s: 7200 } }, "en-GB")).toEqual(["No progress for 120 min"]);
  });

  it("an undo: its reason, the images, the PACS's failure worded from its code", () => {
    const asked = { action: "import.undo_requested", details: { undo_reason: "wrong_worklist_entry", instances: 40 } } as const;
    expect(logDetailsText(en, asked, "en-GB")).toEqual(["Right patient, wrong order (worklist entry)", "40 images"]);
    expect(logDetailsText(itT, asked, "it-IT")).toEqual(["Paziente giusto, ordine sbagliato (voce di worklist errata)", "40 immagini"]);
    const failed = {
      action: "import.undo_failed",
      details: { undo_reason: "patient_safety", code: "pacs_unreachable", params: { count: 39 }, instances: 1 },
    } as const;
    expect(logDetailsText(fr, failed, "fr-FR")).toEqual(["Le PACS est injoignable.", "Mauvais patient (rejet pour la sécurité du patient)", "1 image"]);
  });

  it("an event without details says nothing more", () => {
    expect(logDetailsText(en, { action: "session.opened", details: {} }, "en-GB")).toEqual([]);
  });
});
