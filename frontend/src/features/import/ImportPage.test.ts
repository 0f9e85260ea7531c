/**
 * The import screen of a session the RIS launched for a patient without an order, rendered to
 * HTML (no browser needed): the patient panel says what the import is (filed under the patient,
 * no accession number), the previous imports are the patient's, and the server's key of the
 * patient (in the order's accession number's place) is shown nowhere. An order's screen is as
 * before.
 */
import i18n from "i18next";
import { createElement } from "react";
import { initReactI18next } from "react-i18next";
import { beforeAll, describe, expect, it } from "vitest";
import type { ImportSummary, OrderOut } from "../../api/client";
import { keys } from "../../api/queries";
import { PATIENT_KEY, orderOf, patientLaunchOf, renderScreen, summaryOf } from "../../api/testing";
import { resources } from "../../i18n/resources";
import { inLanguage } from "../../i18n/testing";
import { ImportPage } from "./ImportPage";

beforeAll(async () => {
  await i18n.use(initReactI18next).init({ resources, lng: "en", fallbackLng: "en", interpolation: { escapeValue: false } });
});

/** The import screen of a clinician's session launched with `order`, its previous imports `items`. */
const screen = (order: OrderOut, items: ImportSummary[] = []) =>
  renderScreen("/import", "/import", createElement(ImportPage), { order, data: [[[...keys.imports, "tok"], items]] });

describe("the import screen of a patient launched for without an order", () => {
  it("the patient panel's wording, the patient's previous imports, no key of the patient", () => {
    const out = screen(patientLaunchOf(), [summaryOf({ accession_number: null })]);
    expect(out).toContain("Patient (RIS) – import without an order");
    expect(out).toContain("Import for the patient, without an order: the images are filed under this patient with no accession number.");
    expect(out).toContain("Previous imports (with log)");
    expect(out).toContain("TC TORACE");
    expect(out).not.toContain(PATIENT_KEY);
    expect(out).not.toContain("~");
  });

  it("none yet: no earlier import for this patient (not 'this order')", () => {
    const out = screen(patientLaunchOf());
    expect(out).toContain("No earlier import for this patient.");
    expect(out).not.toContain("for this order");
    expect(screen(orderOf())).toContain("No earlier import for this order.");
  });

  it.each([
    ["it", "Nessuna importazione precedente per questo paziente.", "Paziente (RIS) – importazione senza ordine"],
    ["fr", "Aucun import précédent pour ce patient.", "Patient (RIS) – import sans examen"],
  ])("in %s", async (lng, none, title) => {
    const out = await inLanguage(lng, () => screen(patientLaunchOf()));
    expect(out).toContain(none);
    expect(out).toContain(title);
    expect(out).not.toContain(PATIENT_KEY);
  });
});
