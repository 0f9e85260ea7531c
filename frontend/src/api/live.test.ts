import { describe, expect, it } from "vitest";
import { afterStream } from "./live";

describe("after a live stream ends", () => {
  it.each([
    // the server said the session is over, or refuses its token: end it here, never reconnect
    [200, true, "end"],
    [401, false, "end"],
    [undefined, true, "end"],
    // the session has all the streams it may: poll, ask again only after the longest delay
    [429, false, "later"],
    // the import is over, the network dropped, the server is restarting: reconnect
    [200, false, "reconnect"],
    [undefined, false, "reconnect"],
    [503, false, "reconnect"],
  ] as const)("status %s, session_ended %s → %s", (status, over, next) => {
    expect(afterStream(status, over)).toBe(next);
  });
});
