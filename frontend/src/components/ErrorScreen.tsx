import { useEffect, useRef } from "react";
import { useTranslation } from "react-i18next";
import { Notice } from "./Notice";

export type TokenErrorCode =
  | "token_missing"
  | "token_invalid"
  | "token_expired"
  | "token_used"
  | "invalid_input"
  | "session_expired"
  | "session_ended"
  | "network";

export function toTokenError(code: string): TokenErrorCode {
  switch (code) {
    case "token_missing":
    case "token_invalid":
    case "token_expired":
    case "token_used":
    case "invalid_input":
    case "network":
      return code;
    default:
      return "token_invalid";
  }
}

/** A screen that explains why the import cannot go on, and what to do: relaunch from the RIS. */
export function ErrorScreen({ code }: { code: TokenErrorCode }) {
  const { t } = useTranslation();
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  return (
    <section className="card error-screen" data-code={code}>
      <h1 ref={heading} tabIndex={-1}>
        {t(`launch.errors.${code}.title`)}
      </h1>
      <p>{t(`launch.errors.${code}.body`)}</p>
      {code !== "network" ? (
        <Notice tone="info">
          <p>
            <strong>{t("launch.relaunch")}</strong>
          </p>
        </Notice>
      ) : null}
    </section>
  );
}
