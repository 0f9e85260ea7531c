import { describe, expect, it } from "vitest";
import { STALLED_MS, unfinished } from "./unfinished";

const now = Date.parse("2026-01-10T10:00:00Z");
const at = (msAgo: number) => new Date(now - msAgo).toISOString();

describe("an unfinished transfer in Previous imports", () => {
  it("is none of its business once the import is past its transfer", () => {
    expect(unfinished({ status: "queued", updated_at: at(0) }, now, false)).toBeNull();
    expect(unfinished({ status: "expired", updated_at: at(10 * STALLED_MS) }, now, true)).toBeNull();
  });

  it("leaves one still receiving bytes alone", () => {
    expect(unfinished({ status: "created", updated_at: at(30_000) }, now, false)).toBe("receiving");
  });

  it("offers to cancel one nobody sends any more", () => {
    expect(unfinished({ status: "created", updated_at: at(STALLED_MS + 1) }, now, false)).toBe("stalled");
  });

  it("says this tab's interrupted one can be resumed (or cancelled) at once", () => {
    expect(unfinished({ status: "created", updated_at: at(1_000) }, now, true)).toBe("interrupted");
  });
});
