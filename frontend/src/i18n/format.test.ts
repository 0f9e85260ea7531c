import { describe, expect, it } from "vitest";
import { ageInYears, formatBytes, formatDate, formatDicomDate, localeFor, parseDicomDate } from "./format";

describe("dates", () => {
  it("reads DICOM dates and refuses impossible ones", () => {
    expect(parseDicomDate("19740101")).toEqual({ year: 1974, month: 1, day: 1 });
    expect(parseDicomDate("1974-01-31")).toEqual({ year: 1974, month: 1, day: 31 });
    expect(parseDicomDate("19740231")).toBeNull();
    expect(parseDicomDate("00000000")).toBeNull();
    expect(parseDicomDate("01/01/1974")).toBeNull();
  });

  it("formats in the locale", () => {
    expect(formatDicomDate("19740312", "it")).toBe("12/03/1974");
    expect(formatDicomDate("19740312", "fr")).toBe("12/03/1974");
    expect(formatDicomDate("19740312", "en-US")).toBe("03/12/1974");
    expect(formatDicomDate("not a date", "it")).toBe("not a date");
  });

  it("writes the day of a date-time as birth dates are written", () => {
    expect(formatDate("2026-12-05T12:00:00Z", "it")).toBe("05/12/2026");
    expect(formatDate("2026-12-05T12:00:00Z", "fr")).toBe("05/12/2026");
    expect(formatDate("2026-12-05T12:00:00Z", "en-GB")).toBe("05/12/2026");
    expect(formatDate("yesterday", "it")).toBe("yesterday");
  });

  it("computes the age in whole years", () => {
    const today = new Date(2025, 10, 23);
    expect(ageInYears("19740101", today)).toBe(51);
    expect(ageInYears("19741124", today)).toBe(50);
    expect(ageInYears("19741123", today)).toBe(51);
    expect(ageInYears("", today)).toBeNull();
  });

  it("uses the browser's regional tag for the chosen language", () => {
    expect(localeFor("en", ["en-US", "it-IT"])).toBe("en-US");
    expect(localeFor("it", ["en-US", "it-IT"])).toBe("it-IT");
    expect(localeFor("fr", ["en-US"])).toBe("fr");
    expect(localeFor("en", [])).toBe("en-GB");
  });

  it("formats sizes", () => {
    expect(formatBytes(250_000_000, "en")).toBe("250 MB");
    expect(formatBytes(1_500_000_000, "it")).toBe("1,5 GB");
  });
});
