/**
 * Monitoring speaks to a clerk (issue 14, point 10): each study's final state in words (imported,
 * not selected, or the step that failed and why), the steps this installation does not run folded
 * away, and the import's own log one click away (the Italian procedure's "Apri"
 * window), opened and closed with the keyboard, its actions in the clerk's language; in Italian
 * no English sentence on the page nor in the log.
 *
 * The medium: two CDs' images in one folder (no DICOMDIR at its root, so every file is read),
 * each a fresh copy with UIDs of its own: two studies, one left out at the confirmation.
 */
import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Locator, type Page } from "@playwright/test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import en from "../../frontend/src/i18n/en";
import type { Translation } from "../../frontend/src/i18n/en";
import fr from "../../frontend/src/i18n/fr";
import it from "../../frontend/src/i18n/it";
import { confirmUntilFailed, englishIn, englishSentences, escapeRegExp, freshCopy, launch, refusedCopy, shot, stack } from "./helpers";

/** The serious or critical WCAG 2.1 A/AA violations axe finds on the page as it is now. */
async function accessibilityViolations(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

const folders: string[] = [];
test.afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

/** One folder with two studies of the order's patient: TC TORACE and TC ADDOME, new UIDs each. */
function twoStudies(roots: readonly [string, string]): string {
  const out = mkdtempSync(join(tmpdir(), "e2e-monitor-"));
  folders.push(out);
  const media = stack().media;
  // a DICOMDIR in a sub-folder would describe one study only: the images alone are taken
  freshCopy(media.match!, roots[0], join(out, "CD1"), /DICOMDIR$/i);
  freshCopy(media.cancel!, roots[1], join(out, "CD2"), /DICOMDIR$/i);
  return out;
}

/** A study's "Final result" line on the monitoring page. */
function result(page: Page, t: Translation, study: RegExp): Locator {
  return page.getByRole("region", { name: study }).locator("p", { hasText: t.monitor.result });
}

/** "3 steps not needed here": the folded steps' line, whatever their number. */
function notNeeded(t: Translation): RegExp {
  const count = escapeRegExp("{{count}}");
  const texts = [t.monitor.notNeeded_one, t.monitor.notNeeded_other].map((s) => escapeRegExp(s).replace(count, "\\d+"));
  return new RegExp(`^(${texts.join("|")})$`);
}

const LANGUAGES = [
  {
    code: "en",
    locale: "en-GB",
    t: en,
    roots: ["1.2.826.0.1.3680043.8.471.", "1.2.826.0.1.3680043.8.472."],
    refused: "1.2.826.0.1.3680043.8.475.",
  },
  {
    code: "it",
    locale: "it-IT",
    t: it,
    roots: ["1.2.826.0.1.3680043.8.473.", "1.2.826.0.1.3680043.8.474."],
    refused: "1.2.826.0.1.3680043.8.481.",
  },
  {
    code: "fr",
    locale: "fr-FR",
    t: fr,
    roots: ["1.2.826.0.1.3680043.8.476.", "1.2.826.0.1.3680043.8.477."],
    refused: "1.2.826.0.1.3680043.8.482.",
  },
] as const;

for (const { code, locale, t, roots, refused } of LANGUAGES) {
  test.describe(`monitoring in ${code}`, () => {
    test.use({ locale });

    test(`each study's final state in words, and the import's log one click away (${code})`, async ({ page }) => {
      test.setTimeout(240_000);
      const { url } = await launch(`E2E-MONITOR-${code.toUpperCase()}`);
      await page.goto(url);
      await expect(page.getByRole("heading", { name: t.patient.title })).toBeVisible();
      await page.getByLabel(t.folder.choose).setInputFiles(twoStudies(roots));
      await expect(page.getByRole("heading", { name: t.summary.title })).toBeVisible();
      await page.getByRole("button", { name: t.send.button }).click();
      await expect(page.getByRole("heading", { name: t.confirm.title })).toBeVisible({ timeout: 120_000 });

      // two studies: TC ADDOME is left out
      await expect(page.getByRole("checkbox", { name: new RegExp(escapeRegExp(t.confirm.study.select)) })).toHaveCount(2);
      await page.getByRole("checkbox", { name: /TC ADDOME/ }).uncheck();
      await page.getByRole("button", { name: t.confirm.confirm }).click();
      await expect(page.getByRole("heading", { name: t.monitor.title })).toBeVisible();
      await expect(page.getByText(t.monitor.outcome.completed)).toBeVisible({ timeout: 120_000 });

      // each study's own end, in words: the one sent is imported, the other was not selected
      await expect(result(page, t, /^TC TORACE/)).toContainText(t.monitor.studyOutcome.done);
      const notSent = page.getByRole("region", { name: t.monitor.notSelected });
      await expect(notSent.getByRole("listitem").filter({ hasText: "TC ADDOME" })).toContainText(
        t.monitor.studyOutcome.not_selected,
      );
      await expect(notSent.getByRole("listitem").filter({ hasText: "TC TORACE" })).toHaveCount(0);
      // what this installation does not do (no callback, merge or commitment) is folded, not a row each
      const sent = page.getByRole("region", { name: /^TC TORACE/ });
      await expect(sent.getByRole("cell", { name: t.stageStatus.skipped })).toHaveCount(0);
      await expect(sent.getByText(notNeeded(t))).toBeVisible();
      await expect(sent.locator("tr[data-stage='store']")).toContainText(t.stageStatus.done);
      await shot(page, code === "en" ? "monitor-study-states" : `${code}-monitor-study-states`, true);

      // the import's log, opened with the keyboard
      const opener = page.getByRole("button", { name: t.importLog.show });
      await opener.focus();
      await page.keyboard.press("Enter");
      const dialog = page.getByRole("dialog", { name: t.importLog.title });
      await expect(dialog).toBeVisible();
      // the focus is in the dialog, on its Close button
      await expect(dialog.getByRole("button", { name: t.common.close })).toBeFocused();
      const rows = dialog.getByRole("row");
      // the actions in words, who did them, the details worded
      await expect(rows.filter({ hasText: t.auditAction.import.confirmed })).toHaveCount(1);
      await expect(rows.filter({ hasText: t.auditAction.import.confirmed })).toContainText("Giulia Bianchi");
      await expect(rows.filter({ hasText: t.auditAction.import.completed })).toHaveCount(1);
      await expect(rows.filter({ hasText: t.auditAction.upload.completed })).toHaveCount(1);
      // the study filed: its verification and its note, in words; the study named by its number
      const verify = rows.filter({ hasText: t.auditAction.stage.verify });
      await expect(verify.first()).toContainText(new RegExp(escapeRegExp(t.importLog.study).replace(escapeRegExp("{{number}}"), "[12]")));
      await expect(verify.first()).toContainText(t.stageStatus.done);
      // the application's own steps are named in the clerk's language
      await expect(verify.first()).toContainText(t.app.title);
      await shot(page, code === "en" ? "import-log" : `${code}-import-log`, true);
      if (code === "en") {
        expect(await accessibilityViolations(page), "the log's dialog is accessible").toEqual([]);
      } else {
        expect(await englishIn(dialog, englishSentences(t)), "English in the log").toEqual([]);
        expect(await englishIn(page.locator("main"), englishSentences(t)), "English on the monitoring page").toEqual([]);
      }
      // Escape closes it, and the focus is back on the button that opened it
      await page.keyboard.press("Escape");
      await expect(dialog).toBeHidden();
      await expect(opener).toBeFocused();
    });

    test(`a study the PACS refuses says, in words, the step that failed and why (${code})`, async ({ page }) => {
      test.setTimeout(240_000);
      const { url } = await launch(code === "en" ? "E2E-MON-REFUSED" : `E2E-MON-REF-${code.toUpperCase()}`);
      await page.goto(url);
      await confirmUntilFailed(page, t, refusedStudy(refused));
      const state = result(page, t, /^TC TORACE/);
      await expect(state).toContainText(t.monitor.studyOutcome.failed);
      // the PACS refuses the images, takes none of their kind, or breaks off the association it
      // cannot use: any, in words
      const refusals = [
        t.msg.store_failed_one,
        t.msg.store_failed_other,
        t.msg.sop_class_not_accepted_one,
        t.msg.sop_class_not_accepted_other,
        t.msg.pacs_aborted,
        t.msg.pacs_rejected,
        t.msg.pacs_failed,
      ];
      const why = new RegExp(refusals.map((m) => escapeRegExp(m).replace(escapeRegExp("{{count}}"), "\\d+")).join("|"));
      const because = t.monitor.failedAtBecause.replace("{{stage}}", t.stage.store).replace("{{reason}}", "");
      await expect(state).toContainText(because);
      await expect(state).toContainText(why);
      await shot(page, code === "en" ? "monitor-study-failed" : `${code}-monitor-study-failed`);
      if (code === "en") {
        expect(await accessibilityViolations(page), "a failed study's state is accessible").toEqual([]);
      } else {
        expect(await englishIn(page.locator("main"), englishSentences(t)), "English on the failed import's page").toEqual([]);
      }
      // the log says it too: the step's failure, marked as one, worded from its code
      await page.getByRole("button", { name: t.importLog.show }).click();
      const rows = page.getByRole("dialog", { name: t.importLog.title }).getByRole("row");
      const failure = rows.filter({ hasText: t.auditAction.stage.store }).filter({ hasText: t.auditOutcome.failure }).last();
      await expect(failure).toContainText(why);
      await expect(rows.filter({ hasText: t.auditAction.import.failed })).toContainText(t.auditOutcome.failure);
    });
  });
}

/** A study the PACS refuses (see `refusedCopy`): the order's patient, TC TORACE, new UIDs. */
function refusedStudy(root: string): string {
  const out = mkdtempSync(join(tmpdir(), "e2e-monitor-"));
  folders.push(out);
  return refusedCopy(stack().media.match!, root, out);
}
