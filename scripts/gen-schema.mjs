// Writes the JSON Schemas in schemas/ from the zod schemas: app definitions (src/core/app-definition/schema.ts) and
// catalog entries (src/catalog/entries/schema.ts), subscriptions (src/publish/sync/subscriptions.ts), tenants
// (src/publish/tenants/file.ts), formatted by Prettier so `npm run lint` accepts them. Run after
// `npm run build`: node scripts/gen-schema.mjs [--check]
// (or from the sources, without building: node --import tsx scripts/gen-schema.mjs --from-source [--check]).
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import prettier from "prettier";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const fromSource = process.argv.includes("--from-source");
const module = (path) => join(root, fromSource ? `src/${path}.ts` : `dist/src/${path}.js`);
const { appDefinitionJsonSchema } = await import(module("definitions/json-schema"));
const { catalogEntryJsonSchema } = await import(module("catalog/entries/schema"));
const { subscriptionsJsonSchema } = await import(module("publish/sync/subscriptions"));
const { tenantsJsonSchema } = await import(module("publish/tenants/file"));

const outputs = [
  [join(root, "schemas", "app-definition.schema.json"), appDefinitionJsonSchema()],
  [join(root, "schemas", "catalog-entry.schema.json"), catalogEntryJsonSchema()],
  [join(root, "schemas", "subscriptions.schema.json"), subscriptionsJsonSchema()],
  [join(root, "schemas", "tenants.schema.json"), tenantsJsonSchema()],
];

let stale = false;
for (const [out, schema] of outputs) {
  const options = (await prettier.resolveConfig(out)) ?? {};
  const text = await prettier.format(JSON.stringify(schema), { ...options, filepath: out });
  if (process.argv.includes("--check")) {
    let current = "";
    try {
      current = readFileSync(out, "utf8");
    } catch {
      // missing: stale
    }
    if (current !== text) {
      console.error(`${out} is stale: run npm run build && node scripts/gen-schema.mjs`);
      stale = true;
    } else console.log(`${out} is up to date.`);
  } else {
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, text);
    console.log(`wrote ${out}`);
  }
}
if (stale) process.exit(1);
