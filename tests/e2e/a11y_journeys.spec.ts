/**
 * An automated accessibility audit (axe-core) of every screen of the clerk's day, in Italian,
 * French and English: no serious or critical violation of WCAG 2.1 A/AA anywhere. Each screen is
 * reached as a user reaches it; the language is switched on the screen itself, as a user would.
 */
import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Page } from "@playwright/test";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import en from "../../frontend/src/i18n/en";
import type { Translation } from "../../frontend/src/i18n/en";
import fr from "../../frontend/src/i18n/fr";
import it from "../../frontend/src/i18n/it";
import { fillText, filesIn, freshCopy, launch, stack } from "./helpers";

const LANGUAGES = ["it", "fr", "en"] as const;
const TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

interface Finding {
  screen: string;
  language: string;
  rule: string;
  impact: string;
  targets: string[];
}

/** The language switch of the header, whatever language it is labelled in. */
function languageSwitch(page: Page) {
  return page.locator("select:has(option[value='fr']):has(option[value='it'])").first();
}

/** The serious and critical violations axe finds on the page as it is now. */
async function analyze(page: Page, screen: string, language: string, findings: Finding[]): Promise<void> {
  const result = await new AxeBuilder({ page }).withTags(TAGS).analyze();
  expect(result.passes.length, `${screen}: axe ran its rules`).toBeGreaterThan(10);
  audited.push(`${screen}/${language}`);
  for (const v of result.violations) {
    if (v.impact !== "serious" && v.impact !== "critical") continue;
    findings.push({
      screen,
      language,
      rule: v.id,
      impact: v.impact,
      targets: v.nodes.slice(0, 5).map((n) => n.target.join(" ")),
    });
  }
}

/** Audits the screen in each language; returns to English for the journey's next step. */
async function audit(page: Page, screen: string, findings: Finding[]): Promise<void> {
  const select = languageSwitch(page);
  const switchable = (await select.count()) > 0;
  for (const language of switchable ? LANGUAGES : (["en"] as const)) {
    if (switchable) {
      await select.selectOption(language);
      await expect(page.locator("html")).toHaveAttribute("lang", language);
    }
    await analyze(page, screen, language, findings);
  }
  if (switchable) await select.selectOption("en");
}

const CATALOGS: Record<(typeof LANGUAGES)[number], Translation> = { it, fr, en };

/**
 * Audits a modal dialog, open, in each language: the page behind it is inert, so the language is
 * switched with the dialog closed, then `open` (given the language's catalog) opens it again;
 * Escape closes it. Returns to English.
 */
async function auditDialog(page: Page, screen: string, findings: Finding[], open: (t: Translation) => Promise<void>): Promise<void> {
  const select = languageSwitch(page);
  const dialog = page.locator("dialog[open]");
  for (const language of LANGUAGES) {
    await select.selectOption(language);
    await expect(page.locator("html")).toHaveAttribute("lang", language);
    await open(CATALOGS[language]);
    await expect(dialog).toBeVisible();
    await analyze(page, screen, language, findings);
    await page.keyboard.press("Escape");
    await expect(dialog).toHaveCount(0);
  }
  await select.selectOption("en");
}

/** Every screen audited, in every language where the screen offers the switch. */
const audited: string[] = [];

function expectNone(findings: Finding[]) {
  expect(findings, JSON.stringify(findings, null, 2)).toEqual([]);
}

async function sendAndWaitForConfirmation(page: Page) {
  await page.getByRole("button", { name: "Compress and send" }).click();
  await expect(page.getByRole("heading", { name: "Confirm the import of the studies" })).toBeVisible({
    timeout: 120_000,
  });
}

test("accessibility: import, summary, a mismatch to confirm, cancelled", async ({ page }) => {
  const findings: Finding[] = [];
  const { url } = await launch("E2E-A11Y-MIS");
  await page.goto(url);
  await expect(page.getByRole("heading", { name: "Patient of the order (RIS)" })).toBeVisible();
  await audit(page, "import (folder tab)", findings);
  await page.getByRole("tab", { name: "Files" }).click();
  await audit(page, "import (files tab)", findings);
  await page.getByRole("tab", { name: "CD or folder" }).click();

  await page.getByLabel("Select folder").setInputFiles(stack().media.a11y_mismatch!);
  await expect(page.getByRole("heading", { name: "What will be sent" })).toBeVisible();
  await audit(page, "summary", findings);

  await sendAndWaitForConfirmation(page);
  await expect(page.getByText(/PATIENT DOES NOT MATCH/).first()).toBeVisible();
  await audit(page, "confirm (mismatch)", findings);
  await page.getByLabel("I have verified that this is the same patient").check();
  await audit(page, "confirm (mismatch, ticked)", findings);

  await page.getByRole("button", { name: "Cancel import" }).click();
  await expect(page.getByRole("heading", { name: "Import cancelled" })).toBeVisible();
  await audit(page, "cancelled", findings);
  expect(audited).toContain("confirm (mismatch)/it");
  expect(audited).toContain("confirm (mismatch)/fr");
  expectNone(findings);
});

test("accessibility: a different format confirmed, monitoring, previous imports", async ({ page }) => {
  const findings: Finding[] = [];
  const { url } = await launch("E2E-A11Y-MATCH");
  await page.goto(url);
  await page.getByRole("tab", { name: "Files" }).click();
  await page.getByLabel("Choose files").setInputFiles(filesIn(stack().media.a11y_format!));
  await expect(page.getByRole("heading", { name: "What will be sent" })).toBeVisible();
  await sendAndWaitForConfirmation(page);
  await audit(page, "confirm (different format)", findings);

  await page.getByRole("button", { name: "Confirm import" }).click();
  await expect(page.getByRole("heading", { name: "Import progress" })).toBeVisible();
  await expect(page.getByText("Completed: every selected study is in the PACS.")).toBeVisible({ timeout: 120_000 });
  await audit(page, "monitoring (completed)", findings);

  const again = await launch("E2E-A11Y-MATCH");
  await page.goto(again.url);
  await expect(page.getByRole("region", { name: "Previous imports (with log)" }).getByText("Completed")).toBeVisible();
  await audit(page, "import (with previous imports)", findings);
  expectNone(findings);
});

test("accessibility: worklist mode, the temporary zone, the audit trail, a link that cannot open", async ({ page }) => {
  const findings: Finding[] = [];
  const referent = { id: "ref01", name: "Marco Neri", department: "Radiologia" };
  const { url } = await launch(null, undefined, ["clinician", "temporary_zone"], referent);
  await page.goto(url);
  await expect(page.getByRole("group", { name: "Where do the studies go?" })).toBeVisible();
  await audit(page, "import without an order", findings);
  await page.getByLabel("Select folder").setInputFiles(stack().media.a11y_worklist!);
  await expect(page.getByRole("heading", { name: "What will be sent" })).toBeVisible();
  await page.getByRole("button", { name: "Compress and send" }).click();
  await expect(page.getByRole("heading", { name: "Find the order of each study in the worklist" })).toBeVisible({
    timeout: 120_000,
  });
  await expect(page.getByText("1 order found")).toBeVisible({ timeout: 60_000 });
  await audit(page, "worklist search", findings);

  await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Temporary zone" }).click();
  await expect(page.getByRole("heading", { name: "Temporary zone", level: 1 })).toBeVisible();
  await audit(page, "temporary zone", findings);

  const auditor = await launch(null, undefined, ["auditor"], { id: "dpo02", name: "Anna Verdi", department: "DPO" });
  await page.goto(auditor.url);
  await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Audit trail" }).click();
  await expect(page.getByText("Audit chain intact")).toBeVisible();
  await audit(page, "audit trail", findings);

  const s = stack();
  await page.goto(`${s.base_url}/#token=${s.expired_token}`);
  await expect(page.getByRole("heading", { name: "This link has expired" })).toBeVisible();
  await audit(page, "link expired", findings);
  expectNone(findings);
});

const folders: string[] = [];
test.afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

/** A copy of a stack medium with new UIDs under `root` (same length as pydicom's root). */
function fresh(medium: string, root: string, skip?: RegExp): string {
  const out = mkdtempSync(join(tmpdir(), "e2e-a11y-"));
  folders.push(out);
  return freshCopy(stack().media[medium]!, root, out, skip);
}

test("accessibility: worklist identity checks and nothing found, the temporary zone's viewer, promote panel and purge dialog, the import log", async ({ page }) => {
  test.setTimeout(360_000);
  const findings: Finding[] = [];
  const referent = { id: "ref-a11y", name: "Rita Mori", department: "Radiologia" };
  const { url } = await launch(null, undefined, ["clinician", "temporary_zone"], referent);
  await page.goto(url);
  await page.getByLabel("Select folder").setInputFiles(fresh("temporary", "1.2.826.0.1.3680043.8.451."));
  await page.getByRole("button", { name: "Compress and send" }).click();
  await expect(page.getByRole("heading", { name: "Find the order of each study in the worklist" })).toBeVisible({ timeout: 120_000 });
  const study = page.getByRole("article", { name: "RM ENCEFALO" });
  await study.locator(".candidate").filter({ hasText: "WL-E2E-0004" }).getByRole("radio").check({ timeout: 60_000 });
  await page.getByRole("button", { name: "Continue to the identity checks" }).click();
  await expect(page.getByRole("heading", { name: "Check the identities" })).toBeVisible();
  await expect(page.getByText("Order WL-E2E-0004").first()).toBeVisible();
  await audit(page, "worklist identity checks", findings);

  await page.getByRole("button", { name: "Change the orders" }).click();
  for (const label of ["Family name", "Given name", "Birth date", "Scheduled date"]) await study.getByLabel(label, { exact: true }).fill("");
  await study.getByLabel("Accession number", { exact: true }).fill("NOPE-0404");
  await study.getByRole("button", { name: "Search the worklist" }).click();
  await expect(study.getByText("No order found", { exact: true })).toBeVisible({ timeout: 60_000 });
  await audit(page, "worklist nothing found", findings);

  await study.getByRole("button", { name: "Send to the temporary zone" }).click();
  await expect(page.getByRole("heading", { name: "Keep the studies in the temporary zone" })).toBeVisible();
  await audit(page, "keep in the temporary zone", findings);
  await page.getByRole("button", { name: "Keep in the temporary zone" }).click();
  await expect(page.getByText("Completed: the studies are kept in the temporary zone for review.")).toBeVisible({ timeout: 120_000 });
  await auditDialog(page, "import log", findings, async (t) => {
    await page.getByRole("button", { name: t.importLog.show }).click();
    await expect(page.getByRole("dialog", { name: t.importLog.title }).getByRole("table")).toBeVisible();
  });

  await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Temporary zone" }).click();
  await expect(page.getByRole("heading", { name: "Temporary zone", level: 1 })).toBeVisible();
  const card = page.getByRole("article", { name: /Bianchi Lucia/i }).filter({ hasText: referent.name });
  await expect(card).toContainText("RM ENCEFALO");
  await auditDialog(page, "temporary zone viewer", findings, async (t) => {
    const label = fillText(t.confirm.study.seriesLabel, { number: 1, description: "AXIAL 5mm", modality: "CT", count: 2 });
    await card.getByRole("button", { name: fillText(t.temporary.viewer.open, { label }) }).click();
    const viewer = page.getByRole("dialog", { name: fillText(t.temporary.viewer.title, { label }) });
    await expect(viewer.getByText(fillText(t.temporary.viewer.position, { position: 1, count: 2 }), { exact: true })).toBeVisible();
    await expect.poll(() => viewer.getByRole("img").evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBeGreaterThan(0);
  });

  await card.getByRole("button", { name: "Promote to an order" }).click();
  await card.locator(".candidate").filter({ hasText: "WL-E2E-0004" }).getByRole("radio").check({ timeout: 60_000 });
  await expect(card.getByRole("button", { name: "Promote to order WL-E2E-0004" })).toBeVisible({ timeout: 60_000 });
  await audit(page, "temporary zone promote panel", findings);

  await auditDialog(page, "temporary zone purge dialog", findings, async (t) => {
    await card.getByRole("button", { name: t.temporary.purge, exact: true }).click();
    await expect(page.getByRole("dialog", { name: t.temporary.purgeTitle })).toBeVisible();
  });
  await expect(card).toBeVisible(); // Escape kept it
  for (const screen of ["import log", "temporary zone viewer", "temporary zone purge dialog"]) {
    expect(audited).toContain(`${screen}/it`);
    expect(audited).toContain(`${screen}/fr`);
  }
  expectNone(findings);
});

test("accessibility: nothing to send, an order's studies all on the PACS, two patients on one medium", async ({ page }) => {
  test.setTimeout(300_000);
  const findings: Finding[] = [];
  const { url } = await launch("E2E-A11Y-PRESENT");
  await page.goto(url);
  const empty = mkdtempSync(join(tmpdir(), "e2e-a11y-empty-"));
  folders.push(empty);
  mkdirSync(join(empty, "USB"));
  await page.getByLabel("Select folder").setInputFiles(join(empty, "USB"));
  await expect(page.getByText("The folder is empty.")).toBeVisible();
  await expect(page.getByRole("button", { name: "Compress and send" })).toBeDisabled();
  await audit(page, "nothing to send", findings);

  // imported once for the order, then the same medium again: every study already on the PACS,
  // the notice and the emphasised End; the files report open
  const medium = fresh("cancel", "1.2.826.0.1.3680043.8.452.");
  await page.getByLabel("Select folder").setInputFiles(medium);
  await sendAndWaitForConfirmation(page);
  await page.getByRole("button", { name: "Confirm import" }).click();
  await expect(page.getByText("Completed: every selected study is in the PACS.")).toBeVisible({ timeout: 120_000 });
  const again = await launch("E2E-A11Y-PRESENT");
  await page.goto(again.url);
  await page.getByLabel("Select folder").setInputFiles(medium);
  await sendAndWaitForConfirmation(page);
  await expect(page.getByText("Every study on this medium is already on the PACS", { exact: true })).toBeVisible();
  await page.locator("details.media-report > summary").click();
  await audit(page, "confirm (all already on the PACS)", findings);
  await page.getByRole("button", { name: "Cancel import", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Import cancelled" })).toBeVisible();

  const two = await launch("E2E-A11Y-TWO");
  await page.goto(two.url);
  await page.getByLabel("Select folder").setInputFiles(fresh("two_patients", "1.2.826.0.1.3680043.8.453."));
  await sendAndWaitForConfirmation(page);
  await expect(page.getByRole("region", { name: /found on the medium \(DICOM\)/ })).toHaveCount(2);
  await audit(page, "confirm (two patients)", findings);
  expectNone(findings);
});
