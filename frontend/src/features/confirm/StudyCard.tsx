/**
 * A study of the medium, as each confirmation shows it: the tick that selects it (with its
 * description as the card's name), why it cannot be imported when it cannot (on the PACS
 * already, held there under another patient), what of it the PACS takes only converted or not at
 * all when it can (`StudyReach`), then what the screen adds (`children`).
 */
import { useId, type ReactNode } from "react";
import { useTranslation } from "react-i18next";
import type { StudyOut } from "../../api/client";
import { Notice } from "../../components/Notice";
import { SexText } from "../../components/PatientPanel";
import { StudyReach } from "../../components/StudyReach";
import { useLocale } from "../../components/useLocale";
import { isAlreadyPresent, isSelectable } from "../../domain/identity";
import { formatPersonName } from "../../domain/personName";
import { formatDicomDate, formatDicomTime } from "../../i18n/format";

export function StudyCard({
  study,
  selected,
  onToggle,
  headingId,
  children,
}: {
  study: StudyOut;
  selected: boolean;
  onToggle: (on: boolean) => void;
  /** the id of the card's name, when the content refers to it (the comparison's table) */
  headingId?: string;
  children?: ReactNode;
}) {
  const { t } = useTranslation();
  const ownId = useId();
  const id = headingId ?? ownId;
  const selectable = isSelectable(study);
  return (
    <article className={`card study-card${selectable ? "" : " is-excluded"}`} aria-labelledby={id}>
      <header className="study-head">
        <label className="check">
          <input
            type="checkbox"
            checked={selectable && selected}
            disabled={!selectable}
            onChange={(e) => onToggle(e.target.checked)}
          />
          <span>
            <span className="visually-hidden">
              {t("confirm.study.select")}
              {t("common.colon")}
            </span>
            <span id={id} className="study-title">
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
      {study.pacs_conflict ? <Notice tone="danger" title={t("confirm.study.conflict")} /> : null}
      {/* nothing of a study that is not sent reaches the PACS: nothing to say about it */}
      {selectable ? <StudyReach study={study} /> : null}
      {children}
    </article>
  );
}

/**
 * The facts of a study. `withOrder`: beside a comparison with the order's patient, with the
 * time, accession number and institution; otherwise (temporary zone) the patient written on the
 * medium comes first, as nothing else shows it.
 */
export function StudyFacts({ study, withOrder }: { study: StudyOut; withOrder: boolean }) {
  const { t } = useTranslation();
  const locale = useLocale();
  const none = t("common.none");
  return (
    <dl className="facts study-facts">
      {withOrder ? null : (
        <div>
          <dt>{t("terms.mediumPatient")}</dt>
          <dd>
            {formatPersonName(study.patient.name) || none}
            {study.patient.birth_date ? `, ${formatDicomDate(study.patient.birth_date, locale)}` : ""}
            {study.patient.sex ? (
              <>
                , <SexText sex={study.patient.sex} />
              </>
            ) : null}
          </dd>
        </div>
      )}
      <div>
        <dt>{t("confirm.study.date")}</dt>
        <dd>
          {study.date ? formatDicomDate(study.date, locale) : none}
          {withOrder && study.time ? ` ${formatDicomTime(study.time, locale)}` : null}
        </dd>
      </div>
      <div>
        <dt>{t("confirm.study.modality")}</dt>
        <dd>{study.modalities.join(", ") || none}</dd>
      </div>
      {withOrder ? (
        <>
          <div>
            <dt>{t("terms.accession")}</dt>
            <dd className="mono">{study.accession_number || none}</dd>
          </div>
          <div>
            <dt>{t("confirm.study.institution")}</dt>
            <dd>{study.institution || none}</dd>
          </div>
        </>
      ) : null}
      <div>
        <dt>{t("terms.series")}</dt>
        <dd>{t("confirm.study.counts", { series: study.series_count, instances: study.instance_count })}</dd>
      </div>
      <div className="wide">
        <dt>{t("terms.studyUid")}</dt>
        <dd className="mono uid">{study.study_instance_uid}</dd>
      </div>
    </dl>
  );
}
