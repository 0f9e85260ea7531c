/**
 * The session token of this browser tab. Kept in sessionStorage: it survives a reload (so an
 * upload can resume) and is copied into a window this tab opens with an opener (the "Open" link
 * of an earlier import), but is never shared with other tabs or kept after the browser closes.
 */
const KEY = "pmi.session";

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
}

export function clearSession(): void {
  sessionStorage.removeItem(KEY);
}

export function sessionToken(): string | null {
  return loadSession()?.token ?? null;
}
