/**
 * Dates, ages and sizes for the screen, through Intl in the user's locale. DICOM dates
 * (YYYYMMDD) and times (HHMMSS.frac) are read without time zones: they are the medium's.
 */

/** The locale for formatting: the browser's own tag when it is of the chosen language. */
export function localeFor(language: string, preferred: readonly string[] = browserLanguages()): string {
  const match = preferred.find((tag) => tag.toLowerCase().split("-")[0] === language);
  if (match) return match;
  return language === "en" ? "en-GB" : language;
}

function browserLanguages(): readonly string[] {
  return typeof navigator === "undefined" ? [] : (navigator.languages ?? [navigator.language]);
}

export interface DicomDate {
  year: number;
  month: number;
  day: number;
}

/** YYYYMMDD (also YYYY-MM-DD and YYYY.MM.DD) → parts, or null when it is not a real date. */
export function parseDicomDate(value: string | null | undefined): DicomDate | null {
  const digits = (value ?? "").trim().replace(/[-.]/g, "");
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(digits);
  if (!m) return null;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
    return null;
  }
  return { year, month, day };
}

export function formatDicomDate(value: string | null | undefined, locale: string): string {
  const d = parseDicomDate(value);
  if (!d) return (value ?? "").trim();
  return new Intl.DateTimeFormat(locale, {
    day: "2-digit",
    month: "2-digit",
    year: "numeric",
    timeZone: "UTC",
  }).format(new Date(Date.UTC(d.year, d.month - 1, d.day)));
}

/** HHMMSS(.frac) or HH:MM:SS → the locale's time, or the value as written. */
export function formatDicomTime(value: string | null | undefined, locale: string): string {
  const m = /^(\d{2}):?(\d{2})?:?(\d{2})?/.exec((value ?? "").trim());
  if (!m) return (value ?? "").trim();
  const date = new Date(Date.UTC(2000, 0, 1, Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)));
  return new Intl.DateTimeFormat(locale, {
    hour: "2-digit",
    minute: "2-digit",
    second: m[3] ? "2-digit" : undefined,
    timeZone: "UTC",
  }).format(date);
}

/** Whole years between a DICOM birth date and `today`, or null. */
export function ageInYears(birth: string | null | undefined, today: Date = new Date()): number | null {
  const d = parseDicomDate(birth);
  if (!d) return null;
  let age = today.getFullYear() - d.year;
  const beforeBirthday =
    today.getMonth() + 1 < d.month || (today.getMonth() + 1 === d.month && today.getDate() < d.day);
  if (beforeBirthday) age -= 1;
  return age >= 0 ? age : null;
}

/** The day of an ISO date-time, in the user's time zone, written as birth dates are (05/12/2026). */
export function formatDate(iso: string, locale: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(locale, { day: "2-digit", month: "2-digit", year: "numeric" }).format(date);
}

export function formatDateTime(iso: string, locale: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(locale, { dateStyle: "short", timeStyle: "medium" }).format(date);
}

const UNITS = ["byte", "kilobyte", "megabyte", "gigabyte", "terabyte"] as const;

export function formatBytes(bytes: number, locale: string): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return new Intl.NumberFormat(locale, {
    style: "unit",
    unit: UNITS[unit],
    unitDisplay: "short",
    maximumFractionDigits: unit === 0 ? 0 : 1,
  }).format(value);
}

export function formatPercent(done: number, total: number, locale: string): string {
  const ratio = total > 0 ? Math.min(1, done / total) : 0;
  return new Intl.NumberFormat(locale, { style: "percent", maximumFractionDigits: 0 }).format(ratio);
}
