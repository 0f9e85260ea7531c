/**
 * An import for a patient without an order (the French procedure's "Temporaire > Pacs
 * (Patient)"): the RIS launched the session for a patient alone. The session's order is then of
 * kind `patient`; its images are filed under the patient with an empty Accession Number (the
 * medium's is kept in Original Attributes Sequence). Its `accession_number` is the server's own
 * key of the patient ("~…"), never an accession number: no screen shows it.
 */
import type { OrderOut } from "../api/client";

/** How the server's key of a patient launched for without an order begins. */
export const PATIENT_KEY_PREFIX = "~";

/** The session (or the import) was launched for a patient without an order. */
export function isPatientLaunch(order: Pick<OrderOut, "kind"> | null | undefined): boolean {
  return order?.kind === "patient";
}

/**
 * What names an order by its accession number alone (an undo, an audit event) names the server's
 * key of a patient launched for without an order: there is no accession number to show.
 */
export function isPatientKey(accession: string | null | undefined): boolean {
  return (accession ?? "").startsWith(PATIENT_KEY_PREFIX);
}
