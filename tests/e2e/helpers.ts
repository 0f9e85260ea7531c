import { expect, type Locator, type Page } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import en from "../../frontend/src/i18n/en";
import type { Translation } from "../../frontend/src/i18n/en";

export interface Stack {
  base_url: string;
  ris_key: string;
  orthanc_url: string;
  logs: string;
  media: Record<string, string>;
  expired_token: string;
}

export function stack(): Stack {
  const raw = process.env.E2E_STACK;
  if (!raw) throw new Error("E2E_STACK is not set: run the journeys with `npm --prefix frontend run e2e`");
  return JSON.parse(raw) as Stack;
}

export const ORDER_PATIENT = { id: "HOSP-0042", issuer: "HOSPITAL", name: "ROSSI^MARIO", birth_date: "19740101", sex: "M" };

export type OrderPatient = typeof ORDER_PATIENT;

/** The order a launch of `launch()` creates, as the RIS sends it. */
export function orderBody(accession: string, patient: OrderPatient = ORDER_PATIENT) {
  return {
    accession_number: accession,
    requested_procedure_id: "RP1",
    procedure: { code: "EXTIMP", description: "Import studio esterno" },
    modality: "CT",
    patient,
  };
}

/** The RIS's part: a launch for a user and an order (or none: worklist mode). */
export async function launch(
  accession: string | null,
  patient = ORDER_PATIENT,
  roles: string[] = ["clinician"],
  user = { id: "tech01", name: "Giulia Bianchi", department: "Radiologia" },
): Promise<{ url: string; token: string }> {
  const body: Record<string, unknown> = { user: { ...user, roles } };
  if (accession) body.order = orderBody(accession, patient);
  return postLaunch(body);
}

/**
 * The RIS's part for an import without an order: a launch for a user and a patient alone
 * (`patient` in place of `order`; the images are filed under the patient with no accession
 * number). ORDER_PATIENT by default: the patient of the stack's media.
 */
export async function launchForPatient(
  patient: OrderPatient = ORDER_PATIENT,
  roles: string[] = ["clinician"],
  user = { id: "tech01", name: "Giulia Bianchi", department: "Radiologia" },
): Promise<{ url: string; token: string }> {
  return postLaunch({ user: { ...user, roles }, patient });
}

/**
 * The server's key of a patient launched for without an order (in the session's order's
 * accession number's place; never shown): "~" and the first 15 letters of the base32 of the
 * SHA-256 of issuer NUL id — computed here so that a page can be watched for it from its start.
 */
export function patientKey(patient: OrderPatient = ORDER_PATIENT): string {
  const digest = createHash("sha256").update(`${patient.issuer}\0${patient.id}`).digest();
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let out = "";
  let value = 0;
  let bits = 0;
  for (const byte of digest) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  return `~${out.slice(0, 15)}`;
}

async function postLaunch(body: Record<string, unknown>): Promise<{ url: string; token: string }> {
  const s = stack();
  const response = await fetch(`${s.base_url}/api/v1/launches`, {
    method: "POST",
    headers: { Authorization: `Bearer ${s.ris_key}`, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  // a refusal says why (a 503 when the database was busy, a 429 …), not only its status
  if (response.status !== 201) expect(`${response.status} ${await response.text()}`).toBe("201");
  return (await response.json()) as { url: string; token: string };
}

/** The RIS corrects an order (`PUT /orders/{accession}`): here, another patient. */
export async function putOrder(accession: string, patient: OrderPatient): Promise<void> {
  const s = stack();
  const response = await fetch(`${s.base_url}/api/v1/orders/${encodeURIComponent(accession)}`, {
    method: "PUT",
    headers: { Authorization: `Bearer ${s.ris_key}`, "Content-Type": "application/json" },
    body: JSON.stringify(orderBody(accession, patient)),
  });
  expect(response.status).toBe(200);
}

/** The ids of an order's imports, as the RIS reads them (`GET /orders/{accession}/imports`). */
export async function orderImports(accession: string): Promise<string[]> {
  const s = stack();
  const response = await fetch(`${s.base_url}/api/v1/orders/${encodeURIComponent(accession)}/imports`, {
    headers: { Authorization: `Bearer ${s.ris_key}` },
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { items: { id: string }[] }).items.map((i) => i.id);
}

const OUTPUT = join(__dirname, "output", "screenshots");
const DOCS = join(__dirname, "..", "..", "docs", "screenshots");

/** A screenshot of the whole page, into the test output; with `docs`, also into docs/screenshots. */
export async function shot(page: Page, name: string, docs = false): Promise<void> {
  mkdirSync(OUTPUT, { recursive: true });
  const file = join(OUTPUT, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true, animations: "disabled" });
  if (docs && process.env.E2E_DOCS_SCREENSHOTS === "1") {
    mkdirSync(DOCS, { recursive: true });
    copyFileSync(file, join(DOCS, `${name}.png`));
  }
}

/** The tab's session token (sessionStorage), once the app has exchanged its launch for it. */
export async function tabToken(page: Page): Promise<string> {
  const read = () => page.evaluate(() => sessionStorage.getItem("pmi.session"));
  await expect.poll(read).not.toBeNull();
  return (JSON.parse((await read())!) as { token: string }).token;
}

export function filesIn(folder: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(folder)) {
    const path = join(folder, name);
    if (statSync(path).isDirectory()) out.push(...filesIn(path));
    else out.push(path);
  }
  return out.sort();
}

/** Store every file of `folder` on the PACS directly (Orthanc's REST upload), as an earlier import did. */
export async function storeOnPacs(folder: string): Promise<void> {
  for (const file of filesIn(folder)) {
    const response = await fetch(`${stack().orthanc_url}/instances`, { method: "POST", body: readFileSync(file) });
    expect(response.status).toBe(200);
  }
}

export async function orthancStudies(): Promise<string[]> {
  const response = await fetch(`${stack().orthanc_url}/studies?expand`);
  const studies = (await response.json()) as { MainDicomTags: { StudyInstanceUID: string } }[];
  return studies.map((s) => s.MainDicomTags.StudyInstanceUID);
}

/** What the PACS holds for a study: the patient and accession it was filed under. */
export async function orthancStudy(uid: string): Promise<{ patientName: string; patientId: string; accession: string } | null> {
  const response = await fetch(`${stack().orthanc_url}/studies?expand`);
  const studies = (await response.json()) as {
    MainDicomTags: { StudyInstanceUID: string; AccessionNumber?: string };
    PatientMainDicomTags: { PatientName?: string; PatientID?: string };
  }[];
  const found = studies.find((s) => s.MainDicomTags.StudyInstanceUID === uid);
  if (!found) return null;
  return {
    patientName: found.PatientMainDicomTags.PatientName ?? "",
    patientId: found.PatientMainDicomTags.PatientID ?? "",
    accession: found.MainDicomTags.AccessionNumber ?? "",
  };
}

/**
 * The tags of a study's first instance on the PACS (Orthanc's simplified tags: keywords, a
 * sequence as a list of items), or null when the PACS holds none.
 */
export async function orthancInstanceTags(uid: string): Promise<Record<string, unknown> | null> {
  const orthanc = stack().orthanc_url;
  const found = await fetch(`${orthanc}/tools/find`, {
    method: "POST",
    body: JSON.stringify({ Level: "Instance", Query: { StudyInstanceUID: uid }, Limit: 1 }),
  });
  expect(found.status).toBe(200);
  const [id] = (await found.json()) as string[];
  if (!id) return null;
  return (await (await fetch(`${orthanc}/instances/${id}/simplified-tags`)).json()) as Record<string, unknown>;
}

/**
 * From now on, every document this page loads records whether any of `needles` ever appears in
 * it (`window.__seen`): a screen that showed the former session's patient even for a moment is
 * caught, not only the last one.
 */
export async function watchFor(page: Page, needles: string[]): Promise<void> {
  await page.addInitScript((words: string[]) => {
    const seen: string[] = [];
    (window as unknown as { __seen: string[] }).__seen = seen;
    const check = () => {
      const text = document.documentElement?.textContent ?? "";
      for (const w of words) if (text.includes(w) && !seen.includes(w)) seen.push(w);
    };
    new MutationObserver(check).observe(document, { subtree: true, childList: true, characterData: true });
  }, needles);
}

export async function seen(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { __seen?: string[] }).__seen ?? []);
}


export interface ZipEntry {
  /** the name inside the archive */
  name: string;
  /** the entry's bytes */
  data: Buffer;
  /** a Unix symbolic link to `data` (the browser reads it as a small file; the server refuses it) */
  link?: boolean;
}

/** A ZIP of `entries`, written by Python's zipfile (deflated; a link as Unix attributes). */
export function zipOf(entries: ZipEntry[]): Buffer {
  const script = [
    "import base64, io, json, sys, zipfile",
    "out = io.BytesIO()",
    "with zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED) as z:",
    "    for e in json.load(sys.stdin):",
    "        info = zipfile.ZipInfo(e['name'])",
    "        info.compress_type = zipfile.ZIP_DEFLATED",
    "        if e['link']:",
    "            info.create_system = 3",
    "            info.external_attr = 0o120777 << 16",
    "        z.writestr(info, base64.b64decode(e['data']))",
    "sys.stdout.buffer.write(out.getvalue())",
  ].join("\n");
  const input = JSON.stringify(entries.map((e) => ({ name: e.name, data: e.data.toString("base64"), link: !!e.link })));
  return execFileSync(process.env.PYTHON ?? "python3", ["-c", script], { input, maxBuffer: 256 * 1024 * 1024 });
}

/** The root of pydicom's generated UIDs: every UID of the stack's media starts with it. */
const PYDICOM_ROOT = "1.2.826.0.1.3680043.8.498.";

/**
 * A copy of the medium `folder` into `out` whose UIDs are new (the root of pydicom's generated
 * UIDs replaced by `root`, of the same length, everywhere: images and DICOMDIR), so that it is
 * not already on the PACS; files `skip` matches (by path within the medium) are left out.
 * Returns `out`; its caller removes it.
 */
export function freshCopy(folder: string, root: string, out: string, skip?: RegExp): string {
  const from = Buffer.from(PYDICOM_ROOT);
  const to = Buffer.from(root);
  expect(to.length).toBe(from.length);
  let replaced = 0;
  for (const file of filesIn(folder)) {
    const inside = relative(folder, file);
    if (skip?.test(inside)) continue;
    const target = join(out, inside);
    mkdirSync(dirname(target), { recursive: true });
    const data = readFileSync(file);
    for (let at = data.indexOf(from); at !== -1; at = data.indexOf(from, at + from.length)) {
      to.copy(data, at);
      replaced += 1;
    }
    writeFileSync(target, data);
  }
  expect(replaced, "the copy has new UIDs").toBeGreaterThan(0);
  return out;
}

type Tree = { [key: string]: string | Tree };

function leaves(value: string | Tree, prefix = ""): [string, string][] {
  if (typeof value === "string") return [[prefix, value]];
  return Object.entries(value).flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k));
}

const words = (s: string) => s.replace(/\{\{\w+\}\}/g, " ").split(/\s+/).filter((w) => /\p{L}/u.test(w));
const squash = (s: string) => s.replace(/\s+/g, " ").trim();
/** `s` as a literal inside a RegExp. */
export const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

export interface CatalogSentence {
  key: string;
  text: string;
  pattern: RegExp;
}

/** A catalog text as a pattern: a placeholder stands for any value the screen filled in. */
export function catalogPattern(text: string): RegExp {
  return new RegExp(squash(text).split(/\{\{\w+\}\}/).map(escapeRegExp).join("[\\s\\S]{0,200}?"));
}

/** The English catalog's sentences (3 words or more) that `catalog` words otherwise. */
export function englishSentences(catalog: Translation): CatalogSentence[] {
  const other = Object.fromEntries(leaves(catalog as unknown as Tree));
  return leaves(en as unknown as Tree)
    .filter(([key, text]) => words(text).length >= 3 && squash(other[key] ?? "") !== squash(text))
    .map(([key, text]) => ({ key, text, pattern: catalogPattern(text) }));
}

/** The English sentences shown in `where` as it is now, as "key: text". */
export async function englishIn(where: Locator, sentences: CatalogSentence[]): Promise<string[]> {
  const text = squash(await where.innerText());
  return sentences.filter((s) => s.pattern.test(text)).map((s) => `${s.key}: ${s.text}`);
}

/** Not part of a longer word: nothing alphanumeric right before (or after) the match. */
const NOT_AFTER_WORD = "(?<![\\p{L}\\p{N}])";
const NOT_BEFORE_WORD = "(?![\\p{L}\\p{N}])";

/**
 * A short catalog text (one or two words) as a pattern: its literal parts as whole words,
 * case-sensitive ("Cancel" but not "Cancelled", nor "cancel" inside a sentence that is checked
 * whole anyway); a placeholder stands for any value the screen filled in.
 */
function shortPattern(text: string): RegExp {
  const parts = squash(text)
    .split(/\{\{\w+\}\}/)
    .map((p) => p.trim())
    .filter((p) => /\p{L}/u.test(p));
  const whole = (p: string) =>
    `${/^[\p{L}\p{N}]/u.test(p) ? NOT_AFTER_WORD : ""}${escapeRegExp(p)}${/[\p{L}\p{N}]$/u.test(p) ? NOT_BEFORE_WORD : ""}`;
  return new RegExp(parts.map(whole).join("[\\s\\S]{0,200}?"), "u");
}

/**
 * Every text of the English catalog that `catalog` words otherwise, whatever its length: a
 * sentence (3 words or more) anywhere in the text, a short label ("Cancel", "Retry", "Signed in:")
 * as whole words. A text with no letter ("—", "{{percent}} %") is no language's.
 */
export function englishTexts(catalog: Translation): CatalogSentence[] {
  const other = Object.fromEntries(leaves(catalog as unknown as Tree));
  return leaves(en as unknown as Tree)
    .filter(([key, text]) => words(text).length > 0 && squash(other[key] ?? "") !== squash(text))
    .map(([key, text]) => ({ key, text, pattern: words(text).length >= 3 ? catalogPattern(text) : shortPattern(text) }));
}

/**
 * Phrases that hold an English catalog text yet are the language's own words, cut from the
 * screen's text before it is checked (case-sensitive, exact). Kept minimal and each justified.
 * "PACS", "RIS", "DICOM", modality codes ("CT", "MR") and the product need no entry: no English
 * text is one of them alone, and a longer text is matched whole. The media's data (names, study
 * and series descriptions, file names) hold no English catalog text, so none is listed; the app
 * marks no element as the medium's data (no `lang` or `data-*` attribute on it) to exclude it by.
 */
export const NOT_ENGLISH: Readonly<Record<"it" | "fr", readonly string[]>> = {
  it: [
    // the Italian procedure's own sentence for a medium already on the PACS (it.confirm.allPresent.title):
    // "Import" is the English text of nav.import and audit.col.import
    "Import non possibile",
    // the order's procedure as the journeys' RIS sends it (orderBody), shown under the order's patient
    "Import studio esterno",
  ],
  fr: [],
};

/**
 * The English texts on the page as it is now, as "key: text (where)": its rendered text (an open
 * dialog's included, a closed <details> left out: open it first), the tab title, and what a
 * screen reader says of visible elements (aria-label, title, alt, placeholder, a list's options).
 */
export async function englishOn(page: Page, texts: CatalogSentence[], notEnglish: readonly string[] = []): Promise<string[]> {
  const chunks = await page.evaluate(() => {
    const out: [string, string][] = [
      ["tab title", document.title],
      ["text", document.body.innerText],
    ];
    for (const el of Array.from(document.body.querySelectorAll("*"))) {
      if (!el.checkVisibility()) continue;
      for (const name of ["aria-label", "title", "alt", "placeholder"]) {
        const value = el.getAttribute(name);
        if (value) out.push([name, value]);
      }
      if (el instanceof HTMLSelectElement) for (const o of Array.from(el.options)) out.push(["option", o.text]);
    }
    return out;
  });
  const found = new Set<string>();
  for (const [where, raw] of chunks) {
    let text = squash(raw);
    for (const phrase of notEnglish) text = text.split(phrase).join(" | ");
    for (const t of texts) if (t.pattern.test(text)) found.add(`${t.key}: ${t.text} (${where})`);
  }
  return [...found];
}

/**
 * Fails when any English text of the catalog shows on the page as it is now (issue 14, point 1),
 * every closed <details> opened first, as a curious clerk would (not behind an open dialog).
 */
export async function expectNoEnglish(page: Page, texts: CatalogSentence[], notEnglish: readonly string[], screen: string): Promise<void> {
  await page.waitForTimeout(300); // what the last answer brought is on the screen
  if ((await page.locator("dialog[open]").count()) === 0) {
    const closed = page.locator("details:not([open]) > summary:visible");
    for (let left = await closed.count(); left > 0; left--) await closed.first().click();
  }
  expect(await englishOn(page, texts, notEnglish), `English on the ${screen} screen`).toEqual([]);
}

/**
 * A copy of the medium `folder` into `out` (new UIDs under `root`, as `freshCopy`; without its
 * DICOMDIR, so every file is read) that the PACS refuses: its images say they are of a SOP class
 * no PACS knows (a private UID of the same length in place of CT and MR Image Storage), so the
 * PACS accepts none of them. A failure a retry may help with (not the medium's own): the files
 * are read, the PACS says no. Returns `out`; its caller removes it.
 */
export function refusedCopy(folder: string, root: string, out: string): string {
  freshCopy(folder, root, out, /DICOMDIR$/i);
  const unknown = Buffer.from("1.2.826.0.1.3680043.9.999\0");
  const known = ["1.2.840.10008.5.1.4.1.1.2\0", "1.2.840.10008.5.1.4.1.1.4\0"].map((u) => Buffer.from(u));
  let patched = 0;
  for (const file of filesIn(out)) {
    const data = readFileSync(file);
    for (const uid of known) {
      expect(uid.length).toBe(unknown.length);
      for (let at = data.indexOf(uid); at !== -1; at = data.indexOf(uid, at + uid.length)) {
        unknown.copy(data, at);
        patched += 1;
      }
    }
    writeFileSync(file, data);
  }
  expect(patched, "the SOP classes replaced").toBeGreaterThan(0);
  return out;
}

/** A catalog text with its {{placeholders}} filled (a missing value leaves the placeholder out). */
export function fillText(text: string, values: Record<string, string | number> = {}): string {
  return text.replace(/\{\{(\w+)\}\}/g, (_, name: string) => String(values[name] ?? ""));
}

/** A launch whose link was already opened once (its token exchanged): opening it again must say so. */
export async function usedLaunch(accession: string): Promise<{ url: string; token: string }> {
  const used = await launch(accession);
  const exchange = await fetch(`${stack().base_url}/api/v1/sessions`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ launch_token: used.token }),
  });
  if (exchange.status !== 201) throw new Error(`the launch exchange answered ${exchange.status}`);
  return used;
}

/** On a mismatch, the keyboard meets the safe choice first: from the tick, Tab reaches Cancel, then Confirm. */
export async function expectCancelBeforeConfirm(page: Page, tick: Locator, cancel: Locator, confirm: Locator): Promise<void> {
  await tick.focus();
  await page.keyboard.press("Tab");
  await expect(cancel).toBeFocused();
  await page.keyboard.press("Tab");
  await expect(confirm).toBeFocused();
}

/** A folder sent and its studies confirmed as they are, up to the import's failure (a medium the PACS refuses). */
export async function confirmUntilFailed(page: Page, t: Translation, folder: string): Promise<void> {
  await page.getByLabel(t.folder.choose).setInputFiles(folder);
  await page.getByRole("button", { name: t.send.button }).click();
  await expect(page.getByRole("heading", { name: t.confirm.title })).toBeVisible({ timeout: 120_000 });
  await page.getByRole("button", { name: t.confirm.confirm }).click();
  await expect(page.getByRole("heading", { name: t.monitor.title })).toBeVisible();
  await expect(page.getByText(t.monitor.outcome.failed)).toBeVisible({ timeout: 120_000 });
}

/** No serious or critical WCAG 2.1 A/AA violation on the page as it is now (axe-core). */
export async function expectAccessible(page: Page, screen: string): Promise<void> {
  const result = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  const serious = result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  expect(serious, `${screen}: axe`).toEqual([]);
}
