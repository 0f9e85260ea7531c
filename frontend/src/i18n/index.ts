/**
 * i18next with typed keys: English is the source, Italian and French have the same shape.
 * English is in the first screen's chunk (the fallback of every key); Italian and French are
 * chunks of their own, loaded before they are shown (:func:`loadLanguage`): the first screen
 * carries one catalog, not three. The tests take every catalog at once from `./resources`.
 */
import i18n from "i18next";
import { initReactI18next } from "react-i18next";
import { readLocal, writeLocal } from "../storage";
import en, { type Translation } from "./en";

export const LANGUAGES = [
  { code: "it", name: "Italiano" },
  { code: "fr", name: "Français" },
  { code: "en", name: "English" },
] as const;
export type Language = (typeof LANGUAGES)[number]["code"];

const STORAGE_KEY = "pmi.language";

export function isLanguage(value: string): value is Language {
  return LANGUAGES.some((l) => l.code === value);
}

/** The user's choice if any, else the browser's first language we have, else English. */
export function detectLanguage(
  preferred: readonly string[] = navigator.languages ?? [navigator.language],
  stored: string | null = safeStored(),
): Language {
  if (stored && isLanguage(stored)) return stored;
  for (const tag of preferred) {
    const base = tag.toLowerCase().split("-")[0] ?? "";
    if (isLanguage(base)) return base;
  }
  return "en";
}

function safeStored(): string | null {
  return readLocal(STORAGE_KEY);
}

export function rememberLanguage(language: Language): void {
  writeLocal(STORAGE_KEY, language);
}

/** The catalogs loaded when their language is first shown. */
const LATER: Record<Exclude<Language, "en">, () => Promise<{ default: Translation }>> = {
  it: () => import("./it"),
  fr: () => import("./fr"),
};

/** Load ``language``'s catalog into i18next, once (English is always there). */
export async function loadLanguage(language: Language): Promise<void> {
  if (language === "en" || i18n.hasResourceBundle(language, "translation")) return;
  const catalog = (await LATER[language]()).default;
  i18n.addResourceBundle(language, "translation", catalog);
}

/** Show the app in ``language``, its catalog loaded first (never a screen of keys). */
export async function switchLanguage(language: Language): Promise<void> {
  await loadLanguage(language);
  await i18n.changeLanguage(language);
}

/** The page's language and its tab title, in the language shown (a screen reader and the tab
 * list then speak the clerk's language, not index.html's English). */
function showLanguage(language: string): void {
  document.documentElement.lang = language;
  document.title = i18n.getFixedT(language)("app.title");
}

/** i18next ready in ``language`` (its catalog loaded): the app is rendered after it. */
export async function setupI18n(language: Language = detectLanguage()) {
  await i18n.use(initReactI18next).init({
    resources: { en: { translation: en } },
    lng: "en",
    fallbackLng: "en",
    interpolation: { escapeValue: false },
    returnNull: false,
  });
  try {
    await loadLanguage(language);
  } catch {
    language = "en"; // its chunk could not be had (a deploy meanwhile, the network): English
  }
  await i18n.changeLanguage(language);
  showLanguage(language);
  i18n.on("languageChanged", showLanguage);
  return i18n;
}

export default i18n;
