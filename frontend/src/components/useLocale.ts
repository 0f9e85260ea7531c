import { useTranslation } from "react-i18next";
import { localeFor } from "../i18n/format";

/** The locale for dates and numbers, following the chosen language. */
export function useLocale(): string {
  const { i18n } = useTranslation();
  return localeFor(i18n.resolvedLanguage ?? i18n.language ?? "en");
}
