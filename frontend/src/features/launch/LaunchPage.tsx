/**
 * `/?token=…`: the single-use launch token from the RIS becomes this tab's session; the token is
 * then removed from the address bar (and from the history entry) before anything else happens.
 */
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { Navigate, useNavigate } from "react-router";
import { ApiError, api, unwrap, type SessionOut } from "../../api/client";
import { loadSession, saveSession } from "../../api/session";
import { ErrorScreen, toTokenError, type TokenErrorCode } from "../../components/ErrorScreen";

// One exchange per token, even if React runs the effect twice (StrictMode): a second POST
// would find the token used.
const exchanges = new Map<string, Promise<SessionOut>>();

function exchange(token: string): Promise<SessionOut> {
  let pending = exchanges.get(token);
  if (!pending) {
    pending = unwrap(api.POST("/api/v1/sessions", { body: { launch_token: token } }));
    exchanges.set(token, pending);
  }
  return pending;
}

function takeTokenFromAddress(): string | null {
  const params = new URLSearchParams(window.location.search);
  if (!params.has("token")) return null;
  const token = params.get("token") ?? "";
  params.delete("token");
  const rest = params.toString();
  window.history.replaceState(null, "", `${window.location.pathname}${rest ? `?${rest}` : ""}#/`);
  return token;
}

export function LaunchPage() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const [token] = useState(takeTokenFromAddress);
  const [error, setError] = useState<TokenErrorCode | null>(token === "" ? "token_missing" : null);

  useEffect(() => {
    if (!token) return;
    let active = true;
    exchange(token)
      .then((session) => {
        saveSession({ token: session.session_token, expiresAt: session.expires_at });
        if (active) navigate("/import", { replace: true });
      })
      .catch((e: unknown) => {
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
