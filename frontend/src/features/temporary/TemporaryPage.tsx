/**
 * The temporary zone (role `temporary_zone`): imports of patients not known to the hospital,
 * kept for review. Each may be promoted to an order found in the worklist (every patient of its
 * studies compared with the order's first; the order's patient as shown is sent back as
 * `seen_patient`, what the comparisons shown said was filed before under other patients of the
 * hospital as `seen_filed_before`) or purged (after a confirmation dialog). Nothing is deleted without a person's
 * action. Its images can be seen: a thumbnail per series opens a simple viewer of the series.
 * An import a referent undid (filed under the wrong patient or order) says which order it came
 * from and why. In a session the RIS launched for a patient without an order, each may also be
 * filed under that patient ("File under this patient", `patient_launch`), through the same
 * comparison first.
 */
import { useQueries } from "@tanstack/react-query";
import { useEffect, useId, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { ApiError, type SeriesOut, type TemporaryItem, type WorklistCandidate } from "../../api/client";
import {
  renewedCode,
  useImport,
  usePromote,
  usePurge,
  useTemporary,
  worklistQueryOptions,
} from "../../api/queries";
import { ApiErrorNotice } from "../../components/ApiErrorNotice";
import { Badge } from "../../components/Badge";
import { Notice } from "../../components/Notice";
import { SexText } from "../../components/PatientPanel";
import { StatusBadge } from "../../components/StatusBadge";
import { undoneFromText } from "../../components/Undo";
import { useLocale } from "../../components/useLocale";
import {
  PATIENT_COMPARE_BODY,
  patientLaunchCheck,
  patientPromoteBody,
  patientsOf,
  promoteBody,
  promoteCheck,
  rereadQuery,
  studyOfPatient,
} from "../../domain/checks";
import type { PersonLike } from "../../domain/identity";
import { isPatientLaunch } from "../../domain/patientLaunch";
import { formatPersonName } from "../../domain/personName";
import { formatBytes, formatDateTime, formatDicomDate } from "../../i18n/format";
import { AcknowledgeIdentity } from "../confirm/AcknowledgeIdentity";
import { PatientsCompare } from "../confirm/IdentityCompare";
import { RenewedNotice, useRenewal } from "../confirm/RenewedNotice";
import { Thumbnail } from "../confirm/Thumbnail";
import { StudySearch } from "../confirm/WorklistSearch";
import { RequireSession } from "../RequireSession";
import { Viewer } from "./Viewer";

function PromoteForm({ item, onDone }: { item: TemporaryItem; onDone: () => void }) {
  const { t } = useTranslation();
  const id = useId();
  const first = item.studies[0];
  // the order is found as in worklist mode: by name, birth date or accession number, each order
  // compared with the patient on the medium
  const [candidate, setCandidate] = useState<WorklistCandidate | undefined>(undefined);
  const [acknowledged, setAcknowledged] = useState(false);
  const renewal = useRenewal();
  const promote = usePromote(item.id);
  const imp = useImport(item.id);
  const studies = (imp.data?.studies ?? []).filter((s) => s.selected);
  // each patient of the studies, compared by the worklist with the order chosen, and with what
  // that patient was filed under before (a study of this import naming them)
  const patients = patientsOf(studies);
  const reads = useQueries({
    queries: patients.map((p) => ({
      ...worklistQueryOptions(
        rereadQuery(item.id, studyOfPatient(studies, p)?.study_instance_uid, p, candidate?.accession_number ?? ""),
      ),
      enabled: candidate !== undefined,
    })),
  });
  const checking = imp.isPending || reads.some((q) => q.isFetching);
  const check = candidate
    ? promoteCheck(
        studies,
        candidate,
        reads.map((q) => q.data?.find((c) => c.accession_number === candidate.accession_number)),
      )
    : null;
  const needsTick = check?.acknowledgementRequired ?? false;
  const error = renewedCode(promote.error) ? null : promote.error;
  if (!first) return null;
  return (
    <div className="promote">
      <StudySearch
        importId={item.id}
        study={first}
        chosen={candidate?.accession_number}
        onChoose={(c) => {
          setCandidate(c);
          setAcknowledged(false);
          renewal.clear();
        }}
      />
      <div aria-live="polite">
        {checking && candidate ? <p role="status">{t("worklist.searching")}</p> : null}
        {renewal.code ? (
          <RenewedNotice key={renewal.key} code={renewal.code} before={renewal.before} now={candidate?.patient} />
        ) : null}
        {candidate && check && !checking ? (
          <>
            <h3 id={`${id}-h`} className="section-title">
              {t("temporary.checkTitle", { accession: candidate.accession_number })}
            </h3>
            <PatientsCompare orderPatient={candidate.patient} comparisons={check.comparisons} headingId={`${id}-h`} />
            {needsTick ? (
              <AcknowledgeIdentity label="worklist.acknowledge" checked={acknowledged} onChange={setAcknowledged} />
            ) : null}
            <ApiErrorNotice error={error} />
            {/* as the confirmation's decision bar: when the patients differ, the keyboard meets the
                large safe choice first (keep the import and choose another order), then the small
                red Promote */}
            <div className={`actions decision-actions${needsTick ? " is-danger" : ""}`}>
              {needsTick ? (
                <button
                  type="button"
                  className="button button-primary button-large"
                  disabled={promote.isPending}
                  onClick={() => {
                    setCandidate(undefined);
                    setAcknowledged(false);
                    renewal.clear();
                  }}
                >
                  {t("temporary.chooseAnother")}
                </button>
              ) : null}
              <button
                type="button"
                className={needsTick ? "button button-danger button-small" : "button button-success button-large"}
                disabled={(needsTick && !acknowledged) || promote.isPending}
                onClick={() => {
                  const shown = candidate.patient;
                  promote.mutate(
                    // the order's patient and what was filed before exactly as compared above
                    promoteBody(check, needsTick && acknowledged),
                    {
                      onSuccess: onDone,
                      onError: (err) => {
                        // a new comparison: a tick given for the former one does not count
                        if (renewal.renewedBy(err, shown)) setAcknowledged(false);
                      },
                    },
                  );
                }}
              >
                <span aria-hidden="true">✓ </span>
                {promote.isPending ? t("temporary.promoting") : t("temporary.promoteTo", { accession: candidate.accession_number })}
              </button>
            </div>
          </>
        ) : null}
      </div>
    </div>
  );
}

/**
 * Filing a temporary-zone import under the patient this session was launched for without an
 * order (`patient_launch`): the server compares every patient of its studies with that patient
 * first (asked at once, unless it already has: its 409 `identity_not_compared` is that step, not
 * an error), then the comparison is shown and "File under …" sends the patient as compared and
 * what was filed before, as the promotion to a worklist order does. A refusal is worded from its
 * code; one that renews the comparison shows it again.
 */
export function PatientPromoteForm({
  item,
  patient,
  onDone,
  onKeep,
}: {
  item: TemporaryItem;
  patient: PersonLike;
  onDone: () => void;
  onKeep: () => void;
}) {
  const { t } = useTranslation();
  const id = useId();
  const [acknowledged, setAcknowledged] = useState(false);
  const renewal = useRenewal();
  const compare = usePromote(item.id);
  const promote = usePromote(item.id);
  const imp = useImport(item.id);
  const studies = (imp.data?.studies ?? []).filter((s) => s.selected);
  const check = imp.data ? patientLaunchCheck(studies, patient) : null;
  const name = formatPersonName(patient.name) || t("common.none");
  const words = { name, id: patient.id || t("common.none") };
  // once the import is read as it is now (never from an older answer: a study the server has
  // compared with the patient since would be filed at once), the server compares it, unless it has
  const asked = useRef(false);
  const { mutate: askCompare } = compare;
  const mustCompare = imp.data !== undefined && !imp.isFetching && studies.length > 0 && check === null;
  useEffect(() => {
    if (!mustCompare || asked.current) return;
    asked.current = true;
    // nothing is filed by this call, unless the server had compared already (then: filed)
    askCompare(PATIENT_COMPARE_BODY, { onSuccess: onDone });
  }, [mustCompare, askCompare, onDone]);
  // the comparison made is the answer asked for; any other refusal is shown
  const compareError = renewedCode(compare.error) ? null : compare.error;
  const error = renewedCode(promote.error) ? null : promote.error;
  const needsTick = check?.acknowledgementRequired ?? false;
  const comparing = check === null && !compareError && (imp.isPending || studies.length > 0);
  return (
    <div className="promote" aria-live="polite">
      <p className="hint">{t("patientLaunch.statement")}</p>
      {comparing ? <p role="status">{t("temporary.patientComparing", { name })}</p> : null}
      <PromoteRefusal error={compareError} />
      {renewal.code ? <RenewedNotice key={renewal.key} code={renewal.code} before={renewal.before} now={patient} /> : null}
      {check ? (
        <>
          <h3 id={`${id}-h`} className="section-title">
            {t("temporary.patientCheckTitle", words)}
          </h3>
          <PatientsCompare orderPatient={patient} comparisons={check.comparisons} headingId={`${id}-h`} withoutOrder />
          {needsTick ? (
            <AcknowledgeIdentity label="worklist.acknowledge" checked={acknowledged} onChange={setAcknowledged} withoutOrder />
          ) : null}
          <PromoteRefusal error={error} />
          {/* as the confirmation's decision bar: when the patients differ, the keyboard meets the
              large safe choice first (keep the import here), then the small red File */}
          <div className={`actions decision-actions${needsTick ? " is-danger" : ""}`}>
            {needsTick ? (
              <button type="button" className="button button-primary button-large" disabled={promote.isPending} onClick={onKeep}>
                {t("temporary.patientKeep")}
              </button>
            ) : null}
            <button
              type="button"
              className={needsTick ? "button button-danger button-small" : "button button-success button-large"}
              disabled={(needsTick && !acknowledged) || promote.isPending}
              onClick={() =>
                promote.mutate(patientPromoteBody(check, needsTick && acknowledged), {
                  onSuccess: onDone,
                  onError: (err) => {
                    // a new comparison: a tick given for the former one does not count
                    if (renewal.renewedBy(err, check.patient)) setAcknowledged(false);
                  },
                })
              }
            >
              <span aria-hidden="true">✓ </span>
              {promote.isPending ? t("temporary.promoting") : t("temporary.patientFile", words)}
            </button>
          </div>
        </>
      ) : null}
    </div>
  );
}

/**
 * A refusal of the promotion, worded from its code; `order_not_found` (the session was not
 * launched for a patient without an order) in this promotion's own words.
 */
export function PromoteRefusal({ error }: { error: unknown }) {
  const { t } = useTranslation();
  if (error instanceof ApiError && error.code === "order_not_found") {
    return (
      <Notice tone="danger" role="alert">
        {t("temporary.patientNotLaunched")}
      </Notice>
    );
  }
  return <ApiErrorNotice error={error} />;
}

function PurgeButton({ item, onDone }: { item: TemporaryItem; onDone: () => void }) {
  const { t } = useTranslation();
  const dialog = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const purge = usePurge(item.id);
  const name = formatPersonName(item.studies[0]?.patient.name ?? "") || t("common.none");
  return (
    <>
      <button type="button" className="button button-danger" onClick={() => dialog.current?.showModal()}>
        {t("temporary.purge")}
      </button>
      <dialog ref={dialog} aria-labelledby={titleId}>
        <h2 id={titleId}>{t("temporary.purgeTitle")}</h2>
        <p>{t("temporary.purgeBody", { name, supportId: item.support_id })}</p>
        <ApiErrorNotice error={purge.error} />
        <div className="actions">
          <button
            type="button"
            className="button button-danger"
            disabled={purge.isPending}
            onClick={() =>
              purge.mutate(undefined, {
                onSuccess: () => {
                  dialog.current?.close();
                  onDone();
                },
              })
            }
          >
            {purge.isPending ? t("temporary.purging") : t("temporary.purgeConfirm")}
          </button>
          <button type="button" className="button button-primary" autoFocus onClick={() => dialog.current?.close()}>
            {t("temporary.keep")}
          </button>
        </div>
      </dialog>
    </>
  );
}

/**
 * One import of the zone. `launched`: the patient the session was launched for without an order,
 * under whom it may be filed too ("File under this patient").
 */
function ItemCard({ item, launched, onMessage }: { item: TemporaryItem; launched: PersonLike | null; onMessage: (m: string) => void }) {
  const { t } = useTranslation();
  const locale = useLocale();
  const headingId = useId();
  // the promotion open: to a worklist order, or to the session's patient
  const [promoting, setPromoting] = useState<"order" | "patient" | null>(null);
  const toggle = (to: "order" | "patient") => setPromoting((p) => (p === to ? null : to));
  const patientToggle = useRef<HTMLButtonElement>(null);
  // the series shown in the viewer, and the thumbnail that opened it (the focus goes back there)
  const [viewing, setViewing] = useState<{ study: string; series: SeriesOut; opener: HTMLButtonElement } | null>(null);
  const patient = item.studies[0]?.patient;
  return (
    <article className="card" aria-labelledby={headingId}>
      <h2 id={headingId} className="card-title">
        {patient ? formatPersonName(patient.name) || t("common.none") : t("common.none")}{" "}
        <span className="hint mono">({item.support_id})</span>
      </h2>
      <p>
        <StatusBadge status={item.status} badge={item.badge} />{" "}
        {item.past_review ? (
          <Badge tone="warning" icon="!">
            {t("temporary.pastReview")}
          </Badge>
        ) : null}
      </p>
      {item.undo ? (
        <p className="undone-from">
          <Badge tone="warning" icon="↩">
            {undoneFromText(t, item.undo)}
          </Badge>
        </p>
      ) : null}
      <dl className="facts">
        <div>
          <dt>{t("terms.mediumPatient")}</dt>
          <dd>
            {patient ? (
              <>
                {patient.birth_date ? formatDicomDate(patient.birth_date, locale) : t("common.none")}
                {patient.sex ? (
                  <>
                    , <SexText sex={patient.sex} />
                  </>
                ) : null}
                {patient.id ? (
                  <>
                    , {t("confirm.otherId")} <span className="mono">{patient.id}</span>
                  </>
                ) : null}
              </>
            ) : (
              t("common.none")
            )}
          </dd>
        </div>
        <div>
          <dt>{t("temporary.size")}</dt>
          <dd>{formatBytes(item.size, locale)}</dd>
        </div>
        <div>
          <dt>{t("temporary.age")}</dt>
          <dd>
            {t("temporary.days", { count: item.age_days })} ({formatDateTime(item.created_at, locale)})
          </dd>
        </div>
        <div>
          <dt>{t("temporary.who")}</dt>
          <dd>{item.created_by_name || item.created_by}</dd>
        </div>
      </dl>
      <h3 className="section-title">{t("temporary.studies")}</h3>
      <ul className="plain-list">
        {item.studies.map((s) => (
          <li key={s.study_instance_uid}>
            <strong>{s.description || t("confirm.study.noDescription")}</strong>
            {s.date ? ` — ${formatDicomDate(s.date, locale)}` : ""} — {s.modalities.join(", ") || t("common.none")} —{" "}
            {t("confirm.study.counts", { series: s.series_count, instances: s.instance_count })}
            <div className="thumbs">
              {s.series.map((se) => (
                <Thumbnail
                  key={se.series_instance_uid}
                  importId={item.id}
                  studyUid={s.study_instance_uid}
                  series={se}
                  onOpen={(opener) => setViewing({ study: s.study_instance_uid, series: se, opener })}
                />
              ))}
            </div>
          </li>
        ))}
      </ul>
      <div className="actions">
        {item.status === "completed" ? (
          <button type="button" className="button button-primary" aria-expanded={promoting === "order"} onClick={() => toggle("order")}>
            {t("temporary.promote")}
          </button>
        ) : null}
        {item.status === "completed" && launched ? (
          <button
            ref={patientToggle}
            type="button"
            className="button button-primary"
            aria-expanded={promoting === "patient"}
            onClick={() => toggle("patient")}
          >
            {t("temporary.filePatient", { name: formatPersonName(launched.name) || t("common.none"), id: launched.id || t("common.none") })}
          </button>
        ) : null}
        <PurgeButton item={item} onDone={() => onMessage(t("temporary.purged", { supportId: item.support_id }))} />
        <Link to={`/imports/${item.id}`}>{t("temporary.details")}</Link>
      </div>
      {viewing ? (
        <Viewer
          importId={item.id}
          studyUid={viewing.study}
          series={viewing.series}
          onClose={() => {
            setViewing(null);
            viewing.opener.focus();
          }}
        />
      ) : null}
      {promoting === "order" ? (
        <PromoteForm item={item} onDone={() => onMessage(t("temporary.promoted", { supportId: item.support_id }))} />
      ) : null}
      {promoting === "patient" && launched ? (
        <PatientPromoteForm
          item={item}
          patient={launched}
          onDone={() =>
            onMessage(t("temporary.patientFiled", { supportId: item.support_id, name: formatPersonName(launched.name) || t("common.none") }))
          }
          onKeep={() => {
            setPromoting(null);
            patientToggle.current?.focus();
          }}
        />
      ) : null}
    </article>
  );
}

/** The zone's imports; `patient`: the session was launched for this patient without an order. */
function TemporaryList({ patient }: { patient: PersonLike | null }) {
  const { t } = useTranslation();
  const list = useTemporary();
  const [message, setMessage] = useState("");
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  return (
    <>
      <h1 ref={heading} tabIndex={-1}>
        {t("temporary.title")}
      </h1>
      <p>{t("temporary.intro")}</p>
      <div role="status" aria-live="polite">
        {message ? <Notice tone="success">{message}</Notice> : null}
      </div>
      {list.isPending ? <p role="status">{t("app.loading")}</p> : null}
      <ApiErrorNotice error={list.error} />
      {list.data && list.data.length === 0 ? <Notice tone="info">{t("temporary.empty")}</Notice> : null}
      {list.data?.map((item) => <ItemCard key={item.id} item={item} launched={patient} onMessage={setMessage} />)}
      <p>
        <Link to="/import">{t("temporary.backToImport")}</Link>
      </p>
    </>
  );
}

export function TemporaryPage() {
  const { t } = useTranslation();
  return (
    <RequireSession>
      {(session) =>
        session.user.roles.includes("temporary_zone") ? (
          <TemporaryList patient={session.order && isPatientLaunch(session.order) ? session.order.patient : null} />
        ) : (
          <Notice tone="warning" role="alert">
            {t("errors.roleRequired")}
          </Notice>
        )
      }
    </RequireSession>
  );
}
