/**
 * From the files the user chose to an import waiting for confirmation: read the medium (in a
 * worker), show what will be sent, compress it (in a worker), create the import, send the
 * archive with tus, then hand over to the analysis wait.
 */
import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useRef, useState } from "react";
import { ApiError, api, unwrap, type Zone } from "../../api/client";
import { cancelImport, keys, useConfig } from "../../api/queries";
import { sessionToken } from "../../api/session";
import { isZip } from "../../media/collect";
import type { MediaFile, MediaPlan } from "../../media/types";
import { planInWorker, planZipInWorker, zipInWorker } from "../../media/worker-client";
import {
  clearPending,
  fingerprint,
  interruptedAtLoad,
  loadPending,
  resumable,
  savePending,
  settleInterrupted,
  type PendingUpload,
} from "../../upload/pending";
import { uploadArchive } from "../../upload/tus";

export type Phase =
  | { kind: "idle" }
  | { kind: "scanning"; done: number; total: number }
  | { kind: "ready"; plan: MediaPlan; label: string; zipAsIs: boolean }
  | { kind: "compressing"; done: number; total: number }
  | { kind: "creating" }
  | { kind: "transferring"; sent: number; total: number; resumed: boolean }
  /** the user stopped the transfer: the import is being cancelled on the server */
  | { kind: "stopping" }
  /** `cancelled` false: the server could not be told (it expires the import by itself) */
  | { kind: "stopped"; cancelled: boolean }
  | { kind: "waiting"; importId: string }
  /** `cause`: the error itself, for the server's code when it gave one (create, transfer) */
  | { kind: "error"; step: "scan" | "compress" | "create" | "transfer"; cause?: unknown };

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

/** Cancel an import on the server; false when it could not be (it then expires by itself). */
async function cancelOnServer(importId: string): Promise<boolean> {
  try {
    await cancelImport(importId);
    return true;
  } catch {
    return false;
  }
}

/** Does the server still wait for this upload's bytes? (When it cannot say: assume so.) */
async function stillOpen(importId: string): Promise<boolean> {
  try {
    const imp = await unwrap(api.GET("/api/v1/imports/{import_id}", { params: { path: { import_id: importId } } }));
    return imp.status === "created";
  } catch (error) {
    return !(error instanceof ApiError && error.status === 404);
  }
}

/** Nothing chosen (an empty folder, an empty drop): said so, nothing to send. */
function emptyPlan(): MediaPlan {
  return {
    source: "all-files",
    dicomdir: null,
    files: [],
    missing: [],
    leftOut: 0,
    summary: { patients: 0, studies: 0, series: 0, files: 0, dicom: 0, bytes: 0, patientNames: [], found: {} },
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
  /** the import this page created or resumed and is sending (or analysing) */
  const [importId, setImportId] = useState<string | null>(null);
  /**
   * The upload of this order an earlier page (before a reload) left unfinished, as it was when the
   * page opened — never the one this page starts. Gone once its resume starts or it is cancelled.
   */
  const [atLoad] = useState<PendingUpload | null>(() => interruptedAtLoad());
  const [interruptedDone, setInterruptedDone] = useState(false);
  const interrupted = atLoad && atLoad.accession === accession && !interruptedDone ? atLoad : null;
  const settle = useCallback(
    (id: string) => {
      settleInterrupted(id);
      if (atLoad?.importId === id) setInterruptedDone(true);
    },
    [atLoad],
  );

  const reset = useCallback(() => {
    abort.current?.abort();
    abort.current = null;
    archive.current = null;
    setCanRetryTransfer(false);
    setImportId(null);
    setPhase({ kind: "idle" });
  }, []);

  const choose = useCallback(async (files: MediaFile[], label: string) => {
    abort.current?.abort();
    archive.current = null;
    const controller = new AbortController();
    abort.current = controller;
    const zipAsIs = isZip(files);
    setPhase({ kind: "scanning", done: 0, total: files.length });
    try {
      const progress = (done: number, total: number) => setPhase({ kind: "scanning", done, total });
      const plan = zipAsIs
        ? await planZipInWorker(files[0]!, progress, controller.signal)
        : files.length === 0
          ? emptyPlan()
          : await planInWorker(files, progress, controller.signal);
      if (!controller.signal.aborted) setPhase({ kind: "ready", plan, label, zipAsIs });
    } catch (error) {
      if (!controller.signal.aborted) setPhase({ kind: "error", step: "scan", cause: error });
    }
  }, []);

  const transfer = useCallback(
    async (blob: Blob, files: MediaFile[], controller: AbortController) => {
      const token = sessionToken() ?? "";
      const earlier = loadPending();
      let target = resumable(earlier, accession, files, blob.size);
      if (target && !(await stillOpen(target.importId))) {
        // cancelled or expired meanwhile (from another window, or by the server): a new import
        settle(target.importId);
        clearPending();
        target = null;
      }
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
          // the earlier unfinished upload of this tab can no longer be resumed from here:
          // cancelled, not left as a request nobody finishes
          if (earlier && earlier.importId !== created.id) void cancelOnServer(earlier.importId);
          if (earlier) settle(earlier.importId);
          void client.invalidateQueries({ queryKey: keys.imports });
        } catch (error) {
          setPhase({ kind: "error", step: "create", cause: error });
          return;
        }
        if (controller.signal.aborted) {
          // stopped while the import was being created
          clearPending();
          void cancelOnServer(target.importId).then(() => client.invalidateQueries({ queryKey: keys.imports }));
          return;
        }
      }
      setImportId(target.importId);
      if (resumed) settle(target.importId);
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
          setPhase({ kind: "error", step: "transfer", cause: error });
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
    [accession, zone, client, config.uploadChunkMegabytes, settle],
  );

  /**
   * Stop while compressing or sending: the transfer is aborted and the import cancelled on the
   * server (its files deleted), so no unfinished request is left behind.
   */
  const stop = useCallback(async () => {
    abort.current?.abort();
    abort.current = null;
    archive.current = null;
    setCanRetryTransfer(false);
    const id = importId;
    if (phase.kind !== "transferring" || id === null) {
      setImportId(null);
      setPhase({ kind: "idle" });
      return;
    }
    setPhase({ kind: "stopping" });
    if (loadPending()?.importId === id) clearPending();
    const cancelled = await cancelOnServer(id);
    setImportId(null);
    void client.invalidateQueries({ queryKey: keys.imports });
    void client.invalidateQueries({ queryKey: keys.import(id) });
    setPhase({ kind: "stopped", cancelled });
  }, [importId, phase.kind, client]);

  /** Cancel the upload an earlier page left unfinished (the user will not resume it). */
  const cancelInterrupted = useCallback(async () => {
    if (!interrupted) return;
    const ok = await cancelOnServer(interrupted.importId);
    if (ok) {
      if (loadPending()?.importId === interrupted.importId) clearPending();
      settle(interrupted.importId);
    }
    void client.invalidateQueries({ queryKey: keys.imports });
    void client.invalidateQueries({ queryKey: keys.import(interrupted.importId) });
  }, [interrupted, client, settle]);

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
          setPhase({ kind: "error", step: "compress", cause: error });
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
    stop,
    reset,
    retryTransfer,
    canRetryTransfer,
    importId,
    interrupted,
    cancelInterrupted,
  };
}
