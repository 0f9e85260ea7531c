/**
 * An automated accessibility audit (axe-core) of every screen of the clerk's day, in Italian,
 * French and English: no serious or critical violation of WCAG 2.1 A/AA anywhere. Each screen is
 * reached as a user reaches it; the language is switched on the screen itself, as a user would.
 */
import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Page } from "@playwright/test";
import { filesIn, launch, stack } from "./helpers";

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

/** Audits the screen in each language; returns to English for the journey's next step. */
async function audit(page: Page, screen: string, findings: Finding[]): Promise<void> {
  const select = languageSwitch(page);
  const switchable = (await select.count()) > 0;
  for (const language of switchable ? LANGUAGES : (["en"] as const)) {
    if (switchable) {
      await select.selectOption(language);
      await expect(page.locator("html")).toHaveAttribute("lang", language);
    }
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
  if (switchable) await select.selectOption("en");
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
