/**
 * The session token of this browser tab. Kept in sessionStorage: it survives a reload (so an
 * upload can resume) and is copied into a window this tab opens with an opener (the "Open" link
 * of an earlier import), but is never shared with other tabs or kept after the browser closes.
 */
const KEY = "pmi.session";
const ENDED = "pmi.session.ended";

export interface StoredSession {
  token: string;
  expiresAt: string;
}

export function loadSession(): StoredSession | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    if (!raw) return null;
    const value = JSON.parse(raw) as StoredSession;
    if (!value.token || Date.parse(value.expiresAt) <= Date.now()) return null;
    return value;
  } catch {
    return null;
  }
}

export function saveSession(session: StoredSession): void {
  sessionStorage.setItem(KEY, JSON.stringify(session));
  sessionStorage.removeItem(ENDED); // a new launch: nothing has ended
}

export function clearSession(): void {
  sessionStorage.removeItem(KEY);
}


/** Why this tab's session is over: it ran out of time, or someone ended it (End session). */
export type SessionEnd = "expired" | "ended";

export function rememberSessionEnd(why: SessionEnd): void {
  sessionStorage.setItem(ENDED, why);
}

export function sessionEnd(): SessionEnd {
  return sessionStorage.getItem(ENDED) === "ended" ? "ended" : "expired";
}

export function sessionToken(): string | null {
  return loadSession()?.token ?? null;
}
