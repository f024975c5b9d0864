// Writes the error-code table of docs/cli.md#error-codes from the error catalogue (src/core/error-codes.ts).
// Run after `npm run build`: node scripts/gen-error-docs.mjs [--check]
// (or from the sources, without building: node --import tsx scripts/gen-error-docs.mjs --from-source [--check]).
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const fromSource = process.argv.includes("--from-source");
const { withErrorCodeTable } = await import(
  join(root, fromSource ? "src/cli/error-table.ts" : "dist/src/cli/error-table.js")
);

const file = join(root, "docs", "cli.md");
const current = readFileSync(file, "utf8");
const text = withErrorCodeTable(current);
if (process.argv.includes("--check")) {
  if (current !== text) {
    console.error(`${file} is stale: run npm run docs:errors`);
    process.exit(1);
  }
  console.log(`${file} is up to date.`);
} else if (current !== text) {
  writeFileSync(file, text);
  console.log(`wrote ${file}`);
} else console.log(`${file} is up to date.`);
