/**
 * The page speaks the language shown: its `lang` and its tab title come from the catalog and
 * follow a change of language (issue 14: no English in an Italian or French screen, the tab
 * included).
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import fr from "./fr";
import itCatalog from "./it";

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("the page's language and title", () => {
  it("come from the catalog and follow a change of language", async () => {
    const page = { documentElement: { lang: "en" }, title: "PACS Media Import" };
    vi.stubGlobal("document", page);
    const { setupI18n, switchLanguage } = await import(".");
    const i18n = await setupI18n("it");
    expect(page).toEqual({ documentElement: { lang: "it" }, title: itCatalog.app.title });
    await switchLanguage("fr");
    expect(page).toEqual({ documentElement: { lang: "fr" }, title: fr.app.title });
    // each catalog loaded when shown, in full: not a key where a word should be
    expect(i18n.t("confirm.title")).toBe(fr.confirm.title);
    expect(i18n.hasResourceBundle("it", "translation")).toBe(true);
  });
});
