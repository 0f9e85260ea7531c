/**
 * The end of a confirmation: Confirm and Cancel, with the seed's emphasis rule in one place. When
 * a selected study's patient is not accepted (`danger`), Confirm is small and red and waits for
 * the tick, Cancel is large and blue; otherwise Confirm is large and green, Cancel plain.
 */
import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { ApiErrorNotice } from "../../components/ApiErrorNotice";
import { AcknowledgeIdentity, type AcknowledgeLabel } from "./AcknowledgeIdentity";

/** Cancel the import: large and blue when confirming is the risky choice. */
export function CancelButton({
  large,
  cancelling,
  disabled,
  onCancel,
}: {
  large: boolean;
  cancelling: boolean;
  disabled: boolean;
  onCancel: () => void;
}) {
  const { t } = useTranslation();
  return (
    <button
      type="button"
      className={large ? "button button-primary button-large" : "button button-secondary"}
      disabled={disabled}
      onClick={onCancel}
    >
      <span aria-hidden="true">✕ </span>
      {cancelling ? t("confirm.cancelling") : t("confirm.cancel")}
    </button>
  );
}

export function DecisionBar({
  label,
  danger = false,
  children,
  acknowledge,
  error,
  confirmText,
  canConfirm,
  confirming,
  onConfirm,
  cancelling,
  onCancel,
  between,
  acknowledgeHint = false,
}: {
  /** the section's accessible name (the screen's title) */
  label: string;
  /** a selected study's patient is not accepted: the emphasis turns to Cancel */
  danger?: boolean;
  /** what to know before deciding (notices), above the tick */
  children?: ReactNode;
  /** the tick asked for when `danger` */
  acknowledge?: { label: AcknowledgeLabel; checked: boolean; onChange: (checked: boolean) => void; withoutOrder?: boolean };
  /** the last failed Confirm or Cancel, if it is to be shown */
  error?: unknown;
  confirmText: string;
  /** Confirm may be pressed, as far as the screen is concerned (never while a call is running) */
  canConfirm: boolean;
  confirming: boolean;
  onConfirm: () => void;
  cancelling: boolean;
  onCancel: () => void;
  /** another action, between Confirm and Cancel */
  between?: ReactNode;
  /** say under the buttons, while the tick is missing, why Confirm waits */
  acknowledgeHint?: boolean;
}) {
  const { t } = useTranslation();
  const busy = confirming || cancelling;
  const waitsForTick = acknowledgeHint && danger && acknowledge !== undefined && !acknowledge.checked;
  const confirmButton = (
    <button
      type="button"
      className={danger ? "button button-danger button-small" : "button button-success button-large"}
      disabled={!canConfirm || busy}
      aria-describedby={waitsForTick ? "ack-hint" : undefined}
      onClick={onConfirm}
    >
      <span aria-hidden="true">✓ </span>
      {confirming ? t("confirm.confirming") : confirmText}
    </button>
  );
  const cancelButton = <CancelButton large={danger} cancelling={cancelling} disabled={busy} onCancel={onCancel} />;
  return (
    <section className={`card decision${danger ? " decision-danger" : ""}`} aria-label={label}>
      {children}
      {danger && acknowledge ? <AcknowledgeIdentity {...acknowledge} /> : null}
      <ApiErrorNotice error={error} />
      {/* the keyboard meets the emphasised choice first: when confirming is risky, Cancel */}
      <div className={`actions decision-actions${danger ? " is-danger" : ""}`}>
        {danger ? cancelButton : confirmButton}
        {between}
        {danger ? confirmButton : cancelButton}
      </div>
      {waitsForTick ? (
        <p id="ack-hint" className="hint">
          {t("confirm.acknowledgeHint")}
        </p>
      ) : null}
    </section>
  );
}
