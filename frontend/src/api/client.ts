/** The typed API client (openapi-fetch over the generated `schema.d.ts`) and its errors. */
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema";
import { sessionToken } from "./session";

export type ImportOut = components["schemas"]["ImportOut"];
export type ImportSummary = components["schemas"]["ImportSummary"];
export type StudyOut = components["schemas"]["StudyOut"];
export type SeriesOut = components["schemas"]["SeriesOut"];
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
export type AuditPageOut = components["schemas"]["AuditPage"];
/** Every status the server names (`ImportOut.status`); the app reads them in `domain/status`. */
export type ImportStatus = components["schemas"]["ImportStatus"];
export type Zone = components["schemas"]["Zone"];

/** An answer of the API that is not a success: its stable `code`, a message for a person. */
export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

export function errorCode(error: unknown): string {
  if (error instanceof ApiError) return error.code;
  return "network";
}

/** `{"error": {"code", "message"}}`, or FastAPI's validation list, or anything else. */
export function toApiError(status: number, body: unknown): ApiError {
  if (body && typeof body === "object" && "error" in body) {
    const error = (body as { error?: { code?: unknown; message?: unknown } }).error;
    if (error && typeof error.code === "string") {
      return new ApiError(status, error.code, typeof error.message === "string" ? error.message : "");
    }
  }
  if (status === 422) return new ApiError(status, "invalid_input", "");
  return new ApiError(status, `http_${status}`, "");
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
