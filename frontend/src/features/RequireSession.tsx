import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { ApiError, type SessionContext } from "../api/client";
import { useSessionContext } from "../api/queries";
import { loadSession, sessionEnd } from "../api/session";
import { ErrorScreen } from "../components/ErrorScreen";

/** The screens behind a session: without one (or with an ended one) say to relaunch from the RIS. */
export function RequireSession({ children }: { children: (session: SessionContext) => ReactNode }) {
  const { t } = useTranslation();
  const stored = loadSession();
  const session = useSessionContext();
  const over = sessionEnd() === "ended" ? "session_ended" : "session_expired";
  if (!stored) return <ErrorScreen code={over} />;
  if (session.isPending) {
    return (
      <p className="loading" role="status">
        {t("app.loading")}
      </p>
    );
  }
  if (session.isError) {
    const e = session.error;
    return <ErrorScreen code={e instanceof ApiError ? over : "network"} />;
  }
  return <>{children(session.data)}</>;
}
