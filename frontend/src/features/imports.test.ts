/**
 * The feature folders' import graph: a screen's folder may use another's parts (the temporary
 * zone uses the confirmation's comparison and acknowledgement), never both ways round, and never
 * round a longer loop. Shared parts belong in `components/` or `domain/`.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const FEATURES = dirname(fileURLToPath(import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return /\.tsx?$/.test(name) && !/\.test\.tsx?$/.test(name) ? [path] : [];
  });
}

/** The feature folder a path is in (`confirm`, `temporary`…), or null outside any. */
function folderOf(path: string): string | null {
  const parts = relative(FEATURES, path).split(sep);
  return parts.length > 1 && parts[0] !== ".." ? parts[0]! : null;
}

/** folder → the other folders it imports, each with one file that does. */
function featureGraph(): Map<string, Map<string, string>> {
  const graph = new Map<string, Map<string, string>>();
  for (const file of sources(FEATURES)) {
    const from = folderOf(file);
    if (!from) continue;
    const text = readFileSync(file, "utf8");
    for (const [, spec] of text.matchAll(/(?:from|import)\s*\(?\s*["'](\.[^"']*)["']/g)) {
      const to = folderOf(resolve(dirname(file), spec!));
      if (!to || to === from) continue;
      if (!graph.has(from)) graph.set(from, new Map());
      graph.get(from)!.set(to, relative(FEATURES, file));
    }
  }
  return graph;
}

/** Every loop of the graph, each as the folders along it (first repeated at the end). */
function loops(graph: Map<string, Map<string, string>>): string[][] {
  const found: string[][] = [];
  const seen = new Set<string>();
  const walk = (node: string, path: string[]) => {
    const at = path.indexOf(node);
    if (at !== -1) {
      found.push([...path.slice(at), node]);
      return;
    }
    if (seen.has(node)) return;
    for (const next of graph.get(node)?.keys() ?? []) walk(next, [...path, node]);
    seen.add(node);
  };
  for (const node of graph.keys()) walk(node, []);
  return found;
}

describe("feature folders", () => {
  it("are read (the check sees the imports it is about)", () => {
    expect(featureGraph().get("temporary")?.has("confirm")).toBe(true);
  });

  it("never import each other in a loop", () => {
    const graph = featureGraph();
    const described = loops(graph).map((loop) =>
      loop
        .slice(1)
        .map((to, i) => `${loop[i]} → ${to} (${graph.get(loop[i]!)!.get(to)})`)
        .join(", "),
    );
    expect(described).toEqual([]);
  });

  it("finds a loop when there is one", () => {
    const g = new Map([
      ["a", new Map([["b", "a/x.ts"]])],
      ["b", new Map([["c", "b/y.ts"]])],
      ["c", new Map([["a", "c/z.ts"]])],
    ]);
    expect(loops(g)).toEqual([["a", "b", "c", "a"]]);
    expect(loops(new Map([["a", new Map([["b", "a/x.ts"]])]]))).toEqual([]);
  });
});
