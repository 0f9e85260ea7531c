/**
 * Undoing a wrong import (issue 16, point 2). A referent launched for an order imports a medium of
 * the order's patient (ROSSI MARIO) and confirms it; it completes. It was the right patient's
 * wrong order: the referent undoes it ("Right patient, wrong order"), the dialog waiting for the
 * reason; the PACS takes its images back (the stack's Orthanc deletes them) and the import goes to
 * the temporary zone, which says which order it came from and why, while the order's previous
 * imports say "Undone". From there the existing promote panel files it under the right order
 * (WL-E2E-0003, ROSSI MARIO of the worklist): completed (followed from a launch without an order:
 * the wrong order's session no longer sees it), the PACS holds the study again, under the new
 * accession number. In English, Italian and French; each language has a medium of its own.
 */
import { expect, test, type Page } from "@playwright/test";
import en from "../../frontend/src/i18n/en";
import fr from "../../frontend/src/i18n/fr";
import it from "../../frontend/src/i18n/it";
import {
  NOT_ENGLISH,
  ORDER_PATIENT,
  catalogPattern,
  englishTexts,
  expectAccessible,
  expectNoEnglish,
  fillText,
  launch,
  orthancStudy,
  shot,
  stack,
} from "./helpers";

const LANGUAGES = [
  { code: "en", locale: "en-GB", t: en, prefix: "", referent: "Elena Ricci" },
  { code: "it", locale: "it-IT", t: it, prefix: "it-", referent: "Marta Colombo" },
  { code: "fr", locale: "fr-FR", t: fr, prefix: "fr-", referent: "Lucie Bernard" },
] as const;

/** The worklist's order of ROSSI MARIO (HOSP-0042) the medium belongs to. */
const RIGHT_ORDER = "WL-E2E-0003";


for (const { code, locale, t, prefix, referent } of LANGUAGES) {
  test.describe(`undo a wrong import (${code})`, () => {
    test.use({ locale });

    test(`a referent undoes an import filed under the wrong order and promotes it to the right one (${code})`, async ({ page }) => {
      test.setTimeout(300_000);
      const wrongOrder = `E2E-UNDO-${code.toUpperCase()}`;
      // in Italian and French, no English text of the catalog on the undo's screens
      const texts = code === "en" ? [] : englishTexts(t);
      const noEnglish = (screen: string) => (code === "en" ? Promise.resolve() : expectNoEnglish(page, texts, NOT_ENGLISH[code], screen));
      const user = { id: `ref-undo-${code}`, name: referent, department: "Radiologia" };
      await page.goto((await launch(wrongOrder, ORDER_PATIENT, ["clinician", "temporary_zone"], user)).url);
      await expect(page.locator("html")).toHaveAttribute("lang", code);

      // imported and confirmed for the order it was launched with
      await page.getByLabel(t.folder.choose).setInputFiles(stack().media[`undo_${code}`]!);
      await page.getByRole("button", { name: t.send.button }).click();
      await expect(page.getByRole("heading", { name: t.confirm.title })).toBeVisible({ timeout: 120_000 });
      await page.getByRole("button", { name: t.confirm.confirm }).click();
      await expect(page.getByRole("heading", { name: t.monitor.title })).toBeVisible();
      await expect(page.getByText(t.monitor.outcome.completed)).toBeVisible({ timeout: 120_000 });
      const details = page.url();
      const supportId = (await page.locator(".support-id").textContent())!.trim();
      const uid = (await page.locator(".card .uid").first().textContent())!.trim();
      await expect.poll(async () => (await orthancStudy(uid))?.accession).toBe(wrongOrder);

      // the offer: a plain secondary button, until when
      const undo = page.getByRole("button", { name: t.undo.action });
      await expect(undo).toHaveClass(/button-secondary/);
      await expect(page.getByText(catalogPattern(t.undo.offer))).toBeVisible();

      // its dialog: labelled, closed by Escape (the focus back on the button)
      await undo.click();
      const dialog = page.getByRole("dialog", { name: t.undo.title });
      await expect(dialog).toBeVisible();
      await page.keyboard.press("Escape");
      await expect(dialog).toBeHidden();
      await expect(undo).toBeFocused();

      // no reason chosen before the referent chooses one: Confirm waits for it
      await undo.click();
      await expect(dialog).toBeVisible();
      const confirm = dialog.getByRole("button", { name: t.undo.confirm });
      const why = dialog.getByRole("radio", { name: t.undo.reason.wrong_worklist_entry });
      await expect(dialog.getByRole("radio", { name: t.undo.reason.patient_safety })).not.toBeChecked();
      await expect(why).not.toBeChecked();
      await expect(confirm).toBeDisabled();
      await expect(dialog).toContainText(catalogPattern(t.undo.body));
      await why.check();
      await expect(confirm).toBeEnabled();
      await shot(page, `${prefix}undo-dialog`, true);
      await noEnglish("undo dialog");
      await expectAccessible(page, "undo dialog");
      await confirm.click();
      await expect(dialog).toBeHidden();

      // done: taken back from the PACS, in the temporary zone
      const done = page.locator(".undo-state[data-state=done]");
      await expect(done).toBeVisible({ timeout: 120_000 });
      await expect(done).toContainText(fillText(t.undo.fromOrder, { accession: wrongOrder, reason: t.undo.reason.wrong_worklist_entry }));
      await expect(done).toContainText(catalogPattern(t.undo.done_other));
      await expect(done).toContainText(referent);
      await expect(page.locator(".monitor-head")).toContainText(t.undo.undone);
      await expect(undo).toHaveCount(0);
      await shot(page, `${prefix}undo-done`, true);
      await noEnglish("undo done");
      await expectAccessible(page, "undo done");
      // the PACS holds none of its images any more
      await expect.poll(() => orthancStudy(uid)).toBeNull();

      // the order's previous imports say it is undone
      await page.getByRole("link", { name: t.monitor.backToOrder }).click();
      const previous = page.getByRole("region", { name: t.previous.title });
      await expect(previous).toContainText(t.undo.undone, { timeout: 30_000 });
      await expect(previous).toContainText(fillText(t.undo.listHint, { reason: t.undo.reason.wrong_worklist_entry }));

      // the temporary zone: where it came from and why
      await page.goto(details);
      await done.getByRole("link", { name: t.undo.openTemporary }).click();
      await expect(page.getByRole("heading", { name: t.temporary.title, level: 1 })).toBeVisible();
      const card = page.getByRole("article").filter({ hasText: supportId });
      await expect(card).toContainText(fillText(t.undo.fromOrder, { accession: wrongOrder, reason: t.undo.reason.wrong_worklist_entry }));
      await expect(card).toContainText("TC TORACE");
      await shot(page, `${prefix}undo-temporary`, true);
      await noEnglish("temporary zone, an undone import");
      await expectAccessible(page, "temporary zone, an undone import");

      // promoted to the right order through the existing panel
      await card.getByRole("button", { name: t.temporary.promote }).click();
      await card.getByLabel(t.terms.accession).fill(RIGHT_ORDER);
      await card.getByRole("button", { name: t.worklist.search }).click();
      await card.locator(".candidate").filter({ hasText: RIGHT_ORDER }).getByRole("radio").check({ timeout: 60_000 });
      await expect(card.getByRole("heading", { name: fillText(t.temporary.checkTitle, { accession: RIGHT_ORDER }) })).toBeVisible();
      await expect(card.getByText(t.confirm.overall.match).first()).toBeVisible({ timeout: 60_000 });
      await card.getByRole("button", { name: fillText(t.temporary.promoteTo, { accession: RIGHT_ORDER }) }).click();
      await expect(page.getByText(fillText(t.temporary.promoted, { supportId }))).toBeVisible();
      await expect(card).toHaveCount(0);

      // filed under the right order: completed, the PACS holds it under the new accession number.
      // This session, launched for the wrong order, sees that order's imports and the temporary
      // zone only: the referent opens the tool again from the RIS without an order (their own
      // imports) to follow it.
      await page.goto((await launch(null, undefined, ["clinician", "temporary_zone"], user)).url);
      await expect(page.getByRole("heading", { name: t.worklist.importTitle })).toBeVisible();
      await page.goto(details);
      await expect(page.getByText(t.monitor.outcome.completed)).toBeVisible({ timeout: 120_000 });
      await expect(page.getByText(fillText(t.monitor.order, { accession: RIGHT_ORDER }))).toBeVisible();
      await expect(page.locator(".undo-state")).toHaveCount(0);
      await expect.poll(async () => (await orthancStudy(uid))?.accession).toBe(RIGHT_ORDER);
    });
  });
}
