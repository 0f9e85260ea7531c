/**
 * The send panel's failures, rendered to HTML (no browser needed): each worded from the catalog
 * in the user's language with what to do, never with the browser's own English error text.
 */
import i18n from "i18next";
import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { initReactI18next } from "react-i18next";
import { DetailedError } from "tus-js-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import en from "../../i18n/en";
import fr from "../../i18n/fr";
import { resources } from "../../i18n/resources";
import itLang from "../../i18n/it";
import { MediumReadError } from "../../upload/tus";
import { SendPanel } from "./SendPanel";
import type { Phase } from "./useSendFlow";

beforeAll(async () => {
  await i18n.use(initReactI18next).init({ resources, lng: "en", fallbackLng: "en", interpolation: { escapeValue: false } });
});
afterAll(async () => {
  await i18n.changeLanguage("en");
});

const noop = () => undefined;

/** The panel's markup for a failure, in `language`, with "Try again" possible. */
async function failed(language: string, step: "scan" | "compress" | "create" | "transfer", cause: unknown): Promise<string> {
  await i18n.changeLanguage(language);
  const phase: Phase = { kind: "error", step, cause };
  return renderToStaticMarkup(
    createElement(SendPanel, { phase, onSend: noop, onStop: noop, onReset: noop, onRetryTransfer: noop, canRetryTransfer: true }),
  );
}

/** What the browser's File API throws when the medium is gone: English, technical. */
const BROWSER_TEXT = "The requested file could not be read, typically due to permission problems that have occurred after a reference to a file was acquired.";
const readError = () => new DOMException(BROWSER_TEXT, "NotReadableError");

/** tus-js-client's error for a chunk that got no answer (its English names the request). */
const noAnswer = (cause: unknown = null) =>
  Object.assign(new DetailedError("tus: failed to upload chunk at offset 0"), { originalResponse: null, causingError: cause });

const catalogs = { it: itLang, fr, en } as const;
/** HTML-escaped as React writes it */
const html = (text: string) => text.replace(/&/g, "&amp;").replace(/'/g, "&#x27;").replace(/"/g, "&quot;");

describe.each(["it", "fr", "en"] as const)("a failure said in %s", (language) => {
  const words = catalogs[language].send;

  it("reading the medium: the catalog's words, not the browser's", async () => {
    const out = await failed(language, "scan", readError());
    expect(out).toContain(html(words.errorScan));
    expect(out).not.toContain("NotReadableError");
    expect(out).not.toContain("could not be read, typically");
  });

  it("compressing: the catalog's words, not the browser's", async () => {
    const out = await failed(language, "compress", new DOMException("A requested file or directory could not be found", "NotFoundError"));
    expect(out).toContain(html(words.errorCompress));
    expect(out).not.toContain("NotFoundError");
    expect(out).not.toContain("could not be found");
  });

  it("a transfer whose file on the medium is gone: put it back and select it again, no Try again", async () => {
    const out = await failed(language, "transfer", new MediumReadError(noAnswer()));
    expect(out).toContain(html(words.errorMedium));
    expect(out).not.toContain(html(catalogs[language].errors.network));
    expect(out).not.toContain(`>${catalogs[language].common.tryAgain}<`);
    expect(out).toContain(`>${html(words.chooseOther)}<`);
    expect(out).not.toContain("tus:");
  });

  it("a transfer with no answer while the file is readable: the network, with Try again", async () => {
    const out = await failed(language, "transfer", noAnswer(new Event("error")));
    expect(out).toContain(html(words.errorNetwork));
    expect(out).not.toContain(html(words.errorMedium));
    expect(out).toContain(`>${catalogs[language].common.tryAgain}<`);
    expect(out).not.toContain("tus:");
  });
});
