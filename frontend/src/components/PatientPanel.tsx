import { useTranslation } from "react-i18next";
import type { OrderOut } from "../api/client";
import type { PersonLike } from "../domain/identity";
import { isPatientLaunch } from "../domain/patientLaunch";
import { formatPersonName } from "../domain/personName";
import { ageInYears, formatDicomDate } from "../i18n/format";
import { Notice } from "./Notice";
import { useLocale } from "./useLocale";

export function SexText({ sex }: { sex: string }) {
  const { t } = useTranslation();
  const s = sex.trim().toUpperCase();
  return <>{s === "M" || s === "F" || s === "O" ? t(`sex.${s}`) : t("sex.unknown")}</>;
}

export function BirthDate({ value }: { value: string }) {
  const { t } = useTranslation();
  const locale = useLocale();
  const age = ageInYears(value);
  if (!value.trim()) return <>{t("common.none")}</>;
  return (
    <>
      {formatDicomDate(value, locale)}
      {age !== null ? ` (${t("patient.age", { count: age })})` : null}
    </>
  );
}

/** A patient on one line: name, birth date, hospital ID. */
export function PatientShort({ patient }: { patient: PersonLike }) {
  const { t } = useTranslation();
  const locale = useLocale();
  return (
    <>
      <strong>{formatPersonName(patient.name) || t("common.none")}</strong> (
      {patient.birth_date ? formatDicomDate(patient.birth_date, locale) : t("common.none")}, <SexText sex={patient.sex} />,{" "}
      <span className="mono">{patient.id || t("common.none")}</span>)
    </>
  );
}

/**
 * The order's patient, as the RIS sent it: the reference for every check. Launched for a patient
 * without an order, the patient alone, and what that means for the images (filed with no
 * accession number): the server's key of the patient is never shown.
 */
export function PatientPanel({ order }: { order: OrderOut }) {
  const { t } = useTranslation();
  const p = order.patient;
  const patientOnly = isPatientLaunch(order);
  return (
    <section className="card patient-panel" aria-labelledby="patient-title" data-kind={order.kind}>
      <h2 id="patient-title" className="card-title">
        {patientOnly ? t("patientLaunch.title") : t("patient.title")}
      </h2>
      <p className="patient-name">{formatPersonName(p.name)}</p>
      <dl className="facts">
        <div>
          <dt>{t("terms.birthDate")}</dt>
          <dd>
            <BirthDate value={p.birth_date} />
          </dd>
        </div>
        <div>
          <dt>{t("terms.sex")}</dt>
          <dd>
            <SexText sex={p.sex} />
          </dd>
        </div>
        <div>
          <dt>{t("terms.hospitalId")}</dt>
          <dd className="mono">{p.issuer ? `${p.id} (${p.issuer})` : p.id}</dd>
        </div>
        <div>
          <dt>{t("terms.accession")}</dt>
          {patientOnly ? <dd>{t("patientLaunch.noAccession")}</dd> : <dd className="mono">{order.accession_number}</dd>}
        </div>
        {patientOnly ? null : (
          <div>
            <dt>{t("patient.procedure")}</dt>
            <dd>{order.procedure.description || order.procedure.code || t("common.none")}</dd>
          </div>
        )}
      </dl>
      {patientOnly ? (
        <Notice tone="info">
          <p>
            <strong>{t("patientLaunch.statement")}</strong>
          </p>
          <p>{t("patientLaunch.mediumAccession")}</p>
        </Notice>
      ) : null}
      <p className="hint">{t("patient.checkNotice")}</p>
    </section>
  );
}
