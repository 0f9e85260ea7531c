/**
 * Undo a wrong import (a referent, role `temporary_zone`): a completed import filed under the
 * wrong patient or order is taken back from the PACS (only the images it stored) and goes to the
 * temporary zone, where it is promoted to the right order. Offered while the server says it may
 * be (`undo_until`), as a plain secondary button: its dialog asks why (no reason chosen before
 * the referent chooses one), says what happens and until when, Cancel emphasised. Then the
 * undo's state in words: under way, failed (the server's code worded, and Try again with the
 * same reason), or done (when, by whom, how many images, and the way to the temporary zone).
 * The native modal `<dialog>` keeps the focus inside while open and closes with Escape.
 */
import { useEffect, useId, useRef, useState, type Ref } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import type { ImportOut, UndoOut, UndoReason } from "../../api/client";
import { useUndo } from "../../api/queries";
import { ApiErrorNotice } from "../../components/ApiErrorNotice";
import { Notice } from "../../components/Notice";
import { UNDO_REASONS, undoneFromText, undoReasonText } from "../../components/Undo";
import { useLocale } from "../../components/useLocale";
import { formatDateTime } from "../../i18n/format";
import { messageText } from "../../i18n/message";

export interface UndoFormProps {
  /** the reason chosen, none until the referent chooses one */
  reason: UndoReason | null;
  onReason: (reason: UndoReason) => void;
  /** until when the import may be undone, formatted for the screen */
  until: string;
  pending: boolean;
  /** the last refusal of the request, worded from its code */
  error: unknown;
  onConfirm: () => void;
  onCancel: () => void;
  titleId: string;
  bodyId: string;
  /** the first reason, focused when the dialog opens */
  firstReason?: Ref<HTMLInputElement>;
}

/** The dialog's content: the title, the reasons, what happens, the refusal if any, Cancel and Confirm. */
export function UndoForm({ reason, onReason, until, pending, error, onConfirm, onCancel, titleId, bodyId, firstReason }: UndoFormProps) {
  const { t } = useTranslation();
  const name = useId();
  const hintId = useId();
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        if (reason && !pending) onConfirm();
      }}
    >
      <h2 id={titleId}>{t("undo.title")}</h2>
      <fieldset className="undo-reasons" aria-describedby={reason ? undefined : hintId}>
        <legend>{t("undo.reasonLegend")}</legend>
        {UNDO_REASONS.map((r, index) => (
          <label key={r} className="check">
            <input
              ref={index === 0 ? firstReason : undefined}
              type="radio"
              name={name}
              value={r}
              required
              checked={reason === r}
              disabled={pending}
              onChange={() => onReason(r)}
            />
            <span>{undoReasonText(t, r)}</span>
          </label>
        ))}
      </fieldset>
      <p id={bodyId}>{t("undo.body", { until })}</p>
      {reason ? null : (
        <p id={hintId} className="hint">
          {t("undo.reasonRequired")}
        </p>
      )}
      <ApiErrorNotice error={error} />
      <div className="actions">
        <button type="button" className="button button-primary" onClick={onCancel}>
          {t("undo.cancel")}
        </button>
        <button type="submit" className="button button-danger" disabled={!reason || pending}>
          {pending ? t("undo.confirming") : t("undo.confirm")}
        </button>
      </div>
    </form>
  );
}

/**
 * The confirmation, shown (modal) once mounted; `until` as it was when it opened (the import is
 * read again meanwhile). `onClosed(true)` once the undo was accepted, `false` when cancelled.
 */
export function UndoDialog({ id, until, onClosed }: { id: string; until: string; onClosed: (accepted: boolean) => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const first = useRef<HTMLInputElement>(null);
  const titleId = useId();
  const bodyId = useId();
  const undo = useUndo(id);
  const [reason, setReason] = useState<UndoReason | null>(null);
  const accepted = useRef(false);
  useEffect(() => {
    if (!dialog.current?.open) {
      dialog.current?.showModal();
      first.current?.focus();
    }
  }, []);
  return (
    <dialog
      ref={dialog}
      className="undo-dialog"
      aria-labelledby={titleId}
      aria-describedby={bodyId}
      // Escape, Cancel, or the undo accepted: the panel unmounts it
      onClose={() => onClosed(accepted.current)}
    >
      <UndoForm
        reason={reason}
        onReason={setReason}
        until={until}
        pending={undo.isPending}
        error={undo.error}
        titleId={titleId}
        bodyId={bodyId}
        firstReason={first}
        onCancel={() => dialog.current?.close()}
        onConfirm={() => {
          if (!reason) return;
          undo.mutate(reason, {
            onSuccess: () => {
              accepted.current = true;
              dialog.current?.close();
            },
          });
        }}
      />
    </dialog>
  );
}

/** Where the undo stands, in words. */
export function UndoState({ undo }: { undo: UndoOut }) {
  const { t } = useTranslation();
  const locale = useLocale();
  const reason = undoReasonText(t, undo.reason);
  switch (undo.state) {
    case "requested":
      return (
        <Notice tone="info" title={t("undo.requested")}>
          <p>{t("undo.requestedBy", { name: undo.requested_by_name, date: formatDateTime(undo.requested_at, locale), reason })}</p>
        </Notice>
      );
    case "failed": {
      const left = undo.error?.params?.count;
      return (
        <Notice tone="danger" title={t("undo.failedTitle")}>
          {undo.error ? <p className="undo-error">{messageText(t, undo.error)}</p> : null}
          {typeof left === "number" && left > 0 ? <p>{t("undo.left", { count: left })}</p> : null}
        </Notice>
      );
    }
    case "done":
      return (
        <Notice tone="success" title={undoneFromText(t, undo)}>
          <p>
            {t("undo.done", {
              date: undo.done_at ? formatDateTime(undo.done_at, locale) : t("common.none"),
              name: undo.requested_by_name,
              count: undo.taken_back,
            })}
          </p>
          <p>
            <Link to="/temporary">{t("undo.openTemporary")}</Link>
          </p>
        </Notice>
      );
    default:
      return null;
  }
}

/**
 * The monitoring page's part of an undo: its state when one was asked for, and for a referent
 * (`canUndo`) the way to ask for it while the server allows it (`undo_until`): the button and its
 * dialog, or Try again after a failure.
 */
export function UndoPanel({ imp, canUndo }: { imp: ImportOut; canUndo: boolean }) {
  const { t } = useTranslation();
  const locale = useLocale();
  const retry = useUndo(imp.id);
  const opener = useRef<HTMLButtonElement>(null);
  const stateRef = useRef<HTMLDivElement | null>(null);
  // once the undo is accepted, the focus goes to its state (the offer is gone), as soon as shown
  const focusState = useRef(false);
  // the dialog, while open: its "until" as it was when it opened
  const [asking, setAsking] = useState<string | null>(null);
  const offered = canUndo && imp.undo_until != null;
  const until = imp.undo_until ? formatDateTime(imp.undo_until, locale) : "";
  const current = imp.undo;
  if (!current && !offered && asking === null) return null;
  return (
    <div className="undo">
      {current ? (
        <div
          ref={(el) => {
            stateRef.current = el;
            if (el && focusState.current) {
              focusState.current = false;
              el.focus();
            }
          }}
          tabIndex={-1}
          className="undo-state"
          data-state={current.state}
        >
          <UndoState undo={current} />
        </div>
      ) : null}
      {offered && current?.state === "failed" ? (
        <div className="actions">
          <button type="button" className="button button-secondary" disabled={retry.isPending} onClick={() => retry.mutate(current.reason)}>
            {t("common.tryAgain")}
          </button>
          <span className="hint">{t("undo.retryHelp")}</span>
        </div>
      ) : null}
      <ApiErrorNotice error={retry.error} />
      {offered && current?.state !== "failed" ? (
        <p className="undo-offer">
          <button ref={opener} type="button" className="button button-secondary" aria-haspopup="dialog" onClick={() => setAsking(until)}>
            <span aria-hidden="true">↩ </span>
            {t("undo.action")}
          </button>{" "}
          <span className="hint">{t("undo.offer", { until })}</span>
        </p>
      ) : null}
      {asking !== null ? (
        <UndoDialog
          id={imp.id}
          until={asking}
          onClosed={(accepted) => {
            setAsking(null);
            if (!accepted) opener.current?.focus();
            else if (stateRef.current) stateRef.current.focus();
            else focusState.current = true;
          }}
        />
      ) : null}
    </div>
  );
}
