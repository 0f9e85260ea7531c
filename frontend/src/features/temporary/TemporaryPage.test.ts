/**
 * The temporary zone, rendered to HTML (no browser needed): an import a referent undid says which
 * order it was taken back from and why, above its studies, as it waits for the right order.
 */
import i18n from "i18next";
import { createElement } from "react";
import { initReactI18next } from "react-i18next";
import { beforeAll, describe, expect, it } from "vitest";
import type { TemporaryItem } from "../../api/client";
import { keys } from "../../api/queries";
import { renderScreen, temporaryItem, undoOf } from "../../api/testing";
import { resources } from "../../i18n/resources";
import { TemporaryPage } from "./TemporaryPage";

beforeAll(async () => {
  await i18n.use(initReactI18next).init({ resources, lng: "en", fallbackLng: "en", interpolation: { escapeValue: false } });
});

/** The zone's page for a referent, its list already read. */
const zone = (items: TemporaryItem[]) =>
  renderScreen("/temporary", "/temporary", createElement(TemporaryPage), { roles: ["temporary_zone"], data: [[keys.temporary, items]] });

describe("an undone import in the temporary zone", () => {
  it("says the order it was undone from, and why, under its status", () => {
    const out = zone([temporaryItem({ undo: undoOf() })]);
    expect(out).toContain(
      '<p class="undone-from"><span class="badge badge-warning"><span class="badge-icon" aria-hidden="true">↩</span>Undone from order A1: Right patient, wrong order (worklist entry)</span></p>',
    );
    // still promoted or purged as any other
    expect(out).toContain("Promote to an order");
    expect(out).toContain("Purge");
  });

  it("without an order (worklist mode): the reason alone", () => {
    const out = zone([temporaryItem({ undo: undoOf({ accession_number: null, reason: "patient_safety" }) })]);
    expect(out).toContain("Undone: Wrong patient (patient safety)");
  });

  it("an import kept here from the start says nothing of it", () => {
    const out = zone([temporaryItem()]);
    expect(out).not.toContain("undone-from");
    expect(out).not.toContain("Undone");
  });

  it("in French", async () => {
    await i18n.changeLanguage("fr");
    try {
      const out = zone([temporaryItem({ undo: undoOf() })]);
      expect(out).toContain("Retiré de l&#x27;examen A1 : Bon patient, mauvais examen (entrée de worklist incorrecte)");
    } finally {
      await i18n.changeLanguage("en");
    }
  });
});
