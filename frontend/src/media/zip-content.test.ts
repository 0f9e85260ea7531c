import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { MediaFile } from "./types";
import { buildZip } from "./zip";
import { isZip } from "./collect";
import { planZip } from "./zip-content";

const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url)));

function file(path: string, bytes: Uint8Array | string): MediaFile {
  const blob = new Blob([bytes as BlobPart]);
  return { path, file: blob, size: blob.size, lastModified: Date.UTC(2024, 0, 1) };
}

async function zipOf(files: MediaFile[], level = 0): Promise<MediaFile> {
  const blob = await buildZip(files, { level });
  return { path: "cd.zip", file: blob, size: blob.size, lastModified: Date.UTC(2024, 0, 1) };
}

const pdf = "%PDF-1.4\n" + "x".repeat(2000);

describe("planZip", () => {
  it.each([
    ["stored", 0],
    ["deflated", 1],
  ])("reads the DICOM headers inside a %s ZIP and sends the ZIP as it is", async (_, level) => {
    const zip = await zipOf(
      [
        file("DICOM/CT1", fixture("CT_small.dcm")),
        file("DICOM/MR1", fixture("MR_small.dcm")),
        file("report.pdf", pdf),
        file("viewer/viewer.exe", "MZ\u0090\u0000"),
      ],
      level,
    );
    const plan = await planZip(zip);
    expect(plan.files).toEqual([zip]);
    expect(plan.archive).toEqual({ readable: true, entries: 4 });
    expect(plan.summary.files).toBe(4);
    expect(plan.summary.dicom).toBe(2);
    expect(plan.summary.studies).toBe(2);
    expect(plan.summary.bytes).toBe(zip.size);
    expect(plan.summary.patientNames.length).toBeGreaterThan(0);
    expect(plan.summary.found).toEqual({ dicom: 2, pdf: 1, program: 1 });
  });

  it("says what a ZIP without DICOM holds", async () => {
    const plan = await planZip(
      await zipOf([file("a.pdf", pdf), file("b.pdf", pdf), file("autorun.inf", "[autorun]")], 1),
    );
    expect(plan.summary.dicom).toBe(0);
    expect(plan.summary.files).toBe(3);
    expect(plan.summary.found).toEqual({ pdf: 2, document: 1 });
  });

  it("marks a file that is no ZIP as unreadable", async () => {
    const plan = await planZip(file("cd.zip", "This is not a ZIP archive at all. ".repeat(20)));
    expect(plan.archive).toEqual({ readable: false, entries: 0 });
    expect(plan.summary.dicom).toBe(0);
  });

  it("counts an empty ZIP as holding nothing", async () => {
    const plan = await planZip(await zipOf([]));
    expect(plan.archive).toEqual({ readable: true, entries: 0 });
    expect(plan.summary.files).toBe(0);
  });
});

describe("isZip", () => {
  it("is one file named .zip", () => {
    expect(isZip([file("CD.ZIP", "")])).toBe(true);
    expect(isZip([file("a.zip", ""), file("b", "")])).toBe(false);
    expect(isZip([file("IM1", "")])).toBe(false);
  });
});
