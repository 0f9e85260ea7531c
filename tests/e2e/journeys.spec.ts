/**
 * The clinician's journeys in a real browser (Debian's Chromium) against the real API, worker and
 * Orthanc started by stack.py. Roles and labels, not CSS classes.
 */
import { expect, test, type Page } from "@playwright/test";
import { filesIn, launch, orthancStudies, shot, stack } from "./helpers";

async function pickFolder(page: Page, folder: string) {
  await page.getByLabel("Select folder").setInputFiles(folder);
}

async function sendAndWaitForConfirmation(page: Page) {
  await page.getByRole("button", { name: "Compress and send" }).click();
  await expect(page.getByRole("heading", { name: "Confirm the import of the studies" })).toBeVisible({
    timeout: 120_000,
  });
}

async function waitForCompleted(page: Page) {
  await expect(page.getByRole("heading", { name: "Import progress" })).toBeVisible();
  await expect(page.getByText("Completed: every selected study is in the PACS.")).toBeVisible({
    timeout: 120_000,
  });
}

test("RIS launch → folder with DICOMDIR → compress and send → confirm → completed", async ({ page, context }) => {
  const { url } = await launch("E2E-MATCH");
  await page.goto(url);

  // the token is exchanged, then removed from the address bar
  await expect(page.getByRole("heading", { name: "Patient of the order (RIS)" })).toBeVisible();
  expect(page.url()).not.toContain("token=");
  const panel = page.getByRole("region", { name: "Patient of the order (RIS)" });
  await expect(panel.getByText("ROSSI MARIO")).toBeVisible();
  await expect(panel.getByText(/01\/01\/1974 \(\d+ years\)/)).toBeVisible();
  await expect(panel.getByText("HOSP-0042 (HOSPITAL)")).toBeVisible();
  await expect(page.getByText("Signed in: Giulia Bianchi (Radiologia)")).toBeVisible();
  await expect(page.getByText("No earlier import for this order.")).toBeVisible();
  await shot(page, "01-import", true);

  await pickFolder(page, stack().media.match!);
  const summary = page.getByRole("heading", { name: "What will be sent" });
  await expect(summary).toBeVisible();
  await expect(page.getByText("Files chosen from the DICOMDIR (the index of the medium).")).toBeVisible();
  await expect(page.getByText("2 files not listed in the DICOMDIR (viewer program, autorun…) will not be sent.")).toBeVisible();
  const counts = page.locator(".summary-grid");
  await expect(counts.getByText("Patients")).toBeVisible();
  await expect(counts).toContainText("Studies1");
  await expect(counts).toContainText("Series2");
  await expect(counts).toContainText("Files5");
  await shot(page, "02-summary", true);

  await sendAndWaitForConfirmation(page);
  const study = page.getByRole("article", { name: "TC TORACE" });
  await expect(study.getByText(/PATIENT MATCHES/)).toBeVisible();
  await expect(study.getByText("Ospedale Esterno")).toBeVisible();
  await expect(study.getByText("2 series, 4 images")).toBeVisible();
  // thumbnails when the API has them; "No preview" otherwise — never a broken page
  await expect(study.getByRole("group", { name: "Series previews" })).toBeVisible();
  const confirm = page.getByRole("button", { name: "Confirm import" });
  const cancel = page.getByRole("button", { name: "Cancel import" });
  await expect(confirm).toBeEnabled();
  await expect(page.getByLabel("I have verified that this is the same patient")).toHaveCount(0);
  const [c, x] = [await confirm.boundingBox(), await cancel.boundingBox()];
  expect(c!.height).toBeGreaterThan(x!.height);
  await shot(page, "03-confirm-match", true);

  await confirm.click();
  await waitForCompleted(page);
  await expect(page.getByText("Support id")).toBeVisible();
  await expect(page.locator("tr[data-stage='store']")).toContainText("Done");
  await expect(page.locator("tr[data-stage='finish']")).toContainText("Done");
  await shot(page, "04-monitor-completed", true);
  const uid = (await page.locator(".card .uid").first().textContent())!.trim();
  expect(await orthancStudies()).toContain(uid);

  // back on the order: the previous import, green, with an Open link to its monitoring
  await page.getByRole("link", { name: "Back to the order" }).click();
  const previous = page.getByRole("region", { name: "Previous imports (with log)" });
  await expect(previous.getByText("Completed")).toBeVisible();
  await expect(previous.getByText(uid)).toBeVisible();
  await shot(page, "05-previous-imports", true);
  const [popup] = await Promise.all([
    context.waitForEvent("page"),
    previous.getByRole("link", { name: /Open the details of the import/ }).click(),
  ]);
  await expect(popup.getByRole("heading", { name: "Import progress" })).toBeVisible();
  await expect(popup.getByText("Completed: every selected study is in the PACS.")).toBeVisible();
  await popup.close();
});

test("a patient who does not match: Confirm small and red, Cancel large and blue, the tick required", async ({ page }) => {
  const { url } = await launch("E2E-MISMATCH");
  await page.goto(url);
  await pickFolder(page, stack().media.mismatch!);
  await expect(page.getByText("No DICOMDIR at the root of the folder: every file will be sent.")).toBeVisible();
  await expect(page.getByText("ROSSI^MARIA")).toBeVisible();
  await sendAndWaitForConfirmation(page);

  const study = page.getByRole("article", { name: "RM ENCEFALO" });
  await expect(study.getByText(/PATIENT DOES NOT MATCH/)).toBeVisible();
  await expect(study.getByText(/PATIENT NAME DOES NOT MATCH/)).toBeVisible();
  await expect(study.getByText(/SEX DOES NOT MATCH/)).toBeVisible();
  await expect(study.getByText("Given name possibly misspelt")).toBeVisible();
  await expect(study.getByText(/Sex does not match/)).toBeVisible();

  const confirm = page.getByRole("button", { name: "Confirm import" });
  const cancel = page.getByRole("button", { name: "Cancel import" });
  const tick = page.getByLabel("I have verified that this is the same patient");
  await expect(confirm).toBeDisabled();
  const [c, x] = [await confirm.boundingBox(), await cancel.boundingBox()];
  expect(c!.height).toBeLessThan(x!.height);
  expect(c!.width).toBeLessThan(x!.width);
  const colour = (el: Element) => getComputedStyle(el).backgroundColor;
  expect(await confirm.evaluate(colour)).toBe("rgb(179, 38, 30)"); // red
  expect(await cancel.evaluate(colour)).toBe("rgb(31, 95, 174)"); // blue
  await shot(page, "06-confirm-mismatch", true);

  // unticking a study removes the emphasis; ticking it again brings it back
  await page.getByRole("checkbox", { name: /Import this study/ }).uncheck();
  await expect(tick).toHaveCount(0);
  await page.getByRole("checkbox", { name: /Import this study/ }).check();

  await tick.check();
  await expect(confirm).toBeEnabled();
  await confirm.click();
  await waitForCompleted(page);
});

test("the Files tab and a different format, then Cancel → cancelled screen", async ({ page }) => {
  const { url } = await launch("E2E-CANCEL");
  await page.goto(url);
  await page.getByRole("tab", { name: "Files" }).click();
  await page.getByLabel("Choose files").setInputFiles(filesIn(stack().media.format!));
  await expect(page.getByRole("heading", { name: "What will be sent" })).toBeVisible();
  await sendAndWaitForConfirmation(page);
  const study = page.getByRole("article", { name: "RX TORACE" });
  await expect(study.getByText(/DIFFERENT FORMAT/)).toBeVisible();
  await expect(study.getByText("Names in another order")).toBeVisible();
  await expect(page.getByRole("button", { name: "Confirm import" })).toBeEnabled();
  await shot(page, "07-confirm-format-different", true);

  await page.getByRole("button", { name: "Cancel import" }).click();
  await expect(page.getByRole("heading", { name: "Import cancelled" })).toBeVisible();
  await expect(page.getByText("You can close this window.")).toBeVisible();
  await shot(page, "08-cancelled", true);
  await page.getByRole("link", { name: "Import another medium for this order" }).click();
  await expect(page.getByRole("region", { name: "Previous imports (with log)" }).getByText("Cancelled")).toBeVisible();
});

test("the same study twice for one order: the second time it is already on the PACS", async ({ page }) => {
  const first = await launch("E2E-DUP");
  await page.goto(first.url);
  await pickFolder(page, stack().media.duplicate!);
  await sendAndWaitForConfirmation(page);
  await page.getByRole("button", { name: "Confirm import" }).click();
  await waitForCompleted(page);

  const second = await launch("E2E-DUP");
  await page.goto(second.url);
  await expect(page.getByRole("region", { name: "Previous imports (with log)" }).getByText("Completed")).toBeVisible();
  await pickFolder(page, stack().media.duplicate!);
  await sendAndWaitForConfirmation(page);
  const study = page.getByRole("article", { name: "TC CRANIO" });
  await expect(study.getByText("Already on PACS, removed from import")).toBeVisible();
  await expect(study.getByRole("checkbox")).toBeDisabled();
  await expect(page.getByText("No study on this medium can be imported.")).toBeVisible();
  await expect(page.getByRole("button", { name: "Confirm import" })).toBeDisabled();
  await shot(page, "09-confirm-already-on-pacs", true);
  await page.getByRole("button", { name: "Cancel import" }).click();
  await expect(page.getByRole("heading", { name: "Import cancelled" })).toBeVisible();
});

test("launch links that cannot open an import say to relaunch from the RIS", async ({ page }) => {
  const s = stack();
  await page.goto(`${s.base_url}/?token=${s.expired_token}`);
  await expect(page.getByRole("heading", { name: "This link has expired" })).toBeVisible();
  await expect(page.getByText("Close this window and start the import again from the RIS.")).toBeVisible();
  expect(page.url()).not.toContain(s.expired_token);
  await shot(page, "10-token-expired", true);

  const used = await launch("E2E-USED");
  const exchange = await fetch(`${s.base_url}/api/v1/sessions`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ launch_token: used.token }),
  });
  expect(exchange.status).toBe(201);
  await page.goto(used.url);
  await expect(page.getByRole("heading", { name: "This link has already been used" })).toBeVisible();
  await shot(page, "11-token-used");

  await page.goto(`${s.base_url}/?token=not-a-real-token`);
  await expect(page.getByRole("heading", { name: "This link is not valid" })).toBeVisible();

  const fresh = await page.context().newPage();
  await fresh.goto(`${s.base_url}/`);
  await expect(fresh.getByRole("heading", { name: "The import was not opened from the RIS" })).toBeVisible();
  await shot(fresh, "12-token-missing");
  await fresh.close();
});

test("worklist mode: launch without an order → folder → search the worklist → choose → identity checks → completed", async ({ page }) => {
  const { url } = await launch(null);
  await page.goto(url);
  await expect(page.getByRole("heading", { name: "Import without an order (worklist mode)" })).toBeVisible();
  await pickFolder(page, stack().media.worklist!);
  await expect(page.getByText("Verdi^Giuseppe")).toBeVisible();
  await page.getByRole("button", { name: "Compress and send" }).click();
  await expect(page.getByRole("heading", { name: "Find the order of each study in the worklist" })).toBeVisible({
    timeout: 120_000,
  });

  // the search is pre-filled from the medium (one field per name part, birth date, today) and runs
  const study = page.getByRole("article", { name: "TC TORACE" });
  await expect(study.getByLabel("Family name")).toHaveValue("Verdi");
  await expect(study.getByLabel("Given name")).toHaveValue("Giuseppe");
  await expect(study.getByLabel("Birth date")).toHaveValue("1961-03-15");
  const today = new Date();
  const iso = `${today.getFullYear()}-${String(today.getMonth() + 1).padStart(2, "0")}-${String(today.getDate()).padStart(2, "0")}`;
  await expect(study.getByLabel("Scheduled date")).toHaveValue(iso);
  await expect(study.getByText("1 order found")).toBeVisible({ timeout: 60_000 });
  await expect(study.getByText("Found by: full name and birth date")).toBeVisible();

  // a looser search: without the given name, both VERDI of the day, ranked with their identity badges
  await study.getByLabel("Given name").fill("");
  await study.getByRole("button", { name: "Search the worklist" }).click();
  await expect(study.getByText("2 orders found")).toBeVisible({ timeout: 60_000 });
  const giovanni = study.getByRole("radio", { name: /VERDI GIOVANNI/ });
  const giuseppe = study.getByRole("radio", { name: /VERDI GIUSEPPE/ });
  await expect(study.locator(".candidate").first()).toContainText("WL-E2E-0001");
  await expect(study.locator(".candidate").filter({ hasText: "WL-E2E-0002" })).toContainText("PATIENT DOES NOT MATCH");
  const next = page.getByRole("button", { name: "Continue to the identity checks" });
  await expect(next).toBeDisabled();
  await giovanni.check();
  await expect(study.getByText("Order chosen: WL-E2E-0002")).toBeVisible();
  await shot(page, "16-worklist-search", true);

  // the wrong order: the identity checks ask for the tick, Confirm small and red
  await next.click();
  await expect(page.getByRole("heading", { name: "Check the identities" })).toBeVisible();
  // compared with the patient on the medium (not with the fields searched)
  const check = page.getByRole("article", { name: /Order WL-E2E-0002/ });
  await expect(check.getByText(/PATIENT DOES NOT MATCH/).first()).toBeVisible();
  await expect(check.getByText(/PATIENT NAME DOES NOT MATCH/)).toBeVisible();
  const confirm = page.getByRole("button", { name: "Confirm import" });
  await expect(confirm).toBeDisabled();
  await expect(page.getByLabel("I confirm the identity checks")).toBeVisible();
  await page.getByRole("button", { name: "Change the orders" }).click();

  // the right one: no tick needed
  await expect(page.getByRole("heading", { name: "Find the order of each study in the worklist" })).toBeVisible();
  await giuseppe.check();
  await next.click();
  await expect(page.getByRole("heading", { name: "Check the identities" })).toBeVisible();
  await expect(page.getByLabel("I confirm the identity checks")).toHaveCount(0);
  await expect(page.getByText("Order WL-E2E-0001", { exact: false })).toBeVisible();
  await shot(page, "17-worklist-identity", true);
  await confirm.click();
  await waitForCompleted(page);
  await shot(page, "18-worklist-completed", true);
  const uid = (await page.locator(".card .uid").first().textContent())!.trim();
  expect(await orthancStudies()).toContain(uid);
});

const REFERENT = { id: "ref01", name: "Marco Neri", department: "Radiologia" };

async function importToTemporaryZone(page: Page, folder: string) {
  await page.getByRole("radio", { name: "Patient not known to the hospital: temporary zone" }).check();
  await expect(page.getByRole("heading", { name: "Import into the temporary zone" })).toBeVisible();
  await pickFolder(page, folder);
  await page.getByRole("button", { name: "Compress and send" }).click();
  await expect(page.getByRole("heading", { name: "Keep the studies in the temporary zone" })).toBeVisible({
    timeout: 120_000,
  });
  await page.getByRole("button", { name: "Keep in the temporary zone" }).click();
  await expect(page.getByText("Completed: the studies are kept in the temporary zone for review.")).toBeVisible({
    timeout: 120_000,
  });
}

test("temporary zone: import for an unknown patient → review list → promote to a worklist order; purge another", async ({ page }) => {
  const { url } = await launch(null, undefined, ["clinician", "temporary_zone"], REFERENT);
  await page.goto(url);
  await expect(page.getByRole("group", { name: "Where do the studies go?" })).toBeVisible();
  await expect(page.getByRole("radio", { name: "The PACS, for an order found in the worklist" })).toBeChecked();
  await importToTemporaryZone(page, stack().media.temporary_purge!);
  await page.getByRole("link", { name: "Back to the order" }).click();
  await importToTemporaryZone(page, stack().media.temporary!);
  await shot(page, "19-temporary-kept", true);

  await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Temporary zone" }).click();
  await expect(page.getByRole("heading", { name: "Temporary zone", level: 1 })).toBeVisible();
  const lucia = page.getByRole("article", { name: /Bianchi Lucia/i });
  const paolo = page.getByRole("article", { name: /Neri Paolo/i });
  await expect(lucia).toContainText("RM ENCEFALO");
  await expect(lucia).toContainText("Marco Neri");
  await expect(lucia).toContainText("0 days");
  await expect(paolo).toContainText("RX MANO");
  await shot(page, "20-temporary-list", true);

  // purge: a confirmation dialog first; "No" keeps it
  await paolo.getByRole("button", { name: "Purge" }).click();
  const dialog = page.getByRole("dialog", { name: "Purge this import?" });
  await expect(dialog).toBeVisible();
  await shot(page, "21-temporary-purge-dialog", true);
  await dialog.getByRole("button", { name: "No, keep it" }).click();
  await expect(dialog).toBeHidden();
  await expect(paolo).toBeVisible();
  await paolo.getByRole("button", { name: "Purge" }).click();
  await dialog.getByRole("button", { name: "Yes, purge" }).click();
  await expect(page.getByText(/Import .* purged\./)).toBeVisible();
  await expect(paolo).toHaveCount(0);

  // promote: the order found in the worklist, compared with the patient on the medium
  const details = await lucia.getByRole("link", { name: "Details" }).getAttribute("href");
  await lucia.getByRole("button", { name: "Promote to an order" }).click();
  await lucia.getByLabel("Accession number found in the worklist").fill("WL-E2E-0004");
  await lucia.getByRole("button", { name: "Find the order" }).click();
  await expect(lucia.getByText(/DIFFERENT FORMAT/).first()).toBeVisible({ timeout: 60_000 });
  await expect(lucia.getByLabel("I confirm the identity checks")).toHaveCount(0);
  await shot(page, "22-temporary-promote", true);
  await lucia.getByRole("button", { name: "Promote to order WL-E2E-0004" }).click();
  await expect(page.getByText(/promoted: its studies are being stored to the PACS/)).toBeVisible();
  await expect(lucia).toHaveCount(0);

  await page.goto(new URL(details!, page.url()).toString());
  await waitForCompleted(page);
  await expect(page.getByText("Order WL-E2E-0004")).toBeVisible();
  const uid = (await page.locator(".card .uid").first().textContent())!.trim();
  expect(await orthancStudies()).toContain(uid);
});

test("audit trail: filters, chain verification, CSV export", async ({ page }) => {
  const { url } = await launch(null, undefined, ["auditor"], { id: "dpo01", name: "Anna Verdi", department: "DPO" });
  await page.goto(url);
  await expect(page.getByRole("heading", { name: "No import for this role" })).toBeVisible();
  await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Audit trail" }).click();
  await expect(page.getByRole("heading", { name: "Audit trail" })).toBeVisible();
  await expect(page.getByText("Audit chain intact")).toBeVisible();
  const rows = page.locator("table.data-table tbody tr");
  await expect(rows.first()).toBeVisible();
  await page.getByLabel("User ID").fill("tech01");
  await page.getByRole("button", { name: "Apply the filters" }).click();
  await expect(rows.first()).toContainText("Giulia Bianchi");
  await shot(page, "23-audit", true);
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Export as CSV" }).click()]);
  expect(download.suggestedFilename()).toMatch(/^audit-.*\.csv$/);
  const [json] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Export as JSON" }).click()]);
  expect(json.suggestedFilename()).toMatch(/\.json$/);
});

test.describe("languages", () => {
  test.use({ locale: "it-IT" });

  test("Italian from the browser, then French and English from the switch", async ({ page }) => {
    const { url } = await launch("E2E-LANG");
    await page.goto(url);
    await expect(page.getByRole("heading", { name: "Paziente dell'ordine (RIS)" })).toBeVisible();
    await expect(page.getByRole("tab", { name: "CD o cartella" })).toBeVisible();
    await expect(page.getByText("01/01/1974 (")).toContainText("anni");
    await expect(page.locator("html")).toHaveAttribute("lang", "it");
    await page.getByLabel("Seleziona cartella").setInputFiles(stack().media.languages!);
    await page.getByRole("button", { name: "Comprimi e invia studio" }).click();
    await expect(page.getByRole("heading", { name: "Conferma import studi" })).toBeVisible({ timeout: 120_000 });
    await expect(page.getByText(/PAZIENTE CORRISPONDE/)).toBeVisible();
    await expect(page.getByRole("button", { name: "Conferma importazione" })).toBeVisible();
    await expect(page.getByRole("button", { name: "Annulla importazione" })).toBeVisible();
    await shot(page, "14-confirm-italian", true);

    await page.getByLabel("Lingua").selectOption("fr");
    await expect(page.getByRole("heading", { name: "Confirmer l'import des examens" })).toBeVisible();
    await expect(page.getByText(/PATIENT CORRESPONDANT/)).toBeVisible();
    await expect(page.getByRole("button", { name: "Confirmer l'import" })).toBeVisible();
    await expect(page.locator("html")).toHaveAttribute("lang", "fr");
    await shot(page, "15-confirm-french");

    await page.getByLabel("Langue").selectOption("en");
    await expect(page.getByRole("heading", { name: "Confirm the import of the studies" })).toBeVisible();
    await expect(page.getByText(/PATIENT MATCHES/)).toBeVisible();

    // the choice is kept on reload
    await page.getByLabel("Language").selectOption("fr");
    await page.reload();
    await expect(page.getByRole("heading", { name: "Confirmer l'import des examens" })).toBeVisible();
    await page.getByRole("button", { name: "Annuler l'import" }).click();
    await expect(page.getByRole("heading", { name: "Import annulé" })).toBeVisible();
  });
});
