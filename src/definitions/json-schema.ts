/**
 * The JSON Schema of app definitions for editors (YAML language server, VS Code), generated from the zod schema
 * (docs/DESIGN.md house rule 2). The committed copy is schemas/app-definition.schema.json; regenerate it with
 * `npm run build && node scripts/gen-schema.mjs` (json-schema.test.ts fails when it is stale).
 */
import { editorJsonSchema } from "../core/json-schema.js";
import { appDefinitionSchema } from "../core/app-definition/schema.js";

/** The definition's input form (what a file may contain: defaults make keys optional). */
export function appDefinitionJsonSchema(): Record<string, unknown> {
  return editorJsonSchema(
    appDefinitionSchema,
    "intune-publisher app definition",
    "One Win32 app for Microsoft Intune. Reference: docs/app-definitions.md.",
  );
}
