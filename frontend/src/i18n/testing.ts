/** For tests: a t() per language over the app's catalogs, without the app's i18n instance. */
import i18n, { createInstance, type TFunction } from "i18next";
import { resources } from "./resources";

export async function translators(): Promise<{ en: TFunction; it: TFunction; fr: TFunction }> {
  const i18n = createInstance();
  await i18n.init({ resources, lng: "en", fallbackLng: "en", interpolation: { escapeValue: false } });
  return { en: i18n.getFixedT("en"), it: i18n.getFixedT("it"), fr: i18n.getFixedT("fr") };
}

/** ``run`` with the app's i18next instance in ``lng``, English again after. */
export async function inLanguage<T>(lng: string, run: () => T): Promise<T> {
  await i18n.changeLanguage(lng);
  try {
    return run();
  } finally {
    await i18n.changeLanguage("en");
  }
}
