/**
 * The confirmation of a launch with an order: the order's patient (the panel), then for every
 * study each patient found in it beside the order's, field by field; the studies to import; the
 * seed's emphasis rule (a selected study the server's identity gate does not accept: Confirm
 * small and red, Cancel large and blue, an explicit tick before confirming). When the RIS changed
 * the order's patient since the comparison shown (`order_changed`), the new comparison is shown
 * with a notice and the user confirms again.
 */
import { useEffect, useId, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import type { ImportOut, OrderOut, StudyOut } from "../../api/client";
import { renewedCode, type RenewedCode } from "../../api/queries";
import { Notice } from "../../components/Notice";
import { PatientPanel } from "../../components/PatientPanel";
import {
  allAlreadyPresent,
  comparedWithAnother,
  comparisonsOf,
  confirmBody,
  emphasis,
  initialSelection,
  isSelectable,
  studiesToConfirm,
} from "../../domain/identity";
import en from "../../i18n/en";
import { DecisionBar } from "./DecisionBar";
import { PatientsCompare } from "./IdentityCompare";
import { RenewedNotice, useRenewal } from "./RenewedNotice";
import { StudyCard, StudyFacts } from "./StudyCard";
import { Thumbnail } from "./Thumbnail";
import { useDecision } from "./useDecision";

/** The words of a study warning code (the medium's images disagree on the patient), if known. */
function warningKey(code: string): `confirm.warning.${keyof typeof en.confirm.warning}` | null {
  return code !== "code" && Object.hasOwn(en.confirm.warning, code)
    ? (`confirm.warning.${code}` as `confirm.warning.${keyof typeof en.confirm.warning}`)
    : null;
}

/** One study: its patients compared with the order's, its facts, its warnings and previews. */
function OrderStudy({
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
  const headingId = useId();
  const partly = !study.on_pacs && (study.instances_on_pacs ?? 0) > 0;
  // the comparison shown is the one the server made, with the patient it was made with
  const outdated = comparedWithAnother(study, order.patient);
  return (
    <StudyCard study={study} selected={selected} onToggle={onToggle} headingId={headingId}>
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
        <StudyFacts study={study} withOrder />
        {study.warnings.length ? (
          <ul className="plain-list hint">
            {study.warnings.map((w) => {
              const key = warningKey(w);
              return <li key={w}>{key ? t(key) : t("confirm.warning.code", { code: w })}</li>;
            })}
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
    </StudyCard>
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

export function OrderConfirmation({
  imp,
  order,
  initialRenewed,
}: {
  imp: ImportOut;
  order: OrderOut;
  initialRenewed: RenewedCode | null;
}) {
  const { t } = useTranslation();
  const [selected, setSelected] = useState<string[]>(() => initialSelection(imp.studies));
  const [acknowledged, setAcknowledged] = useState(false);
  const renewal = useRenewal(initialRenewed);
  const decision = useDecision(imp.id);
  const { confirm, cancel } = decision;
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
      {renewal.code ? (
        <RenewedNotice key={renewal.key} code={renewal.code} before={renewal.before} now={order.patient} />
      ) : null}
      <PatientPanel order={order} />
      <p>{t("confirm.intro")}</p>
      <h2 className="section-title">{t("confirm.studies")}</h2>
      {imp.studies.map((study) => {
        const uid = study.study_instance_uid;
        return (
          <OrderStudy
            key={uid}
            imp={imp}
            study={study}
            order={order}
            selected={selected.includes(uid)}
            onToggle={(on) => setSelected((s) => (on ? [...s, uid] : s.filter((u) => u !== uid)))}
          />
        );
      })}
      <MediaReport imp={imp} />
      <DecisionBar
        label={t("confirm.title")}
        danger={e.danger}
        acknowledge={{ label: "confirm.acknowledge", checked: acknowledged, onChange: setAcknowledged }}
        acknowledgeHint
        error={error}
        confirmText={t("confirm.confirm")}
        canConfirm={e.canConfirm}
        confirming={confirm.isPending}
        cancelling={cancel.isPending}
        onCancel={decision.cancelImport}
        onConfirm={() => {
          const shown = order.patient;
          confirm.mutate(confirmBody(imp.studies, selected, e.acknowledgeRequired && acknowledged), {
            onSuccess: decision.toMonitor,
            onError: (err) => {
              // a new comparison: a tick given for the former one does not count
              if (renewal.renewedBy(err, shown)) setAcknowledged(false);
            },
          });
        }}
      >
        {allPresent ? (
          <Notice tone="info" title={t("confirm.allPresent.title")}>
            <p>{t("confirm.allPresent.body")}</p>
          </Notice>
        ) : null}
        {!importable && !allPresent ? <Notice tone="warning">{t("confirm.nothingImportable")}</Notice> : null}
        {importable && !e.canConfirm && studiesToConfirm(imp.studies, selected).length === 0 ? (
          <Notice tone="info">{t("confirm.nothingSelected")}</Notice>
        ) : null}
        {renewal.code ? <p className="renewed-reminder">{t("confirm.renewed.reminder")}</p> : null}
      </DecisionBar>
    </>
  );
}
