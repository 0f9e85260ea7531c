/**
 * Every code the server may send has words in every language of the app (issue 14): the
 * MessageCode and AuditAction sets are read from the API's own schema (openapi/openapi.json),
 * the study warning codes from the server's grouping module; a newer server's code without
 * words fails here, not on a clerk's screen. And no Italian or French sentence is an English
 * one left untranslated.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import en from "./en";
import fr from "./fr";
import itLang from "./it";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const schema = JSON.parse(readFileSync(`${ROOT}openapi/openapi.json`, "utf8")) as {
  components: { schemas: Record<string, { enum?: string[] }> };
};

function enumOf(name: string): string[] {
  return schema.components.schemas[name]?.enum ?? [];
}

/** The audit actions: the schema's set once the API exposes it, else the server's enum itself. */
function auditActions(): string[] {
  const fromSchema = enumOf("AuditAction");
  if (fromSchema.length) return fromSchema;
  const source = readFileSync(`${ROOT}importer/audit/actions.py`, "utf8");
  return [...source.matchAll(/^\s+\w+ = "([a-z_.]+)"$/gm)].map((m) => m[1]!);
}

/** The study warning codes the server's grouping names (`STUDY_…`). */
const WARNINGS = [...new Set(readFileSync(`${ROOT}importer/media/grouping.py`, "utf8").match(/\bSTUDY_[A-Z_]+\b/g) ?? [])];

const CATALOGS = [
  ["en", en],
  ["it", itLang],
  ["fr", fr],
] as const;

type Tree = Record<string, unknown>;

function text(tree: unknown, path: string[]): string {
  const found = path.reduce<unknown>(
    (node, part) => (node && typeof node === "object" && Object.hasOwn(node, part) ? (node as Tree)[part] : undefined),
    tree,
  );
  return typeof found === "string" ? found.trim() : "";
}

/** A message's words: its own key, or both plural forms (`_one` and `_other`). */
function hasWords(group: unknown, code: string): boolean {
  return text(group, [code]) !== "" || (text(group, [`${code}_one`]) !== "" && text(group, [`${code}_other`]) !== "");
}

function leaves(value: unknown, prefix = ""): [string, string][] {
  if (typeof value === "string") return [[prefix, value]];
  return Object.entries(value as Tree).flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k));
}

const words = (s: string) => s.replace(/\{\{\w+\}\}/g, " ").split(/\s+/).filter((w) => /\p{L}/u.test(w));

describe("every code the server may send has words in every language", () => {
  const codes = enumOf("MessageCode");

  it("reads the codes from the schema", () => {
    expect(codes.length).toBeGreaterThan(50);
    expect(codes).toContain("instances_verified");
    expect(WARNINGS).toContain("STUDY_PATIENTS_DIFFER");
  });

  it.each(CATALOGS)("MessageCode in %s", (_, catalog) => {
    const missing = codes.filter((code) => !hasWords(catalog.msg, code));
    expect(missing).toEqual([]);
  });

  it.each(CATALOGS)("AuditAction in %s", (_, catalog) => {
    const actions = auditActions();
    expect(actions).toContain("import.created");
    const missing = actions.filter((action) => text(catalog.auditAction, action.split(".")) === "");
    expect(missing).toEqual([]);
  });

  it.each(CATALOGS)("study warnings in %s", (_, catalog) => {
    const missing = WARNINGS.filter((code) => text(catalog.studyWarning, [code]) === "");
    expect(missing).toEqual([]);
  });

  it("an audit action's nested words never hide another action's", () => {
    // `auditAction.import.created` is nested: no action may be both a text and a group
    for (const [key, value] of leaves(en.auditAction)) expect(value, key).not.toBe("");
    for (const action of auditActions()) {
      const parts = action.split(".");
      for (let i = 1; i < parts.length; i++) expect(text(en.auditAction, parts.slice(0, i)), action).toBe("");
    }
  });
});

describe("no untranslated English", () => {
  const english = Object.fromEntries(leaves(en));
  it.each([
    ["it", itLang],
    ["fr", fr],
  ] as const)("%s: no sentence of 3 words or more is the English one", (_, catalog) => {
    const copies = leaves(catalog)
      .filter(([key, value]) => words(english[key] ?? "").length >= 3 && value.trim() === english[key]!.trim())
      .map(([key]) => key);
    expect(copies).toEqual([]);
  });
});
