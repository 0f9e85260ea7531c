/**
 * Confirming an import into the temporary zone: no order, so no identity to compare; the user
 * chooses the studies to keep with the identity written on the medium.
 */
import { useEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate } from "react-router";
import { ApiError, type ImportOut } from "../../api/client";
import { useCancel, useConfirm } from "../../api/queries";
import { Notice } from "../../components/Notice";
import { SexText } from "../../components/PatientPanel";
import { useLocale } from "../../components/useLocale";
import { allAlreadyPresent, initialSelection, isAlreadyPresent, isSelectable, studiesToConfirm } from "../../domain/identity";
import { formatPersonName } from "../../domain/personName";
import { formatDicomDate } from "../../i18n/format";

export function TemporaryConfirmation({ imp }: { imp: ImportOut }) {
  const { t } = useTranslation();
  const locale = useLocale();
  const navigate = useNavigate();
  const [selected, setSelected] = useState<string[]>(() => initialSelection(imp.studies));
  const confirm = useConfirm(imp.id);
  const cancel = useCancel(imp.id);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  // the studies ticked; when every study is on the PACS already, those (ignored, nothing sent)
  const picked = studiesToConfirm(imp.studies, selected);
  const error = confirm.error ?? cancel.error;
  return (
    <>
      <h1 ref={heading} tabIndex={-1}>
        {t("zone.confirmTitle")}
      </h1>
      <Notice tone="info">{t("zone.confirmIntro")}</Notice>
      {imp.studies.map((study) => {
        const uid = study.study_instance_uid;
        const ok = isSelectable(study);
        const headingId = `temp-${uid}`;
        return (
          <article key={uid} className={`card study-card${ok ? "" : " is-excluded"}`} aria-labelledby={headingId}>
            <header className="study-head">
              <label className="check">
                <input
                  type="checkbox"
                  checked={ok && selected.includes(uid)}
                  disabled={!ok}
                  onChange={(e) => setSelected((s) => (e.target.checked ? [...s, uid] : s.filter((x) => x !== uid)))}
                />
                <span>
                  <span className="visually-hidden">{t("confirm.study.select")}: </span>
                  <span id={headingId} className="study-title">
                    {study.description || t("confirm.study.noDescription")}
                  </span>
                </span>
              </label>
            </header>
            {isAlreadyPresent(study) ? (
              <Notice tone="info" title={t("confirm.study.onPacs")}>
                <p>{t("confirm.study.onPacsBody")}</p>
              </Notice>
            ) : null}
            <dl className="facts study-facts">
              <div>
                <dt>{t("confirm.mediumPatient")}</dt>
                <dd>
                  {formatPersonName(study.patient.name) || t("common.none")}
                  {study.patient.birth_date ? `, ${formatDicomDate(study.patient.birth_date, locale)}` : ""}
                  {study.patient.sex ? (
                    <>
                      , <SexText sex={study.patient.sex} />
                    </>
                  ) : null}
                </dd>
              </div>
              <div>
                <dt>{t("confirm.study.date")}</dt>
                <dd>{study.date ? formatDicomDate(study.date, locale) : t("common.none")}</dd>
              </div>
              <div>
                <dt>{t("confirm.study.modality")}</dt>
                <dd>{study.modalities.join(", ") || t("common.none")}</dd>
              </div>
              <div>
                <dt>{t("confirm.study.series")}</dt>
                <dd>{t("confirm.study.counts", { series: study.series_count, instances: study.instance_count })}</dd>
              </div>
              <div className="wide">
                <dt>{t("confirm.study.uid")}</dt>
                <dd className="mono uid">{uid}</dd>
              </div>
            </dl>
          </article>
        );
      })}
      <section className="card decision" aria-label={t("zone.confirmTitle")}>
        {allAlreadyPresent(imp.studies) ? (
          <Notice tone="info" title={t("confirm.allPresent.title")}>
            <p>{t("confirm.allPresent.body")}</p>
          </Notice>
        ) : null}
        {error ? (
          <Notice tone="danger" role="alert">
            {error instanceof ApiError && error.message ? error.message : t("errors.network")}
          </Notice>
        ) : null}
        <div className="actions decision-actions">
          <button
            type="button"
            className="button button-success button-large"
            disabled={picked.length === 0 || confirm.isPending || cancel.isPending}
            onClick={() =>
              confirm.mutate({ studies: picked, acknowledge_identity: false }, { onSuccess: () => navigate(`/imports/${imp.id}`, { replace: true }) })
            }
          >
            <span aria-hidden="true">✓ </span>
            {confirm.isPending ? t("confirm.confirming") : t("zone.confirm")}
          </button>
          <button
            type="button"
            className="button button-secondary"
            disabled={confirm.isPending || cancel.isPending}
            onClick={() => cancel.mutate(undefined, { onSuccess: () => navigate(`/imports/${imp.id}/cancelled`, { replace: true }) })}
          >
            <span aria-hidden="true">✕ </span>
            {cancel.isPending ? t("confirm.cancelling") : t("confirm.cancel")}
          </button>
        </div>
      </section>
    </>
  );
}
