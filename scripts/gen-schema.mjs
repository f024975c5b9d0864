// Writes schemas/app-definition.schema.json from the zod schema (src/core/app-definition/schema.ts), formatted by
// Prettier so `npm run lint` accepts it. Run after `npm run build`: node scripts/gen-schema.mjs [--check]
// (or from the sources, without building: node --import tsx scripts/gen-schema.mjs --from-source [--check]).
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import prettier from "prettier";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "schemas", "app-definition.schema.json");
const module = process.argv.includes("--from-source")
  ? "src/definitions/json-schema.ts"
  : "dist/src/definitions/json-schema.js";
const { appDefinitionJsonSchema } = await import(join(root, module));
const options = (await prettier.resolveConfig(out)) ?? {};
const text = await prettier.format(JSON.stringify(appDefinitionJsonSchema()), { ...options, filepath: out });

if (process.argv.includes("--check")) {
  let current = "";
  try {
    current = readFileSync(out, "utf8");
  } catch {
    // missing: stale
  }
  if (current !== text) {
    console.error(`${out} is stale: run npm run build && node scripts/gen-schema.mjs`);
    process.exit(1);
  }
  console.log(`${out} is up to date.`);
} else {
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, text);
  console.log(`wrote ${out}`);
}
