/**
 * The server compared again (`order_changed`, `identity_not_compared`, `identity_changed`):
 * nothing was filed, the new comparison is on the screen, the user decides again. Used by every
 * screen that files studies under an order: the confirmation (each mode) and the temporary
 * zone's promotion.
 */
import { useEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { renewedCode, type RenewedCode } from "../../api/queries";
import { Notice } from "../../components/Notice";
import { PatientShort } from "../../components/PatientPanel";
import { samePatient, type PersonLike } from "../../domain/identity";

/**
 * What happened and what to do, at the top; with the order's patient before and now when the
 * user saw another one.
 */
export function RenewedNotice({ code, before, now }: { code: RenewedCode; before?: PersonLike | null; now?: PersonLike }) {
  const { t } = useTranslation();
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    ref.current?.focus();
    ref.current?.scrollIntoView({ block: "start" });
  }, [code]);
  return (
    <div ref={ref} tabIndex={-1} className="renewed">
      <Notice tone="danger" role="alert" title={t(`confirm.renewed.${code}.title`)}>
        {before && now && !samePatient(before, now) ? (
          <p className="renewed-change">
            {t("confirm.renewed.was")}
            {t("common.colon")}
            <PatientShort patient={before} /> → {t("confirm.renewed.now")}
            {t("common.colon")}
            <PatientShort patient={now} />
          </p>
        ) : null}
        <p>{t(`confirm.renewed.${code}.body`)}</p>
      </Notice>
    </div>
  );
}

export interface Renewal {
  /** the last renewed answer, until the user starts again */
  code: RenewedCode | null;
  /** the order's patient on the screen when the server compared again */
  before: PersonLike | null;
  /** changes with each renewal: as the notice's key, it shows (and focuses) the notice again */
  key: number;
  /** after a failed call: true (and remembered) when the server compared again */
  renewedBy: (error: unknown, shown?: PersonLike) => boolean;
  clear: () => void;
}

/** The renewals of one screen; `initial` when another screen handed one over (Retry). */
export function useRenewal(initial: RenewedCode | null = null): Renewal {
  const [state, setState] = useState<{ code: RenewedCode | null; before: PersonLike | null; key: number }>({
    code: initial,
    before: null,
    key: 0,
  });
  return {
    ...state,
    renewedBy: (error, shown) => {
      const code = renewedCode(error);
      if (!code) return false;
      setState((s) => ({ code, before: shown ?? s.before, key: s.key + 1 }));
      return true;
    },
    clear: () => setState((s) => ({ ...s, code: null })),
  };
}
