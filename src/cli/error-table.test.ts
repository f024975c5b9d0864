import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { ERROR_CODES } from "../core/error-codes.js";
import { errorCodeTable, withErrorCodeTable } from "./error-table.js";
import { EXIT_CODES } from "./exit-codes.js";

/** The repository root (the folder with package.json), from the sources or a build. */
function repoRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return here.includes(`${join("dist", "src")}`) ? join(here, "..", "..", "..") : join(here, "..", "..");
}

const cliMd = (): string => readFileSync(join(repoRoot(), "docs", "cli.md"), "utf8");

describe("docs/cli.md error codes", () => {
  it("is what the catalogue generates (regenerate: npm run docs:errors)", () => {
    const doc = cliMd();
    assert.equal(doc, withErrorCodeTable(doc), "docs/cli.md is stale: run `npm run docs:errors`.");
  });

  it("lists every code once, with its exit code", () => {
    const table = errorCodeTable();
    for (const [code, e] of Object.entries(ERROR_CODES)) {
      const rows = table.split("\n").filter((l) => l.startsWith(`| \`${code}\` |`));
      assert.equal(rows.length, 1, code);
      assert.ok(rows[0]!.startsWith(`| \`${code}\` | ${EXIT_CODES[e.kind]} |`), rows[0]);
    }
  });

  it("has a row in the exit-code table for every exit code", () => {
    const doc = cliMd();
    const section = doc.slice(doc.indexOf("## Exit codes"), doc.indexOf("## Error codes"));
    for (const n of new Set(Object.values(EXIT_CODES))) assert.match(section, new RegExp(`^\\| ${n} \\|`, "m"), `${n}`);
  });
});
