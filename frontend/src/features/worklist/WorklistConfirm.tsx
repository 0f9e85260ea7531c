/**
 * Worklist mode (a launch without an order): once the medium is analysed, the user finds the
 * order of each study in the worklist (a search pre-filled from the medium's patient, the French
 * seed's advice: one field per name part, the birth date, today's date), picks one per study, then
 * checks the identities before confirming with `order_for_study` and `seen_patients` (the patient
 * of each order as the checks showed it). Every patient found in a study is compared.
 */
import { useEffect, useId, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate } from "react-router";
import { ApiError, type ImportOut, type PatientFound, type WorklistCandidate } from "../../api/client";
import { useQueries } from "@tanstack/react-query";
import {
  renewedCode,
  useCancel,
  useConfirm,
  useWorklist,
  worklistQueryOptions,
  type RenewedCode,
  type WorklistQuery,
} from "../../api/queries";
import { Badge } from "../../components/Badge";
import { SexText } from "../../components/PatientPanel";
import { Notice } from "../../components/Notice";
import { useLocale } from "../../components/useLocale";
import { worklistCheck, type OrderCheck } from "../../domain/checks";
import {
  allAlreadyPresent,
  comparisonsOf,
  isAlreadyPresent,
  isSelectable,
  overallOf,
  overallTone,
  seenPatient,
} from "../../domain/identity";
import { formatPersonName } from "../../domain/personName";
import en from "../../i18n/en";
import { formatDicomDate } from "../../i18n/format";
import { RenewedNotice } from "../confirm/ConfirmPage";
import { PatientsCompare } from "../confirm/IdentityCompare";

const OVERALL_ICONS = { success: "✓", info: "≈", warning: "?", danger: "✕" } as const;

function todayDicom(now: Date = new Date()): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}`;
}

/** `YYYYMMDD` ↔ the `YYYY-MM-DD` of a date input. */
const toIso = (d: string) => (/^\d{8}$/.test(d) ? `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}` : "");
const fromIso = (d: string) => d.replaceAll("-", "");

/** The search the seed advises for a patient read on a medium: family and given names apart, no wildcards. */
export function prefill(patient: PatientFound, today: Date = new Date()): WorklistQuery {
  const clean = (s: string) => s.replace(/[*?%]/g, " ").replace(/\s+/g, " ").trim();
  const parts = patient.name.split("^");
  const sex = /^[MFO]$/i.test(patient.sex) ? patient.sex.toUpperCase() : "";
  return {
    name: clean(parts[0] ?? ""),
    given: clean(parts[1] ?? ""),
    birth_date: /^\d{8}$/.test(patient.birth_date) && patient.birth_date !== "00000000" ? patient.birth_date : "",
    sex,
    date: todayDicom(today),
    accession: "",
    patient_id: "",
  };
}

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
  const field = (key: keyof WorklistQuery, label: string, type: "text" | "date" = "text", extra = {}) => (
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
        {field("birth_date", t("worklist.field.birthDate"), "date")}
        <div className="field">
          <label htmlFor={`${id}-sex`}>{t("worklist.field.sex")}</label>
          <select id={`${id}-sex`} value={q.sex} onChange={(e) => setQ({ ...q, sex: e.target.value })}>
            <option value="">{t("worklist.field.anySex")}</option>
            <option value="M">{t("sex.M")}</option>
            <option value="F">{t("sex.F")}</option>
            <option value="O">{t("sex.O")}</option>
          </select>
        </div>
        {field("date", t("worklist.field.date"), "date")}
        {field("accession", t("worklist.field.accession"), "text", { autoComplete: "off", maxLength: 16 })}
        {field("patient_id", t("worklist.field.patientId"), "text", { autoComplete: "off", maxLength: 64 })}
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

function Candidates({
  items,
  chosen,
  onChoose,
  name,
}: {
  items: WorklistCandidate[];
  chosen: string | undefined;
  onChoose: (c: WorklistCandidate) => void;
  name: string;
}) {
  const { t } = useTranslation();
  const locale = useLocale();
  if (items.length === 0) return <Notice tone="warning">{t("worklist.noResults")}</Notice>;
  return (
    <fieldset className="candidates">
      <legend>{t("worklist.results", { count: items.length })}</legend>
      <p className="hint">
        {t("worklist.foundBy")}: <StepText step={items[0]!.step} />. {t("worklist.badgeHint")}
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
                <span className="visually-hidden">{t("worklist.choose")}: </span>
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
                {t("worklist.patientId")} <span className="mono">{c.patient.id || t("common.none")}</span>
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
  study,
  chosen,
  onChoose,
}: {
  study: { study_instance_uid: string; description: string; patient: PatientFound; date: string };
  chosen: string | undefined;
  onChoose: (c: WorklistCandidate) => void;
}) {
  const { t } = useTranslation();
  const locale = useLocale();
  const [initial] = useState(() => prefill(study.patient));
  const [query, setQuery] = useState<WorklistQuery>(initial);
  const search = useWorklist(query);
  const radioName = useId();
  return (
    <div className="study-search">
      <p>
        {t("worklist.onMedium")}: <strong>{formatPersonName(study.patient.name) || t("common.none")}</strong>
        {study.patient.birth_date ? `, ${formatDicomDate(study.patient.birth_date, locale)}` : ""}
        {study.patient.sex ? (
          <>
            , <SexText sex={study.patient.sex} />
          </>
        ) : null}{" "}
        <span className="hint">({t("confirm.asWritten", { value: study.patient.name })})</span>
      </p>
      <SearchForm initial={initial} onSearch={setQuery} busy={search.isFetching} />
      <div aria-live="polite">
        {search.isFetching ? <p role="status">{t("worklist.searching")}</p> : null}
        {search.isError ? (
          <Notice tone="danger" role="alert">
            {search.error instanceof ApiError && search.error.message ? search.error.message : t("errors.network")}
          </Notice>
        ) : null}
        {search.data && !search.isFetching ? (
          <Candidates items={search.data} chosen={chosen} onChoose={onChoose} name={radioName} />
        ) : null}
      </div>
    </div>
  );
}

export function WorklistConfirmation({ imp }: { imp: ImportOut }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const selectable = imp.studies.filter(isSelectable);
  const [selected, setSelected] = useState<string[]>(() => selectable.map((s) => s.study_instance_uid));
  const [chosen, setChosen] = useState<Record<string, WorklistCandidate>>({});
  const [step, setStep] = useState<"choose" | "validate">("choose");
  const [acknowledged, setAcknowledged] = useState(false);
  const [renewed, setRenewed] = useState<RenewedCode | null>(null);
  // each renewal shows (and focuses) the notice again
  const [renewals, setRenewals] = useState(0);
  const confirm = useConfirm(imp.id);
  const cancel = useCancel(imp.id);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), [step]);

  const picked = selected.filter((u) => selectable.some((s) => s.study_instance_uid === u));
  const allChosen = picked.length > 0 && picked.every((u) => chosen[u]);
  // The search's badges compare an order with the fields typed; the checks compare it with each
  // patient of the medium: the chosen order is read again by its accession number, ranked
  // against that patient's identity (the server compares the same at confirmation).
  const wanted = picked.flatMap((uid) => {
    const study = imp.studies.find((s) => s.study_instance_uid === uid)!;
    const accession = chosen[uid]?.accession_number ?? "";
    return comparisonsOf(study).map((c) => ({ uid, accession, patient: c.patient }));
  });
  const reads = useQueries({
    queries: wanted.map((w) => ({
      ...worklistQueryOptions({ ...prefill(w.patient), date: "", accession: w.accession }),
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

  const cancelButton = (large: boolean) => (
    <button
      type="button"
      className={large ? "button button-primary button-large" : "button button-secondary"}
      disabled={confirm.isPending || cancel.isPending}
      onClick={() => cancel.mutate(undefined, { onSuccess: () => navigate(`/imports/${imp.id}/cancelled`, { replace: true }) })}
    >
      <span aria-hidden="true">✕ </span>
      {cancel.isPending ? t("confirm.cancelling") : t("confirm.cancel")}
    </button>
  );

  const chooseStep = (
      <div hidden={step !== "choose"}>
        <h1 ref={step === "choose" ? heading : undefined} tabIndex={-1}>
          {t("worklist.title")}
        </h1>
        <p>{t("worklist.intro")}</p>
        {allAlreadyPresent(imp.studies) ? (
          <Notice tone="info">{t("worklist.allPresent")}</Notice>
        ) : selectable.length === 0 ? (
          <Notice tone="warning">{t("confirm.nothingImportable")}</Notice>
        ) : null}
        {imp.studies.map((study) => {
          const uid = study.study_instance_uid;
          const ok = isSelectable(study);
          const headingId = `study-${uid}`;
          return (
            <article key={uid} className={`card study-card${ok ? "" : " is-excluded"}`} aria-labelledby={headingId}>
              <header className="study-head">
                <label className="check">
                  <input
                    type="checkbox"
                    checked={ok && selected.includes(uid)}
                    disabled={!ok}
                    onChange={(ev) => setSelected((s) => (ev.target.checked ? [...s, uid] : s.filter((x) => x !== uid)))}
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
              {study.pacs_conflict ? <Notice tone="danger" title={t("confirm.study.conflict")} /> : null}
              {ok && selected.includes(uid) ? (
                <>
                  {chosen[uid] ? (
                    <Notice tone="success">
                      {t("worklist.chosen", { accession: chosen[uid].accession_number })}
                    </Notice>
                  ) : null}
                  <StudySearch
                    study={study}
                    chosen={chosen[uid]?.accession_number}
                    onChoose={(c) => {
                      setChosen((m) => ({ ...m, [uid]: c }));
                      setAcknowledged(false);
                    }}
                  />
                </>
              ) : null}
            </article>
          );
        })}
        <section className="card decision" aria-label={t("worklist.title")}>
          {!allChosen && picked.length > 0 ? <p className="hint" id="choose-hint">{t("worklist.chooseEvery")}</p> : null}
          <div className="actions decision-actions">
            <button
              type="button"
              className="button button-primary button-large"
              disabled={!allChosen}
              aria-describedby={!allChosen ? "choose-hint" : undefined}
              onClick={() => setStep("validate")}
            >
              {t("worklist.toValidation")}
            </button>
            {cancelButton(false)}
          </div>
        </section>
      </div>
  );

  if (step === "choose") return chooseStep;

  return (
    <>
      {chooseStep}
      <h1 ref={heading} tabIndex={-1}>
        {t("worklist.validateTitle")}
      </h1>
      {renewed ? <RenewedNotice key={renewals} code={renewed} /> : null}
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
          </article>
        );
      })}
      <section className={`card decision${danger ? " decision-danger" : ""}`} aria-label={t("worklist.validateTitle")}>
        {renewed ? <p className="renewed-reminder">{t("confirm.renewed.reminder")}</p> : null}
        {danger ? (
          <>
            <Notice tone="danger" role="alert">
              <p>
                <strong>{t("confirm.mismatchNotice")}</strong>
              </p>
            </Notice>
            <label className="check acknowledge">
              <input type="checkbox" checked={acknowledged} onChange={(ev) => setAcknowledged(ev.target.checked)} />
              <span>{t("worklist.acknowledge")}</span>
            </label>
          </>
        ) : null}
        {error ? (
          <Notice tone="danger" role="alert">
            {error instanceof ApiError && error.message ? error.message : t("errors.network")}
          </Notice>
        ) : null}
        <div className={`actions decision-actions${danger ? " is-danger" : ""}`}>
          <button
            type="button"
            className={danger ? "button button-danger button-small" : "button button-success button-large"}
            disabled={!canConfirm || checking || confirm.isPending || cancel.isPending}
            onClick={() =>
              confirm.mutate(
                {
                  studies: picked,
                  order_for_study: Object.fromEntries(picked.map((u) => [u, chosen[u]!.accession_number])),
                  // the patient of each order exactly as the checks above showed it
                  seen_patients: Object.fromEntries(picked.map((u) => [u, seenPatient(checks[u]!.order.patient)])),
                  acknowledge_identity: danger && acknowledged,
                },
                {
                  onSuccess: () => navigate(`/imports/${imp.id}`, { replace: true }),
                  onError: (err) => {
                    const code = renewedCode(err);
                    if (code) {
                      setAcknowledged(false);
                      setRenewed(code);
                      setRenewals((r) => r + 1);
                    }
                  },
                },
              )
            }
          >
            <span aria-hidden="true">✓ </span>
            {confirm.isPending ? t("confirm.confirming") : t("confirm.confirm")}
          </button>
          <button
            type="button"
            className="button button-secondary"
            onClick={() => {
              setStep("choose");
              setRenewed(null);
            }}
            disabled={confirm.isPending}
          >
            <span aria-hidden="true">← </span>
            {t("worklist.back")}
          </button>
          {cancelButton(danger)}
        </div>
      </section>
    </>
  );
}
