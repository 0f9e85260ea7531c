/**
 * The archive sent with the tus 1.0.0 protocol (tus-js-client) to the `upload_url` the API gave:
 * in chunks, retried after a network drop, resumed from the server's offset (HEAD) — also after
 * a reload, because the upload URL is kept for this tab (see `pending.ts`).
 */
import { Upload } from "tus-js-client";

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

export function uploadArchive(blob: Blob, options: UploadOptions): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const upload = new Upload(blob, {
      uploadUrl: absoluteUrl(options.uploadUrl),
      chunkSize: options.chunkSize,
      retryDelays: RETRY_DELAYS,
      headers: { Authorization: `Bearer ${options.token}` },
      storeFingerprintForResuming: false,
      removeFingerprintOnSuccess: true,
      onProgress: (sent, total) => options.onProgress?.(sent, total),
      onShouldRetry: (error) =>
        shouldRetry(error.originalResponse?.getStatus(), error.originalResponse?.getBody()),
      onSuccess: () => resolve(),
      onError: (error) => reject(error),
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
