/**
 * The fields of winget manifests, per ManifestVersion, with a zod schema for each value we use. Source: winget-cli's
 * field tables (`src/AppInstallerCommonCore/Manifest/ManifestYamlPopulator.cpp`: which keys exist at the root, in an
 * installer, in switches… and from which ManifestVersion) and its JSON schemas (`schemas/JSON/manifests/*`: value
 * patterns, enumerations, lengths, required fields). A field introduced in 1.1.0 is unknown to a 1.0.0 manifest, as
 * in winget.
 *
 * Preview manifests (ManifestVersion 0.x, one file, `Id`/`Version`/`Switches`…) are read with their own names
 * and mapped to the 1.x names (`as`), so the rest of the catalog sees one shape.
 */
import { z } from "zod";

/** `major.minor.patch` (ManifestVer's three numeric parts), compared as numbers. */
export type ManifestVer = readonly [number, number, number];

export function compareManifestVer(a: ManifestVer, b: ManifestVer): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

export const MANIFEST_V1: ManifestVer = [1, 0, 0];
/** The newest ManifestVersion whose fields we know (winget-cli at fa3d9e5, 2026-08-22, knows 1.30.0). */
export const NEWEST_KNOWN_MANIFEST: ManifestVer = [1, 30, 0];

export type ValueKind = "string" | "int" | "bool" | "strings" | "ints" | "csv" | "map" | "maps" | "any";

export interface FieldSpec {
  /** The name as written (PascalCase). */
  name: string;
  /** The 1.x name it stands for (preview manifests); default `name`. */
  as?: string;
  /** First ManifestVersion that has the field (1.x tables); default 1.0.0. */
  since?: ManifestVer;
  kind: ValueKind;
  /** Fields of a `map` or of each item of `maps`. */
  fields?: () => readonly FieldSpec[];
  /** Checks the converted value (a string, number, boolean or list of them). */
  check?: z.ZodType;
}

const v = (minor: number): ManifestVer => [1, minor, 0];

// -----------------------------------------------------------------------------------------------------------------
// Value checks (JSON schema patterns of winget's 1.x manifests)

/** Control characters other than tab and line breaks are refused in every value by the reader; these refuse more. */
// eslint-disable-next-line no-control-regex -- refusing control characters is the point
const ONE_LINE = /^[^\u0000-\u001f\u007f\u2028\u2029]*$/;
const oneLine = (what: string, max: number) =>
  z
    .string()
    .min(1, `${what} must not be empty.`)
    .max(max, `${what} is at most ${max} characters.`)
    .regex(ONE_LINE, `${what} must be one line of text (no line breaks or control characters).`);

export const PACKAGE_IDENTIFIER_PATTERN =
  // eslint-disable-next-line no-control-regex -- the JSON schema's own class
  /^[^.\s\\/:*?"<>|\u0001-\u001f]{1,32}(\.[^.\s\\/:*?"<>|\u0001-\u001f]{1,32}){1,7}$/;
const packageIdentifier = z
  .string()
  .max(128, "PackageIdentifier is at most 128 characters.")
  .regex(
    PACKAGE_IDENTIFIER_PATTERN,
    'PackageIdentifier is 2 to 8 dot-separated parts (Publisher.Package) of 1–32 characters, without spaces or \\ / : * ? " < > |.',
  );
/** Preview ids: the 0.1.0 schema's pattern (any printable run with at least one dot). */
const previewIdentifier = z
  .string()
  .max(255, "Id is at most 255 characters.")
  .regex(
    // eslint-disable-next-line no-control-regex -- the JSON schema's own class
    /^[^\s\\/:*?"<>|\u0001-\u001f]+\.[^\s\\/:*?"<>|\u0001-\u001f]+$/,
    'Id is Publisher.Package, without spaces or \\ / : * ? " < > |.',
  );
// eslint-disable-next-line no-control-regex -- the JSON schema's own class
export const PACKAGE_VERSION_PATTERN = /^[^\\/:*?"<>|\u0001-\u001f]+$/;
const packageVersion = z
  .string()
  .max(128, "PackageVersion is at most 128 characters.")
  .superRefine((v, ctx) => {
    if (/^[<>] /.test(v.trim()))
      ctx.addIssue({ code: "custom", message: `Approximate version not allowed. [PackageVersion] Value: ${v}` });
    else if (!PACKAGE_VERSION_PATTERN.test(v))
      ctx.addIssue({
        code: "custom",
        message: 'PackageVersion must not contain \\ / : * ? " < > | or control characters.',
      });
  });
/**
 * A well-formed BCP 47 tag (RFC 5646 `langtag`, private use and `i-` tags; winget calls Windows'
 * IsWellFormedBcp47Tag), within the manifest schema's 20 characters.
 */
export const BCP47 =
  /^(?:(?:[a-z]{2,3}(?:-[a-z]{3}){0,3}|[a-z]{4,8})(?:-[a-z]{4})?(?:-(?:[a-z]{2}|\d{3}))?(?:-(?:[a-z0-9]{5,8}|\d[a-z0-9]{3}))*(?:-[0-9a-wy-z](?:-[a-z0-9]{2,8})+)*(?:-x(?:-[a-z0-9]{1,8})+)?|x(?:-[a-z0-9]{1,8})+|i-[a-z]+)$/i;
const locale = z
  .string()
  .max(20, "A locale is at most 20 characters.")
  .regex(BCP47, "The locale value is not a well formed bcp47 language tag (e.g. en-US).");
const url = z
  .string()
  .max(2048, "A URL is at most 2048 characters.")
  .regex(/^[Hh][Tt][Tt][Pp][Ss]?:\/\/\S+$/, "must be an http(s) URL.");
const sha256 = z.string().regex(/^[A-Fa-f0-9]{64}$/, "must be a SHA-256 hash: 64 hexadecimal digits.");
const minimumOSVersion = z
  .string()
  .regex(
    /^(0|[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])(\.(0|[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])){0,3}$/,
    "MinimumOSVersion is one to four numbers up to 65535, e.g. 10.0.17763.0.",
  );
const productCode = oneLine("ProductCode", 255);
const switchValue = (what: string, max: number) => oneLine(what, max);

/** Enumerations are matched case-insensitively and kept in their canonical case (winget's Convert…Enum). */
export const INSTALLER_TYPES = [
  "msix",
  "msi",
  "appx",
  "exe",
  "zip",
  "inno",
  "nullsoft",
  "wix",
  "burn",
  "pwa",
  "portable",
  "font",
  "msstore",
] as const;
export type InstallerType = (typeof INSTALLER_TYPES)[number];
export const WINGET_ARCHITECTURES = ["x86", "x64", "arm", "arm64", "neutral"] as const;
export type WingetArchitecture = (typeof WINGET_ARCHITECTURES)[number];
export const SCOPES = ["user", "machine"] as const;
export type Scope = (typeof SCOPES)[number];
export const UPGRADE_BEHAVIORS = ["install", "uninstallPrevious", "deny"] as const;
export const ELEVATION_REQUIREMENTS = ["elevationRequired", "elevationProhibited", "elevatesSelf"] as const;
export const REPAIR_BEHAVIORS = ["modify", "uninstaller", "installer"] as const;
export const INSTALL_MODES = ["interactive", "silent", "silentWithProgress"] as const;
export const RETURN_RESPONSES = [
  "packageInUse",
  "packageInUseByApplication",
  "installInProgress",
  "fileInUse",
  "missingDependency",
  "diskFull",
  "insufficientMemory",
  "invalidParameter",
  "noNetwork",
  "contactSupport",
  "rebootRequiredToFinish",
  "rebootRequiredForInstall",
  "rebootInitiated",
  "cancelledByUser",
  "alreadyInstalled",
  "downgrade",
  "blockedByPolicy",
  "systemNotSupported",
  "custom",
] as const;
export type ReturnResponse = (typeof RETURN_RESPONSES)[number];

/** A case-insensitive enumeration that yields the canonical spelling. */
export function enumOf<const T extends readonly string[]>(what: string, values: T) {
  return z.string().transform((s, ctx): T[number] => {
    const hit = values.find((x) => x.toLowerCase() === s.trim().toLowerCase());
    if (hit === undefined) {
      ctx.addIssue({ code: "custom", message: `Invalid field value. ${what} must be one of ${values.join(", ")}.` });
      return z.NEVER;
    }
    return hit;
  });
}

const installerType = enumOf("InstallerType", INSTALLER_TYPES);
const architecture = enumOf("Architecture", WINGET_ARCHITECTURES);
const scope = enumOf("Scope", SCOPES);
/** Preview manifests write `UninstallPrevious`; 1.x `uninstallPrevious`. */
const upgradeBehavior = enumOf("UpgradeBehavior", UPGRADE_BEHAVIORS);
const returnCode = z
  .number()
  .int()
  .min(-(2 ** 31), "A return code fits in 32 bits.")
  .max(2 ** 32 - 1, "A return code fits in 32 bits.");
const list = (item: z.ZodType, max: number, what: string) =>
  z.array(item).max(max, `${what} has at most ${max} entries.`);

// -----------------------------------------------------------------------------------------------------------------
// 1.x tables (ManifestYamlPopulator's field lists)

const SWITCHES: readonly FieldSpec[] = [
  { name: "Custom", kind: "string", check: switchValue("Custom", 2048) },
  { name: "Silent", kind: "string", check: switchValue("Silent", 512) },
  { name: "SilentWithProgress", kind: "string", check: switchValue("SilentWithProgress", 512) },
  { name: "Interactive", kind: "string", check: switchValue("Interactive", 512) },
  { name: "Log", kind: "string", check: switchValue("Log", 512) },
  { name: "InstallLocation", kind: "string", check: switchValue("InstallLocation", 2048) },
  { name: "Upgrade", kind: "string", check: switchValue("Upgrade", 512) },
  { name: "Repair", since: v(7), kind: "string", check: switchValue("Repair", 512) },
];

const EXPECTED_RETURN_CODE: readonly FieldSpec[] = [
  { name: "InstallerReturnCode", since: v(1), kind: "int", check: returnCode },
  { name: "ReturnResponse", since: v(1), kind: "string", check: enumOf("ReturnResponse", RETURN_RESPONSES) },
  { name: "ReturnResponseUrl", since: v(2), kind: "string", check: url },
];

const PACKAGE_DEPENDENCY: readonly FieldSpec[] = [
  { name: "PackageIdentifier", kind: "string", check: packageIdentifier },
  { name: "MinimumVersion", kind: "string", check: packageVersion },
];

const DEPENDENCIES: readonly FieldSpec[] = [
  { name: "WindowsFeatures", kind: "strings" },
  { name: "WindowsLibraries", kind: "strings" },
  { name: "PackageDependencies", kind: "maps", fields: () => PACKAGE_DEPENDENCY },
  { name: "ExternalDependencies", kind: "strings" },
];

const ARP_ENTRY: readonly FieldSpec[] = [
  { name: "DisplayName", since: v(1), kind: "string", check: oneLine("DisplayName", 256) },
  { name: "Publisher", since: v(1), kind: "string", check: oneLine("Publisher", 256) },
  { name: "DisplayVersion", since: v(1), kind: "string", check: oneLine("DisplayVersion", 128) },
  { name: "ProductCode", since: v(1), kind: "string", check: productCode },
  { name: "UpgradeCode", since: v(1), kind: "string", check: oneLine("UpgradeCode", 255) },
  { name: "InstallerType", since: v(1), kind: "string", check: installerType },
];

const NESTED_FILE: readonly FieldSpec[] = [
  { name: "RelativeFilePath", since: v(4), kind: "string", check: oneLine("RelativeFilePath", 512) },
  { name: "PortableCommandAlias", since: v(4), kind: "string", check: oneLine("PortableCommandAlias", 40) },
];

/** Keys of the root (defaults for every installer) and of each installer. */
const INSTALLER_COMMON: readonly FieldSpec[] = [
  { name: "InstallerType", kind: "string", check: installerType },
  { name: "PackageFamilyName", kind: "string", check: oneLine("PackageFamilyName", 255) },
  { name: "ProductCode", kind: "string", check: productCode },
  { name: "InstallerLocale", kind: "string", check: locale },
  { name: "Platform", kind: "strings", check: list(z.string(), 2, "Platform") },
  { name: "MinimumOSVersion", kind: "string", check: minimumOSVersion },
  { name: "Scope", kind: "string", check: scope },
  { name: "InstallModes", kind: "strings", check: z.array(enumOf("InstallModes", INSTALL_MODES)).max(3) },
  { name: "InstallerSwitches", kind: "map", fields: () => SWITCHES },
  { name: "InstallerSuccessCodes", kind: "ints", check: list(returnCode, 16, "InstallerSuccessCodes") },
  { name: "UpgradeBehavior", kind: "string", check: upgradeBehavior },
  { name: "Commands", kind: "strings" },
  { name: "Protocols", kind: "strings" },
  { name: "FileExtensions", kind: "strings" },
  { name: "Dependencies", kind: "map", fields: () => DEPENDENCIES },
  { name: "Capabilities", kind: "strings" },
  { name: "RestrictedCapabilities", kind: "strings" },
  { name: "InstallerAbortsTerminal", since: v(1), kind: "bool" },
  { name: "InstallLocationRequired", since: v(1), kind: "bool" },
  { name: "RequireExplicitUpgrade", since: v(1), kind: "bool" },
  { name: "ReleaseDate", since: v(1), kind: "string" },
  {
    name: "UnsupportedOSArchitectures",
    since: v(1),
    kind: "strings",
    check: z.array(enumOf("UnsupportedOSArchitectures", WINGET_ARCHITECTURES)),
  },
  {
    name: "ElevationRequirement",
    since: v(1),
    kind: "string",
    check: enumOf("ElevationRequirement", ELEVATION_REQUIREMENTS),
  },
  { name: "Markets", since: v(1), kind: "any" },
  { name: "AppsAndFeaturesEntries", since: v(1), kind: "maps", fields: () => ARP_ENTRY },
  { name: "ExpectedReturnCodes", since: v(1), kind: "maps", fields: () => EXPECTED_RETURN_CODE },
  { name: "UnsupportedArguments", since: v(2), kind: "strings" },
  { name: "DisplayInstallWarnings", since: v(2), kind: "bool" },
  { name: "NestedInstallerType", since: v(4), kind: "string", check: installerType },
  { name: "NestedInstallerFiles", since: v(4), kind: "maps", fields: () => NESTED_FILE },
  { name: "InstallationMetadata", since: v(4), kind: "any" },
  { name: "DownloadCommandProhibited", since: v(6), kind: "bool" },
  { name: "RepairBehavior", since: v(7), kind: "string", check: enumOf("RepairBehavior", REPAIR_BEHAVIORS) },
  { name: "ArchiveBinariesDependOnPath", since: v(9), kind: "bool" },
  { name: "Authentication", since: v(10), kind: "any" },
  { name: "DesiredStateConfiguration", since: v(28), kind: "any" },
];

const INSTALLER_ONLY: readonly FieldSpec[] = [
  { name: "Architecture", kind: "string", check: architecture },
  // Checked per installer (manifest.ts): a bad URL makes that installer unusable, not the whole manifest.
  { name: "InstallerUrl", kind: "string", check: oneLine("InstallerUrl", 2048) },
  { name: "InstallerSha256", kind: "string", check: sha256 },
  { name: "SignatureSha256", kind: "string", check: sha256 },
  { name: "MSStoreProductIdentifier", kind: "string" },
];

/** Localization keys: the root (default locale) and each locale. */
const LOCALIZATION: readonly FieldSpec[] = [
  { name: "PackageLocale", kind: "string", check: locale },
  { name: "Publisher", kind: "string", check: oneLine("Publisher", 256) },
  { name: "PublisherUrl", kind: "string", check: url },
  { name: "PublisherSupportUrl", kind: "string", check: url },
  { name: "PrivacyUrl", kind: "string", check: url },
  { name: "Author", kind: "string" },
  { name: "PackageName", kind: "string", check: oneLine("PackageName", 256) },
  { name: "PackageUrl", kind: "string", check: url },
  { name: "License", kind: "string" },
  { name: "LicenseUrl", kind: "string", check: url },
  { name: "Copyright", kind: "string" },
  { name: "CopyrightUrl", kind: "string", check: url },
  { name: "ShortDescription", kind: "string" },
  { name: "Description", kind: "string", check: z.string().max(10000, "Description is at most 10000 characters.") },
  { name: "Tags", kind: "strings" },
  { name: "Agreements", since: v(1), kind: "any" },
  { name: "ReleaseNotes", since: v(1), kind: "string" },
  { name: "ReleaseNotesUrl", since: v(1), kind: "string", check: url },
  { name: "PurchaseUrl", since: v(2), kind: "string", check: url },
  { name: "InstallationNotes", since: v(2), kind: "string" },
  { name: "Documentations", since: v(2), kind: "any" },
  { name: "Icons", since: v(5), kind: "any" },
];

const IDENTITY: readonly FieldSpec[] = [
  { name: "PackageIdentifier", kind: "string", check: packageIdentifier },
  { name: "PackageVersion", kind: "string", check: packageVersion },
  { name: "ManifestType", kind: "string" },
  { name: "ManifestVersion", kind: "string" },
];

const INSTALLER_ENTRY: readonly FieldSpec[] = [...INSTALLER_ONLY, ...INSTALLER_COMMON];
const LOCALE_ENTRY: readonly FieldSpec[] = LOCALIZATION;

const ROOT_INSTALLER_PART: readonly FieldSpec[] = [
  { name: "Installers", kind: "maps", fields: () => INSTALLER_ENTRY },
  { name: "Channel", kind: "string" },
  ...INSTALLER_COMMON,
];

/** The files of a 1.x manifest, by ManifestType. */
export const V1_FILE_FIELDS = {
  version: [...IDENTITY, { name: "DefaultLocale", kind: "string", check: locale }],
  installer: [...IDENTITY, ...ROOT_INSTALLER_PART],
  defaultLocale: [...IDENTITY, { name: "Moniker", kind: "string" }, ...LOCALIZATION],
  locale: [...IDENTITY, ...LOCALIZATION],
  singleton: [
    ...IDENTITY,
    { name: "Moniker", kind: "string" },
    { name: "Localization", kind: "maps", fields: () => LOCALE_ENTRY },
    ...ROOT_INSTALLER_PART,
    ...LOCALIZATION,
  ],
} as const satisfies Record<string, readonly FieldSpec[]>;

// -----------------------------------------------------------------------------------------------------------------
// Preview (0.x) tables, mapped to 1.x names

const PREVIEW_SWITCHES: readonly FieldSpec[] = [
  ...SWITCHES.filter((f) => f.since === undefined && f.name !== "Upgrade"),
  { name: "Language", kind: "string" },
  { name: "Update", as: "Upgrade", kind: "string", check: switchValue("Update", 512) },
];

const PREVIEW_INSTALLER_COMMON: readonly FieldSpec[] = [
  { name: "InstallerType", kind: "string", check: installerType },
  { name: "PackageFamilyName", kind: "string", check: oneLine("PackageFamilyName", 255) },
  { name: "ProductCode", kind: "string", check: productCode },
  { name: "UpdateBehavior", as: "UpgradeBehavior", kind: "string", check: upgradeBehavior },
  { name: "Switches", as: "InstallerSwitches", kind: "map", fields: () => PREVIEW_SWITCHES },
];

const PREVIEW_INSTALLER: readonly FieldSpec[] = [
  ...PREVIEW_INSTALLER_COMMON,
  { name: "Arch", as: "Architecture", kind: "string", check: architecture },
  { name: "Url", as: "InstallerUrl", kind: "string", check: oneLine("Url", 2048) },
  { name: "Sha256", as: "InstallerSha256", kind: "string", check: sha256 },
  { name: "SignatureSha256", kind: "string", check: sha256 },
  { name: "Language", as: "InstallerLocale", kind: "string", check: locale },
  { name: "Scope", kind: "string", check: scope },
  { name: "ProductId", as: "MSStoreProductIdentifier", kind: "string" },
];

const PREVIEW_LOCALIZATION: readonly FieldSpec[] = [
  { name: "Description", kind: "string" },
  { name: "LicenseUrl", kind: "string", check: url },
  { name: "Homepage", as: "PackageUrl", kind: "string", check: url },
];

export const PREVIEW_FIELDS: readonly FieldSpec[] = [
  { name: "ManifestVersion", kind: "string" },
  { name: "Installers", kind: "maps", fields: () => PREVIEW_INSTALLER },
  {
    name: "Localization",
    kind: "maps",
    fields: () => [...PREVIEW_LOCALIZATION, { name: "Language", as: "PackageLocale", kind: "string", check: locale }],
  },
  { name: "Channel", kind: "string" },
  { name: "Id", as: "PackageIdentifier", kind: "string", check: previewIdentifier },
  { name: "Version", as: "PackageVersion", kind: "string", check: packageVersion },
  { name: "AppMoniker", as: "Moniker", kind: "string" },
  ...PREVIEW_INSTALLER_COMMON,
  { name: "MinOSVersion", as: "MinimumOSVersion", kind: "string", check: minimumOSVersion },
  { name: "Commands", kind: "csv" },
  { name: "Protocols", kind: "csv" },
  { name: "FileExtensions", kind: "csv" },
  ...PREVIEW_LOCALIZATION,
  { name: "Name", as: "PackageName", kind: "string", check: oneLine("Name", 256) },
  { name: "Publisher", kind: "string", check: oneLine("Publisher", 256) },
  { name: "Author", kind: "string" },
  { name: "License", kind: "string" },
  { name: "Tags", kind: "csv" },
];

/** Fields of a table that exist in `version` (1.x tables; preview tables have no `since`). */
export function fieldsFor(table: readonly FieldSpec[], version: ManifestVer): FieldSpec[] {
  return table.filter((f) => f.since === undefined || compareManifestVer(f.since, version) <= 0);
}

export function formatManifestVer(v: ManifestVer): string {
  return v.join(".");
}
