/**
 * A launch link from the RIS (`/#token=…`) always starts a new session in this tab, whatever the
 * tab showed before: a RIS that reuses one named window opens order B where order A was open,
 * and nothing of A (its session, user, patient, pending upload, cached answers) may stay on the
 * screen or be used for B. The token is taken from the address before the app first renders,
 * the former session is forgotten at once, and the launch screen exchanges the token.
 *
 * The token travels in the fragment, which a browser never sends: no server, proxy or log
 * (nginx's error log quotes request lines) ever sees it. `/?token=…`, the form of earlier
 * versions, is still read.
 */
import { clearPending } from "../upload/pending";
import { queryClient } from "./queryClient";
import { clearSession, sessionToken } from "./session";

/** The token of an address and the address without it (at the launch screen, `#/`). */
export function splitLaunchAddress(address: { pathname: string; search: string; hash: string }): {
  token: string | null;
  url: string;
} {
  const params = new URLSearchParams(address.search);
  const fragment = address.hash.replace(/^#/, "");
  // `#/…` is a screen of the app (hash routes); anything else may be a launch fragment
  const launch = fragment.startsWith("/") ? new URLSearchParams() : new URLSearchParams(fragment);
  if (!launch.has("token") && !params.has("token")) return { token: null, url: "" };
  const token = (launch.has("token") ? launch.get("token") : params.get("token")) ?? "";
  params.delete("token");
  const rest = params.toString();
  return { token, url: `${address.pathname}${rest ? `?${rest}` : ""}#/` };
}

let pending: string | null = null;

/** Everything of the session this tab had: its token, its unfinished upload, every cached answer. */
export function forgetSession(): void {
  clearSession();
  clearPending();
  queryClient.clear();
}

/**
 * Once, before the first render: a token in the address ends the former session (even when
 * the new token then turns out to be expired or used: the screen says so, and shows nothing of
 * the former one) and is kept for the launch screen. The token leaves the address bar and the
 * history entry at once.
 */
export function takeLaunchToken(): void {
  window.addEventListener("popstate", reloadForLaunch);
  const { token, url } = splitLaunchAddress(window.location);
  if (token === null) return;
  window.history.replaceState(null, "", url);
  forgetSession();
  pending = token;
}

/**
 * A launch link opened in a tab that already shows the app changes only the fragment, so the
 * page stays and only the router would notice. The page is loaded again instead, before the
 * router sees the address (this listener is added before the router's): the launch then
 * starts from a fresh page, as in a new tab.
 */
function reloadForLaunch(event: PopStateEvent): void {
  if (splitLaunchAddress(window.location).token === null) return;
  event.stopImmediatePropagation();
  window.location.reload();
}

/** The launch token not yet exchanged: `""` for a link without one, null when none came. */
export function launchToken(): string | null {
  return pending;
}

/** The token is exchanged (or refused): a later visit to the launch screen does not reuse it. */
export function launchSettled(token: string): void {
  if (pending === token) pending = null;
}

/**
 * A page brought back from the browser's back-forward cache still shows the screens of the
 * session it had; when this tab has another session since (a launch in the same window), load
 * the page again so that it shows the current one.
 */
export function reloadWhenSessionChanged(): void {
  let shown = sessionToken();
  window.addEventListener("pagehide", (event) => {
    shown = sessionToken();
    // kept in the cache: nothing of it is shown again before its session is known to be current
    if (event.persisted) document.documentElement.style.visibility = "hidden";
  });
  window.addEventListener("pageshow", (event) => {
    if (!event.persisted) return;
    if (sessionToken() !== shown) window.location.reload();
    else document.documentElement.style.visibility = "";
  });
}
