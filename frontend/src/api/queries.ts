/**
 * Server state, only through TanStack Query: one key per resource, hooks per use. What belongs to
 * a session (its context, its imports) is also keyed by the session's token, so an answer for
 * another session is never shown (invalidating `keys.session` or `keys.imports` still reaches
 * them: keys match by prefix).
 */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ApiError, api, unwrap, unwrapEmpty, type ConfirmIn, type ImportOut, type PromoteIn, type UndoReason } from "./client";
import { sessionToken } from "./session";

export const keys = {
  session: ["session"] as const,
  imports: ["imports"] as const,
  import: (id: string) => ["import", id] as const,
  /** under the import's key: what refreshes the import (its events) refreshes its log */
  importLog: (id: string) => ["import", id, "log"] as const,
  thumbnail: (id: string, study: string, series: string) => ["thumbnail", id, study, series] as const,
  /** a document of the medium's preview (its first page) */
  documentPreview: (id: string, document: string) => ["documentPreview", id, document] as const,
  instanceImage: (id: string, study: string, series: string, position: number) =>
    ["instanceImage", id, study, series, position] as const,
  config: ["config"] as const,
  worklist: (query: WorklistQuery) => ["worklist", query] as const,
  temporary: ["temporary"] as const,
  /** the remembered identities (`GET /identities?q=`), per search */
  identities: (q: string) => ["identities", q] as const,
};

/** The worklist search's fields (`GET /worklist`); empty strings are left out. */
export interface WorklistQuery {
  name: string;
  given: string;
  birth_date: string;
  sex: string;
  date: string;
  accession: string;
  patient_id: string;
  /** with `study`: each order found is compared with that study's patient on the medium */
  import_id?: string;
  study?: string;
}

export interface AppConfig {
  /** the monitoring page warns when nothing has changed for this long while work is pending */
  monitorStaleAfterSeconds: number;
  /** polling period when the live stream is not available */
  pollIntervalSeconds: number;
  uploadChunkMegabytes: number;
  /** 0: stored (fastest on a LAN); 1–9: deflate, for slow links */
  zipLevel: number;
}

export const DEFAULT_CONFIG: AppConfig = {
  monitorStaleAfterSeconds: 120,
  pollIntervalSeconds: 3,
  uploadChunkMegabytes: 16,
  zipLevel: 0,
};

/** `config.json` next to index.html: what a site may tune without rebuilding. */
export function useConfig(): AppConfig {
  const { data } = useQuery({
    queryKey: keys.config,
    queryFn: async (): Promise<AppConfig> => {
      const response = await fetch("config.json", { cache: "no-cache" });
      if (!response.ok) return DEFAULT_CONFIG;
      return { ...DEFAULT_CONFIG, ...((await response.json()) as Partial<AppConfig>) };
    },
    staleTime: Infinity,
    retry: false,
  });
  return data ?? DEFAULT_CONFIG;
}

export function useSessionContext() {
  return useQuery({
    queryKey: [...keys.session, sessionToken()],
    queryFn: () => unwrap(api.GET("/api/v1/session")),
    staleTime: 5 * 60_000,
  });
}

export function useImports() {
  return useQuery({
    queryKey: [...keys.imports, sessionToken()],
    queryFn: async () => (await unwrap(api.GET("/api/v1/imports"))).items,
    refetchInterval: 15_000,
  });
}

/**
 * One import. Kept fresh by `useImportEvents` (its stream, or polling when the stream is down).
 * A completed import's stream ends at once, yet its undo goes on (the PACS is being asked): with
 * `undoPollMs`, the import is read again that often while its undo is `requested`.
 */
export function useImport(id: string, options: { enabled?: boolean; undoPollMs?: number } = {}) {
  const { undoPollMs } = options;
  return useQuery({
    queryKey: keys.import(id),
    enabled: (options.enabled ?? true) && id !== "",
    queryFn: () =>
      unwrap(api.GET("/api/v1/imports/{import_id}", { params: { path: { import_id: id } } })),
    refetchInterval: (query) => (undoPollMs && query.state.data?.undo?.state === "requested" ? undoPollMs : false),
  });
}

/** An import's own log (its audit events, worded by the app), read when it is opened. */
export function useImportLog(id: string, options: { enabled?: boolean } = {}) {
  return useQuery({
    queryKey: keys.importLog(id),
    enabled: (options.enabled ?? true) && id !== "",
    queryFn: async () =>
      (await unwrap(api.GET("/api/v1/imports/{import_id}/log", { params: { path: { import_id: id } } }))).items,
  });
}

/**
 * `order_changed` (the RIS changed the order's patient since the comparison shown),
 * `identity_not_compared` (the order chosen had not been compared yet) and `identity_changed`
 * (a patient of this medium was filed before under another patient of the hospital, which the
 * comparison shown did not say — just now or months ago):
 * nothing was filed and the server has recorded the new comparison on the import's studies. The
 * app shows it and the user confirms again; it never confirms by itself.
 */
export const RENEWED_CODES = ["order_changed", "identity_not_compared", "identity_changed"] as const;
export type RenewedCode = (typeof RENEWED_CODES)[number];

export function isRenewedCode(code: unknown): code is RenewedCode {
  return typeof code === "string" && (RENEWED_CODES as readonly string[]).includes(code);
}

export function renewedCode(error: unknown): RenewedCode | null {
  if (!(error instanceof ApiError) || error.status !== 409) return null;
  return isRenewedCode(error.code) ? error.code : null;
}

/**
 * After a renewed comparison: the import (its new comparison), the session's order (the patient
 * panel) and the worklist answers (the orders as they are now) are read again, and awaited, so
 * the screen shows the new state before the user can confirm again.
 */
async function refreshAfterRenewal(client: ReturnType<typeof useQueryClient>, id: string): Promise<void> {
  await Promise.all([
    client.refetchQueries({ queryKey: keys.import(id) }),
    client.refetchQueries({ queryKey: keys.session }),
    client.invalidateQueries({ queryKey: ["worklist"] }),
    client.invalidateQueries({ queryKey: keys.temporary }),
  ]);
}

export function useConfirm(id: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (body: ConfirmIn) => {
      try {
        return await unwrap(
          api.POST("/api/v1/imports/{import_id}/confirm", {
            params: { path: { import_id: id } },
            body,
          }),
        );
      } catch (error) {
        if (renewedCode(error)) await refreshAfterRenewal(client, id);
        throw error;
      }
    },
    onSettled: () => client.invalidateQueries({ queryKey: keys.import(id) }),
  });
}

/** `POST /imports/{id}/cancel`: the one way the app cancels an import. */
export function cancelImport(id: string) {
  return unwrap(api.POST("/api/v1/imports/{import_id}/cancel", { params: { path: { import_id: id } } }));
}

export function useCancel(id: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () => cancelImport(id),
    onSettled: () => {
      void client.invalidateQueries({ queryKey: keys.import(id) });
      void client.invalidateQueries({ queryKey: keys.imports });
    },
  });
}

export function useRetry(id: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async () => {
      try {
        return await unwrap(api.POST("/api/v1/imports/{import_id}/retry", { params: { path: { import_id: id } } }));
      } catch (error) {
        if (renewedCode(error)) await refreshAfterRenewal(client, id);
        throw error;
      }
    },
    onSettled: () => client.invalidateQueries({ queryKey: keys.import(id) }),
  });
}

export type { ImportOut };

export function worklistQueryOptions(query: WorklistQuery) {
  return {
    queryKey: keys.worklist(query),
    staleTime: 30_000,
    queryFn: async () => {
      const params = Object.fromEntries(Object.entries(query).filter(([, v]) => v !== "")) as Partial<WorklistQuery>;
      return (await unwrap(api.GET("/api/v1/worklist", { params: { query: params } }))).items;
    },
  };
}

/** The worklist search (run by the worker against the RIS's worklist); `null` until asked. */
export function useWorklist(query: WorklistQuery | null) {
  return useQuery({ ...worklistQueryOptions(query ?? ({} as WorklistQuery)), enabled: query !== null });
}

export function useTemporary() {
  return useQuery({
    queryKey: keys.temporary,
    queryFn: async () => (await unwrap(api.GET("/api/v1/temporary"))).items,
    refetchInterval: 15_000,
  });
}

/**
 * `POST /imports/{id}/promote`: file a temporary-zone import under an order (`accession_number`)
 * or under the patient the session was launched for without an order (`patient_launch`), one of
 * the two. Refused with a 409 and its code (`identity_not_compared` with the comparison made,
 * `order_not_found`, `not_promotable`…).
 */
export function promoteImport(id: string, body: PromoteIn) {
  return unwrap(api.POST("/api/v1/imports/{import_id}/promote", { params: { path: { import_id: id } }, body }));
}

export function usePromote(id: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (body: PromoteIn) => {
      try {
        return await promoteImport(id, body);
      } catch (error) {
        if (renewedCode(error)) await refreshAfterRenewal(client, id);
        throw error;
      }
    },
    onSettled: () => {
      void client.invalidateQueries({ queryKey: keys.temporary });
      void client.invalidateQueries({ queryKey: keys.import(id) });
    },
  });
}

/**
 * Worklist mode, nothing found: `POST /imports/{id}/temporary` sends the import, still awaiting
 * confirmation, to the temporary zone; once the import is read again the confirmation screen is
 * the temporary zone's.
 */
export function useMoveToTemporary(id: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/imports/{import_id}/temporary", { params: { path: { import_id: id } } })),
    onSuccess: () => client.refetchQueries({ queryKey: keys.import(id) }),
    onSettled: () => {
      void client.invalidateQueries({ queryKey: keys.temporary });
      void client.invalidateQueries({ queryKey: keys.imports });
    },
  });
}

/**
 * `POST /imports/{id}/undo` (role `temporary_zone`): the PACS is asked to take back what the
 * import stored, then it moves to the temporary zone. Refused with a 409 and its code
 * (`undo_period_over`, `undo_used_later`…).
 */
export function undoImport(id: string, reason: UndoReason) {
  return unwrap(api.POST("/api/v1/imports/{import_id}/undo", { params: { path: { import_id: id } }, body: { reason } }));
}

/**
 * Undo a completed import. Once accepted, the import is read again (and awaited) before the
 * mutation settles: the screen then shows the undo under way, not the offer to undo it.
 */
export function useUndo(id: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (reason: UndoReason) => undoImport(id, reason),
    onSuccess: () => client.refetchQueries({ queryKey: keys.import(id), exact: true }),
    onError: () => client.invalidateQueries({ queryKey: keys.import(id) }),
    onSettled: () => {
      void client.invalidateQueries({ queryKey: keys.imports });
      void client.invalidateQueries({ queryKey: keys.temporary });
    },
  });
}

export function usePurge(id: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () => unwrap(api.DELETE("/api/v1/imports/{import_id}", { params: { path: { import_id: id } } })),
    onSettled: () => client.invalidateQueries({ queryKey: keys.temporary }),
  });
}

/**
 * The remembered identities (role `temporary_zone`): each medium's patient with the local patient
 * it was filed under, the last filed first (at most 200); `q` searches a Patient ID or a name,
 * on either side.
 */
export function useIdentities(q: string) {
  return useQuery({
    queryKey: keys.identities(q),
    queryFn: async () =>
      (await unwrap(api.GET("/api/v1/identities", { params: { query: q ? { q } : {} } }))).items,
  });
}

/**
 * `DELETE /identities/{id}`: the next medium of that outside patient is no longer compared with
 * it. Every search is read again afterwards (also after a 404: someone else removed it).
 */
export function useForgetIdentity() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) =>
      unwrapEmpty(api.DELETE("/api/v1/identities/{mapping_id}", { params: { path: { mapping_id: id } } })),
    onSettled: () => client.invalidateQueries({ queryKey: ["identities"] }),
  });
}
