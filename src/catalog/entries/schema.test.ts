import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { repoRoot } from "../../../test/support/paths.js";
import { loadEntry } from "./source.js";
import { catalogEntryJsonSchema } from "./schema.js";

describe("schemas/catalog-entry.schema.json", () => {
  it("is what the zod schema generates (regenerate: npm run build && node scripts/gen-schema.mjs)", async () => {
    const committed: unknown = JSON.parse(
      await readFile(join(repoRoot(), "schemas", "catalog-entry.schema.json"), "utf8"),
    );
    assert.deepEqual(committed, catalogEntryJsonSchema(), "stale: run `npm run build && node scripts/gen-schema.mjs`.");
  });

  it("describes the input form: required keys, no others, the four source kinds", () => {
    const s = catalogEntryJsonSchema() as {
      required: string[];
      additionalProperties: boolean;
      properties: { source: { oneOf: { properties: { kind: { const: string } } }[] } };
    };
    assert.deepEqual(s.required, ["id", "name", "publisher", "installer", "source"]);
    assert.equal(s.additionalProperties, false);
    assert.deepEqual(
      s.properties.source.oneOf.map((o) => o.properties.kind.const),
      ["fixed", "json", "xml", "github"],
    );
  });

  it("accepts the examples in examples/catalog", async () => {
    const dir = join(repoRoot(), "examples", "catalog");
    for (const name of (await readdir(dir)).filter((n) => n.endsWith(".yaml"))) await loadEntry(join(dir, name));
  });
});
