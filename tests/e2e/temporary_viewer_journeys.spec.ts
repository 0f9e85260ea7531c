/**
 * The temporary zone's images: a referent sees a thumbnail per series of a kept medium (no
 * temporary PACS is configured in the stack) and opens a series in a simple viewer, by keyboard
 * alone: one image at a time, the arrow keys step through, Escape closes it and the focus goes
 * back to the thumbnail. In English, Italian and French; each language keeps a medium of its own.
 */
import { expect, test, type Locator } from "@playwright/test";
import en from "../../frontend/src/i18n/en";
import fr from "../../frontend/src/i18n/fr";
import it from "../../frontend/src/i18n/it";
import { launch, shot, stack } from "./helpers";

function fill(text: string, values: Record<string, string | number> = {}): string {
  return text.replace(/\{\{(\w+)\}\}/g, (_, name: string) => String(values[name] ?? ""));
}

/** The image an `<img>` shows has been decoded (a broken or empty one has no width). */
async function expectDecoded(image: Locator): Promise<void> {
  await expect(image).toBeVisible();
  await expect.poll(() => image.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBeGreaterThan(0);
}

const LANGUAGES = [
  // `first`: written out, not read from the catalog, so a viewer fallen back to English fails
  { code: "en", locale: "en-GB", t: en, referent: "Vera Lane", first: "Image 1 of 2" },
  { code: "it", locale: "it-IT", t: it, referent: "Vera Lanza", first: "Immagine 1 di 2" },
  { code: "fr", locale: "fr-FR", t: fr, referent: "Véra Lenoir", first: "Image 1 sur 2" },
] as const;

for (const { code, locale, t, referent, first } of LANGUAGES) {
  test.describe(`temporary zone viewer (${code})`, () => {
    test.use({ locale });

    test(`temporary zone (${code}): a kept medium's series are seen as thumbnails and in a viewer, by keyboard`, async ({ page }) => {
      const user = { id: `ref-viewer-${code}`, name: referent, department: "Radiologia" };
      const { url } = await launch(null, undefined, ["clinician", "temporary_zone"], user);
      await page.goto(url);
      await expect(page.locator("html")).toHaveAttribute("lang", code);
      await page.getByRole("radio", { name: t.zone.temporary }).check();
      await page.getByLabel(t.folder.choose).setInputFiles(stack().media[`viewer_${code}`]!);
      await page.getByRole("button", { name: t.send.button }).click();
      await expect(page.getByRole("heading", { name: t.zone.confirmTitle })).toBeVisible({ timeout: 120_000 });
      await page.getByRole("button", { name: t.zone.confirm }).click();
      await expect(page.getByText(t.zone.completed)).toBeVisible({ timeout: 120_000 });

      await page.getByRole("navigation", { name: t.nav.label }).getByRole("link", { name: t.nav.temporary }).click();
      await expect(page.getByRole("heading", { name: t.temporary.title, level: 1 })).toBeVisible();
      const card = page.getByRole("article", { name: /Viola Anna/i }).filter({ hasText: referent });
      await expect(card).toContainText("TC TORACE");

      // a thumbnail per series (a CT and an MR of two images each), each a button to its images
      const label = (number: number, description: string, modality: string) =>
        fill(t.confirm.study.seriesLabel, { number, description, modality, count: 2 });
      const ctLabel = label(1, "AXIAL 5mm", "CT");
      const ct = card.getByRole("button", { name: fill(t.temporary.viewer.open, { label: ctLabel }) });
      const mr = card.getByRole("button", { name: fill(t.temporary.viewer.open, { label: label(2, "T1 SAG", "MR") }) });
      await expectDecoded(ct.locator("img"));
      await expectDecoded(mr.locator("img"));

      // the keyboard alone opens the CT series on its first image
      await ct.focus();
      await page.keyboard.press("Enter");
      const viewer = page.getByRole("dialog", { name: fill(t.temporary.viewer.title, { label: ctLabel }) });
      await expect(viewer).toBeVisible();
      const position = (n: number) => fill(t.temporary.viewer.position, { position: n, count: 2 });
      const image = (n: number) => viewer.getByRole("img", { name: fill(t.temporary.viewer.image, { position: n, count: 2, label: ctLabel }) });
      await expect(viewer.getByText(first, { exact: true })).toBeVisible();
      await expectDecoded(image(1));
      await expect(viewer.getByRole("button", { name: t.temporary.viewer.previous })).toBeDisabled();

      // the right arrow shows the next image; the last one goes no further
      await page.keyboard.press("ArrowRight");
      await expect(viewer.getByText(position(2), { exact: true })).toBeVisible();
      await expectDecoded(image(2));
      await expect(viewer.getByRole("button", { name: t.temporary.viewer.next })).toBeDisabled();
      await expect(viewer.getByRole("slider", { name: t.temporary.viewer.slider })).toHaveValue("2");
      await shot(page, code === "en" ? "temporary-viewer" : `${code}-temporary-viewer`, true);
      await page.keyboard.press("ArrowRight");
      await expect(viewer.getByText(position(2), { exact: true })).toBeVisible();
      await page.keyboard.press("ArrowLeft");
      await expect(viewer.getByText(position(1), { exact: true })).toBeVisible();
      await expectDecoded(image(1));

      // Escape closes it; the focus is back on the thumbnail that opened it
      await page.keyboard.press("Escape");
      await expect(viewer).toBeHidden();
      await expect(ct).toBeFocused();

      // the Close button too
      await mr.focus();
      await page.keyboard.press("Enter");
      const mrViewer = page.getByRole("dialog", { name: fill(t.temporary.viewer.title, { label: label(2, "T1 SAG", "MR") }) });
      await expect(mrViewer).toBeVisible();
      await mrViewer.getByRole("button", { name: t.temporary.viewer.close }).click();
      await expect(mrViewer).toBeHidden();
      await expect(mr).toBeFocused();
    });
  });
}
