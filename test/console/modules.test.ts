// The console's modules do not import each other in a circle (shared helpers live in a module of their own), so
// each can be read, loaded and tested on its own.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, it } from "node:test";
import { repoRoot } from "../support/paths.js";

/** The console's .ts files (tests aside) and the console modules each imports (`import` and `import type`). */
function importGraph(dir: string): Map<string, string[]> {
  const files = readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"))
    .map((f) => join(dir, f));
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const text = readFileSync(file, "utf8");
    const targets = [...text.matchAll(/^(?:import|export)[^;]*?from\s+"(\.[^"]+)\.js";/gms)]
      .map((m) => resolve(dirname(file), `${m[1]!}.ts`))
      .filter((t) => files.includes(t));
    graph.set(file, targets);
  }
  return graph;
}

/** Every import cycle, as the list of files around it. */
function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const walk = (file: string, path: string[]): void => {
    for (const next of graph.get(file) ?? []) {
      const at = path.indexOf(next);
      if (at >= 0) found.push([...path.slice(at), next]);
      else walk(next, [...path, next]);
    }
  };
  for (const file of graph.keys()) walk(file, [file]);
  return found;
}

describe("console modules", () => {
  it("import each other without a cycle", () => {
    const root = repoRoot();
    const graph = importGraph(join(root, "src", "console"));
    assert.ok(graph.size > 5, "the console's modules were found");
    const found = cycles(graph).map((c) => c.map((f) => relative(root, f)).join(" → "));
    assert.deepEqual(found, []);
  });
});
