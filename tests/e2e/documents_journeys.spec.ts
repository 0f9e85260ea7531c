/**
 * The whole disc (issue 16, point 3): a patient's disc carries, besides one CT study, the outside
 * report as a PDF and a photo as a JPEG. The confirmation lists them with their previews, none
 * ticked; the clerk ticks both (with the keyboard alone: the tick, the preview opened larger and
 * closed with Escape), confirms, and follows the import to its end with the documents stored.
 * The PACS then holds, in the same study under the order's patient and accession number, an
 * Encapsulated PDF and a Secondary Capture image, each with the file's name as its series
 * description. In English, Italian and French; each language sends a disc of its own.
 */
import { expect, test, type Locator } from "@playwright/test";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import en from "../../frontend/src/i18n/en";
import type { Translation } from "../../frontend/src/i18n/en";
import fr from "../../frontend/src/i18n/fr";
import it from "../../frontend/src/i18n/it";
import { escapeRegExp, fillText, launch, ORDER_PATIENT, shot, stack } from "./helpers";

const ENCAPSULATED_PDF = "1.2.840.10008.5.1.4.1.1.104.1";
const SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7";
const REPORT = "REPORT/REFERTO.PDF";
const PHOTO = "FOTO/LESIONE.JPG";

const root = mkdtempSync(join(tmpdir(), "e2e-documents-"));
test.afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The project's Python (pydicom and Pillow are the server's dependencies). */
function python(): string {
  const venv = join(__dirname, "..", "..", ".venv", "bin", "python");
  return process.env.PYTHON ?? (existsSync(venv) ? venv : "python3");
}

/**
 * A disc as a ZIP: one CT study of two images (new UIDs) of ROSSI MARIO written by another
 * hospital, the outside report (a PDF of two pages) and a photo (a JPEG of 1600 × 1200).
 */
async function discZip(code: string): Promise<{ zip: string; study: string }> {
  const out = join(root, `disc-${code}.zip`);
  const ct = join(__dirname, "..", "..", "frontend", "src", "media", "__fixtures__", "CT_small.dcm");
  const script = `
import io, sys, zipfile
import pydicom
from pydicom.uid import generate_uid
from PIL import Image, ImageDraw, ImageFont
out, ct, code = sys.argv[1], sys.argv[2], sys.argv[3]
font = ImageFont.load_default(size=44)
small = ImageFont.load_default(size=30)
def page(lines):
    im = Image.new("RGB", (1240, 1754), "white")
    d = ImageDraw.Draw(im)
    d.rectangle((80, 80, 1160, 200), outline="black", width=4)
    d.text((110, 110), "OSPEDALE ESTERNO - RADIOLOGIA", font=font, fill="black")
    for i, line in enumerate(lines):
        d.text((110, 300 + i * 60), line, font=small, fill="black")
    return im
first = page(["REFERTO", "Paziente: ROSSI MARIO (01/01/1974)", "Esame: TC TORACE del 01/06/2024", "", "Parenchima polmonare nei limiti.", "Non versamento pleurico."])
second = page(["Pagina 2", "Il medico refertante: Dr. A. Bianchi"])
pdf = io.BytesIO()
first.save(pdf, "PDF", save_all=True, append_images=[second], resolution=150.0)
photo = Image.new("RGB", (1600, 1200), (205, 170, 150))
d = ImageDraw.Draw(photo)
d.ellipse((600, 400, 1000, 760), fill=(150, 60, 60))
d.text((60, 60), "LESIONE - 01/06/2024", font=font, fill="black")
jpg = io.BytesIO()
photo.save(jpg, "JPEG", quality=85)
study, series = generate_uid(), generate_uid()
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    for n in (1, 2):
        ds = pydicom.dcmread(ct)
        ds.PatientName, ds.PatientID = "ROSSI^MARIO", "EXT-DOCS-" + code
        ds.PatientBirthDate, ds.PatientSex = "19740101", "M"
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        ds.StudyDescription, ds.SeriesDescription = "TC TORACE", "AXIAL 5mm"
        ds.StudyDate, ds.StudyTime, ds.AccessionNumber = "20240601", "091454", "EXT0001"
        ds.InstitutionName, ds.SeriesNumber, ds.InstanceNumber = "Ospedale Esterno", 1, n
        b = io.BytesIO()
        ds.save_as(b, enforce_file_format=True)
        z.writestr(f"DICOM/IMG000{n}", b.getvalue())
    z.writestr("${REPORT}", pdf.getvalue())
    z.writestr("${PHOTO}", jpg.getvalue())
print(study)
`;
  // never blocking the event loop: a keep-alive connection the API closes meanwhile must be seen
  // closed, or the next request is written to it ("other side closed")
  const { stdout } = await promisify(execFile)(python(), ["-c", script, out, ct, code]);
  return { zip: out, study: stdout.trim() };
}

/** The instances the PACS holds of a study: each one's tags (Orthanc's simplified tags). */
async function pacsInstances(study: string): Promise<Record<string, string>[]> {
  const orthanc = stack().orthanc_url;
  const found = await fetch(`${orthanc}/tools/find`, {
    method: "POST",
    body: JSON.stringify({ Level: "Instance", Query: { StudyInstanceUID: study } }),
  });
  expect(found.status).toBe(200);
  const ids = (await found.json()) as string[];
  return Promise.all(ids.map(async (id) => (await (await fetch(`${orthanc}/instances/${id}/simplified-tags`)).json()) as Record<string, string>));
}

/** The image an `<img>` shows has been decoded (a broken or empty one has no width). */
async function expectDecoded(image: Locator): Promise<void> {
  await expect(image).toBeVisible();
  await expect.poll(() => image.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBeGreaterThan(0);
}

const LANGUAGES: { code: "en" | "it" | "fr"; locale: string; t: Translation; date: string; pages: string; stored: string }[] = [
  // written out, not read from the catalog: a screen fallen back to English fails
  { code: "en", locale: "en-GB", t: en, date: "01/06/2024", pages: "PDF document · 2 pages", stored: "Stored on the PACS" },
  { code: "it", locale: "it-IT", t: it, date: "01/06/2024", pages: "Documento PDF · 2 pagine", stored: "Archiviato su PACS" },
  { code: "fr", locale: "fr-FR", t: fr, date: "01/06/2024", pages: "Document PDF · 2 pages", stored: "Archivé sur le PACS" },
];

for (const { code, locale, t, date, pages, stored } of LANGUAGES) {
  test.describe(`documents of the disc (${code})`, () => {
    test.use({ locale });

    test(`documents (${code}): a report and a photo of the disc are filed with its study, by keyboard`, async ({ page }) => {
      const accession = `E2E-DISCDOC-${code.toUpperCase()}`;
      const { zip, study: studyUid } = await discZip(code);
      const { url } = await launch(accession);
      await page.goto(url);
      await expect(page.locator("html")).toHaveAttribute("lang", code);
      await page.getByRole("tab", { name: t.tabs.files }).click();
      await page.getByLabel(t.files.choose).setInputFiles(zip);
      await page.getByRole("button", { name: t.send.button }).click();
      await expect(page.getByRole("heading", { name: t.confirm.title })).toBeVisible({ timeout: 120_000 });

      // the documents, each with its preview, name, kind and size; none ticked
      const section = page.getByRole("region", { name: t.confirm.documents.title });
      await expect(section).toBeVisible();
      await expect(section.getByText(t.confirm.documents.intro)).toBeVisible();
      const tick = (path: string) => section.getByRole("checkbox", { name: new RegExp(`${escapeRegExp(path)}$`) });
      const open = (path: string) => section.getByRole("button", { name: fillText(t.confirm.documents.open, { name: path }) });
      const row = (path: string) => section.getByRole("listitem").filter({ hasText: path });
      await expect(tick(REPORT)).not.toBeChecked();
      await expect(tick(PHOTO)).not.toBeChecked();
      await expect(row(REPORT)).toContainText(pages);
      await expect(row(PHOTO)).toContainText(fillText(t.confirm.documents.pixels, { width: 1600, height: 1200 }));
      await expectDecoded(open(REPORT).locator("img"));
      await expectDecoded(open(PHOTO).locator("img"));

      // the keyboard alone: the report's preview opened larger, closed with Escape
      await open(REPORT).focus();
      await page.keyboard.press("Enter");
      const dialog = page.getByRole("dialog", { name: fillText(t.confirm.documents.previewTitle, { name: REPORT }) });
      await expect(dialog).toBeVisible();
      await expectDecoded(dialog.getByRole("img", { name: fillText(t.confirm.documents.previewTitle, { name: REPORT }) }));
      await expect(dialog.getByText(fillText(t.confirm.documents.firstPage_other, { count: 2 }), { exact: false })).toBeVisible();
      await page.keyboard.press("Escape");
      await expect(dialog).toBeHidden();
      await expect(open(REPORT)).toBeFocused();
      // then its tick, then the photo's preview and tick: Space ticks
      await page.keyboard.press("Tab");
      await expect(tick(REPORT)).toBeFocused();
      await page.keyboard.press("Space");
      await expect(tick(REPORT)).toBeChecked();
      await page.keyboard.press("Tab");
      await expect(open(PHOTO)).toBeFocused();
      await page.keyboard.press("Tab");
      await expect(tick(PHOTO)).toBeFocused();
      await page.keyboard.press("Space");
      await expect(tick(PHOTO)).toBeChecked();

      // one study on the disc: each goes with it, named as the clerk knows it
      const study = fillText(t.confirm.documents.studyLabel, { date, description: "TC TORACE", modality: "CT" });
      await expect(row(REPORT)).toContainText(`${t.confirm.documents.withStudy}${t.common.colon}${study}`);
      await expect(row(PHOTO)).toContainText(`${t.confirm.documents.withStudy}${t.common.colon}${study}`);
      await section.scrollIntoViewIfNeeded();
      await shot(page, `documents-confirm-${code}`, true);

      // the study unticked: the documents wait, said, and Confirm with them
      const studyTick = page.getByRole("checkbox", { name: new RegExp(`${escapeRegExp(t.confirm.study.select)}.*TC TORACE`) });
      await studyTick.uncheck();
      await expect(row(REPORT).getByText(t.confirm.documents.stranded)).toBeVisible();
      await expect(page.getByText(fillText(t.confirm.documents.strandedBar_other, { count: 2 }))).toBeVisible();
      await expect(page.getByRole("button", { name: t.confirm.confirm })).toBeDisabled();
      await studyTick.check();
      await expect(row(REPORT).getByText(t.confirm.documents.stranded)).toHaveCount(0);

      const confirm = page.getByRole("button", { name: t.confirm.confirm });
      await confirm.focus();
      await page.keyboard.press("Enter");
      await expect(page.getByRole("heading", { name: t.monitor.title })).toBeVisible();
      await expect(page.getByText(t.monitor.outcome.completed)).toBeVisible({ timeout: 120_000 });
      const filed = page.getByRole("group", { name: t.monitor.documents.title });
      await expect(filed.getByRole("listitem").filter({ hasText: REPORT })).toContainText(stored);
      await expect(filed.getByRole("listitem").filter({ hasText: PHOTO })).toContainText(stored);
      await shot(page, `documents-done-${code}`, true);

      // on the PACS, in the study, under the order's patient: an Encapsulated PDF and a Secondary Capture
      const instances = await pacsInstances(studyUid);
      for (const i of instances) {
        expect(i.PatientID).toBe(ORDER_PATIENT.id);
        expect(i.PatientName).toBe(ORDER_PATIENT.name);
        expect(i.AccessionNumber).toBe(accession);
      }
      const pdf = instances.filter((i) => i.SOPClassUID === ENCAPSULATED_PDF);
      const sc = instances.filter((i) => i.SOPClassUID === SECONDARY_CAPTURE);
      expect(pdf.map((i) => i.SeriesDescription)).toEqual([expect.stringContaining("REFERTO.PDF")]);
      expect(sc.map((i) => i.SeriesDescription)).toEqual([expect.stringContaining("LESIONE.JPG")]);
      expect(instances.length, "the CT's two images and the two documents").toBe(4);
    });
  });
}

test.describe("documents of a CD (en)", () => {
  test.use({ locale: "en-GB" });

  test("a CD folder with a DICOMDIR: the report it does not list is sent too, and offered", async ({ page }) => {
    const { url } = await launch("E2E-DISCDOC-CD");
    await page.goto(url);
    await page.getByLabel(en.folder.choose).setInputFiles(stack().media.cd_report!);
    // before sending: the images the DICOMDIR lists, and the report it does not
    await expect(page.getByText(fillText(en.summary.documentsToo_one, { count: 1 }))).toBeVisible();
    await page.getByRole("button", { name: en.send.button }).click();
    await expect(page.getByRole("heading", { name: en.confirm.title })).toBeVisible({ timeout: 120_000 });
    const section = page.getByRole("region", { name: en.confirm.documents.title });
    const report = section.getByRole("checkbox", { name: /REPORT\/REFERTO\.PDF$/ });
    await expect(report).not.toBeChecked();
    await expect(section.getByRole("listitem").filter({ hasText: "REPORT/REFERTO.PDF" })).toContainText("PDF document · 1 page");
  });
});
