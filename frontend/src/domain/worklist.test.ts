import { describe, expect, it } from "vitest";
import { prefill, todayDicom } from "./worklist";

const patient = (name: string, birth_date = "19610315", sex = "M") => ({ name, birth_date, sex, id: "EXT-1", issuer: "" });
const TODAY = new Date(2024, 5, 1, 23, 59);

describe("the worklist search prefilled from the medium's patient", () => {
  it.each([
    ["VERDI^GIUSEPPE", "VERDI", "GIUSEPPE"],
    ["De Luca^Anna Maria^^Dr", "De Luca", "Anna Maria"],
    ["VERDI", "VERDI", ""],
    ["VER*DI^GIU?SEP%PE", "VER DI", "GIU SEP PE"],
    ["  VERDI  ^  GIUSEPPE ", "VERDI", "GIUSEPPE"],
    ["", "", ""],
  ])("%s → family %s, given %s (no wildcards)", (name, family, given) => {
    expect(prefill(patient(name), TODAY)).toMatchObject({ name: family, given });
  });

  it.each([
    ["19610315", "19610315"],
    ["00000000", ""],
    ["1961", ""],
    ["", ""],
  ])("birth date %s → %s", (birth, expected) => {
    expect(prefill(patient("A^B", birth), TODAY).birth_date).toBe(expected);
  });

  it.each([
    ["M", "M"],
    ["f", "F"],
    ["O", "O"],
    ["U", ""],
    ["", ""],
  ])("sex %s → %s", (sex, expected) => {
    expect(prefill(patient("A^B", "", sex), TODAY).sex).toBe(expected);
  });

  it("searches today's orders, by no accession or patient ID", () => {
    expect(prefill(patient("A^B"), TODAY)).toMatchObject({ date: "20240601", accession: "", patient_id: "" });
    expect(todayDicom(new Date(2025, 0, 9))).toBe("20250109");
  });
});
