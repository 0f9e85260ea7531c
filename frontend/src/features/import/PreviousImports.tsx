import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import type { ImportSummary } from "../../api/client";
import { useCancel, useImports } from "../../api/queries";
import { StatusBadge } from "../../components/StatusBadge";
import { UndoneBadge, undoReasonText } from "../../components/Undo";
import { useLocale } from "../../components/useLocale";
import { canOpen, isFinished } from "../../domain/status";
import { formatDateTime } from "../../i18n/format";
import { unfinished, type Unfinished } from "./unfinished";
import { messageText } from "../../i18n/message";
import { readLocal, writeLocal } from "../../storage";

const HIDE_FINISHED_KEY = "pmi.previous.hideFinished";

/** The clerk's choice to hide finished imports, kept in this browser. */
function useHideFinished(): [boolean, (hide: boolean) => void] {
  const [hide, setHide] = useState(() => readLocal(HIDE_FINISHED_KEY) === "1");
  return [
    hide,
    (value: boolean) => {
      setHide(value);
      writeLocal(HIDE_FINISHED_KEY, value ? "1" : "0");
    },
  ];
}

function useNow(everyMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}

/**
 * A request whose transfer never finished (the window closed, the browser stopped): cancelled
 * from here, or it expires by itself (the server's upload timeout) — never a row without actions.
 * One still receiving bytes (another window sends it) is left alone.
 */
function UnfinishedActions({ id, state, date }: { id: string; state: Unfinished; date: string }) {
  const { t } = useTranslation();
  const cancel = useCancel(id);
  if (state === "receiving") return <span className="hint">{t("send.rowTransferring")}</span>;
  return (
    <>
      <button
        type="button"
        className="button button-small button-secondary"
        disabled={cancel.isPending}
        aria-label={t("send.rowCancelLabel", { date })}
        onClick={() => cancel.mutate()}
      >
        {t("send.rowCancel")}
      </button>
      <div className="hint">{state === "interrupted" ? t("send.rowInterrupted") : t("send.rowUnfinished")}</div>
    </>
  );
}

/**
 * "Previous imports (with log)": every earlier attempt for this order, with an Open link (or, for
 * an unfinished transfer, Cancel); an import a referent undid says so next to its status (it is
 * no longer filed under this order). Undoing one is offered on its page (Open), where the server
 * says until when it may be. `exclude`: the import this page is sending; `resumable`: the
 * one an earlier page of this tab left unfinished (choosing the same folder resumes it);
 * `forPatient`: the session was launched for a patient without an order (the patient's earlier
 * imports of the kind are listed).
 */
export function PreviousImports({
  exclude,
  resumable,
  forPatient = false,
}: {
  exclude?: string | undefined;
  resumable?: string | undefined;
  forPatient?: boolean;
}) {
  const { t } = useTranslation();
  const locale = useLocale();
  const now = useNow(30_000);
  const imports = useImports();
  const [hideFinished, setHideFinished] = useHideFinished();
  const all: ImportSummary[] = (imports.data ?? []).filter((i) => i.id !== exclude);
  const items = hideFinished ? all.filter((i) => !isFinished(i.status)) : all;
  const hidden = all.length - items.length;
  return (
    <section className="card" aria-labelledby="previous-title">
      <h2 id="previous-title" className="card-title">
        {t("previous.title")}
      </h2>
      {all.some((i) => isFinished(i.status)) ? (
        <label className="check previous-filter">
          <input type="checkbox" checked={hideFinished} onChange={(e) => setHideFinished(e.target.checked)} />{" "}
          {t("previous.hideFinished")}
          {hideFinished && hidden > 0 ? <span className="hint"> {t("previous.hidden", { count: hidden })}</span> : null}
        </label>
      ) : null}
      {imports.isPending ? (
        <p role="status">{t("app.loading")}</p>
      ) : items.length === 0 ? (
        <p className="hint">
          {all.length
            ? t(forPatient ? "patientLaunch.allFinishedHidden" : "previous.allFinishedHidden")
            : t(forPatient ? "patientLaunch.previousEmpty" : "previous.empty")}
        </p>
      ) : (
        <div className="table-scroll">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">{t("previous.requested")}</th>
                <th scope="col">{t("terms.studyUid")}</th>
                <th scope="col">{t("terms.description")}</th>
                <th scope="col">{t("previous.status")}</th>
                <th scope="col">{t("previous.link")}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((item) => {
                const date = formatDateTime(item.created_at, locale);
                const open = unfinished(item, now, item.id === resumable);
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
                      {/* undone: no longer filed under this order (taken back from the PACS) */}
                      {item.undo?.state === "done" ? (
                        <>
                          {" "}
                          <UndoneBadge />
                          <div className="hint">{t("undo.listHint", { reason: undoReasonText(t, item.undo.reason) })}</div>
                        </>
                      ) : item.undo?.state === "requested" ? (
                        <div className="hint">{t("undo.requested")}</div>
                      ) : item.undo?.state === "failed" ? (
                        <div className="hint">{t("undo.failedTitle")}</div>
                      ) : null}
                      {item.error ? (
                        <div className="hint">{messageText(t, item.error)}</div>
                      ) : item.status === "expired" ? (
                        <div className="hint">{t("msg.expired")}</div>
                      ) : null}
                    </td>
                    <td>
                      {open ? (
                        <UnfinishedActions id={item.id} state={open} date={date} />
                      ) : canOpen(item.status) ? (
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
