import { useTranslation } from "react-i18next";
import { ApiError } from "../api/client";
import { Notice } from "./Notice";

/**
 * What a failed call says to the user: the server's own message for an API error
 * (`{"error": {"code", "message"}}`), the translated network error for anything else (no answer,
 * or an answer without a message). Nothing when there is no error.
 */
export function ApiErrorNotice({ error }: { error: unknown }) {
  const { t } = useTranslation();
  if (!error) return null;
  return (
    <Notice tone="danger" role="alert">
      {error instanceof ApiError && error.message ? error.message : t("errors.network")}
    </Notice>
  );
}
