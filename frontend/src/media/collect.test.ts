import { describe, expect, it } from "vitest";
import { fromEntries, fromFolderInput } from "./collect";

/** A dropped folder as the browser gives it (FileSystemEntry), readEntries in small batches. */
type Tree = { [name: string]: string | Tree };

function entry(name: string, node: string | Tree, batch = 2): FileSystemEntry {
  if (typeof node === "string") {
    const file = new File([node], name, { lastModified: 1 });
    return {
      name,
      isFile: true,
      isDirectory: false,
      file: (ok: (f: File) => void) => ok(file),
    } as unknown as FileSystemEntry;
  }
  const children = Object.entries(node).map(([n, v]) => entry(n, v, batch));
  return {
    name,
    isFile: false,
    isDirectory: true,
    createReader: () => {
      let at = 0;
      return {
        readEntries: (ok: (entries: FileSystemEntry[]) => void) => {
          const part = children.slice(at, at + batch);
          at += part.length;
          setTimeout(() => ok(part), 0);
        },
      };
    },
  } as unknown as FileSystemEntry;
}

describe("fromEntries (a drop)", () => {
  it("makes one dropped folder the medium's root, every level walked", async () => {
    const cd = entry("CD_2024", {
      DICOMDIR: "d",
      DICOM: { PAT1: { IM1: "1", IM2: "2", IM3: "3" } },
      "autorun.inf": "a",
    });
    const dropped = await fromEntries([cd]);
    expect(dropped.label).toBe("CD_2024");
    expect(dropped.files.map((f) => f.path).sort()).toEqual([
      "DICOM/PAT1/IM1",
      "DICOM/PAT1/IM2",
      "DICOM/PAT1/IM3",
      "DICOMDIR",
      "autorun.inf",
    ]);
    expect(dropped.files.find((f) => f.path === "DICOM/PAT1/IM2")?.size).toBe(1);
  });

  it("keeps the folder names of several dropped items, and loose files", async () => {
    const dropped = await fromEntries(
      [entry("A", { IM1: "1" }), entry("IM9", "9")],
      [new File(["z"], "cd.zip")],
    );
    expect(dropped.files.map((f) => f.path)).toEqual(["A/IM1", "IM9", "cd.zip"]);
  });

  it("names a single dropped file by its name, and an empty folder by its own", async () => {
    expect((await fromEntries([], [new File(["z"], "cd.zip")])).label).toBe("cd.zip");
    const empty = await fromEntries([entry("EMPTY", {})]);
    expect(empty).toEqual({ files: [], label: "EMPTY" });
  });
});

describe("fromFolderInput", () => {
  it("gives nothing for an empty folder (the app then says it is empty)", () => {
    expect(fromFolderInput([])).toEqual({ folder: "", files: [] });
  });
});
