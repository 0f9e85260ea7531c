import { useEffect } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate } from "react-router";
import { uploadApiError } from "../../api/client";
import { useCancel, useConfig, useImport } from "../../api/queries";
import { useImportEvents } from "../../api/live";
import { errorText } from "../../components/ApiErrorNotice";
import { Notice } from "../../components/Notice";
import { Progress } from "../../components/Progress";
import { useLocale } from "../../components/useLocale";
import { formatBytes } from "../../i18n/format";
import { messageText } from "../../i18n/message";
import { foundList } from "../../media/kinds";
import type { MediaPlan, MediaSummary } from "../../media/types";
import { transferFailure } from "../../upload/tus";
import type { Phase } from "./useSendFlow";

/** Can this plan be sent? Not when nothing DICOM is in it (or a ZIP cannot be opened). */
export function sendable(plan: MediaPlan): boolean {
  if (plan.archive && !plan.archive.readable) return false;
  return plan.summary.files > 0 && plan.summary.dicom > 0;
}

type Failed = Extract<Phase, { kind: "error" }>;

/**
 * What a failed step says, always from the catalog: the browser's own error text (English and
 * technical, "NotReadableError: The requested file could not be read…") is never shown. A
 * transfer with no answer from the server is told apart: the file on the medium can no longer be
 * read (put the medium back), or the network (check it, try again).
 */
function failureText(t: Parameters<typeof errorText>[0], { step, cause }: Pick<Failed, "step" | "cause">): string {
  if (step === "scan") return t("send.errorScan");
  if (step === "compress") return t("send.errorCompress");
  if (step === "create") return t("send.errorCreate", { message: errorText(t, cause) });
  const refusal = uploadApiError(cause);
  if (refusal) return t("send.errorTransfer", { message: errorText(t, refusal) });
  return transferFailure(cause) === "medium" ? t("send.errorMedium") : t("send.errorNetwork");
}

/** Can "Try again" help? After a transfer failure, unless the file on the medium is gone. */
function canRetry({ step, cause }: Pick<Failed, "step" | "cause">): boolean {
  return step === "transfer" && transferFailure(cause) !== "medium";
}

/** Files found, none DICOM: what they are ("3 PDF documents and 1 program…"), and what to do. */
function NothingToSend({ summary, zip }: { summary: MediaSummary; zip: boolean }) {
  const { t } = useTranslation();
  const locale = useLocale();
  const parts = foundList(summary.found ?? {})
    .flatMap(({ kind, count }) => (kind === "dicom" ? [] : [t(`summary.kind.${kind}`, { count })]));
  const kinds = new Intl.ListFormat(locale, { type: "conjunction" }).format(parts);
  return (
    <div data-testid="nothing-to-send">
      <Notice tone="warning" title={t("summary.nothingToSend")}>
        <p>{parts.length ? t("summary.foundNoDicom", { count: summary.files, kinds }) : t("summary.noDicom")}</p>
        <p>{zip ? t("summary.checkZip") : t("summary.checkFolder")}</p>
      </Notice>
    </div>
  );
}

function Summary({ plan, zipAsIs }: { plan: MediaPlan; zipAsIs: boolean }) {
  const { t } = useTranslation();
  const locale = useLocale();
  const s = plan.summary;
  const nf = new Intl.NumberFormat(locale);
  if (zipAsIs && plan.archive && !plan.archive.readable) {
    return (
      <div className="summary">
        <Notice tone="danger" title={t("summary.nothingToSend")}>
          <p>{t("summary.zipUnreadable")}</p>
        </Notice>
      </div>
    );
  }
  return (
    <div className="summary" aria-labelledby="summary-title">
      <h3 id="summary-title">{t("summary.title")}</h3>
      {zipAsIs ? <p>{t("summary.zipAsIs")}</p> : null}
      <dl className="summary-grid">
        <div>
          <dt>{t("summary.patients")}</dt>
          <dd>{nf.format(s.patients)}</dd>
        </div>
        <div>
          <dt>{t("summary.studies")}</dt>
          <dd>{nf.format(s.studies)}</dd>
        </div>
        <div>
          <dt>{t("terms.series")}</dt>
          <dd>{nf.format(s.series)}</dd>
        </div>
        <div>
          <dt>{t("summary.files")}</dt>
          <dd>{nf.format(s.files)}</dd>
        </div>
        <div>
          <dt>{t("summary.size")}</dt>
          <dd>{formatBytes(s.bytes, locale)}</dd>
        </div>
      </dl>
      {s.patientNames.length ? (
        <p>
          {t("summary.namesOnMedium")}
          {t("common.colon")}
          <strong>{s.patientNames.join(" · ")}</strong>
        </p>
      ) : null}
      <ul className="plain-list">
        {/* how the files are chosen is news only when there is something to send */}
        {zipAsIs || s.dicom === 0 ? null : (
          <li>
            {plan.source === "dicomdir"
              ? t("summary.fromDicomdir")
              : plan.dicomdir
                ? t("summary.dicomdirUnreadable")
                : t("summary.allFiles")}
          </li>
        )}
        {s.documents ? <li>{t("summary.documentsToo", { count: s.documents })}</li> : null}
        {plan.leftOut > 0 ? <li>{t("summary.leftOut", { count: plan.leftOut })}</li> : null}
        {plan.missing.length > 0 ? <li>{t("summary.missing", { count: plan.missing.length })}</li> : null}
      </ul>
      {s.files === 0 ? (
        <Notice tone="warning" title={t("summary.nothingToSend")}>
          <p>{zipAsIs ? t("summary.zipEmpty") : t("summary.empty")}</p>
        </Notice>
      ) : null}
      {s.files > 0 && s.dicom === 0 ? <NothingToSend summary={s} zip={zipAsIs} /> : null}
    </div>
  );
}

/** After the transfer: follow the analysis until the import waits for confirmation. */
function AnalysisWait({ importId, onRestart }: { importId: string; onRestart: () => void }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const config = useConfig();
  const query = useImport(importId);
  const status = query.data?.status;
  useImportEvents(importId, status, config.pollIntervalSeconds * 1000);
  const cancel = useCancel(importId);

  useEffect(() => {
    if (status === "awaiting_confirmation") navigate(`/imports/${importId}/confirm`);
    else if (status === "cancelled") navigate(`/imports/${importId}/cancelled`);
    else if (status === "processing" || status === "completed") navigate(`/imports/${importId}`);
  }, [status, importId, navigate]);

  if (status === "failed" || status === "expired") {
    const error = query.data?.error ?? { code: status === "expired" ? "expired" : "failed", params: {} };
    return (
      <div className="send-state">
        <Notice tone="danger" role="alert" title={t("send.failedTitle")}>
          <p className="import-error">{messageText(t, error)}</p>
          {query.data?.support_id ? (
            <p>
              {t("monitor.supportId")}
              {t("common.colon")}
              <strong className="mono">{query.data.support_id}</strong>
            </p>
          ) : null}
        </Notice>
        <button type="button" className="button button-secondary" onClick={onRestart}>
          {t("send.chooseOther")}
        </button>
      </div>
    );
  }
  return (
    <div className="send-state" role="status">
      <Progress
        label={status === "analyzing" ? t("send.analyzing") : status === "queued" ? t("send.queued") : t("send.waiting")}
        value={0}
        max={0}
      />
      <button
        type="button"
        className="button button-secondary"
        disabled={cancel.isPending}
        onClick={() => cancel.mutate(undefined, { onSuccess: () => navigate(`/imports/${importId}/cancelled`) })}
      >
        {t("send.cancel")}
      </button>
    </div>
  );
}

export function SendPanel({
  phase,
  onSend,
  onStop,
  onReset,
  onRetryTransfer,
  canRetryTransfer,
}: {
  phase: Phase;
  onSend: () => void;
  onStop: () => void;
  onReset: () => void;
  onRetryTransfer: () => void;
  canRetryTransfer: boolean;
}) {
  const { t } = useTranslation();
  const locale = useLocale();
  if (phase.kind === "idle") return null;
  return (
    <section
      className="card send-panel"
      aria-live="polite"
      data-phase={phase.kind}
    >
      {phase.kind === "scanning" ? (
        <Progress
          label={t("scan.reading")}
          value={phase.done}
          max={phase.total}
          detail={t("scan.readingFiles", { done: phase.done, total: phase.total })}
        />
      ) : null}
      {phase.kind === "ready" ? (
        <>
          <Summary plan={phase.plan} zipAsIs={phase.zipAsIs} />
          <div className="actions">
            <button
              type="button"
              className="button button-primary button-large"
              disabled={!sendable(phase.plan)}
              onClick={onSend}
            >
              {t("send.button")}
            </button>
            <button type="button" className="button button-secondary" onClick={onReset}>
              {t("send.chooseOther")}
            </button>
          </div>
        </>
      ) : null}
      {phase.kind === "compressing" ? (
        <>
          <Progress
            label={t("send.compressing")}
            value={phase.done}
            max={phase.total}
            detail={`${formatBytes(phase.done, locale)} / ${formatBytes(phase.total, locale)}`}
          />
          <button type="button" className="button button-secondary" onClick={onStop}>
            {t("send.stop")}
          </button>
        </>
      ) : null}
      {phase.kind === "creating" ? <Progress label={t("send.waiting")} value={0} max={0} /> : null}
      {phase.kind === "transferring" ? (
        <>
          {phase.resumed ? <Notice tone="info">{t("send.resumed")}</Notice> : null}
          <Progress
            label={t("send.transferring")}
            value={phase.sent}
            max={phase.total}
            detail={`${formatBytes(phase.sent, locale)} / ${formatBytes(phase.total, locale)}`}
          />
          <button type="button" className="button button-secondary" onClick={onStop}>
            {t("send.stop")}
          </button>
        </>
      ) : null}
      {phase.kind === "stopping" ? <Progress label={t("send.stopping")} value={0} max={0} /> : null}
      {phase.kind === "stopped" ? (
        <>
          <Notice tone="info" role="status">
            <p>{phase.cancelled ? t("send.stopped") : t("send.stoppedNotCancelled")}</p>
          </Notice>
          <button type="button" className="button button-secondary" onClick={onReset}>
            {t("send.chooseOther")}
          </button>
        </>
      ) : null}
      {phase.kind === "waiting" ? <AnalysisWait importId={phase.importId} onRestart={onReset} /> : null}
      {phase.kind === "error" ? (
        <>
          <Notice tone="danger" role="alert">
            <p>{failureText(t, phase)}</p>
          </Notice>
          <div className="actions">
            {canRetryTransfer && canRetry(phase) ? (
              <button type="button" className="button button-primary" onClick={onRetryTransfer}>
                {t("common.tryAgain")}
              </button>
            ) : null}
            <button type="button" className="button button-secondary" onClick={onReset}>
              {t("send.chooseOther")}
            </button>
          </div>
        </>
      ) : null}
    </section>
  );
}
