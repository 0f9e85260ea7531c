/**
 * Remembered outside identities (issue 16, point 1). A medium of an outside patient is filed
 * under the order's patient (ROSSI MARIO, HOSP-0042). The next medium of the same outside
 * patient comes for another patient of the hospital with the same name and birth date (a
 * namesake, HOSP-0777): the names match, but the confirmation says it was filed before under
 * another patient, the comparison does not match, and the tick is required. A referent then
 * finds the link in the remembered identities and removes it. In English, Italian and French.
 */
import { expect, test, type Page } from "@playwright/test";
import en from "../../frontend/src/i18n/en";
import type { Translation } from "../../frontend/src/i18n/en";
import fr from "../../frontend/src/i18n/fr";
import it from "../../frontend/src/i18n/it";
import { ORDER_PATIENT, catalogPattern, launch, shot, stack } from "./helpers";

const LANGUAGES = [
  { code: "en", locale: "en-GB", t: en, prefix: "" },
  { code: "it", locale: "it-IT", t: it, prefix: "it-" },
  { code: "fr", locale: "fr-FR", t: fr, prefix: "fr-" },
] as const;

const NAMESAKE = { ...ORDER_PATIENT, id: "HOSP-0777" };

async function toConfirmation(page: Page, t: Translation, folder: string): Promise<void> {
  await page.getByLabel(t.folder.choose).setInputFiles(folder);
  await page.getByRole("button", { name: t.send.button }).click();
  await expect(page.getByRole("heading", { name: t.confirm.title })).toBeVisible({ timeout: 120_000 });
}

for (const { code, locale, t, prefix } of LANGUAGES) {
  test.describe(locale, () => {
    test.use({ locale });

    test(`a medium filed before under another patient is a mismatch, and a referent removes the link (${locale})`, async ({ page }) => {
      test.setTimeout(300_000);
      const tag = code.toUpperCase();
      // the first medium of the outside patient, filed under the order's patient
      await page.goto((await launch(`E2E-REM-${tag}-1`)).url);
      await toConfirmation(page, t, stack().media[`remembered_first_${code}`]!);
      await expect(page.getByText(t.confirm.overall.match).first()).toBeVisible();
      await page.getByRole("button", { name: t.confirm.confirm }).click();
      await expect(page.getByText(t.monitor.outcome.completed)).toBeVisible({ timeout: 120_000 });

      // the same outside patient, for a namesake of the hospital: the names match, yet
      await page.goto((await launch(`E2E-REM-${tag}-2`, NAMESAKE)).url);
      await toConfirmation(page, t, stack().media[`remembered_second_${code}`]!);
      await expect(page.getByText(t.confirm.overall.mismatch).first()).toBeVisible();
      await expect(page.locator("li[data-reason=FILED_BEFORE_UNDER_ANOTHER_PATIENT]")).toContainText(
        t.identity.reason.FILED_BEFORE_UNDER_ANOTHER_PATIENT,
      );
      await expect(page.getByText(catalogPattern(t.confirm.filedBefore.other)).first()).toContainText("HOSP-0042");
      const confirm = page.getByRole("button", { name: t.confirm.confirm });
      await expect(confirm).toBeDisabled();
      await expect(page.getByLabel(t.confirm.acknowledge)).toBeVisible();
      await shot(page, `${prefix}confirm-filed-before`, true);
      await page.getByRole("button", { name: t.confirm.cancel }).click();
      await expect(page.getByRole("heading", { name: t.cancelled.title })).toBeVisible();

      // a referent finds the link, and removes it
      const referent = await launch(null, undefined, ["clinician", "temporary_zone"], {
        id: `ref-${code}`,
        name: "Anna Verdi",
        department: "Radiologia",
      });
      await page.goto(referent.url);
      await page.getByRole("navigation", { name: t.nav.label }).getByRole("link", { name: t.nav.identities }).click();
      await expect(page.getByRole("heading", { name: t.identities.title })).toBeVisible();
      await page.getByLabel(t.identities.searchLabel).fill(`EXT-REM-${code}`);
      await page.keyboard.press("Enter");
      const row = page.getByRole("row").filter({ hasText: `EXT-REM-${code}` });
      await expect(row).toHaveCount(1);
      await expect(row).toContainText("HOSP-0042");
      await shot(page, `${prefix}identities`, true);
      await row.getByRole("button", { name: catalogPattern(t.identities.removeLabel) }).click();
      const dialog = page.getByRole("dialog", { name: t.identities.removeTitle });
      await expect(dialog).toBeVisible();
      await dialog.getByRole("button", { name: t.identities.removeConfirm }).click();
      await expect(page.getByRole("row").filter({ hasText: `EXT-REM-${code}` })).toHaveCount(0);
    });
  });
}
