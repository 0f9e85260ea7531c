/**
 * The end of this tab's session: the user ends it (`DELETE /session`), or the server says it is
 * over (a live stream's `session_ended`, or a 401 where a stream was asked for). Either way the
 * tab forgets it (its token, its unfinished upload) and every screen behind a session shows
 * "Your session has ended" (`RequireSession`); nothing reconnects with the dead token.
 */
import type { QueryClient } from "@tanstack/react-query";
import { clearPending } from "../upload/pending";
import { api } from "./client";
import { keys } from "./queries";
import { clearSession, rememberSessionEnd, type SessionEnd } from "./session";

/** Forget the session here; the screens behind a session say it has ended, and why. */
export function sessionEnded(client: QueryClient, why: SessionEnd = "expired"): void {
  rememberSessionEnd(why);
  clearSession();
  clearPending();
  // the screens read the session through this query: resetting it renders them again
  void client.resetQueries({ queryKey: keys.session });
}

/**
 * End the session on the server, then here. A session the server already ended (401) or a
 * network error ends here all the same: the token leaves the tab, and the server ends the
 * session at its expiry at the latest.
 */
export async function endSession(client: QueryClient): Promise<void> {
  try {
    await api.DELETE("/api/v1/session");
  } catch {
    // unreachable server: forgotten here; it expires there
  }
  sessionEnded(client, "ended");
}
