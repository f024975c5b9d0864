/**
 * The app definition: one YAML (or JSON) file per app, validated by this zod schema (docs/DESIGN.md house rule 2).
 * Types are inferred from it; cross-field rules carry a human sentence; schemas/app-definition.schema.json is
 * generated from it (src/definitions/json-schema.ts). Facts: docs/reference/graph-win32-upload.md §2.1–§2.2, §3;
 * docs/app-definitions.md.
 *
 * Keys are camelCase and human-sized (`type: registry`, `check: version`); src/core/app-definition/to-graph.ts maps
 * them to Graph's `@odata.type`s and enum literals. Paths (content, icon, scripts) are kept as written, relative to
 * the definition file; src/catalog resolves and reads them.
 */
import { z } from "zod";
import { need } from "./messages.js";
import { WINDOWS_RELEASES } from "../wire/graph.js";
import { INTUNE_LIMITS } from "./limits.js";
import { DEFINITION_ID_PATTERN, MAX_VERSION_LENGTH, stampLength } from "./stamp.js";
import { assignmentListSchema, duplicateTargetProblems } from "./targeting-schema.js";

// ---------------------------------------------------------------------------------------------------------------
// Enumerations (Graph's literals where the value goes to Graph unchanged)

/** §2.2 win32LobAppDetectionOperator / win32LobAppRuleOperator, minus `notConfigured` (implied by no operator). */
export const OPERATORS = [
  "equal",
  "notEqual",
  "greaterThan",
  "greaterThanOrEqual",
  "lessThan",
  "lessThanOrEqual",
] as const;
export type Operator = (typeof OPERATORS)[number];
const EQUALITY_OPERATORS: readonly Operator[] = ["equal", "notEqual"];

export { WINDOWS_RELEASES };

/** Architectures a Win32 app can target (§2.1 windowsArchitecture; `arm` and `neutral` are not offered). */
export const ARCHITECTURES = ["x86", "x64", "arm64"] as const;

export const RUN_AS = ["system", "user"] as const;
/** §2.1 win32LobAppRestartBehavior. */
export const RESTART_BEHAVIORS = ["basedOnReturnCode", "allow", "suppress", "force"] as const;
/** §2.1 win32LobAppReturnCodeType. */
export const RETURN_CODE_TYPES = ["success", "softReboot", "hardReboot", "retry", "failed"] as const;
export const UPDATE_STRATEGIES = ["in-place", "supersede"] as const;
/** §2.13 mobileAppSupersedenceType: update (upgrade in place) or replace (uninstall the old one first). */
export const SUPERSEDENCE_TYPES = ["update", "replace"] as const;
/** What a supersede does with the previous version's assignments (version retention and supersedence). */
export const ASSIGNMENT_CARRY_OVER = ["move", "copy", "leave"] as const;
/** §2.13 mobileAppDependencyType. */
export const DEPENDENCY_TYPES = ["autoInstall", "detect"] as const;
export const DEFAULT_KEEP_PREVIOUS_VERSIONS = 2;
export const MAX_KEEP_PREVIOUS_VERSIONS = 10;

/** File/folder checks (§2.2 win32LobAppFileSystemDetectionType minus notConfigured). */
export const FILE_CHECKS = ["exists", "doesNotExist", "version", "modifiedDate", "createdDate", "sizeInMB"] as const;
/** Registry checks (§2.2 win32LobAppRegistryDetectionType minus notConfigured). */
export const REGISTRY_CHECKS = ["exists", "doesNotExist", "string", "integer", "version"] as const;
/** Output types of a requirement script (§2.2 win32LobAppPowerShellScriptDetectionType minus notConfigured). */
export const SCRIPT_OUTPUT_TYPES = ["string", "dateTime", "integer", "float", "version", "boolean"] as const;

/** Intune's default return codes, added by the portal and every anchor (§2.1 returnCodes). */
export const DEFAULT_RETURN_CODES: readonly { code: number; type: (typeof RETURN_CODE_TYPES)[number] }[] = [
  { code: 0, type: "success" },
  { code: 1707, type: "success" },
  { code: 3010, type: "softReboot" },
  { code: 1641, type: "hardReboot" },
  { code: 1618, type: "retry" },
];

export const DEFAULT_MAX_RUN_TIME_IN_MINUTES = 60;
export const DEFAULT_MINIMUM_WINDOWS_RELEASE = "2H20";
export const DEFAULT_ARCHITECTURES: readonly (typeof ARCHITECTURES)[number][] = ["x64", "x86"];

// ---------------------------------------------------------------------------------------------------------------
// Building blocks

const VERSION_PATTERN = /^\d+(\.\d+){0,3}$/;
const GUID_IN_BRACES = /^\{[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}$/;
const REGISTRY_HIVES = /^(HKEY_LOCAL_MACHINE|HKLM|HKEY_CURRENT_USER|HKCU|HKEY_CLASSES_ROOT|HKCR|HKEY_USERS|HKU)(\\|$)/i;

const text = (what: string) =>
  z
    .string({ error: need(what, `${what} must be text.`) })
    .trim()
    .min(1, `${what} must not be empty.`);
/** Error map for a nested mapping: required / not a mapping; unknown keys keep zod's issue (the catalog words it). */
const mapping =
  (what: string) =>
  (iss: { input?: unknown; code?: string }): string | undefined =>
    iss.code === "unrecognized_keys"
      ? undefined
      : iss.input === undefined
        ? `${what} is required.`
        : `${what} must be a mapping of keys to values.`;

const optionalText = (what: string) => z.string({ error: `${what} must be text.` }).optional();
const path = (what: string) =>
  z.string({ error: need(what, `${what} must be a path (text).`) }).min(1, `${what} must not be empty.`);

/** Text that YAML may have read as a number (1.10 → 1.1): refuse numbers with the fix in the message. */
const quotedText = (what: string) =>
  z.string({
    error: (iss) =>
      iss.input === undefined
        ? `${what} is required.`
        : typeof iss.input === "number"
          ? `${what} must be quoted text: YAML reads ${String(iss.input)} as a number (write "${String(iss.input)}"; 1.10 would become 1.1).`
          : `${what} must be text.`,
  });

/** A comparison value as written: text, or a number where the check takes one. */
const comparisonValue = z.union([z.string(), z.number()], {
  error: "value must be text or a number.",
});

const bool = (what: string) => z.boolean({ error: `${what} must be true or false.` });

const operator = z.enum(OPERATORS, { error: need("operator", `operator must be one of ${OPERATORS.join(", ")}.`) });

// ---------------------------------------------------------------------------------------------------------------
// Rules

const fileRuleShape = {
  type: z.literal("file"),
  /** Folder that holds the file or folder, e.g. `%ProgramFiles%\Contoso\Notes`. */
  path: path("path").describe("Folder containing the file or folder, e.g. %ProgramFiles%\\Contoso"),
  /** Name of the file or folder inside `path`. */
  fileOrFolderName: text("fileOrFolderName").describe("File or folder name inside `path`, e.g. notes.exe"),
  check: z
    .enum(FILE_CHECKS, { error: `check must be one of ${FILE_CHECKS.join(", ")}.` })
    .default("exists")
    .describe("What to test: exists (default), doesNotExist, version, modifiedDate, createdDate, sizeInMB"),
  operator: operator.optional().describe("Comparison for version, dates and size"),
  value: comparisonValue.optional().describe("Value to compare with (version text, ISO date, size in MB)"),
  check32BitOn64System: bool("check32BitOn64System")
    .default(false)
    .describe("Expand path variables as a 32-bit app on 64-bit Windows"),
};

const registryRuleShape = {
  type: z.literal("registry"),
  keyPath: path("keyPath").describe("Key, e.g. HKEY_LOCAL_MACHINE\\SOFTWARE\\Contoso\\Notes"),
  valueName: z.string({ error: "valueName must be text." }).optional().describe("Value in the key; absent = the key"),
  check: z
    .enum(REGISTRY_CHECKS, { error: `check must be one of ${REGISTRY_CHECKS.join(", ")}.` })
    .default("exists")
    .describe("What to test: exists (default), doesNotExist, string, integer, version"),
  operator: operator.optional(),
  value: comparisonValue.optional(),
  check32BitOn64System: bool("check32BitOn64System").default(false).describe("Read the 32-bit registry view"),
};

const scriptPath = path("script").describe("PowerShell script file, relative to the definition file");

export const fileRuleSchema = z.strictObject(fileRuleShape).superRefine((r, ctx) => {
  if (/[\\/]/.test(r.fileOrFolderName)) {
    ctx.addIssue({
      code: "custom",
      path: ["fileOrFolderName"],
      message: "fileOrFolderName is a single name; put the folders in `path`.",
    });
  }
  checkComparison(r.check, r.operator, r.value, ctx);
});

export const registryRuleSchema = z.strictObject(registryRuleShape).superRefine((r, ctx) => {
  if (!REGISTRY_HIVES.test(r.keyPath)) {
    ctx.addIssue({
      code: "custom",
      path: ["keyPath"],
      message: "keyPath must start with a hive: HKEY_LOCAL_MACHINE (HKLM), HKEY_CURRENT_USER (HKCU), HKCR or HKU.",
    });
  }
  if (["string", "integer", "version"].includes(r.check) && (r.valueName === undefined || r.valueName === "")) {
    ctx.addIssue({
      code: "custom",
      path: ["valueName"],
      message: `A ${r.check} comparison needs the valueName to read.`,
    });
  }
  checkComparison(r.check, r.operator, r.value, ctx);
});

export const msiRuleSchema = z
  .strictObject({
    type: z.literal("msi"),
    productCode: z
      .string({ error: "productCode must be text." })
      .regex(GUID_IN_BRACES, "productCode must be a GUID in braces, e.g. {23170F69-40C1-2702-2408-000001000000}.")
      .optional()
      .describe("MSI product code; absent = the product code of the packaged MSI"),
    operator: operator.optional().describe("Compare the installed product version"),
    value: comparisonValue.optional().describe("Product version to compare with"),
  })
  .superRefine((r, ctx) => {
    if (r.operator === undefined && r.value === undefined) return; // product code only
    if (r.operator === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["operator"],
        message: "A product version comparison needs an operator (or leave out value to detect the product code only).",
      });
      return;
    }
    checkComparison("version", r.operator, r.value, ctx);
  });

export const scriptDetectionSchema = z.strictObject({
  type: z.literal("script"),
  script: scriptPath,
  enforceSignatureCheck: bool("enforceSignatureCheck").default(false),
  runAs32Bit: bool("runAs32Bit").default(false),
});

export const scriptRequirementSchema = z
  .strictObject({
    type: z.literal("script"),
    script: scriptPath,
    displayName: optionalText("displayName").describe("Name shown in Intune; default: the script's file name"),
    runAs: z.enum(RUN_AS, { error: "runAs must be system or user." }).default("system"),
    enforceSignatureCheck: bool("enforceSignatureCheck").default(false),
    runAs32Bit: bool("runAs32Bit").default(false),
    outputType: z
      .enum(SCRIPT_OUTPUT_TYPES, {
        error: need("outputType", `outputType must be one of ${SCRIPT_OUTPUT_TYPES.join(", ")}.`),
      })
      .describe("How to read the script's output"),
    operator,
    value: z.union([z.string(), z.number(), z.boolean()], {
      error: need("value", "value must be text, a number or true/false."),
    }),
  })
  .superRefine((r, ctx) => checkComparison(r.outputType, r.operator, r.value, ctx));

const ruleTypeError = (types: string) => ({
  error: (iss: { input?: unknown; code?: string }) =>
    typeof iss.input === "object" && iss.input !== null && !Array.isArray(iss.input)
      ? `type must be one of ${types}.`
      : `A rule must be a mapping with a type (${types}).`,
});

export const detectionRuleSchema = z.discriminatedUnion(
  "type",
  [fileRuleSchema, registryRuleSchema, msiRuleSchema, scriptDetectionSchema],
  ruleTypeError("file, registry, msi, script"),
);
export const requirementRuleSchema = z.discriminatedUnion(
  "type",
  [fileRuleSchema, registryRuleSchema, scriptRequirementSchema],
  ruleTypeError("file, registry, script"),
);

type Check = (typeof FILE_CHECKS)[number] | (typeof REGISTRY_CHECKS)[number] | (typeof SCRIPT_OUTPUT_TYPES)[number];

/** Existence checks take no operator or value; comparisons need both, of the right form. */
function checkComparison(
  check: Check,
  op: Operator | undefined,
  value: string | number | boolean | undefined,
  ctx: z.RefinementCtx,
): void {
  if (check === "exists" || check === "doesNotExist") {
    if (op !== undefined)
      ctx.addIssue({ code: "custom", path: ["operator"], message: `check: ${check} takes no operator.` });
    if (value !== undefined)
      ctx.addIssue({ code: "custom", path: ["value"], message: `check: ${check} takes no value.` });
    return;
  }
  if (op === undefined) {
    ctx.addIssue({ code: "custom", path: ["operator"], message: `A ${check} comparison needs an operator.` });
  } else if ((check === "string" || check === "boolean") && !EQUALITY_OPERATORS.includes(op)) {
    ctx.addIssue({
      code: "custom",
      path: ["operator"],
      message: `A ${check} comparison only takes equal or notEqual.`,
    });
  }
  if (value === undefined) {
    ctx.addIssue({ code: "custom", path: ["value"], message: `A ${check} comparison needs a value.` });
    return;
  }
  const problem = comparisonValueProblem(check, value);
  if (problem !== undefined) ctx.addIssue({ code: "custom", path: ["value"], message: problem });
}

function comparisonValueProblem(check: Check, value: string | number | boolean): string | undefined {
  switch (check) {
    case "version":
      if (typeof value === "number") {
        return `A version must be quoted text: YAML reads ${value} as a number (write "${value}"; 1.10 would become 1.1).`;
      }
      return typeof value === "string" && VERSION_PATTERN.test(value)
        ? undefined
        : "A version has one to four numeric parts, e.g. 2.4.1.";
    case "integer":
    case "sizeInMB": {
      const n = typeof value === "string" && /^-?\d+$/.test(value) ? Number(value) : value;
      if (typeof n !== "number" || !Number.isSafeInteger(n)) return `A ${check} comparison needs a whole number.`;
      if (check === "sizeInMB" && n < 0) return "A size must not be negative.";
      return undefined;
    }
    case "float":
      return typeof value === "number" ||
        (typeof value === "string" && Number.isFinite(Number(value)) && value.trim() !== "")
        ? undefined
        : "A float comparison needs a number.";
    case "modifiedDate":
    case "createdDate":
    case "dateTime":
      return typeof value === "string" && parseDate(value) !== undefined
        ? undefined
        : "A date must be ISO 8601 text, e.g. 2024-05-01 or 2024-05-01T12:00:00Z.";
    case "boolean":
      return typeof value === "boolean" ? undefined : "A boolean comparison needs true or false.";
    case "string":
      return typeof value === "string"
        ? undefined
        : `A string comparison needs quoted text: YAML reads ${String(value)} as a number (write "${String(value)}").`;
    default:
      return undefined;
  }
}

/** `YYYY-MM-DD` or an ISO date-time with an offset or Z; undefined when not a date. */
export function parseDate(value: string): Date | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.exec(value);
  if (!m) return undefined;
  if (m[4] !== undefined && m[7] === undefined) return undefined; // a time needs its offset: no local-time guess
  const d = new Date(m[4] === undefined ? `${value}T00:00:00Z` : value.replace(" ", "T"));
  if (Number.isNaN(d.getTime())) return undefined;
  // Reject rollovers such as 2024-02-30.
  if (m[4] === undefined && d.toISOString().slice(0, 10) !== value) return undefined;
  return d;
}

// ---------------------------------------------------------------------------------------------------------------
// The definition

const contentSchema = z
  .strictObject(
    {
      source: path("content.source").optional().describe("Folder to package, relative to the definition file"),
      setupFile: path("content.setupFile").optional().describe("Setup file inside `source`, e.g. install.ps1"),
      package: path("content.package").optional().describe("A prebuilt .intunewin, relative to the definition file"),
    },
    { error: mapping("content") },
  )
  .superRefine((c, ctx) => {
    if (c.package !== undefined) {
      if (c.source !== undefined || c.setupFile !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: [c.source !== undefined ? "source" : "setupFile"],
          message: "content takes either `package` (a prebuilt .intunewin) or `source` + `setupFile`, not both.",
        });
      }
      if (!c.package.toLowerCase().endsWith(".intunewin")) {
        ctx.addIssue({ code: "custom", path: ["package"], message: "content.package must be a .intunewin file." });
      }
      return;
    }
    if (c.source === undefined) {
      ctx.addIssue({
        code: "custom",
        path: [],
        message: "content needs `source` (a folder) and `setupFile`, or `package` (a prebuilt .intunewin).",
      });
    }
    if (c.setupFile === undefined) {
      ctx.addIssue({ code: "custom", path: [], message: "content.setupFile is required with content.source." });
    } else if (/^([\\/]|[A-Za-z]:)|(^|[\\/])\.\.([\\/]|$)/.test(c.setupFile)) {
      ctx.addIssue({
        code: "custom",
        path: ["setupFile"],
        message: "content.setupFile is a path inside content.source (no leading slash, drive or `..`).",
      });
    }
  });

const installSchema = z.strictObject(
  {
    command: text("install.command").describe("Install command line, run from the package folder"),
    runAs: z
      .enum(RUN_AS, { error: "install.runAs must be system or user." })
      .default("system")
      .describe("Install context: system (default) or user"),
    restartBehavior: z
      .enum(RESTART_BEHAVIORS, { error: `install.restartBehavior must be one of ${RESTART_BEHAVIORS.join(", ")}.` })
      .default("basedOnReturnCode")
      .describe("Device restart: basedOnReturnCode (default), allow, suppress, force"),
    maxRunTimeInMinutes: z
      .number({ error: "install.maxRunTimeInMinutes must be a number of minutes." })
      .int("install.maxRunTimeInMinutes must be a whole number of minutes.")
      .min(INTUNE_LIMITS.minRunTimeInMinutes, "install.maxRunTimeInMinutes must be at least 1.")
      .max(
        INTUNE_LIMITS.maxRunTimeInMinutes,
        `install.maxRunTimeInMinutes is at most ${INTUNE_LIMITS.maxRunTimeInMinutes} (24 hours) in Intune.`,
      )
      .default(DEFAULT_MAX_RUN_TIME_IN_MINUTES),
  },
  { error: mapping("install") },
);

const uninstallSchema = z.strictObject(
  { command: text("uninstall.command").describe("Uninstall command line") },
  { error: mapping("uninstall") },
);

const positiveInt = (what: string) =>
  z
    .number({ error: `${what} must be a number.` })
    .int(`${what} must be a whole number.`)
    .min(1, `${what} must be at least 1.`)
    .max(2 ** 31 - 1, `${what} is too large.`)
    .optional();

const requirementsSchema = z.strictObject(
  {
    minimumWindowsRelease: z
      .enum(WINDOWS_RELEASES, { error: `minimumWindowsRelease must be one of ${WINDOWS_RELEASES.join(", ")}.` })
      .default(DEFAULT_MINIMUM_WINDOWS_RELEASE),
    architectures: z
      .array(z.enum(ARCHITECTURES, { error: `An architecture is one of ${ARCHITECTURES.join(", ")}.` }), {
        error: "architectures must be a list, e.g. [x64, arm64].",
      })
      .min(1, "architectures must name at least one architecture.")
      .default([...DEFAULT_ARCHITECTURES]),
    minimumFreeDiskSpaceMB: positiveInt("minimumFreeDiskSpaceMB"),
    minimumMemoryMB: positiveInt("minimumMemoryMB"),
    minimumProcessors: positiveInt("minimumProcessors"),
    minimumCpuSpeedMHz: positiveInt("minimumCpuSpeedMHz"),
    rules: z.array(requirementRuleSchema, { error: "requirements.rules must be a list." }).default([]),
  },
  { error: mapping("requirements") },
);

const returnCodeSchema = z.strictObject({
  code: z
    .number({ error: need("code", "code must be a number.") })
    .int("code must be a whole number.")
    .min(-(2 ** 31), "code must fit in 32 bits.")
    .max(2 ** 32 - 1, "code must fit in 32 bits."),
  type: z.enum(RETURN_CODE_TYPES, { error: need("type", `type must be one of ${RETURN_CODE_TYPES.join(", ")}.`) }),
});

const urlSchema = (what: string) =>
  z
    .string({ error: `${what} must be text.` })
    .refine((s) => /^https?:\/\/\S+$/i.test(s) && URL.canParse(s), `${what} must be an http(s) URL.`)
    .optional();

const supersedenceSchema = z.strictObject(
  {
    type: z
      .enum(SUPERSEDENCE_TYPES, { error: "supersedence.type must be update or replace." })
      .default("update")
      .describe("update: the new version upgrades the old in place; replace: the old one is uninstalled first"),
    assignments: z
      .enum(ASSIGNMENT_CARRY_OVER, { error: "supersedence.assignments must be move, copy or leave." })
      .default("move")
      .describe("The previous version's assignments: move (default) or copy them to the new app, or leave them"),
    keepPreviousVersions: z
      .number({ error: "supersedence.keepPreviousVersions must be a number." })
      .int("supersedence.keepPreviousVersions must be a whole number.")
      .min(0, "supersedence.keepPreviousVersions must be at least 0.")
      .max(MAX_KEEP_PREVIOUS_VERSIONS, `supersedence.keepPreviousVersions is at most ${MAX_KEEP_PREVIOUS_VERSIONS}.`)
      .default(DEFAULT_KEEP_PREVIOUS_VERSIONS)
      .describe("Previous versions kept (0–10); older ones are unassigned and deleted"),
  },
  { error: mapping("supersedence") },
);

const dependencySchema = z.strictObject(
  {
    app: text("dependencies[].app").describe("Another definition's id, or a Win32 app's display name"),
    type: z
      .enum(DEPENDENCY_TYPES, { error: "A dependency type is autoInstall or detect." })
      .default("autoInstall")
      .describe("autoInstall (install it first) or detect (only require it)"),
  },
  { error: mapping("A dependency") },
);

export const appDefinitionSchema = z
  .strictObject(
    {
      $schema: z.string().optional().describe("JSON Schema reference for editors (ignored)"),
      id: z
        .string({ error: need("id", "id must be text.") })
        .regex(
          DEFINITION_ID_PATTERN,
          "id is a stable slug: 1–64 lowercase letters, digits, '.', '_' or '-', starting and ending with a letter or digit.",
        )
        .describe("Stable id of this app across versions (never change it): finds the app in the tenant again"),
      displayName: text("displayName").describe("Name shown in Intune and Company Portal"),
      publisher: text("publisher"),
      version: quotedText("version")
        .min(1, "version must not be empty.")
        .max(MAX_VERSION_LENGTH, `version is at most ${MAX_VERSION_LENGTH} characters.`)
        // eslint-disable-next-line no-control-regex -- refusing control characters is the point
        .regex(/^[^\u0000-\u001f\u007f]*$/, "version must be one line of text.")
        .describe("The app's version (displayVersion), quoted"),
      description: optionalText("description").describe("Markdown shown in Company Portal; default: displayName"),
      content: contentSchema,
      install: installSchema,
      uninstall: uninstallSchema,
      allowAvailableUninstall: bool("allowAvailableUninstall").default(false),
      detection: z
        .array(detectionRuleSchema, {
          error: need("detection", "detection must be a list of rules."),
        })
        .min(1, "detection needs at least one rule: Intune refuses an app without one."),
      requirements: requirementsSchema.default({
        minimumWindowsRelease: DEFAULT_MINIMUM_WINDOWS_RELEASE,
        architectures: [...DEFAULT_ARCHITECTURES],
        rules: [],
      }),
      returnCodes: z
        .array(returnCodeSchema, { error: "returnCodes must be a list." })
        .min(1, "returnCodes must not be empty; leave it out for Intune's defaults.")
        .optional()
        .describe("Replaces Intune's defaults (0, 1707 success; 3010 softReboot; 1641 hardReboot; 1618 retry)"),
      icon: path("icon").optional().describe("PNG or JPEG file, relative to the definition file"),
      notes: optionalText("notes"),
      owner: optionalText("owner"),
      developer: optionalText("developer"),
      informationUrl: urlSchema("informationUrl"),
      privacyUrl: urlSchema("privacyUrl"),
      categories: z.array(text("A category"), { error: "categories must be a list of names." }).default([]),
      featured: bool("featured").default(false),
      scopeTags: z
        .array(text("A scope tag"), { error: "scopeTags must be a list of names." })
        .optional()
        .describe("Role scope tag names; absent = the tenant's default"),
      updateStrategy: z
        .enum(UPDATE_STRATEGIES, { error: "updateStrategy must be in-place or supersede." })
        .default("in-place")
        .describe("New version: in-place (new content on the same app) or supersede (new app superseding the old)"),
      supersedence: supersedenceSchema
        .optional()
        .describe("updateStrategy supersede: supersedence type, assignment carry-over, retention"),
      assignments: assignmentListSchema.optional().describe("Who gets the app: intent, group or target, settings"),
      targeting: path("targeting")
        .optional()
        .describe("A shared targeting file (its assignments come before this definition's own)"),
      pruneAssignments: bool("pruneAssignments")
        .default(false)
        .describe("Remove assignments made outside intune-publisher (default: keep them)"),
      dependencies: z
        .array(dependencySchema, { error: "dependencies must be a list." })
        .optional()
        .describe("Apps installed first: the full set (absent = dependencies are not managed)"),
      enrollmentStatusPages: z
        .array(text("An Enrollment Status Page profile name"), {
          error: "enrollmentStatusPages must be a list of profile names.",
        })
        .optional()
        .describe("ESP profiles that block until this app is installed (absent = not managed)"),
    },
    { error: mapping("The app definition") },
  )
  .superRefine((d, ctx) => {
    for (const p of intuneLimitProblems(d)) ctx.addIssue({ code: "custom", path: p.path, message: p.message });
    if (d.supersedence !== undefined && d.updateStrategy !== "supersede")
      ctx.addIssue({
        code: "custom",
        path: ["supersedence"],
        message: "supersedence settings apply to updateStrategy: supersede; set it, or remove supersedence.",
      });
    (d.assignments ?? []).forEach((a, i) => {
      if (a.restart !== undefined && d.install.restartBehavior !== "basedOnReturnCode")
        ctx.addIssue({
          code: "custom",
          path: ["assignments", i, "restart"],
          message: restartMismatch(d.install.restartBehavior),
        });
    });
    for (const p of duplicateTargetProblems(d.assignments ?? []))
      ctx.addIssue({ code: "custom", path: ["assignments", p.index], message: p.message });
    const deps = new Map<string, number>();
    (d.dependencies ?? []).forEach((x, i) => {
      const k = x.app.toLowerCase();
      if (k === d.id)
        ctx.addIssue({ code: "custom", path: ["dependencies", i, "app"], message: "An app cannot depend on itself." });
      const first = deps.get(k);
      if (first !== undefined)
        ctx.addIssue({
          code: "custom",
          path: ["dependencies", i, "app"],
          message: `The dependency "${x.app}" is listed twice (also dependencies[${first}]).`,
        });
      else deps.set(k, i);
    });
    const esp = new Set<string>();
    (d.enrollmentStatusPages ?? []).forEach((n, i) => {
      if (esp.has(n.toLowerCase()))
        ctx.addIssue({
          code: "custom",
          path: ["enrollmentStatusPages", i],
          message: `The profile "${n}" is listed twice.`,
        });
      esp.add(n.toLowerCase());
    });
  });

/**
 * Restart settings of an assignment act only on a return-code-based restart (§2.12, as IntuneWin32App sends them; the
 * portal hides them).
 */
export function restartMismatch(behavior: string): string {
  return `restart settings apply only when install.restartBehavior is basedOnReturnCode (this app's is ${behavior}): remove restart, or change the restart behaviour.`;
}

export type AppDefinitionInput = z.input<typeof appDefinitionSchema>;
export type AppDefinition = z.output<typeof appDefinitionSchema>;
export type DetectionRule = AppDefinition["detection"][number];
export type RequirementRule = AppDefinition["requirements"]["rules"][number];
export type ReturnCode = z.output<typeof returnCodeSchema>;
export type UpdateStrategy = AppDefinition["updateStrategy"];
export type SupersedenceSettings = z.output<typeof supersedenceSchema>;
export type DependencyDefinition = z.output<typeof dependencySchema>;

/** The supersede settings of a definition, with their defaults when it gave none. */
export function supersedenceOf(d: Pick<AppDefinition, "supersedence">): SupersedenceSettings {
  return (
    d.supersedence ?? {
      type: "update",
      assignments: "move",
      keepPreviousVersions: DEFAULT_KEEP_PREVIOUS_VERSIONS,
    }
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Intune's limits on the whole definition (pre-flight, before any call)

export interface LimitProblem {
  path: (string | number)[];
  message: string;
}

type DefinitionShape = Pick<AppDefinition, "id" | "version" | "notes" | "detection" | "requirements" | "returnCodes"> &
  Partial<Pick<AppDefinition, "assignments" | "enrollmentStatusPages">>;

/** Cross-field Intune rules: rule counts and mixing, duplicate return codes, notes length with the stamp. */
export function intuneLimitProblems(d: DefinitionShape, extraAssignments = 0): LimitProblem[] {
  const out: LimitProblem[] = [];
  const L = INTUNE_LIMITS;
  if (d.detection.length > L.maxDetectionRules) {
    out.push({
      path: ["detection", L.maxDetectionRules],
      message: `Intune takes at most ${L.maxDetectionRules} detection rules; this definition has ${d.detection.length}.`,
    });
  }
  const msi = d.detection.flatMap((r, i) => (r.type === "msi" ? [i] : []));
  if (msi.length > L.maxMsiDetectionRules) {
    out.push({ path: ["detection", msi[1]!], message: "Intune takes only one MSI product-code detection rule." });
  }
  const scripts = d.detection.flatMap((r, i) => (r.type === "script" ? [i] : []));
  if (scripts.length > L.maxScriptDetectionRules) {
    out.push({ path: ["detection", scripts[1]!], message: "Intune takes only one script detection rule." });
  } else if (scripts.length === 1 && d.detection.length > 1) {
    out.push({
      path: ["detection", scripts[0]!],
      message:
        "A script detection rule must be the only detection rule: Intune does not combine it with file, registry or MSI rules.",
    });
  }
  const reqs = d.requirements.rules;
  if (reqs.length > L.maxRequirementRules) {
    out.push({
      path: ["requirements", "rules", L.maxRequirementRules],
      message: `At most ${L.maxRequirementRules} requirement rules are supported; this definition has ${reqs.length}.`,
    });
  }
  const seen = new Map<number, number>();
  (d.returnCodes ?? []).forEach((rc, i) => {
    const first = seen.get(rc.code);
    if (first !== undefined) {
      out.push({
        path: ["returnCodes", i, "code"],
        message: `Return code ${rc.code} is listed twice (also returnCodes[${first}]).`,
      });
    } else seen.set(rc.code, i);
  });
  if (typeof d.id === "string" && typeof d.version === "string") {
    const targets = (d.assignments?.length ?? 0) + extraAssignments;
    const stamp = stampLength(d.id, d.version, { targets, esp: d.enrollmentStatusPages?.length ?? 0 });
    const room = L.maxNotesLength - stamp - 1;
    const length = d.notes?.trimEnd().length ?? 0;
    if (stamp > L.maxNotesLength) {
      out.push({
        path: ["assignments"],
        message: `The ownership stamp records each assignment target and ESP profile in notes (Intune keeps ${L.maxNotesLength} characters); ${targets} assignments and ${d.enrollmentStatusPages?.length ?? 0} profiles need ${stamp}. Use fewer targets (e.g. a group of groups).`,
      });
    } else if (length > room) {
      out.push({
        path: ["notes"],
        message: `notes are ${length} characters; Intune keeps ${L.maxNotesLength} and the ownership stamp needs ${stamp + 1}, so shorten them to ${Math.max(room, 0)}.`,
      });
    }
  }
  return out;
}

/** The content file size limit, checked once the size is known (a prebuilt package, or after packaging). */
export function contentSizeProblem(
  sizeInBytes: number,
  maxBytes: number = INTUNE_LIMITS.maxContentFileSizeInBytes,
): LimitProblem | undefined {
  if (sizeInBytes <= maxBytes) return undefined;
  const gb = (n: number) => `${(n / 1e9).toFixed(2)} GB`;
  return {
    path: ["content"],
    message: `The content is ${gb(sizeInBytes)} (${sizeInBytes} bytes); Intune takes at most ${gb(maxBytes)} per app.`,
  };
}
