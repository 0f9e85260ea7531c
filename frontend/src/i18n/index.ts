/** i18next with typed keys: English is the source, Italian and French have the same shape. */
import i18n from "i18next";
import { initReactI18next } from "react-i18next";
import { readLocal, writeLocal } from "../storage";
import en from "./en";
import fr from "./fr";
import it from "./it";

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

export const resources = {
  en: { translation: en },
  it: { translation: it },
  fr: { translation: fr },
} as const;

/** The page's language and its tab title, in the language shown (a screen reader and the tab
 * list then speak the clerk's language, not index.html's English). */
function showLanguage(language: string): void {
  document.documentElement.lang = language;
  document.title = i18n.getFixedT(language)("app.title");
}

export function setupI18n(language: Language = detectLanguage()) {
  void i18n.use(initReactI18next).init({
    resources,
    lng: language,
    fallbackLng: "en",
    interpolation: { escapeValue: false },
    returnNull: false,
  });
  showLanguage(language);
  i18n.on("languageChanged", showLanguage);
  return i18n;
}

export default i18n;
