import { useId } from "react";
import { useTranslation } from "react-i18next";
import type { PatientFound } from "../../api/client";
import { Badge } from "../../components/Badge";
import { Notice } from "../../components/Notice";
import { BirthDate, SexText } from "../../components/PatientPanel";
import { useLocale } from "../../components/useLocale";
import {
  FIELDS,
  fieldLines,
  filedBeforeOf,
  fieldStatus,
  fieldTone,
  overallOf,
  overallTone,
  reasonKey,
  type Compared,
  type FiledBeforeLike,
  type IdentityLike,
  type PersonLike,
} from "../../domain/identity";
import { formatPersonName } from "../../domain/personName";
import en from "../../i18n/en";
import { formatDate, formatDicomDate } from "../../i18n/format";

const FIELD_ICONS = { success: "✓", info: "≈", warning: "?", danger: "✕" } as const;
/** Each compared field's row header: the words every screen uses for it. */
const FIELD_TERMS = { name: "terms.name", birth_date: "terms.birthDate", sex: "terms.sex" } as const;

/** A server reason code, in words (or the code itself, when this version does not know it). */
function ReasonItem({ code }: { code: string }) {
  const { t } = useTranslation();
  const key = reasonKey(code, en.identity.reason);
  return (
    <li data-reason={code}>
      <span aria-hidden="true">• </span>
      {key ? t(key) : t("identity.unknownReason", { code })}
    </li>
  );
}

/**
 * What the medium's patient was filed under before (the server remembers it): under another
 * patient of the hospital, a danger notice (the server has made the comparison a mismatch, its
 * reason is in the list); under the order's own patient, an information. Nothing when never filed.
 * Each local patient is named with its ID and, when it has one, its issuer.
 */
function FiledBefore({ identity }: { identity: IdentityLike | null }) {
  const { t } = useTranslation();
  const locale = useLocale();
  const { same, other } = filedBeforeOf(identity);
  if (!same.length && !other.length) return null;
  const none = t("common.none");
  const words = (f: FiledBeforeLike) => ({
    name: formatPersonName(f.patient.name) || none,
    // with its issuer: two patients of the same ID under two issuers never read alike
    id: f.patient.issuer.trim() ? `${f.patient.id || none}, ${f.patient.issuer.trim()}` : f.patient.id || none,
    date: formatDate(f.at, locale),
    by: f.by || none,
  });
  const key = (f: FiledBeforeLike) => `${f.patient.id}|${f.patient.issuer}|${f.at}`;
  return (
    <div className="filed-before">
      {other.length ? (
        <Notice tone="danger">
          <ul className="plain-list">
            {other.map((f) => (
              <li key={key(f)} data-filed-before="other">
                <strong>{t("confirm.filedBefore.other", words(f))}</strong>
              </li>
            ))}
          </ul>
          <p>{t("confirm.filedBefore.check")}</p>
        </Notice>
      ) : null}
      {same.length ? (
        <Notice tone="info">
          <ul className="plain-list">
            {same.map((f) => (
              <li key={key(f)} data-filed-before="same">
                {t("confirm.filedBefore.same", words(f))}
              </li>
            ))}
          </ul>
        </Notice>
      ) : null}
    </div>
  );
}

/**
 * The order's patient beside the medium's, field by field, with the banner and the reasons.
 * `orderPatient` is the patient the comparison was made with (the server's `compared_with`, or
 * the worklist order shown): the words and badges belong to that comparison. Under the table,
 * what the medium's patient was filed under before, when the server remembers it. `withoutOrder`:
 * the patient a session was launched for without an order (no "order" to name).
 */
export function IdentityCompare({
  orderPatient,
  found,
  identity,
  headingId,
  withoutOrder = false,
}: {
  orderPatient: PersonLike;
  found: PatientFound;
  identity: IdentityLike | null;
  headingId: string;
  withoutOrder?: boolean;
}) {
  const { t } = useTranslation();
  const locale = useLocale();
  const overall = overallOf(identity);
  const tone = overallTone(overall);
  const o = orderPatient;
  const rows: Record<(typeof FIELDS)[number], { ours: React.ReactNode; theirs: React.ReactNode; raw: string }> = {
    name: {
      ours: formatPersonName(o.name),
      theirs: formatPersonName(found.name) || t("common.none"),
      raw: found.name,
    },
    birth_date: {
      ours: <BirthDate value={o.birth_date} />,
      theirs: found.birth_date ? formatDicomDate(found.birth_date, locale) : t("common.none"),
      raw: found.birth_date,
    },
    sex: { ours: <SexText sex={o.sex} />, theirs: <SexText sex={found.sex} />, raw: found.sex },
  };
  const { lines, others } = fieldLines(identity);
  return (
    <div className={`identity identity-${tone}`}>
      <div className="identity-banner">
        <Badge tone={tone === "info" ? "info" : tone} icon={FIELD_ICONS[tone]} large>
          {t(`confirm.overall.${overall}`)}
        </Badge>
        <span className="identity-help">{t(`confirm.overallHelp.${overall}`)}</span>
      </div>
      <table className="table compare" aria-labelledby={headingId}>
        <thead>
          <tr>
            <th scope="col">
              <span className="visually-hidden">{t("terms.name")}</span>
            </th>
            <th scope="col">{withoutOrder ? t("patientLaunch.column") : t("confirm.orderPatient")}</th>
            <th scope="col">{t("terms.mediumPatient")}</th>
            <th scope="col">
              <span className="visually-hidden">{t("previous.status")}</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {FIELDS.map((field) => {
            const status = fieldStatus(identity, field);
            const ftone = fieldTone(status);
            const row = rows[field];
            return (
              <tr key={field} className={`field-${ftone}`}>
                <th scope="row">{t(FIELD_TERMS[field])}</th>
                <td>{row.ours}</td>
                <td>
                  <strong>{row.theirs}</strong>
                  {field === "name" && row.raw && row.raw !== formatPersonName(row.raw) ? (
                    <div className="hint mono">{t("confirm.asWritten", { value: row.raw })}</div>
                  ) : null}
                </td>
                <td>
                  {identity ? (
                    <Badge tone={ftone} icon={FIELD_ICONS[ftone]}>
                      {t(`confirm.fieldStatus.${status}`)}
                    </Badge>
                  ) : null}
                </td>
              </tr>
            );
          })}
          <tr>
            <th scope="row">{t("confirm.otherId")}</th>
            <td className="mono">{o.id}</td>
            <td className="mono">{found.id || t("common.none")}</td>
            <td />
          </tr>
        </tbody>
      </table>
      <FiledBefore identity={identity} />
      {lines.length || others.length ? (
        <div className="reasons">
          <p className="visually-hidden">{t("confirm.reasonsTitle")}</p>
          <ul>
            {/* one line per field, in the words of its badge, with the server's reasons about it */}
            {lines.map((line) => (
              <li key={line.field} className={`reason-line reason-${line.tone}`} data-field={line.field}>
                <span className="reason-line-text">
                  <span aria-hidden="true">{FIELD_ICONS[line.tone]} </span>
                  {t(`confirm.fieldLine.${line.status}.${line.field}`)}
                </span>
                {line.reasons.length ? (
                  <ul>
                    {line.reasons.map((code) => (
                      <ReasonItem key={code} code={code} />
                    ))}
                  </ul>
                ) : null}
              </li>
            ))}
            {others.map((code) => (
              <ReasonItem key={code} code={code} />
            ))}
          </ul>
        </div>
      ) : null}
    </div>
  );
}

/**
 * Every patient found in a study, each compared with the order's patient: the first as the
 * study's patient, any other under its own heading, so a second patient hidden in a study is
 * never missed. `withoutOrder`: the patient a session was launched for without an order.
 */
export function PatientsCompare({
  orderPatient,
  comparisons,
  headingId,
  withoutOrder = false,
}: {
  orderPatient: PersonLike;
  comparisons: Compared<PatientFound>[];
  headingId: string;
  withoutOrder?: boolean;
}) {
  const { t } = useTranslation();
  const base = useId();
  const [first, ...others] = comparisons;
  if (!first) return null;
  return (
    <>
      {others.length ? (
        <Notice tone="warning" title={t("confirm.patients.title", { count: comparisons.length })}>
          <p>{t("confirm.patients.body")}</p>
        </Notice>
      ) : null}
      {others.length ? (
        <h3 className="other-patient-title">{t("confirm.patients.other", { number: 1, count: comparisons.length })}</h3>
      ) : null}
      <IdentityCompare
        orderPatient={orderPatient}
        found={first.patient}
        identity={first.identity}
        headingId={headingId}
        withoutOrder={withoutOrder}
      />
      {others.map((c, i) => {
        const id = `${base}-${i}`;
        return (
          <section key={id} className="other-patient" aria-labelledby={id}>
            <h3 id={id} className="other-patient-title">
              {t("confirm.patients.other", { number: i + 2, count: comparisons.length })}
            </h3>
            <IdentityCompare
              orderPatient={orderPatient}
              found={c.patient}
              identity={c.identity}
              headingId={id}
              withoutOrder={withoutOrder}
            />
          </section>
        );
      })}
    </>
  );
}
