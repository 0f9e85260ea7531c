/**
 * The clinician's journeys in a real browser (Debian's Chromium) against the real API, worker and
 * Orthanc started by stack.py. Roles and labels, not CSS classes. The journeys written in English
 * check the English screens; those run in English, Italian and French (`LANGUAGES`) read their
 * words from the app's catalogs, and their screenshots are prefixed "it-" and "fr-".
 */
import { expect, test, type Page } from "@playwright/test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import en from "../../frontend/src/i18n/en";
import type { Translation } from "../../frontend/src/i18n/en";
import fr from "../../frontend/src/i18n/fr";
import it from "../../frontend/src/i18n/it";
import {
  catalogPattern,
  escapeRegExp,
  expectCancelBeforeConfirm,
  filesIn,
  fillText,
  freshCopy,
  launch,
  orderImports,
  orthancStudies,
  orthancStudy,
  putOrder,
  seen,
  shot,
  stack,
  storeOnPacs,
  usedLaunch,
  watchFor,
} from "./helpers";

const LANGUAGES: { code: "en" | "it" | "fr"; locale: string; t: Translation; prefix: string }[] = [
  { code: "en", locale: "en-GB", t: en, prefix: "" },
  { code: "it", locale: "it-IT", t: it, prefix: "it-" },
  { code: "fr", locale: "fr-FR", t: fr, prefix: "fr-" },
];

/** An accession of its own per language: the English one as the English journey always had it. */
const accessionIn = (accession: string, code: string) => (code === "en" ? accession : `${accession}-${code.toUpperCase()}`);

/** `text` anywhere in an element's text, case and all. */
const within = (text: string) => new RegExp(escapeRegExp(text));

/** The import's status badge as one reads it: its icon, then its word. */
function statusBadge(page: Page, label: string) {
  return page.getByRole("main").getByText(new RegExp(`^.?\\s*${escapeRegExp(label)}$`));
}

const folders: string[] = [];
test.afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

/** A new folder for a copy of a medium, removed after the journeys. */
function tempFolder(): string {
  const out = mkdtempSync(join(tmpdir(), "e2e-journeys-"));
  folders.push(out);
  return out;
}

// the patient the RIS corrects an order to
const VERDI_ANNA = { id: "HOSP-0099", issuer: "HOSPITAL", name: "VERDI^ANNA", birth_date: "19800512", sex: "F" };

async function pickFolder(page: Page, folder: string) {
  await page.getByLabel("Select folder").setInputFiles(folder);
}

async function sendAndWaitForConfirmation(page: Page) {
  await page.getByRole("button", { name: "Compress and send" }).click();
  await expect(page.getByRole("heading", { name: "Confirm the import of the studies" })).toBeVisible({
    timeout: 120_000,
  });
}

/** Send the chosen medium and wait for the confirmation, in the page's language. */
async function sendAndWaitForConfirmationIn(page: Page, t: Translation) {
  await page.getByRole("button", { name: t.send.button }).click();
  await expect(page.getByRole("heading", { name: t.confirm.title })).toBeVisible({ timeout: 120_000 });
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
  // the patient found on the medium, compared once; the study under it
  const found = page.getByRole("region", { name: "Patient found on the medium (DICOM): ROSSI MARIO" });
  const study = found.getByRole("article", { name: "TC TORACE" });
  await expect(found.getByText(/PATIENT MATCHES/)).toBeVisible();
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
  // what this installation does not do (no callback, merge or commitment) is folded, not a row each
  await expect(page.getByRole("cell", { name: "Not needed" })).toHaveCount(0);
  await expect(page.getByText("The RIS gave no callback address")).toBeHidden();
  await expect(page.getByText(/^\d+ steps? not needed here$/)).toBeVisible();
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

  // the order's patient once at the top; the one patient of the medium compared once, the study under it
  await expect(page.getByRole("region", { name: "Patient of the order (RIS)" })).toHaveCount(1);
  await expect(page.getByRole("region", { name: /found on the medium \(DICOM\)/ })).toHaveCount(1);
  const found = page.getByRole("region", { name: "Patient found on the medium (DICOM): ROSSI MARIA" });
  await expect(found.getByRole("table")).toHaveCount(1);
  await expect(found.getByRole("article", { name: "RM ENCEFALO" })).toBeVisible();
  await expect(found.getByText(/PATIENT DOES NOT MATCH/)).toBeVisible();
  // each line says what its field's badge says: the name is similar (a twin?), the sex differs
  await expect(found.getByRole("row", { name: /^Name/ }).getByText("Similar – check")).toBeVisible();
  await expect(found.getByText(/PATIENT NAME SIMILAR – CHECK/)).toBeVisible();
  await expect(found.getByText(/PATIENT NAME DOES NOT MATCH/)).toHaveCount(0);
  await expect(found.getByText("Given name possibly misspelt")).toBeVisible();
  await expect(found.getByRole("row", { name: /^Sex/ }).getByText("Does not match")).toBeVisible();
  // the sex difference said once, not again as a reason
  await expect(found.getByText(/SEX DOES NOT MATCH/)).toHaveCount(1);
  await expect(found.getByText(/Sex does not match/)).toHaveCount(0);

  // the same in Italian and in French
  await page.getByLabel("Language").selectOption("it");
  await expect(page.getByRole("region", { name: "Paziente dell'ordine (RIS)" }).getByText("ID Ospedale")).toBeVisible();
  const trovato = page.getByRole("region", { name: "Paziente trovato (DICOM): ROSSI MARIA" });
  await expect(trovato.getByText(/PAZIENTE NON CORRISPONDE/)).toBeVisible();
  await expect(trovato.getByRole("row", { name: /^Cognome e nome/ }).getByText("Simile – verificare")).toBeVisible();
  await expect(trovato.getByText(/COGNOME E NOME SIMILI – VERIFICARE/)).toBeVisible();
  await expect(trovato.getByText(/SESSO NON CORRISPONDE/)).toHaveCount(1);
  await expect(trovato.getByText(/Sesso non corrisponde/)).toHaveCount(0);
  await page.getByLabel("Lingua").selectOption("fr");
  const trouve = page.getByRole("region", { name: "Patient trouvé sur le support (DICOM) : ROSSI MARIA" });
  await expect(trouve.getByText(/NOM ET PRÉNOM PROCHES – À VÉRIFIER/)).toBeVisible();
  await expect(trouve.getByText(/LE SEXE NE CORRESPOND PAS/)).toHaveCount(1);
  await expect(trouve.getByText(/Le sexe ne correspond pas/)).toHaveCount(0);
  await page.getByLabel("Langue").selectOption("en");

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
  await expectCancelBeforeConfirm(page, tick, cancel, confirm);
  expect((await cancel.boundingBox())!.x).toBeLessThan((await confirm.boundingBox())!.x);
  await confirm.click();
  await waitForCompleted(page);
});

for (const { code, locale, t, prefix } of LANGUAGES) {
  test.describe(`a different format (${code})`, () => {
    test.use({ locale });

    test(`the Files tab and a different format, then Cancel → cancelled screen (${code})`, async ({ page }) => {
      const { url } = await launch(accessionIn("E2E-CANCEL", code));
      await page.goto(url);
      await page.getByRole("tab", { name: t.tabs.files }).click();
      await page.getByLabel(t.files.choose).setInputFiles(filesIn(stack().media.format!));
      await expect(page.getByRole("heading", { name: t.summary.title })).toBeVisible();
      await sendAndWaitForConfirmationIn(page, t);
      const found = page.getByRole("region", { name: new RegExp(`^${escapeRegExp(t.confirm.group.title_one)}`) });
      await expect(found).toHaveCount(1);
      await expect(found.getByRole("article", { name: "RX TORACE" })).toBeVisible();
      await expect(found.getByText(new RegExp(`^.?${escapeRegExp(t.confirm.overall.format_different)}$`))).toBeVisible();
      // the name's line agrees with its badge and the banner: written differently, never "does not match"
      const nameRow = found.getByRole("row", { name: new RegExp(`^${escapeRegExp(t.terms.name)}`) });
      await expect(nameRow.getByText(t.confirm.fieldStatus.format_different)).toBeVisible();
      await expect(found.getByText(within(t.confirm.fieldLine.format_different.name))).toBeVisible();
      for (const never of [t.confirm.overall.mismatch, t.confirm.fieldStatus.mismatch, ...Object.values(t.confirm.fieldLine.mismatch)]) {
        await expect(found.getByText(within(never))).toHaveCount(0);
      }
      await expect(found.getByText(t.identity.reason.NAME_ORDER_SWAPPED)).toBeVisible();
      await expect(page.getByRole("button", { name: t.confirm.confirm })).toBeEnabled();
      await shot(page, `${prefix}07-confirm-format-different`, true);

      await page.getByRole("button", { name: t.confirm.cancel }).click();
      await expect(page.getByRole("heading", { name: t.cancelled.title })).toBeVisible();
      await expect(page.getByText(t.cancelled.close)).toBeVisible();
      // the translated guides' journeys take their own
      if (code === "en") await shot(page, "08-cancelled", true);
      await page.getByRole("link", { name: t.cancelled.again }).click();
      const previous = page.getByRole("region", { name: t.previous.title });
      await expect(previous.getByRole("cell", { name: t.status.cancelled, exact: true })).toBeVisible();
    });
  });
}

test("the same study twice for one order: the second time it is already on the PACS, confirmed and ignored", async ({ page }) => {
  const first = await launch("E2E-DUP");
  await page.goto(first.url);
  await pickFolder(page, stack().media.duplicate!);
  await sendAndWaitForConfirmation(page);
  await page.getByRole("button", { name: "Confirm import" }).click();
  await waitForCompleted(page);
  const before = await orthancStudies();

  const second = await launch("E2E-DUP");
  await page.goto(second.url);
  const previous = page.getByRole("region", { name: "Previous imports (with log)" });
  await expect(previous.getByText("Completed")).toBeVisible();
  // finished imports can be hidden (the French procedure removes finished tasks); kept on reload
  await previous.getByLabel("Hide finished imports").check();
  await expect(previous.getByText("Completed")).toHaveCount(0);
  await expect(previous.getByText("Every earlier import for this order is finished and hidden.")).toBeVisible();
  await page.reload();
  await expect(previous.getByLabel("Hide finished imports")).toBeChecked();
  await previous.getByLabel("Hide finished imports").uncheck();
  await expect(previous.getByText("Completed")).toBeVisible();
  await pickFolder(page, stack().media.duplicate!);
  await sendAndWaitForConfirmation(page);
  const study = page.getByRole("article", { name: "TC CRANIO" });
  await expect(study.getByText("Already on PACS, removed from import")).toBeVisible();
  await expect(study.getByText("Even if you confirm, this study is ignored and not imported again.")).toBeVisible();
  await expect(study.getByRole("checkbox")).toBeDisabled();
  await expect(page.getByText("Every study on this medium is already on the PACS", { exact: true })).toBeVisible();
  // not a dead end: the emphasised button ends the import, nothing is sent (the Italian procedure)
  const end = page.getByRole("button", { name: "End the import (nothing to send)" });
  await expect(end).toBeEnabled();
  await expect(end).toHaveClass(/button-large/);
  await expect(page.getByRole("button", { name: "Confirm import" })).toHaveCount(0);
  await shot(page, "09-confirm-already-on-pacs", true);

  await page.getByLabel("Language").selectOption("it");
  await expect(study.getByText("Già presente su PACS, rimosso da importazione")).toBeVisible();
  await expect(study.getByText("Anche se confermi, questo studio verrà comunque ignorato e non re-importato.")).toBeVisible();
  // the Italian procedure's own words for a medium that is already on the PACS
  await expect(page.getByText("Import non possibile. Studio già presente sul PACS", { exact: true })).toBeVisible();
  await page.getByRole("button", { name: "Termina importazione (nulla da inviare)" }).click();
  await expect(page.getByRole("heading", { name: "Monitoraggio elaborazione" })).toBeVisible();
  await expect(
    page.getByText("Tutti gli studi selezionati erano già presenti su PACS: non è stato inviato nulla."),
  ).toBeVisible();
  const notSent = page.getByRole("region", { name: "Non inviati al PACS" });
  await expect(notSent.getByText("Già presente su PACS – non re-importato")).toBeVisible();
  await expect(page.getByRole("table")).toHaveCount(0);
  await shot(page, "25-monitor-already-present-italian", true);
  expect(await orthancStudies()).toEqual(before);

  await page.getByLabel("Lingua").selectOption("en");
  await expect(page.getByText("Every selected study was already on the PACS: nothing was sent.")).toBeVisible();
  await expect(notSent).toHaveCount(0);
  await expect(page.getByRole("region", { name: "Not sent to the PACS" }).getByText("Already on PACS – not imported again")).toBeVisible();
});

/**
 * The images of `medium` stored on the PACS as an import for the order left them: under the
 * order's hospital ID (HOSP-0042) in place of the medium's own (EXT-12345, the same length).
 */
async function storeAsImported(medium: string): Promise<void> {
  const out = tempFolder();
  const [from, to] = [Buffer.from("EXT-12345"), Buffer.from("HOSP-0042")];
  for (const [index, file] of filesIn(medium).entries()) {
    const data = readFileSync(file);
    for (let at = data.indexOf(from); at !== -1; at = data.indexOf(from, at + from.length)) to.copy(data, at);
    writeFileSync(join(out, `IMG${index}.dcm`), data);
  }
  await storeOnPacs(out);
}

/** New UIDs per language for the medium already on the PACS. */
const ALL_PRESENT_ROOTS = { en: "1.2.826.0.1.3680043.8.486.", it: "1.2.826.0.1.3680043.8.487.", fr: "1.2.826.0.1.3680043.8.488." };

for (const { code, locale, t } of LANGUAGES) {
  test.describe(`every study already on the PACS (${code})`, () => {
    test.use({ locale });

    test(`an order whose medium is already on the PACS: the emphasised button ends the import, completed, nothing sent (${code})`, async ({ page }) => {
      // the CD's images, on the PACS already (as an earlier import left them)
      const medium = freshCopy(stack().media.duplicate!, ALL_PRESENT_ROOTS[code], tempFolder(), /(DICOMDIR|AUTORUN\.INF|viewer\.exe)$/i);
      await storeAsImported(medium);
      const before = await orthancStudies();

      const { url } = await launch(`E2E-ON-PACS-${code.toUpperCase()}`);
      await page.goto(url);
      await page.getByLabel(t.folder.choose).setInputFiles(medium);
      await sendAndWaitForConfirmationIn(page, t);
      const study = page.getByRole("article", { name: "TC CRANIO" });
      await expect(study.getByText(t.confirm.study.onPacs)).toBeVisible();
      await expect(page.getByText(t.confirm.allPresent.title, { exact: true })).toBeVisible();
      // not a dead end: the emphasised button (larger than Cancel) ends the import; no Confirm
      const end = page.getByRole("button", { name: t.confirm.allPresent.end });
      const cancel = page.getByRole("button", { name: t.confirm.cancel });
      await expect(end).toBeEnabled();
      await expect(page.getByRole("button", { name: t.confirm.confirm })).toHaveCount(0);
      expect((await end.boundingBox())!.height).toBeGreaterThan((await cancel.boundingBox())!.height);

      await end.click();
      await expect(page.getByRole("heading", { name: t.monitor.title })).toBeVisible();
      await expect(statusBadge(page, t.status.completed)).toBeVisible();
      await expect(page.getByText(t.monitor.outcome.nothingSent)).toBeVisible();
      const notSent = page.getByRole("region", { name: t.monitor.notSelected });
      await expect(notSent.getByRole("listitem").filter({ hasText: "TC CRANIO" })).toContainText(t.monitor.studyOutcome.already_present);
      await expect(page.getByRole("table")).toHaveCount(0);
      if (code === "fr") await shot(page, "fr-25-monitor-already-present", true);
      expect(await orthancStudies()).toEqual(before);
    });
  });
}

test("the RIS changes the order's patient before Confirm: nothing is filed, the new patient and comparison are shown, confirmed again", async ({ page }) => {
  const { url } = await launch("E2E-CHANGED");
  await page.goto(url);
  await pickFolder(page, stack().media.changed!);
  await sendAndWaitForConfirmation(page);
  const panel = page.getByRole("region", { name: "Patient of the order (RIS)" });
  const found = page.getByRole("region", { name: "Patient found on the medium (DICOM): ROSSI MARIO" });
  const study = found.getByRole("article", { name: "TC SPALLA" });
  await expect(panel.getByText("ROSSI MARIO")).toBeVisible();
  await expect(found.getByText(/PATIENT MATCHES/)).toBeVisible();
  const tick = page.getByLabel("I have verified that this is the same patient");
  await expect(tick).toHaveCount(0);
  const uid = (await study.locator(".uid").textContent())!.trim();

  // meanwhile the RIS corrects the order: another patient
  await putOrder("E2E-CHANGED", VERDI_ANNA);
  const confirm = page.getByRole("button", { name: "Confirm import" });
  await confirm.click();

  // nothing filed; the notice, the new patient in the panel, the new comparison; never confirmed by itself
  const notice = page.getByRole("alert").filter({ hasText: "The patient of the order has changed in the RIS" });
  await expect(notice).toBeVisible();
  await expect(notice).toContainText("Nothing was imported.");
  await expect(notice).toContainText("Before: ROSSI MARIO (01/01/1974, Male, HOSP-0042) → Now: VERDI ANNA (12/05/1980, Female, HOSP-0099)");
  expect(await page.evaluate(() => document.activeElement?.textContent ?? "")).toContain("has changed in the RIS");
  await expect(page.getByRole("heading", { name: "Confirm the import of the studies" })).toBeVisible();
  await expect(panel.getByText("VERDI ANNA")).toBeVisible();
  await expect(panel.getByText("HOSP-0099 (HOSPITAL)")).toBeVisible();
  await expect(panel.getByText("ROSSI MARIO")).toHaveCount(0);
  await expect(found.getByText(/PATIENT DOES NOT MATCH/)).toBeVisible();
  await expect(found.getByText(/PATIENT NAME DOES NOT MATCH/)).toBeVisible();
  await expect(found.getByRole("table").getByText("VERDI ANNA")).toBeVisible();
  await expect(found.getByText(/SEX DOES NOT MATCH/)).toHaveCount(1);
  await expect(found.getByText(/Sex does not match/)).toHaveCount(0);
  expect(await orthancStudies()).not.toContain(uid);
  // the new comparison needs the tick: Confirm small, red and disabled until then
  await expect(tick).not.toBeChecked();
  await expect(confirm).toBeDisabled();
  const colour = (el: Element) => getComputedStyle(el).backgroundColor;
  expect(await confirm.evaluate(colour)).toBe("rgb(179, 38, 30)");

  await page.getByLabel("Language").selectOption("it");
  await expect(page.getByRole("alert").filter({ hasText: "Il paziente dell'ordine è cambiato nel RIS" })).toBeVisible();
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot(page, "24-confirm-order-changed-italian", true);
  await page.getByLabel(it.app.language).selectOption("fr");
  await expect(page.getByRole("alert").filter({ hasText: fr.confirm.renewed.order_changed.title })).toBeVisible();
  await expect(page.getByRole("region", { name: fr.patient.title }).getByText("VERDI ANNA")).toBeVisible();
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot(page, "fr-24-confirm-order-changed", true);
  await page.getByLabel(fr.app.language).selectOption("en");

  await tick.check();
  await expect(confirm).toBeEnabled();
  await confirm.click();
  await waitForCompleted(page);
  // filed under the patient the user saw and acknowledged
  expect(await orthancStudy(uid)).toEqual({ patientName: "VERDI^ANNA", patientId: "HOSP-0099", accession: "E2E-CHANGED" });
});

for (const { code, locale, t, prefix } of LANGUAGES) {
  test.describe(`a second patient in a study (${code})`, () => {
    test.use({ locale });

    test(`a study that hides a second patient: every patient shown and compared, the tick required (${code})`, async ({ page }) => {
      const { url } = await launch(accessionIn("E2E-TWO", code));
      await page.goto(url);
      await page.getByLabel(t.folder.choose).setInputFiles(stack().media.two_patients!);
      await sendAndWaitForConfirmationIn(page, t);
      // one section per patient found on the medium, each compared once with the order's patient
      const group = (number: number, name: string) =>
        page.getByRole("region", { name: `${fillText(t.confirm.group.title_other, { number, count: 2 })}${t.common.colon}${name}` });
      await expect(page.getByRole("region", { name: catalogPattern(t.confirm.group.title_other) })).toHaveCount(2);
      const first = group(1, "ROSSI MARIO");
      const second = group(2, "ROSSI MARIA");
      await expect(first.getByRole("table")).toHaveCount(1);
      await expect(second.getByRole("table")).toHaveCount(1);
      await expect(first.getByText(within(t.confirm.overall.match))).toBeVisible();
      await expect(second.getByText(within(t.confirm.overall.mismatch))).toBeVisible();
      await expect(second.getByText(within(t.confirm.fieldLine.similar.name))).toBeVisible();
      await expect(second.getByText(within(t.confirm.fieldLine.mismatch.sex))).toHaveCount(1);
      await expect(second.getByText(within(t.identity.reason.SEX_DIFFERS))).toHaveCount(0);
      // the study (its card and tick) under the first patient says it holds both; the second names it
      const study = first.getByRole("article", { name: "TC ADDOME MISTO" });
      await expect(study.getByText(fillText(t.confirm.patients.title_other, { count: 2 }))).toBeVisible();
      await expect(study.getByText(fillText(t.confirm.patients.inGroups, { names: "ROSSI MARIO, ROSSI MARIA" }))).toBeVisible();
      await expect(second.getByText(catalogPattern(t.confirm.group.alsoHere.replace("{{study}}", "TC ADDOME MISTO")))).toBeVisible();
      await expect(page.getByRole("checkbox", { name: within(t.confirm.study.select) })).toHaveCount(1);
      // the server's gate: although the first patient matches, confirming needs the tick
      const confirm = page.getByRole("button", { name: t.confirm.confirm });
      await expect(confirm).toBeDisabled();
      await expect(page.getByLabel(t.confirm.acknowledge)).toBeVisible();
      await shot(page, `${prefix}26-confirm-two-patients`, true);
      await page.getByRole("button", { name: t.confirm.cancel }).click();
      await expect(page.getByRole("heading", { name: t.cancelled.title })).toBeVisible();
    });
  });
}

test("launch links that cannot open an import say to relaunch from the RIS", async ({ page }) => {
  const s = stack();
  await page.goto(`${s.base_url}/#token=${s.expired_token}`);
  await expect(page.getByRole("heading", { name: "This link has expired" })).toBeVisible();
  await expect(page.getByText("Close this window and start the import again from the RIS.")).toBeVisible();
  expect(page.url()).not.toContain(s.expired_token);
  await shot(page, "10-token-expired", true);

  const used = await usedLaunch("E2E-USED");
  await page.goto(used.url);
  await expect(page.getByRole("heading", { name: "This link has already been used" })).toBeVisible();
  await shot(page, "11-token-used");

  await page.goto(`${s.base_url}/#token=not-a-real-token`);
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
  // the badges compare each order with the patient on the medium, not with the shortened name typed
  const right = study.locator(".candidate").filter({ hasText: "WL-E2E-0001" });
  await expect(right).not.toContainText("DOES NOT MATCH");
  await expect(right).toContainText(/PATIENT MATCHES|DIFFERENT FORMAT/);
  await expect(study.getByText(/compare each order with the patient on the medium/)).toBeVisible();
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

for (const { code, locale, t } of LANGUAGES) {
  test.describe(`worklist search (${code})`, () => {
    test.use({ locale });

    test(`worklist search: the badges compare each order with the patient on the medium; nothing found: the advice, the RIS to check, every field cleared in one click (${code})`, async ({ page }) => {
      const { url } = await launch(null);
      await page.goto(url);
      await expect(page.getByRole("heading", { name: t.worklist.importTitle })).toBeVisible();
      await page.getByLabel(t.folder.choose).setInputFiles(stack().media.worklist_nothing!);
      await page.getByRole("button", { name: t.send.button }).click();
      await expect(page.getByRole("heading", { name: t.worklist.title })).toBeVisible({ timeout: 120_000 });
      const study = page.getByRole("article", { name: "TC TORACE" });
      const field = (label: string) => study.getByLabel(label, { exact: true });
      await expect(field(t.worklist.field.name)).toHaveValue("Verdi");
      await expect(study.getByText(fillText(t.worklist.results_one, { count: 1 }))).toBeVisible({ timeout: 60_000 });

      // a looser search (no given name): both VERDI of the day, each compared with the patient on
      // the medium, not with the fields typed: the right order is not "does not match"
      await field(t.worklist.field.given).fill("");
      await study.getByRole("button", { name: t.worklist.search }).click();
      await expect(study.getByText(fillText(t.worklist.results_other, { count: 2 }))).toBeVisible({ timeout: 60_000 });
      const order = (accession: string) => study.getByRole("listitem").filter({ hasText: accession });
      await expect(order("WL-E2E-0002")).toContainText(t.confirm.overall.mismatch);
      await expect(order("WL-E2E-0001")).not.toContainText(t.confirm.overall.mismatch);
      await expect(order("WL-E2E-0001")).toContainText(
        new RegExp(`${escapeRegExp(t.confirm.overall.match)}|${escapeRegExp(t.confirm.overall.format_different)}`),
      );
      await expect(study.getByText(t.worklist.badgeHint)).toBeVisible();

      // nothing found: what to change, the RIS to check, and every field cleared in one click
      for (const label of [t.worklist.field.name, t.worklist.field.given, t.terms.birthDate, t.worklist.field.date]) await field(label).fill("");
      await field(t.terms.accession).fill("NOPE-0000");
      await study.getByRole("button", { name: t.worklist.search }).click();
      await expect(study.getByText(t.worklist.noResults, { exact: true })).toBeVisible({ timeout: 60_000 });
      await expect(study.getByText(t.worklist.noResultsFields)).toBeVisible();
      await expect(study.getByText(t.worklist.noResultsRis)).toBeVisible();
      await study.getByRole("button", { name: t.worklist.clearAll }).click();
      await expect(field(t.terms.accession)).toHaveValue("");
      await expect(field(t.worklist.field.name)).toHaveValue("");
      await expect(field(t.terms.birthDate)).toHaveValue("");
    });
  });
}

// Point 10: a RIS that reuses one named browser window launches A, then B, in the same tab.
const LUCA = { id: "HOSP-0077", issuer: "HOSPITAL", name: "BIANCHI^LUCA", birth_date: "19850312", sex: "M" };
const SECOND_USER = { id: "tech02", name: "Paolo Conti", department: "Pronto Soccorso" };

function importIdOf(page: Page): string {
  const match = /#\/imports\/([^/]+)/.exec(page.url());
  expect(match).not.toBeNull();
  return match![1]!;
}

test.describe("a new launch in the same window replaces the session", () => {
  test("B opened in A's tab: only B's user, patient and accession; the import goes to B's order", async ({ page }) => {
    const a = await launch("E2E-SWAP-A1");
    await page.goto(a.url);
    const panel = page.getByRole("region", { name: "Patient of the order (RIS)" });
    await expect(panel.getByText("ROSSI MARIO")).toBeVisible();
    await expect(panel.getByText("E2E-SWAP-A1")).toBeVisible();

    const b = await launch("E2E-SWAP-B1", LUCA, ["clinician"], SECOND_USER);
    await watchFor(page, ["ROSSI MARIO", "E2E-SWAP-A1", "Giulia Bianchi", "HOSP-0042"]);
    await page.goto(b.url);
    await expect(panel.getByText("BIANCHI LUCA")).toBeVisible();
    await expect(panel.getByText("E2E-SWAP-B1")).toBeVisible();
    await expect(panel.getByText("HOSP-0077 (HOSPITAL)")).toBeVisible();
    await expect(page.getByText("Signed in: Paolo Conti (Pronto Soccorso)")).toBeVisible();
    await expect(page.getByText("No earlier import for this order.")).toBeVisible();

    await pickFolder(page, stack().media.swap!);
    await sendAndWaitForConfirmation(page);
    await expect(page.getByRole("region", { name: "Patient of the order (RIS)" }).getByText("E2E-SWAP-B1")).toBeVisible();
    const id = importIdOf(page);
    expect(await orderImports("E2E-SWAP-B1")).toContain(id);
    expect(await orderImports("E2E-SWAP-A1")).toEqual([]);

    // Back, and back again to A's page: this tab's session is B's, so B's order is shown
    for (let step = 0; step < 2; step++) {
      await page.goBack();
      await expect(page.getByRole("region", { name: "Patient of the order (RIS)" }).getByText("E2E-SWAP-B1")).toBeVisible();
    }
    await expect(page.getByText("Signed in: Paolo Conti (Pronto Soccorso)")).toBeVisible();
    // never, not even for a moment, anything of A's session
    expect(await seen(page)).toEqual([]);
  });

  test("B arrives while A's import screen holds a medium: A's screen and medium are gone, B's import is filed under B", async ({ page }) => {
    const a = await launch("E2E-SWAP-A2");
    await page.goto(a.url);
    await pickFolder(page, stack().media.match!);
    await expect(page.getByRole("heading", { name: "What will be sent" })).toBeVisible();

    const b = await launch("E2E-SWAP-B2", LUCA, ["clinician"], SECOND_USER);
    await watchFor(page, ["ROSSI MARIO", "E2E-SWAP-A2", "Giulia Bianchi", "HOSP-0042"]);
    await page.goto(b.url);
    const panel = page.getByRole("region", { name: "Patient of the order (RIS)" });
    await expect(panel.getByText("BIANCHI LUCA")).toBeVisible();
    await expect(panel.getByText("E2E-SWAP-B2")).toBeVisible();
    await expect(page.getByRole("heading", { name: "What will be sent" })).toHaveCount(0);

    await pickFolder(page, stack().media.swap!);
    await sendAndWaitForConfirmation(page);
    const id = importIdOf(page);
    const found = page.getByRole("region", { name: "Patient found on the medium (DICOM): BIANCHI LUCA" });
    await expect(found.getByRole("article", { name: "RX GINOCCHIO" })).toBeVisible();
    await expect(found.getByText(/PATIENT MATCHES/)).toBeVisible();
    await page.getByRole("button", { name: "Confirm import" }).click();
    await waitForCompleted(page);
    const uid = (await page.locator(".card .uid").first().textContent())!.trim();
    expect(await orthancStudy(uid)).toEqual({ patientName: "BIANCHI^LUCA", patientId: "HOSP-0077", accession: "E2E-SWAP-B2" });
    expect(await orderImports("E2E-SWAP-B2")).toEqual([id]);
    expect(await orderImports("E2E-SWAP-A2")).toEqual([]);
    expect(await seen(page)).toEqual([]);
  });

  test("even a link that cannot be opened ends the former session", async ({ page }) => {
    const a = await launch("E2E-SWAP-A3");
    await page.goto(a.url);
    await expect(page.getByRole("region", { name: "Patient of the order (RIS)" }).getByText("E2E-SWAP-A3")).toBeVisible();
    await watchFor(page, ["ROSSI MARIO", "E2E-SWAP-A3", "Giulia Bianchi"]);
    await page.goto(`${stack().base_url}/#token=not-a-real-token`);
    await expect(page.getByRole("heading", { name: "This link is not valid" })).toBeVisible();
    await page.goto(`${stack().base_url}/#/import`);
    await expect(page.getByRole("heading", { name: "Your session has ended" })).toBeVisible();
    expect(await seen(page)).toEqual([]);
  });
});

const REFERENT = { id: "ref01", name: "Marco Neri", department: "Radiologia" };

async function importToTemporaryZone(page: Page, folder: string, t: Translation = en) {
  await page.getByRole("radio", { name: t.zone.temporary }).check();
  await expect(page.getByRole("heading", { name: t.zone.importTitle })).toBeVisible();
  await page.getByLabel(t.folder.choose).setInputFiles(folder);
  await page.getByRole("button", { name: t.send.button }).click();
  await expect(page.getByRole("heading", { name: t.zone.confirmTitle })).toBeVisible({ timeout: 120_000 });
  await page.getByRole("button", { name: t.zone.confirm }).click();
  await expect(page.getByText(t.zone.completed)).toBeVisible({ timeout: 120_000 });
}

test("temporary zone: import for an unknown patient → review list → promote to a worklist order; purge another", async ({ page }) => {
  const { url } = await launch(null, undefined, ["clinician", "temporary_zone"], REFERENT);
  await page.goto(url);
  await expect(page.getByRole("group", { name: "Where do the studies go?" })).toBeVisible();
  await expect(page.getByRole("radio", { name: "The PACS, for an order found in the worklist" })).toBeChecked();
  await importToTemporaryZone(page, stack().media.temporary_purge!);
  await page.getByRole("link", { name: "Import another medium" }).click();
  await importToTemporaryZone(page, stack().media.temporary!);
  // no order: the monitoring neither says "imported" nor offers to go back to an order
  await expect(page.getByRole("link", { name: "Back to the order" })).toHaveCount(0);
  await shot(page, "19-temporary-kept", true);

  await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Temporary zone" }).click();
  await expect(page.getByRole("heading", { name: "Temporary zone", level: 1 })).toBeVisible();
  // this referent's own imports (the translated guides' journeys keep theirs in the same zone)
  const lucia = page.getByRole("article", { name: /Bianchi Lucia/i }).filter({ hasText: "Marco Neri" });
  const paolo = page.getByRole("article", { name: /Neri Paolo/i }).filter({ hasText: "Marco Neri" });
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

  // promote: the order searched in the worklist as in worklist mode (pre-filled from the medium:
  // by name and birth date, no accession number to find elsewhere), compared with the medium
  const details = await lucia.getByRole("link", { name: "Details" }).getAttribute("href");
  await lucia.getByRole("button", { name: "Promote to an order" }).click();
  await expect(lucia.getByLabel("Family name")).toHaveValue(/bianchi/i);
  await expect(lucia.getByLabel("Accession number")).toHaveValue("");
  // an order of another patient first: the safe choice is the large one, and the keyboard meets
  // it before the small red Promote, which waits for the tick
  await lucia.getByLabel("Accession number").fill("WL-E2E-0003");
  await lucia.getByRole("button", { name: "Search the worklist" }).click();
  const other = lucia.locator(".candidate").filter({ hasText: "WL-E2E-0003" });
  await other.getByRole("radio").check({ timeout: 60_000 });
  await expect(lucia.getByText(/PATIENT DOES NOT MATCH/).first()).toBeVisible({ timeout: 60_000 });
  const keep = lucia.getByRole("button", { name: "Keep it here and choose another order" });
  const risky = lucia.getByRole("button", { name: "Promote to order WL-E2E-0003" });
  const ack = lucia.getByLabel("I confirm the identity checks");
  await expect(risky).toBeDisabled();
  await ack.check();
  await expect(risky).toBeEnabled();
  await expectCancelBeforeConfirm(page, ack, keep, risky);
  expect((await keep.boundingBox())!.height).toBeGreaterThan((await risky.boundingBox())!.height);
  await keep.click();
  await expect(lucia.getByRole("heading", { name: /Check the patient of order/ })).toHaveCount(0);
  await lucia.getByLabel("Accession number").fill("");
  await lucia.getByRole("button", { name: "Search the worklist" }).click();
  const order = lucia.locator(".candidate").filter({ hasText: "WL-E2E-0004" });
  await expect(order).toContainText("DIFFERENT FORMAT", { timeout: 60_000 });
  await order.getByRole("radio").check();
  await expect(lucia.getByRole("heading", { name: "Check the patient of order WL-E2E-0004" })).toBeVisible();
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

/** Per language: new UIDs for the medium purged, and the referent who purges it. */
const PURGED = {
  en: { root: "1.2.826.0.1.3680043.8.489.", referent: { id: "ref-purge-en", name: "Sara Galli", department: "Radiologia" } },
  it: { root: "1.2.826.0.1.3680043.8.490.", referent: { id: "ref-purge-it", name: "Luca Ferri", department: "Radiologia" } },
  fr: { root: "1.2.826.0.1.3680043.8.491.", referent: { id: "ref-purge-fr", name: "Julie Moreau", department: "Radiologie" } },
};

for (const { code, locale, t, prefix } of LANGUAGES) {
  test.describe(`a purged import (${code})`, () => {
    test.use({ locale });

    test(`temporary zone: a purged import's monitoring says "purged" as its final state and stops following it (${code})`, async ({ page }) => {
      const { root, referent } = PURGED[code];
      const { url } = await launch(null, undefined, ["clinician", "temporary_zone"], referent);
      await page.goto(url);
      await importToTemporaryZone(page, freshCopy(stack().media.temporary_purge!, root, tempFolder()), t);
      const id = importIdOf(page);
      // no order: the monitoring neither says "imported" nor offers to go back to an order
      await expect(page.getByRole("link", { name: t.monitor.backToOrder })).toHaveCount(0);
      await expect(page.getByRole("link", { name: t.monitor.anotherMedium })).toBeVisible();
      const kept = page.getByRole("region", { name: /^RX MANO/ });
      await expect(kept).toContainText(t.monitor.studyOutcome.kept);
      await expect(kept.getByText(t.monitor.studyOutcome.done, { exact: true })).toHaveCount(0);

      // purged from the temporary zone, after its confirmation dialog ("No" keeps it)
      await page.getByRole("navigation", { name: t.nav.label }).getByRole("link", { name: t.nav.temporary }).click();
      await expect(page.getByRole("heading", { name: t.temporary.title, level: 1 })).toBeVisible();
      const paolo = page.getByRole("article", { name: /Neri Paolo/i }).filter({ hasText: referent.name });
      await expect(paolo).toContainText("RX MANO");
      await paolo.getByRole("button", { name: t.temporary.purge, exact: true }).click();
      const dialog = page.getByRole("dialog", { name: t.temporary.purgeTitle });
      await expect(dialog).toBeVisible();
      await expect(dialog).toContainText(catalogPattern(t.temporary.purgeBody));
      // the English dialog is the temporary-zone journey's
      if (code !== "en") await shot(page, `${prefix}21-temporary-purge-dialog`, true);
      await dialog.getByRole("button", { name: t.temporary.keep }).click();
      await expect(dialog).toBeHidden();
      await expect(paolo).toBeVisible();
      await paolo.getByRole("button", { name: t.temporary.purge, exact: true }).click();
      await dialog.getByRole("button", { name: t.temporary.purgeConfirm }).click();
      await expect(page.getByText(catalogPattern(t.temporary.purged))).toBeVisible();
      await expect(paolo).toHaveCount(0);

      // its monitoring page, opened afresh: "purged", final; the event stream is not asked for again
      const streams: string[] = [];
      page.on("request", (request) => {
        if (new URL(request.url()).pathname === `/api/v1/imports/${id}/events`) streams.push(request.url());
      });
      await page.goto(`${stack().base_url}/#/imports/${id}`);
      await page.reload();
      await expect(page.getByRole("heading", { name: t.monitor.title })).toBeVisible();
      await expect(statusBadge(page, t.status.purged)).toBeVisible();
      await expect(page.getByText(t.monitor.outcome.purged)).toBeVisible();
      // its study no longer says it is kept: our copy of it is gone
      const gone = page.getByRole("region", { name: /^RX MANO/ });
      await expect(gone).toContainText(t.monitor.studyOutcome.purged);
      await expect(gone.getByText(t.monitor.studyOutcome.kept, { exact: true })).toHaveCount(0);
      const shown = streams.length;
      await expect(page.getByText(t.monitor.live)).toHaveCount(0);
      await expect(page.getByText(t.monitor.polling)).toHaveCount(0);
      await expect(page.getByText(t.monitor.closeNotice)).toHaveCount(0);
      await expect(page.getByRole("button", { name: t.monitor.retry })).toHaveCount(0);
      // a reconnecting page would ask for the stream every second or so: watch it for 3 s
      await page.waitForTimeout(3_000);
      expect(streams.length - shown, "event-stream requests in the 3 s after the purged label showed").toBeLessThanOrEqual(1);
      expect(streams.length, "event-stream requests since the page was opened").toBeLessThanOrEqual(1);
      await expect(statusBadge(page, t.status.purged)).toBeVisible();
      await shot(page, `${prefix}44-monitor-purged`, true);
    });
  });
}

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
    await expect(page.getByRole("heading", { name: "Confirmer l'import des études" })).toBeVisible();
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
    await expect(page.getByRole("heading", { name: "Confirmer l'import des études" })).toBeVisible();
    await page.getByRole("button", { name: "Annuler l'import" }).click();
    await expect(page.getByRole("heading", { name: "Import annulé" })).toBeVisible();
  });
});
