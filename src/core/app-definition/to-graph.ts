/**
 * Pure mapping from an app definition to the win32LobApp bodies Graph (beta) accepts: create (POST) and PATCH.
 * Every `@odata.type` and enum literal is Graph's own (docs/reference/graph-win32-upload.md §2.1–§2.2); the emulator's
 * strict validator (emulator/graph/model/win32LobApp.ts) is the judge in the tests. Rules go in the legacy
 * `detectionRules` / `requirementRules` collections (beta, used by IntuneWin32App, WinTuner and the portal's SDKs).
 */
import type {
  DetectionRuleWire,
  FileSystemDetectionWire,
  MsiInformationWire,
  RegistryDetectionWire,
  RequirementRuleWire,
  RuleOperator,
  Win32LobAppWritableWire,
} from "../wire/graph.js";
import { InternalError } from "../errors.js";
import { AppDefinitionError } from "./errors.js";
import type { AppDefinition, DetectionRule, RequirementRule } from "./schema.js";
import { ARCHITECTURES, DEFAULT_RETURN_CODES, parseDate } from "./schema.js";
import type { OwnershipStamp } from "./stamp.js";
import { stampNotes } from "./stamp.js";

/** Files the definition names, read by src/catalog. */
export interface DefinitionAssets {
  /** Bytes of every script a rule names, keyed by the path exactly as written in the definition. */
  scripts: ReadonlyMap<string, Uint8Array>;
  icon?: { type: "image/png" | "image/jpeg"; bytes: Uint8Array };
}

/** What the package tells us (Detection.xml of the package being committed, or the app's current values). */
export interface PackageFacts {
  /** The outer `.intunewin` file name (docs/reference/intunewin-format.md §1.7: not `IntunePackage.intunewin`). */
  fileName: string;
  /** Detection.xml `SetupFile`. */
  setupFile: string;
  /** For an MSI setup (see `msiInformationFromDetectionXml`); null or absent otherwise. */
  msiInformation?: MsiInformationWire | null;
}

export interface CreateBodyOptions {
  package: PackageFacts;
  stamp: OwnershipStamp;
  /** Scope tag ids resolved from `scopeTags` names; absent = leave Graph's default (the tenant's "Default"). */
  scopeTagIds?: readonly string[];
}

export interface PatchBodyOptions {
  /** Present when the PATCH also points at new content; absent for a metadata-only PATCH. */
  package?: PackageFacts;
  stamp: OwnershipStamp;
  scopeTagIds?: readonly string[];
  /** MSI facts of the app as it is (for `type: msi` rules without productCode when `package` is absent). */
  msiInformation?: MsiInformationWire | null;
}

/** A PATCH body: the writable properties, `fileName` only when new content comes with it. */
export type Win32LobAppPatchWire = Omit<Win32LobAppWritableWire, "fileName"> & { fileName?: string };

/** POST /deviceAppManagement/mobileApps body. Throws AppDefinitionError for facts the definition contradicts. */
export function toWin32LobAppCreateBody(
  def: AppDefinition,
  assets: DefinitionAssets,
  options: CreateBodyOptions,
): Win32LobAppWritableWire {
  const body = metadata(def, assets, options.stamp, options.scopeTagIds, options.package.msiInformation ?? null);
  return {
    ...body,
    fileName: options.package.fileName,
    setupFilePath: options.package.setupFile,
    msiInformation: options.package.msiInformation ?? null,
  };
}

/**
 * PATCH /deviceAppManagement/mobileApps/{id} body: every property the definition owns, so a PATCH converges the
 * app on the definition. `categories` are not in it (a navigation: POST …/categories/$ref, §2.1).
 */
export function toWin32LobAppPatchBody(
  def: AppDefinition,
  assets: DefinitionAssets,
  options: PatchBodyOptions,
): Win32LobAppPatchWire {
  const msi = options.package ? (options.package.msiInformation ?? null) : (options.msiInformation ?? null);
  const rest = metadata(def, assets, options.stamp, options.scopeTagIds, msi);
  if (!options.package) return rest;
  return {
    ...rest,
    fileName: options.package.fileName,
    setupFilePath: options.package.setupFile,
    msiInformation: options.package.msiInformation ?? null,
  };
}

function metadata(
  def: AppDefinition,
  assets: DefinitionAssets,
  stamp: OwnershipStamp,
  scopeTagIds: readonly string[] | undefined,
  msi: MsiInformationWire | null,
): Omit<Win32LobAppWritableWire, "fileName"> {
  if (stamp.id !== def.id || stamp.version !== def.version) {
    throw new InternalError(
      `The stamp (${stamp.id} ${stamp.version}) is not this definition's (${def.id} ${def.version}).`,
    );
  }
  const req = def.requirements;
  const body: Omit<Win32LobAppWritableWire, "fileName"> = {
    "@odata.type": "#microsoft.graph.win32LobApp",
    displayName: def.displayName,
    description: def.description ?? def.displayName,
    publisher: def.publisher,
    displayVersion: def.version,
    isFeatured: def.featured,
    informationUrl: def.informationUrl ?? null,
    privacyInformationUrl: def.privacyUrl ?? null,
    owner: def.owner ?? "",
    developer: def.developer ?? "",
    notes: stampNotes(def.notes, stamp),
    installCommandLine: def.install.command,
    uninstallCommandLine: def.uninstall.command,
    installExperience: {
      runAsAccount: def.install.runAs,
      deviceRestartBehavior: def.install.restartBehavior,
      maxRunTimeInMinutes: def.install.maxRunTimeInMinutes,
    },
    returnCodes: (def.returnCodes ?? DEFAULT_RETURN_CODES).map((r) => ({ returnCode: r.code, type: r.type })),
    allowAvailableUninstall: def.allowAvailableUninstall,
    applicableArchitectures: architectures(req.architectures),
    minimumSupportedWindowsRelease: req.minimumWindowsRelease,
    minimumFreeDiskSpaceInMB: req.minimumFreeDiskSpaceMB ?? null,
    minimumMemoryInMB: req.minimumMemoryMB ?? null,
    minimumNumberOfProcessors: req.minimumProcessors ?? null,
    minimumCpuSpeedInMHz: req.minimumCpuSpeedMHz ?? null,
    detectionRules: def.detection.map((r, i) => detectionRule(r, i, assets, msi)),
    requirementRules: req.rules.map((r, i) => requirementRule(r, i, assets)),
  };
  if (assets.icon) {
    body.largeIcon = {
      "@odata.type": "#microsoft.graph.mimeContent",
      type: assets.icon.type,
      value: Buffer.from(assets.icon.bytes).toString("base64"),
    };
  }
  if (scopeTagIds !== undefined) body.roleScopeTagIds = [...scopeTagIds];
  return body;
}

/** Graph's comma list in the enum's order (x86, x64, arm64), without duplicates. */
export function architectures(list: readonly string[]): string {
  return ARCHITECTURES.filter((a) => list.includes(a)).join(",");
}

// ---------------------------------------------------------------------------------------------------------------
// Rules

function detectionRule(
  rule: DetectionRule,
  index: number,
  assets: DefinitionAssets,
  msi: MsiInformationWire | null,
): DetectionRuleWire {
  switch (rule.type) {
    case "file":
      return { "@odata.type": "#microsoft.graph.win32LobAppFileSystemDetection", ...fileFields(rule) };
    case "registry":
      return { "@odata.type": "#microsoft.graph.win32LobAppRegistryDetection", ...registryFields(rule) };
    case "msi": {
      const productCode = rule.productCode ?? msi?.productCode;
      if (!productCode) {
        throw new AppDefinitionError([
          {
            path: ["detection", index, "productCode"],
            message: "The package has no MSI product code to detect: give productCode, or use another rule type.",
          },
        ]);
      }
      return {
        "@odata.type": "#microsoft.graph.win32LobAppProductCodeDetection",
        productCode,
        productVersionOperator: rule.operator ?? "notConfigured",
        productVersion: rule.value === undefined ? null : String(rule.value),
      };
    }
    case "script":
      return {
        "@odata.type": "#microsoft.graph.win32LobAppPowerShellScriptDetection",
        enforceSignatureCheck: rule.enforceSignatureCheck,
        runAs32Bit: rule.runAs32Bit,
        scriptContent: scriptContent(assets, rule.script),
      };
  }
}

function requirementRule(rule: RequirementRule, _index: number, assets: DefinitionAssets): RequirementRuleWire {
  switch (rule.type) {
    case "file":
      return { "@odata.type": "#microsoft.graph.win32LobAppFileSystemRequirement", ...fileFields(rule) };
    case "registry":
      return { "@odata.type": "#microsoft.graph.win32LobAppRegistryRequirement", ...registryFields(rule) };
    case "script":
      return {
        "@odata.type": "#microsoft.graph.win32LobAppPowerShellScriptRequirement",
        displayName: rule.displayName ?? baseName(rule.script),
        enforceSignatureCheck: rule.enforceSignatureCheck,
        runAs32Bit: rule.runAs32Bit,
        runAsAccount: rule.runAs,
        scriptContent: scriptContent(assets, rule.script),
        detectionType: rule.outputType,
        operator: rule.operator,
        detectionValue: comparisonText(rule.outputType, rule.value),
      };
  }
}

type FileRule = Extract<DetectionRule, { type: "file" }>;
type RegistryRule = Extract<DetectionRule, { type: "registry" }>;

function fileFields(rule: FileRule): Omit<FileSystemDetectionWire, "@odata.type"> {
  return {
    path: rule.path,
    fileOrFolderName: rule.fileOrFolderName,
    check32BitOn64System: rule.check32BitOn64System,
    detectionType: rule.check,
    operator: rule.operator ?? "notConfigured",
    detectionValue: rule.value === undefined ? null : comparisonText(rule.check, rule.value),
  };
}

function registryFields(rule: RegistryRule): Omit<RegistryDetectionWire, "@odata.type"> {
  return {
    check32BitOn64System: rule.check32BitOn64System,
    keyPath: rule.keyPath,
    valueName: rule.valueName ?? null,
    detectionType: rule.check,
    operator: (rule.operator ?? "notConfigured") satisfies RuleOperator,
    detectionValue: rule.value === undefined ? null : comparisonText(rule.check, rule.value),
  };
}

/**
 * The value as Graph's string `detectionValue`: dates as `yyyy-MM-ddTHH:mm:ss.000Z` (§2.2, as IntuneWin32App writes
 * them), numbers in decimal.
 */
export function comparisonText(check: string, value: string | number | boolean): string {
  if (check === "modifiedDate" || check === "createdDate" || check === "dateTime") {
    const d = typeof value === "string" ? parseDate(value) : undefined;
    if (d === undefined) throw new InternalError(`Unvalidated date ${String(value)} reached the mapping.`);
    return `${d.toISOString().slice(0, 19)}.000Z`;
  }
  if ((check === "integer" || check === "sizeInMB") && typeof value === "string") return String(Number(value));
  return String(value);
}

function scriptContent(assets: DefinitionAssets, path: string): string {
  const bytes = assets.scripts.get(path);
  if (bytes === undefined) throw new InternalError(`The script ${path} was not loaded with the definition.`);
  return Buffer.from(bytes).toString("base64");
}

function baseName(path: string): string {
  return path.split(/[\\/]/).pop() ?? path;
}

// ---------------------------------------------------------------------------------------------------------------
// MSI facts

/** The part of Detection.xml's MsiInfo (src/intunewin/detection-xml.ts) that msiInformation needs. */
export interface DetectionXmlMsiFacts {
  Name: string;
  MsiInfo: {
    MsiProductCode: string;
    MsiProductVersion: string;
    MsiUpgradeCode: string;
    MsiExecutionContext: "System" | "User" | "Any";
    MsiRequiresReboot: boolean;
    MsiPublisher: string;
  };
}

/** msiInformation as IntuneWin32App builds it from Detection.xml (§2.1): execution context → packageType. */
export function msiInformationFromDetectionXml(d: DetectionXmlMsiFacts): MsiInformationWire {
  const m = d.MsiInfo;
  return {
    productCode: m.MsiProductCode,
    productVersion: m.MsiProductVersion,
    upgradeCode: m.MsiUpgradeCode === "" ? null : m.MsiUpgradeCode,
    requiresReboot: m.MsiRequiresReboot,
    packageType:
      m.MsiExecutionContext === "System" ? "perMachine" : m.MsiExecutionContext === "User" ? "perUser" : "dualPurpose",
    productName: d.Name === "" ? null : d.Name,
    publisher: m.MsiPublisher === "" ? null : m.MsiPublisher,
  };
}
