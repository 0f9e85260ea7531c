/**
 * Retry only where a retry can help (issue 14, point 6): an import that failed because of the
 * medium itself offers no Retry, and says what to do instead; one the PACS refused offers Retry,
 * which runs the failed step again. In English, Italian and French.
 */
import { expect, test, type Page } from "@playwright/test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import en from "../../frontend/src/i18n/en";
import type { Translation } from "../../frontend/src/i18n/en";
import fr from "../../frontend/src/i18n/fr";
import it from "../../frontend/src/i18n/it";
import { confirmUntilFailed, launch, refusedCopy, stack, tabToken } from "./helpers";

/** A "medium" that is no ZIP at all, sent as the app sends one (tus), analysed by the worker. */
async function failedMedium(token: string): Promise<string> {
  const api = `${stack().base_url}/api/v1`;
  const auth = { Authorization: `Bearer ${token}` };
  const body = new TextEncoder().encode("This is not a ZIP archive at all. ".repeat(10));
  const created = await fetch(`${api}/imports`, {
    method: "POST",
    headers: { ...auth, "Content-Type": "application/json" },
    body: JSON.stringify({ size: body.length, filename: "cd.zip" }),
  });
  expect(created.status).toBe(201);
  const { id, upload_url } = (await created.json()) as { id: string; upload_url: string };
  const patched = await fetch(new URL(upload_url, stack().base_url), {
    method: "PATCH",
    headers: {
      ...auth,
      "Tus-Resumable": "1.0.0",
      "Upload-Offset": "0",
      "Content-Type": "application/offset+octet-stream",
    },
    body,
  });
  expect(patched.status).toBe(204);
  await expect
    .poll(async () => {
      const read = await fetch(`${api}/imports/${id}`, { headers: auth });
      return ((await read.json()) as { status: string }).status;
    }, { timeout: 30_000 })
    .toBe("failed");
  return id;
}

const folders: string[] = [];
test.afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

/** The order's patient's TC TORACE, new UIDs under `root`, in images the PACS refuses. */
function refusedStudy(root: string): string {
  const out = mkdtempSync(join(tmpdir(), "e2e-retry-"));
  folders.push(out);
  return refusedCopy(stack().media.match!, root, out);
}

/** The import's log, opened from the monitoring page; `rows(action)`: its rows of that action. */
function importLog(page: Page, t: Translation) {
  const dialog = page.getByRole("dialog", { name: t.importLog.title });
  return {
    dialog,
    rows: (action: string) => dialog.getByRole("row").filter({ hasText: action }),
    open: async () => {
      await page.getByRole("button", { name: t.importLog.show }).click();
      await expect(dialog).toBeVisible();
    },
    close: async () => {
      await page.keyboard.press("Escape");
      await expect(dialog).toBeHidden();
    },
  };
}

const LANGUAGES = [
  { code: "en", locale: "en-GB", t: en, root: "1.2.826.0.1.3680043.8.483." },
  { code: "it", locale: "it-IT", t: it, root: "1.2.826.0.1.3680043.8.484." },
  { code: "fr", locale: "fr-FR", t: fr, root: "1.2.826.0.1.3680043.8.485." },
] as const;

for (const { code, locale, t, root } of LANGUAGES) {
  test.describe(locale, () => {
    test.use({ locale });

    test(`a damaged medium offers no Retry, and says what to do (${locale})`, async ({ page }) => {
      const { url } = await launch(`E2E-RETRY-${locale}`);
      await page.goto(url);
      await expect(page.getByRole("heading", { name: t.patient.title })).toBeVisible();
      await expect(page.getByRole("button", { name: t.monitor.retry })).toHaveCount(0);
      const id = await failedMedium(await tabToken(page));

      await page.goto(`${stack().base_url}/#/imports/${id}`);
      await expect(page.getByText(t.monitor.outcome.failed)).toBeVisible();
      await expect(page.getByText(t.msg.archive_invalid)).toBeVisible();
      await expect(page.getByText(t.monitor.loadAgain)).toBeVisible();
      await expect(page.getByRole("button", { name: t.monitor.retry })).toHaveCount(0);
    });

    test(`the PACS refused the study: Retry is offered, in words, and runs the failed step again (${locale})`, async ({ page }) => {
      test.setTimeout(300_000);
      const { url } = await launch(`E2E-RETRY-OK-${code.toUpperCase()}`);
      await page.goto(url);
      await confirmUntilFailed(page, t, refusedStudy(root));

      // not the medium's fault: Retry offered, with what it does; no "a retry cannot help"
      const retry = page.getByRole("button", { name: t.monitor.retry, exact: true });
      await expect(retry).toBeEnabled();
      await expect(page.getByText(t.monitor.retryHelp)).toBeVisible();
      await expect(page.getByText(t.monitor.loadAgain)).toHaveCount(0);
      const store = page.locator("tr[data-stage='store']");
      await expect(store).toContainText(t.stageStatus.failed);
      const log = importLog(page, t);
      await log.open();
      await expect(log.rows(t.auditAction.import.failed)).toHaveCount(1);
      await expect(log.rows(t.auditAction.import.retried)).toHaveCount(0);
      const storeFailures = log.rows(t.auditAction.stage.store).filter({ hasText: t.auditOutcome.failure });
      const triedBefore = await storeFailures.count();
      expect(triedBefore).toBeGreaterThan(0);
      await log.close();

      // Retry: the send to the PACS runs again (the PACS refuses these images again); the log,
      // read each time it is opened, says so
      await retry.click();
      await expect(async () => {
        await log.open();
        try {
          await expect(log.rows(t.auditAction.import.failed)).toHaveCount(2, { timeout: 5_000 });
        } finally {
          await log.close();
        }
      }).toPass({ timeout: 120_000 });
      await log.open();
      await expect(log.rows(t.auditAction.import.retried)).toHaveCount(1);
      expect(await storeFailures.count(), "the send to the PACS tried again").toBeGreaterThan(triedBefore);
      await log.close();
      await expect(page.getByText(t.monitor.outcome.failed)).toBeVisible();
      await expect(store).toContainText(t.stageStatus.failed);
      // and it may be tried again
      await expect(retry).toBeEnabled();
    });
  });
}
