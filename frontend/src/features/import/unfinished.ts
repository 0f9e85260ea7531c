/**
 * An import whose transfer has not finished ("created"), as Previous imports shows it: still
 * receiving bytes (another window sends it: left alone), interrupted in this tab (the same
 * folder resumes it, or cancel it), or stalled (nobody sends it: cancel it, or it expires by
 * itself after the server's upload timeout). Never a row without an action.
 */

/** No byte for this long: nobody is sending it any more. */
export const STALLED_MS = 5 * 60_000;

export type Unfinished = "receiving" | "interrupted" | "stalled";

export function unfinished(
  item: { status: string; updated_at: string },
  now: number,
  resumableHere: boolean,
): Unfinished | null {
  if (item.status !== "created") return null;
  if (resumableHere) return "interrupted";
  const updated = Date.parse(item.updated_at);
  return Number.isNaN(updated) || now - updated > STALLED_MS ? "stalled" : "receiving";
}
