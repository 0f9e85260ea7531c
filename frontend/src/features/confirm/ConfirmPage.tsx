/**
 * The confirmation screen (`/imports/:id/confirm`), in the mode the import needs: with the
 * launch's order (`OrderConfirmation`), without one (worklist mode, `WorklistConfirmation`), or
 * into the temporary zone (`TemporaryConfirmation`). They share the study card, the decision bar
 * and its emphasis rule, the acknowledgement and the error notice.
 */
import { useMemo } from "react";
import { useTranslation } from "react-i18next";
import { Link, Navigate, useLocation, useParams } from "react-router";
import { isRenewedCode, useImport, type RenewedCode } from "../../api/queries";
import { Notice } from "../../components/Notice";
import { RequireSession } from "../RequireSession";
import { OrderConfirmation } from "./OrderConfirm";
import { TemporaryConfirmation } from "./TemporaryConfirm";
import { WorklistConfirmation } from "./WorklistConfirm";
import { messageText } from "../../i18n/message";

/** The monitoring page's Retry may hand over a renewed comparison (`order_changed`, `identity_changed`…). */
function renewedFromState(state: unknown): RenewedCode | null {
  const code = (state as { renewed?: unknown } | null)?.renewed;
  return isRenewedCode(code) ? code : null;
}

export function ConfirmPage() {
  const { id = "" } = useParams();
  const { t } = useTranslation();
  const location = useLocation();
  const initialRenewed = renewedFromState(location.state);
  const query = useImport(id);
  const imp = query.data;
  const status = imp?.status;
  const body = useMemo(() => {
    if (query.isPending) return <p role="status">{t("app.loading")}</p>;
    if (query.isError || !imp) return <Notice tone="danger" role="alert">{messageText(t, { code: "import_not_found" })}</Notice>;
    return null;
  }, [query.isPending, query.isError, imp, t]);
  return (
    <RequireSession>
      {(session) => {
        if (body) return body;
        if (!imp) return null;
        if (status === "cancelled") return <Navigate to={`/imports/${id}/cancelled`} replace />;
        const order = imp.order ?? session.order;
        if (status === "awaiting_confirmation" && imp.zone === "temporary") {
          return <TemporaryConfirmation imp={imp} />;
        }
        if (status === "awaiting_confirmation" && !order) {
          return <WorklistConfirmation imp={imp} />;
        }
        if (status !== "awaiting_confirmation" || !order) {
          return (
            <Notice tone="info" title={t("confirm.notAwaiting")}>
              <Link to={`/imports/${id}`}>{t("confirm.toMonitor")}</Link>
            </Notice>
          );
        }
        return <OrderConfirmation imp={imp} order={order} initialRenewed={initialRenewed} />;
      }}
    </RequireSession>
  );
}
