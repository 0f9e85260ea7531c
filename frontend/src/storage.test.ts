/** A choice kept in the browser never breaks the screen: refused storage reads as nothing. */
import { afterEach, describe, expect, it, vi } from "vitest";
import { readLocal, writeLocal } from "./storage";

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("readLocal and writeLocal", () => {
  it("keep a choice where the browser allows it", () => {
    const kept = new Map<string, string>();
    vi.stubGlobal("localStorage", {
      getItem: (k: string) => kept.get(k) ?? null,
      setItem: (k: string, v: string) => void kept.set(k, v),
    });
    expect(readLocal("pmi.language")).toBeNull();
    writeLocal("pmi.language", "it");
    expect(readLocal("pmi.language")).toBe("it");
  });

  it("read nothing and never throw where storage is refused (a private window)", () => {
    const refused = () => {
      throw new DOMException("The operation is insecure.", "SecurityError");
    };
    vi.stubGlobal("localStorage", { getItem: refused, setItem: refused });
    expect(() => writeLocal("pmi.language", "fr")).not.toThrow();
    expect(readLocal("pmi.language")).toBeNull();
  });
});
