import { useEffect } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate } from "react-router";
import { useCancel, useConfig, useImport } from "../../api/queries";
import { useImportEvents } from "../../api/live";
import { Notice } from "../../components/Notice";
import { Progress } from "../../components/Progress";
import { useLocale } from "../../components/useLocale";
import { formatBytes } from "../../i18n/format";
import type { MediaPlan } from "../../media/types";
import type { Phase } from "./useSendFlow";

function Summary({ plan, zipAsIs }: { plan: MediaPlan; zipAsIs: boolean }) {
  const { t } = useTranslation();
  const locale = useLocale();
  const s = plan.summary;
  const nf = new Intl.NumberFormat(locale);
  if (zipAsIs) {
    return (
      <div className="summary">
        <p>{t("summary.zipAsIs")}</p>
        <dl className="facts">
          <div>
            <dt>{t("summary.size")}</dt>
            <dd>{formatBytes(s.bytes, locale)}</dd>
          </div>
        </dl>
      </div>
    );
  }
  return (
    <div className="summary" aria-labelledby="summary-title">
      <h3 id="summary-title">{t("summary.title")}</h3>
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
          <dt>{t("summary.series")}</dt>
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
          {t("summary.namesOnMedium")}: <strong>{s.patientNames.join(" · ")}</strong>
        </p>
      ) : null}
      <ul className="plain-list">
        <li>
          {plan.source === "dicomdir"
            ? t("summary.fromDicomdir")
            : plan.dicomdir
              ? t("summary.dicomdirUnreadable")
              : t("summary.allFiles")}
        </li>
        {plan.leftOut > 0 ? <li>{t("summary.leftOut", { count: plan.leftOut })}</li> : null}
        {plan.missing.length > 0 ? <li>{t("summary.missing", { count: plan.missing.length })}</li> : null}
      </ul>
      {s.files === 0 ? <Notice tone="warning">{t("summary.empty")}</Notice> : null}
      {s.files > 0 && s.dicom === 0 ? <Notice tone="warning">{t("summary.noDicom")}</Notice> : null}
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
    const code = query.data?.error?.code ?? (status === "expired" ? "expired" : "");
    const known = [
      "archive_invalid",
      "archive_unsafe",
      "archive_too_large",
      "no_dicom",
      "store_failed",
      "pacs_unreachable",
      "ris_unreachable",
      "ris_rejected",
      "expired",
    ] as const;
    const k = known.find((c) => c === code);
    return (
      <div className="send-state">
        <Notice tone="danger" role="alert" title={t("send.failedTitle")}>
          <p>{k ? t(`importError.${k}`) : (query.data?.error?.message ?? "")}</p>
          {query.data?.support_id ? (
            <p>
              {t("monitor.supportId")}: <strong className="mono">{query.data.support_id}</strong>
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
  onReset,
  onRetryTransfer,
  canRetryTransfer,
}: {
  phase: Phase;
  onSend: () => void;
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
              disabled={phase.plan.summary.files === 0}
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
          <button type="button" className="button button-secondary" onClick={onReset}>
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
        </>
      ) : null}
      {phase.kind === "waiting" ? <AnalysisWait importId={phase.importId} onRestart={onReset} /> : null}
      {phase.kind === "error" ? (
        <>
          <Notice tone="danger" role="alert">
            <p>
              {phase.step === "compress"
                ? t("send.errorCompress", { message: phase.message })
                : phase.step === "create"
                  ? t("send.errorCreate", { message: phase.message })
                  : phase.step === "transfer"
                    ? t("send.errorTransfer", { message: phase.message })
                    : t("errors.generic", { message: phase.message })}
            </p>
          </Notice>
          <div className="actions">
            {phase.step === "transfer" && canRetryTransfer ? (
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
