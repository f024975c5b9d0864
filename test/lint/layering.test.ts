// The layering of docs/DESIGN.md ("Layers"), proved on the real eslint.config.js: probe files (linted from memory,
// never written) placed at any depth import real files of every layer, and only the allowed edges pass.
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { before, describe, it } from "node:test";
import { ESLint } from "eslint";
import { repoRoot } from "../support/paths.js";

const root = repoRoot();
const LAYERING_RULES = new Set(["import-x/no-restricted-paths", "import-x/no-unresolved", "no-restricted-syntax"]);

// The matrix as the design states it: importer → what of ours it may import (besides itself).
const ALLOWED: Record<string, string[]> = {
  "src/core": [],
  "src/platform": ["src/core"],
  "src/intunewin": ["src/core", "src/platform"],
  "src/clients": ["src/core", "src/platform"],
  "src/definitions": ["src/core", "src/platform"],
  "src/catalog": ["src/core", "src/platform", "src/clients", "src/intunewin", "src/definitions"],
  "src/inventory": ["src/core", "src/platform", "src/clients", "src/catalog"],
  "src/publish": [
    "src/core",
    "src/platform",
    "src/intunewin",
    "src/clients",
    "src/definitions",
    "src/catalog",
    "src/inventory",
  ],
  "src/queue": [
    "src/core",
    "src/platform",
    "src/intunewin",
    "src/clients",
    "src/definitions",
    "src/catalog",
    "src/inventory",
    "src/publish",
  ],
  "src/cli": [
    "src/core",
    "src/platform",
    "src/intunewin",
    "src/clients",
    "src/definitions",
    "src/catalog",
    "src/inventory",
    "src/publish",
    "src/queue",
  ],
  "src/console": [
    "src/core",
    "src/platform",
    "src/intunewin",
    "src/clients",
    "src/definitions",
    "src/catalog",
    "src/inventory",
    "src/publish",
  ],
  emulator: ["src/core", "src/platform"],
};
const TARGETS = [...Object.keys(ALLOWED), "test", "bench"];

const isTestCode = (path: string): boolean => path.endsWith(".test.ts") || path.split(sep).includes("testing");

function productionFiles(dir: string, out: string[] = []): string[] {
  let entries;
  try {
    entries = readdirSync(join(root, dir), { withFileTypes: true });
  } catch {
    return out; // a layer not written yet (src/console)
  }
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) productionFiles(p, out);
    else if (p.endsWith(".ts") && !p.endsWith(".d.ts") && !isTestCode(p)) out.push(p);
  }
  return out;
}

/** A relative specifier from `from` (a repository path) to the real file `to`, as NodeNext code writes it. */
function specifier(from: string, to: string): string {
  const rel = relative(dirname(join(root, from)), join(root, to))
    .split(sep)
    .join("/")
    .replace(/\.ts$/, ".js");
  return rel.startsWith(".") ? rel : "./" + rel;
}

let eslint: ESLint;

/** The layering messages for a probe file at `path` (repository-relative) holding `code`. */
async function lint(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(root, path) });
  assert.ok(result, path);
  const unexpected = result.messages.filter((m) => !LAYERING_RULES.has(m.ruleId ?? ""));
  assert.deepEqual(unexpected, [], `${path}: probe code itself should lint clean`);
  return result.messages.map((m) => `${m.ruleId}: ${m.message}`);
}

const importing = (spec: string): string => `import { probe } from "${spec}";\nexport const y = probe;\n`;

describe("layering (eslint.config.js)", () => {
  before(() => {
    eslint = new ESLint({ cwd: root });
  });

  it("refuses a forbidden import four folders deep in src/core", async () => {
    const probe = "src/core/a/b/c/x.ts";
    const spec = "../../../../clients/http/redact.js";
    assert.equal(specifier(probe, "src/clients/http/redact.ts"), spec);
    const messages = await lint(probe, importing(spec));
    assert.equal(messages.length, 1, messages.join("\n"));
    assert.match(messages[0]!, /^import-x\/no-restricted-paths: .*src\/core may import only src\/core/);
  });

  it("refuses src/clients from emulator/graph/resources and emulator/graph/model, at any depth", async () => {
    for (const probe of ["emulator/graph/resources/x.ts", "emulator/graph/model/deep/er/x.ts"]) {
      const messages = await lint(probe, importing(specifier(probe, "src/clients/http/redact.ts")));
      assert.equal(messages.length, 1, probe);
      assert.match(messages[0]!, /emulator may import only src\/core, src\/platform, emulator/);
    }
  });

  it("lets the same deep files import what their layer allows", async () => {
    assert.deepEqual(await lint("src/core/a/b/c/x.ts", importing("../../../errors.js")), []);
    const probe = "emulator/graph/resources/x.ts";
    assert.deepEqual(await lint(probe, importing(specifier(probe, "src/core/errors.ts"))), []);
    assert.deepEqual(await lint(probe, importing(specifier(probe, "src/platform/fs.ts"))), []);
  });

  it("enforces the whole matrix, for value and type imports, from a nested folder of every layer", async () => {
    const failures: string[] = [];
    for (const importer of Object.keys(ALLOWED)) {
      const probe = `${importer}/nested/deeper/probe.ts`;
      for (const layer of TARGETS) {
        const target = productionFiles(layer)[0];
        if (!target) continue;
        const allowed = layer === importer || ALLOWED[importer]!.includes(layer);
        const spec = specifier(probe, target);
        for (const code of [importing(spec), `import type { Probe } from "${spec}";\nexport type Y = Probe;\n`]) {
          const refused = (await lint(probe, code)).some((m) => m.startsWith("import-x/no-restricted-paths"));
          if (refused === allowed) failures.push(`${importer} → ${target}: ${refused ? "refused" : "allowed"}`);
        }
      }
    }
    assert.deepEqual(failures, []);
  });

  it("has a row for every folder under src/: each refuses the emulator", async () => {
    const entries = readdirSync(join(root, "src"), { withFileTypes: true });
    const loose = entries.filter((e) => !e.isDirectory()).map((e) => e.name);
    assert.deepEqual(loose, [], "a file directly under src/ belongs to no layer: move it into one");
    const folders = entries.filter((e) => e.isDirectory());
    assert.ok(folders.length >= 7);
    for (const f of folders) {
      const probe = `src/${f.name}/x/probe.ts`;
      const messages = await lint(probe, importing(specifier(probe, "emulator/server.ts")));
      assert.ok(
        messages.some((m) => m.startsWith("import-x/no-restricted-paths")),
        `src/${f.name} is not in the layer matrix of eslint.config.js`,
      );
    }
  });

  it("lets only the launcher adapter import the emulator, and still layers it", async () => {
    const gate = "src/publish/connect/local-tenant-launcher.ts";
    assert.deepEqual(await lint(gate, importing(specifier(gate, "emulator/server.ts"))), [], gate);
    for (const other of [
      "src/publish/connect/local-tenant.ts",
      "src/cli/commands/emulator-start.ts",
      "src/publish/target.ts",
    ])
      assert.equal((await lint(other, importing(specifier(other, "emulator/server.ts")))).length, 1, other);
    const launcher = "src/publish/connect/local-tenant-launcher.ts";
    assert.equal((await lint(launcher, importing(specifier(launcher, "src/cli/exit-codes.ts")))).length, 1);
  });

  it("names at most one launcher adapter file", () => {
    const launchers = productionFiles("src").filter((p) => /(^|\/)local-tenant-launcher[^/]*\.ts$/.test(p));
    assert.ok(launchers.length <= 1, launchers.join(", "));
  });

  it("follows dynamic import() and refuses one it cannot follow", async () => {
    const probe = "src/publish/x.ts";
    const lazy = `export const load = () => import("${specifier(probe, "emulator/server.ts")}");\n`;
    assert.match((await lint(probe, lazy)).join("\n"), /no-restricted-paths: .*src\/publish may import only/);
    const computed = `const where = "../../emulator/server.js";\nexport const load = () => import(where);\n`;
    assert.match((await lint(probe, computed)).join("\n"), /no-restricted-syntax: import\(\) takes a string literal/);
  });

  it("refuses an import it cannot resolve, which would escape the check", async () => {
    assert.match((await lint("src/core/x.ts", importing("../nowhere/x.js"))).join("\n"), /no-unresolved/);
  });

  it("keeps test code out of production files, and leaves tests free", async () => {
    const probe = "src/publish/x.ts";
    const messages = await lint(probe, importing(specifier(probe, "src/clients/http/testing/scripted-server.ts")));
    assert.match(messages.join("\n"), /production code never imports test code/);
    const test = "src/core/a/x.test.ts";
    assert.deepEqual(await lint(test, importing(specifier(test, "emulator/server.ts"))), []);
    assert.deepEqual(await lint("test/x/y.ts", importing("../../emulator/server.js")), []);
  });
});
