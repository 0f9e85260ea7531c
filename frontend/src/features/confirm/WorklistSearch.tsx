/**
 * Worklist mode's search: for one study of the medium, the orders of the RIS's worklist found
 * from a search pre-filled with the medium's patient (one field per name part, the birth date,
 * today's date), ranked, each with its identity badge; the user picks one. When nothing is found,
 * a referent (role `temporary_zone`) may send the import to the temporary zone instead.
 */
import { useId, useState } from "react";
import { useTranslation } from "react-i18next";
import type { PatientFound, WorklistCandidate } from "../../api/client";
import { useMoveToTemporary, useSessionContext, useWorklist, type WorklistQuery } from "../../api/queries";
import { ApiErrorNotice } from "../../components/ApiErrorNotice";
import { Badge } from "../../components/Badge";
import { Notice } from "../../components/Notice";
import { SexText } from "../../components/PatientPanel";
import { useLocale } from "../../components/useLocale";
import { overallOf, overallTone } from "../../domain/identity";
import { formatPersonName } from "../../domain/personName";
import { prefill } from "../../domain/worklist";
import en from "../../i18n/en";
import { formatDicomDate } from "../../i18n/format";

const EMPTY_QUERY: WorklistQuery = { name: "", given: "", birth_date: "", sex: "", date: "", accession: "", patient_id: "" };

const OVERALL_ICONS = { success: "✓", info: "≈", warning: "?", danger: "✕" } as const;

/** `YYYYMMDD` ↔ the `YYYY-MM-DD` of a date input. */
const toIso = (d: string) => (/^\d{8}$/.test(d) ? `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}` : "");
const fromIso = (d: string) => d.replaceAll("-", "");

function StepText({ step }: { step: string }) {
  const { t } = useTranslation();
  const known = Object.hasOwn(en.worklist.step, step);
  return <>{known ? t(`worklist.step.${step as keyof typeof en.worklist.step}`) : step}</>;
}

function IdentityBadge({ candidate }: { candidate: WorklistCandidate }) {
  const { t } = useTranslation();
  const overall = overallOf(candidate.identity);
  const tone = overallTone(overall);
  return (
    <Badge tone={tone} icon={OVERALL_ICONS[tone]}>
      {t(`confirm.overall.${overall}`)}
    </Badge>
  );
}

function SearchForm({ initial, onSearch, busy }: { initial: WorklistQuery; onSearch: (q: WorklistQuery) => void; busy: boolean }) {
  const { t } = useTranslation();
  const [q, setQ] = useState(initial);
  const id = useId();
  const field = (key: Exclude<keyof WorklistQuery, "import_id" | "study">, label: string, type: "text" | "date" = "text", extra = {}) => (
    <div className="field">
      <label htmlFor={`${id}-${key}`}>{label}</label>
      <input
        id={`${id}-${key}`}
        type={type}
        value={type === "date" ? toIso(q[key]) : q[key]}
        onChange={(e) => setQ({ ...q, [key]: type === "date" ? fromIso(e.target.value) : e.target.value })}
        {...extra}
      />
    </div>
  );
  return (
    <form
      className="worklist-form"
      onSubmit={(e) => {
        e.preventDefault();
        onSearch(q);
      }}
    >
      <div className="field-grid">
        {field("name", t("worklist.field.name"), "text", { autoComplete: "off", maxLength: 200 })}
        {field("given", t("worklist.field.given"), "text", { autoComplete: "off", maxLength: 64 })}
        {field("birth_date", t("terms.birthDate"), "date")}
        <div className="field">
          <label htmlFor={`${id}-sex`}>{t("terms.sex")}</label>
          <select id={`${id}-sex`} value={q.sex} onChange={(e) => setQ({ ...q, sex: e.target.value })}>
            <option value="">{t("worklist.field.anySex")}</option>
            <option value="M">{t("sex.M")}</option>
            <option value="F">{t("sex.F")}</option>
            <option value="O">{t("sex.O")}</option>
          </select>
        </div>
        {field("date", t("worklist.field.date"), "date")}
        {field("accession", t("terms.accession"), "text", { autoComplete: "off", maxLength: 16 })}
        {field("patient_id", t("terms.hospitalId"), "text", { autoComplete: "off", maxLength: 64 })}
      </div>
      <p className="hint">{t("worklist.searchHint")}</p>
      <div className="actions">
        <button type="submit" className="button button-primary" disabled={busy}>
          {t("worklist.search")}
        </button>
      </div>
    </form>
  );
}

/**
 * A patient the worklist does not know: a referent (role `temporary_zone`) sends this import to
 * the temporary zone without loading the medium again; the confirmation becomes the temporary
 * zone's once the import is read again.
 */
function ToTemporary({ importId }: { importId: string }) {
  const { t } = useTranslation();
  const roles = useSessionContext().data?.user.roles ?? [];
  const move = useMoveToTemporary(importId);
  if (!roles.includes("temporary_zone")) return null;
  return (
    <>
      <p>{t("worklist.toTemporaryHint")}</p>
      <ApiErrorNotice error={move.error} />
      <div className="actions">
        <button type="button" className="button button-secondary" disabled={move.isPending} onClick={() => move.mutate()}>
          {move.isPending ? t("worklist.movingToTemporary") : t("worklist.toTemporary")}
        </button>
      </div>
    </>
  );
}

/** Nothing found: what to do next, and a way to start the search afresh. */
function NothingFound({ importId, onClearAll }: { importId: string; onClearAll: () => void }) {
  const { t } = useTranslation();
  return (
    <Notice tone="warning" title={t("worklist.noResults")}>
      <ul className="plain-list">
        <li>{t("worklist.noResultsFields")}</li>
        <li>{t("worklist.noResultsRis")}</li>
      </ul>
      <div className="actions">
        <button type="button" className="button button-secondary" onClick={onClearAll}>
          {t("worklist.clearAll")}
        </button>
      </div>
      <ToTemporary importId={importId} />
    </Notice>
  );
}

function Candidates({
  importId,
  items,
  chosen,
  onChoose,
  name,
  onClearAll,
}: {
  importId: string;
  items: WorklistCandidate[];
  chosen: string | undefined;
  onChoose: (c: WorklistCandidate) => void;
  name: string;
  onClearAll: () => void;
}) {
  const { t } = useTranslation();
  const locale = useLocale();
  if (items.length === 0) return <NothingFound importId={importId} onClearAll={onClearAll} />;
  return (
    <fieldset className="candidates">
      <legend>{t("worklist.results", { count: items.length })}</legend>
      <p className="hint">
        {t("worklist.foundBy")}{t("common.colon")}<StepText step={items[0]!.step} />. {t("worklist.badgeHint")}
      </p>
      <ul className="plain-list candidate-list">
        {items.map((c) => (
          <li key={c.accession_number} className={`candidate${chosen === c.accession_number ? " is-chosen" : ""}`}>
            <label className="check">
              <input
                type="radio"
                name={name}
                value={c.accession_number}
                checked={chosen === c.accession_number}
                onChange={() => onChoose(c)}
              />
              <span>
                <span className="visually-hidden">{t("worklist.choose")}{t("common.colon")}</span>
                <strong>{formatPersonName(c.patient.name)}</strong>{" "}
                <span className="mono">{c.accession_number}</span>
              </span>
            </label>
            <div className="candidate-facts">
              <IdentityBadge candidate={c} />
              <span>
                {t("worklist.born")} {c.patient.birth_date ? formatDicomDate(c.patient.birth_date, locale) : t("common.none")}
              </span>
              <span>
                <SexText sex={c.patient.sex} />
              </span>
              <span>
                {t("terms.hospitalId")} <span className="mono">{c.patient.id || t("common.none")}</span>
              </span>
              <span>{c.procedure.description || t("common.none")}</span>
              <span>
                {t("worklist.scheduled")} {c.scheduled_date ? formatDicomDate(c.scheduled_date, locale) : t("common.none")}
              </span>
              <span className="hint">
                <StepText step={c.step} />
              </span>
            </div>
          </li>
        ))}
      </ul>
    </fieldset>
  );
}

/** One study of the medium, with its worklist search. */
export function StudySearch({
  importId,
  study,
  chosen,
  onChoose,
}: {
  /** the import the study belongs to: the badges compare each order with its patient on the medium */
  importId: string;
  study: { study_instance_uid: string; description: string; patient: PatientFound; date: string };
  chosen: string | undefined;
  onChoose: (c: WorklistCandidate) => void;
}) {
  const { t } = useTranslation();
  const locale = useLocale();
  const [initial] = useState(() => prefill(study.patient));
  const [query, setQuery] = useState<WorklistQuery>(initial);
  // "Clear all" starts the form afresh (a new form, every field empty); the last answer stays
  const [form, setForm] = useState({ key: 0, initial });
  const search = useWorklist({ ...query, import_id: importId, study: study.study_instance_uid });
  const radioName = useId();
  return (
    <div className="study-search">
      <p>
        {t("terms.mediumPatient")}{t("common.colon")}<strong>{formatPersonName(study.patient.name) || t("common.none")}</strong>
        {study.patient.birth_date ? `, ${formatDicomDate(study.patient.birth_date, locale)}` : ""}
        {study.patient.sex ? (
          <>
            , <SexText sex={study.patient.sex} />
          </>
        ) : null}{" "}
        <span className="hint">({t("confirm.asWritten", { value: study.patient.name })})</span>
      </p>
      <SearchForm key={form.key} initial={form.initial} onSearch={setQuery} busy={search.isFetching} />
      <div aria-live="polite">
        {search.isFetching ? <p role="status">{t("worklist.searching")}</p> : null}
        <ApiErrorNotice error={search.error} />
        {search.data && !search.isFetching ? (
          <Candidates
            importId={importId}
            items={search.data}
            chosen={chosen}
            onChoose={onChoose}
            name={radioName}
            onClearAll={() => setForm((f) => ({ key: f.key + 1, initial: EMPTY_QUERY }))}
          />
        ) : null}
      </div>
    </div>
  );
}
