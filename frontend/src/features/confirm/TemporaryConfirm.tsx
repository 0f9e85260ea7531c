/**
 * Confirming an import into the temporary zone: no order, so no identity to compare; the user
 * chooses the studies to keep with the identity written on the medium.
 */
import { useEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import type { ImportOut } from "../../api/client";
import { Notice } from "../../components/Notice";
import { documentsToFile, documentTargets, strandedDocuments, type DocumentChoices } from "../../domain/documents";
import { allAlreadyPresent, initialSelection, studiesToConfirm, withDocumentStudies } from "../../domain/identity";
import { DecisionBar } from "./DecisionBar";
import { DocumentsSection, StrandedNotice } from "./Documents";
import { StudyCard, StudyFacts } from "./StudyCard";
import { useDecision } from "./useDecision";

export function TemporaryConfirmation({ imp }: { imp: ImportOut }) {
  const { t } = useTranslation();
  const [selected, setSelected] = useState<string[]>(() => initialSelection(imp.studies));
  const [choices, setChoices] = useState<DocumentChoices>({});
  const decision = useDecision(imp.id);
  const { confirm, cancel } = decision;
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  // the studies ticked; when every study is on the PACS already, those (ignored, nothing sent)
  const targets = documentTargets(imp.studies, selected, true);
  const documents = documentsToFile(choices, targets);
  const stranded = strandedDocuments(choices, targets).length;
  // and the studies on the PACS already that documents are filed with (sent for them alone)
  const picked = withDocumentStudies(imp.studies, studiesToConfirm(imp.studies, selected), documents);
  return (
    <>
      <h1 ref={heading} tabIndex={-1}>
        {t("zone.confirmTitle")}
      </h1>
      <Notice tone="info">{t("zone.confirmIntro")}</Notice>
      {imp.studies.map((study) => {
        const uid = study.study_instance_uid;
        return (
          <StudyCard
            key={uid}
            study={study}
            selected={selected.includes(uid)}
            onToggle={(on) => setSelected((s) => (on ? [...s, uid] : s.filter((x) => x !== uid)))}
          >
            <StudyFacts study={study} withOrder={false} />
          </StudyCard>
        );
      })}
      <DocumentsSection importId={imp.id} documents={imp.documents} targets={targets} choices={choices} onChange={setChoices} />
      <DecisionBar
        label={t("zone.confirmTitle")}
        error={confirm.error ?? cancel.error}
        confirmText={t("zone.confirm")}
        canConfirm={picked.length > 0 && stranded === 0}
        confirming={confirm.isPending}
        onConfirm={() => confirm.mutate(
            { studies: picked, acknowledge_identity: false, ...(Object.keys(documents).length ? { documents } : {}) },
            { onSuccess: decision.toMonitor },
          )}
        cancelling={cancel.isPending}
        onCancel={decision.cancelImport}
      >
        <StrandedNotice count={stranded} />
        {allAlreadyPresent(imp.studies) && Object.keys(documents).length === 0 ? (
          <Notice tone="info" title={t("confirm.allPresent.title")}>
            <p>{t("confirm.allPresent.body")}</p>
          </Notice>
        ) : null}
      </DecisionBar>
    </>
  );
}
