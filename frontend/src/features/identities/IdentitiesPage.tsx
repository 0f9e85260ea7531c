/**
 * Remembered identities (role `temporary_zone`, the imaging referents): each patient of a medium
 * filed under a patient of the hospital, remembered by the server (`GET /identities`), so that
 * the next medium of that outside patient is compared with it. A search (a Patient ID or a name,
 * on either side), a table, the last filed first (at most 200), and a removal per row after a
 * confirmation dialog (`DELETE /identities/{id}`, audited by the server).
 */
import { useEffect, useId, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import type { RememberedOut } from "../../api/client";
import { useForgetIdentity, useIdentities } from "../../api/queries";
import { ApiErrorNotice } from "../../components/ApiErrorNotice";
import { Notice } from "../../components/Notice";
import { useLocale } from "../../components/useLocale";
import { formatPersonName } from "../../domain/personName";
import { formatDateTime, formatDicomDate } from "../../i18n/format";
import { RequireSession } from "../RequireSession";

/** The most the server lists (the last filed first): beyond it, a search finds the others. */
export const LIST_LIMIT = 200;

/**
 * What names a medium's Patient ID, as the medium wrote it: its issuer, else the institution
 * that wrote the study; null when the medium gave neither.
 */
export function authorityOf(outside: Pick<RememberedOut["outside"], "issuer" | "institution">): {
  kind: "issuer" | "institution";
  value: string;
} | null {
  const issuer = outside.issuer.trim();
  if (issuer) return { kind: "issuer", value: issuer };
  const institution = outside.institution.trim();
  return institution ? { kind: "institution", value: institution } : null;
}

function Authority({ outside }: { outside: RememberedOut["outside"] }) {
  const { t } = useTranslation();
  const a = authorityOf(outside);
  if (!a) return <>{t("common.none")}</>;
  return <>{a.kind === "issuer" ? t("identities.issuer", { value: a.value }) : t("identities.institution", { value: a.value })}</>;
}

function IdentityRow({ item, onRemove }: { item: RememberedOut; onRemove: (opener: HTMLButtonElement) => void }) {
  const { t } = useTranslation();
  const locale = useLocale();
  const none = t("common.none");
  const name = formatPersonName(item.outside.name) || none;
  const local = item.local;
  return (
    <tr data-identity={item.id}>
      <th scope="row">{name}</th>
      <td className="mono">{item.outside.id || none}</td>
      <td>
        <Authority outside={item.outside} />
      </td>
      <td className="nowrap">{item.outside.birth_date ? formatDicomDate(item.outside.birth_date, locale) : none}</td>
      <td>
        <strong>{formatPersonName(local.name) || none}</strong>
      </td>
      <td className="mono">{local.issuer ? `${local.id} (${local.issuer})` : local.id || none}</td>
      <td>
        {formatDateTime(item.filed_at, locale)}
        <div className="hint">{t("identities.filedBy", { name: item.filed_by || none })}</div>
      </td>
      <td className="mono">{item.support_id || none}</td>
      <td>
        <button
          type="button"
          className="button button-danger button-small"
          aria-haspopup="dialog"
          aria-label={t("identities.removeLabel", { name })}
          onClick={(e) => onRemove(e.currentTarget)}
        >
          {t("identities.remove")}
        </button>
      </td>
    </tr>
  );
}

function IdentitiesTable({ items, onRemove }: { items: RememberedOut[]; onRemove: (item: RememberedOut, opener: HTMLButtonElement) => void }) {
  const { t } = useTranslation();
  return (
    <div className="card table-scroll">
      <table className="data-table identities-table">
        <caption className="visually-hidden">{t("identities.caption")}</caption>
        <colgroup span={4} />
        <colgroup span={2} />
        <colgroup span={3} />
        <thead>
          <tr>
            <th scope="colgroup" colSpan={4}>
              {t("identities.medium")}
            </th>
            <th scope="colgroup" colSpan={2}>
              {t("identities.filedUnder")}
            </th>
            <th scope="col" rowSpan={2}>
              {t("identities.when")}
            </th>
            <th scope="col" rowSpan={2}>
              {t("monitor.supportId")}
            </th>
            <th scope="col" rowSpan={2}>
              {t("identities.action")}
            </th>
          </tr>
          <tr>
            <th scope="col">{t("terms.name")}</th>
            <th scope="col">{t("confirm.otherId")}</th>
            <th scope="col">{t("identities.authority")}</th>
            <th scope="col">{t("terms.birthDate")}</th>
            <th scope="col">{t("terms.name")}</th>
            <th scope="col">{t("terms.hospitalId")}</th>
          </tr>
        </thead>
        <tbody>
          {items.map((item) => (
            <IdentityRow key={item.id} item={item} onRemove={(opener) => onRemove(item, opener)} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

/**
 * Remove one identity, after the question: the safe answer (keep it) has the focus; Escape
 * keeps it too. Once removed, the list is read again and the focus goes to the page's heading
 * (the row is gone); kept, back to the row's button.
 */
function RemoveDialog({
  removing,
  onClosed,
}: {
  removing: { item: RememberedOut; opener: HTMLButtonElement } | null;
  onClosed: (removedName: string | null, opener: HTMLButtonElement | null) => void;
}) {
  const { t } = useTranslation();
  const dialog = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const bodyId = useId();
  const forget = useForgetIdentity();
  const removed = useRef<string | null>(null);
  useEffect(() => {
    if (removing && !dialog.current?.open) dialog.current?.showModal();
  }, [removing]);
  const none = t("common.none");
  const item = removing?.item;
  const name = item ? formatPersonName(item.outside.name) || none : "";
  return (
    <dialog
      ref={dialog}
      aria-labelledby={titleId}
      aria-describedby={bodyId}
      onClose={() => {
        const name = removed.current;
        removed.current = null;
        forget.reset();
        onClosed(name, removing?.opener ?? null);
      }}
    >
      <h2 id={titleId}>{t("identities.removeTitle")}</h2>
      {item ? (
        <>
          <p id={bodyId}>
            {t("identities.removeBody", {
              medium: name,
              id: item.outside.id || none,
              local: formatPersonName(item.local.name) || none,
              localId: item.local.id || none,
            })}
          </p>
          <ApiErrorNotice error={forget.error} />
          <div className="actions">
            <button
              type="button"
              className="button button-danger"
              disabled={forget.isPending}
              onClick={() =>
                forget.mutate(item.id, {
                  onSuccess: () => {
                    removed.current = name;
                    dialog.current?.close();
                  },
                })
              }
            >
              {forget.isPending ? t("identities.removing") : t("identities.removeConfirm")}
            </button>
            <button type="button" className="button button-primary" autoFocus onClick={() => dialog.current?.close()}>
              {t("identities.keep")}
            </button>
          </div>
        </>
      ) : null}
    </dialog>
  );
}

function IdentitiesView() {
  const { t } = useTranslation();
  const id = useId();
  const [input, setInput] = useState("");
  const [query, setQuery] = useState("");
  const list = useIdentities(query);
  const [removing, setRemoving] = useState<{ item: RememberedOut; opener: HTMLButtonElement } | null>(null);
  const [message, setMessage] = useState("");
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  const items = list.data;
  return (
    <>
      <h1 ref={heading} tabIndex={-1}>
        {t("identities.title")}
      </h1>
      <p>{t("identities.intro")}</p>
      <form
        role="search"
        className="card identities-search"
        onSubmit={(e) => {
          e.preventDefault();
          setMessage("");
          setQuery(input.trim());
        }}
      >
        <div className="field">
          <label htmlFor={`${id}-q`}>{t("identities.searchLabel")}</label>
          <input
            id={`${id}-q`}
            type="search"
            value={input}
            maxLength={64}
            autoComplete="off"
            aria-describedby={`${id}-hint`}
            onChange={(e) => setInput(e.target.value)}
          />
        </div>
        <button type="submit" className="button button-primary">
          {t("identities.search")}
        </button>
        <p id={`${id}-hint`} className="hint">
          {t("identities.searchHint")}
        </p>
      </form>
      <div role="status" aria-live="polite">
        {message ? <Notice tone="success">{message}</Notice> : null}
      </div>
      {list.isPending ? <p role="status">{t("app.loading")}</p> : null}
      <ApiErrorNotice error={list.error} />
      {items && items.length === 0 ? (
        <Notice tone="info">{query ? t("identities.noMatch", { query }) : t("identities.empty")}</Notice>
      ) : null}
      {items && items.length > 0 ? (
        <IdentitiesTable
          items={items}
          onRemove={(item, opener) => {
            setMessage("");
            setRemoving({ item, opener });
          }}
        />
      ) : null}
      {items && items.length >= LIST_LIMIT ? <p className="hint">{t("identities.limit", { limit: LIST_LIMIT })}</p> : null}
      <RemoveDialog
        removing={removing}
        onClosed={(name, opener) => {
          setRemoving(null);
          if (name) {
            setMessage(t("identities.removed", { name }));
            heading.current?.focus();
          } else if (opener?.isConnected) {
            opener.focus();
          } else {
            heading.current?.focus();
          }
        }}
      />
    </>
  );
}

export function IdentitiesPage() {
  const { t } = useTranslation();
  return (
    <RequireSession>
      {(session) =>
        session.user.roles.includes("temporary_zone") ? (
          <IdentitiesView />
        ) : (
          <Notice tone="warning" role="alert">
            {t("errors.roleRequired")}
          </Notice>
        )
      }
    </RequireSession>
  );
}
