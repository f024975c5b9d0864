/**
 * JSON Schemas for editors (YAML language server, VS Code), generated from our zod schemas in their input form (what
 * a file may contain: defaults make keys optional). The committed copies live in schemas/ (scripts/gen-schema.mjs).
 */
import { z } from "zod";

export function editorJsonSchema(
  schema: z.ZodType,
  title: string,
  description: string,
  options: { unrepresentableAsAny?: boolean } = {},
): Record<string, unknown> {
  const { $schema, ...rest } = z.toJSONSchema(schema, {
    io: "input",
    target: "draft-2020-12",
    ...(options.unrepresentableAsAny === true ? { unrepresentable: "any" as const } : {}),
  }) as Record<string, unknown>;
  return { $schema, title, description, ...rest };
}
