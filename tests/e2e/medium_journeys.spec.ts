/**
 * A medium removed while its ZIP is being sent (issue 14's leftovers): the transfer gets no answer
 * either way, but the clerk is told the file on the medium can no longer be read and to put it
 * back and select it again — not that the server cannot be reached. In Italian and French, whose
 * summary also puts the catalog's colon (French: a space before it) between a label and its value.
 *
 * The ZIP is sent as it is (Files tab), so the bytes are read from the chosen file while the
 * transfer runs; the page holds the upload's PATCH requests after the first one, the file is
 * deleted, and the held request then fails as a dropped connection does.
 */
import { expect, test, type Route } from "@playwright/test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { launch, zipOf } from "./helpers";

const FIXTURES = join(__dirname, "..", "..", "frontend", "src", "media", "__fixtures__");
const CHUNK_MB = 1 / 256; // 4096 bytes: the ZIP goes in several PATCHes

const root = mkdtempSync(join(tmpdir(), "pmi-medium-journeys-"));
test.afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A ZIP of the two fixture studies, as a USB stick would hold it: a file of its own per journey. */
function usbZip(name: string): string {
  const path = join(root, name);
  writeFileSync(
    path,
    zipOf([
      { name: "DICOM/CT1", data: readFileSync(join(FIXTURES, "CT_small.dcm")) },
      { name: "DICOM/MR1", data: readFileSync(join(FIXTURES, "MR_small.dcm")) },
    ]),
  );
  return path;
}

const WORDS = {
  "it-IT": {
    filesTab: "File",
    chooseFiles: "Scegli file",
    summary: "Cosa verrà inviato",
    names: /^Cognome e nome dei pazienti sul supporto: \S/,
    send: "Comprimi e invia studio",
    transferring: "Trasferimento dello studio…",
    medium: /^Trasferimento interrotto: il file sul supporto non è più leggibile .*Reinserisci il supporto, poi selezionalo di nuovo/,
    network: /server non è raggiungibile/,
    tryAgain: "Riprova",
    chooseOther: "Scegli un altro supporto",
  },
  "fr-FR": {
    filesTab: "Fichiers",
    chooseFiles: "Choisir des fichiers",
    summary: "Ce qui sera envoyé",
    names: /^Nom et prénom des patients sur le support : \S/,
    send: "Compresser et envoyer",
    transferring: "Transfert en cours…",
    medium: /^Le transfert s'est arrêté : le fichier sur le support ne peut plus être lu .*Remettez le support en place, puis sélectionnez-le de nouveau/,
    network: /serveur est injoignable/,
    tryAgain: "Réessayer",
    chooseOther: "Choisir un autre support",
  },
} as const;

test.afterEach(async ({ page }) => {
  await page.unrouteAll({ behavior: "ignoreErrors" });
});

for (const [locale, w] of Object.entries(WORDS)) {
  test.describe(locale, () => {
    test.use({ locale });
    const tag = locale.slice(0, 2).toUpperCase();

    test(`medium: a USB stick removed mid-transfer says to put it back, not that the server is unreachable (${locale})`, async ({ page }) => {
      const zip = usbZip(`usb-${tag}.zip`);
      const held: Route[] = [];
      let passed = 0;
      await page.route("**/config.json", (route) => route.fulfill({ json: { uploadChunkMegabytes: CHUNK_MB } }));
      await page.route("**/api/v1/uploads/**", (route) => {
        if (route.request().method() !== "PATCH" || passed++ < 1) return route.continue();
        held.push(route);
      });
      const { url } = await launch(`E2E-MEDIUM-${tag}`);
      await page.goto(url);
      await page.getByRole("tab", { name: w.filesTab }).click();
      await page.getByLabel(w.chooseFiles).setInputFiles(zip);
      await expect(page.getByRole("heading", { name: w.summary })).toBeVisible();
      // label and value joined by the catalog's colon (French: « … : … »)
      await expect(page.locator("p", { hasText: w.names })).toBeVisible();

      await page.getByRole("button", { name: w.send }).click();
      await expect(page.getByText(w.transferring)).toBeVisible();
      await expect.poll(() => held.length).toBeGreaterThan(0);

      // the stick is pulled out: the file is gone, and the request under way never completes
      rmSync(zip);
      await held[0]!.abort("connectionreset");

      const alert = page.getByRole("alert");
      await expect(alert.getByText(w.medium)).toBeVisible();
      await expect(alert.getByText(w.network)).toHaveCount(0);
      // retrying the same (unreadable) file cannot help: the way on is to select it again
      await expect(page.getByRole("button", { name: w.tryAgain })).toHaveCount(0);
      await expect(page.getByRole("button", { name: w.chooseOther })).toBeVisible();
    });
  });
}
