/**
 * The order's patient panel, rendered to HTML (no browser needed): for an order, the patient with
 * the order's accession number and procedure; for a patient the RIS launched an import for
 * without an order, the patient alone with what that means (filed with no accession number, the
 * medium's kept among the original data), never the server's key of the patient. In the three
 * languages, in the clerks' words.
 */
import i18n from "i18next";
import { createElement } from "react";
import { initReactI18next } from "react-i18next";
import { beforeAll, describe, expect, it } from "vitest";
import type { OrderOut } from "../api/client";
import { PATIENT_KEY, orderOf, patientLaunchOf, renderScreen } from "../api/testing";
import { resources } from "../i18n/resources";
import { inLanguage } from "../i18n/testing";
import { PatientPanel } from "./PatientPanel";

beforeAll(async () => {
  await i18n.use(initReactI18next).init({ resources, lng: "en", fallbackLng: "en", interpolation: { escapeValue: false } });
});

const panel = (order: OrderOut) => renderScreen("/", "/", createElement(PatientPanel, { order }));
/** `text` as React writes it in HTML (an apostrophe escaped). */
const html = (text: string) => text.replace(/'/g, "&#x27;");

describe("the patient panel", () => {
  it("for an order: the order's patient, its accession number and procedure", () => {
    const out = panel(orderOf());
    expect(out).toContain('data-kind="order"');
    expect(out).toContain('<h2 id="patient-title" class="card-title">Patient of the order (RIS)</h2>');
    expect(out).toContain('<dd class="mono">ACC-1</dd>');
    expect(out).toContain("Procedure");
    expect(out).not.toContain("without an order");
  });

  it("for a patient without an order: the patient alone, filed with no accession number; never the key of the patient", () => {
    const out = panel(patientLaunchOf());
    expect(out).toContain('data-kind="patient"');
    expect(out).toContain('<h2 id="patient-title" class="card-title">Patient (RIS) – import without an order</h2>');
    expect(out).toContain('<p class="patient-name">ROSSI MARIO</p>');
    expect(out).toContain("HOSP-0042 (HOSPITAL)");
    expect(out).toContain("<dt>Accession number</dt><dd>None: import without an order</dd>");
    expect(out).toContain(
      "<strong>Import for the patient, without an order: the images are filed under this patient with no accession number.</strong>",
    );
    expect(out).toContain(html("The accession number written on the medium is not used: it is kept only among the images' original data."));
    expect(out).not.toContain(PATIENT_KEY);
    expect(out).not.toContain("~");
    expect(out).not.toContain("Procedure");
    expect(out).not.toContain("Patient of the order");
  });

  it.each([
    [
      "it",
      "Paziente (RIS) – importazione senza ordine",
      "Importazione per il paziente, senza ordine: le immagini vengono archiviate sotto questo paziente senza Accession Number.",
      "Nessuno: importazione senza ordine",
      "Paziente dell'ordine (RIS)",
    ],
    [
      "fr",
      "Patient (RIS) – import sans examen",
      "Import pour le patient, sans examen : les images sont classées sous ce patient sans numéro d'accession.",
      "Aucun : import sans examen",
      "Patient de l'examen (RIS)",
    ],
  ])("in %s, in the clerks' words", async (lng, title, statement, none, orderTitle) => {
    const out = await inLanguage(lng, () => panel(patientLaunchOf()));
    expect(out).toContain(html(title));
    expect(out).toContain(html(statement));
    expect(out).toContain(html(none));
    expect(out).not.toContain(PATIENT_KEY);
    // an order's panel is as before
    expect(await inLanguage(lng, () => panel(orderOf()))).toContain(html(orderTitle));
  });
});
