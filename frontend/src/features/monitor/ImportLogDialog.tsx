/**
 * The import's own log one click away (the Italian procedure's "Apri" window): a button that
 * opens a modal dialog listing its events, oldest first, in the clerk's language. The native
 * `<dialog>` keeps the focus inside while open and closes with Escape; the focus returns to the
 * button. The log is read when the dialog opens, and read again when the import changes while
 * it is open (its key is under the import's).
 */
import { useEffect, useId, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { useImportLog } from "../../api/queries";
import { errorText } from "../../components/ApiErrorNotice";
import { Badge } from "../../components/Badge";
import { Notice } from "../../components/Notice";
import { useLocale } from "../../components/useLocale";
import { formatDateTime } from "../../i18n/format";
import { auditActionText, auditOutcomeText } from "../../i18n/message";
import { logDetailsText } from "./importLog";

function LogTable({ id, caption }: { id: string; caption: string }) {
  const { t } = useTranslation();
  const locale = useLocale();
  const log = useImportLog(id);
  if (log.isPending) return <p role="status">{t("importLog.loading")}</p>;
  if (log.isError) {
    return (
      <Notice tone="danger" role="alert">
        {errorText(t, log.error)}
      </Notice>
    );
  }
  if (log.data.length === 0) return <p>{t("importLog.empty")}</p>;
  return (
    <div className="table-scroll">
      <table className="data-table import-log-table">
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">{t("importLog.col.at")}</th>
            <th scope="col">{t("importLog.col.action")}</th>
            <th scope="col">{t("importLog.col.who")}</th>
            <th scope="col">{t("importLog.col.details")}</th>
          </tr>
        </thead>
        <tbody>
          {log.data.map((entry, index) => (
            <tr key={index} data-action={entry.action}>
              <td className="nowrap">{formatDateTime(entry.at, locale)}</td>
              <th scope="row">
                {auditActionText(t, entry.action)}
                {entry.outcome === "failure" ? (
                  <>
                    {" "}
                    <Badge tone="danger" icon="✕">
                      {auditOutcomeText(t, entry.outcome)}
                    </Badge>
                  </>
                ) : null}
              </th>
              {/* the application's own steps: named in the user's language, as the audit trail does */}
              <td>{entry.system ? t("app.title") : entry.user}</td>
              <td>{logDetailsText(t, entry, locale).join(" · ")}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function ImportLogButton({ id }: { id: string }) {
  const { t } = useTranslation();
  const dialog = useRef<HTMLDialogElement>(null);
  const opener = useRef<HTMLButtonElement>(null);
  const titleId = useId();
  const [open, setOpen] = useState(false);
  useEffect(() => {
    if (open && !dialog.current?.open) dialog.current?.showModal();
  }, [open]);
  return (
    <>
      <button ref={opener} type="button" className="button button-secondary" aria-haspopup="dialog" onClick={() => setOpen(true)}>
        <span aria-hidden="true">☰ </span>
        {t("importLog.show")}
      </button>
      <dialog
        ref={dialog}
        className="import-log"
        aria-labelledby={titleId}
        onClose={() => {
          setOpen(false);
          opener.current?.focus();
        }}
      >
        <div className="import-log-head">
          <h2 id={titleId}>{t("importLog.title")}</h2>
          <button type="button" className="button button-secondary" autoFocus onClick={() => dialog.current?.close()}>
            {t("common.close")}
          </button>
        </div>
        <p className="hint">{t("importLog.intro")}</p>
        {open ? <LogTable id={id} caption={t("importLog.title")} /> : null}
      </dialog>
    </>
  );
}
