/**
 * The confirmation: the order's patient (the panel), then for every study each patient found in
 * it beside the order's, field by field; the studies to import; the seed's emphasis rule (a
 * selected study the server's identity gate does not accept: Confirm small and red, Cancel large
 * and blue, an explicit tick before confirming). When the RIS changed the order's patient since
 * the comparison shown (`order_changed`), the new comparison is shown with a notice and the user
 * confirms again.
 */
import { useEffect, useId, useMemo, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, Navigate, useLocation, useNavigate, useParams } from "react-router";
import { ApiError, type ImportOut, type OrderOut, type StudyOut } from "../../api/client";
import { renewedCode, useCancel, useConfirm, useImport, type RenewedCode } from "../../api/queries";
import { Notice } from "../../components/Notice";
import { PatientPanel, PatientShort } from "../../components/PatientPanel";
import { useLocale } from "../../components/useLocale";
import {
  allAlreadyPresent,
  comparedWithAnother,
  comparisonsOf,
  confirmBody,
  emphasis,
  initialSelection,
  isAlreadyPresent,
  isSelectable,
  samePatient,
  studiesToConfirm,
  type PersonLike,
} from "../../domain/identity";
import en from "../../i18n/en";
import { formatDicomDate, formatDicomTime } from "../../i18n/format";
import { RequireSession } from "../RequireSession";
import { TemporaryConfirmation } from "../temporary/TemporaryConfirm";
import { WorklistConfirmation } from "../worklist/WorklistConfirm";
import { PatientsCompare } from "./IdentityCompare";
import { Thumbnail } from "./Thumbnail";

/** The words of a study warning code (the medium's images disagree on the patient), if known. */
function warningKey(code: string): `confirm.warning.${keyof typeof en.confirm.warning}` | null {
  return code !== "code" && Object.hasOwn(en.confirm.warning, code)
    ? (`confirm.warning.${code}` as `confirm.warning.${keyof typeof en.confirm.warning}`)
    : null;
}

function StudyCard({
  imp,
  study,
  order,
  selected,
  onToggle,
}: {
  imp: ImportOut;
  study: StudyOut;
  order: OrderOut;
  selected: boolean;
  onToggle: (on: boolean) => void;
}) {
  const { t } = useTranslation();
  const locale = useLocale();
  const headingId = useId();
  const selectable = isSelectable(study);
  const description = study.description || t("confirm.study.noDescription");
  const partly = !study.on_pacs && (study.instances_on_pacs ?? 0) > 0;
  // the comparison shown is the one the server made, with the patient it was made with
  const outdated = comparedWithAnother(study, order.patient);
  return (
    <article className={`card study-card${selectable ? "" : " is-excluded"}`} aria-labelledby={headingId}>
      <header className="study-head">
        <label className="check">
          <input
            type="checkbox"
            checked={selectable && selected}
            disabled={!selectable}
            onChange={(e) => onToggle(e.target.checked)}
          />
          <span>
            <span className="visually-hidden">{t("confirm.study.select")}: </span>
            <span id={headingId} className="study-title">
              {description}
            </span>
          </span>
        </label>
      </header>
      {isAlreadyPresent(study) ? (
        <Notice tone="info" title={t("confirm.study.onPacs")}>
          <p>{t("confirm.study.onPacsBody")}</p>
        </Notice>
      ) : null}
      {study.pacs_conflict ? <Notice tone="danger" title={t("confirm.study.conflict")} /> : null}
      {outdated ? (
        <Notice tone="warning" role="status" title={t("confirm.outdated.title")}>
          <p>{t("confirm.outdated.body")}</p>
        </Notice>
      ) : null}
      {partly ? (
        <Notice tone="info">
          {t("confirm.study.partlyOnPacs", { count: study.instances_on_pacs ?? 0, total: study.instance_count })}
        </Notice>
      ) : null}
      <div className="study-body">
        <PatientsCompare
          orderPatient={study.compared_with ?? order.patient}
          comparisons={comparisonsOf(study)}
          headingId={headingId}
        />
        <dl className="facts study-facts">
          <div>
            <dt>{t("confirm.study.date")}</dt>
            <dd>
              {study.date ? formatDicomDate(study.date, locale) : t("common.none")}
              {study.time ? ` ${formatDicomTime(study.time, locale)}` : ""}
            </dd>
          </div>
          <div>
            <dt>{t("confirm.study.modality")}</dt>
            <dd>{study.modalities.join(", ") || t("common.none")}</dd>
          </div>
          <div>
            <dt>{t("confirm.study.accession")}</dt>
            <dd className="mono">{study.accession_number || t("common.none")}</dd>
          </div>
          <div>
            <dt>{t("confirm.study.institution")}</dt>
            <dd>{study.institution || t("common.none")}</dd>
          </div>
          <div>
            <dt>{t("confirm.study.series")}</dt>
            <dd>{t("confirm.study.counts", { series: study.series_count, instances: study.instance_count })}</dd>
          </div>
          <div className="wide">
            <dt>{t("confirm.study.uid")}</dt>
            <dd className="mono uid">{study.study_instance_uid}</dd>
          </div>
        </dl>
        {study.warnings.length ? (
          <ul className="plain-list hint">
            {study.warnings.map((w) => (
              <li key={w}>{warningKey(w) ? t(warningKey(w)!) : t("confirm.warning.code", { code: w })}</li>
            ))}
          </ul>
        ) : null}
        {study.series.length ? (
          <div className="thumbs" role="group" aria-label={t("confirm.study.previews")}>
            {study.series.map((s) => (
              <Thumbnail key={s.series_instance_uid} importId={imp.id} studyUid={study.study_instance_uid} series={s} />
            ))}
          </div>
        ) : null}
      </div>
    </article>
  );
}

function MediaReport({ imp }: { imp: ImportOut }) {
  const { t } = useTranslation();
  const m = imp.media;
  return (
    <details className="card media-report">
      <summary>
        {t("confirm.mediaReport")}: {t("confirm.mediaCounts", {
          files: m.files,
          dicom: m.dicom,
          other: m.non_dicom,
          unreadable: m.unreadable,
        })}{" "}
        {m.skipped.length ? t("confirm.skipped", { count: m.skipped.length }) : null}
      </summary>
      {m.skipped.length ? (
        <ul className="skipped">
          {m.skipped.map((s) => (
            <li key={`${s.path}|${s.reason}`}>
              <span className="mono">{s.path}</span> — {s.message}
            </li>
          ))}
        </ul>
      ) : null}
    </details>
  );
}

/**
 * The comparison was made again by the server: what happened and what to do, at the top; with
 * the order's patient before and now when the user saw another one.
 */
export function RenewedNotice({ code, before, now }: { code: RenewedCode; before?: PersonLike | null; now?: PersonLike }) {
  const { t } = useTranslation();
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    ref.current?.focus();
    ref.current?.scrollIntoView({ block: "start" });
  }, [code]);
  return (
    <div ref={ref} tabIndex={-1} className="renewed">
      <Notice tone="danger" role="alert" title={t(`confirm.renewed.${code}.title`)}>
        {before && now && !samePatient(before, now) ? (
          <p className="renewed-change">
            {t("confirm.renewed.was")}: <PatientShort patient={before} /> → {t("confirm.renewed.now")}:{" "}
            <PatientShort patient={now} />
          </p>
        ) : null}
        <p>{t(`confirm.renewed.${code}.body`)}</p>
      </Notice>
    </div>
  );
}

function Confirmation({ imp, order, initialRenewed }: { imp: ImportOut; order: OrderOut; initialRenewed: RenewedCode | null }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const [selected, setSelected] = useState<string[]>(() => initialSelection(imp.studies));
  const [acknowledged, setAcknowledged] = useState(false);
  const [renewed, setRenewed] = useState<RenewedCode | null>(initialRenewed);
  // each renewal shows (and focuses) the notice again
  const [renewals, setRenewals] = useState(0);
  // the order's patient the user had on the screen when the server compared again
  const [before, setBefore] = useState<PersonLike | null>(null);
  const confirm = useConfirm(imp.id);
  const cancel = useCancel(imp.id);
  const e = emphasis(imp.studies, selected, acknowledged);
  const importable = imp.studies.some(isSelectable);
  const allPresent = allAlreadyPresent(imp.studies);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (!initialRenewed) heading.current?.focus();
  }, [initialRenewed]);
  const error = (renewedCode(confirm.error) ? null : confirm.error) ?? cancel.error;

  return (
    <>
      <h1 ref={heading} tabIndex={-1}>
        {t("confirm.title")}
      </h1>
      {renewed ? <RenewedNotice key={renewals} code={renewed} before={before} now={order.patient} /> : null}
      <PatientPanel order={order} />
      <p>{t("confirm.intro")}</p>
      <h2 className="section-title">{t("confirm.studies")}</h2>
      {imp.studies.map((study) => (
        <StudyCard
          key={study.study_instance_uid}
          imp={imp}
          study={study}
          order={order}
          selected={selected.includes(study.study_instance_uid)}
          onToggle={(on) =>
            setSelected((s) =>
              on ? [...s, study.study_instance_uid] : s.filter((u) => u !== study.study_instance_uid),
            )
          }
        />
      ))}
      <MediaReport imp={imp} />
      <section className={`card decision${e.danger ? " decision-danger" : ""}`} aria-label={t("confirm.title")}>
        {allPresent ? (
          <Notice tone="info" title={t("confirm.allPresent.title")}>
            <p>{t("confirm.allPresent.body")}</p>
          </Notice>
        ) : null}
        {!importable && !allPresent ? <Notice tone="warning">{t("confirm.nothingImportable")}</Notice> : null}
        {importable && !e.canConfirm && studiesToConfirm(imp.studies, selected).length === 0 ? (
          <Notice tone="info">{t("confirm.nothingSelected")}</Notice>
        ) : null}
        {renewed ? <p className="renewed-reminder">{t("confirm.renewed.reminder")}</p> : null}
        {e.danger ? (
          <>
            <Notice tone="danger" role="alert">
              <p>
                <strong>{t("confirm.mismatchNotice")}</strong>
              </p>
            </Notice>
            <label className="check acknowledge">
              <input type="checkbox" checked={acknowledged} onChange={(ev) => setAcknowledged(ev.target.checked)} />
              <span>{t("confirm.acknowledge")}</span>
            </label>
          </>
        ) : null}
        {error ? (
          <Notice tone="danger" role="alert">
            {error instanceof ApiError && error.message ? error.message : t("errors.network")}
          </Notice>
        ) : null}
        <div className={`actions decision-actions${e.danger ? " is-danger" : ""}`}>
          <button
            type="button"
            className={e.danger ? "button button-danger button-small" : "button button-success button-large"}
            disabled={!e.canConfirm || confirm.isPending || cancel.isPending}
            aria-describedby={e.acknowledgeRequired && !acknowledged ? "ack-hint" : undefined}
            onClick={() => {
              const shown = order.patient;
              confirm.mutate(confirmBody(imp.studies, selected, e.acknowledgeRequired && acknowledged), {
                onSuccess: () => navigate(`/imports/${imp.id}`, { replace: true }),
                onError: (err) => {
                  const code = renewedCode(err);
                  if (code) {
                    // a new comparison: a tick given for the former one does not count
                    setAcknowledged(false);
                    setBefore(shown);
                    setRenewed(code);
                    setRenewals((r) => r + 1);
                  }
                },
              });
            }}
          >
            <span aria-hidden="true">✓ </span>
            {confirm.isPending ? t("confirm.confirming") : t("confirm.confirm")}
          </button>
          <button
            type="button"
            className={e.danger ? "button button-primary button-large" : "button button-secondary"}
            disabled={confirm.isPending || cancel.isPending}
            onClick={() =>
              cancel.mutate(undefined, { onSuccess: () => navigate(`/imports/${imp.id}/cancelled`, { replace: true }) })
            }
          >
            <span aria-hidden="true">✕ </span>
            {cancel.isPending ? t("confirm.cancelling") : t("confirm.cancel")}
          </button>
        </div>
        {e.acknowledgeRequired && !acknowledged ? (
          <p id="ack-hint" className="hint">
            {t("confirm.acknowledgeHint")}
          </p>
        ) : null}
      </section>
    </>
  );
}

/** The monitoring page's Retry may hand over a renewed comparison (`order_changed`). */
function renewedFromState(state: unknown): RenewedCode | null {
  const code = (state as { renewed?: unknown } | null)?.renewed;
  return code === "order_changed" || code === "identity_not_compared" ? code : null;
}

export function ConfirmPage() {
  const { id = "" } = useParams();
  const { t } = useTranslation();
  const location = useLocation();
  const initialRenewed = renewedFromState(location.state);
  const query = useImport(id);
  const imp = query.data;
  const status = imp?.status;
  const body = useMemo(() => {
    if (query.isPending) return <p role="status">{t("app.loading")}</p>;
    if (query.isError || !imp) return <Notice tone="danger" role="alert">{t("errors.notFound")}</Notice>;
    return null;
  }, [query.isPending, query.isError, imp, t]);
  return (
    <RequireSession>
      {(session) => {
        if (body) return body;
        if (!imp) return null;
        if (status === "cancelled") return <Navigate to={`/imports/${id}/cancelled`} replace />;
        const order = imp.order ?? session.order;
        if (status === "awaiting_confirmation" && imp.zone === "temporary") {
          return <TemporaryConfirmation imp={imp} />;
        }
        if (status === "awaiting_confirmation" && !order) {
          return <WorklistConfirmation imp={imp} />;
        }
        if (status !== "awaiting_confirmation" || !order) {
          return (
            <Notice tone="info" title={t("confirm.notAwaiting")}>
              <Link to={`/imports/${id}`}>{t("confirm.toMonitor")}</Link>
            </Notice>
          );
        }
        return <Confirmation imp={imp} order={order} initialRenewed={initialRenewed} />;
      }}
    </RequireSession>
  );
}
