/**
 * The worklist search the French seed advises for a patient read on a medium: family and given
 * names apart, no wildcards, the birth date and sex when the medium has them, today's date.
 */
import type { PatientFound } from "../api/client";
import type { WorklistQuery } from "../api/queries";

/** A date as DICOM writes it (`YYYYMMDD`), in the browser's time zone. */
export function todayDicom(now: Date = new Date()): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}`;
}

export function prefill(patient: PatientFound, today: Date = new Date()): WorklistQuery {
  const clean = (s: string) => s.replace(/[*?%]/g, " ").replace(/\s+/g, " ").trim();
  const parts = patient.name.split("^");
  const sex = /^[MFO]$/i.test(patient.sex) ? patient.sex.toUpperCase() : "";
  return {
    name: clean(parts[0] ?? ""),
    given: clean(parts[1] ?? ""),
    birth_date: /^\d{8}$/.test(patient.birth_date) && patient.birth_date !== "00000000" ? patient.birth_date : "",
    sex,
    date: todayDicom(today),
    accession: "",
    patient_id: "",
  };
}
