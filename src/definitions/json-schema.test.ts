import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { appDefinitionJsonSchema } from "./json-schema.js";

/** The repository root (the folder with package.json and examples/), from the sources or a build. */
function repoRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!(existsSync(join(d, "package.json")) && existsSync(join(d, "examples")))) {
    if (dirname(d) === d) throw new Error("repository root not found");
    d = dirname(d);
  }
  return d;
}

describe("schemas/app-definition.schema.json", () => {
  it("is what the zod schema generates (regenerate: npm run build && node scripts/gen-schema.mjs)", async () => {
    const committed: unknown = JSON.parse(
      await readFile(join(repoRoot(), "schemas", "app-definition.schema.json"), "utf8"),
    );
    assert.deepEqual(
      committed,
      appDefinitionJsonSchema(),
      "schemas/app-definition.schema.json is stale: run `npm run build && node scripts/gen-schema.mjs`.",
    );
  });

  it("describes the input form editors complete", () => {
    const s = appDefinitionJsonSchema() as {
      $schema: string;
      required: string[];
      additionalProperties: boolean;
      properties: Record<string, { items?: { oneOf?: { properties: { type: { const: string } } }[] } }>;
    };
    assert.equal(s.$schema, "https://json-schema.org/draft/2020-12/schema");
    assert.equal(s.additionalProperties, false);
    assert.deepEqual(s.required, [
      "id",
      "displayName",
      "publisher",
      "version",
      "content",
      "install",
      "uninstall",
      "detection",
    ]);
    assert.deepEqual(
      s.properties.detection?.items?.oneOf?.map((o) => o.properties.type.const),
      ["file", "registry", "msi", "script"],
    );
  });
});
