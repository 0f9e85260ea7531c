import { describe, expect, it } from "vitest";
import en from "./en";
import fr from "./fr";
import itLang from "./it";

function leaves(value: unknown, prefix = ""): Record<string, string> {
  if (typeof value === "string") return { [prefix]: value };
  return Object.entries(value as Record<string, unknown>).reduce<Record<string, string>>(
    (out, [k, v]) => ({ ...out, ...leaves(v, prefix ? `${prefix}.${k}` : k) }),
    {},
  );
}

const placeholders = (s: string) => [...s.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]).sort();

describe("translations", () => {
  const source = leaves(en);
  it.each([
    ["it", itLang],
    ["fr", fr],
  ])("%s has every English key, no empty string, the same placeholders", (_, lang) => {
    const target = leaves(lang);
    expect(Object.keys(target).sort()).toEqual(Object.keys(source).sort());
    for (const [key, text] of Object.entries(target)) {
      expect(text.trim(), key).not.toBe("");
      expect(placeholders(text), key).toEqual(placeholders(source[key]!));
    }
  });

  it("uses the seed's words in Italian", () => {
    expect(itLang.confirm.study.onPacs).toBe("Già presente su PACS, rimosso da importazione");
    expect(itLang.confirm.overall.mismatch).toBe("PAZIENTE NON CORRISPONDE");
    expect(itLang.status.queued).toBe("In attesa processo");
  });
});
