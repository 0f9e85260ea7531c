/**
 * The user guide's journeys with the browser in Italian and in French: the screens the clerk sees,
 * in the clerk's language. With E2E_DOCS_SCREENSHOTS=1 they become docs/screenshots/it-*.png and
 * fr-*.png for docs/user-guide.it.md and docs/user-guide.fr.md; otherwise the journeys run and
 * each screen is checked for a few of its words, written out here (not read from the catalogs),
 * so a screen that fell back to English fails.
 */
import { expect, test, type Page } from "@playwright/test";
import type { Translation } from "../../frontend/src/i18n/en";
import fr from "../../frontend/src/i18n/fr";
import it from "../../frontend/src/i18n/it";
import { expectCancelBeforeConfirm, launch, shot, stack } from "./helpers";

/** A catalog string with its {{placeholders}} filled. */
function fill(text: string, values: Record<string, string | number> = {}): string {
  return text.replace(/\{\{(\w+)\}\}/g, (_, name: string) => String(values[name] ?? ""));
}

/** The words each screen must show, as the seeds write them. */
interface Words {
  orderPatient: string;
  accession: string;
  previous: string;
  summary: string;
  confirmTitle: string;
  studyUid: string;
  match: string;
  nameLine: string;
  completed: string;
  onPacs: string;
  cancelled: string;
  expired: string;
  worklistTitle: string;
  hospitalId: string;
  temporary: string;
  audit: string;
  hideFinished: string;
}

const LANGUAGES: { code: "it" | "fr"; locale: string; t: Translation; words: Words }[] = [
  {
    code: "it",
    locale: "it-IT",
    t: it,
    words: {
      orderPatient: "Paziente dell'ordine (RIS)",
      accession: "Accession Number",
      previous: "Importazioni precedenti (con log)",
      summary: "Cosa verrà inviato",
      confirmTitle: "Conferma import studi",
      studyUid: "UID dello studio",
      match: "PAZIENTE CORRISPONDE",
      nameLine: "COGNOME E NOME SIMILI – VERIFICARE",
      completed: "Completato",
      onPacs: "Già presente su PACS, rimosso da importazione",
      cancelled: "Importazione annullata",
      expired: "Collegamento scaduto",
      worklistTitle: "worklist",
      hospitalId: "ID Ospedale",
      temporary: "Zona temporanea",
      audit: "Registro di audit",
      hideFinished: "Nascondi le importazioni concluse",
    },
  },
  {
    code: "fr",
    locale: "fr-FR",
    t: fr,
    words: {
      orderPatient: "Patient de l'examen (RIS)",
      accession: "Numéro d'accession",
      previous: "Imports précédents (avec journal)",
      summary: "Ce qui sera envoyé",
      confirmTitle: "Confirmer l'import des études",
      studyUid: "UID de l'étude",
      match: "PATIENT CORRESPONDANT",
      nameLine: "NOM ET PRÉNOM PROCHES – À VÉRIFIER",
      completed: "Terminé",
      onPacs: "Déjà présente sur le PACS, retirée de l'import",
      cancelled: "Import annulé",
      expired: "Ce lien a expiré",
      worklistTitle: "worklist",
      hospitalId: "IPP",
      temporary: "Zone temporaire",
      audit: "Piste d'audit",
      // the French procedure's "retirer les tâches finalisées"
      hideFinished: "Retirer les imports finalisés",
    },
  },
];

for (const { code, locale, t, words } of LANGUAGES) {
  test.describe(`translated guide (${code})`, () => {
    test.use({ locale });

    async function pickFolder(page: Page, folder: string) {
      await page.getByLabel(t.folder.choose).setInputFiles(folder);
    }

    async function sendAndWaitForConfirmation(page: Page) {
      await page.getByRole("button", { name: t.send.button }).click();
      await expect(page.getByRole("heading", { name: t.confirm.title })).toBeVisible({ timeout: 120_000 });
    }

    test(`translated guide (${code}): order, summary, confirm, monitoring, previous imports, already on PACS, cancelled`, async ({ page }) => {
      const accession = `E2E-DOCS-${code.toUpperCase()}`;
      const { url } = await launch(accession);
      await page.goto(url);
      await expect(page.locator("html")).toHaveAttribute("lang", code);
      const panel = page.getByRole("region", { name: words.orderPatient });
      await expect(panel.getByText("ROSSI MARIO")).toBeVisible();
      await expect(panel).toContainText(words.accession);
      await expect(panel).toContainText(words.hospitalId);
      await expect(page.getByText(t.previous.empty)).toBeVisible();
      await shot(page, `${code}-01-import`, true);

      await pickFolder(page, stack().media[`docs_${code}_match`]!);
      await expect(page.getByRole("heading", { name: words.summary })).toBeVisible();
      await expect(page.getByText(t.summary.fromDicomdir)).toBeVisible();
      await shot(page, `${code}-02-summary`, true);

      await sendAndWaitForConfirmation(page);
      await expect(page.getByRole("heading", { name: words.confirmTitle })).toBeVisible();
      const study = page.getByRole("article", { name: "TC TORACE" });
      await expect(page.getByRole("main").getByText(new RegExp(words.match)).first()).toBeVisible();
      await expect(study).toContainText(words.studyUid);
      await expect(study).toContainText(words.accession);
      await shot(page, `${code}-03-confirm-match`, true);

      await page.getByRole("button", { name: t.confirm.confirm }).click();
      await expect(page.getByRole("heading", { name: t.monitor.title })).toBeVisible();
      await expect(page.getByText(t.monitor.outcome.completed)).toBeVisible({ timeout: 120_000 });
      await expect(page.getByText(t.monitor.supportId)).toBeVisible();
      await shot(page, `${code}-04-monitor-completed`, true);

      await page.getByRole("link", { name: t.monitor.backToOrder }).click();
      const previous = page.getByRole("region", { name: words.previous });
      await expect(previous.getByRole("cell", { name: words.completed, exact: true })).toBeVisible();
      await expect(previous).toContainText(words.studyUid);
      await shot(page, `${code}-05-previous-imports`, true);
      // finished imports can be hidden, and the choice is kept on reload
      await previous.getByLabel(words.hideFinished).check();
      await expect(previous.getByRole("cell", { name: words.completed, exact: true })).toHaveCount(0);
      await expect(previous.getByText(t.previous.allFinishedHidden)).toBeVisible();
      await page.reload();
      await expect(previous.getByLabel(words.hideFinished)).toBeChecked();
      await previous.getByLabel(words.hideFinished).uncheck();
      await expect(previous.getByRole("cell", { name: words.completed, exact: true })).toBeVisible();

      // the same medium again: its study is already on the PACS
      await pickFolder(page, stack().media[`docs_${code}_match`]!);
      await sendAndWaitForConfirmation(page);
      await expect(study.getByText(words.onPacs)).toBeVisible();
      // the emphasised button ends the import (pressed in journeys.spec.ts); here the guide cancels
      const end = page.getByRole("button", { name: t.confirm.allPresent.end });
      await expect(end).toBeEnabled();
      await expect(page.getByRole("button", { name: t.confirm.confirm })).toHaveCount(0);
      const cancel = page.getByRole("button", { name: t.confirm.cancel });
      expect((await end.boundingBox())!.height).toBeGreaterThan((await cancel.boundingBox())!.height);
      await shot(page, `${code}-09-confirm-already-on-pacs`, true);

      await page.getByRole("button", { name: t.confirm.cancel }).click();
      await expect(page.getByRole("heading", { name: words.cancelled })).toBeVisible();
      await shot(page, `${code}-08-cancelled`, true);
    });

    test(`translated guide (${code}): a patient who does not match`, async ({ page }) => {
      const { url } = await launch(`E2E-DOC-${code.toUpperCase()}-MM`);
      await page.goto(url);
      await pickFolder(page, stack().media[`docs_${code}_mismatch`]!);
      await sendAndWaitForConfirmation(page);
      const main = page.getByRole("main");
      await expect(main.getByRole("article", { name: "RM ENCEFALO" })).toBeVisible();
      await expect(main.getByText(new RegExp(t.confirm.overall.mismatch)).first()).toBeVisible();
      await expect(main.getByText(words.nameLine).first()).toBeVisible();
      const tick = page.getByLabel(t.confirm.acknowledge);
      const confirm = page.getByRole("button", { name: t.confirm.confirm });
      const cancel = page.getByRole("button", { name: t.confirm.cancel });
      await expect(tick).toBeVisible();
      await expect(confirm).toBeDisabled();
      await shot(page, `${code}-06-confirm-mismatch`, true);
      await tick.check();
      await expect(confirm).toBeEnabled();
      await expectCancelBeforeConfirm(page, tick, cancel, confirm);
      await cancel.click();
      await expect(page.getByRole("heading", { name: words.cancelled })).toBeVisible();
    });

    test(`translated guide (${code}): a link that has expired`, async ({ page }) => {
      await page.goto(`${stack().base_url}/#token=${stack().expired_token}`);
      await expect(page.getByRole("heading", { name: words.expired })).toBeVisible();
      await expect(page.getByText(t.launch.relaunch)).toBeVisible();
      await shot(page, `${code}-10-token-expired`, true);
    });

    test(`translated guide (${code}): worklist mode`, async ({ page }) => {
      const { url } = await launch(null);
      await page.goto(url);
      await expect(page.getByRole("heading", { name: t.worklist.importTitle })).toBeVisible();
      await pickFolder(page, stack().media[`docs_${code}_worklist`]!);
      await page.getByRole("button", { name: t.send.button }).click();
      await expect(page.getByRole("heading", { name: t.worklist.title })).toBeVisible({ timeout: 120_000 });
      await expect(page.getByRole("heading", { name: t.worklist.title })).toContainText(words.worklistTitle);
      const study = page.getByRole("article", { name: "TC TORACE" });
      await expect(study.getByLabel(t.worklist.field.name, { exact: true })).toHaveValue("Verdi");
      await expect(study.getByLabel(t.worklist.field.given, { exact: true })).toHaveValue("Giuseppe");
      await expect(study.getByText(fill(t.worklist.results_one, { count: 1 }))).toBeVisible({ timeout: 60_000 });
      await expect(study).toContainText(words.hospitalId);
      await study.getByRole("radio", { name: /VERDI GIUSEPPE/ }).check();
      await expect(study.getByText(fill(t.worklist.chosen, { accession: "WL-E2E-0001" }))).toBeVisible();
      await shot(page, `${code}-16-worklist-search`, true);

      await page.getByRole("button", { name: t.worklist.toValidation }).click();
      await expect(page.getByRole("heading", { name: t.worklist.validateTitle })).toBeVisible();
      await expect(page.getByRole("article", { name: new RegExp(fill(t.monitor.order, { accession: "WL-E2E-0001" })) })).toBeVisible();
      await expect(page.getByText(t.confirm.orderPatient).first()).toBeVisible();
      await shot(page, `${code}-17-worklist-identity`, true);
      await page.getByRole("button", { name: t.confirm.cancel }).click();
      await expect(page.getByRole("heading", { name: words.cancelled })).toBeVisible();
    });

    test(`translated guide (${code}): temporary zone and audit trail`, async ({ page }) => {
      const referent = { id: `ref-${code}`, name: code === "it" ? "Chiara Conti" : "Claire Martin", department: "Radiologie" };
      const { url } = await launch(null, undefined, ["clinician", "temporary_zone", "auditor"], referent);
      await page.goto(url);
      await page.getByRole("radio", { name: t.zone.temporary }).check();
      await expect(page.getByRole("heading", { name: t.zone.importTitle })).toBeVisible();
      await pickFolder(page, stack().media[`docs_${code}_temporary`]!);
      await page.getByRole("button", { name: t.send.button }).click();
      await expect(page.getByRole("heading", { name: t.zone.confirmTitle })).toBeVisible({ timeout: 120_000 });
      await page.getByRole("button", { name: t.zone.confirm }).click();
      await expect(page.getByText(t.zone.completed)).toBeVisible({ timeout: 120_000 });
      // no order: no way back to one
      await expect(page.getByRole("link", { name: t.monitor.backToOrder })).toHaveCount(0);
      await shot(page, `${code}-19-temporary-kept`, true);

      const nav = page.getByRole("navigation", { name: t.nav.label });
      await nav.getByRole("link", { name: words.temporary }).click();
      await expect(page.getByRole("heading", { name: words.temporary, level: 1 })).toBeVisible();
      const lucia = page.getByRole("article", { name: /Bianchi Lucia/i }).filter({ hasText: referent.name }).first();
      await expect(lucia).toContainText("RM ENCEFALO");
      await shot(page, `${code}-20-temporary-list`, true);
      // promote: the order searched in the worklist from the patient on the medium, then compared
      await lucia.getByRole("button", { name: t.temporary.promote }).click();
      const order = lucia.locator(".candidate").filter({ hasText: "WL-E2E-0004" });
      await expect(order).toContainText(t.confirm.overall.format_different, { timeout: 60_000 });
      await order.getByRole("radio").check();
      await expect(lucia.getByRole("heading", { name: fill(t.temporary.checkTitle, { accession: "WL-E2E-0004" }) })).toBeVisible();
      await expect(lucia.getByText(new RegExp(t.confirm.overall.format_different)).first()).toBeVisible({ timeout: 60_000 });
      await shot(page, `${code}-22-temporary-promote`, true);

      await nav.getByRole("link", { name: words.audit }).click();
      await expect(page.getByRole("heading", { name: words.audit })).toBeVisible();
      await expect(page.getByText(t.audit.chainIntact)).toBeVisible();
      await page.getByLabel(t.audit.user).fill(referent.id);
      await page.getByRole("button", { name: t.audit.apply }).click();
      await expect(page.locator("table.data-table tbody tr").first()).toContainText(referent.name);
      await shot(page, `${code}-23-audit`, true);
    });
  });
}
