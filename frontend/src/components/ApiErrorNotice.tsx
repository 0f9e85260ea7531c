import { useTranslation } from "react-i18next";
import { ApiError } from "../api/client";
import { messageText } from "../i18n/message";
import { Notice } from "./Notice";

/**
 * What a failed call says to the user: the API's code and params worded in the user's language
 * (`{"error": {"code", "params", "message"}}`: the English `message` is never shown), the
 * translated network error for anything else (no answer at all). Nothing when there is no error.
 */
export function ApiErrorNotice({ error }: { error: unknown }) {
  const { t } = useTranslation();
  if (!error) return null;
  return (
    <Notice tone="danger" role="alert">
      {errorText(t, error)}
    </Notice>
  );
}

/** The words of any error a call may throw: an ApiError's code, else the network error. */
export function errorText(t: Parameters<typeof messageText>[0], error: unknown): string {
  return error instanceof ApiError && error.code ? messageText(t, error) : t("errors.network");
}
