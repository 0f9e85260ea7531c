/**
 * Import for a patient without an order (issue 16, point 4; the French procedure's "Temporaire >
 * Pacs (Patient)"): the RIS launches the tool for a patient alone (ROSSI MARIO, HOSP-0042), no
 * order.
 *
 * A. A clerk launched for the patient sees the patient panel say so (filed under this patient,
 *    no accession number), imports a medium of the patient, confirms (the patient matches): it
 *    completes; the PACS holds the images under the launch's patient with an empty Accession
 *    Number, the medium's kept in Original Attributes Sequence.
 * B. A referent keeps a medium of the patient in the temporary zone; launched for the patient, the
 *    referent files it there with "File under this patient": the server's comparison is shown
 *    first, then it is filed and completes, with no accession number either.
 *
 * The server's key of the patient (in the session's order's accession number's place, "~…") is
 * never on any screen, not even for a moment. In English, Italian and French; each language has
 * media of its own.
 */
import { expect, test, type Page } from "@playwright/test";
import en from "../../frontend/src/i18n/en";
import fr from "../../frontend/src/i18n/fr";
import it from "../../frontend/src/i18n/it";
import {
  NOT_ENGLISH,
  ORDER_PATIENT,
  englishTexts,
  expectAccessible,
  expectNoEnglish,
  fillText,
  launch,
  launchForPatient,
  orthancInstanceTags,
  orthancStudy,
  patientKey,
  seen,
  shot,
  stack,
  tabToken,
  watchFor,
} from "./helpers";

const LANGUAGES = [
  { code: "en", locale: "en-GB", t: en, prefix: "", clerk: "Paul Green", referent: "Sarah Hill" },
  { code: "it", locale: "it-IT", t: it, prefix: "it-", clerk: "Paolo Greco", referent: "Sara Conti" },
  { code: "fr", locale: "fr-FR", t: fr, prefix: "fr-", clerk: "Paul Legrand", referent: "Sarah Colin" },
] as const;

/** The server's key of the launch's patient: never on a screen. */
const KEY = patientKey(ORDER_PATIENT);
/** The launch's patient, as the screens write them. */
const NAME = "ROSSI MARIO";
const WORDS = { name: NAME, id: ORDER_PATIENT.id };
/** What the stack's media write (scripts/demo_media.py `write_folder`): their own accession number. */
const MEDIUM_ACCESSION = "EXT0002";


/** The PACS holds the study under the launch's patient, with an empty Accession Number; the medium's kept. */
async function expectFiledWithoutAccession(uid: string): Promise<void> {
  await expect.poll(async () => (await orthancStudy(uid))?.patientId, { timeout: 60_000 }).toBe(ORDER_PATIENT.id);
  const tags = await orthancInstanceTags(uid);
  expect(tags?.PatientID).toBe(ORDER_PATIENT.id);
  expect(tags?.IssuerOfPatientID).toBe(ORDER_PATIENT.issuer);
  expect(tags?.PatientName).toBe(ORDER_PATIENT.name);
  expect(tags?.AccessionNumber).toBe("");
  expect(tags).not.toHaveProperty("RequestAttributesSequence");
  expect(JSON.stringify(tags?.OriginalAttributesSequence ?? null)).toContain(MEDIUM_ACCESSION);
  expect((await orthancStudy(uid))?.accession).toBe("");
}

for (const { code, locale, t, prefix, clerk, referent } of LANGUAGES) {
  test.describe(`import for a patient without an order (${code})`, () => {
    test.use({ locale });

    test(`A: a clerk launched for the patient imports a medium, filed under the patient with no accession number (${code})`, async ({ page }) => {
      test.setTimeout(300_000);
      const texts = code === "en" ? [] : englishTexts(t);
      const noEnglish = (screen: string) => (code === "en" ? Promise.resolve() : expectNoEnglish(page, texts, NOT_ENGLISH[code], screen));
      await watchFor(page, [KEY]);
      const user = { id: `clerk-pl-${code}`, name: clerk, department: "Radiologia" };
      await page.goto((await launchForPatient(ORDER_PATIENT, ["clinician"], user)).url);
      await expect(page.locator("html")).toHaveAttribute("lang", code);

      // the session's order is the patient; its accession number is the key watched for
      const token = await tabToken(page);
      const context = (await (
        await fetch(`${stack().base_url}/api/v1/session`, { headers: { Authorization: `Bearer ${token}` } })
      ).json()) as { order: { kind: string; accession_number: string } };
      expect(context.order).toMatchObject({ kind: "patient", accession_number: KEY });

      // the patient panel: the patient, and what this import is
      const panel = page.getByRole("region", { name: t.patientLaunch.title });
      await expect(panel).toBeVisible();
      await expect(panel).toContainText(NAME);
      await expect(panel).toContainText(`${ORDER_PATIENT.id} (${ORDER_PATIENT.issuer})`);
      await expect(panel).toContainText(t.patientLaunch.statement);
      await expect(panel).toContainText(t.patientLaunch.noAccession);
      await expect(page.getByRole("region", { name: t.patient.title })).toHaveCount(0);
      await shot(page, `${prefix}patient-launch-order-panel`, true);
      await noEnglish("import, launched for a patient");
      await expectAccessible(page, "import, launched for a patient");

      // the medium of the patient: compared with the launch's patient, who matches
      await page.getByLabel(t.folder.choose).setInputFiles(stack().media[`patient_launch_${code}`]!);
      await page.getByRole("button", { name: t.send.button }).click();
      await expect(page.getByRole("heading", { name: t.confirm.title })).toBeVisible({ timeout: 120_000 });
      await expect(page.getByRole("region", { name: t.patientLaunch.title })).toContainText(t.patientLaunch.statement);
      await expect(page.getByText(t.patientLaunch.confirmIntro)).toBeVisible();
      await expect(page.getByRole("columnheader", { name: t.patientLaunch.column, exact: true }).first()).toBeVisible();
      await expect(page.getByText(t.confirm.overall.match).first()).toBeVisible();
      await expect(page.getByRole("article")).toContainText("RX TORACE");
      await noEnglish("confirmation, launched for a patient");
      await page.getByRole("button", { name: t.confirm.confirm }).click();

      // completed: no order to name, no accession number
      await expect(page.getByRole("heading", { name: t.monitor.title })).toBeVisible();
      await expect(page.getByText(t.monitor.outcome.completed)).toBeVisible({ timeout: 120_000 });
      await expect(page.getByText(t.patientLaunch.monitor)).toBeVisible();
      await noEnglish("monitoring, launched for a patient");
      const uid = (await page.locator(".card .uid").first().textContent())!.trim();
      await expectFiledWithoutAccession(uid);

      // back to the patient: the import among the patient's previous imports
      await page.getByRole("link", { name: t.patientLaunch.back }).click();
      const previous = page.getByRole("region", { name: t.previous.title });
      await expect(previous.getByRole("row").filter({ hasText: uid })).toContainText(t.status.completed, { timeout: 30_000 });
      expect(await seen(page), "the key of the patient on a screen").toEqual([]);
    });

    test(`B: a referent launched for the patient files a temporary-zone import under the patient (${code})`, async ({ page }) => {
      test.setTimeout(300_000);
      const texts = code === "en" ? [] : englishTexts(t);
      const noEnglish = (screen: string) => (code === "en" ? Promise.resolve() : expectNoEnglish(page, texts, NOT_ENGLISH[code], screen));
      await watchFor(page, [KEY]);
      const user = { id: `ref-pl-${code}`, name: referent, department: "Radiologia" };

      // kept in the temporary zone first, from a launch without an order
      await page.goto((await launch(null, undefined, ["clinician", "temporary_zone"], user)).url);
      await expect(page.locator("html")).toHaveAttribute("lang", code);
      await page.getByRole("radio", { name: t.zone.temporary }).check();
      await page.getByLabel(t.folder.choose).setInputFiles(stack().media[`patient_promote_${code}`]!);
      await page.getByRole("button", { name: t.send.button }).click();
      await expect(page.getByRole("heading", { name: t.zone.confirmTitle })).toBeVisible({ timeout: 120_000 });
      await page.getByRole("button", { name: t.zone.confirm }).click();
      await expect(page.getByText(t.zone.completed)).toBeVisible({ timeout: 120_000 });
      const details = page.url();
      const supportId = (await page.locator(".support-id").textContent())!.trim();
      const uid = (await page.locator(".card .uid").first().textContent())!.trim();

      // the RIS launches the referent for the patient: the temporary zone offers to file it there
      await page.goto((await launchForPatient(ORDER_PATIENT, ["clinician", "temporary_zone"], user)).url);
      await expect(page.getByRole("region", { name: t.patientLaunch.title })).toBeVisible();
      await page.getByRole("navigation", { name: t.nav.label }).getByRole("link", { name: t.nav.temporary }).click();
      await expect(page.getByRole("heading", { name: t.temporary.title, level: 1 })).toBeVisible();
      const card = page.getByRole("article").filter({ hasText: supportId });
      await expect(card).toContainText("TC ADDOME");
      await expect(card.getByRole("button", { name: t.temporary.promote })).toBeVisible();
      const offer = card.getByRole("button", { name: fillText(t.temporary.filePatient, WORDS) });
      await offer.click();
      await expect(offer).toHaveAttribute("aria-expanded", "true");

      // the server compares first; the comparison is shown before anything is filed
      await expect(card.getByRole("heading", { name: fillText(t.temporary.patientCheckTitle, WORDS) })).toBeVisible({ timeout: 60_000 });
      await expect(card.getByText(t.confirm.overall.match).first()).toBeVisible();
      await expect(card.getByRole("columnheader", { name: t.patientLaunch.column, exact: true }).first()).toBeVisible();
      await expect(card).toContainText(t.patientLaunch.statement);
      const file = card.getByRole("button", { name: fillText(t.temporary.patientFile, WORDS) });
      await expect(file).toHaveClass(/button-success/);
      await expect(card.getByRole("alert")).toHaveCount(0);
      await shot(page, `${prefix}patient-launch-promote`, true);
      await noEnglish("temporary zone, filing under the patient");
      await expectAccessible(page, "temporary zone, filing under the patient");
      await file.click();
      await expect(page.getByText(fillText(t.temporary.patientFiled, { supportId, name: NAME }))).toBeVisible();
      await expect(card).toHaveCount(0);

      // filed under the patient: completed, no accession number, followed from this launch
      await page.goto(details);
      await expect(page.getByText(t.monitor.outcome.completed)).toBeVisible({ timeout: 120_000 });
      await expect(page.getByText(t.patientLaunch.monitor)).toBeVisible();
      await noEnglish("monitoring, filed under the patient");
      await expectFiledWithoutAccession(uid);
      expect(await seen(page), "the key of the patient on a screen").toEqual([]);
    });
  });
}
