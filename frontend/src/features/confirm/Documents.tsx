/**
 * The rest of the disc at confirmation (issue 16, point 3): the medium's PDFs and images, each
 * with its preview (a button opening it larger in a dialog; Escape closes it and the focus goes
 * back to the button), its file name, kind, pages or size in pixels and file size, a tick to file
 * it (none at first) and the study it goes with: a list when more than one study can take it,
 * the study named when one can. The rule of a ticked document whose study is no longer sent is
 * `domain/documents`'s: it says so here, and the decision bar waits (`StrandedNotice`).
 */
import { useQuery } from "@tanstack/react-query";
import { useEffect, useId, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import type { TFunction } from "i18next";
import { authHeaders, type DocumentOut, type StudyOut } from "../../api/client";
import { keys } from "../../api/queries";
import { Notice } from "../../components/Notice";
import { useLocale } from "../../components/useLocale";
import { chooseStudy, strandedDocuments, tickDocument, type DocumentChoices } from "../../domain/documents";
import { isAlreadyPresent } from "../../domain/identity";
import { formatBytes, formatDicomDate } from "../../i18n/format";

/** The document's preview (its first page), fetched with the session's header as thumbnails are. */
function usePreview(importId: string, doc: DocumentOut) {
  return useQuery({
    queryKey: keys.documentPreview(importId, doc.id),
    enabled: doc.preview,
    staleTime: Infinity,
    gcTime: Infinity,
    retry: false,
    queryFn: async (): Promise<string | null> => {
      const url = `/api/v1/imports/${encodeURIComponent(importId)}/documents/${encodeURIComponent(doc.id)}/preview`;
      const response = await fetch(url, { headers: authHeaders() });
      if (!response.ok) return null;
      return URL.createObjectURL(await response.blob());
    },
  });
}

/** What a document is, in words: its kind, its pages or its size in pixels, its file size. */
export function documentFacts(t: TFunction, locale: string, doc: DocumentOut): string {
  const parts = [t(`confirm.documents.kind.${doc.kind}`)];
  if (doc.pages !== null) parts.push(t("confirm.documents.pages", { count: doc.pages }));
  if (doc.width !== null && doc.height !== null) parts.push(t("confirm.documents.pixels", { width: doc.width, height: doc.height }));
  parts.push(formatBytes(doc.size, locale));
  return parts.join(" · ");
}

/** A study as the clerk knows it: its date, description and modalities. */
export function studyLabel(t: TFunction, locale: string, study: StudyOut): string {
  return t("confirm.documents.studyLabel", {
    date: study.date ? formatDicomDate(study.date, locale) : t("common.none"),
    description: study.description || t("confirm.study.noDescription"),
    modality: study.modalities.join(", ") || t("common.none"),
  });
}

/** A study that can take documents, in a list or named: one the PACS holds already says so. */
function targetLabel(t: TFunction, locale: string, study: StudyOut): string {
  const label = studyLabel(t, locale, study);
  return isAlreadyPresent(study) ? t("confirm.documents.studyOnPacs", { study: label }) : label;
}

/** The preview larger, in a modal dialog: Escape or Close closes it (the opener gets the focus back). */
function PreviewDialog({ doc, src, onClose }: { doc: DocumentOut; src: string; onClose: () => void }) {
  const { t } = useTranslation();
  const dialog = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const hintId = useId();
  useEffect(() => {
    const node = dialog.current;
    if (node && !node.open) node.showModal();
  }, []);
  const title = t("confirm.documents.previewTitle", { name: doc.path });
  return (
    <dialog ref={dialog} className="viewer document-viewer" aria-labelledby={titleId} aria-describedby={hintId} onClose={onClose}>
      <div className="viewer-head">
        <h2 id={titleId}>{title}</h2>
        <button type="button" className="button" onClick={() => dialog.current?.close()}>
          {t("common.close")}
        </button>
      </div>
      <p id={hintId} className="hint">
        {doc.kind === "pdf" && (doc.pages ?? 0) > 1 ? `${t("confirm.documents.firstPage", { count: doc.pages ?? 0 })} ` : ""}
        {t("confirm.documents.closeKey")}
      </p>
      <div className="viewer-image document-image">
        <img src={src} alt={title} />
      </div>
    </dialog>
  );
}

/** The thumbnail: a button opening the preview larger, or a placeholder when there is none. */
function DocumentThumb({ importId, doc }: { importId: string; doc: DocumentOut }) {
  const { t } = useTranslation();
  const src = usePreview(importId, doc).data ?? null;
  const [open, setOpen] = useState(false);
  const opener = useRef<HTMLButtonElement>(null);
  if (!src) {
    return (
      <div className="thumb-empty document-thumb" aria-hidden="true">
        {t("confirm.study.noPreview")}
      </div>
    );
  }
  return (
    <>
      <button
        ref={opener}
        type="button"
        className="thumb-open document-thumb"
        aria-label={t("confirm.documents.open", { name: doc.path })}
        onClick={() => setOpen(true)}
      >
        <img src={src} alt="" width={96} height={96} />
      </button>
      {open ? (
        <PreviewDialog
          doc={doc}
          src={src}
          onClose={() => {
            setOpen(false);
            opener.current?.focus();
          }}
        />
      ) : null}
    </>
  );
}

function DocumentRow({
  importId,
  doc,
  targets,
  choices,
  onChange,
}: {
  importId: string;
  doc: DocumentOut;
  targets: StudyOut[];
  choices: DocumentChoices;
  onChange: (next: DocumentChoices) => void;
}) {
  const { t } = useTranslation();
  const locale = useLocale();
  const nameId = useId();
  const selectId = useId();
  const warningId = useId();
  const choice = choices[doc.id];
  const on = choice?.on ?? false;
  const stranded = on && strandedDocuments({ [doc.id]: choice! }, targets).length > 0;
  const study = on && !stranded ? targets.find((s) => s.study_instance_uid === choice?.study) : undefined;
  // the PACS takes no object of its kind (asked during the analysis): filing it would fail its study
  const refused = doc.pacs_accepts === false;
  const refusedId = useId();
  return (
    <li className={`document${on ? " is-on" : ""}${stranded ? " is-stranded" : ""}`} data-document={doc.path}>
      <DocumentThumb importId={importId} doc={doc} />
      <div className="document-body">
        <label className="check">
          <input
            type="checkbox"
            checked={on}
            disabled={!on && (targets.length === 0 || refused)}
            aria-describedby={stranded ? warningId : refused ? refusedId : undefined}
            onChange={(e) => onChange(tickDocument(choices, doc.id, e.target.checked, targets))}
          />
          <span>
            <span className="visually-hidden">
              {t("confirm.documents.file")}
              {t("common.colon")}
            </span>
            <span id={nameId} className="document-name mono">
              {doc.path}
            </span>
          </span>
        </label>
        <p className="hint document-facts">{documentFacts(t, locale, doc)}</p>
        {refused ? (
          <p id={refusedId} className="document-refused">
            {t("confirm.documents.pacsRefuses", { kind: doc.kind.toUpperCase() })}
          </p>
        ) : null}
        {on && (targets.length > 1 || stranded) ? (
          <p className="document-study">
            <label htmlFor={selectId}>
              {t("confirm.documents.withStudy")}
              {t("common.colon")}
            </label>
            <select
              id={selectId}
              value={stranded ? "" : (choice?.study ?? "")}
              aria-describedby={stranded ? warningId : undefined}
              onChange={(e) => onChange(chooseStudy(choices, doc.id, e.target.value))}
            >
              {stranded ? (
                <option value="" disabled>
                  {t("confirm.documents.choose")}
                </option>
              ) : null}
              {targets.map((s) => (
                <option key={s.study_instance_uid} value={s.study_instance_uid}>
                  {targetLabel(t, locale, s)}
                </option>
              ))}
            </select>
          </p>
        ) : study ? (
          <p className="document-study">
            {t("confirm.documents.withStudy")}
            {t("common.colon")}
            <strong>{targetLabel(t, locale, study)}</strong>
          </p>
        ) : null}
        {stranded ? (
          <p id={warningId} className="document-stranded" role="status">
            <span aria-hidden="true">⚠ </span>
            {t("confirm.documents.stranded")}
          </p>
        ) : null}
      </div>
    </li>
  );
}

/**
 * The medium's documents, when it has any. `targets`: the studies a ticked document may go with
 * now (`domain/documents.documentTargets`).
 */
export function DocumentsSection({
  importId,
  documents,
  targets,
  choices,
  onChange,
  noTarget,
}: {
  importId: string;
  documents: DocumentOut[];
  targets: StudyOut[];
  choices: DocumentChoices;
  onChange: (next: DocumentChoices) => void;
  /** what to say when no study can take a document (by default: select one) */
  noTarget?: string;
}) {
  const { t } = useTranslation();
  const headingId = useId();
  if (documents.length === 0) return null;
  return (
    <section className="card documents" aria-labelledby={headingId}>
      <h2 id={headingId} className="card-title">
        {t("confirm.documents.title")}
      </h2>
      <p>{t("confirm.documents.intro")}</p>
      {targets.length === 0 ? <Notice tone="info">{noTarget ?? t("confirm.documents.noStudy")}</Notice> : null}
      <ul className="plain-list document-list">
        {documents.map((doc) => (
          <DocumentRow key={doc.id} importId={importId} doc={doc} targets={targets} choices={choices} onChange={onChange} />
        ))}
      </ul>
    </section>
  );
}

/** In the decision bar: the ticked documents whose study is no longer sent, Confirm waiting for them. */
export function StrandedNotice({ count }: { count: number }) {
  const { t } = useTranslation();
  if (count === 0) return null;
  return (
    <Notice tone="warning" role="status">
      {t("confirm.documents.strandedBar", { count })}
    </Notice>
  );
}
