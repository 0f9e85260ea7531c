import { useQueryClient } from "@tanstack/react-query";
import { useState, type ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { Link, useLocation, useNavigate } from "react-router";
import { endSession } from "../api/endSession";
import { useSessionContext } from "../api/queries";
import { sessionToken } from "../api/session";
import { LANGUAGES, isLanguage, rememberLanguage, switchLanguage } from "../i18n";

function UserName() {
  const { t } = useTranslation();
  const session = useSessionContext();
  const user = session.data?.user;
  if (!user) return null;
  return (
    <span className="header-user">
      {user.department
        ? t("app.userWithDepartment", { name: user.name, department: user.department })
        : t("app.user", { name: user.name })}
    </span>
  );
}

/**
 * The user leaves: the session ends on the server (its token is refused from then on, its live
 * streams end) and the screen says the session has ended, as when it expires.
 */
function EndSession() {
  const { t } = useTranslation();
  const client = useQueryClient();
  const navigate = useNavigate();
  const session = useSessionContext();
  const [ending, setEnding] = useState(false);
  if (!session.data) return null;
  return (
    <button
      type="button"
      className="button button-small button-secondary"
      disabled={ending}
      onClick={() => {
        if (!window.confirm(t("app.endSessionConfirm"))) return;
        setEnding(true);
        // every screen behind a session then says it has ended: show the start screen's
        void endSession(client).finally(() => {
          setEnding(false);
          void navigate("/import");
        });
      }}
    >
      {t("app.endSession")}
    </button>
  );
}

/**
 * What the user's roles open besides the import: the temporary zone and the remembered
 * identities (the referents), the audit trail.
 */
export function RoleLinks() {
  const { t } = useTranslation();
  const roles = useSessionContext().data?.user.roles ?? [];
  const links = [
    roles.includes("clinician") || roles.includes("temporary_zone") ? { to: "/import", label: t("nav.import") } : null,
    roles.includes("temporary_zone") ? { to: "/temporary", label: t("nav.temporary") } : null,
    roles.includes("temporary_zone") ? { to: "/identities", label: t("nav.identities") } : null,
    roles.includes("auditor") ? { to: "/audit", label: t("nav.audit") } : null,
  ].filter((l) => l !== null);
  if (links.length < 2 && !roles.includes("auditor")) return null;
  return (
    <nav aria-label={t("nav.label")} className="app-nav">
      {links.map((l) => (
        <Link key={l.to} to={l.to}>
          {l.label}
        </Link>
      ))}
    </nav>
  );
}

export function LanguageSelect() {
  const { t, i18n } = useTranslation();
  return (
    <label className="language">
      <span>{t("app.language")}</span>
      <select
        value={i18n.resolvedLanguage}
        onChange={(e) => {
          const value = e.target.value;
          if (isLanguage(value)) {
            rememberLanguage(value);
            void switchLanguage(value);
          }
        }}
      >
        {LANGUAGES.map((l) => (
          <option key={l.code} value={l.code} lang={l.code}>
            {l.name}
          </option>
        ))}
      </select>
    </label>
  );
}

export function Layout({ children }: { children: ReactNode }) {
  const { t } = useTranslation();
  useLocation(); // the session appears after the launch navigates: render the header again
  return (
    <>
      <a className="skip-link" href="#content" onClick={(e) => {
        e.preventDefault();
        document.getElementById("content")?.focus();
      }}>
        {t("app.skipToContent")}
      </a>
      <header className="app-header">
        <div className="app-header-inner">
          <span className="app-title">{t("app.title")}</span>
          <div className="header-right">
            {sessionToken() ? <RoleLinks /> : null}
            {sessionToken() ? <UserName /> : null}
            {sessionToken() ? <EndSession /> : null}
            <LanguageSelect />
          </div>
        </div>
      </header>
      <main id="content" tabIndex={-1} className="app-main">
        {children}
      </main>
    </>
  );
}
