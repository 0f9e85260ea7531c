import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { fileIdKey, isRootDicomdir, parseDicomdir, selectReferenced } from "./dicomdir";
import { planMedia } from "./plan";
import type { MediaFile } from "./types";

const fixture = (name: string) =>
  new Uint8Array(readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url))) as Uint8Array<ArrayBuffer>;

/** The 31 image files pydicom's dicomdirtests/DICOMDIR names (2 patients, 6 studies, 13 series). */
function referencedPaths(): string[] {
  return parseDicomdir(fixture("DICOMDIR"))
    .records.filter((r) => r.fileId)
    .map((r) => r.fileId!.join("/"));
}

function mediaFile(path: string, bytes: Uint8Array<ArrayBuffer> = new Uint8Array([1, 2, 3])): MediaFile {
  return { path, file: new Blob([bytes]), size: bytes.length, lastModified: Date.UTC(2024, 0, 1) };
}

describe("parseDicomdir", () => {
  it.each(["DICOMDIR", "DICOMDIR-implicit", "DICOMDIR-bigEnd"])(
    "reads patients, studies, series and file IDs from %s",
    (name) => {
      const dir = parseDicomdir(fixture(name));
      expect(dir.patients).toBe(2);
      expect(dir.studies).toBe(6);
      expect(dir.series).toBe(13);
      const files = dir.records.filter((r) => r.fileId);
      expect(files).toHaveLength(31);
      expect(files[0]!.fileId).toEqual(["77654033", "CR1", "6154"]);
      expect(files[0]!.studyUid).not.toBe("");
    },
  );

  it("reads a one-study CD layout", () => {
    const dir = parseDicomdir(fixture("DICOMDIR-tiny-alpha"));
    expect([dir.patients, dir.studies, dir.series]).toEqual([1, 1, 1]);
    expect(dir.records.filter((r) => r.fileId)).toHaveLength(50);
  });

  it("refuses a file that is not a DICOMDIR", () => {
    expect(() => parseDicomdir(fixture("CT_small.dcm"))).toThrow();
    expect(() => parseDicomdir(new Uint8Array(10))).toThrow();
  });
});

describe("file ID matching", () => {
  it.each([
    [["DICOM", "IM0001"], "dicom/im0001"],
    [["dicom", "im0001;1"], "dicom/im0001"],
    [["DICOM.", "IM0001.;1"], "dicom/im0001"],
    [["DICOM", "IM0001.dcm"], "dicom/im0001"],
    [["DICOM", "IM0001.DCM;1"], "dicom/im0001"],
    [["DICOM", "", ".", "IM1"], "dicom/im1"],
  ])("%j → %s", (parts, key) => {
    expect(fileIdKey(parts)).toBe(key);
  });

  it.each(["DICOMDIR", "dicomdir", "DICOMDIR;1", "DICOMDIR."])("%s at the root", (path) => {
    expect(isRootDicomdir(path)).toBe(true);
  });

  it.each(["DICOM/DICOMDIR", "DICOMDIR.bak", "README"])("%s is not the root DICOMDIR", (path) => {
    expect(isRootDicomdir(path)).toBe(false);
  });
});

describe("selectReferenced", () => {
  const records = parseDicomdir(fixture("DICOMDIR")).records;

  it("keeps the DICOMDIR and the files it names, whatever their case and ;1 suffix", () => {
    const refs = referencedPaths();
    const onDisk = refs.map((p, i) => (i % 2 ? `${p.toLowerCase()};1` : `${p}.dcm`));
    const files = [
      "DICOMDIR",
      ...onDisk,
      "VIEWER/viewer.exe",
      "AUTORUN.INF",
    ].map((path) => ({ path }));
    const { selected, missing, leftOut } = selectReferenced(files, "DICOMDIR", records);
    expect(selected.map((f) => f.path)).toEqual(["DICOMDIR", ...onDisk]);
    expect(missing).toEqual([]);
    expect(leftOut.map((f) => f.path)).toEqual(["VIEWER/viewer.exe", "AUTORUN.INF"]);
  });

  it("reports the files the DICOMDIR names that the medium lacks", () => {
    const refs = referencedPaths();
    const files = ["DICOMDIR", ...refs.slice(1)].map((path) => ({ path }));
    const { selected, missing } = selectReferenced(files, "DICOMDIR", records);
    expect(selected).toHaveLength(refs.length);
    expect(missing).toEqual([refs[0]]);
  });
});

describe("planMedia", () => {
  it("sends only what the root DICOMDIR names and summarises it", async () => {
    const refs = referencedPaths();
    const files = [
      mediaFile("DICOMDIR", fixture("DICOMDIR")),
      ...refs.map((p) => mediaFile(p)),
      mediaFile("viewer/setup.exe"),
    ];
    const plan = await planMedia(files);
    expect(plan.source).toBe("dicomdir");
    expect(plan.files).toHaveLength(32);
    expect(plan.leftOut).toBe(1);
    expect(plan.summary).toMatchObject({ patients: 2, studies: 6, series: 13, files: 32 });
    expect(plan.summary.bytes).toBe(fixture("DICOMDIR").length + 31 * 3);
  });

  it("sends the report and photos the DICOMDIR does not name, by content, not the rest", async () => {
    const refs = referencedPaths();
    const pdf = new TextEncoder().encode("%PDF-1.7\n...");
    const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 16]);
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0]);
    const files = [
      mediaFile("DICOMDIR", fixture("DICOMDIR")),
      ...refs.map((p) => mediaFile(p)),
      mediaFile("REPORT/CR.PDF", pdf),
      mediaFile("PHOTOS/IMG_0001", jpeg), // no extension: the bytes decide
      mediaFile("scan.png", png),
      mediaFile("viewer/setup.exe"),
      mediaFile("fake.pdf", new TextEncoder().encode("not a pdf")),
    ];
    const plan = await planMedia(files);
    expect(plan.source).toBe("dicomdir");
    expect(plan.files.map((f) => f.path)).toEqual(expect.arrayContaining(["REPORT/CR.PDF", "PHOTOS/IMG_0001", "scan.png"]));
    expect(plan.files).toHaveLength(35);
    expect(plan.leftOut).toBe(2);
    expect(plan.summary).toMatchObject({ files: 35, dicom: 31, documents: 3 });
  });

  it("sends every file and reads their headers when there is no DICOMDIR", async () => {
    const files = [
      mediaFile("a/CT_small.dcm", fixture("CT_small.dcm")),
      mediaFile("b/MR_small.dcm", fixture("MR_small.dcm")),
      mediaFile("b/readme.txt", new TextEncoder().encode("hello")),
    ];
    const plan = await planMedia(files);
    expect(plan.source).toBe("all-files");
    expect(plan.dicomdir).toBeNull();
    expect(plan.files).toHaveLength(3);
    expect(plan.summary).toMatchObject({ patients: 2, studies: 2, series: 2, files: 3, dicom: 2 });
    expect(plan.summary.patientNames).toContain("CompressedSamples^CT1");
  });

  it("falls back to every file when the DICOMDIR cannot be read", async () => {
    const files = [mediaFile("DICOMDIR", new Uint8Array(300)), mediaFile("IM1", fixture("CT_small.dcm"))];
    const plan = await planMedia(files);
    expect(plan.source).toBe("all-files");
    expect(plan.dicomdir).toEqual({ path: "DICOMDIR", readable: false });
    expect(plan.files).toHaveLength(2);
  });
});
