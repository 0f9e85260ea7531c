/**
 * The audit trail (role `auditor`): filters, a table paged by `after`, CSV and JSON exports
 * (fetched with the session's Authorization header, saved as a Blob), and the hash chain's state.
 */
import { useQuery } from "@tanstack/react-query";
import { useId, useState } from "react";
import { useTranslation } from "react-i18next";
import { api, authHeaders, toApiError, unwrap, type AuditPageOut } from "../../api/client";
import { errorText } from "../../components/ApiErrorNotice";
import { Badge } from "../../components/Badge";
import { Notice } from "../../components/Notice";
import { useLocale } from "../../components/useLocale";
import { isPatientKey } from "../../domain/patientLaunch";
import { formatDateTime } from "../../i18n/format";
import { AUDIT_ACTIONS, auditActionText, auditOutcomeText } from "../../i18n/message";
import { RequireSession } from "../RequireSession";

interface Filters {
  since: string;
  until: string;
  user: string;
  patient_id: string;
  accession: string;
  action: string;
  import_id: string;
}

const EMPTY: Filters = { since: "", until: "", user: "", patient_id: "", accession: "", action: "", import_id: "" };
const PAGE = 100;
/** The id the server records its own actions under (the pipeline, the expiry…): shown as the app. */
const SYSTEM_ACTOR = "system";

/** The API's query: a day's start for `since`, the next day's start for `until` (local days). */
export function auditParams(f: Filters): Record<string, string> {
  const out: Record<string, string> = {};
  const day = (d: string, plus: number) => {
    const x = new Date(`${d}T00:00:00`);
    x.setDate(x.getDate() + plus);
    return x.toISOString();
  };
  if (f.since) out.since = day(f.since, 0);
  if (f.until) out.until = day(f.until, 1);
  for (const key of ["user", "patient_id", "accession", "action", "import_id"] as const) {
    const v = f[key].trim();
    if (v) out[key] = v;
  }
  return out;
}

async function download(params: Record<string, string>, format: "csv" | "json"): Promise<void> {
  const search = new URLSearchParams({ ...params, format, limit: "500" });
  const response = await fetch(`/api/v1/audit?${search.toString()}`, { headers: authHeaders() });
  if (!response.ok) throw toApiError(response.status, await response.json().catch(() => null));
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = `audit-${new Date().toISOString().slice(0, 10)}.${format}`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function ChainStatus() {
  const { t } = useTranslation();
  const chain = useQuery({ queryKey: ["audit", "verify"], queryFn: () => unwrap(api.GET("/api/v1/audit/verify")) });
  if (chain.isPending) return <p role="status">{t("audit.chainChecking")}</p>;
  if (chain.isError) return <Notice tone="danger">{t("errors.network")}</Notice>;
  const c = chain.data;
  return (
    <p role="status">
      {c.broken_at === null ? (
        <Badge tone="success" icon="✓">
          {t("audit.chainIntact")}
        </Badge>
      ) : (
        <Badge tone="danger" icon="✕">
          {t("audit.chainBroken", { seq: c.broken_at })}
        </Badge>
      )}{" "}
      {t("audit.chainCounts", { sealed: c.sealed, unsealed: c.unsealed })}
    </p>
  );
}

function AuditView() {
  const { t } = useTranslation();
  const locale = useLocale();
  const id = useId();
  const [form, setForm] = useState<Filters>(EMPTY);
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const [pages, setPages] = useState<number[]>([0]);
  const after = pages[pages.length - 1] ?? 0;
  const params = auditParams(filters);
  const page = useQuery({
    queryKey: ["audit", params, after],
    // the JSON answer (the CSV one is only for the export)
    queryFn: async () =>
      (await unwrap(api.GET("/api/v1/audit", { params: { query: { ...params, after, limit: PAGE } } }))) as AuditPageOut,
  });
  const [exportError, setExportError] = useState<unknown>(null);
  const field = (key: keyof Filters, label: string, type = "text") => (
    <div className="field">
      <label htmlFor={`${id}-${key}`}>{label}</label>
      <input id={`${id}-${key}`} type={type} value={form[key]} onChange={(e) => setForm({ ...form, [key]: e.target.value })} />
    </div>
  );
  const exportButton = (format: "csv" | "json") => (
    <button
      type="button"
      className="button button-secondary"
      onClick={() => {
        setExportError(null);
        download(params, format).catch((e: unknown) => setExportError(e));
      }}
    >
      {format === "csv" ? t("audit.exportCsv") : t("audit.exportJson")}
    </button>
  );
  return (
    <>
      <h1>{t("audit.title")}</h1>
      <ChainStatus />
      <form
        className="card"
        aria-label={t("audit.filters")}
        onSubmit={(e) => {
          e.preventDefault();
          setFilters(form);
          setPages([0]);
        }}
      >
        <div className="field-grid">
          {field("since", t("audit.since"), "date")}
          {field("until", t("audit.until"), "date")}
          {field("user", t("audit.user"))}
          {field("patient_id", t("terms.hospitalId"))}
          {field("accession", t("terms.accession"))}
          <div className="field">
            <label htmlFor={`${id}-action`}>{t("audit.action")}</label>
            <select id={`${id}-action`} value={form.action} onChange={(e) => setForm({ ...form, action: e.target.value })}>
              <option value="">{t("auditFilter.all")}</option>
              {AUDIT_ACTIONS.map((action) => (
                <option key={action} value={action}>
                  {auditActionText(t, action)}
                </option>
              ))}
            </select>
          </div>
          {field("import_id", t("audit.importId"))}
        </div>
        <div className="actions">
          <button type="submit" className="button button-primary">
            {t("audit.apply")}
          </button>
          <button
            type="button"
            className="button button-secondary"
            onClick={() => {
              setForm(EMPTY);
              setFilters(EMPTY);
              setPages([0]);
            }}
          >
            {t("audit.clear")}
          </button>
          {exportButton("csv")}
          {exportButton("json")}
        </div>
        <p className="hint">{t("audit.exportHint")}</p>
        {exportError ? (
          <Notice tone="danger" role="alert">
            {errorText(t, exportError)}
          </Notice>
        ) : null}
      </form>
      {page.isPending ? <p role="status">{t("app.loading")}</p> : null}
      {page.isError ? (
        <Notice tone="danger" role="alert">
          {errorText(t, page.error)}
        </Notice>
      ) : null}
      {page.data ? (
        page.data.items.length === 0 ? (
          <Notice tone="info">{t("audit.empty")}</Notice>
        ) : (
          <div className="card table-scroll">
            <table className="data-table">
              <caption className="visually-hidden">{t("audit.title")}</caption>
              <thead>
                <tr>
                  <th scope="col">{t("audit.col.at")}</th>
                  <th scope="col">{t("audit.col.who")}</th>
                  <th scope="col">{t("audit.col.action")}</th>
                  <th scope="col">{t("audit.col.outcome")}</th>
                  <th scope="col">{t("terms.accession")}</th>
                  <th scope="col">{t("terms.hospitalId")}</th>
                  <th scope="col">{t("audit.col.import")}</th>
                </tr>
              </thead>
              <tbody>
                {page.data.items.map((ev) => (
                  <tr key={ev.id}>
                    <td>{formatDateTime(ev.at, locale)}</td>
                    <td>
                      {ev.actor_id === SYSTEM_ACTOR ? t("app.title") : ev.actor_name || ev.actor_id}
                      {ev.department ? <span className="hint"> ({ev.department})</span> : null}
                    </td>
                    <td title={ev.action} data-action={ev.action}>
                      {auditActionText(t, ev.action)}
                    </td>
                    <td data-outcome={ev.outcome}>{auditOutcomeText(t, ev.outcome)}</td>
                    {/* an import for a patient without an order has no accession number: never our key of the patient */}
                    {isPatientKey(ev.accession_number) ? (
                      <td>{t("patientLaunch.auditAccession")}</td>
                    ) : (
                      <td className="mono">{ev.accession_number}</td>
                    )}
                    <td className="mono">{ev.patient_id}</td>
                    <td className="mono">{ev.import_id ?? ""}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )
      ) : null}
      <div className="actions">
        <button type="button" className="button button-secondary" disabled={pages.length <= 1} onClick={() => setPages((p) => p.slice(0, -1))}>
          {t("audit.previous")}
        </button>
        <button
          type="button"
          className="button button-secondary"
          disabled={page.data?.next_after == null}
          onClick={() => {
            const next = page.data?.next_after;
            if (next != null) setPages((p) => [...p, next]);
          }}
        >
          {t("audit.next")}
        </button>
      </div>
    </>
  );
}

export function AuditPage() {
  const { t } = useTranslation();
  return (
    <RequireSession>
      {(session) =>
        session.user.roles.includes("auditor") ? (
          <AuditView />
        ) : (
          <Notice tone="warning" role="alert">
            {t("errors.roleRequired")}
          </Notice>
        )
      }
    </RequireSession>
  );
}
