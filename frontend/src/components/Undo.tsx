/**
 * An undone import, as every screen says it (the monitoring page, the previous imports, the
 * temporary zone): the reason in words and the "Undone" badge. A referent undoes an import filed
 * under the wrong patient or order (`POST /imports/{id}/undo`): the PACS takes back what it
 * stored and the import goes to the temporary zone.
 */
import type { TFunction } from "i18next";
import { useTranslation } from "react-i18next";
import type { UndoOut, UndoReason } from "../api/client";
import { isPatientKey } from "../domain/patientLaunch";
import { Badge } from "./Badge";

/** The reasons, in the order the dialog offers them (IHE IOCM's rejection reasons). */
export const UNDO_REASONS: readonly UndoReason[] = ["patient_safety", "wrong_worklist_entry"];

/** A reason in the language of `t` ("Wrong patient (patient safety)"). */
export function undoReasonText(t: TFunction, reason: UndoReason): string {
  return t(`undo.reason.${reason}`);
}

/**
 * Where an undone import came from, for the temporary zone: "Undone from order A1 (reason)"; from
 * an import for a patient without an order, that (never the server's key of the patient).
 */
export function undoneFromText(t: TFunction, undo: Pick<UndoOut, "accession_number" | "reason">): string {
  const reason = undoReasonText(t, undo.reason);
  if (isPatientKey(undo.accession_number)) return t("patientLaunch.undoneFrom", { reason });
  return undo.accession_number
    ? t("undo.fromOrder", { accession: undo.accession_number, reason })
    : t("undo.fromNoOrder", { reason });
}

/** Next to an import's status once its undo is done: it is no longer filed under its order. */
export function UndoneBadge() {
  const { t } = useTranslation();
  return (
    <Badge tone="warning" icon="↩">
      {t("undo.undone")}
    </Badge>
  );
}
