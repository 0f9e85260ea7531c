import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { ApiError, type SessionContext } from "../api/client";
import { useSessionContext } from "../api/queries";
import { loadSession } from "../api/session";
import { ErrorScreen } from "../components/ErrorScreen";

/** The screens behind a session: without one (or with an ended one) say to relaunch from the RIS. */
export function RequireSession({ children }: { children: (session: SessionContext) => ReactNode }) {
  const { t } = useTranslation();
  const stored = loadSession();
  const session = useSessionContext();
  if (!stored) return <ErrorScreen code="session_expired" />;
  if (session.isPending) {
    return (
      <p className="loading" role="status">
        {t("app.loading")}
      </p>
    );
  }
  if (session.isError) {
    const e = session.error;
    return <ErrorScreen code={e instanceof ApiError ? "session_expired" : "network"} />;
  }
  return <>{children(session.data)}</>;
}
