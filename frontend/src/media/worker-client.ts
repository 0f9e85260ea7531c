/** The page's side of the media worker: one Worker per job, terminated when done or aborted. */
import type { WorkerRequest, WorkerResponse } from "./media.worker";
import type { MediaFile, MediaPlan } from "./types";
import type { ZipProgress } from "./zip";

function run<T>(
  request: WorkerRequest,
  onMessage: (message: WorkerResponse, resolve: (value: T) => void) => void,
  signal?: AbortSignal,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const worker = new Worker(new URL("./media.worker.ts", import.meta.url), { type: "module" });
    const finish = () => {
      worker.terminate();
      signal?.removeEventListener("abort", abort);
    };
    const abort = () => {
      finish();
      reject(new DOMException("aborted", "AbortError"));
    };
    if (signal?.aborted) return abort();
    signal?.addEventListener("abort", abort);
    worker.onerror = (event) => {
      finish();
      reject(new Error(event.message || "the media worker failed"));
    };
    worker.onmessage = (event: MessageEvent<WorkerResponse>) => {
      const message = event.data;
      if (message.type === "error") {
        finish();
        reject(new Error(message.message));
        return;
      }
      onMessage(message, (value) => {
        finish();
        resolve(value);
      });
    };
    worker.postMessage(request);
  });
}

export function planInWorker(
  files: MediaFile[],
  onProgress?: (done: number, total: number) => void,
  signal?: AbortSignal,
): Promise<MediaPlan> {
  return run<MediaPlan>(
    { type: "plan", files },
    (message, resolve) => {
      if (message.type === "plan-progress") onProgress?.(message.done, message.total);
      if (message.type === "plan") resolve(message.plan);
    },
    signal,
  );
}

/** A ZIP chosen as it is: listed and looked into, never re-zipped. */
export function planZipInWorker(
  zip: MediaFile,
  onProgress?: (done: number, total: number) => void,
  signal?: AbortSignal,
): Promise<MediaPlan> {
  return run<MediaPlan>(
    { type: "plan-zip", zip },
    (message, resolve) => {
      if (message.type === "plan-progress") onProgress?.(message.done, message.total);
      if (message.type === "plan") resolve(message.plan);
    },
    signal,
  );
}

export function zipInWorker(
  files: MediaFile[],
  level: number,
  onProgress?: (progress: ZipProgress) => void,
  signal?: AbortSignal,
): Promise<{ blob: Blob; millis: number }> {
  return run<{ blob: Blob; millis: number }>(
    { type: "zip", files, level },
    (message, resolve) => {
      if (message.type === "zip-progress") onProgress?.(message.progress);
      if (message.type === "zip") resolve({ blob: message.blob, millis: message.millis });
    },
    signal,
  );
}
