import { describe, expect, it } from "vitest";
import { classify, foundList } from "./kinds";

const bytes = (...b: number[]) => new Uint8Array(b);
const text = (s: string) => new TextEncoder().encode(s);

describe("classify", () => {
  it.each([
    ["DICOMDIR", bytes(), "dicomdir"],
    ["cd/dicomdir", bytes(), "dicomdir"],
    ["DICOMDIR;1", bytes(), "dicomdir"], // as a CD's ISO 9660 names it
    ["DICOMDIR.", bytes(), "dicomdir"],
    ["report", text("%PDF-1.7\n"), "pdf"],
    ["REPORT.PDF", bytes(), "pdf"],
    ["VIEWER/viewer.exe", bytes(), "program"],
    ["README", bytes(0x4d, 0x5a, 0x90, 0), "program"],
    ["run", bytes(0x7f, 0x45, 0x4c, 0x46), "program"],
    ["photo", bytes(0xff, 0xd8, 0xff, 0xe0), "image"],
    ["logo.png", bytes(), "image"],
    ["inner", text("PK\u0003\u0004"), "archive"],
    ["viewer.jar", text("PK\u0003\u0004"), "program"],
    ["AUTORUN.INF", text("[autorun]"), "document"],
    ["index.html", text("<html>"), "document"],
    ["IM0001", bytes(1, 2, 3), "other"],
  ] as const)("%s is %s", (path, head, kind) => {
    expect(classify(path, head)).toBe(kind);
  });
});

describe("foundList", () => {
  it("lists the kinds found, most numerous first, other last", () => {
    expect(foundList({ other: 9, pdf: 2, program: 3, image: 2, dicom: 0 })).toEqual([
      { kind: "program", count: 3 },
      { kind: "pdf", count: 2 },
      { kind: "image", count: 2 },
      { kind: "other", count: 9 },
    ]);
  });
});

describe("a folder with no DICOM", () => {
  it("says what its files are", async () => {
    const { planMedia } = await import("./plan");
    const file = (path: string, text: string) => {
      const blob = new Blob([text]);
      return { path, file: blob, size: blob.size, lastModified: 0 };
    };
    const plan = await planMedia([
      file("referto.pdf", "%PDF-1.4"),
      file("esami/lettera.pdf", "%PDF-1.4"),
      file("viewer.exe", "MZ"),
    ]);
    expect(plan.summary.files).toBe(3);
    expect(plan.summary.dicom).toBe(0);
    expect(plan.summary.found).toEqual({ pdf: 2, program: 1 });
  });
});
