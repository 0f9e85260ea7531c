/** Every catalog at once, for the tests (the app loads Italian and French when shown:
 * `loadLanguage` in ./index). */
import en from "./en";
import fr from "./fr";
import it from "./it";

export const resources = {
  en: { translation: en },
  it: { translation: it },
  fr: { translation: fr },
} as const;
