/**
 * Known before confirming (issue 17): the journeys' PACS takes no JPEG 2000 (stack.py's
 * E2E_ACCEPTED_SYNTAXES). A medium's study holds four uncompressed images, a JPEG 2000 image the
 * PACS takes only decoded, and one cut short that no decoder reads. Before anything is sent, the
 * confirmation says one image will be converted and names the one that cannot be sent; the clerk
 * may still confirm: the five others reach the PACS, the study is not completed, and the progress
 * page names the file that was not sent. In English, Italian and French.
 */
import { expect, test } from "@playwright/test";
import en from "../../frontend/src/i18n/en";
import fr from "../../frontend/src/i18n/fr";
import it from "../../frontend/src/i18n/it";
import { fillText, launch, shot, stack } from "./helpers";

const LANGUAGES = [
  { code: "en", locale: "en-GB", t: en, prefix: "" },
  { code: "it", locale: "it-IT", t: it, prefix: "it-" },
  { code: "fr", locale: "fr-FR", t: fr, prefix: "fr-" },
] as const;

/** The instances the PACS holds under an accession number (the order's, written by the import). */
async function onPacs(accession: string): Promise<number> {
  const response = await fetch(`${stack().orthanc_url}/tools/find`, {
    method: "POST",
    body: JSON.stringify({ Level: "Instance", Query: { AccessionNumber: accession } }),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as string[]).length;
}

for (const { code, locale, t, prefix } of LANGUAGES) {
  test.describe(locale, () => {
    test.use({ locale });

    test(`the PACS's reach is known before confirming, and what was not sent is named after (${locale})`, async ({ page }) => {
      test.setTimeout(300_000);
      const accession = `E2E-REACH-${code.toUpperCase()}`;
      const { url } = await launch(accession);
      await page.goto(url);
      await page.getByLabel(t.folder.choose).setInputFiles(stack().media[`pacs_reach_${code}`]!);
      await page.getByRole("button", { name: t.send.button }).click();
      await expect(page.getByRole("heading", { name: t.confirm.title })).toBeVisible({ timeout: 120_000 });

      // before anything is sent: one image to convert, one that cannot be sent, named
      const study = page.locator("article").filter({ hasText: "TC BACINO" });
      await expect(study.getByText(fillText(t.confirm.study.toConvert_one, { count: 1 }))).toBeVisible();
      await expect(study.getByText(fillText(t.confirm.study.unsent.title_one, { count: 1 }))).toBeVisible();
      const named = study.getByRole("listitem").filter({ hasText: "IMG0006.dcm" });
      await expect(named).toContainText(fillText(t.confirm.study.unsent.cannotConvert, { path: "", syntax: "JPEG 2000" }).trim());
      await expect(study.getByText(t.confirm.study.unsent.body_one)).toBeVisible();
      await expect(study.getByRole("listitem").filter({ hasText: "IMG0005.dcm" })).toHaveCount(0);
      await shot(page, `${prefix}confirm-pacs-reach`, true);

      // a warning, not a refusal: the clerk confirms, the others are sent
      await page.getByRole("button", { name: t.confirm.confirm }).click();
      await expect(page.getByRole("heading", { name: t.monitor.title })).toBeVisible();
      await expect(page.getByText(t.monitor.outcome.failed)).toBeVisible({ timeout: 120_000 });
      await expect(page.getByText(fillText(t.msg.cannot_convert_one, { count: 1, syntax: "JPEG 2000" })).first()).toBeVisible();
      await expect(page.getByText(t.confirm.study.unsent.sent_one)).toBeVisible();
      await expect(page.getByRole("listitem").filter({ hasText: "IMG0006.dcm" })).toContainText("JPEG 2000");
      await expect(page.getByRole("button", { name: t.monitor.retry, exact: true })).toBeEnabled();
      expect(await onPacs(accession), "the four uncompressed images and the decoded one").toBe(5);
      await shot(page, `${prefix}monitor-not-sent`, true);
    });
  });
}
