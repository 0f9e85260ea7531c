/**
 * Retry only where a retry can help (issue 14, point 6): an import that failed because of the
 * medium itself offers no Retry, and says what to do instead, in the clerk's language.
 */
import { expect, test } from "@playwright/test";
import { launch, stack, tabToken } from "./helpers";

/** A "medium" that is no ZIP at all, sent as the app sends one (tus), analysed by the worker. */
async function failedMedium(token: string): Promise<string> {
  const api = `${stack().base_url}/api/v1`;
  const auth = { Authorization: `Bearer ${token}` };
  const body = new TextEncoder().encode("This is not a ZIP archive at all. ".repeat(10));
  const created = await fetch(`${api}/imports`, {
    method: "POST",
    headers: { ...auth, "Content-Type": "application/json" },
    body: JSON.stringify({ size: body.length, filename: "cd.zip" }),
  });
  expect(created.status).toBe(201);
  const { id, upload_url } = (await created.json()) as { id: string; upload_url: string };
  const patched = await fetch(new URL(upload_url, stack().base_url), {
    method: "PATCH",
    headers: {
      ...auth,
      "Tus-Resumable": "1.0.0",
      "Upload-Offset": "0",
      "Content-Type": "application/offset+octet-stream",
    },
    body,
  });
  expect(patched.status).toBe(204);
  await expect
    .poll(async () => {
      const read = await fetch(`${api}/imports/${id}`, { headers: auth });
      return ((await read.json()) as { status: string }).status;
    }, { timeout: 30_000 })
    .toBe("failed");
  return id;
}

for (const [locale, words] of [
  ["it-IT", { damaged: "L'archivio è danneggiato o non è un file ZIP.", retry: "Riprova", advice: /Ripetere non serve/ }],
  ["fr-FR", { damaged: "L'archive est endommagée ou n'est pas un fichier ZIP.", retry: "Réessayer", advice: /Relancer ne sert à rien/ }],
] as const) {
  test.describe(locale, () => {
    test.use({ locale });

    test(`a damaged medium offers no Retry, and says what to do (${locale})`, async ({ page }) => {
      const { url } = await launch(`E2E-RETRY-${locale}`);
      await page.goto(url);
      await expect(page.getByRole("button", { name: words.retry })).toHaveCount(0);
      const id = await failedMedium(await tabToken(page));

      await page.goto(`${stack().base_url}/#/imports/${id}`);
      await expect(page.getByText(words.damaged)).toBeVisible();
      await expect(page.getByText(words.advice)).toBeVisible();
      await expect(page.getByRole("button", { name: words.retry })).toHaveCount(0);
    });
  });
}
