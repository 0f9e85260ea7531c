/**
 * The previous imports of an order, rendered to HTML (no browser needed): an import a referent
 * undid (filed under the wrong patient or order) says "Undone" next to its status, and why, so
 * that a clerk of this order understands why it is no longer filed here.
 */
import i18n from "i18next";
import { createElement } from "react";
import { initReactI18next } from "react-i18next";
import { beforeAll, describe, expect, it } from "vitest";
import type { ImportSummary } from "../../api/client";
import { keys } from "../../api/queries";
import { renderScreen, summaryOf, undoOf } from "../../api/testing";
import { resources } from "../../i18n/resources";
import { PreviousImports } from "./PreviousImports";

beforeAll(async () => {
  await i18n.use(initReactI18next).init({ resources, lng: "en", fallbackLng: "en", interpolation: { escapeValue: false } });
});

/** The list of `items`, already read for the session's token ("tok"). */
const list = (items: ImportSummary[]) =>
  renderScreen("/import", "/import", createElement(PreviousImports), { data: [[[...keys.imports, "tok"], items]] });

/** The status cell of the only row. */
const statusCell = (out: string) => /<tr>(?:<td[^>]*>(?:(?!<\/td>).)*<\/td>){3}(<td>(?:(?!<\/td>).)*<\/td>)/s.exec(out)?.[1] ?? "";

describe("an undone import in the previous imports", () => {
  it("done: Completed, then Undone, and why", () => {
    const cell = statusCell(list([summaryOf({ zone: "temporary", undo: undoOf() })]));
    expect(cell).toMatch(/Completed<\/span> <span class="badge badge-warning"><span class="badge-icon" aria-hidden="true">↩<\/span>Undone<\/span>/);
    expect(cell).toContain('<div class="hint">Taken back from the PACS: Right patient, wrong order (worklist entry)</div>');
  });

  it("under way, or failed: said in words, not Undone yet", () => {
    const requested = statusCell(list([summaryOf({ undo: undoOf({ state: "requested", done_at: null }) })]));
    expect(requested).toContain("Being taken back from the PACS…");
    expect(requested).not.toContain("Undone");
    const failed = statusCell(
      list([summaryOf({ undo: undoOf({ state: "failed", done_at: null, error: { code: "pacs_unreachable", message: "", params: { count: 3 } } }) })]),
    );
    expect(failed).toContain("The undo did not finish");
    expect(failed).not.toContain("Undone");
  });

  it("an import never undone says nothing of it", () => {
    const cell = statusCell(list([summaryOf()]));
    expect(cell).toContain("Completed");
    expect(cell).not.toContain("↩");
    expect(cell).not.toContain("hint");
  });

  it("in Italian", async () => {
    await i18n.changeLanguage("it");
    try {
      const cell = statusCell(list([summaryOf({ zone: "temporary", undo: undoOf({ reason: "patient_safety" }) })]));
      expect(cell).toContain("Ritirata dal PACS</span>");
      expect(cell).toContain("Ritirata dal PACS: Paziente sbagliato (rifiutata per motivi di sicurezza del paziente)");
    } finally {
      await i18n.changeLanguage("en");
    }
  });
});
