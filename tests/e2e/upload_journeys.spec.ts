/**
 * Sending a medium (issue 14, points 3, 4, 5 and 13): the interrupted-transfer warning only after
 * a real interruption; Stop during the transfer cancels the import on the server; nothing to send
 * means nothing to press, and says what was found; a ZIP is looked into before it is sent; files
 * and folders dropped on the import screen. In English, Italian and French.
 *
 * The transfer is slowed down where the journey needs it: `config.json` asks for small chunks
 * (16 KB) and the page holds the upload's PATCH requests after the first one, so "mid-upload" is
 * a state the journey controls, not a race.
 */
import { expect, test, type Page } from "@playwright/test";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { launch, shot, stack, tabToken, zipOf } from "./helpers";

const FIXTURES = join(__dirname, "..", "..", "frontend", "src", "media", "__fixtures__");
const CHUNK_MB = 1 / 64; // 16384 bytes: the 49 KB medium goes in 4 PATCHes

/** The media of these journeys, written once per run. */
const media = (() => {
  const root = mkdtempSync(join(tmpdir(), "pmi-upload-journeys-"));
  const dicom = join(root, "USB_DICOM");
  mkdirSync(join(dicom, "DICOM"), { recursive: true });
  copyFileSync(join(FIXTURES, "CT_small.dcm"), join(dicom, "DICOM", "CT1"));
  copyFileSync(join(FIXTURES, "MR_small.dcm"), join(dicom, "DICOM", "MR1"));
  const empty = join(root, "EMPTY");
  mkdirSync(empty);
  const pdfs = join(root, "REFERTI");
  mkdirSync(pdfs);
  for (const name of ["referto.pdf", "lettera.pdf", "esami.pdf"]) {
    writeFileSync(join(pdfs, name), `%PDF-1.4\n% ${name}\n${"x".repeat(3000)}\n%%EOF\n`);
  }
  writeFileSync(join(pdfs, "viewer.exe"), Buffer.concat([Buffer.from("MZ"), Buffer.alloc(2000)]));
  const zip = (name: string, entries: [string, string][]) => {
    const out = join(root, name);
    writeFileSync(out, zipOf(entries.map(([src, arc]) => ({ name: arc, data: readFileSync(src) }))));
    return out;
  };
  const autorun = join(root, "autorun.inf");
  writeFileSync(autorun, "[autorun]\nopen=viewer.exe\n");
  return {
    root,
    dicom,
    empty,
    pdfs,
    zipNoDicom: zip("referti.zip", [
      [join(pdfs, "referto.pdf"), "referto.pdf"],
      [join(pdfs, "lettera.pdf"), "DOCS/lettera.pdf"],
      [autorun, "autorun.inf"],
    ]),
    zipDicom: zip("cd.zip", [
      [join(dicom, "DICOM", "CT1"), "DICOM/CT1"],
      [join(dicom, "DICOM", "MR1"), "DICOM/MR1"],
      [autorun, "autorun.inf"],
    ]),
  };
})();

test.afterAll(() => rmSync(media.root, { recursive: true, force: true }));

const WORDS = {
  "en-GB": {
    selectFolder: "Select folder",
    send: "Compress and send",
    stop: "Stop",
    filesTab: "Files",
    chooseFiles: "Choose files",
    summary: "What will be sent",
    transferring: "Transferring…",
    resumeNotice: /An earlier transfer for this order was interrupted/,
    resumed: "Resuming the interrupted transfer.",
    stopped: /The transfer was stopped and the import cancelled/,
    previous: "Previous imports (with log)",
    created: "Request created",
    cancelled: "Cancelled",
    interruptedRow: /Transfer interrupted: select the same folder again/,
    rowCancel: /Cancel the unfinished import of/,
    nothing: "Nothing to send",
    empty: "The folder is empty.",
    allFiles: "No DICOMDIR at the root of the folder: every file will be sent.",
    pdfsFound: "4 files found, none of them a DICOM image: 3 PDF documents and 1 program file (viewer, autorun…).",
    zipFound: "3 files found, none of them a DICOM image: 2 PDF documents and 1 text or web page file.",
    zipAsIs: "The ZIP file will be sent as it is.",
    dropScreen: "Release to read these files or folders",
  },
  "it-IT": {
    selectFolder: "Seleziona cartella",
    send: "Comprimi e invia studio",
    stop: "Interrompi",
    filesTab: "File",
    chooseFiles: "Scegli file",
    summary: "Cosa verrà inviato",
    transferring: "Trasferimento dello studio…",
    resumeNotice: /Un trasferimento precedente per questo ordine si è interrotto/,
    resumed: "Ripresa del trasferimento interrotto.",
    stopped: /Trasferimento interrotto e importazione annullata/,
    previous: "Importazioni precedenti (con log)",
    created: "Richiesta creata",
    cancelled: "Annullato",
    interruptedRow: /Trasferimento interrotto: seleziona di nuovo la stessa cartella/,
    rowCancel: /Annulla l'importazione incompleta del/,
    nothing: "Niente da inviare",
    empty: "La cartella è vuota.",
    allFiles: "Nessun DICOMDIR nella cartella principale: verranno inviati tutti i file.",
    pdfsFound: "Trovati 4 file, nessuno è un'immagine DICOM: 3 documenti PDF e 1 file di programma (visualizzatore, autorun…).",
    zipFound: "Trovati 3 file, nessuno è un'immagine DICOM: 2 documenti PDF e 1 file di testo o pagina web.",
    zipAsIs: "Il file ZIP verrà inviato così com'è.",
    dropScreen: "Rilascia per leggere questi file o cartelle",
  },
  "fr-FR": {
    selectFolder: "Sélectionner le dossier",
    send: "Compresser et envoyer",
    stop: "Arrêter",
    filesTab: "Fichiers",
    chooseFiles: "Choisir des fichiers",
    summary: "Ce qui sera envoyé",
    transferring: "Transfert en cours…",
    resumeNotice: /Un transfert précédent pour cet examen a été interrompu/,
    resumed: "Reprise du transfert interrompu.",
    stopped: /Le transfert a été arrêté et l'import annulé/,
    previous: "Imports précédents (avec journal)",
    created: "Demande créée",
    cancelled: "Annulé",
    interruptedRow: /Transfert interrompu : sélectionnez à nouveau le même dossier/,
    rowCancel: /Annuler l'import inachevé du/,
    nothing: "Rien à envoyer",
    empty: "Le dossier est vide.",
    allFiles: "Pas de DICOMDIR à la racine du dossier : tous les fichiers seront envoyés.",
    pdfsFound: "4 fichiers trouvés, aucun n'est une image DICOM : 3 documents PDF et 1 fichier de programme (visionneuse, autorun…).",
    zipFound: "3 fichiers trouvés, aucun n'est une image DICOM : 2 documents PDF et 1 fichier texte ou page web.",
    zipAsIs: "Le fichier ZIP sera envoyé tel quel.",
    dropScreen: "Relâchez pour lire ces fichiers ou dossiers",
  },
} as const;

async function importStatus(page: Page, id: string): Promise<string> {
  const response = await fetch(`${stack().base_url}/api/v1/imports/${id}`, {
    headers: { Authorization: `Bearer ${await tabToken(page)}` },
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { status: string }).status;
}

/**
 * Small chunks, and every upload PATCH after the first `pass` held (never answered): the transfer
 * stays under way until the page reloads or stops it. `held` lists the offsets asked for.
 */
async function slowUploads(page: Page, pass: number): Promise<{ held: string[]; passed: () => number; allow: (n: number) => void }> {
  let passed = 0;
  let allowed = pass;
  const held: string[] = [];
  await page.route("**/config.json", (route) => route.fulfill({ json: { uploadChunkMegabytes: CHUNK_MB } }));
  await page.route("**/api/v1/uploads/**", async (route) => {
    if (route.request().method() !== "PATCH") return route.continue();
    if (passed < allowed) {
      passed += 1;
      return route.continue();
    }
    held.push((await route.request().headerValue("upload-offset")) ?? "");
  });
  return { held, passed: () => passed, allow: (n) => (allowed = n) };
}

function createdImport(page: Page): Promise<string> {
  return page
    .waitForResponse((r) => r.request().method() === "POST" && /\/api\/v1\/imports$/.test(r.url()))
    .then(async (r) => ((await r.json()) as { id: string }).id);
}

function patchDone(page: Page) {
  return page.waitForResponse((r) => r.request().method() === "PATCH" && r.url().includes("/api/v1/uploads/"));
}

/** A launch, the DICOM folder chosen and sent, the transfer held after its first chunk. */
async function startHeldUpload(page: Page, accession: string, w: (typeof WORDS)[keyof typeof WORDS]) {
  const gate = await slowUploads(page, 1);
  const { url } = await launch(accession);
  await page.goto(url);
  await page.getByLabel(w.selectFolder).setInputFiles(media.dicom);
  await expect(page.getByRole("heading", { name: w.summary })).toBeVisible();
  const created = createdImport(page);
  const first = patchDone(page);
  await page.getByRole("button", { name: w.send }).click();
  const id = await created;
  await first;
  return { id, gate };
}

test.afterEach(async ({ page }) => {
  // the held uploads' routes, also when a journey failed half-way
  await page.unrouteAll({ behavior: "ignoreErrors" });
});

for (const [locale, w] of Object.entries(WORDS) as [keyof typeof WORDS, (typeof WORDS)[keyof typeof WORDS]][]) {
  test.describe(locale, () => {
    test.use({ locale });
    const tag = locale.slice(0, 2).toUpperCase();
    // the screenshots' names: "" in English, "it-" and "fr-" otherwise
    const prefix = locale === "en-GB" ? "" : `${locale.slice(0, 2)}-`;

    test(`upload: first transfer shows no interrupted warning; after a reload the same folder resumes and the warning goes (${locale})`, async ({ page }) => {
      const notice = page.getByText(w.resumeNotice);
      const { id, gate } = await startHeldUpload(page, `E2E-RESUME-${tag}`, w);
      await expect(page.getByText(w.transferring)).toBeVisible();
      await expect.poll(() => gate.held.length).toBeGreaterThan(0);
      // the first transfer, under way: no false alarm
      await expect(notice).toHaveCount(0);
      await expect(page.getByText(w.resumed)).toHaveCount(0);
      expect(await importStatus(page, id)).toBe("created");

      // the window is reloaded mid-upload: the server waits for the rest
      await page.reload();
      await expect(notice).toBeVisible();
      const previous = page.getByRole("region", { name: w.previous });
      await expect(previous.getByText(w.created)).toBeVisible();
      await expect(previous.getByText(w.interruptedRow)).toBeVisible();
      await shot(page, `${prefix}43-interrupted-resume`, true);

      // the same folder again: the resume starts from the server's offset, the warning goes
      await page.getByLabel(w.selectFolder).setInputFiles(media.dicom);
      await expect(page.getByRole("heading", { name: w.summary })).toBeVisible();
      const before = gate.held.length;
      await page.getByRole("button", { name: w.send }).click();
      await expect(page.getByText(w.resumed)).toBeVisible();
      await expect(notice).toHaveCount(0);
      await expect.poll(() => gate.held.length).toBeGreaterThan(before);
      expect(gate.held.at(-1)).toBe(String(16384)); // continued after the first chunk, not from 0
      await expect(previous.getByText(w.created)).toHaveCount(0); // the row being sent is this one

      // done with it: Stop cancels it on the server
      await page.getByRole("button", { name: w.stop }).click();
      await expect(page.getByText(w.stopped)).toBeVisible();
      await expect.poll(() => importStatus(page, id)).toBe("cancelled");
    });

    test(`upload: Stop during the transfer cancels the import on the server, no dead row (${locale})`, async ({ page }) => {
      const { id } = await startHeldUpload(page, `E2E-STOP-${tag}`, w);
      await expect(page.getByText(w.transferring)).toBeVisible();
      await expect(page.getByText(w.resumeNotice)).toHaveCount(0);
      await page.getByRole("button", { name: w.stop }).click();
      await expect(page.getByText(w.stopped)).toBeVisible();
      await expect.poll(() => importStatus(page, id)).toBe("cancelled");
      const previous = page.getByRole("region", { name: w.previous });
      await expect(previous.getByText(w.cancelled)).toBeVisible();
      await expect(previous.getByText(w.created)).toHaveCount(0);
      await shot(page, `${prefix}45-upload-stopped`, true);
      // and after a reload: nothing to resume, no warning
      await page.reload();
      await expect(previous.getByText(w.cancelled)).toBeVisible();
      await expect(page.getByText(w.resumeNotice)).toHaveCount(0);
    });

    test(`upload: an abandoned transfer (reloaded, never resumed) is cancelled from Previous imports (${locale})`, async ({ page }) => {
      const { id } = await startHeldUpload(page, `E2E-ABANDON-${tag}`, w);
      await page.reload();
      await expect(page.getByText(w.resumeNotice)).toBeVisible();
      const previous = page.getByRole("region", { name: w.previous });
      await expect(previous.getByText(w.created)).toBeVisible();
      await previous.getByRole("button", { name: w.rowCancel }).click();
      await expect(previous.getByText(w.cancelled)).toBeVisible();
      await expect(previous.getByText(w.created)).toHaveCount(0);
      await expect(page.getByText(w.resumeNotice)).toHaveCount(0);
      expect(await importStatus(page, id)).toBe("cancelled");
    });

    test(`upload: nothing to send — an empty folder, a folder of PDFs, a ZIP without DICOM (${locale})`, async ({ page }) => {
      const { url } = await launch(`E2E-NOTHING-${tag}`);
      await page.goto(url);
      const send = page.getByRole("button", { name: w.send });

      await page.getByLabel(w.selectFolder).setInputFiles(media.empty);
      await expect(page.getByText(w.empty)).toBeVisible();
      await expect(page.getByText(w.nothing, { exact: true })).toBeVisible();
      await expect(send).toBeDisabled();

      await page.getByLabel(w.selectFolder).setInputFiles(media.pdfs);
      await expect(page.getByText(w.pdfsFound)).toBeVisible();
      await expect(page.getByText(w.nothing, { exact: true })).toBeVisible();
      await expect(send).toBeDisabled();
      // nothing will be sent: no line saying every file will be
      await expect(page.getByText(w.allFiles)).toHaveCount(0);
      await shot(page, `${prefix}42-nothing-to-send`, true);

      await page.getByRole("tab", { name: w.filesTab }).click();
      await page.getByLabel(w.chooseFiles).setInputFiles(media.zipNoDicom);
      await expect(page.getByText(w.zipFound)).toBeVisible();
      await expect(page.getByText(w.nothing, { exact: true })).toBeVisible();
      await expect(send).toBeDisabled();
    });

    test(`upload: a ZIP with DICOM is looked into before it is sent (${locale})`, async ({ page }) => {
      const { url } = await launch(`E2E-ZIP-${tag}`);
      await page.goto(url);
      await page.getByRole("tab", { name: w.filesTab }).click();
      await page.getByLabel(w.chooseFiles).setInputFiles(media.zipDicom);
      await expect(page.getByRole("heading", { name: w.summary })).toBeVisible();
      await expect(page.getByText(w.zipAsIs)).toBeVisible();
      const counts = page.locator(".summary-grid");
      await expect(counts.locator("div").nth(1)).toContainText("2"); // studies
      await expect(counts.locator("div").nth(3)).toContainText("3"); // files in the ZIP
      await expect(page.getByText(w.nothing, { exact: true })).toHaveCount(0);
      await expect(page.getByRole("button", { name: w.send })).toBeEnabled();
    });

    test(`upload: files and a folder dropped on the import screen (${locale})`, async ({ page }) => {
      const { url } = await launch(`E2E-DROP-${tag}`);
      await page.goto(url);
      await expect(page.getByLabel(w.selectFolder)).toBeAttached();
      const files = [
        { name: "CT1", data: readFileSync(join(media.dicom, "DICOM", "CT1")).toString("base64") },
        { name: "MR1", data: readFileSync(join(media.dicom, "DICOM", "MR1")).toString("base64") },
      ];
      // files dropped anywhere on the screen, the "CD or folder" tab open
      const dataTransfer = await page.evaluateHandle((dropped) => {
        const transfer = new DataTransfer();
        for (const f of dropped) {
          const bytes = Uint8Array.from(atob(f.data), (c) => c.charCodeAt(0));
          transfer.items.add(new File([bytes], f.name));
        }
        return transfer;
      }, files);
      const overlay = page.getByText(w.dropScreen);
      const target = page.getByRole("tablist");
      await target.dispatchEvent("dragenter", { dataTransfer });
      await target.dispatchEvent("dragover", { dataTransfer });
      await expect(overlay).toBeVisible();
      await target.dispatchEvent("drop", { dataTransfer });
      await expect(page.getByRole("heading", { name: w.summary })).toBeVisible();
      await expect(page.locator(".summary-grid div").nth(3)).toContainText("2");
      await expect(overlay).toHaveCount(0);
      await expect(page.getByRole("button", { name: w.send })).toBeEnabled();

      // a real folder dropped by the browser (Chromium's drag and drop, not a built event)
      const cdp = await page.context().newCDPSession(page);
      const box = (await page.getByRole("tablist").boundingBox())!;
      const at = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
      const data = { items: [], files: [media.pdfs], dragOperationsMask: 1 };
      for (const type of ["dragEnter", "dragOver", "drop"] as const) {
        await cdp.send("Input.dispatchDragEvent", { type, ...at, data });
      }
      await expect(page.getByText(w.pdfsFound)).toBeVisible();
    });
  });
}
