/**
 * Our own catalog entries: one YAML file per product that winget lacks or that a user wants to control fully
 * (docs/catalog.md "Catalog entries"). The JSON Schema for editors, schemas/catalog-entry.schema.json, is generated
 * from this zod schema (scripts/gen-schema.mjs).
 *
 * An entry says how to install the product (like one winget installer) and how to learn its newest version:
 * - `fixed`: one URL that always serves the newest MSI; its version is the MSI's ProductVersion, read after download
 *   (docs/catalog.md "Fixed URLs": a non-MSI is refused, a changed file with the same version too);
 * - `json` / `xml`: a feed document, with a path to the version, the download URL and (optionally) its SHA-256;
 * - `github`: a GitHub-style "latest release", with a pattern naming the asset.
 */
import { z } from "zod";
import { editorJsonSchema } from "../../core/json-schema.js";
import { PACKAGE_IDENTIFIER_PATTERN } from "../winget/schema.js";

// eslint-disable-next-line no-control-regex -- refusing control characters is the point
const ONE_LINE = /^[^\u0000-\u001f\u007f\u2028\u2029]*$/;
const line = (what: string, max = 256) =>
  z
    .string({ error: (i) => (i.input === undefined ? `${what} is required.` : `${what} must be text.`) })
    .trim()
    .min(1, `${what} must not be empty.`)
    .max(max, `${what} is at most ${max} characters.`)
    .regex(ONE_LINE, `${what} must be one line of text (no line breaks or control characters).`);
const url = (what: string) =>
  line(what, 2048).refine((s) => /^https?:\/\//i.test(s) && URL.canParse(s), `${what} must be an http(s) URL.`);
const sha256 = z
  .string({ error: "sha256 must be text." })
  .regex(/^[A-Fa-f0-9]{64}$/, "sha256 is the file's SHA-256: 64 hexadecimal digits.");
/** A path into a JSON document: `a.b[0].c`, optionally starting with `$.`. */
const jsonPath = (what: string) =>
  line(what, 512).regex(
    /^(\$\.)?[A-Za-z_$][\w$-]*(\[\d+\])*(\.[A-Za-z_$][\w$-]*(\[\d+\])*)*$/,
    `${what} is a path such as releases[0].version (keys separated by dots, list items by [n]).`,
  );
/** A path into an XML document: `/a/b[1]/c` then optionally `/@attribute` (names may carry a prefix: sparkle:version). */
const xmlPath = (what: string) =>
  line(what, 512).regex(
    /^(\/[A-Za-z_][\w.:-]*(\[\d+\])?)+(\/@[A-Za-z_][\w.:-]*)?$/,
    `${what} is a path such as /rss/channel/item[1]/enclosure/@url.`,
  );

export const ENTRY_INSTALLER_TYPES = ["msi", "wix", "burn", "inno", "nullsoft", "exe"] as const;

const switchesSchema = z.strictObject(
  {
    silent: line("switches.silent", 512).optional().describe("Switches for a silent install (winget's Silent)"),
    silentWithProgress: line("switches.silentWithProgress", 512).optional(),
    custom: line("switches.custom", 2048).optional().describe("Added after the silent switches (winget's Custom)"),
  },
  { error: "switches must be a mapping (silent, silentWithProgress, custom)." },
);

const returnCodeSchema = z.strictObject({
  code: z
    .number({ error: "code must be a number." })
    .int()
    .min(-(2 ** 31))
    .max(2 ** 32 - 1),
  response: z.enum(
    ["packageInUse", "installInProgress", "fileInUse", "rebootRequiredToFinish", "rebootInitiated", "alreadyInstalled"],
    {
      error:
        "response is one of packageInUse, installInProgress, fileInUse (retry), rebootRequiredToFinish (soft reboot), rebootInitiated (hard reboot), alreadyInstalled (success).",
    },
  ),
});

const installerSchema = z.strictObject(
  {
    type: z.enum(ENTRY_INSTALLER_TYPES, { error: `installer.type is one of ${ENTRY_INSTALLER_TYPES.join(", ")}.` }),
    architecture: z
      .enum(["x64", "x86", "arm64", "neutral"], { error: "installer.architecture is x64, x86, arm64 or neutral." })
      .default("x64"),
    scope: z.enum(["machine", "user"], { error: "installer.scope is machine or user." }).optional(),
    switches: switchesSchema.optional(),
    productCode: line("installer.productCode", 255).optional().describe("MSI ProductCode or Uninstall key name"),
    displayName: line("installer.displayName").optional().describe("The name Windows shows under Installed apps"),
    successCodes: z
      .array(
        z
          .number()
          .int()
          .min(-(2 ** 31))
          .max(2 ** 32 - 1),
      )
      .max(16)
      .optional(),
    returnCodes: z.array(returnCodeSchema).max(128).optional(),
    minimumOSVersion: z
      .string()
      .regex(/^\d{1,5}(\.\d{1,5}){0,3}$/, "installer.minimumOSVersion is a Windows version such as 10.0.19041.")
      .optional(),
    fileName: line("installer.fileName", 120)
      .regex(
        /^[A-Za-z0-9][A-Za-z0-9 ._+()-]*$/,
        "installer.fileName is one file name (letters, digits, space . _ + ( ) -), no folders.",
      )
      .refine(
        (s) => !s.includes("..") && !/[. ]$/.test(s),
        "installer.fileName must not contain .. or end in . or a space.",
      )
      .optional()
      .describe("Name the download is saved under; default: the URL's last segment"),
  },
  { error: "installer must be a mapping with at least a type." },
);

const fixedSource = z.strictObject({
  kind: z.literal("fixed"),
  url: url("source.url").describe(
    "Always serves the newest MSI; its ProductVersion is the version, known only after download (asked for conditionally: ETag / If-Modified-Since)",
  ),
  sha256: sha256.optional().describe("Pins the file (then http:// is accepted)"),
});
const jsonSource = z.strictObject({
  kind: z.literal("json"),
  feed: url("source.feed"),
  version: jsonPath("source.version"),
  url: jsonPath("source.url"),
  sha256: jsonPath("source.sha256").optional(),
});
const xmlSource = z.strictObject({
  kind: z.literal("xml"),
  feed: url("source.feed"),
  version: xmlPath("source.version"),
  url: xmlPath("source.url"),
  sha256: xmlPath("source.sha256").optional(),
});
const githubSource = z.strictObject({
  kind: z.literal("github"),
  repository: line("source.repository").regex(/^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+$/, "source.repository is owner/name."),
  asset: line("source.asset").describe("Pattern of the asset's file name: * any characters, ? one"),
  api: url("source.api").default("https://api.github.com").describe("GitHub's API, or GitHub Enterprise's"),
  tagPrefix: z.string().max(32).default("v").describe("Removed from the release tag to give the version"),
});

export const entrySourceSchema = z.discriminatedUnion("kind", [fixedSource, jsonSource, xmlSource, githubSource], {
  error: "source must be a mapping whose kind is fixed, json, xml or github.",
});

export const catalogEntrySchema = z
  .strictObject(
    {
      $schema: z.string().optional(),
      id: z
        .string({ error: (i) => (i.input === undefined ? "id is required." : "id must be text.") })
        .regex(
          PACKAGE_IDENTIFIER_PATTERN,
          'id is Publisher.Package like a winget id: 2 to 8 dot-separated parts, no spaces or \\ / : * ? " < > |.',
        ),
      name: line("name"),
      publisher: line("publisher"),
      description: z.string().max(10000).optional(),
      homepage: url("homepage").optional(),
      privacyUrl: url("privacyUrl").optional(),
      tags: z.array(line("A tag", 40)).max(64).default([]),
      installer: installerSchema,
      source: entrySourceSchema,
      dependencies: z
        .array(z.string().regex(PACKAGE_IDENTIFIER_PATTERN, "A dependency is a package id."))
        .max(32)
        .default([]),
    },
    { error: "A catalog entry is a mapping (id, name, publisher, installer, source)." },
  )
  .superRefine((e, ctx) => {
    if (e.source.kind === "fixed" && e.installer.type !== "msi" && e.installer.type !== "wix")
      ctx.addIssue({
        code: "custom",
        path: ["source", "kind"],
        message:
          "A fixed URL needs an MSI (installer.type msi or wix): its version is the MSI's ProductVersion. For another installer, give a feed that names the version (source.kind json, xml or github).",
      });
    if (e.source.kind === "fixed" && e.source.url.toLowerCase().startsWith("http:") && e.source.sha256 === undefined)
      ctx.addIssue({
        code: "custom",
        path: ["source", "url"],
        message: "An http:// URL needs sha256: without TLS, only the hash proves the file.",
      });
    if (
      e.installer.type === "exe" &&
      e.installer.switches?.silent === undefined &&
      e.installer.switches?.silentWithProgress === undefined
    )
      ctx.addIssue({
        code: "custom",
        path: ["installer", "switches"],
        message: "An exe needs switches.silent (or silentWithProgress): it has no default silent switch.",
      });
  });

export type CatalogEntry = z.output<typeof catalogEntrySchema>;
export type EntrySource = CatalogEntry["source"];

/** The JSON Schema of entries (input form), for editors. */
export function catalogEntryJsonSchema(): Record<string, unknown> {
  return editorJsonSchema(
    catalogEntrySchema,
    "intune-publisher catalog entry",
    "One product of your own catalog. Reference: docs/catalog.md.",
  );
}
