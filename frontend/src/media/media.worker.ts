/// <reference lib="webworker" />
/**
 * The heavy work on a medium, off the page's thread: reading the DICOMDIR or the headers for the
 * summary, and building the ZIP. One worker per job; the page terminates it to abort.
 */
import { planMedia } from "./plan";
import type { MediaFile, MediaPlan } from "./types";
import { buildZip, type ZipProgress } from "./zip";
import { planZip } from "./zip-content";

export type WorkerRequest =
  | { type: "plan"; files: MediaFile[] }
  | { type: "plan-zip"; zip: MediaFile }
  | { type: "zip"; files: MediaFile[]; level?: number };

export type WorkerResponse =
  | { type: "plan-progress"; done: number; total: number }
  | { type: "plan"; plan: MediaPlan }
  | { type: "zip-progress"; progress: ZipProgress }
  | { type: "zip"; blob: Blob; millis: number }
  | { type: "error"; message: string };

declare const self: DedicatedWorkerGlobalScope;

function post(message: WorkerResponse): void {
  self.postMessage(message);
}

self.onmessage = async (event: MessageEvent<WorkerRequest>) => {
  const request = event.data;
  try {
    if (request.type === "plan") {
      const plan = await planMedia(request.files, (done, total) =>
        post({ type: "plan-progress", done, total }),
      );
      post({ type: "plan", plan });
    } else if (request.type === "plan-zip") {
      const plan = await planZip(request.zip, (done, total) =>
        post({ type: "plan-progress", done, total }),
      );
      post({ type: "plan", plan });
    } else {
      const started = performance.now();
      let last = 0;
      const blob = await buildZip(request.files, {
        ...(request.level !== undefined ? { level: request.level } : {}),
        onProgress: (progress) => {
          const now = performance.now();
          if (now - last > 100 || progress.done === progress.total) {
            last = now;
            post({ type: "zip-progress", progress });
          }
        },
      });
      post({ type: "zip", blob, millis: performance.now() - started });
    }
  } catch (error) {
    post({ type: "error", message: error instanceof Error ? error.message : String(error) });
  }
};
