/**
 * The inventory rules: a standalone YAML section (`inventory:`) that a subscriptions file can embed as it is.
 *
 *   inventory:
 *     mappings:                      # an inventory name (glob, * and ?) → a catalog id; wins over any match
 *       - name: "Contoso Editor*"
 *         publisher: "Contoso*"      # optional
 *         catalogId: Contoso.Editor
 *     exclude:                       # left out of the report (and of auto-publish)
 *       - name: "Microsoft Edge*"
 *       - catalogId: Google.Chrome
 */
import { z } from "zod";

const glob = z.string().min(1).max(500);

export const inventoryMappingSchema = z.strictObject({
  name: glob,
  publisher: glob.optional(),
  catalogId: z.string().min(1).max(128),
});

export const inventoryExclusionSchema = z
  .strictObject({ name: glob.optional(), publisher: glob.optional(), catalogId: z.string().min(1).max(128).optional() })
  .refine((e) => e.name !== undefined || e.catalogId !== undefined, {
    message: "an exclusion needs a name pattern or a catalogId",
  });

export const inventoryRulesSchema = z.strictObject({
  mappings: z.array(inventoryMappingSchema).max(10_000).default([]),
  exclude: z.array(inventoryExclusionSchema).max(10_000).default([]),
});

export type InventoryRules = z.infer<typeof inventoryRulesSchema>;

/** A case-insensitive glob (`*` any run, `?` one character) matched against the whole text. */
export function globMatcher(pattern: string): (text: string) => boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replaceAll("*", ".*")
      .replaceAll("?", ".")}$`,
    "is",
  );
  return (text) => re.test(text);
}
