/**
 * Worklist mode (a launch without an order) without a dead end: a medium whose studies the PACS
 * holds already ends with the emphasised button (completed, nothing sent), and a patient the
 * worklist does not know goes to the temporary zone without loading the medium again.
 */
import { expect, test, type Page } from "@playwright/test";
import { ORDER_PATIENT, launch, orthancStudies, shot, stack, storeOnPacs, tabToken } from "./helpers";

interface Words {
  pickFolder: string;
  send: string;
  findTitle: string;
  allPresentTitle: string;
  end: string;
  cancel: string;
  monitorTitle: string;
  nothingSent: string;
  familyName: string;
  givenName: string;
  birthDate: string;
  scheduledDate: string;
  accession: string;
  search: string;
  noResults: string;
  toTemporary: string;
  keepTitle: string;
  keep: string;
  kept: string;
}

const EN: Words = {
  pickFolder: "Select folder",
  send: "Compress and send",
  findTitle: "Find the order of each study in the worklist",
  allPresentTitle: "Every study on this medium is already on the PACS",
  end: "End the import (nothing to send)",
  cancel: "Cancel import",
  monitorTitle: "Import progress",
  nothingSent: "Every selected study was already on the PACS: nothing was sent.",
  familyName: "Family name",
  givenName: "Given name",
  birthDate: "Birth date",
  scheduledDate: "Scheduled date",
  accession: "Accession number",
  search: "Search the worklist",
  noResults: "No order found",
  toTemporary: "Send to the temporary zone",
  keepTitle: "Keep the studies in the temporary zone",
  keep: "Keep in the temporary zone",
  kept: "Completed: the studies are kept in the temporary zone for review.",
};

const IT: Partial<Words> = {
  pickFolder: "Seleziona cartella",
  send: "Comprimi e invia studio",
  findTitle: "Trova l'ordine di ogni studio nella worklist",
  // the Italian procedure's own words for a medium already on the PACS
  allPresentTitle: "Import non possibile. Studio già presente sul PACS",
  end: "Termina importazione (nulla da inviare)",
  cancel: "Annulla importazione",
  monitorTitle: "Monitoraggio elaborazione",
  nothingSent: "Tutti gli studi selezionati erano già presenti su PACS: non è stato inviato nulla.",
  familyName: "Cognome",
  givenName: "Nome",
  birthDate: "Data di nascita",
  scheduledDate: "Data programmata",
  accession: "Accession Number",
  search: "Cerca nella worklist",
  noResults: "Nessun ordine trovato",
  toTemporary: "Invia alla zona temporanea",
  keepTitle: "Conserva gli studi nella zona temporanea",
  keep: "Conserva nella zona temporanea",
  kept: "Completata: gli studi sono conservati nella zona temporanea per la revisione.",
};

const FR: Partial<Words> = {
  pickFolder: "Sélectionner le dossier",
  send: "Compresser et envoyer",
  findTitle: "Trouver l'examen de chaque étude dans la worklist",
  allPresentTitle: "Toutes les études de ce support sont déjà présentes sur le PACS",
  end: "Terminer l'import (rien à envoyer)",
  cancel: "Annuler l'import",
  monitorTitle: "Suivi de l'import",
  nothingSent: "Toutes les études sélectionnées étaient déjà présentes sur le PACS : rien n'a été envoyé.",
  familyName: "Nom",
  givenName: "Prénom",
  birthDate: "Date de naissance",
  scheduledDate: "Date prévue",
  accession: "Numéro d'accession",
  search: "Rechercher dans la worklist",
  noResults: "Aucun examen trouvé",
  toTemporary: "Envoyer dans la zone temporaire",
  keepTitle: "Garder les études dans la zone temporaire",
  keep: "Garder dans la zone temporaire",
  kept: "Terminé : les études sont gardées dans la zone temporaire pour revue.",
};

/** The import as the API tells it to this tab's session. */
async function importOf(page: Page, id: string): Promise<{ status: string; zone: string; order: unknown }> {
  const token = await tabToken(page);
  const response = await fetch(`${stack().base_url}/api/v1/imports/${id}`, { headers: { Authorization: `Bearer ${token}` } });
  expect(response.status).toBe(200);
  return (await response.json()) as { status: string; zone: string; order: unknown };
}

function importIdOf(page: Page): string {
  const match = /#\/imports\/([^/]+)/.exec(page.url());
  expect(match).not.toBeNull();
  return match![1]!;
}

async function loadWithoutOrder(page: Page, w: Words, folder: string, roles = ["clinician"]) {
  const { url } = await launch(null, ORDER_PATIENT, roles);
  await page.goto(url);
  await page.getByLabel(w.pickFolder).setInputFiles(folder);
  await page.getByRole("button", { name: w.send }).click();
  await expect(page.getByRole("heading", { name: w.findTitle })).toBeVisible({ timeout: 120_000 });
}

/** Search the worklist for an order that does not exist: nothing found. */
async function searchNothing(page: Page, w: Words, description: string) {
  const study = page.getByRole("article", { name: description });
  await expect(study.getByLabel(w.familyName, { exact: true })).not.toHaveValue("", { timeout: 60_000 });
  for (const label of [w.familyName, w.givenName, w.birthDate, w.scheduledDate]) await study.getByLabel(label, { exact: true }).fill("");
  await study.getByLabel(w.accession).fill("NOPE-0404");
  await study.getByRole("button", { name: w.search }).click();
  await expect(study.getByText(w.noResults, { exact: true })).toBeVisible({ timeout: 60_000 });
  return study;
}

async function allPresentJourney(page: Page, w: Words, folder: string, screenshot?: string) {
  await storeOnPacs(folder);
  const before = await orthancStudies();
  await loadWithoutOrder(page, w, folder);
  // not a dead end: the notice in the seed's words, and the emphasised button ends the import
  await expect(page.getByText(w.allPresentTitle, { exact: true })).toBeVisible();
  const end = page.getByRole("button", { name: w.end });
  await expect(end).toBeEnabled();
  await expect(end).toHaveClass(/button-large/);
  await expect(page.getByRole("button", { name: w.cancel, exact: true })).not.toHaveClass(/button-large/);
  if (screenshot) await shot(page, screenshot, true);
  await end.click();
  await expect(page.getByRole("heading", { name: w.monitorTitle })).toBeVisible();
  await expect(page.getByText(w.nothingSent)).toBeVisible({ timeout: 60_000 });
  const imp = await importOf(page, importIdOf(page));
  expect([imp.status, imp.order]).toEqual(["completed", null]);
  expect(await orthancStudies()).toEqual(before); // nothing sent again
}

test("worklist mode, every study already on the PACS: the notice and End the import → completed, nothing sent", async ({ page }) => {
  await allPresentJourney(page, EN, stack().media.dead_end_present_en!, "40-worklist-all-present");
});

test.describe("worklist mode in Italian", () => {
  test.use({ locale: "it-IT" });

  test("every study already on the PACS: the Italian procedure's notice and Termina importazione", async ({ page }) => {
    await allPresentJourney(page, { ...EN, ...IT }, stack().media.dead_end_present_it!, "it-40-worklist-all-present");
  });

  test("nulla trovato: un referente invia l'importazione alla zona temporanea", async ({ page }) => {
    await toTemporaryJourney(page, { ...EN, ...IT }, stack().media.dead_end_temporary_it!, "it-41-worklist-to-temporary");
  });
});

async function toTemporaryJourney(page: Page, w: Words, folder: string, screenshot?: string) {
  await loadWithoutOrder(page, w, folder, ["clinician", "temporary_zone"]);
  const study = await searchNothing(page, w, "RX TORACE");
  const id = importIdOf(page);
  if (screenshot) await shot(page, screenshot, true);
  await study.getByRole("button", { name: w.toTemporary }).click();
  // the same import, now confirmed as the temporary zone's: no order, no identity to compare
  await expect(page.getByRole("heading", { name: w.keepTitle })).toBeVisible();
  expect(importIdOf(page)).toBe(id);
  await page.getByRole("button", { name: w.keep }).click();
  await expect(page.getByText(w.kept)).toBeVisible({ timeout: 120_000 });
  const imp = await importOf(page, id);
  expect([imp.status, imp.zone, imp.order]).toEqual(["completed", "temporary", null]);
}

test("worklist mode, nothing found: a referent sends the import to the temporary zone and keeps it there", async ({ page }) => {
  const before = await orthancStudies();
  await toTemporaryJourney(page, EN, stack().media.dead_end_temporary_en!, "41-worklist-to-temporary");
  expect(await orthancStudies()).toEqual(before); // kept for review, not on the PACS
});

test("worklist mode, nothing found: without the temporary_zone role the button is not offered", async ({ page }) => {
  await loadWithoutOrder(page, EN, stack().media.worklist_nothing!);
  const study = await searchNothing(page, EN, "TC TORACE");
  await expect(study.getByRole("button", { name: "Clear all fields" })).toBeVisible();
  await expect(page.getByRole("button", { name: EN.toTemporary })).toHaveCount(0);
  // nor does the server move it for this session
  const token = await tabToken(page);
  const response = await fetch(`${stack().base_url}/api/v1/imports/${importIdOf(page)}/temporary`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}` },
  });
  expect(response.status).toBe(403);
  expect(((await response.json()) as { error: { code: string } }).error.code).toBe("role_required");
  expect((await importOf(page, importIdOf(page))).zone).toBe("pacs");
});

test.describe("worklist mode in French", () => {
  test.use({ locale: "fr-FR" });

  test("toutes les études déjà sur le PACS : Terminer l'import, rien n'est envoyé", async ({ page }) => {
    await allPresentJourney(page, { ...EN, ...FR }, stack().media.dead_end_present_fr!, "fr-40-worklist-all-present");
  });

  test("rien trouvé : un référent envoie l'import dans la zone temporaire", async ({ page }) => {
    await toTemporaryJourney(page, { ...EN, ...FR }, stack().media.dead_end_temporary_fr!, "fr-41-worklist-to-temporary");
  });
});
