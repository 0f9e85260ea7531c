import { describe, expect, it } from "vitest";
import { formatPersonName } from "./personName";

describe("formatPersonName", () => {
  it.each([
    ["ROSSI^MARIO", "ROSSI MARIO"],
    ["ROSSI^MARIO^^^", "ROSSI MARIO"],
    [" ROSSI ^MARIO ", "ROSSI MARIO"],
    ["SMITH^JOHN^PAUL^DR^JR", "DR SMITH JOHN PAUL, JR"],
    ["MARIO ROSSI", "MARIO ROSSI"],
    ["CERRI*SIMONE", "CERRI*SIMONE"],
    ["Yamada^Tarou=山田^太郎=やまだ^たろう", "Yamada Tarou (山田 太郎, やまだ たろう)"],
    ["=山田^太郎", "山田 太郎"],
    ["", ""],
    ["^^^^", ""],
  ])("%j → %j", (pn, shown) => {
    expect(formatPersonName(pn)).toBe(shown);
  });
});
