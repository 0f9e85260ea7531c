/**
 * The interactive API documentation, as a developer opens it after `make run`: rendered by our
 * own Swagger UI under our Content-Security-Policy, without a CDN.
 */
import { expect, test } from "@playwright/test";
import { stack } from "./helpers";

test("the API docs render offline under the app's security policy", async ({ page }) => {
  const refused: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") refused.push(message.text());
  });
  const outside: string[] = [];
  page.on("request", (request) => {
    if (!request.url().startsWith(stack().base_url)) outside.push(request.url());
  });

  await page.goto(`${stack().base_url}/docs`);

  await expect(page.getByRole("heading", { name: /PACS Media Import/ })).toBeVisible();
  await expect(page.getByText("/api/v1/launches", { exact: true }).first()).toBeVisible();
  expect(refused).toEqual([]);
  expect(outside).toEqual([]);
});
