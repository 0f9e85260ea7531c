// `npm --prefix frontend run e2e`: start the stack (tests/e2e/stack.py), run the Playwright
// journeys against it with Debian's Chromium, stop the stack (E2E_FRONTEND: the built app to
// serve, frontend/dist by default). `--bench` runs the upload
// benchmark instead (BENCH_MB, default 250). Extra arguments go to `playwright test`.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { homedir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../..");
const frontend = join(root, "frontend");
const args = process.argv.slice(2);
const bench = args.includes("--bench");
const rest = args.filter((a) => a !== "--bench");

const stackArgs = ["run", "--frozen", "python", "-m", "tests.e2e.stack"];
if (bench) stackArgs.push("--bench-mb", process.env.BENCH_MB ?? "250");
// E2E_FRONTEND: an app built elsewhere (`vite build --outDir …`), so that two runs at once do not
// serve each other's build; frontend/dist by default
if (process.env.E2E_FRONTEND) stackArgs.push("--frontend", resolve(process.env.E2E_FRONTEND));
// uv where make setup installs it, so `npm run e2e` works from a fresh shell too
const path = [join(homedir(), ".local", "bin"), process.env.PATH ?? ""].join(delimiter);
const stack = spawn(process.env.UV ?? "uv", stackArgs, {
  cwd: root,
  env: { ...process.env, PATH: path },
  stdio: ["pipe", "pipe", "inherit"],
});

function stopStack() {
  if (stack.exitCode === null) stack.stdin.end();
}
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    stopStack();
    process.exit(130);
  });
}

const info = await new Promise((resolveInfo, reject) => {
  const lines = createInterface({ input: stack.stdout });
  lines.on("line", (line) => {
    if (line.startsWith("{")) resolveInfo(line);
  });
  stack.on("exit", (code) => reject(new Error(`the stack exited (${code}) before it was ready`)));
}).catch((error) => {
  console.error(String(error));
  process.exit(1);
});

const playwright = spawn(
  process.execPath,
  [
    join(frontend, "node_modules", "@playwright", "test", "cli.js"),
    "test",
    "-c",
    join(here, "playwright.config.ts"),
    ...(bench ? ["--project", "bench"] : ["--project", "journeys"]),
    ...rest,
  ],
  {
    cwd: root,
    stdio: ["inherit", "pipe", "inherit"],
    env: {
      ...process.env,
      E2E_STACK: info,
      // the specs live outside frontend/: let them find its node_modules
      NODE_PATH: join(frontend, "node_modules"),
    },
  },
);
// Playwright's output passes through as it comes; the lines naming a failed or flaky journey,
// and under each failure's heading what failed and where (its error, the spec's line), are kept
// to be said again last of all (a CI log's tail shows them, after the logs' trouble)
const failedLines = [];
const FAILED = /^\s*(✘|\d+\) \[)|^\s*\d+ (failed|flaky)\b/;
const HEADING = /^\s*\d+\) \[/;
const WHAT_AND_WHERE = /^\s*(Error:|Expected|Received|Call log:|- waiting for|>\s*\d+ \||at \S*\.spec\.ts:\d+)/;
let details = 0; // lines still kept under the last failure's heading
createInterface({ input: playwright.stdout }).on("line", (line) => {
  process.stdout.write(`${line}\n`);
  if (FAILED.test(line)) failedLines.push(line.trim());
  if (HEADING.test(line)) details = 8;
  else if (details > 0 && WHAT_AND_WHERE.test(line)) {
    failedLines.push(`    ${line.trim()}`);
    details -= 1;
  }
});
const code = await new Promise((done) => playwright.on("exit", (c) => done(c ?? 1)));
if (code !== 0) {
  printTrouble(JSON.parse(info).logs);
  console.error("\n--- the journeys that failed ---");
  for (const line of [...new Set(failedLines)].slice(-60)) console.error(line.slice(0, 300));
}
stopStack();
await new Promise((done) => (stack.exitCode !== null ? done() : stack.on("exit", done)));
process.exit(code);

/**
 * After a failed run, what the api and the worker said went wrong (warnings, errors, 4xx/5xx
 * answers other than the journeys' expected 401/404/409), last of all so that a CI log's tail
 * shows it. The logs hold no patient data by design.
 */
function printTrouble(logs) {
  const trouble = /\b(WARNING|ERROR|CRITICAL)\b|Traceback|" (429|5\d\d) /;
  for (const name of ["api.log", "worker.log"]) {
    let lines = [];
    try {
      lines = readFileSync(join(logs, name), "utf8").split("\n").filter((l) => trouble.test(l));
    } catch {
      continue;
    }
    console.error(`\n--- ${name}: the last ${Math.min(lines.length, 40)} of ${lines.length} warnings and errors ---`);
    for (const line of lines.slice(-40)) console.error(line.slice(0, 400));
  }
}
