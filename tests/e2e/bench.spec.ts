/**
 * Browser-side rate of "Compress and send" for a generated ~250 MB folder (BENCH_MB): the
 * ZIP built in the Web Worker and the tus upload to the real API on loopback, timed by the page
 * itself (performance.now() around each step). Run with `npm --prefix frontend run bench`.
 */
import { expect, test } from "@playwright/test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { launch, stack } from "./helpers";

test("compress and send a large folder", async ({ page, browser }) => {
  const { url } = await launch("E2E-BENCH");
  await page.goto(url);
  const started = Date.now();
  await page.getByLabel("Select folder").setInputFiles(stack().media.bench!);
  await expect(page.getByRole("heading", { name: "What will be sent" })).toBeVisible({ timeout: 300_000 });
  const scanMs = Date.now() - started;
  const files = await page.locator(".summary-grid dd").nth(3).textContent();
  await page.getByRole("button", { name: "Compress and send" }).click();
  // the page marks each transfer with its durations (User Timing)
  const handle = await page.waitForFunction(
    () => (performance.getEntriesByName("pmi:transfer").at(-1) as PerformanceMark | undefined)?.detail,
    undefined,
    { timeout: 600_000 },
  );
  const { zipMillis: zipMs, uploadMillis: uploadMs, inputBytes: input, archiveBytes: archive } =
    (await handle.jsonValue()) as { zipMillis: number; uploadMillis: number; inputBytes: number; archiveBytes: number };
  const mb = (bytes: number) => bytes / 1e6;
  const result = {
    chromium: browser.version(),
    files,
    input_mb: +mb(input).toFixed(1),
    archive_mb: +mb(archive).toFixed(1),
    read_summary_s: +(scanMs / 1000).toFixed(2),
    zip_s: +(zipMs / 1000).toFixed(2),
    upload_s: +(uploadMs / 1000).toFixed(2),
    zip_mb_per_s: +(mb(input) / (zipMs / 1000)).toFixed(1),
    upload_mb_per_s: +(mb(archive) / (uploadMs / 1000)).toFixed(1),
    end_to_end_input_mb_per_s: +(mb(input) / ((zipMs + uploadMs) / 1000)).toFixed(1),
  };
  console.log(JSON.stringify(result, null, 2));
  const out = join(__dirname, "output");
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, "bench.json"), JSON.stringify(result, null, 2));
  await expect(page.getByRole("heading", { name: "Confirm the import of the studies" })).toBeVisible({
    timeout: 600_000,
  });
  await page.getByRole("button", { name: "Cancel import" }).click();
});
