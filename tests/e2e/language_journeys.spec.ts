/**
 * No English sentence on an Italian or French screen (issue 14, point 1): the whole journey in
 * each language — launch, folder, summary, a mismatch confirmed, monitoring to the end, a damaged
 * ZIP and an unsafe one through the Files tab (the server's error worded by the app), previous
 * imports, the failed import's page, the audit trail — and on every screen no text of the English
 * catalog that Italian or French words otherwise appears: not a sentence, not a short label
 * ("Cancel", "Retry", as whole words), not in the tab title nor in what a screen reader says.
 * The other screens: language_screens_journeys.spec.ts.
 */
import { expect, test, type Page } from "@playwright/test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fr from "../../frontend/src/i18n/fr";
import it from "../../frontend/src/i18n/it";
import {
  NOT_ENGLISH,
  catalogPattern,
  englishTexts,
  expectNoEnglish,
  filesIn,
  freshCopy,
  launch,
  shot,
  stack,
  zipOf,
  type CatalogSentence,
} from "./helpers";

/**
 * A copy of a medium whose UIDs are new (the root of pydicom's generated UIDs changed, same
 * length, everywhere: images and DICOMDIR), so that it is not already on the PACS.
 */
const copies: string[] = [];
test.afterAll(() => {
  for (const folder of copies) rmSync(folder, { recursive: true, force: true });
});

function freshFolder(folder: string, root: string): string {
  const out = mkdtempSync(join(tmpdir(), "e2e-lang-"));
  copies.push(out);
  return freshCopy(folder, root, out);
}

const LANGUAGES = [
  { code: "it", locale: "it-IT", t: it, roots: ["1.2.826.0.1.3680043.8.497.", "1.2.826.0.1.3680043.8.495."] },
  { code: "fr", locale: "fr-FR", t: fr, roots: ["1.2.826.0.1.3680043.8.496.", "1.2.826.0.1.3680043.8.494."] },
] as const;

for (const { code, locale, t, roots } of LANGUAGES) {
  test.describe(`no English in ${code}`, () => {
    test.use({ locale });
    const texts: CatalogSentence[] = englishTexts(t);
    const noEnglish = (page: Page, screen: string) => expectNoEnglish(page, texts, NOT_ENGLISH[code], screen);

    test(`no English on any screen (${code}): folder, mismatch confirmed, monitoring, a damaged and an unsafe ZIP, previous imports`, async ({ page }) => {
      test.setTimeout(360_000);
      const { url } = await launch(`E2E-LANG-${code.toUpperCase()}`);
      await page.goto(url);
      await expect(page.getByRole("heading", { name: t.patient.title })).toBeVisible();
      await expect(page.locator("html")).toHaveAttribute("lang", code);
      await noEnglish(page, "import");

      // a folder whose patient does not match the order's
      await page.getByLabel(t.folder.choose).setInputFiles(freshFolder(stack().media.mismatch!, roots[0]));
      await expect(page.getByRole("heading", { name: t.summary.title })).toBeVisible();
      await noEnglish(page, "summary");
      await page.getByRole("button", { name: t.send.button }).click();
      await expect(page.getByRole("heading", { name: t.confirm.title })).toBeVisible({ timeout: 120_000 });
      await expect(page.getByText(t.confirm.overall.mismatch).first()).toBeVisible();
      await noEnglish(page, "confirmation");
      await page.getByLabel(t.confirm.acknowledge).check();
      await page.getByRole("button", { name: t.confirm.confirm }).click();
      await expect(page.getByRole("heading", { name: t.monitor.title })).toBeVisible();
      await noEnglish(page, "monitoring (running)");
      await expect(page.getByText(t.monitor.outcome.completed)).toBeVisible({ timeout: 120_000 });
      await expect(page.locator("tr[data-stage='finish']")).toContainText(t.stageStatus.done);
      // each step's note worded from its code ("4 images verified." in the clerk's language)
      await expect(page.locator("tr[data-stage='verify']")).toContainText(catalogPattern(t.msg.instances_verified_other));
      await expect(page.locator("tr[data-stage='finish']")).toContainText(t.msg.study_imported);
      await noEnglish(page, "monitoring (completed)");
      await shot(page, `lang-${code}-monitor-completed`);

      // back on the order: a ZIP that is no ZIP at all, refused by the browser in the clerk's words
      await page.getByRole("link", { name: t.monitor.backToOrder }).click();
      await expect(page.getByRole("region", { name: t.previous.title })).toBeVisible();
      await noEnglish(page, "previous imports");
      await page.getByRole("tab", { name: t.tabs.files }).click();
      await page.getByLabel(t.files.choose).setInputFiles({
        name: "cd.zip",
        mimeType: "application/zip",
        buffer: Buffer.from("This is not a ZIP archive at all. ".repeat(20)),
      });
      await expect(page.getByText(t.summary.nothingToSend).first()).toBeVisible();
      await noEnglish(page, "damaged ZIP");

      // a ZIP the browser reads but the server refuses (a symbolic link in it): the server's error, worded
      const image = filesIn(freshFolder(stack().media.mismatch!, roots[1])).find((f) => !/DICOMDIR$/i.test(f))!;
      await page.getByLabel(t.files.choose).setInputFiles({
        name: "cd.zip",
        mimeType: "application/zip",
        buffer: zipOf([
          { name: "IMG0001.dcm", data: readFileSync(image) },
          { name: "AUTORUN.LNK", data: Buffer.from("/etc/passwd"), link: true },
        ]),
      });
      await page.getByRole("button", { name: t.send.button }).click();
      await expect(page.getByText(t.send.failedTitle)).toBeVisible({ timeout: 120_000 });
      await expect(page.getByText(t.msg.archive_unsafe)).toBeVisible();
      await noEnglish(page, "failed import");
      await shot(page, `lang-${code}-failed`);

      // the failed import in the previous imports, and its own page
      await page.reload();
      const previous = page.getByRole("region", { name: t.previous.title });
      await expect(previous.getByText(t.msg.archive_unsafe)).toBeVisible();
      await noEnglish(page, "previous imports (failed)");
      const link = previous.locator("tr", { hasText: t.msg.archive_unsafe }).getByRole("link");
      const href = (await link.getAttribute("href"))!;
      await page.goto(`${stack().base_url}/${href}`);
      await expect(page.getByRole("heading", { name: t.monitor.title })).toBeVisible();
      await expect(page.getByText(t.msg.archive_unsafe)).toBeVisible();
      await noEnglish(page, "failed import's page");
    });

    test(`no English on the audit trail (${code})`, async ({ page }) => {
      const { url } = await launch(null, undefined, ["auditor"], { id: `dpo-${code}`, name: "Anna Verdi", department: "DPO" });
      await page.goto(url);
      await page.getByRole("navigation", { name: t.nav.label }).getByRole("link", { name: t.nav.audit }).click();
      await expect(page.getByRole("heading", { name: t.audit.title })).toBeVisible();
      const rows = page.locator("table.data-table tbody tr");
      await expect(rows.first()).toBeVisible();
      // the actions in words, the code kept for the curious
      await expect(rows.locator("td[data-action='session.opened']").first()).toHaveText(t.auditAction.session.opened);
      await noEnglish(page, "audit trail");
      await page.getByLabel(t.audit.action, { exact: true }).selectOption("session.opened");
      await page.getByRole("button", { name: t.audit.apply }).click();
      await expect(rows.first().locator("td[data-action]")).toHaveText(t.auditAction.session.opened);
      await noEnglish(page, "audit trail (filtered)");
      await shot(page, `lang-${code}-audit`);
    });
  });
}
