import { defineConfig } from "@playwright/test";

const here = __dirname;

export default defineConfig({
  testDir: here,
  outputDir: `${here}/output/results`,
  timeout: 180_000,
  expect: { timeout: 60_000 },
  workers: 1,
  fullyParallel: false,
  retries: 0,
  reporter: [["list"]],
  use: {
    headless: true,
    viewport: { width: 1280, height: 900 },
    locale: "en-GB",
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  projects: [
    { name: "journeys", testMatch: /(journeys|docs_languages)\.spec\.ts$/ },
    { name: "bench", testMatch: /bench\.spec\.ts$/, timeout: 900_000 },
  ],
});
