/**
 * The medium's documents on the confirmation, rendered to HTML (no browser needed): each with its
 * preview, name, kind and size, unticked at first; the study a ticked one goes with, named or
 * chosen in a list; a ticked one whose study is no longer sent says so and Confirm waits; in
 * English, Italian and French.
 */
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import i18n from "i18next";
import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { initReactI18next } from "react-i18next";
import { beforeAll, describe, expect, it } from "vitest";
import type { DocumentOut, ImportOut, StudyOut } from "../../api/client";
import { keys } from "../../api/queries";
import { documentOf, importOf, orderOf, renderScreen, study } from "../../api/testing";
import type { DocumentChoices } from "../../domain/documents";
import { resources } from "../../i18n/resources";
import { inLanguage } from "../../i18n/testing";
import { ConfirmPage } from "./ConfirmPage";
import { DocumentsSection, StrandedNotice } from "./Documents";

beforeAll(async () => {
  await i18n.use(initReactI18next).init({ resources, lng: "en", fallbackLng: "en", interpolation: { escapeValue: false } });
});

/** The outside report (3 pages) and a photo of the disc, not filed yet. */
const REPORT: DocumentOut = documentOf();
const PHOTO: DocumentOut = { ...REPORT, id: "d-jpg", path: "FOTO/LESIONE.JPG", kind: "jpeg", size: 1_250_000, pages: null, width: 1600, height: 1200 };

const CT = study({ study_instance_uid: "1.1", description: "TC TORACE", date: "20240601", modalities: ["CT"] });
const MR = study({ study_instance_uid: "1.2", description: "RM ENCEFALO", date: "20240315", modalities: ["MR"] });

const noop = () => undefined;

function section(targets: StudyOut[], choices: DocumentChoices, documents: DocumentOut[] = [REPORT, PHOTO]): string {
  const client = new QueryClient();
  client.setQueryData(keys.documentPreview("imp1", REPORT.id), "blob:report");
  return renderToStaticMarkup(
    createElement(QueryClientProvider, { client }, createElement(DocumentsSection, { importId: "imp1", documents, targets, choices, onChange: noop })),
  );
}

const confirmPage = (imp: ImportOut) =>
  renderScreen("/imports/imp1/confirm", "/imports/:id/confirm", createElement(ConfirmPage), {
    order: orderOf(),
    data: [
      [keys.import(imp.id), imp],
      [keys.documentPreview("imp1", REPORT.id), "blob:report"],
    ],
  });

/** The checkbox of the document named `path`, as rendered. */
const checkbox = (out: string, path: string) => new RegExp(`<input type="checkbox"[^>]*>(?:(?!</label>).)*${path.replace(/[/.]/g, "\\$&")}`, "s").exec(out)?.[0] ?? "";

describe("the documents on the confirmation", () => {
  it("none on the medium: no section", () => {
    expect(confirmPage(importOf([CT], { order: orderOf() }))).not.toContain("Reports and photos on the medium");
  });

  it("each with its preview, name, kind, pages or pixels and size, unticked at first", () => {
    const out = confirmPage(importOf([CT], { order: orderOf(), documents: [REPORT, PHOTO] }));
    expect(out).toContain("Reports and photos on the medium");
    expect(out).toContain('aria-label="Enlarge the preview of REPORT/REFERTO.PDF"');
    expect(out).toContain('src="blob:report"');
    expect(out).toContain("PDF document · 3 pages · 48.2 kB");
    expect(out).toContain("JPEG image · 1600 × 1200 pixels · 1.3 MB");
    // the photo's preview is not there yet: a placeholder, no button
    expect(out).not.toContain("Enlarge the preview of FOTO/LESIONE.JPG");
    expect(checkbox(out, "REPORT/REFERTO.PDF")).not.toContain("checked");
    expect(checkbox(out, "FOTO/LESIONE.JPG")).not.toContain("checked");
    expect(out).toContain('<span class="visually-hidden">File on the PACS: </span>');
    // nothing ticked, so no study named and no list
    expect(out).not.toContain("<select");
  });

  it("the temporary zone lists them too", () => {
    const out = confirmPage(importOf([CT], { zone: "temporary", documents: [REPORT] }));
    expect(out).toContain("Reports and photos on the medium");
  });

  it("one study to go with: it is named as the clerk knows it", () => {
    const out = section([CT], { [REPORT.id]: { on: true, study: "1.1" } });
    expect(checkbox(out, "REPORT/REFERTO.PDF")).toContain('checked=""');
    expect(out).toContain("With the study: <strong>01/06/2024, TC TORACE (CT)</strong>");
    expect(out).not.toContain("<select");
  });

  it("more than one: a list of them, the document's study chosen", () => {
    const out = section([CT, MR], { [REPORT.id]: { on: true, study: "1.2" } });
    expect(out).toMatch(/<label for="[^"]+">With the study: <\/label><select[^>]*>/);
    expect(out).toContain('<option value="1.1">01/06/2024, TC TORACE (CT)</option>');
    expect(out).toContain('<option value="1.2" selected="">15/03/2024, RM ENCEFALO (MR)</option>');
  });

  it("a study on the PACS already says only the documents are sent", () => {
    const out = section([CT, study({ study_instance_uid: "1.3", on_pacs: true, description: "RX TORACE", modalities: ["CR"], date: "20230101" })], {
      [REPORT.id]: { on: true, study: "1.3" },
    });
    expect(out).toContain("01/01/2023, RX TORACE (CR) – already on the PACS: only the documents are sent");
  });

  it("its study no longer selected: it stays ticked, says so, and asks for a study", () => {
    const out = section([CT], { [REPORT.id]: { on: true, study: "1.2" } });
    expect(checkbox(out, "REPORT/REFERTO.PDF")).toContain('checked=""');
    expect(out).toContain("The study this document was to be filed with is no longer selected: choose another study or untick the document.");
    expect(out).toContain('<option value="" disabled="" selected="">Choose a study…</option>');
    expect(out).toContain('<option value="1.1">01/06/2024, TC TORACE (CT)</option>');
    expect(renderToStaticMarkup(createElement(StrandedNotice, { count: 1 }))).toContain(
      "1 ticked document goes with a study that is no longer selected: choose another study for it or untick it.",
    );
    expect(renderToStaticMarkup(createElement(StrandedNotice, { count: 0 }))).toBe("");
  });

  it("a kind the PACS takes no object of: said, and its tick disabled (the others as usual)", async () => {
    const pdfRefused = { ...REPORT, pacs_accepts: false };
    const out = section([CT], {}, [pdfRefused, { ...PHOTO, pacs_accepts: true }]);
    expect(out).toContain("This PACS does not accept documents of this kind (PDF): it cannot be filed here.");
    expect(checkbox(out, "REPORT/REFERTO.PDF")).toContain('disabled=""');
    expect(checkbox(out, "FOTO/LESIONE.JPG")).not.toContain("disabled");
    const fr = await inLanguage("fr", () => section([CT], {}, [pdfRefused]));
    expect(fr).toContain("Ce PACS n&#x27;accepte pas ce type de document (PDF) : il ne peut pas être classé ici.");
    const it = await inLanguage("it", () => section([CT], {}, [pdfRefused]));
    expect(it).toContain("Questo PACS non accetta documenti di questo tipo (PDF): non può essere archiviato qui.");
  });

  it("no study to go with: the ticks wait for one", () => {
    const out = section([], {});
    expect(out).toContain("Select a study to file documents with it.");
    expect(checkbox(out, "REPORT/REFERTO.PDF")).toContain('disabled=""');
  });

  it.each([
    ["it", "Referti e foto sul supporto", "Archivia su PACS", "Documento PDF · 3 pagine", "Immagine JPEG · 1600 × 1200 pixel", "Con lo studio", "Lo studio con cui archiviare questo documento non è più selezionato", "Ingrandisci l'anteprima di REPORT/REFERTO.PDF"],
    ["fr", "Comptes rendus et photos du support", "Classer sur le PACS", "Document PDF · 3 pages", "Image JPEG · 1600 × 1200 pixels", "Avec l'étude", "L'étude avec laquelle classer ce document n'est plus sélectionnée", "Agrandir l'aperçu de REPORT/REFERTO.PDF"],
  ])("in %s", async (lng, title, file, pdf, jpeg, withStudy, stranded, open) => {
    const out = await inLanguage(lng, () => section([CT, MR], { [REPORT.id]: { on: true, study: "1.1" }, [PHOTO.id]: { on: true, study: "9.9" } }));
    for (const text of [title, file, pdf, jpeg, withStudy, stranded, open]) expect(out).toContain(text.replace(/'/g, "&#x27;"));
    expect(out).not.toContain("Reports and photos");
    const bar = await inLanguage(lng, () => renderToStaticMarkup(createElement(StrandedNotice, { count: 2 })));
    expect(bar).toContain(lng === "it" ? "2 documenti spuntati" : "2 documents cochés");
  });
});
