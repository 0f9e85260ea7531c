import { useTranslation } from "react-i18next";
import { Notice } from "../../components/Notice";

/** Worklist mode (a launch without an order) is issue 7: say so, and nothing else. */
export function WorklistPlaceholder() {
  const { t } = useTranslation();
  return (
    <section className="card">
      <h1>{t("worklist.title")}</h1>
      <Notice tone="info">
        <p>{t("worklist.body")}</p>
      </Notice>
    </section>
  );
}
