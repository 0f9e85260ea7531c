/** The typed API client (openapi-fetch over the generated `schema.d.ts`) and its errors. */
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema";
import { sessionToken } from "./session";

export type ImportOut = components["schemas"]["ImportOut"];
export type ImportSummary = components["schemas"]["ImportSummary"];
export type StudyOut = components["schemas"]["StudyOut"];
export type SeriesOut = components["schemas"]["SeriesOut"];
/** A document of the medium that is not DICOM (a PDF, a JPEG, a PNG), offered at confirmation. */
export type DocumentOut = components["schemas"]["DocumentOut"];
export type StagePublic = components["schemas"]["StagePublic"];
export type StageName = components["schemas"]["StageName"];
export type StageStatus = components["schemas"]["StageStatus"];
export type IdentityOut = components["schemas"]["IdentityOut"];
export type PatientFound = components["schemas"]["PatientFound"];
export type SessionContext = components["schemas"]["SessionContext"];
export type SessionOut = components["schemas"]["SessionOut"];
export type OrderOut = components["schemas"]["OrderOut"];
export type ConfirmIn = components["schemas"]["ConfirmIn"];
export type WorklistCandidate = components["schemas"]["WorklistCandidate"];
export type TemporaryItem = components["schemas"]["TemporaryItem"];
export type PromoteIn = components["schemas"]["PromoteIn"];
/** A referent's undo of a completed import and where it stands (`ImportOut.undo`, `TemporaryItem.undo`). */
export type UndoOut = components["schemas"]["UndoOut"];
/** Why an import is undone (IHE IOCM's reasons): the wrong patient, or the right patient's wrong order. */
export type UndoReason = components["schemas"]["UndoIn"]["reason"];
export type AuditPageOut = components["schemas"]["AuditPage"];
/** A local patient a medium's patient was filed under before (`IdentityOut.filed_before`). */
export type FiledBeforeOut = components["schemas"]["FiledBeforeOut"];
/** A remembered identity: a medium's patient and the local patient it was filed under. */
export type RememberedOut = components["schemas"]["RememberedOut"];
/** Every status the server names (`ImportOut.status`); the app reads them in `domain/status`. */
export type ImportStatus = components["schemas"]["ImportStatus"];
export type Zone = components["schemas"]["Zone"];

/** The params of a message, as the API gives them (`count`, `reason`, `stage`, a status…). */
export type MessageParams = Record<string, string | number>;

/**
 * An answer of the API that is not a success: its stable `code` and `params`, which the app
 * words (`i18n/message.ts`); `message` is the server's English, for logs only.
 */
export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  readonly params: MessageParams;
  constructor(status: number, code: string, message: string, params: MessageParams = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.params = params;
  }
}

export function errorCode(error: unknown): string {
  if (error instanceof ApiError) return error.code;
  return "network";
}

function cleanParams(value: unknown): MessageParams {
  const out: MessageParams = {};
  if (!value || typeof value !== "object") return out;
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v === "string" || typeof v === "number") out[key] = v;
  }
  return out;
}

/** `{"error": {"code", "params", "message"}}`, or FastAPI's validation list, or anything else. */
export function toApiError(status: number, body: unknown): ApiError {
  if (body && typeof body === "object" && "error" in body) {
    const error = (body as { error?: { code?: unknown; message?: unknown; params?: unknown } }).error;
    if (error && typeof error.code === "string") {
      const message = typeof error.message === "string" ? error.message : "";
      return new ApiError(status, error.code, message, cleanParams(error.params));
    }
  }
  if (status === 422) return new ApiError(status, "invalid_input", "");
  return new ApiError(status, "http_error", "", { status });
}

/**
 * The API's refusal inside a failed tus upload (tus-js-client's error carries the response), as
 * an ApiError; null when the server gave no answer of its own (a network error).
 */
export function uploadApiError(error: unknown): ApiError | null {
  if (error instanceof ApiError) return error;
  const response = (error as { originalResponse?: { getStatus(): number; getBody(): string } } | null)?.originalResponse;
  if (!response || typeof response.getStatus !== "function") return null;
  const status = response.getStatus();
  if (!status) return null;
  let body: unknown = null;
  try {
    body = JSON.parse(response.getBody() ?? "");
  } catch {
    // not JSON: a proxy's page
  }
  return toApiError(status, body);
}

export function authHeaders(): Record<string, string> {
  const token = sessionToken();
  return token ? { Authorization: `Bearer ${token}` } : {};
}

const auth: Middleware = {
  onRequest({ request }) {
    const token = sessionToken();
    if (token && !request.headers.has("Authorization")) {
      request.headers.set("Authorization", `Bearer ${token}`);
    }
    return request;
  },
};

export const api = createClient<paths>({ baseUrl: "" });
api.use(auth);

/** Unwrap an answer without a body (204 No Content): nothing, or an ApiError thrown. */
export async function unwrapEmpty(call: Promise<{ error?: unknown; response: Response }>): Promise<void> {
  const { error, response } = await call;
  if (!response.ok) throw toApiError(response.status, error);
}

/** Unwrap an openapi-fetch answer: the data, or an ApiError thrown. */
export async function unwrap<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok || data === undefined) {
    throw toApiError(response.status, error);
  }
  return data;
}
