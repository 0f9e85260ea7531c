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

test("worklist mode shows that it is coming", async ({ page }) => {
  const { url } = await launch(null);
  await page.goto(url);
  await expect(page.getByRole("heading", { name: "Worklist mode is coming" })).toBeVisible();
  await shot(page, "13-worklist-placeholder");
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
