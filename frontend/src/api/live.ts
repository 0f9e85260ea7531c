/**
 * Follow one import live: its event stream invalidates (or, for a snapshot, fills) the import's
 * query, so the screens read one copy of the state; when the stream is unavailable the query
 * polls instead. `progress` keeps the latest "sent n of m" per study, which the import resource
 * does not carry. When the session is over (`session_ended`, or a 401) the tab forgets it and
 * shows so, without reconnecting; when the session has all the streams it may (429), the
 * import is polled and the stream asked for again only after the longest delay.
 */
import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { isTerminal } from "../domain/status";
import { authHeaders, type ImportOut } from "./client";
import { sessionEnded } from "./endSession";
import { keys } from "./queries";
import type { SessionEnd } from "./session";
import { readEventStream } from "./sse";

export interface LiveState {
  /** the stream is open */
  connected: boolean;
  /** when the import last changed (an event or a different answer), ms since the epoch */
  lastChange: number;
  progress: Record<string, { sent: number; total: number }>;
}

const RECONNECT_MS = [1000, 2000, 5000, 10_000, 30_000];

/** What to do once a stream has ended: `end` the session, `reconnect` soon, or try again `later`. */
export function afterStream(status: number | undefined, sessionOver: boolean): "end" | "reconnect" | "later" {
  if (sessionOver || status === 401) return "end";
  if (status === 429) return "later";
  return "reconnect";
}

export function useImportEvents(id: string, status: string | undefined, pollMs: number): LiveState {
  const client = useQueryClient();
  const [connected, setConnected] = useState(false);
  const [lastChange, setLastChange] = useState(() => Date.now());
  const [progress, setProgress] = useState<LiveState["progress"]>({});
  const pending = useRef<number | null>(null);
  const finished = isTerminal(status);

  useEffect(() => {
    if (finished) return;
    const abort = new AbortController();
    let attempt = 0;
    let timer: number | undefined;
    let open = false;
    // the fallback: while the stream is down, ask for the import every `pollMs`
    const poll = window.setInterval(() => {
      if (!open) void client.invalidateQueries({ queryKey: keys.import(id) });
    }, pollMs);

    const invalidate = () => {
      if (pending.current !== null) return;
      pending.current = window.setTimeout(() => {
        pending.current = null;
        void client.invalidateQueries({ queryKey: keys.import(id) });
        void client.invalidateQueries({ queryKey: keys.imports });
      }, 250);
    };

    const connect = async () => {
      let status: number | undefined;
      let over = false;
      let why: SessionEnd = "expired";
      try {
        const response = await readEventStream(
          `/api/v1/imports/${encodeURIComponent(id)}/events`,
          { headers: authHeaders(), signal: abort.signal },
          (message) => {
            attempt = 0;
            if (message.event === "session_ended") {
              over = true;
              const reason = (JSON.parse(message.data) as { reason?: string }).reason;
              why = reason === "ended" ? "ended" : "expired";
              return;
            }
            if (message.event === "snapshot") {
              client.setQueryData(keys.import(id), JSON.parse(message.data) as ImportOut);
              setLastChange(Date.now());
              return;
            }
            if (message.event === "progress") {
              const data = JSON.parse(message.data) as { study: string; sent: number; total: number };
              setProgress((p) => ({ ...p, [data.study]: { sent: data.sent, total: data.total } }));
            } else {
              invalidate();
            }
            setLastChange(Date.now());
          },
          () => {
            open = true;
            setConnected(true);
          },
        );
        status = response.status;
      } catch {
        // network error or abort: fall back to polling until reconnected
      }
      open = false;
      setConnected(false);
      if (abort.signal.aborted) return;
      const next = afterStream(status, over);
      if (next === "end") {
        window.clearInterval(poll);
        sessionEnded(client, why);
        return;
      }
      void client.invalidateQueries({ queryKey: keys.import(id) });
      const delay =
        next === "later"
          ? RECONNECT_MS[RECONNECT_MS.length - 1]
          : RECONNECT_MS[Math.min(attempt, RECONNECT_MS.length - 1)];
      attempt += 1;
      timer = window.setTimeout(() => void connect(), delay);
    };
    void connect();
    return () => {
      abort.abort();
      window.clearTimeout(timer);
      window.clearInterval(poll);
      if (pending.current !== null) {
        window.clearTimeout(pending.current);
        pending.current = null;
      }
    };
  }, [client, id, finished, pollMs]);

  return { connected, lastChange, progress };
}

/**
 * True when nothing about the import has changed for `afterMs` (no event, no different answer):
 * the seed's "timeout" notice. `signature` is whatever should count as a change.
 */
export function useStale(signature: string, afterMs: number, enabled: boolean): boolean {
  const [staleAt, setStaleAt] = useState<string | null>(null);
  useEffect(() => {
    if (!enabled) return;
    const timer = window.setTimeout(() => setStaleAt(signature), afterMs);
    return () => window.clearTimeout(timer);
  }, [signature, afterMs, enabled]);
  return enabled && staleAt === signature;
}

export function changeSignature(data: ImportOut | undefined, live: LiveState): string {
  if (!data) return "";
  return JSON.stringify([data.status, data.updated_at, data.studies.map((s) => s.stages), live.lastChange]);
}
