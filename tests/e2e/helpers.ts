import { expect, type Page } from "@playwright/test";
import { copyFileSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

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

/** The RIS's part: a launch for a user and an order (or none: worklist mode). */
export async function launch(
  accession: string | null,
  patient = ORDER_PATIENT,
  roles: string[] = ["clinician"],
  user = { id: "tech01", name: "Giulia Bianchi", department: "Radiologia" },
): Promise<{ url: string; token: string }> {
  const s = stack();
  const body: Record<string, unknown> = { user: { ...user, roles } };
  if (accession) {
    body.order = {
      accession_number: accession,
      requested_procedure_id: "RP1",
      procedure: { code: "EXTIMP", description: "Import studio esterno" },
      modality: "CT",
      patient,
    };
  }
  const response = await fetch(`${s.base_url}/api/v1/launches`, {
    method: "POST",
    headers: { Authorization: `Bearer ${s.ris_key}`, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(201);
  return (await response.json()) as { url: string; token: string };
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

export function filesIn(folder: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(folder)) {
    const path = join(folder, name);
    if (statSync(path).isDirectory()) out.push(...filesIn(path));
    else out.push(path);
  }
  return out.sort();
}

export async function orthancStudies(): Promise<string[]> {
  const response = await fetch(`${stack().orthanc_url}/studies?expand`);
  const studies = (await response.json()) as { MainDicomTags: { StudyInstanceUID: string } }[];
  return studies.map((s) => s.MainDicomTags.StudyInstanceUID);
}
