/**
 * The JSON Schema of app definitions for editors (YAML language server, VS Code), generated from the zod schema
 * (docs/DESIGN.md house rule 2). The committed copy is schemas/app-definition.schema.json; regenerate it with
 * `npm run build && node scripts/gen-schema.mjs` (json-schema.test.ts fails when it is stale).
 */
import { z } from "zod";
import { appDefinitionSchema } from "../core/app-definition/schema.js";

/** The definition's input form (what a file may contain: defaults make keys optional). */
export function appDefinitionJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(appDefinitionSchema, { io: "input", target: "draft-2020-12" }) as Record<
    string,
    unknown
  >;
  const { $schema, ...rest } = schema;
  return {
    $schema,
    title: "intune-publisher app definition",
    description: "One Win32 app for Microsoft Intune. Reference: docs/app-definitions.md.",
    ...rest,
  };
}
