/**
 * The subscriptions file (docs/sync.md): what a tenant gets from the catalog, product by product — the catalog id
 * (or an id in a folder of our own catalog entries), architecture and scope, targeting (the app definition's
 * schema: assignments, a shared targeting file, scope tags, categories, ESP profiles), update strategy, versions
 * kept, a pinned version, overrides of commands and rules, and the deployment mode (application or updateOnly).
 * YAML or JSON, strict keys, every problem with file:line:column (the definitions' positioned reader). Optional
 * sections: `inventory:` (mappings and exclusions for matching the inventory, src/core/config/inventory-rules.ts) and
 * `autoPublish:` (products seen on enough devices are published too: auto-publish.ts).
 */
import { dirname, resolve } from "node:path";
import { parse } from "yaml";
import { z } from "zod";
import { AppDefinitionError } from "../../core/app-definition/errors.js";
import { editorJsonSchema } from "../../core/json-schema.js";
import type { DefinitionProblem } from "../../core/app-definition/errors.js";
import {
  ARCHITECTURES,
  ASSIGNMENT_CARRY_OVER,
  detectionRuleSchema,
  MAX_KEEP_PREVIOUS_VERSIONS,
  requirementRuleSchema,
  SUPERSEDENCE_TYPES,
  WINDOWS_RELEASES,
} from "../../core/app-definition/schema.js";
import { assignmentListSchema } from "../../core/app-definition/targeting-schema.js";
import { inventoryRulesSchema } from "../../core/config/inventory-rules.js";
import { isPublisherError, PublisherError } from "../../core/errors.js";
import { parseYamlFile } from "../../definitions/parse.js";
import { readBoundedText } from "../../platform/fs.js";
import type { ParsedFile } from "../../definitions/parse.js";

/** A subscriptions file is a few KiB per product; 1 MiB holds thousands and bounds the YAML parser (limits.md). */
export const SUBSCRIPTIONS_MAX_BYTES = 1024 * 1024;
/** Products in one file (limits.md). */
export const MAX_SUBSCRIPTIONS = 2000;
export const DEFAULT_SUBSCRIPTIONS_FILE = "subscriptions.yaml";

// eslint-disable-next-line no-control-regex -- refusing control characters is the point
const PACKAGE_ID = /^[^.\s\\/:*?"<>|\u0000-\u001f]{1,128}(\.[^.\s\\/:*?"<>|\u0000-\u001f]{1,128}){1,7}$/u;
// eslint-disable-next-line no-control-regex -- refusing control characters is the point
const VERSION = /^[^\\/:*?"<>|\u0000-\u001f]{1,64}$/u;

const text = (what: string) =>
  z
    .string({ error: (i) => (i.input === undefined ? `${what} is required.` : `${what} must be text.`) })
    .trim()
    .min(1, `${what} must not be empty.`);

const overridesSchema = z.strictObject({
  install: z.strictObject({ command: text("overrides.install.command") }).optional(),
  uninstall: z.strictObject({ command: text("overrides.uninstall.command") }).optional(),
  detection: z
    .array(detectionRuleSchema, { error: "overrides.detection must be a list of detection rules." })
    .min(1, "overrides.detection needs at least one rule.")
    .optional()
    .describe("Replaces the catalog's detection rules (paths relative to the subscriptions file)"),
  requirements: z
    .strictObject({
      minimumWindowsRelease: z
        .enum(WINDOWS_RELEASES, { error: `minimumWindowsRelease must be one of ${WINDOWS_RELEASES.join(", ")}.` })
        .optional(),
      architectures: z.array(z.enum(ARCHITECTURES)).min(1).optional(),
      rules: z.array(requirementRuleSchema, { error: "overrides.requirements.rules must be a list." }).optional(),
    })
    .optional()
    .describe("Replaces the catalog's requirements, key by key"),
});

export const MODES = ["application", "updateOnly"] as const;
export const STRATEGIES = ["inPlace", "supersede"] as const;

export const subscriptionSchema = z
  .strictObject({
    id: z
      .string({ error: (i) => (i.input === undefined ? "id is required." : "id must be text.") })
      .regex(PACKAGE_ID, "id is a catalog id, Publisher.Package (e.g. Notepad++.Notepad++)."),
    source: text("source")
      .optional()
      .describe("Catalog source for this product: a configured name, a folder (winget layout or entries), a URL"),
    architecture: z.enum(["x64", "x86", "arm64"], { error: "architecture must be x64, x86 or arm64." }).default("x64"),
    scope: z.enum(["machine", "user"], { error: "scope must be machine or user." }).default("machine"),
    mode: z
      .enum(MODES, { error: "mode must be application or updateOnly." })
      .default("application")
      .describe("application: offered or required as any app; updateOnly: only where an older version is installed"),
    strategy: z
      .enum(STRATEGIES, { error: "strategy must be inPlace or supersede." })
      .default("inPlace")
      .describe("A new version: inPlace (new content on the same app) or supersede (a new app)"),
    keep: z
      .number({ error: "keep must be a number of previous versions." })
      .int("keep must be a whole number.")
      .min(0, "keep must be 0 or more.")
      .max(MAX_KEEP_PREVIOUS_VERSIONS, `keep is at most ${MAX_KEEP_PREVIOUS_VERSIONS}.`)
      .optional()
      .describe("strategy supersede: previous versions kept (default 2)"),
    supersedence: z
      .strictObject({
        type: z.enum(SUPERSEDENCE_TYPES, { error: "supersedence.type must be update or replace." }).optional(),
        assignments: z
          .enum(ASSIGNMENT_CARRY_OVER, { error: "supersedence.assignments must be move, copy or leave." })
          .optional(),
      })
      .optional(),
    pin: z
      .string({ error: (i) => `pin must be quoted text${typeof i.input === "number" ? ` (write "${i.input}")` : ""}.` })
      .regex(VERSION, 'pin is a version the source offers, e.g. "8.6.2".')
      .optional()
      .describe("Publish this version, not the newest"),
    displayName: text("displayName").optional(),
    assignments: assignmentListSchema.optional(),
    targeting: text("targeting").optional().describe("A shared targeting file, relative to this file"),
    scopeTags: z.array(text("A scope tag")).optional(),
    categories: z.array(text("A category")).optional(),
    enrollmentStatusPages: z.array(text("An Enrollment Status Page profile name")).optional(),
    overrides: overridesSchema.optional(),
  })
  .superRefine((s, ctx) => {
    if (s.mode === "updateOnly" && (s.enrollmentStatusPages?.length ?? 0) > 0)
      ctx.addIssue({
        code: "custom",
        path: ["enrollmentStatusPages"],
        message:
          "An updateOnly app cannot be in an Enrollment Status Page: Intune does not allow apps with an update-only requirement there (they apply only where an older version is installed, which a new device never has). Remove enrollmentStatusPages, or use mode: application.",
      });
    if (s.strategy !== "supersede" && (s.keep !== undefined || s.supersedence !== undefined))
      ctx.addIssue({
        code: "custom",
        path: [s.keep !== undefined ? "keep" : "supersedence"],
        message:
          "keep and supersedence apply to strategy: supersede (inPlace replaces the content of one app); set strategy: supersede, or remove them.",
      });
  });

export const AUTO_PUBLISH_MODES = ["updateOnly", "application", "both"] as const;
/** Matches below this confidence (a tag, say) are never published on their own (docs/inventory.md "Matching"). */
export const DEFAULT_AUTO_MIN_CONFIDENCE = 0.7;

export const autoPublishSchema = z.strictObject(
  {
    minDevices: z
      .number({ error: (i) => (i.input === undefined ? "minDevices is required." : "minDevices must be a number.") })
      .int("minDevices must be a whole number.")
      .min(1, "minDevices must be 1 or more.")
      .describe("A matched catalog product seen on at least this many devices is published"),
    mode: z
      .enum(AUTO_PUBLISH_MODES, { error: "autoPublish.mode must be updateOnly, application or both." })
      .default("updateOnly")
      .describe("updateOnly (default), application, or both (an application and an update-only app)"),
    targeting: text("autoPublish.targeting")
      .optional()
      .describe("A shared targeting file for auto-published apps, relative to this file"),
    exclude: z
      .array(
        z
          .string({ error: "An autoPublish.exclude entry is a catalog id or a pattern (* and ?)." })
          .trim()
          .min(1, "An autoPublish.exclude entry must not be empty.")
          .max(128, "An autoPublish.exclude entry is at most 128 characters."),
        { error: "autoPublish.exclude must be a list of catalog ids or patterns." },
      )
      .max(MAX_SUBSCRIPTIONS, `autoPublish.exclude has at most ${MAX_SUBSCRIPTIONS} entries.`)
      .default([])
      .describe("Catalog ids (patterns with * and ?) never auto-published"),
    minConfidence: z
      .number({ error: "autoPublish.minConfidence must be a number from 0 to 1." })
      .min(0, "autoPublish.minConfidence must be from 0 to 1.")
      .max(1, "autoPublish.minConfidence must be from 0 to 1.")
      .default(DEFAULT_AUTO_MIN_CONFIDENCE)
      .describe(`Only matches at least this confident (default ${DEFAULT_AUTO_MIN_CONFIDENCE})`),
  },
  { error: (i) => (i.code === "unrecognized_keys" ? undefined : "autoPublish is a mapping with minDevices.") },
);

export type AutoPublishSettings = z.output<typeof autoPublishSchema>;

export const subscriptionsFileSchema = z.strictObject(
  {
    source: text("source").optional().describe("The catalog source for every product (default: the configured one)"),
    products: z
      .array(subscriptionSchema, { error: "products must be a list of subscriptions." })
      .max(MAX_SUBSCRIPTIONS, `At most ${MAX_SUBSCRIPTIONS} products in one file.`),
    inventory: inventoryRulesSchema
      .optional()
      .describe("Mappings (inventory name → catalog id) and exclusions for matching the inventory"),
    autoPublish: autoPublishSchema
      .optional()
      .describe("Publish matched catalog products seen on at least minDevices devices (docs/inventory.md)"),
  },
  {
    error: (i) =>
      i.code === "unrecognized_keys" ? undefined : "A subscriptions file is a mapping with a `products` list.",
  },
);

export type Subscription = z.output<typeof subscriptionSchema>;
export type SubscriptionsFile = z.output<typeof subscriptionsFileSchema>;

/** A product's keys as written (what goes into the app definition; `value` holds the checked form). */
export type RawSubscription = Record<string, unknown>;

export interface LoadedSubscriptions extends ParsedFile<SubscriptionsFile> {
  /** The folder relative paths in the file are relative to. */
  dir: string;
  /** Each product as written, in the order of `value.products`. */
  raw: RawSubscription[];
}

/** Reads and checks a subscriptions file; every problem is positioned (AppDefinitionError, exit 9). */
export async function loadSubscriptions(file: string, cwd = process.cwd()): Promise<LoadedSubscriptions> {
  const path = resolve(cwd, file);
  let textValue: string;
  try {
    textValue = await readBoundedText({ path, what: "subscriptions file", maxBytes: SUBSCRIPTIONS_MAX_BYTES });
  } catch (e) {
    if (isPublisherError(e) && e.code === "FileNotFound")
      throw new PublisherError("SubscriptionsNotFound", e.message, {
        cause: e,
        hint: `Give the file with --subscriptions FILE (default ./${DEFAULT_SUBSCRIPTIONS_FILE}); docs/sync.md shows one.`,
      });
    throw e;
  }
  return checkSubscriptionsText(textValue, path);
}

/** Checks a subscriptions file's text as `loadSubscriptions` does (`path` names it in the positioned problems). */
export function checkSubscriptionsText(textValue: string, path: string): LoadedSubscriptions {
  const parsed = parseYamlFile(
    textValue,
    path,
    subscriptionsFileSchema,
    "The subscriptions file is empty: it is a YAML mapping with a `products` list (docs/sync.md).",
  );
  const problems: DefinitionProblem[] = [];
  const seen = new Map<string, number>();
  parsed.value.products.forEach((p, i) => {
    const key = `${p.id.toLowerCase()}|${p.architecture}|${p.scope}`;
    const first = seen.get(key);
    if (first !== undefined)
      problems.push(
        parsed.problem(
          ["products", i, "id"],
          `${p.id} (${p.architecture}, ${p.scope}) is subscribed twice (also products[${first}]): one subscription per product, architecture and scope.`,
        ),
      );
    else seen.set(key, i);
  });
  if (problems.length > 0) throw new AppDefinitionError(problems);
  const doc = parse(textValue, { maxAliasCount: 100 }) as { products: RawSubscription[] };
  return { ...parsed, dir: dirname(path), raw: doc.products };
}

/** The JSON Schema of subscriptions files for editors (schemas/subscriptions.schema.json). */
export function subscriptionsJsonSchema(): Record<string, unknown> {
  return editorJsonSchema(
    subscriptionsFileSchema,
    "intune-publisher subscriptions",
    "Third-party products a tenant keeps up to date with `intune-publisher sync`. Reference: docs/sync.md.",
    { unrepresentableAsAny: true },
  );
}
