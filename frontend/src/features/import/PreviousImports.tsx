import { useTranslation } from "react-i18next";
import type { ImportSummary } from "../../api/client";
import { useImports } from "../../api/queries";
import { StatusBadge } from "../../components/StatusBadge";
import { useLocale } from "../../components/useLocale";
import { canOpen } from "../../domain/status";
import { formatDateTime } from "../../i18n/format";

/** "Previous imports (with log)": every earlier attempt for this order, with an Open link. */
export function PreviousImports({ exclude }: { exclude?: string | undefined }) {
  const { t } = useTranslation();
  const locale = useLocale();
  const imports = useImports();
  const items: ImportSummary[] = (imports.data ?? []).filter((i) => i.id !== exclude);
  return (
    <section className="card" aria-labelledby="previous-title">
      <h2 id="previous-title" className="card-title">
        {t("previous.title")}
      </h2>
      {imports.isPending ? (
        <p role="status">{t("app.loading")}</p>
      ) : items.length === 0 ? (
        <p className="hint">{t("previous.empty")}</p>
      ) : (
        <div className="table-scroll">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">{t("previous.requested")}</th>
                <th scope="col">{t("previous.studyUid")}</th>
                <th scope="col">{t("previous.description")}</th>
                <th scope="col">{t("previous.status")}</th>
                <th scope="col">{t("previous.link")}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((item) => {
                const date = formatDateTime(item.created_at, locale);
                return (
                  <tr key={item.id}>
                    <td>
                      {date}
                      <div className="hint">{t("previous.by", { name: item.created_by_name || item.created_by })}</div>
                    </td>
                    <td className="mono uid">
                      {item.study_instance_uids.length ? item.study_instance_uids.join("\n") : t("common.none")}
                    </td>
                    <td>{item.descriptions.filter(Boolean).join(", ") || t("common.none")}</td>
                    <td>
                      <StatusBadge status={item.status} badge={item.badge} />
                      {item.error ? <div className="hint">{item.error.message}</div> : null}
                    </td>
                    <td>
                      {canOpen(item.status) ? (
                        <a
                          className="button button-small button-secondary"
                          href={`#/imports/${encodeURIComponent(item.id)}`}
                          target="_blank"
                          rel="opener"
                          aria-label={t("previous.openLabel", { date })}
                        >
                          {t("previous.open")} <span aria-hidden="true">↗</span>
                        </a>
                      ) : (
                        t("common.none")
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
