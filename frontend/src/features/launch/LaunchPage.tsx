/**
 * `/#token=…`: the single-use launch token from the RIS becomes this tab's session. The token
 * left the address (and the former session was forgotten) before the app rendered
 * (`takeLaunchToken`); here it is exchanged, then the new session's start screen opens.
 */
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { Navigate, useNavigate } from "react-router";
import { ApiError, api, unwrap, type SessionOut } from "../../api/client";
import { forgetSession, launchSettled, launchToken } from "../../api/launch";
import { loadSession, saveSession } from "../../api/session";
import { ErrorScreen, toTokenError, type TokenErrorCode } from "../../components/ErrorScreen";

// One exchange per token, even if React runs the effect twice (StrictMode): a second POST
// would find the token used.
const exchanges = new Map<string, Promise<SessionOut>>();

function exchange(token: string): Promise<SessionOut> {
  let pending = exchanges.get(token);
  if (!pending) {
    pending = unwrap(api.POST("/api/v1/sessions", { body: { launch_token: token } })).then((session) => {
      // nothing cached may belong to another session than this one
      forgetSession();
      saveSession({ token: session.session_token, expiresAt: session.expires_at });
      return session;
    });
    exchanges.set(token, pending);
  }
  return pending;
}

export function LaunchPage() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const [token] = useState(launchToken);
  const [error, setError] = useState<TokenErrorCode | null>(token === "" ? "token_missing" : null);

  useEffect(() => {
    if (!token) return;
    let active = true;
    exchange(token)
      .then(() => {
        launchSettled(token);
        if (active) navigate("/import", { replace: true });
      })
      .catch((e: unknown) => {
        launchSettled(token);
        if (active) setError(e instanceof ApiError ? toTokenError(e.code) : "network");
      });
    return () => {
      active = false;
    };
  }, [token, navigate]);

  if (error) return <ErrorScreen code={error} />;
  if (token) {
    return (
      <p className="loading" role="status">
        {t("launch.opening")}
      </p>
    );
  }
  if (loadSession()) return <Navigate to="/import" replace />;
  return <ErrorScreen code="token_missing" />;
}
