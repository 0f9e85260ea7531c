/**
 * The archive sent with the tus 1.0.0 protocol (tus-js-client) to the `upload_url` the API gave:
 * in chunks, retried after a network drop, resumed from the server's offset (HEAD) — also after
 * a reload, because the upload URL is kept for this tab (see `pending.ts`).
 */
import { DetailedError, Upload } from "tus-js-client";

export interface UploadOptions {
  uploadUrl: string;
  token: string;
  chunkSize: number;
  onProgress?: (sent: number, total: number) => void;
  signal?: AbortSignal;
}

/** Delays between attempts after a failure: about five minutes of trying in all. */
export const RETRY_DELAYS = [0, 1000, 2000, 5000, 10_000, 20_000, 30_000, 60_000, 60_000, 60_000, 60_000];

export function absoluteUrl(url: string, base: string = window.location.href): string {
  return new URL(url, base).toString();
}

/** Refusals that no retry can change: the import was cancelled or expired meanwhile. */
const FINAL_CODES = new Set(["upload_closed"]);

function errorCode(body: string | undefined): string | undefined {
  try {
    const parsed = JSON.parse(body ?? "") as { error?: { code?: unknown } };
    return typeof parsed.error?.code === "string" ? parsed.error.code : undefined;
  } catch {
    return undefined;
  }
}

/** Retry network errors, 409 (offset or busy: tus asks HEAD again, unless the upload is
 * closed), 423, 429 and 5xx. */
export function shouldRetry(status: number | undefined, body?: string): boolean {
  if (status === undefined || status === 0) return true;
  if (status === 409 && FINAL_CODES.has(errorCode(body) ?? "")) return false;
  return status === 409 || status === 423 || status === 429 || status >= 500;
}

/**
 * The archive's own bytes could not be read: the file on the medium is gone (a USB stick pulled
 * out, a CD ejected) or changed since it was chosen. No retry can help; choosing it again can.
 */
export class MediumReadError extends Error {
  override readonly name = "MediumReadError";
  constructor(readonly causingError: unknown) {
    super("the file being sent can no longer be read");
  }
}

/** The DOMException names of a failed read of a chosen file (File API: NotFoundError, NotReadableError). */
const READ_ERRORS = new Set(["NotFoundError", "NotReadableError"]);

/** Is this a failed read of the local file, itself or as the cause tus-js-client wraps? */
export function isReadError(error: unknown): boolean {
  for (let e = error, depth = 0; e && typeof e === "object" && depth < 4; depth++) {
    if (e instanceof MediumReadError || READ_ERRORS.has(String((e as { name?: unknown }).name))) return true;
    e = (e as { causingError?: unknown }).causingError;
  }
  return false;
}

/**
 * Can the file still be read where the transfer stopped? A file on a removed medium cannot: the
 * browser then sends nothing, and tus-js-client sees the same "no answer" as a network failure.
 */
export async function stillReadable(blob: Blob, offset = 0): Promise<boolean> {
  const at = Math.max(0, Math.min(offset, blob.size - 1));
  try {
    await blob.slice(at, at + 1).arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

/**
 * Why a transfer failed: the server refused it (its answer has a status: see `uploadApiError`),
 * the file on the medium could not be read, or no answer came at all (the network).
 */
export type TransferFailure = "refused" | "medium" | "network";

export function transferFailure(error: unknown): TransferFailure {
  if (isReadError(error)) return "medium";
  const response = (error as { originalResponse?: { getStatus?: () => number } | null } | null)?.originalResponse;
  return response?.getStatus?.() ? "refused" : "network";
}

/** The offset a failed tus request was sending from (0 when it does not say). */
function failedOffset(error: { originalRequest?: { getHeader(name: string): string | undefined } | null }): number {
  const offset = Number(error.originalRequest?.getHeader("Upload-Offset") ?? 0);
  return Number.isFinite(offset) ? offset : 0;
}

export function uploadArchive(blob: Blob, options: UploadOptions): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let probing = false;
    /**
     * No answer from the server: before retrying for minutes, look whether the file itself is
     * gone — then stop at once and say so (`MediumReadError`), not "the server cannot be reached".
     */
    const probe = (error: DetailedError, onReadable: () => void) => {
      probing = true;
      void stillReadable(blob, failedOffset(error)).then((readable) => {
        probing = false;
        if (readable) return onReadable();
        void upload.abort(false);
        reject(new MediumReadError(error));
      });
    };
    const upload = new Upload(blob, {
      uploadUrl: absoluteUrl(options.uploadUrl),
      chunkSize: options.chunkSize,
      retryDelays: RETRY_DELAYS,
      headers: { Authorization: `Bearer ${options.token}` },
      storeFingerprintForResuming: false,
      removeFingerprintOnSuccess: true,
      onProgress: (sent, total) => options.onProgress?.(sent, total),
      onShouldRetry: (error) => {
        const status = error.originalResponse?.getStatus();
        if (!status && !probing) probe(error, () => undefined);
        return shouldRetry(status, error.originalResponse?.getBody());
      },
      onSuccess: () => resolve(),
      onError: (error) => {
        if (error instanceof DetailedError && !error.originalResponse?.getStatus()) probe(error, () => reject(error));
        else reject(error);
      },
    });
    if (options.signal) {
      if (options.signal.aborted) {
        reject(new DOMException("aborted", "AbortError"));
        return;
      }
      options.signal.addEventListener("abort", () => {
        void upload.abort(false);
        reject(new DOMException("aborted", "AbortError"));
      });
    }
    upload.start();
  });
}
