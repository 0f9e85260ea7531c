/**
 * The confirmation of a launch with an order: the order's patient once (the panel), then each
 * patient found on the medium, compared once with the order's patient field by field, with the
 * studies that name them (a study naming two patients is in both groups, its card with the first);
 * the seed's emphasis rule (a selected study the server's identity gate does not accept: Confirm
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
  confirmBody,
  emphasis,
  initialSelection,
  isSelectable,
  patientGroups,
  studiesToConfirm,
  type PatientGroup,
} from "../../domain/identity";
import { documentsToFile, documentTargets, strandedDocuments, type DocumentChoices } from "../../domain/documents";
import { isPatientLaunch } from "../../domain/patientLaunch";
import { formatPersonName } from "../../domain/personName";
import { messageText, studyWarningText } from "../../i18n/message";
import { DecisionBar } from "./DecisionBar";
import { DocumentsSection, StrandedNotice } from "./Documents";
import { IdentityCompare } from "./IdentityCompare";
import { RenewedNotice, useRenewal } from "./RenewedNotice";
import { StudyCard, StudyFacts } from "./StudyCard";
import { Thumbnail } from "./Thumbnail";
import { useDecision } from "./useDecision";

/**
 * One study, under the patient found on the medium it names: its facts, its warnings and
 * previews (the comparison is the group's). `holds`: every patient it names, when more than one.
 */
function OrderStudy({
  imp,
  study,
  holds,
  selected,
  onToggle,
}: {
  imp: ImportOut;
  study: StudyOut;
  holds: string[];
  selected: boolean;
  onToggle: (on: boolean) => void;
}) {
  const { t } = useTranslation();
  const partly = !study.on_pacs && (study.instances_on_pacs ?? 0) > 0;
  // the notice above names the patients already: the same warning is not listed again
  const warnings = study.warnings.filter((w) => !(holds.length > 1 && w === "STUDY_PATIENTS_DIFFER"));
  return (
    <StudyCard study={study} selected={selected} onToggle={onToggle}>
      {holds.length > 1 ? (
        <Notice tone="warning" title={t("confirm.patients.title", { count: holds.length })}>
          <p>{t("confirm.patients.inGroups", { names: holds.join(", ") })}</p>
        </Notice>
      ) : null}
      {partly ? (
        <Notice tone="info">
          {t("confirm.study.partlyOnPacs", { count: study.instances_on_pacs ?? 0, total: study.instance_count })}
        </Notice>
      ) : null}
      <div className="study-body">
        <StudyFacts study={study} withOrder />
        {warnings.length ? (
          <ul className="plain-list hint">
            {warnings.map((w) => (
              <li key={w}>{studyWarningText(t, w)}</li>
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
    </StudyCard>
  );
}

function MediaReport({ imp }: { imp: ImportOut }) {
  const { t } = useTranslation();
  const m = imp.media;
  return (
    <details className="card media-report">
      <summary>
        {t("confirm.mediaReport")}
        {t("common.colon")}
        {t("confirm.mediaCounts", {
          files: t("confirm.mediaFiles", { count: m.files }),
          // the disc's reports and photos are files of the medium too: counted with the images
          dicom: imp.documents.length
            ? `${t("confirm.mediaDicom", { count: m.dicom })}, ${t("confirm.mediaDocuments", { count: imp.documents.length })}`
            : t("confirm.mediaDicom", { count: m.dicom }),
          other: t("confirm.mediaOther", { count: m.non_dicom }),
          unreadable: t("confirm.mediaUnreadable", { count: m.unreadable }),
        })}{" "}
        {m.skipped.length ? t("confirm.skipped", { count: m.skipped.length }) : null}
      </summary>
      {m.skipped.length ? (
        <ul className="skipped">
          {m.skipped.map((s) => (
            <li key={`${s.path}|${s.reason}`}>
              <span className="mono">{s.path}</span> — {messageText(t, { code: s.reason, params: s.params })}
            </li>
          ))}
        </ul>
      ) : null}
    </details>
  );
}

const nameOf = (p: { name: string }, none: string) => formatPersonName(p.name) || none;

/**
 * One patient found on the medium: compared once with the order's patient (the patient the server
 * compared with, its notice when the RIS has changed the order since), then the studies naming
 * them. A study that names another patient too says so; its card (its tick) is in the group of its
 * first patient, the others name it and point there.
 */
function PatientGroupSection({
  imp,
  order,
  groups,
  index,
  selected,
  onToggle,
}: {
  imp: ImportOut;
  order: OrderOut;
  groups: PatientGroup<StudyOut["patient"], StudyOut>[];
  index: number;
  selected: readonly string[];
  onToggle: (uid: string, on: boolean) => void;
}) {
  const { t } = useTranslation();
  const headingId = useId();
  const group = groups[index]!;
  const none = t("common.none");
  // the comparison shown is the one the server made, with the patient it was made with
  const outdated = group.comparedWith !== null && comparedWithAnother({ compared_with: group.comparedWith }, order.patient);
  return (
    <section className="card patient-group" aria-labelledby={headingId} data-patient-group={index + 1}>
      <h3 id={headingId} className="patient-group-title">
        {t("confirm.group.title", { count: groups.length, number: index + 1 })}
        {t("common.colon")}
        <span className="patient-group-name">{nameOf(group.patient, none)}</span>
      </h3>
      {outdated ? (
        <Notice tone="warning" role="status" title={t("confirm.outdated.title")}>
          <p>{t("confirm.outdated.body")}</p>
        </Notice>
      ) : null}
      <IdentityCompare
        orderPatient={group.comparedWith ?? order.patient}
        found={group.patient}
        identity={group.identity}
        headingId={headingId}
        withoutOrder={isPatientLaunch(order)}
      />
      <h4 className="group-studies-title">{t("confirm.group.studies")}</h4>
      {group.entries.map(({ study, primary, groups: where }) => {
        const uid = study.study_instance_uid;
        if (!primary) {
          const home = where[0]!;
          return (
            <Notice key={uid} tone="warning">
              {t("confirm.group.alsoHere", {
                study: study.description || t("confirm.study.noDescription"),
                number: home + 1,
                name: nameOf(groups[home]!.patient, none),
              })}
            </Notice>
          );
        }
        return (
          <OrderStudy
            key={uid}
            imp={imp}
            study={study}
            holds={where.length > 1 ? where.map((g) => nameOf(groups[g]!.patient, none)) : []}
            selected={selected.includes(uid)}
            onToggle={(on) => onToggle(uid, on)}
          />
        );
      })}
    </section>
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
  const [choices, setChoices] = useState<DocumentChoices>({});
  const renewal = useRenewal(initialRenewed);
  const decision = useDecision(imp.id);
  const { confirm, cancel } = decision;
  // a document goes with a study ticked, or one the PACS holds already (sent for it alone)
  const targets = documentTargets(imp.studies, selected, true);
  const documents = documentsToFile(choices, targets);
  const stranded = strandedDocuments(choices, targets).length;
  const e = emphasis(imp.studies, selected, acknowledged, documents);
  const importable = imp.studies.some(isSelectable);
  // every study on the PACS already and no document to file with one: nothing to send
  const allPresent = allAlreadyPresent(imp.studies) && Object.keys(documents).length === 0;
  const groups = patientGroups(imp.studies);
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
      <p>{isPatientLaunch(order) ? t("patientLaunch.confirmIntro") : t("confirm.intro")}</p>
      <h2 className="section-title">{t("confirm.studies")}</h2>
      {groups.map((group, index) => (
        <PatientGroupSection
          key={`${index}-${group.patient.name}-${group.patient.id}`}
          imp={imp}
          order={order}
          groups={groups}
          index={index}
          selected={selected}
          onToggle={(uid, on) => setSelected((s) => (on ? [...s, uid] : s.filter((u) => u !== uid)))}
        />
      ))}
      <DocumentsSection importId={imp.id} documents={imp.documents} targets={targets} choices={choices} onChange={setChoices} />
      <MediaReport imp={imp} />
      <DecisionBar
        label={t("confirm.title")}
        danger={e.danger}
        acknowledge={{
          label: "confirm.acknowledge",
          checked: acknowledged,
          onChange: setAcknowledged,
          withoutOrder: isPatientLaunch(order),
        }}
        acknowledgeHint
        error={error}
        confirmText={allPresent ? t("confirm.allPresent.end") : t("confirm.confirm")}
        canConfirm={e.canConfirm && stranded === 0}
        confirming={confirm.isPending}
        cancelling={cancel.isPending}
        onCancel={decision.cancelImport}
        onConfirm={() => {
          const shown = order.patient;
          confirm.mutate(confirmBody(imp.studies, selected, e.acknowledgeRequired && acknowledged, documents), {
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
        {importable && !e.canConfirm && studiesToConfirm(imp.studies, selected).length === 0 && Object.keys(documents).length === 0 ? (
          <Notice tone="info">{t("confirm.nothingSelected")}</Notice>
        ) : null}
        <StrandedNotice count={stranded} />
        {renewal.code ? <p className="renewed-reminder">{t("confirm.renewed.reminder")}</p> : null}
      </DecisionBar>
    </>
  );
}
