/**
 * No English on the other Italian and French screens (issue 14, point 1), as language_journeys
 * checks the order's journey: worklist mode (the search, the identity checks, nothing found, every
 * study already on the PACS), the temporary zone (keep, the list, the viewer, the promote panel,
 * the purge dialog), the import's log, an order whose studies are all on the PACS (the files not
 * imported opened), the cancelled screen, the links that cannot open an import, a transfer
 * interrupted, resumed and stopped, and nothing to send. On each, no text of the English catalog
 * that Italian or French words otherwise: not a sentence, not a short label, not the tab title.
 */
import { expect, test, type Page } from "@playwright/test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import en from "../../frontend/src/i18n/en";
import fr from "../../frontend/src/i18n/fr";
import it from "../../frontend/src/i18n/it";
import {
  NOT_ENGLISH,
  catalogPattern,
  englishOn,
  englishTexts,
  escapeRegExp,
  expectNoEnglish,
  filesIn,
  fillText,
  freshCopy,
  launch,
  shot,
  stack,
  storeOnPacs,
  usedLaunch,
  zipOf,
} from "./helpers";

const folders: string[] = [];
test.afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

test.afterEach(async ({ page }) => {
  // the held uploads' routes, also when a journey failed half-way
  await page.unrouteAll({ behavior: "ignoreErrors" });
});

function tempFolder(): string {
  const out = mkdtempSync(join(tmpdir(), "e2e-lang-screens-"));
  folders.push(out);
  return out;
}

/** A copy of a stack medium with new UIDs under `root` (same length as pydicom's root). */
function fresh(medium: string, root: string, skip?: RegExp): string {
  return freshCopy(stack().media[medium]!, root, tempFolder(), skip);
}

const LANGUAGES = [
  { code: "it", locale: "it-IT", t: it, referent: "Lidia Ferri", root: "1.2.826.0.1.3680043.8.48" },
  { code: "fr", locale: "fr-FR", t: fr, referent: "Lise Ferrand", root: "1.2.826.0.1.3680043.8.46" },
] as const;

// the temporary zone's medium: a patient the worklist knows (order WL-E2E-0004) to promote to
const LUCIA_ORDER = "WL-E2E-0004";
const CHUNK_MB = 1 / 64; // 16384 bytes a PATCH: the transfer is held after its first chunk

for (const { code, locale, t, referent, root } of LANGUAGES) {
  test.describe(`no English on the other screens (${code})`, () => {
    test.use({ locale });
    const texts = englishTexts(t);
    const noEnglish = (page: Page, screen: string) => expectNoEnglish(page, texts, NOT_ENGLISH[code], screen);
    // a root per medium of this language: `${root}1.` … (each the length of pydicom's)
    const rootOf = (n: number) => `${root}${n}.`;

    test(`no English (${code}): worklist search, identity checks, nothing found, the temporary zone with its viewer, promote panel and purge dialog`, async ({ page }) => {
      test.setTimeout(360_000);
      const user = { id: `ref-lang-${code}`, name: referent, department: "Radiologia" };
      const { url } = await launch(null, undefined, ["clinician", "temporary_zone"], user);
      await page.goto(url);
      await expect(page.getByRole("heading", { name: t.worklist.importTitle })).toBeVisible();
      await expect(page.locator("html")).toHaveAttribute("lang", code);
      await noEnglish(page, "import without an order");

      // the worklist searched with the patient on the medium: her order is found
      await page.getByLabel(t.folder.choose).setInputFiles(fresh("temporary", rootOf(1)));
      await page.getByRole("button", { name: t.send.button }).click();
      await expect(page.getByRole("heading", { name: t.worklist.title })).toBeVisible({ timeout: 120_000 });
      const study = page.getByRole("article", { name: "RM ENCEFALO" });
      const order = study.locator(".candidate").filter({ hasText: LUCIA_ORDER });
      await expect(order).toBeVisible({ timeout: 60_000 });
      await noEnglish(page, "worklist search");

      // the identity checks of the order chosen, then back
      await order.getByRole("radio").check();
      await page.getByRole("button", { name: t.worklist.toValidation }).click();
      await expect(page.getByRole("heading", { name: t.worklist.validateTitle })).toBeVisible();
      await expect(page.getByText(fillText(t.monitor.order, { accession: LUCIA_ORDER })).first()).toBeVisible();
      await noEnglish(page, "identity checks");
      await page.getByRole("button", { name: t.worklist.back }).click();
      await expect(page.getByRole("heading", { name: t.worklist.title })).toBeVisible();

      // nothing found: the advice, the RIS, clear all, and the temporary zone offered
      for (const label of [t.worklist.field.name, t.worklist.field.given, t.terms.birthDate, t.worklist.field.date]) {
        await study.getByLabel(label, { exact: true }).fill("");
      }
      await study.getByLabel(t.terms.accession, { exact: true }).fill("NOPE-0404");
      await study.getByRole("button", { name: t.worklist.search }).click();
      await expect(study.getByText(t.worklist.noResults, { exact: true })).toBeVisible({ timeout: 60_000 });
      await expect(study.getByText(t.worklist.noResultsRis)).toBeVisible();
      await expect(study.getByRole("button", { name: t.worklist.clearAll })).toBeVisible();
      await noEnglish(page, "worklist nothing found");
      await shot(page, `lang-${code}-worklist-nothing-found`);
      // the check itself, on this very screen switched to English: it finds a sentence, a short
      // label as a whole word, a screen reader's label and the tab title
      await page.getByLabel(t.app.language).selectOption("en");
      await expect(page.locator("html")).toHaveAttribute("lang", "en");
      const english = await englishOn(page, texts);
      expect(english).toEqual(
        expect.arrayContaining([
          `worklist.noResultsRis: ${en.worklist.noResultsRis} (text)`,
          `terms.sex: ${en.terms.sex} (text)`,
          `app.title: ${en.app.title} (tab title)`,
        ]),
      );
      expect(english.filter((e) => e.endsWith("(aria-label)"))).not.toEqual([]);
      await page.getByLabel(en.app.language).selectOption(code);
      await expect(page.locator("html")).toHaveAttribute("lang", code);

      // sent to the temporary zone without loading the medium again, and kept there
      await study.getByRole("button", { name: t.worklist.toTemporary }).click();
      await expect(page.getByRole("heading", { name: t.zone.confirmTitle })).toBeVisible();
      await noEnglish(page, "keep in the temporary zone");
      await page.getByRole("button", { name: t.zone.confirm }).click();
      await expect(page.getByText(t.zone.completed)).toBeVisible({ timeout: 120_000 });
      await noEnglish(page, "monitoring (kept in the temporary zone)");

      // the import's own log
      await page.getByRole("button", { name: t.importLog.show }).click();
      const log = page.getByRole("dialog", { name: t.importLog.title });
      await expect(log.getByRole("table")).toBeVisible();
      await noEnglish(page, "import log");
      await page.keyboard.press("Escape");
      await expect(log).toBeHidden();

      // the zone's list, this referent's card
      await page.getByRole("navigation", { name: t.nav.label }).getByRole("link", { name: t.nav.temporary }).click();
      await expect(page.getByRole("heading", { name: t.temporary.title, level: 1 })).toBeVisible();
      const card = page.getByRole("article", { name: /Bianchi Lucia/i }).filter({ hasText: referent });
      await expect(card).toContainText("RM ENCEFALO");
      await noEnglish(page, "temporary zone");

      // the viewer of the first series
      const ctLabel = fillText(t.confirm.study.seriesLabel, { number: 1, description: "AXIAL 5mm", modality: "CT", count: 2 });
      await card.getByRole("button", { name: fillText(t.temporary.viewer.open, { label: ctLabel }) }).click();
      const viewer = page.getByRole("dialog", { name: fillText(t.temporary.viewer.title, { label: ctLabel }) });
      await expect(viewer.getByText(fillText(t.temporary.viewer.position, { position: 1, count: 2 }), { exact: true })).toBeVisible();
      await expect(viewer.getByRole("img")).toBeVisible();
      await noEnglish(page, "temporary zone viewer");
      await shot(page, `lang-${code}-temporary-viewer`);
      await viewer.getByRole("button", { name: t.temporary.viewer.close }).click();
      await expect(viewer).toBeHidden();

      // the promote panel: her order found, compared with the medium
      await card.getByRole("button", { name: t.temporary.promote }).click();
      await card.locator(".candidate").filter({ hasText: LUCIA_ORDER }).getByRole("radio").check({ timeout: 60_000 });
      await expect(card.getByRole("heading", { name: fillText(t.temporary.checkTitle, { accession: LUCIA_ORDER }) })).toBeVisible();
      await expect(card.getByRole("button", { name: fillText(t.temporary.promoteTo, { accession: LUCIA_ORDER }) })).toBeVisible({ timeout: 60_000 });
      await noEnglish(page, "temporary zone promote panel");
      await shot(page, `lang-${code}-temporary-promote`);

      // the purge dialog, then purged
      await card.getByRole("button", { name: t.temporary.purge, exact: true }).click();
      const purge = page.getByRole("dialog", { name: t.temporary.purgeTitle });
      await expect(purge).toBeVisible();
      await noEnglish(page, "temporary zone purge dialog");
      await purge.getByRole("button", { name: t.temporary.purgeConfirm }).click();
      await expect(page.getByText(catalogPattern(t.temporary.purged))).toBeVisible();
      await expect(card).toHaveCount(0);
      await noEnglish(page, "temporary zone (purged)");
    });

    test(`no English (${code}): worklist mode, every study already on the PACS, ended with nothing sent`, async ({ page }) => {
      const medium = fresh("worklist", rootOf(2));
      await storeOnPacs(medium);
      const { url } = await launch(null);
      await page.goto(url);
      await page.getByLabel(t.folder.choose).setInputFiles(medium);
      await page.getByRole("button", { name: t.send.button }).click();
      await expect(page.getByRole("heading", { name: t.worklist.title })).toBeVisible({ timeout: 120_000 });
      await expect(page.getByText(t.confirm.allPresent.title, { exact: true })).toBeVisible();
      await noEnglish(page, "worklist, all already on the PACS");
      await page.getByRole("button", { name: t.confirm.allPresent.end }).click();
      await expect(page.getByText(t.monitor.outcome.nothingSent)).toBeVisible({ timeout: 60_000 });
      await expect(page.getByRole("region", { name: t.monitor.notSelected })).toBeVisible();
      await noEnglish(page, "monitoring (nothing sent)");
    });

    test(`no English (${code}): an order whose studies are all on the PACS (files not imported opened), cancelled`, async ({ page }) => {
      // the CD without its DICOMDIR, so that its other files go too: the analysis lists them
      const medium = fresh("cancel", rootOf(3), /^DICOMDIR$/i);
      writeFileSync(join(medium, "LEGGIMI.txt"), "Questo CD contiene le immagini dell'esame.\n");
      writeFileSync(join(medium, "VUOTO.dcm"), "");
      // an image cut in half (a copy burnt short): told apart from a header that cannot be read
      const image = filesIn(medium).find((f) => /[\\/]IM[^\\/]*$/.test(f))!;
      const bytes = readFileSync(image);
      writeFileSync(join(medium, "TRONCO.dcm"), bytes.subarray(0, bytes.length >> 1));
      const accession = `E2E-LP-PRES-${code.toUpperCase()}`;
      // imported once for the order (filed under the order's patient) …
      const first = await launch(accession);
      await page.goto(first.url);
      await page.getByLabel(t.folder.choose).setInputFiles(medium);
      await page.getByRole("button", { name: t.send.button }).click();
      await page.getByRole("button", { name: t.confirm.confirm }).click({ timeout: 120_000 });
      await expect(page.getByText(t.monitor.outcome.completed)).toBeVisible({ timeout: 120_000 });
      // … and the same medium again
      const { url } = await launch(accession);
      await page.goto(url);
      await page.getByLabel(t.folder.choose).setInputFiles(medium);
      await expect(page.getByRole("heading", { name: t.summary.title })).toBeVisible();
      await noEnglish(page, "summary (no DICOMDIR)");
      await page.getByRole("button", { name: t.send.button }).click();
      await expect(page.getByRole("heading", { name: t.confirm.title })).toBeVisible({ timeout: 120_000 });
      await expect(page.getByText(t.confirm.allPresent.title, { exact: true })).toBeVisible();
      await expect(page.getByRole("button", { name: t.confirm.allPresent.end })).toBeEnabled();
      await noEnglish(page, "confirmation, all already on the PACS");
      // the files not imported, each with its reason in words (opened by the check above)
      const report = page.locator("details.media-report");
      await expect(report).toHaveAttribute("open", "");
      await expect(report.getByRole("listitem").filter({ hasText: "LEGGIMI.txt" })).toContainText(t.msg.not_dicom);
      await expect(report.getByRole("listitem").filter({ hasText: "VUOTO.dcm" })).toContainText(t.msg.empty);
      await expect(report.getByRole("listitem").filter({ hasText: "TRONCO.dcm" })).toContainText(t.msg.truncated);
      await shot(page, `lang-${code}-confirm-all-present`);

      await page.getByRole("button", { name: t.confirm.cancel, exact: true }).click();
      await expect(page.getByRole("heading", { name: t.cancelled.title })).toBeVisible();
      await noEnglish(page, "cancelled");
      await page.getByRole("link", { name: t.cancelled.again }).click();
      await expect(page.getByRole("region", { name: t.previous.title }).getByRole("cell", { name: t.status.cancelled, exact: true })).toBeVisible();
      await noEnglish(page, "previous imports (cancelled)");
    });

    test(`no English (${code}): links that cannot open an import, a session ended`, async ({ page }) => {
      const s = stack();
      const errors = t.launch.errors;
      await page.goto(`${s.base_url}/#token=${s.expired_token}`);
      await expect(page.getByRole("heading", { name: errors.token_expired.title })).toBeVisible();
      await expect(page.getByText(t.launch.relaunch)).toBeVisible();
      await noEnglish(page, "link expired");

      const used = await usedLaunch(`E2E-LP-USED-${code.toUpperCase()}`);
      await page.goto(used.url);
      await expect(page.getByRole("heading", { name: errors.token_used.title })).toBeVisible();
      await noEnglish(page, "link already used");

      await page.goto(`${s.base_url}/#token=not-a-real-token`);
      await expect(page.getByRole("heading", { name: errors.token_invalid.title })).toBeVisible();
      await noEnglish(page, "link not valid");

      // a session, then a link that cannot open: the session has ended
      const a = await launch(`E2E-LP-END-${code.toUpperCase()}`);
      await page.goto(a.url);
      await expect(page.getByRole("heading", { name: t.patient.title })).toBeVisible();
      await page.goto(`${s.base_url}/#token=not-a-real-token`);
      await expect(page.getByRole("heading", { name: errors.token_invalid.title })).toBeVisible();
      await page.goto(`${s.base_url}/#/import`);
      const ended = [errors.session_expired.title, errors.session_ended.title].map(escapeRegExp).join("|");
      await expect(page.getByRole("heading", { name: new RegExp(`^(${ended})$`) })).toBeVisible();
      await noEnglish(page, "session ended");

      const other = await page.context().newPage();
      await other.goto(`${s.base_url}/`);
      await expect(other.getByRole("heading", { name: errors.token_missing.title })).toBeVisible();
      await noEnglish(other, "not opened from the RIS");
      await other.close();
    });

    test(`no English (${code}): a transfer under way, interrupted, resumed and stopped`, async ({ page }) => {
      // small chunks, and every upload PATCH after the first held (never answered)
      await page.route("**/config.json", (route) => route.fulfill({ json: { uploadChunkMegabytes: CHUNK_MB } }));
      let passed = 0;
      await page.route("**/api/v1/uploads/**", async (route) => {
        if (route.request().method() !== "PATCH" || passed < 1) {
          if (route.request().method() === "PATCH") passed += 1;
          return route.continue();
        }
      });
      const medium = fresh("mismatch", rootOf(4));
      const { url } = await launch(`E2E-LP-STOP-${code.toUpperCase()}`);
      await page.goto(url);
      await page.getByLabel(t.folder.choose).setInputFiles(medium);
      await expect(page.getByRole("heading", { name: t.summary.title })).toBeVisible();
      await page.getByRole("button", { name: t.send.button }).click();
      await expect(page.getByText(t.send.transferring)).toBeVisible();
      await expect.poll(() => passed).toBe(1);
      await expect(page.getByRole("button", { name: t.send.stop, exact: true })).toBeVisible();
      await noEnglish(page, "transfer under way");

      // the window reloaded mid-transfer: the warning, and the unfinished row with its Cancel
      await page.reload();
      await expect(page.getByText(t.send.resumeNotice)).toBeVisible();
      const previous = page.getByRole("region", { name: t.previous.title });
      await expect(previous.getByText(t.send.rowInterrupted)).toBeVisible();
      await noEnglish(page, "transfer interrupted");
      await shot(page, `lang-${code}-transfer-interrupted`);

      // the same folder again: resumed, then stopped
      await page.getByLabel(t.folder.choose).setInputFiles(medium);
      await expect(page.getByRole("heading", { name: t.summary.title })).toBeVisible();
      await page.getByRole("button", { name: t.send.button }).click();
      await expect(page.getByText(t.send.resumed)).toBeVisible();
      await noEnglish(page, "transfer resumed");
      await page.getByRole("button", { name: t.send.stop, exact: true }).click();
      await expect(page.getByText(t.send.stopped)).toBeVisible();
      await noEnglish(page, "transfer stopped");
    });

    test(`no English (${code}): nothing to send — an empty folder, a folder of PDFs, a ZIP without DICOM`, async ({ page }) => {
      const empty = join(tempFolder(), "VUOTA");
      mkdirSync(empty);
      const pdfs = join(tempFolder(), "REFERTI");
      mkdirSync(pdfs);
      for (const name of ["referto.pdf", "lettera.pdf"]) writeFileSync(join(pdfs, name), `%PDF-1.4\n% ${name}\n%%EOF\n`);
      writeFileSync(join(pdfs, "viewer.exe"), Buffer.concat([Buffer.from("MZ"), Buffer.alloc(200)]));
      const zip = join(tempFolder(), "referti.zip");
      writeFileSync(zip, zipOf([{ name: "referto.pdf", data: readFileSync(join(pdfs, "referto.pdf")) }, { name: "autorun.inf", data: Buffer.from("[autorun]\n") }]));

      const { url } = await launch(`E2E-LP-NONE-${code.toUpperCase()}`);
      await page.goto(url);
      const send = page.getByRole("button", { name: t.send.button });
      await page.getByLabel(t.folder.choose).setInputFiles(empty);
      await expect(page.getByText(t.summary.empty)).toBeVisible();
      await expect(send).toBeDisabled();
      await noEnglish(page, "nothing to send (empty folder)");

      await page.getByLabel(t.folder.choose).setInputFiles(pdfs);
      await expect(page.getByText(catalogPattern(t.summary.foundNoDicom_other))).toBeVisible();
      await expect(send).toBeDisabled();
      await noEnglish(page, "nothing to send (folder of PDFs)");

      await page.getByRole("tab", { name: t.tabs.files }).click();
      await page.getByLabel(t.files.choose).setInputFiles(zip);
      await expect(page.getByText(catalogPattern(t.summary.foundNoDicom_other))).toBeVisible();
      await expect(page.getByText(t.summary.nothingToSend, { exact: true })).toBeVisible();
      await expect(send).toBeDisabled();
      await noEnglish(page, "nothing to send (ZIP without DICOM)");
    });
  });
}
