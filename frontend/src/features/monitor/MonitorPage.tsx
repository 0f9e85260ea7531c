/**
 * Monitoring: one table per confirmed study with its stages and its own result, live over the
 * event stream (polling when it is unavailable); the studies not sent (already on the PACS, not
 * selected); the support id; "you can close this window"; a notice when nothing has changed for a
 * while; the outcome (an import may fail with some studies filed, or complete with nothing to
 * send); Retry after a failure; each study's state in words (imported, kept in the temporary
 * zone, already on the PACS, not selected, in progress at a step, or the step that failed and
 * why); the files of a study that cannot reach the PACS, by name; the import's own log one click
 * away; for a referent, the undo of an import filed under the wrong patient or order, and where
 * an undo stands (`UndoImport`).
 */
import { useQueryClient } from "@tanstack/react-query";
import { useId } from "react";
import { useTranslation } from "react-i18next";
import { Link, useNavigate, useParams } from "react-router";
import { ApiError, type DocumentOut, type ImportOut, type StudyOut } from "../../api/client";
import { changeSignature, useImportEvents, useStale, type LiveState } from "../../api/live";
import { keys, renewedCode, useConfig, useImport, useRetry } from "../../api/queries";
import { ApiErrorNotice } from "../../components/ApiErrorNotice";
import { Badge, type BadgeTone } from "../../components/Badge";
import { Notice } from "../../components/Notice";
import { StatusBadge } from "../../components/StatusBadge";
import { UnsentNotice } from "../../components/StudyReach";
import { UndoneBadge } from "../../components/Undo";
import { useLocale } from "../../components/useLocale";
import { documentsByStudy } from "../../domain/documents";
import { isPatientLaunch } from "../../domain/patientLaunch";
import { STAGE_ICONS, importOutcome, isTerminal, stageTone, studyOutcome, studyState, type StudyState } from "../../domain/status";
import { formatDateTime } from "../../i18n/format";
import { messageText } from "../../i18n/message";
import { RequireSession } from "../RequireSession";
import { documentFacts } from "../confirm/Documents";
import { ImportLogButton } from "./ImportLogDialog";
import { UndoPanel } from "./UndoImport";

interface StudyContext {
  zone: string;
  status: string;
  error: ImportOut["error"];
}

/**
 * A study's own result, in the seed's words ("Risultato finale"): a badge with words and an icon,
 * then the step it is at, or the step it failed at and why.
 */
function StudyResult({ state }: { state: StudyState }) {
  const { t } = useTranslation();
  const stage = state.stage ? t(`stage.${state.stage}`) : "";
  const reason = state.reason ? messageText(t, state.reason) : "";
  return (
    <>
      <Badge tone={state.tone} icon={state.icon}>
        {t(`monitor.studyOutcome.${state.label}`)}
      </Badge>
      {state.outcome === "processing" && state.stage ? <span className="hint"> {t("monitor.atStage", { stage })}</span> : null}
      {state.outcome === "failed" && (stage || reason) ? (
        <span className="study-failure">
          {" "}
          {stage ? (reason ? t("monitor.failedAtBecause", { stage, reason }) : t("monitor.failedAt", { stage })) : reason}
        </span>
      ) : null}
    </>
  );
}

const DOCUMENT_OUTCOME: Record<DocumentOut["outcome"], { tone: BadgeTone; icon: string }> = {
  not_selected: { tone: "muted", icon: "–" },
  waiting: { tone: "info", icon: "…" },
  stored: { tone: "success", icon: "✓" },
  failed: { tone: "danger", icon: "✕" },
  taken_back: { tone: "warning", icon: "↩" },
};

/** Documents of the medium, each with its kind and size and what became of it. */
function DocumentList({ documents, title, level = 3 }: { documents: DocumentOut[]; title: string; level?: 2 | 3 }) {
  const { t } = useTranslation();
  const locale = useLocale();
  const headingId = useId();
  if (documents.length === 0) return null;
  const Heading = level === 2 ? "h2" : "h3";
  return (
    <div className="monitor-documents" role="group" aria-labelledby={headingId}>
      <Heading id={headingId} className={level === 2 ? "card-title" : "monitor-documents-title"}>
        {title}
      </Heading>
      <ul className="plain-list">
        {documents.map((d) => {
          const look = DOCUMENT_OUTCOME[d.outcome];
          return (
            <li key={d.id} data-document={d.path} data-outcome={d.outcome}>
              <span className="mono">{d.path}</span> <span className="hint">({documentFacts(t, locale, d)})</span>{" "}
              <Badge tone={look.tone} icon={look.icon}>
                {t(`monitor.documents.outcome.${d.outcome}`)}
              </Badge>
            </li>
          );
        })}
      </ul>
    </div>
  );
}

function StudyStages({ study, live, context, documents }: { study: StudyOut; live: LiveState; context: StudyContext; documents: DocumentOut[] }) {
  const { t } = useTranslation();
  const locale = useLocale();
  const progress = live.progress[study.study_instance_uid];
  const state = studyState(study, context);
  const title = `${study.description || t("confirm.study.noDescription")}${study.accession_number ? ` (${study.accession_number})` : ""}`;
  // what this installation does not do (no callback, no merge…) is folded away, not a row each
  const shown = study.stages.filter((stage) => stage.status !== "skipped");
  const folded = study.stages.filter((stage) => stage.status === "skipped");
  return (
    <section className="card" aria-label={title} data-outcome={studyOutcome(study)}>
      <h2 className="card-title">{title}</h2>
      <p className="hint mono uid">{study.study_instance_uid}</p>
      <p className="study-outcome" data-state={state.label}>
        {t("monitor.result")}{t("common.colon")}<StudyResult state={state} />
      </p>
      {/* the objects that cannot reach the PACS, by name: foreseen, then as the store found them */}
      <UnsentNotice study={study} sent={study.unsent_found} />
      <div className="table-scroll">
        <table className="table stages">
          <caption className="visually-hidden">{title}</caption>
          <thead>
            <tr>
              <th scope="col">{t("monitor.stageColumn")}</th>
              <th scope="col">{t("monitor.stateColumn")}</th>
              <th scope="col">{t("monitor.attemptsColumn")}</th>
              <th scope="col">{t("monitor.messageColumn")}</th>
              <th scope="col">{t("monitor.updatedColumn")}</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((stage) => {
              const state = stage.status;
              const tone = stageTone(state);
              return (
                <tr key={stage.name} data-stage={stage.name} data-state={state}>
                  <th scope="row">{t(`stage.${stage.name}`)}</th>
                  <td>
                    <Badge tone={tone} icon={STAGE_ICONS[state]}>
                      {t(`stageStatus.${state}`)}
                    </Badge>
                  </td>
                  <td>{stage.status === "running" || stage.status === "failed" || stage.status === "pending" ? stage.attempts_left : t("common.none")}</td>
                  <td>
                    {stage.code ? messageText(t, stage) : null}
                    {stage.name === "store" && stage.status === "running" && progress ? (
                      <div className="hint">{t("monitor.sent", { sent: progress.sent, total: progress.total })}</div>
                    ) : null}
                  </td>
                  <td>{formatDateTime(stage.updated_at, locale)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <DocumentList documents={documents} title={t("monitor.documents.title")} />
      {folded.length ? (
        <details className="hint folded-stages">
          <summary>{t("monitor.notNeeded", { count: folded.length })}</summary>
          <p>{folded.map((stage) => t(`stage.${stage.name}`)).join(", ")}</p>
        </details>
      ) : null}
    </section>
  );
}

function Monitor({ imp, live, canUndo }: { imp: ImportOut; live: LiveState; canUndo: boolean }) {
  const { t } = useTranslation();
  const config = useConfig();
  const navigate = useNavigate();
  const client = useQueryClient();
  const retry = useRetry(imp.id);
  const retryRenewed = renewedCode(retry.error);
  const terminal = isTerminal(imp.status);
  const stale = useStale(
    changeSignature(imp, live),
    config.monitorStaleAfterSeconds * 1000,
    !terminal && imp.status !== "awaiting_confirmation",
  );
  const confirmed = imp.studies.filter((s) => s.stages.length > 0);
  const others = imp.studies.filter((s) => s.stages.length === 0);
  const { outcome, done, total } = importOutcome(imp);
  const context: StudyContext = { zone: imp.zone, status: imp.status, error: imp.error };
  return (
    <>
      <div className="monitor-head">
        <h1>{t("monitor.title")}</h1>
        <StatusBadge status={imp.status} badge={imp.badge} large />
        {imp.undo?.state === "done" ? <UndoneBadge /> : null}
      </div>
      <section className="card monitor-summary" aria-live="polite">
        <p className="outcome" data-status={imp.status}>
          <strong>
            {imp.zone === "temporary" && outcome === "completed"
              ? t("zone.completed")
              : t(`monitor.outcome.${outcome}`, { done, total })}
          </strong>
          {imp.error ? <span className="import-error"> {messageText(t, imp.error)}</span> : null}
        </p>
        <p>
          {t("monitor.supportId")}{t("common.colon")}<strong className="mono support-id">{imp.support_id}</strong>
          {/* for a patient without an order, no accession number: never the server's key of the patient */}
          {imp.order ? (
            <span className="hint">
              {" · "}
              {isPatientLaunch(imp.order) ? t("patientLaunch.monitor") : t("monitor.order", { accession: imp.order.accession_number })}
            </span>
          ) : null}
        </p>
        <p>
          <ImportLogButton id={imp.id} />
        </p>
        <UndoPanel imp={imp} canUndo={canUndo} />
        {!terminal ? (
          <p className="hint">
            <span aria-hidden="true">{live.connected ? "● " : "○ "}</span>
            {live.connected ? t("monitor.live") : t("monitor.polling")}
          </p>
        ) : null}
        {imp.status === "failed" && !imp.retryable ? (
          <p className="hint">{t("monitor.loadAgain")}</p>
        ) : null}
        {imp.retryable ? (
          <div className="actions">
            <button
              type="button"
              className="button button-primary"
              disabled={retry.isPending}
              onClick={() =>
                retry.mutate(undefined, {
                  onError: (err) => {
                    const code = renewedCode(err);
                    // nothing sent yet: the import is back to its confirmation, with the new comparison
                    const now = client.getQueryData<ImportOut>(keys.import(imp.id));
                    if (code && now?.status === "awaiting_confirmation") {
                      navigate(`/imports/${imp.id}/confirm`, { replace: true, state: { renewed: code } });
                    }
                  },
                })
              }
            >
              {retry.isPending ? t("monitor.retrying") : t("monitor.retry")}
            </button>
            <span className="hint">{t("monitor.retryHelp")}</span>
          </div>
        ) : null}
        {retryRenewed ? (
          <Notice tone="danger" role="alert" title={t(`confirm.renewed.${retryRenewed}.title`)}>
            <p>{t("monitor.retryRenewed")}</p>
          </Notice>
        ) : (
          <ApiErrorNotice error={retry.error} />
        )}
      </section>
      {imp.status === "awaiting_confirmation" ? (
        <Notice tone="warning" title={t("monitor.awaiting")}>
          <Link to={`/imports/${imp.id}/confirm`}>{t("monitor.review")}</Link>
        </Notice>
      ) : null}
      {stale ? (
        <Notice tone="warning" role="alert">
          {t("monitor.stale", {
            minutes: Math.max(1, Math.round(config.monitorStaleAfterSeconds / 60)),
            supportId: imp.support_id,
          })}
        </Notice>
      ) : null}
      {!terminal && imp.status !== "awaiting_confirmation" ? (
        <Notice tone="info">
          <p>{t("monitor.closeNotice")}</p>
        </Notice>
      ) : null}
      {confirmed.map((study) => (
        <StudyStages
          key={study.study_instance_uid}
          study={study}
          live={live}
          context={context}
          documents={documentsByStudy(imp.documents, study.study_instance_uid)}
        />
      ))}
      {others.length && imp.status !== "awaiting_confirmation" ? (
        <section className="card" aria-labelledby="not-sent-title">
          <h2 id="not-sent-title" className="card-title">
            {t("monitor.notSelected")}
          </h2>
          <ul className="plain-list not-sent">
            {others.map((s) => (
              <li key={s.study_instance_uid} data-outcome={studyOutcome(s)} data-state={studyState(s, context).label}>
                <strong>{s.description || t("confirm.study.noDescription")}</strong>
                {s.accession_number ? ` (${s.accession_number})` : ""} <StudyResult state={studyState(s, context)} />
                {studyOutcome(s) === "already_present" ? <div className="hint">{t("monitor.alreadyPresentHint")}</div> : null}
                {s.pacs_conflict ? <div className="hint">{t("confirm.study.conflict")}</div> : null}
                <div className="hint mono uid">{s.study_instance_uid}</div>
              </li>
            ))}
          </ul>
        </section>
      ) : null}
      {imp.status !== "awaiting_confirmation" && documentsByStudy(imp.documents, null).length ? (
        <section className="card">
          <DocumentList documents={documentsByStudy(imp.documents, null)} title={t("monitor.documents.notFiled")} level={2} />
        </section>
      ) : null}
      <p className="nav-links">
        {/* an import without an order (the temporary zone, worklist mode) has no order to go back to */}
        <Link to="/import">
          {imp.order ? (isPatientLaunch(imp.order) ? t("patientLaunch.back") : t("monitor.backToOrder")) : t("monitor.anotherMedium")}
        </Link>
        {imp.zone === "temporary" ? <Link to="/temporary">{t("nav.temporary")}</Link> : null}
      </p>
    </>
  );
}

function MonitorLoader({ id, canUndo }: { id: string; canUndo: boolean }) {
  const { t } = useTranslation();
  const config = useConfig();
  const query = useImport(id, { undoPollMs: config.pollIntervalSeconds * 1000 });
  const live = useImportEvents(id, query.data?.status, config.pollIntervalSeconds * 1000);
  if (query.isPending) return <p role="status">{t("app.loading")}</p>;
  if (query.isError || !query.data) {
    return (
      <Notice tone="danger" role="alert">
        {query.error instanceof ApiError && query.error.status === 404 ? messageText(t, { code: "import_not_found" }) : t("errors.network")}
      </Notice>
    );
  }
  return <Monitor imp={query.data} live={live} canUndo={canUndo} />;
}

export function MonitorPage() {
  const { id = "" } = useParams();
  return (
    <RequireSession>
      {(session) => <MonitorLoader id={id} canUndo={session.user.roles.includes("temporary_zone")} />}
    </RequireSession>
  );
}
