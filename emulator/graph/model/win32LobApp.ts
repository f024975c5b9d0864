// Strict validation of the win32LobApp JSON Graph (beta) accepts: create and PATCH of the app, content file create
// and commit bodies. Sources: docs/reference/graph-win32-upload.md §2.1, §2.2, §2.4, §2.7, §2.8 and §4 items 3–8, 10,
// 16.
//
// Two stages, as in Graph: (1) model deserialization (zod schemas: property names, JSON types, enum literals,
// @odata.type per collection), whose failures are `ModelValidationFailure` with OData-style messages; (2) only when
// (1) passed, Intune's business rules (detection rules, conflicts, required fields, ranges), whose failures are
// `BadRequest`: the server may wrap those messages in Intune's JSON-in-message envelope (§2.0).
// Messages quoted by the doc are used verbatim; the others imitate OData's wording and say so in a comment.
import { z } from "zod";
import { UPLOAD_STATES, WINDOWS_RELEASES } from "../../../src/core/wire/graph.js";

export interface ValidationProblem {
  /** "ModelValidationFailure" (deserialization) or "BadRequest" (Intune rules). */
  code: string;
  /** Message text as Graph sends it where the docs give it. */
  message: string;
  /** JSON path of the offending value, e.g. `detectionRules[0].operator`. */
  target?: string;
}

const MODEL = "ModelValidationFailure";
const BAD_REQUEST = "BadRequest";
/** Internal type names leak into Graph errors with this prefix (§2.0). */
const API = "microsoft.management.services.api.";
const GRAPH = "#microsoft.graph.";

export const WIN32_LOB_APP_TYPE = "#microsoft.graph.win32LobApp";

// ---------------------------------------------------------------------------------------------------------------
// OData-style messages

type Path = readonly PropertyKey[];

function propertyName(path: Path): string {
  for (let i = path.length - 1; i >= 0; i--) if (typeof path[i] === "string") return path[i] as string;
  return "";
}

/** JSON-ish path for `target`: `a.b[0].c`. */
export function formatPath(path: Path): string {
  let out = "";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : out === "" ? String(p) : `.${String(p)}`;
  return out;
}

/** ODataLib wording for null in a non-nullable property (not quoted by the doc). */
function nullMessage(edm: string, path: Path): string {
  const t = `${edm}[Nullable=False]`;
  return `A null value was found for the property named '${propertyName(path)}', which has the expected type '${t}'. The expected type '${t}' does not allow null values.`;
}

/** OData's messages for a primitive of the wrong JSON kind (ODataLib wording; not quoted by the doc). */
function primitiveMessage(input: unknown, edm: string, path: Path): string {
  if (input === null) return nullMessage(edm, path);
  if (Array.isArray(input)) return unexpectedNode("StartArray", "PrimitiveValue");
  if (typeof input === "object") return unexpectedNode("StartObject", "PrimitiveValue");
  return `Cannot convert the literal '${String(input)}' to the expected type '${edm}'.`;
}

function unexpectedNode(found: string, expected: string): string {
  return `An unexpected '${found}' node was found when reading from the JSON reader. A '${expected}' node was expected.`;
}

function kindMessage(input: unknown, expected: "StartObject" | "StartArray", edm: string, path: Path): string {
  if (input === null) return nullMessage(edm, path);
  const found = Array.isArray(input) ? "StartArray" : typeof input === "object" ? "StartObject" : "PrimitiveValue";
  return unexpectedNode(found, expected);
}

/** §2.1 (IntuneWin32App issue 181), verbatim first sentence; the second is ODataLib's usual continuation. */
export function unknownPropertyMessage(property: string, typeName: string): string {
  return `The property '${property}' does not exist on type '${API}${typeName}'. Make sure to only use property names that are defined by the type or mark the type as open type.`;
}

/** §2.1 (IntuneWin32App issues 136, 40), verbatim. */
function incompatibleTypeMessage(given: string, expected: string): string {
  return `A value was encountered that has a type name that is incompatible with the metadata. The value specified its type as '${given}', but the type specified in the metadata is '${expected}'.`;
}

/** §2.1: .NET Enum.Parse wording, e.g. "Requested value 'equals' was not found." */
function enumMessage(input: unknown, edm: string, path: Path): string {
  return typeof input === "string" ? `Requested value '${input}' was not found.` : primitiveMessage(input, edm, path);
}

// ---------------------------------------------------------------------------------------------------------------
// Edm primitives and structured types as zod schemas (the error callbacks produce the final Graph message)

const STANDARD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const edmString = () => z.string({ error: (iss) => primitiveMessage(iss.input, "Edm.String", iss.path ?? []) });
const edmBoolean = () => z.boolean({ error: (iss) => primitiveMessage(iss.input, "Edm.Boolean", iss.path ?? []) });

function edmInteger(edm: "Edm.Int32" | "Edm.Int64") {
  const [min, max] =
    edm === "Edm.Int32" ? [-(2 ** 31), 2 ** 31 - 1] : [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER];
  return z.custom<number>((v) => typeof v === "number" && Number.isInteger(v) && v >= min && v <= max, {
    error: (iss) => primitiveMessage(iss.input, edm, iss.path ?? []),
  });
}
const edmInt32 = () => edmInteger("Edm.Int32");
const edmInt64 = () => edmInteger("Edm.Int64");

/** Edm.Binary: standard base64 in JSON (docs/reference/intunewin-format.md §1.4 "Text encoding of binary values"). */
const edmBinary = () =>
  z.custom<string>((v) => typeof v === "string" && STANDARD_BASE64.test(v), {
    error: (iss) => primitiveMessage(iss.input, "Edm.Binary", iss.path ?? []),
  });

/** A string carrying base64 content (scriptContent is Edm.String holding base64, §2.2). */
const base64String = () =>
  z.custom<string>((v) => typeof v === "string" && STANDARD_BASE64.test(v), {
    error: (iss) =>
      typeof iss.input === "string"
        ? `The value of '${propertyName(iss.path ?? [])}' is not valid base64.`
        : primitiveMessage(iss.input, "Edm.String", iss.path ?? []),
  });

function edmEnum<const T extends readonly [string, ...string[]]>(typeName: string, values: T) {
  return z.enum(values, { error: (iss) => enumMessage(iss.input, `${API}${typeName}`, iss.path ?? []) });
}

/**
 * A flags enum serialized as a comma list, e.g. `x64,x86` (§2.1 windowsArchitecture). Each literal must be known;
 * the first unknown one is reported as Enum.Parse does.
 */
function edmFlags<const T extends readonly [string, ...string[]]>(typeName: string, values: T) {
  const known = new Set<string>(values);
  const parts = (v: string) => v.split(",").map((p) => p.trim());
  return z.custom<string>((v) => typeof v === "string" && parts(v).every((p) => known.has(p)), {
    error: (iss) => {
      if (typeof iss.input !== "string") return primitiveMessage(iss.input, `${API}${typeName}`, iss.path ?? []);
      const bad = parts(iss.input).find((p) => !known.has(p)) ?? iss.input;
      return `Requested value '${bad}' was not found.`;
    },
  });
}

/** Every concrete type name this model knows, for "incompatible" vs "could not be resolved" messages. */
const KNOWN_TYPES = new Set<string>();

/** A complex or entity type: unknown properties are rejected, naming the type (§2.1, §4 item 5). */
function odataObject<S extends z.ZodRawShape>(typeName: string, shape: S) {
  return z.strictObject(shape, {
    error: (iss) => {
      if (iss.code === "unrecognized_keys") {
        // One message per key, newline-separated; issuesToProblems splits them.
        return iss.keys.map((k) => unknownPropertyMessage(k, typeName)).join("\n");
      }
      return kindMessage(iss.input, "StartObject", `${API}${typeName}`, iss.path ?? []);
    },
  });
}

function optionalAnnotation(typeName: string) {
  KNOWN_TYPES.add(typeName);
  return z.literal(`${GRAPH}${typeName}`, { error: (iss) => annotationMessage(iss.input, typeName) }).optional();
}

function odataArray<T extends z.ZodType>(item: T, edmItem: string) {
  return z.array(item, {
    error: (iss) => kindMessage(iss.input, "StartArray", `Collection(${edmItem})`, iss.path ?? []),
  });
}

function annotationMessage(input: unknown, expectedType: string): string {
  if (typeof input !== "string") return primitiveMessage(input, "Edm.String", ["@odata.type"]);
  const name = input.replace(/^#microsoft\.graph\./, "");
  if (!input.startsWith(GRAPH) || !KNOWN_TYPES.has(name)) {
    // ODataLib wording (not quoted by the doc).
    return `A type named '${input.replace(/^#/, "")}' could not be resolved by the model. When a model is available, each type name must resolve to a valid type.`;
  }
  return incompatibleTypeMessage(`${API}${name}`, `${API}${expectedType}`);
}

/**
 * Items of a collection typed as an abstract base (`win32LobAppDetection`, …): `@odata.type` picks the concrete
 * type and must be one of `members` (§2.2, §4 item 5).
 */
function polymorphic<const M extends readonly [z.ZodObject, ...z.ZodObject[]]>(
  baseType: string,
  baseProperties: readonly string[],
  members: M,
) {
  return z.discriminatedUnion("@odata.type", members, {
    error: (iss) => {
      const input = iss.input;
      if (typeof input !== "object" || input === null || Array.isArray(input)) {
        return kindMessage(input, "StartObject", `${API}${baseType}`, iss.path ?? []);
      }
      const annotation = (input as Record<string, unknown>)["@odata.type"];
      if (annotation === undefined) {
        // Without `@odata.type` the item is read as the base type, so a derived property is unknown on the base
        // type: IntuneWin32App issue 181 ("… does not exist on type '…win32LobAppRequirement'", §2.1).
        const unknown = Object.keys(input).find((k) => !baseProperties.includes(k));
        if (unknown !== undefined) return unknownPropertyMessage(unknown, baseType);
        // ODataLib refuses to instantiate an abstract type (wording imitated, not quoted by the doc).
        return `An instance of the abstract type '${API}${baseType}' cannot be created: specify '@odata.type' with a concrete derived type.`;
      }
      return annotationMessage(annotation, baseType);
    },
  });
}

function concrete<S extends z.ZodRawShape>(typeName: string, shape: S) {
  KNOWN_TYPES.add(typeName);
  return odataObject(typeName, { "@odata.type": z.literal(`${GRAPH}${typeName}`), ...shape });
}

// ---------------------------------------------------------------------------------------------------------------
// Enumerations, spelled as Graph spells them

/** §2.2: win32LobAppDetectionOperator and win32LobAppRuleOperator share these literals. */
const OPERATORS = [
  "notConfigured",
  "equal",
  "notEqual",
  "greaterThan",
  "greaterThanOrEqual",
  "lessThan",
  "lessThanOrEqual",
] as const;
/** §2.1 installExperience. */
const RUN_AS_ACCOUNTS = ["system", "user"] as const;
const RESTART_BEHAVIORS = ["basedOnReturnCode", "allow", "suppress", "force"] as const;
/**
 * installExperience.inUseBehavior (`win32LobAppInUseActionType`, nullable; null = in-use detection off). Current
 * beta metadata, as generated into @microsoft/msgraph-beta-sdk 1.0.0-preview.81 (models Win32LobAppInstallExperience,
 * Win32LobAppInUseActionTypeObject); not yet in @microsoft/microsoft-graph-types-beta 0.44.
 */
export const IN_USE_BEHAVIORS = [
  "notEnabled",
  "fail",
  "terminateWithoutUserInteraction",
  "terminateWithUserInteraction",
  "unknownFutureValue",
] as const;
/** §2.1 returnCodes. */
const RETURN_CODE_TYPES = ["success", "softReboot", "hardReboot", "retry", "failed"] as const;
/** §2.1 msiInformation. */
const MSI_PACKAGE_TYPES = ["perMachine", "perUser", "dualPurpose"] as const;
/** §2.1 windowsArchitecture flags (0, 1, 2, 4, 8, 16). */
const ARCHITECTURES = ["none", "x86", "x64", "arm", "neutral", "arm64"] as const;
/** §2.1 allowedArchitectures: "x86, x64, arm64 combinations". */
const ALLOWED_ARCHITECTURES = new Set(["x86", "x64", "arm64"]);
export { WINDOWS_RELEASES };
const FILE_SYSTEM_DETECTION_TYPES = [
  "notConfigured",
  "exists",
  "modifiedDate",
  "createdDate",
  "version",
  "sizeInMB",
  "doesNotExist",
] as const;
const REGISTRY_DETECTION_TYPES = ["notConfigured", "exists", "doesNotExist", "string", "integer", "version"] as const;
const SCRIPT_DETECTION_TYPES = [
  "notConfigured",
  "string",
  "dateTime",
  "integer",
  "float",
  "version",
  "boolean",
] as const;
// Current beta metadata adds the evolvable-enum sentinel to these two (not to the detection types).
const FILE_SYSTEM_OPERATION_TYPES = [
  ...FILE_SYSTEM_DETECTION_TYPES,
  "sizeInBytes",
  "appVersion",
  "unknownFutureValue",
] as const;
const REGISTRY_OPERATION_TYPES = [...REGISTRY_DETECTION_TYPES, "appVersion", "unknownFutureValue"] as const;
const RULE_TYPES = ["detection", "requirement"] as const;

const operator = () => edmEnum("win32LobAppDetectionOperator", OPERATORS);
const ruleOperator = () => edmEnum("win32LobAppRuleOperator", OPERATORS);
const nullableString = () => edmString().nullable();

// ---------------------------------------------------------------------------------------------------------------
// Rules (§2.2). Key fields are optional at the model level; required-ness is an Intune rule (stage 2).

const fileSystemDetectionShape = {
  path: nullableString().optional(),
  fileOrFolderName: nullableString().optional(),
  check32BitOn64System: edmBoolean().optional(),
  detectionType: edmEnum("win32LobAppFileSystemDetectionType", FILE_SYSTEM_DETECTION_TYPES).optional(),
  operator: operator().optional(),
  detectionValue: nullableString().optional(),
};
const registryDetectionShape = {
  check32BitOn64System: edmBoolean().optional(),
  keyPath: nullableString().optional(),
  valueName: nullableString().optional(),
  detectionType: edmEnum("win32LobAppRegistryDetectionType", REGISTRY_DETECTION_TYPES).optional(),
  operator: operator().optional(),
  detectionValue: nullableString().optional(),
};

const detectionRule = polymorphic(
  "win32LobAppDetection",
  [],
  [
    concrete("win32LobAppFileSystemDetection", fileSystemDetectionShape),
    concrete("win32LobAppRegistryDetection", registryDetectionShape),
    concrete("win32LobAppProductCodeDetection", {
      productCode: nullableString().optional(),
      productVersionOperator: operator().optional(),
      productVersion: nullableString().optional(),
    }),
    concrete("win32LobAppPowerShellScriptDetection", {
      enforceSignatureCheck: edmBoolean().optional(),
      runAs32Bit: edmBoolean().optional(),
      scriptContent: base64String().nullable().optional(),
    }),
  ],
);

const requirementRule = polymorphic(
  "win32LobAppRequirement",
  ["operator", "detectionValue"],
  [
    concrete("win32LobAppFileSystemRequirement", fileSystemDetectionShape),
    concrete("win32LobAppRegistryRequirement", registryDetectionShape),
    concrete("win32LobAppPowerShellScriptRequirement", {
      operator: operator().optional(),
      detectionValue: nullableString().optional(),
      displayName: nullableString().optional(),
      enforceSignatureCheck: edmBoolean().optional(),
      runAs32Bit: edmBoolean().optional(),
      runAsAccount: edmEnum("runAsAccountType", RUN_AS_ACCOUNTS).optional(),
      scriptContent: base64String().nullable().optional(),
      detectionType: edmEnum("win32LobAppPowerShellScriptDetectionType", SCRIPT_DETECTION_TYPES).optional(),
    }),
  ],
);

const ruleType = () => edmEnum("win32LobAppRuleType", RULE_TYPES);

const unifiedRule = polymorphic(
  "win32LobAppRule",
  ["ruleType"],
  [
    concrete("win32LobAppFileSystemRule", {
      ruleType: ruleType(),
      path: nullableString().optional(),
      fileOrFolderName: nullableString().optional(),
      check32BitOn64System: edmBoolean().optional(),
      operationType: edmEnum("win32LobAppFileSystemOperationType", FILE_SYSTEM_OPERATION_TYPES).optional(),
      operator: ruleOperator().optional(),
      comparisonValue: nullableString().optional(),
    }),
    concrete("win32LobAppRegistryRule", {
      ruleType: ruleType(),
      check32BitOn64System: edmBoolean().optional(),
      keyPath: nullableString().optional(),
      valueName: nullableString().optional(),
      operationType: edmEnum("win32LobAppRegistryRuleOperationType", REGISTRY_OPERATION_TYPES).optional(),
      operator: ruleOperator().optional(),
      comparisonValue: nullableString().optional(),
    }),
    concrete("win32LobAppProductCodeRule", {
      ruleType: ruleType(),
      productCode: nullableString().optional(),
      productVersionOperator: ruleOperator().optional(),
      productVersion: nullableString().optional(),
    }),
    concrete("win32LobAppPowerShellScriptRule", {
      ruleType: ruleType(),
      displayName: nullableString().optional(),
      enforceSignatureCheck: edmBoolean().optional(),
      runAs32Bit: edmBoolean().optional(),
      runAsAccount: edmEnum("runAsAccountType", RUN_AS_ACCOUNTS).nullable().optional(),
      scriptContent: base64String().nullable().optional(),
      operationType: edmEnum("win32LobAppPowerShellScriptRuleOperationType", SCRIPT_DETECTION_TYPES).optional(),
      operator: ruleOperator().optional(),
      comparisonValue: nullableString().optional(),
    }),
  ],
);

// ---------------------------------------------------------------------------------------------------------------
// win32LobApp (§2.1)

const installExperience = odataObject("win32LobAppInstallExperience", {
  "@odata.type": optionalAnnotation("win32LobAppInstallExperience"),
  runAsAccount: edmEnum("runAsAccountType", RUN_AS_ACCOUNTS).optional(),
  deviceRestartBehavior: edmEnum("win32LobAppRestartBehavior", RESTART_BEHAVIORS).optional(),
  maxRunTimeInMinutes: edmInt32().nullable().optional(),
  inUseBehavior: edmEnum("win32LobAppInUseActionType", IN_USE_BEHAVIORS).nullable().optional(),
});

const returnCode = odataObject("win32LobAppReturnCode", {
  "@odata.type": optionalAnnotation("win32LobAppReturnCode"),
  returnCode: edmInt32(),
  type: edmEnum("win32LobAppReturnCodeType", RETURN_CODE_TYPES),
});

const msiInformation = odataObject("win32LobAppMsiInformation", {
  "@odata.type": optionalAnnotation("win32LobAppMsiInformation"),
  productCode: nullableString().optional(),
  productVersion: nullableString().optional(),
  upgradeCode: nullableString().optional(),
  requiresReboot: edmBoolean().optional(),
  packageType: edmEnum("win32LobAppMsiPackageType", MSI_PACKAGE_TYPES).optional(),
  productName: nullableString().optional(),
  publisher: nullableString().optional(),
});

/** §2.1 largeIcon; S1 omits `@odata.type` on create and sends it on PATCH. */
const mimeContent = odataObject("mimeContent", {
  "@odata.type": optionalAnnotation("mimeContent"),
  type: nullableString().optional(),
  value: edmBinary().nullable().optional(),
});

const minimumOperatingSystem = odataObject(
  "windowsMinimumOperatingSystem",
  Object.fromEntries(
    [
      "v8_0",
      "v8_1",
      "v10_0",
      "v10_1607",
      "v10_1703",
      "v10_1709",
      "v10_1803",
      "v10_1809",
      "v10_1903",
      "v10_1909",
      "v10_2004",
      "v10_2H20",
      "v10_21H1",
    ].map((k) => [k, edmBoolean().optional()]),
  ),
).extend({ "@odata.type": optionalAnnotation("windowsMinimumOperatingSystem") });

/** §2.1 activeInstallScript / activeUninstallScript: `{ targetId }` (the complex type's name is not documented). */
const activeScript = odataObject("win32LobAppActiveScript", { targetId: nullableString().optional() });

const nullableInt32 = () => edmInt32().nullable().optional();

/** Writable properties (§2.1 table). All optional here; required ones are Intune rules (stage 2). */
const writableShape = {
  "@odata.type": z.literal(WIN32_LOB_APP_TYPE),
  displayName: nullableString().optional(),
  description: nullableString().optional(),
  publisher: nullableString().optional(),
  largeIcon: mimeContent.nullable().optional(),
  isFeatured: edmBoolean().optional(),
  privacyInformationUrl: nullableString().optional(),
  informationUrl: nullableString().optional(),
  owner: nullableString().optional(),
  developer: nullableString().optional(),
  notes: nullableString().optional(),
  roleScopeTagIds: odataArray(edmString(), "Edm.String").optional(),
  fileName: nullableString().optional(),
  setupFilePath: nullableString().optional(),
  installCommandLine: nullableString().optional(),
  uninstallCommandLine: nullableString().optional(),
  installExperience: installExperience.nullable().optional(),
  returnCodes: odataArray(returnCode, `${API}win32LobAppReturnCode`).optional(),
  applicableArchitectures: edmFlags("windowsArchitecture", ARCHITECTURES).optional(),
  allowedArchitectures: edmFlags("windowsArchitecture", ARCHITECTURES).nullable().optional(),
  minimumSupportedWindowsRelease: nullableString().optional(),
  minimumSupportedOperatingSystem: minimumOperatingSystem.nullable().optional(),
  minimumFreeDiskSpaceInMB: nullableInt32(),
  minimumMemoryInMB: nullableInt32(),
  minimumNumberOfProcessors: nullableInt32(),
  minimumCpuSpeedInMHz: nullableInt32(),
  detectionRules: odataArray(detectionRule, `${API}win32LobAppDetection`).optional(),
  requirementRules: odataArray(requirementRule, `${API}win32LobAppRequirement`).optional(),
  rules: odataArray(unifiedRule, `${API}win32LobAppRule`).optional(),
  msiInformation: msiInformation.nullable().optional(),
  displayVersion: nullableString().optional(),
  allowAvailableUninstall: edmBoolean().optional(),
  activeInstallScript: activeScript.nullable().optional(),
  activeUninstallScript: activeScript.nullable().optional(),
  committedContentVersion: nullableString().optional(),
  // Not in the type, yet accepted by the real service from S1, S4 and S13 (§2.1 "Extra keys").
  runAs32bit: edmBoolean().optional(),
  runAs32Bit: edmBoolean().optional(),
};

/**
 * Read-only properties (§2.1 "RO"). Accepted with their JSON types; what the real service does with them is
 * UNCONFIRMED, so the server ignores them (§4 item 7).
 */
const readOnlyShape = {
  id: nullableString().optional(),
  createdDateTime: nullableString().optional(),
  lastModifiedDateTime: nullableString().optional(),
  uploadState: edmInt32().optional(),
  publishingState: edmEnum("mobileAppPublishingState", ["notPublished", "processing", "published"]).optional(),
  isAssigned: edmBoolean().optional(),
  dependentAppCount: edmInt32().optional(),
  supersedingAppCount: edmInt32().optional(),
  supersededAppCount: edmInt32().optional(),
  size: edmInt64().optional(),
};

export const READ_ONLY_PROPERTIES: readonly string[] = Object.keys(readOnlyShape);

KNOWN_TYPES.add("win32LobApp");
export const win32LobAppSchema = odataObject("win32LobApp", { ...writableShape, ...readOnlyShape });
export type Win32LobAppBody = z.infer<typeof win32LobAppSchema>;
export type DetectionRule = z.infer<typeof detectionRule>;
export type RequirementRule = z.infer<typeof requirementRule>;
export type UnifiedRule = z.infer<typeof unifiedRule>;

// ---------------------------------------------------------------------------------------------------------------
// Translation of zod issues into Graph problems

function issuesToProblems(issues: readonly z.core.$ZodIssue[]): ValidationProblem[] {
  const problems: ValidationProblem[] = [];
  for (const issue of issues) {
    const target = formatPath(issue.path);
    if (issue.code === "unrecognized_keys") {
      issue.keys.forEach((key, i) => {
        const message = issue.message.split("\n")[i] ?? issue.message;
        problems.push({ code: MODEL, message, target: formatPath([...issue.path, key]) });
      });
    } else if (issue.code === "custom" && typeof issue.params?.graphCode === "string") {
      problems.push({ code: issue.params.graphCode, message: issue.message, target });
    } else {
      problems.push({ code: MODEL, message: issue.message, target });
    }
  }
  return problems;
}

function topLevelAnnotationProblem(body: Record<string, unknown>, expected: string): ValidationProblem | undefined {
  const annotation = body["@odata.type"];
  if (annotation === undefined) return undefined;
  if (annotation === expected) return undefined;
  return {
    code: MODEL,
    message: annotationMessage(annotation, expected.replace(/^#microsoft\.graph\./, "")),
    target: "@odata.type",
  };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function notAnObject(body: unknown, typeName: string): ValidationProblem {
  return {
    code: BAD_REQUEST,
    message:
      body === undefined
        ? "Empty Payload. JSON content expected."
        : kindMessage(body, "StartObject", `${API}${typeName}`, []),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Intune rules (stage 2)

export const NO_DETECTION_RULE = "The Win32LobApp must have at least one detection rule specified.";

const intune = (message: string, target?: string): ValidationProblem =>
  target === undefined ? { code: BAD_REQUEST, message } : { code: BAD_REQUEST, message, target };

function isBlank(v: unknown): boolean {
  return v === undefined || v === null || (typeof v === "string" && v.trim() === "");
}

/** Required-ness is Intune's rule, not the model's; the wording is ours (the doc quotes none). */
function requireProperty(body: Record<string, unknown>, name: string, out: ValidationProblem[]): void {
  const value = name.split(".").reduce<unknown>((o, k) => (isPlainObject(o) ? o[k] : undefined), body);
  if (isBlank(value)) out.push(intune(`The property '${name}' is required and cannot be null or empty.`, name));
}

/** Required key fields of each rule type (§2.2 tables; which ones Intune insists on is not documented). */
const RULE_KEY_FIELDS: Record<string, readonly string[]> = {
  win32LobAppFileSystemDetection: ["path", "fileOrFolderName", "detectionType"],
  win32LobAppFileSystemRequirement: ["path", "fileOrFolderName", "detectionType"],
  win32LobAppRegistryDetection: ["keyPath", "detectionType"],
  win32LobAppRegistryRequirement: ["keyPath", "detectionType"],
  win32LobAppProductCodeDetection: ["productCode"],
  win32LobAppPowerShellScriptDetection: ["scriptContent"],
  win32LobAppPowerShellScriptRequirement: ["scriptContent", "detectionType"],
  win32LobAppFileSystemRule: ["path", "fileOrFolderName", "operationType"],
  win32LobAppRegistryRule: ["keyPath", "operationType"],
  win32LobAppProductCodeRule: ["productCode"],
  win32LobAppPowerShellScriptRule: ["scriptContent"],
};

type AnyRule = DetectionRule | RequirementRule | UnifiedRule;

function typeNameOf(rule: AnyRule): string {
  return rule["@odata.type"].slice(GRAPH.length);
}

function checkRuleFields(rules: readonly AnyRule[] | undefined, collection: string, out: ValidationProblem[]): void {
  rules?.forEach((rule, i) => {
    for (const field of RULE_KEY_FIELDS[typeNameOf(rule)] ?? []) {
      const value = (rule as Record<string, unknown>)[field];
      if (isBlank(value)) {
        const target = `${collection}[${i}].${field}`;
        out.push(intune(`The property '${field}' is required on ${typeNameOf(rule)} (${target}).`, target));
      }
    }
  });
}

/**
 * §2.1 / §4 item 5: at most one PowerShell-script detection rule, never combined with manual rules; the MSI
 * product-code rule "can be added only once" (Microsoft Learn).
 */
function checkDetectionSet(rules: readonly AnyRule[], collection: string, out: ValidationProblem[]): void {
  const types = rules.map(typeNameOf);
  const scripts = types.filter(
    (t) => t === "win32LobAppPowerShellScriptDetection" || t === "win32LobAppPowerShellScriptRule",
  );
  if (scripts.length > 1) {
    out.push(intune("Only one PowerShell script detection rule is allowed.", collection));
  } else if (scripts.length === 1 && types.length > 1) {
    // Wording of S4's check (the service's own text is not documented).
    out.push(
      intune(
        "A Detection Rule can either be 'Manually configure detection rules' or 'Use a custom detection script'.",
        collection,
      ),
    );
  }
  const productCodes = types.filter(
    (t) => t === "win32LobAppProductCodeDetection" || t === "win32LobAppProductCodeRule",
  );
  if (productCodes.length > 1)
    out.push(intune("The MSI product code detection rule can be added only once.", collection));
}

interface AppRuleOptions {
  /** Create: the app must end up with a detection rule. PATCH: only when the body touches the rule collections. */
  requireDetection: boolean;
}

function checkAppRules(app: Win32LobAppBody, opts: AppRuleOptions, out: ValidationProblem[]): void {
  // §2.1, §4 item 4: `rules` is exclusive with the legacy collections, even when empty (IntuneGet PR 203).
  if (app.rules !== undefined && (app.detectionRules !== undefined || app.requirementRules !== undefined)) {
    const other = app.detectionRules !== undefined ? "detectionRules" : "requirementRules";
    out.push(
      intune(
        `The properties 'rules' and '${other}' cannot be used together: use either rules or detectionRules/requirementRules.`,
        "rules",
      ),
    );
    return;
  }
  checkRuleFields(app.detectionRules, "detectionRules", out);
  checkRuleFields(app.requirementRules, "requirementRules", out);
  checkRuleFields(app.rules, "rules", out);

  if (app.rules !== undefined) {
    const detection = app.rules.filter((r) => r.ruleType === "detection");
    app.rules.forEach((r, i) => {
      // §2.2: the product-code rule is "Not supported as a requirement rule".
      if (r.ruleType === "requirement" && typeNameOf(r) === "win32LobAppProductCodeRule") {
        out.push(intune("The win32LobAppProductCodeRule is not supported as a requirement rule.", `rules[${i}]`));
      }
    });
    checkDetectionSet(detection, "rules", out);
    if (detection.length === 0) out.push(intune(NO_DETECTION_RULE, "rules"));
    return;
  }
  if (app.detectionRules !== undefined) {
    checkDetectionSet(app.detectionRules, "detectionRules", out);
    if (app.detectionRules.length === 0) out.push(intune(NO_DETECTION_RULE, "detectionRules"));
  } else if (opts.requireDetection) {
    out.push(intune(NO_DETECTION_RULE, "detectionRules"));
  }
}

function checkAppValues(app: Win32LobAppBody, out: ValidationProblem[]): void {
  // S1 validates 1–1440 (§2.1 installExperience).
  const minutes = app.installExperience?.maxRunTimeInMinutes;
  if (typeof minutes === "number" && (minutes < 1 || minutes > 1440)) {
    out.push(
      intune(
        `maxRunTimeInMinutes must be between 1 and 1440; it is ${minutes}.`,
        "installExperience.maxRunTimeInMinutes",
      ),
    );
  }
  // §2.1, §4 item 6: `v10_*` literals are rejected; bare releases are accepted.
  const release = app.minimumSupportedWindowsRelease;
  if (typeof release === "string" && !(WINDOWS_RELEASES as readonly string[]).includes(release)) {
    out.push(
      intune(`'${release}' is not a valid minimumSupportedWindowsRelease value.`, "minimumSupportedWindowsRelease"),
    );
  }
  // §2.1: allowedArchitectures takes x86, x64, arm64 combinations.
  if (typeof app.allowedArchitectures === "string") {
    const bad = app.allowedArchitectures
      .split(",")
      .map((p) => p.trim())
      .find((p) => !ALLOWED_ARCHITECTURES.has(p));
    if (bad !== undefined)
      out.push(
        intune(`allowedArchitectures does not support '${bad}'; use x86, x64 and arm64.`, "allowedArchitectures"),
      );
  }
  // §2.1 largeIcon: a MIME type and base64 content.
  if (app.largeIcon) {
    if (isBlank(app.largeIcon.type)) out.push(intune("largeIcon.type is required (e.g. image/png).", "largeIcon.type"));
    if (isBlank(app.largeIcon.value))
      out.push(intune("largeIcon.value is required (base64 image content).", "largeIcon.value"));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Public validators

export interface CreateValidationOptions {
  /**
   * Require setupFilePath, installCommandLine, uninstallCommandLine and installExperience.runAsAccount too. Their
   * required-ness is UNCONFIRMED (§4 item 4), so this is a switch; on by default (strict).
   */
  requireUnconfirmed?: boolean;
}

function requiredProperties(opts: CreateValidationOptions): string[] {
  const required = ["displayName", "fileName"];
  if (opts.requireUnconfirmed ?? true) {
    required.push("setupFilePath", "installCommandLine", "uninstallCommandLine", "installExperience.runAsAccount");
  }
  return required;
}

/** POST /deviceAppManagement/mobileApps (§2.1; §4 items 3–6). An empty list means valid. */
export function validateMobileAppCreate(body: unknown, opts: CreateValidationOptions = {}): ValidationProblem[] {
  if (!isPlainObject(body)) return [notAnObject(body, "mobileApp")];
  // §4 item 3: `@odata.type` is required; mobileApps is typed as the abstract mobileApp.
  if (body["@odata.type"] === undefined) {
    return [
      {
        code: MODEL,
        message: `An instance of the abstract type '${API}mobileApp' cannot be created: specify '@odata.type' with a concrete derived type.`,
        target: "@odata.type",
      },
    ];
  }
  const annotation = topLevelAnnotationProblem(body, WIN32_LOB_APP_TYPE);
  if (annotation) return [annotation];
  const parsed = win32LobAppSchema.safeParse(body);
  if (!parsed.success) return issuesToProblems(parsed.error.issues);

  const out: ValidationProblem[] = [];
  for (const name of requiredProperties(opts)) requireProperty(body, name, out);
  checkAppRules(parsed.data, { requireDetection: true }, out);
  checkAppValues(parsed.data, out);
  return out;
}

/**
 * PATCH /deviceAppManagement/mobileApps/{id} (§2.8; §4 item 3; §3 item 11). `storedOdataType` is the app's type, e.g.
 * "#microsoft.graph.win32LobApp". Checks on the stored state (detection rules present before a
 * committedContentVersion PATCH, §4 item 22) belong to the caller.
 */
export function validateMobileAppPatch(
  body: unknown,
  storedOdataType: string,
  opts: CreateValidationOptions = {},
): ValidationProblem[] {
  if (!isPlainObject(body)) return [notAnObject(body, "mobileApp")];
  const annotation = body["@odata.type"];
  if (annotation === undefined) {
    // §2.8 (msgraph-beta-sdk-dotnet issue 699), verbatim.
    return [
      { code: MODEL, message: "Exception has been thrown by the target of an invocation.", target: "@odata.type" },
    ];
  }
  if (annotation !== storedOdataType) {
    const given = typeof annotation === "string" ? annotation.replace(/^#microsoft\.graph\./, API) : String(annotation);
    const stored = storedOdataType.replace(/^#microsoft\.graph\./, API);
    return [{ code: MODEL, message: incompatibleTypeMessage(given, stored), target: "@odata.type" }];
  }
  if ("categories" in body) {
    // §2.1 (msgraph-beta-sdk-dotnet issue 699), verbatim.
    return [
      {
        code: MODEL,
        message: `Cannot apply PATCH to navigation property 'categories' on entity type '${API}mobileApp'.`,
        target: "categories",
      },
    ];
  }
  if (storedOdataType !== WIN32_LOB_APP_TYPE) return []; // only win32LobApp's properties are modelled here
  const parsed = win32LobAppSchema.safeParse(body);
  if (!parsed.success) return issuesToProblems(parsed.error.issues);

  const out: ValidationProblem[] = [];
  // A PATCH may not blank out what create requires (installExperience is replaced whole, so it is checked whole).
  for (const name of requiredProperties(opts)) if (name.split(".")[0]! in body) requireProperty(body, name, out);
  checkAppRules(parsed.data, { requireDetection: false }, out);
  checkAppValues(parsed.data, out);
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Content files (§2.4, §4 item 10) and commit (§2.7, §4 item 16)

KNOWN_TYPES.add("mobileAppContentFile");
export const contentFileCreateSchema = odataObject("mobileAppContentFile", {
  "@odata.type": optionalAnnotation("mobileAppContentFile"),
  name: nullableString().optional(),
  size: edmInt64().optional(),
  sizeEncrypted: edmInt64().optional(),
  manifest: edmBinary().nullable().optional(),
  isDependency: edmBoolean().optional(),
  isFrameworkFile: edmBoolean().optional(),
  // Read-only (§2.4 response); accepted and ignored like the app's (§4 item 7).
  id: nullableString().optional(),
  azureStorageUri: nullableString().optional(),
  azureStorageUriExpirationDateTime: nullableString().optional(),
  isCommitted: edmBoolean().optional(),
  createdDateTime: nullableString().optional(),
  uploadState: edmEnum("mobileAppContentFileUploadState", UPLOAD_STATES).optional(),
});
export type ContentFileCreateBody = z.infer<typeof contentFileCreateSchema>;

/** 48 bytes of MAC and IV plus at least one AES block (§1.4). */
export const MIN_SIZE_ENCRYPTED = 48 + 16;
/** Default `maxContentFileSizeInBytes`: 30 × 10^9 (§3 item 1, §4 item 10). */
export const DEFAULT_MAX_CONTENT_FILE_SIZE = 30_000_000_000;

/** §1.4 "Encoded payload size". */
export function expectedSizeEncrypted(size: number): number {
  return 48 + 16 * Math.floor(size / 16) + 16;
}

export interface ContentFileValidationOptions {
  /** Require sizeEncrypted == 48 + 16·floor(size/16) + 16 (§4 item 10: real behaviour UNCONFIRMED). Default true. */
  checkEncryptedSize?: boolean;
  /** Default DEFAULT_MAX_CONTENT_FILE_SIZE. */
  maxContentFileSizeInBytes?: number;
}

/** POST …/contentVersions/{id}/files (§2.4; §4 item 10). */
export function validateContentFileCreate(body: unknown, opts: ContentFileValidationOptions = {}): ValidationProblem[] {
  if (!isPlainObject(body)) return [notAnObject(body, "mobileAppContentFile")];
  const parsed = contentFileCreateSchema.safeParse(body);
  if (!parsed.success) return issuesToProblems(parsed.error.issues);
  const file = parsed.data;
  const out: ValidationProblem[] = [];
  for (const name of ["name", "size", "sizeEncrypted"]) requireProperty(body, name, out);
  if (out.length > 0) return out;
  const size = file.size!;
  const sizeEncrypted = file.sizeEncrypted!;
  if (size < 0) out.push(intune(`size must not be negative; it is ${size}.`, "size"));
  if (sizeEncrypted < MIN_SIZE_ENCRYPTED) {
    out.push(intune(`sizeEncrypted must be at least ${MIN_SIZE_ENCRYPTED}; it is ${sizeEncrypted}.`, "sizeEncrypted"));
  }
  const max = opts.maxContentFileSizeInBytes ?? DEFAULT_MAX_CONTENT_FILE_SIZE;
  if (sizeEncrypted > max) {
    out.push(
      intune(`sizeEncrypted ${sizeEncrypted} exceeds the maximum content file size of ${max} bytes.`, "sizeEncrypted"),
    );
  }
  if (out.length === 0 && (opts.checkEncryptedSize ?? true) && sizeEncrypted !== expectedSizeEncrypted(size)) {
    out.push(
      intune(
        `sizeEncrypted ${sizeEncrypted} does not match size ${size}: a ProfileVersion1 payload of ${size} bytes is ${expectedSizeEncrypted(size)} bytes.`,
        "sizeEncrypted",
      ),
    );
  }
  return out;
}

KNOWN_TYPES.add("fileEncryptionInfo");
const fileEncryptionInfo = odataObject("fileEncryptionInfo", {
  "@odata.type": optionalAnnotation("fileEncryptionInfo"), // optional: the docs and S11 send it, others omit it (§2.7)
  encryptionKey: edmBinary().nullable().optional(),
  macKey: edmBinary().nullable().optional(),
  initializationVector: edmBinary().nullable().optional(),
  mac: edmBinary().nullable().optional(),
  profileIdentifier: nullableString().optional(),
  fileDigest: edmBinary().nullable().optional(),
  fileDigestAlgorithm: nullableString().optional(),
});

/** The commit action's parameters: exactly one, `fileEncryptionInfo` (§2.7). */
export const commitBodySchema = z.strictObject(
  { fileEncryptionInfo: fileEncryptionInfo.optional() },
  {
    error: (iss) =>
      iss.code === "unrecognized_keys"
        ? // ODataLib's message for an unknown action parameter (not quoted by the doc).
          iss.keys
            .map(
              (k) => `The parameter '${k}' in the request payload is not a valid parameter for the operation 'commit'.`,
            )
            .join("\n")
        : kindMessage(iss.input, "StartObject", "commit", iss.path ?? []),
  },
);
export type CommitBody = z.infer<typeof commitBodySchema>;

/**
 * POST …/files/{id}/commit (§2.7; §4 item 16): shape only, as a synchronous 400. Missing fields are refused here
 * (UNCONFIRMED, suggested by §4 item 16); decoded lengths and literals are commit-time checks that end in
 * `commitFileFailed` (emulator/storage verifyCommittedContent).
 */
export function validateCommitBody(body: unknown): ValidationProblem[] {
  if (!isPlainObject(body)) return [notAnObject(body, "fileEncryptionInfo")];
  const parsed = commitBodySchema.safeParse(body);
  if (!parsed.success) return issuesToProblems(parsed.error.issues);
  const out: ValidationProblem[] = [];
  if (parsed.data.fileEncryptionInfo === undefined || parsed.data.fileEncryptionInfo === null) {
    return [intune("The parameter 'fileEncryptionInfo' is required.", "fileEncryptionInfo")];
  }
  for (const name of [
    "encryptionKey",
    "macKey",
    "initializationVector",
    "mac",
    "profileIdentifier",
    "fileDigest",
    "fileDigestAlgorithm",
  ]) {
    requireProperty(body, `fileEncryptionInfo.${name}`, out);
  }
  return out;
}
