import { useTranslation } from "react-i18next";
import { formatPercent } from "../i18n/format";
import { useLocale } from "./useLocale";

/** A labelled progress bar with its percentage in words. */
export function Progress({ label, value, max, detail }: { label: string; value: number; max: number; detail?: string }) {
  useTranslation();
  const locale = useLocale();
  return (
    <div className="progress">
      <div className="progress-head">
        <span className="progress-label">{label}</span>
        <span className="progress-value">{formatPercent(value, max, locale)}</span>
      </div>
      <progress aria-label={label} value={max > 0 ? value : undefined} max={max > 0 ? max : undefined} />
      {detail ? <div className="progress-detail">{detail}</div> : null}
    </div>
  );
}
