/**
 * Ending a session in a real browser: the user's "End session", and a session ended elsewhere
 * while a screen follows an import live. Roles and labels, not CSS classes.
 */
import { expect, test } from "@playwright/test";
import { launch, stack, tabToken } from "./helpers";

async function api(method: string, path: string, token: string, body?: unknown): Promise<Response> {
  return fetch(`${stack().base_url}/api/v1${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

test("End session: the screen says the session has ended and its token is refused", async ({ page }) => {
  const { url } = await launch("E2E-END-1");
  await page.goto(url);
  await expect(page.getByRole("heading", { name: "Patient of the order (RIS)" })).toBeVisible();
  const token = await tabToken(page);

  page.once("dialog", (dialog) => void dialog.accept());
  await page.getByRole("button", { name: "End session" }).click();

  await expect(page.getByRole("heading", { name: "Your session has ended" })).toBeVisible();
  // why, as it happened: not the time limit of an expired session
  await expect(page.getByText("It was ended with “End session”.")).toBeVisible();
  await expect(page.getByText("For safety, a session lasts a limited time.")).toHaveCount(0);
  await expect(page.getByRole("button", { name: "End session" })).toHaveCount(0);
  await expect(page.getByText("Signed in: Giulia Bianchi (Radiologia)")).toHaveCount(0);
  const refused = await api("GET", "/session", token);
  expect(refused.status).toBe(401);
  expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("token_expired");
  // a reload does not bring it back
  await page.reload();
  await expect(page.getByRole("heading", { name: "Your session has ended" })).toBeVisible();
});

test("End session can be called off", async ({ page }) => {
  const { url } = await launch("E2E-END-2");
  await page.goto(url);
  await expect(page.getByRole("heading", { name: "Patient of the order (RIS)" })).toBeVisible();
  const token = await tabToken(page);

  page.once("dialog", (dialog) => void dialog.dismiss());
  await page.getByRole("button", { name: "End session" }).click();

  await expect(page.getByRole("heading", { name: "Patient of the order (RIS)" })).toBeVisible();
  expect((await api("GET", "/session", token)).status).toBe(200);
});

test("a screen following an import says so by itself when its session is ended elsewhere", async ({ page }) => {
  const { url } = await launch("E2E-END-3");
  await page.goto(url);
  await expect(page.getByRole("heading", { name: "Patient of the order (RIS)" })).toBeVisible();
  const token = await tabToken(page);
  const created = await api("POST", "/imports", token, { size: 10, filename: "cd.zip" });
  expect(created.status).toBe(201);
  const { id } = (await created.json()) as { id: string };
  const stream = page.waitForResponse((r) => r.url().endsWith(`/imports/${id}/events`));
  await page.goto(`${stack().base_url}/#/imports/${id}`);
  await expect(page.getByRole("heading", { name: "Import progress" })).toBeVisible();
  expect((await stream).status()).toBe(200);

  const streams: string[] = [];
  page.on("request", (r) => {
    if (r.url().includes("/events")) streams.push(r.url());
  });
  expect((await api("DELETE", "/session", token)).status).toBe(204);

  // the stream's session_ended, within seconds, without a click
  await expect(page.getByRole("heading", { name: "Your session has ended" })).toBeVisible({ timeout: 10_000 });
  await expect(page.getByText("It was ended with “End session”.")).toBeVisible();
  // and no reconnecting with the dead token
  await page.waitForTimeout(3000);
  expect(streams).toEqual([]);
});
