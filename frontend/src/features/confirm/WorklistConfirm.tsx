/**
 * Worklist mode (a launch without an order): once the medium is analysed, the user finds the
 * order of each study in the worklist (`StudySearch`), picks one per study, then checks the
 * identities before confirming with `order_for_study`, `seen_patients` (the patient of each
 * order as the checks showed it) and `seen_filed_before` (what the checks said its patients were
 * filed under before, under other patients of the hospital). Every patient found in a study is
 * compared. When the PACS holds every study wholly already, there is no order to find: the
 * emphasised button ends the import (completed, nothing sent, filed under no one), as in order mode.
 */
import { useQueries } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import type { DocumentOut, ImportOut, WorklistCandidate } from "../../api/client";
import { renewedCode, worklistQueryOptions } from "../../api/queries";
import { Notice } from "../../components/Notice";
import { rereadQuery, worklistCheck, worklistConfirmBody, type OrderCheck } from "../../domain/checks";
import { documentsToFile, documentTargets, strandedDocuments, type DocumentChoices } from "../../domain/documents";
import { comparisonsOf, endsWithoutOrder, isSelectable } from "../../domain/identity";
import { CancelButton, DecisionBar } from "./DecisionBar";
import { DocumentsSection, StrandedNotice } from "./Documents";
import { PatientsCompare } from "./IdentityCompare";
import { RenewedNotice, useRenewal } from "./RenewedNotice";
import { StudyCard } from "./StudyCard";
import { useDecision } from "./useDecision";
import { StudySearch } from "./WorklistSearch";

/** At the check of a study: the documents that go with it. */
function FiledDocuments({ documents }: { documents: DocumentOut[] }) {
  const { t } = useTranslation();
  if (documents.length === 0) return null;
  return (
    <p className="document-study">
      {t("confirm.documents.withThisStudy")}
      {t("common.colon")}
      <span className="mono">{documents.map((d) => d.path).join(", ")}</span>
    </p>
  );
}

export function WorklistConfirmation({ imp }: { imp: ImportOut }) {
  const { t } = useTranslation();
  const selectable = imp.studies.filter(isSelectable);
  const [selected, setSelected] = useState<string[]>(() => selectable.map((s) => s.study_instance_uid));
  const [chosen, setChosen] = useState<Record<string, WorklistCandidate>>({});
  const [step, setStep] = useState<"choose" | "validate">("choose");
  const [acknowledged, setAcknowledged] = useState(false);
  const [choices, setChoices] = useState<DocumentChoices>({});
  const renewal = useRenewal();
  const decision = useDecision(imp.id);
  const { confirm, cancel } = decision;
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), [step]);

  const picked = selected.filter((u) => selectable.some((s) => s.study_instance_uid === u));
  const allChosen = picked.length > 0 && picked.every((u) => chosen[u]);
  // without an order, a document goes with a study ticked (whose order is chosen here) only
  const targets = documentTargets(imp.studies, selected, false);
  const documents = documentsToFile(choices, targets);
  const stranded = strandedDocuments(choices, targets).length;
  // The search's badges compare an order with the fields typed; the checks compare it with each
  // patient of the medium: the chosen order is read again by its accession number, ranked
  // against that patient's identity (the server compares the same at confirmation), with what
  // that patient was filed under before (the import and the study named).
  const wanted = picked.flatMap((uid) => {
    const study = imp.studies.find((s) => s.study_instance_uid === uid)!;
    const accession = chosen[uid]?.accession_number ?? "";
    return comparisonsOf(study).map((c) => ({ uid, accession, patient: c.patient }));
  });
  const reads = useQueries({
    queries: wanted.map((w) => ({
      ...worklistQueryOptions(rereadQuery(imp.id, w.uid, w.patient, w.accession)),
      enabled: step === "validate" && w.accession !== "",
    })),
  });
  const checks: Record<string, OrderCheck> = {};
  for (const uid of picked) {
    const study = imp.studies.find((s) => s.study_instance_uid === uid)!;
    const pick = chosen[uid];
    if (!pick) continue;
    const reread = wanted
      .map((w, i) => ({ w, q: reads[i] }))
      .filter(({ w }) => w.uid === uid)
      .map(({ q }) => q?.data?.find((c) => c.accession_number === pick.accession_number));
    checks[uid] = worklistCheck(study, pick, reread);
  }
  const checking = reads.some((q) => q.isFetching);
  const danger = picked.some((uid) => checks[uid]?.acknowledgementRequired ?? true);
  const canConfirm = allChosen && (!danger || acknowledged);
  const error = (renewedCode(confirm.error) ? null : confirm.error) ?? cancel.error;
  const allPresent = endsWithoutOrder(imp.studies);

  const chooseStep = (
    <div hidden={step !== "choose"}>
      <h1 ref={step === "choose" ? heading : undefined} tabIndex={-1}>
        {t("worklist.title")}
      </h1>
      <p>{t("worklist.intro")}</p>
      {!allPresent && selectable.length === 0 ? <Notice tone="warning">{t("confirm.nothingImportable")}</Notice> : null}
      {imp.studies.map((study) => {
        const uid = study.study_instance_uid;
        const on = isSelectable(study) && selected.includes(uid);
        return (
          <StudyCard
            key={uid}
            study={study}
            selected={selected.includes(uid)}
            onToggle={(checked) => setSelected((s) => (checked ? [...s, uid] : s.filter((x) => x !== uid)))}
          >
            {on ? (
              <>
                {chosen[uid] ? (
                  <Notice tone="success">{t("worklist.chosen", { accession: chosen[uid].accession_number })}</Notice>
                ) : null}
                <StudySearch
                  importId={imp.id}
                  study={study}
                  chosen={chosen[uid]?.accession_number}
                  onChoose={(c) => {
                    setChosen((m) => ({ ...m, [uid]: c }));
                    setAcknowledged(false);
                  }}
                />
              </>
            ) : null}
          </StudyCard>
        );
      })}
      <DocumentsSection
        importId={imp.id}
        documents={imp.documents}
        targets={targets}
        choices={choices}
        onChange={setChoices}
        noTarget={allPresent ? t("confirm.documents.noStudyOnPacs") : undefined}
      />
      {allPresent ? (
        <DecisionBar
          label={t("worklist.title")}
          error={error}
          confirmText={t("confirm.allPresent.end")}
          canConfirm
          confirming={confirm.isPending}
          cancelling={cancel.isPending}
          onCancel={decision.cancelImport}
          onConfirm={() =>
            // no order: every study is recorded as already on the PACS, nothing is sent (and no
            // comparison was shown)
            confirm.mutate(
              {
                studies: imp.studies.map((s) => s.study_instance_uid),
                acknowledge_identity: false,
                seen_filed_before: Object.fromEntries(imp.studies.map((s) => [s.study_instance_uid, []])),
              },
              { onSuccess: decision.toMonitor },
            )
          }
        >
          <Notice tone="info" title={t("confirm.allPresent.title")}>
            <p>{t("confirm.allPresent.body")}</p>
          </Notice>
        </DecisionBar>
      ) : (
        <section className="card decision" aria-label={t("worklist.title")}>
          {!allChosen && picked.length > 0 ? (
            <p className="hint" id="choose-hint">
              {t("worklist.chooseEvery")}
            </p>
          ) : null}
          <StrandedNotice count={stranded} />
          <div className="actions decision-actions">
            <button
              type="button"
              className="button button-primary button-large"
              disabled={!allChosen || stranded > 0}
              aria-describedby={!allChosen ? "choose-hint" : undefined}
              onClick={() => setStep("validate")}
            >
              {t("worklist.toValidation")}
            </button>
            <CancelButton large={false} cancelling={cancel.isPending} disabled={decision.busy} onCancel={decision.cancelImport} />
          </div>
        </section>
      )}
    </div>
  );

  if (step === "choose") return chooseStep;

  return (
    <>
      {chooseStep}
      <h1 ref={heading} tabIndex={-1}>
        {t("worklist.validateTitle")}
      </h1>
      {renewal.code ? <RenewedNotice key={renewal.key} code={renewal.code} /> : null}
      <p>{t("worklist.validateIntro")}</p>
      {picked.map((uid) => {
        const study = imp.studies.find((s) => s.study_instance_uid === uid)!;
        const check = checks[uid];
        const accession = check?.order.accession_number ?? chosen[uid]?.accession_number ?? "";
        const headingId = `check-${uid}`;
        return (
          <article key={uid} className="card study-card" aria-labelledby={headingId}>
            <h2 id={headingId} className="study-title">
              {study.description || t("confirm.study.noDescription")} → {t("monitor.order", { accession })}
            </h2>
            {checking || !check ? (
              <p role="status">{t("worklist.checking")}</p>
            ) : (
              <PatientsCompare orderPatient={check.order.patient} comparisons={check.comparisons} headingId={headingId} />
            )}
            <FiledDocuments documents={imp.documents.filter((d) => documents[d.id] === uid)} />
          </article>
        );
      })}
      <DecisionBar
        label={t("worklist.validateTitle")}
        danger={danger}
        acknowledge={{ label: "worklist.acknowledge", checked: acknowledged, onChange: setAcknowledged }}
        error={error}
        confirmText={t("confirm.confirm")}
        canConfirm={canConfirm && !checking && stranded === 0}
        confirming={confirm.isPending}
        cancelling={cancel.isPending}
        onCancel={decision.cancelImport}
        onConfirm={() =>
          confirm.mutate(
            // the order of each study, its patient and what was filed before exactly as the checks above showed them
            { ...worklistConfirmBody(picked, checks, danger && acknowledged), ...(Object.keys(documents).length ? { documents } : {}) },
            {
              onSuccess: decision.toMonitor,
              onError: (err) => {
                // a new comparison: a tick given for the former one does not count
                if (renewal.renewedBy(err)) setAcknowledged(false);
              },
            },
          )
        }
        between={
          <button
            type="button"
            className="button button-secondary"
            onClick={() => {
              setStep("choose");
              renewal.clear();
            }}
            disabled={confirm.isPending}
          >
            <span aria-hidden="true">← </span>
            {t("worklist.back")}
          </button>
        }
      >
        {renewal.code ? <p className="renewed-reminder">{t("confirm.renewed.reminder")}</p> : null}
      </DecisionBar>
    </>
  );
}
