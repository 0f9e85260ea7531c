/**
 * From the files the user chose to an import waiting for confirmation: read the medium (in a
 * worker), show what will be sent, compress it (in a worker), create the import, send the
 * archive with tus, then hand over to the analysis wait.
 */
import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useRef, useState } from "react";
import { api, unwrap, type Zone } from "../../api/client";
import { keys, useConfig } from "../../api/queries";
import { sessionToken } from "../../api/session";
import type { MediaFile, MediaPlan } from "../../media/types";
import { planInWorker, zipInWorker } from "../../media/worker-client";
import { clearPending, fingerprint, loadPending, resumable, savePending } from "../../upload/pending";
import { uploadArchive } from "../../upload/tus";

export type Phase =
  | { kind: "idle" }
  | { kind: "scanning"; done: number; total: number }
  | { kind: "ready"; plan: MediaPlan; label: string; zipAsIs: boolean }
  | { kind: "compressing"; done: number; total: number }
  | { kind: "creating" }
  | { kind: "transferring"; sent: number; total: number; resumed: boolean }
  | { kind: "waiting"; importId: string }
  | { kind: "error"; step: "scan" | "compress" | "create" | "transfer"; message: string };

export interface Timing {
  zipMillis: number;
  uploadMillis: number;
  inputBytes: number;
  archiveBytes: number;
}

/**
 * The last transfer's durations, as a User Timing mark any tool can read
 * (`performance.getEntriesByName("pmi:transfer")`): the benchmark does.
 */
function recordTiming(timing: Timing): void {
  try {
    performance.mark("pmi:transfer", { detail: { ...timing } });
  } catch {
    // an old browser without mark details: nothing to record
  }
}

function message(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

function zipPlan(file: MediaFile): MediaPlan {
  return {
    source: "all-files",
    dicomdir: null,
    files: [file],
    missing: [],
    leftOut: 0,
    summary: { patients: 0, studies: 0, series: 0, files: 1, dicom: 0, bytes: file.size, patientNames: [] },
  };
}

export function useSendFlow(accession: string, zone: Zone = "pacs") {
  const config = useConfig();
  const client = useQueryClient();
  const [phase, setPhase] = useState<Phase>({ kind: "idle" });
  const abort = useRef<AbortController | null>(null);
  const archive = useRef<{ blob: Blob; files: MediaFile[] } | null>(null);
  const timing = useRef<Timing | null>(null);
  const [canRetryTransfer, setCanRetryTransfer] = useState(false);

  const reset = useCallback(() => {
    abort.current?.abort();
    abort.current = null;
    archive.current = null;
    setCanRetryTransfer(false);
    setPhase({ kind: "idle" });
  }, []);

  const choose = useCallback(async (files: MediaFile[], label: string) => {
    abort.current?.abort();
    archive.current = null;
    const controller = new AbortController();
    abort.current = controller;
    if (files.length === 1 && /\.zip$/i.test(files[0]!.path)) {
      setPhase({ kind: "ready", plan: zipPlan(files[0]!), label, zipAsIs: true });
      return;
    }
    setPhase({ kind: "scanning", done: 0, total: files.length });
    try {
      const plan = await planInWorker(
        files,
        (done, total) => setPhase({ kind: "scanning", done, total }),
        controller.signal,
      );
      if (!controller.signal.aborted) setPhase({ kind: "ready", plan, label, zipAsIs: false });
    } catch (error) {
      if (!controller.signal.aborted) setPhase({ kind: "error", step: "scan", message: message(error) });
    }
  }, []);

  const transfer = useCallback(
    async (blob: Blob, files: MediaFile[], controller: AbortController) => {
      const token = sessionToken() ?? "";
      let target = resumable(loadPending(), accession, files, blob.size);
      const resumed = target !== null;
      if (!target) {
        setPhase({ kind: "creating" });
        try {
          const created = await unwrap(
            api.POST("/api/v1/imports", {
              body: { size: blob.size, filename: "medium.zip", zone },
            }),
          );
          target = {
            importId: created.id,
            uploadUrl: created.upload_url,
            accession,
            fingerprint: fingerprint(files),
            size: blob.size,
          };
          savePending(target);
          void client.invalidateQueries({ queryKey: keys.imports });
        } catch (error) {
          setPhase({ kind: "error", step: "create", message: message(error) });
          return;
        }
      }
      setPhase({ kind: "transferring", sent: 0, total: blob.size, resumed });
      const started = performance.now();
      try {
        await uploadArchive(blob, {
          uploadUrl: target.uploadUrl,
          token,
          chunkSize: config.uploadChunkMegabytes * 1024 * 1024,
          signal: controller.signal,
          onProgress: (sent, total) => setPhase({ kind: "transferring", sent, total, resumed }),
        });
      } catch (error) {
        if (!controller.signal.aborted) {
          setPhase({ kind: "error", step: "transfer", message: message(error) });
        }
        return;
      }
      if (timing.current) {
        timing.current.uploadMillis = performance.now() - started;
        recordTiming(timing.current);
      }
      clearPending();
      archive.current = null;
      setCanRetryTransfer(false);
      void client.invalidateQueries({ queryKey: keys.imports });
      setPhase({ kind: "waiting", importId: target.importId });
    },
    [accession, zone, client, config.uploadChunkMegabytes],
  );

  const send = useCallback(async () => {
    if (phase.kind !== "ready") return;
    const { plan, zipAsIs } = phase;
    const controller = new AbortController();
    abort.current = controller;
    let blob: Blob;
    if (zipAsIs) {
      blob = plan.files[0]!.file;
      timing.current = { zipMillis: 0, uploadMillis: 0, inputBytes: blob.size, archiveBytes: blob.size };
    } else {
      setPhase({ kind: "compressing", done: 0, total: plan.summary.bytes });
      try {
        const zipped = await zipInWorker(
          plan.files,
          config.zipLevel,
          (p) => setPhase({ kind: "compressing", done: p.done, total: p.total }),
          controller.signal,
        );
        blob = zipped.blob;
        timing.current = {
          zipMillis: zipped.millis,
          uploadMillis: 0,
          inputBytes: plan.summary.bytes,
          archiveBytes: blob.size,
        };
      } catch (error) {
        if (!controller.signal.aborted) {
          setPhase({ kind: "error", step: "compress", message: message(error) });
        }
        return;
      }
    }
    archive.current = { blob, files: plan.files };
    setCanRetryTransfer(true);
    await transfer(blob, plan.files, controller);
  }, [phase, transfer, config.zipLevel]);

  /** After a failed transfer: try again with the archive already built (tus resumes). */
  const retryTransfer = useCallback(async () => {
    if (!archive.current) return;
    const controller = new AbortController();
    abort.current = controller;
    await transfer(archive.current.blob, archive.current.files, controller);
  }, [transfer]);

  return {
    phase,
    choose,
    send,
    reset,
    retryTransfer,
    canRetryTransfer,
  };
}
