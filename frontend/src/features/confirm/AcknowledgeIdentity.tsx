import { useTranslation } from "react-i18next";
import { Notice } from "../../components/Notice";

/** The words of the tick: the order's patient (`confirm`), or the checks of orders the user picked (`worklist`). */
export type AcknowledgeLabel = "confirm.acknowledge" | "worklist.acknowledge";

/**
 * A patient of the medium is not the order's: the warning, and the tick the server's identity gate
 * asks for before it files the studies anyway (`acknowledge_identity`). `withoutOrder`: the
 * patient a session was launched for without an order (no "order" to name).
 */
export function AcknowledgeIdentity({
  label,
  checked,
  onChange,
  withoutOrder = false,
}: {
  label: AcknowledgeLabel;
  checked: boolean;
  onChange: (checked: boolean) => void;
  withoutOrder?: boolean;
}) {
  const { t } = useTranslation();
  return (
    <>
      <Notice tone="danger" role="alert">
        <p>
          <strong>{withoutOrder ? t("patientLaunch.mismatchNotice") : t("confirm.mismatchNotice")}</strong>
        </p>
      </Notice>
      <label className="check acknowledge">
        <input type="checkbox" checked={checked} onChange={(e) => onChange(e.target.checked)} />
        <span>{t(label)}</span>
      </label>
    </>
  );
}
