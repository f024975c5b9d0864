/**
 * The chosen installer of a package → an ordinary app definition (the schema `publish` uses), with the scripts it
 * names and, for every decision, the reason (docs/catalog.md "From a manifest to an app definition").
 *
 * Commands. Install: the silent switches as winget computes them (manifest.ts: installer over root key by key, then
 * the type's defaults), `Silent` or else `SilentWithProgress`, then `Custom`; an MSI (msi, wix) through
 * `msiexec /i "<file>" /qn /norestart` with ALLUSERS per scope. Uninstall: `msiexec /x {ProductCode}` for an MSI
 * whose product code is known, else a generated script that finds the Uninstall registry entry and runs its
 * uninstaller with the type's silent switches. Return codes: Intune's defaults, plus InstallerSuccessCodes
 * (success) and the ExpectedReturnCodes that change Intune's outcome (in use → retry, reboot → soft/hard reboot).
 *
 * Detection, first that applies: (1) MSI product code with ProductVersion ≥ (the MSI's own facts when it has been
 * downloaded, checked against the manifest); (2) the Uninstall key named by ProductCode/AppsAndFeaturesEntries with
 * DisplayVersion ≥, as a registry rule where the registry view is certain (a per-user install; an x86 installer,
 * 32-bit view) and as a script reading both views otherwise; (3) a script finding the entry by DisplayName.
 * The version is AppsAndFeaturesEntries.DisplayVersion when the manifest gives one (what Windows shows), else
 * PackageVersion.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import type {
  AppDefinition,
  AppDefinitionInput,
  DetectionRule,
  ReturnCode,
  WINDOWS_RELEASES,
} from "../core/app-definition/schema.js";
import { appDefinitionSchema, DEFAULT_RETURN_CODES } from "../core/app-definition/schema.js";
import { MAX_VERSION_LENGTH } from "../core/app-definition/stamp.js";
import type { CodeOfKind } from "../core/error-codes.js";
import { catalogError } from "./errors.js";
import { renderTemplate } from "./powershell.js";
import type { RequestedArchitecture, RequestedScope, Selection } from "./select.js";
import { DETECT_TEMPLATE, UNINSTALL_TEMPLATE, UPDATE_ONLY_TEMPLATE } from "./templates.js";
import { printable } from "./winget/layout.js";
import type { ArpEntry, Switches, WingetInstaller, WingetManifest } from "./winget/manifest.js";
import { hasCredentials, isHttpUrl, normalizeReturnCode } from "./winget/manifest.js";
import type { InstallerType } from "./winget/schema.js";
import { WingetVersion } from "./winget/version.js";

/** A file the definition names, to be written beside it (paths relative to the definition file, `/` separated). */
export interface GeneratedFile {
  path: string;
  purpose: "detection script" | "uninstall script" | "requirement script";
  text: string;
}

/** UTF-8 with a byte-order mark: Windows PowerShell 5.1 needs the mark to read non-ASCII characters. */
export function generatedFileBytes(file: GeneratedFile): Buffer {
  return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(file.text, "utf8")]);
}

/** The MSI's own facts, read from the downloaded file (src/intunewin/msi.ts). */
export interface MsiFacts {
  productCode: string;
  productVersion: string;
  /** the Property table's UpgradeCode, when it has one */
  upgradeCode?: string;
}

export interface InstallerSummary {
  url: string;
  sha256: string;
  type: string;
  nestedType?: string;
  architecture: string;
  scope: RequestedScope;
  silentArgs: string;
  productCode: string | null;
  locale?: string;
  /** The file name the download is saved as, in the content folder. */
  fileName: string;
}

/**
 * What an "update only" app requires (sync, docs/sync.md): registry rules on the product's Uninstall key or its MSI
 * UpgradeCode family when they are known, else a generated requirement script (in `script`, not in `files`).
 */
type RequirementRuleInput = NonNullable<NonNullable<AppDefinitionInput["requirements"]>["rules"]>[number];

export interface UpdateOnlyPlan {
  rules: RequirementRuleInput[];
  script?: GeneratedFile;
  explanation: string;
}

/** The requirement script of update-only mode, beside the definition. */
export const UPDATE_ONLY_SCRIPT = "requires-older-version.ps1";

export interface DefinitionPlan {
  /** The requirement rules that make the app apply only to devices with an older version. */
  updateOnly: UpdateOnlyPlan;
  /** An app definition `publish` accepts as it is, once `files` and the installer are written beside it. */
  definition: AppDefinitionInput;
  files: GeneratedFile[];
  installer: InstallerSummary;
  /** Where the installer goes: `content.source` (relative to the definition) and, for a zip, what to extract. */
  content: { folder: string; fileName: string; extract?: { archive: string; setupFile: string } };
  /** One sentence per decision, with its source. */
  explanations: string[];
}

export interface ToDefinitionOptions {
  selection: Selection;
  /** Names the source in notes and scripts. */
  sourceLabel: string;
  /** The MSI's ProductCode and ProductVersion after download; checked against the manifest. */
  msi?: MsiFacts;
  /** True for package ids the catalog also has (their definitions become dependencies). */
  inCatalog?: (id: string) => boolean;
  /** The installer's file name in the content folder; default from its URL (`installerFileName`). */
  fileName?: string;
}

/** Folder of the installer (and uninstall script), relative to the definition file. */
export const CONTENT_FOLDER = "source";
export const DETECTION_SCRIPT = "detect.ps1";
export const UNINSTALL_SCRIPT = "uninstall.ps1";

const GUID = /^\{[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}$/;
const NUMERIC_VERSION = /^\d+(\.\d+){0,3}$/;
const UNINSTALL_KEY = "SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall";
const MACHINE_ROOTS = [
  "HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall",
  "HKLM:\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall",
];
const USER_ROOTS = ["HKCU:\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall"];

/** Silent uninstall switches appended to an entry's UninstallString (its QuietUninstallString is used as is). */
const UNINSTALL_SWITCHES: Partial<Record<InstallerType, string>> = {
  inno: "/VERYSILENT /SUPPRESSMSGBOXES /NORESTART",
  nullsoft: "/S",
  burn: "/quiet /norestart",
};

/**
 * Windows releases Intune's minimumSupportedWindowsRelease takes, by build (Microsoft Learn, "Windows 10/11 release
 * information"). MinimumOSVersion `10.0.<build>` maps to the oldest release at or above that build.
 */
const RELEASE_BUILDS: readonly [number, (typeof WINDOWS_RELEASES)[number]][] = [
  [14393, "1607"],
  [15063, "1703"],
  [16299, "1709"],
  [17134, "1803"],
  [17763, "1809"],
  [18362, "1903"],
  [18363, "1909"],
  [19041, "2004"],
  [19042, "2H20"],
  [19043, "21H1"],
  [19044, "Windows10_21H2"],
  [19045, "Windows10_22H2"],
  [22000, "Windows11_21H2"],
  [22621, "Windows11_22H2"],
  [22631, "Windows11_23H2"],
];

/** The definition id: the package id as a slug, `-arm64`/`-x86`/`-user` added when not the default x64 machine app. */
export function definitionIdFor(
  packageId: string,
  architecture: RequestedArchitecture = "x64",
  scope: RequestedScope = "machine",
): string {
  const suffix = `${architecture === "x64" ? "" : `-${architecture}`}${scope === "user" ? "-user" : ""}`;
  let slug = packageId
    .toLowerCase()
    .replace(/\+/g, "p")
    .replace(/[^a-z0-9._-]+/g, "-")
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, "");
  if (slug === "") slug = "package";
  const room = 64 - suffix.length;
  if (slug.length > room) {
    const hash = createHash("sha256").update(packageId).digest("hex").slice(0, 8);
    slug = `${slug.slice(0, room - 9).replace(/[^a-z0-9]+$/, "")}-${hash}`;
  }
  return `${slug}${suffix}`;
}

/** Suffix of an update-only twin's definition id (auto-publish mode `both`: the application keeps its own id). */
export const UPDATE_ONLY_SUFFIX = "-updates";

/**
 * The definition id of the update-only twin of the app with `definitionId`: the id and `-updates`, within 64
 * characters. A longer id keeps its first characters and a hash of the whole id (as `definitionIdFor` does for long
 * package ids), so ids that differ only in their last characters get different twins.
 */
export function updateOnlyDefinitionId(definitionId: string): string {
  const id = `${definitionId}${UPDATE_ONLY_SUFFIX}`;
  if (id.length <= 64) return id;
  const hash = createHash("sha256").update(definitionId).digest("hex").slice(0, 8);
  const room = 64 - UPDATE_ONLY_SUFFIX.length - 9;
  return `${definitionId.slice(0, room).replace(/[^a-z0-9]+$/, "")}-${hash}${UPDATE_ONLY_SUFFIX}`;
}

/**
 * The twin's id as versions before the hash was added gave it: the definition id cut to 56 characters (trailing
 * separators dropped) and `-updates`. Differs from `updateOnlyDefinitionId` only for ids over 56 characters; twins
 * published under it are still recognised as the same app (the inventory's published column, auto-publish's record).
 */
export function legacyUpdateOnlyDefinitionId(definitionId: string): string {
  return `${definitionId.slice(0, 64 - UPDATE_ONLY_SUFFIX.length).replace(/[^a-z0-9]+$/, "")}${UPDATE_ONLY_SUFFIX}`;
}

/** The minimum Windows release for MinimumOSVersion, and a build requirement when Intune's list stops below it. */
export function minimumRelease(minimumOSVersion: string | undefined): {
  release: (typeof WINDOWS_RELEASES)[number];
  build?: number;
  explanation: string;
} {
  const lowest = RELEASE_BUILDS[0]!;
  if (minimumOSVersion === undefined)
    return {
      release: lowest[1],
      explanation: `No MinimumOSVersion: the lowest release Intune offers, ${lowest[1]}.`,
    };
  const [major = 0, , build = 0] = minimumOSVersion.split(".").map(Number);
  if (major < 10 || build <= lowest[0])
    return {
      release: lowest[1],
      explanation: `MinimumOSVersion ${minimumOSVersion} is at or below Windows 10 1607, the lowest release Intune offers.`,
    };
  const hit = RELEASE_BUILDS.find(([b]) => b >= build);
  if (hit !== undefined)
    return {
      release: hit[1],
      explanation: `MinimumOSVersion ${minimumOSVersion} (build ${build}) → ${hit[1]} (build ${hit[0]}), the oldest release Intune offers at or above it.`,
    };
  const newest = RELEASE_BUILDS.at(-1)!;
  return {
    release: newest[1],
    build,
    explanation: `MinimumOSVersion ${minimumOSVersion} is newer than Intune's newest release (${newest[1]}): a requirement rule checks the build number ≥ ${build}.`,
  };
}

/** A file name for the download: the URL's last segment when it is a safe Windows name of the right type. */
export function installerFileName(url: string, id: string, version: string, type: InstallerType): string {
  const ext = type === "msi" || type === "wix" ? ".msi" : type === "zip" ? ".zip" : ".exe";
  let name = "";
  try {
    name = decodeURIComponent(new URL(url).pathname.split("/").at(-1) ?? "");
  } catch {
    name = "";
  }
  const safe =
    /^[A-Za-z0-9][A-Za-z0-9 ._+()-]{0,120}$/.test(name) &&
    !/[. ]$/.test(name) &&
    !/^(con|prn|aux|nul|com\d|lpt\d)(\.|$)/i.test(name) &&
    name.toLowerCase().endsWith(ext);
  if (safe) return name;
  const base = `${id}-${version}`.replace(/[^A-Za-z0-9._+-]+/g, "-").replace(/^[^A-Za-z0-9]+/, "");
  return `${base.slice(0, 100)}${ext}`;
}

const MSI_OPTIONS_OK = /^[/-](q[a-z+!-]*|quiet|passive|norestart|forcerestart|promptrestart)$/i;
const MSI_LOG_OPTION = /^[/-](l[a-z*+!]*|log)$/i;
const BLOCKED_MSI_PROPERTIES = ["transforms", "patch", "msinewinstance", "adminproperties"];

/** Splits a command line into tokens at white space outside double quotes; undefined when a quote is unclosed. */
export function tokenize(line: string): string[] | undefined {
  const out: string[] = [];
  let cur = "";
  let quoted = false;
  for (const c of line) {
    if (c === '"') quoted = !quoted;
    else if (!quoted && /\s/.test(c)) {
      if (cur !== "") out.push(cur);
      cur = "";
      continue;
    }
    cur += c;
  }
  if (quoted) return undefined;
  if (cur !== "") out.push(cur);
  return out;
}

/**
 * Why msiexec switches cannot be used (winget's MsiExecArguments rules, full validation): only the UI, restart and
 * log options and PROPERTY=value pairs; TRANSFORMS, PATCH, MSINEWINSTANCE and ADMINPROPERTIES are blocked (they need
 * files or change the operation).
 */
export function msiSwitchProblem(text: string): string | undefined {
  const tokens = tokenize(text);
  if (tokens === undefined) return "Contains invalid MSI switches (an unclosed quote).";
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.startsWith("/") || t.startsWith("-")) {
      if (MSI_OPTIONS_OK.test(t)) continue;
      if (MSI_LOG_OPTION.test(t)) {
        i++; // the log file
        continue;
      }
      return `Contains invalid MSI switches: ${t} changes what msiexec does.`;
    }
    const prop = /^([A-Za-z_][A-Za-z0-9_.]*)=/.exec(t);
    if (prop === null) return `Contains invalid MSI switches: ${t} is neither an option nor PROPERTY=value.`;
    if (BLOCKED_MSI_PROPERTIES.includes(prop[1]!.toLowerCase()))
      return `Contains a blocked MSI property: ${prop[1]} (it needs a file or changes the operation).`;
  }
  return undefined;
}

/** Problems of a switch string that goes into a command (winget's full-validation checks on switches). */
function switchProblem(name: string, value: string, msi: boolean): string | undefined {
  if (/\\\\|(https?|ftp):\/\//i.test(value))
    return `InstallerSwitches.${name} contains a network address (${printable(value)}): refused, an install command must not fetch from the network.`;
  if (/<(INSTALLPATH|LOGPATH)>/i.test(value))
    return `InstallerSwitches.${name} uses winget's <INSTALLPATH>/<LOGPATH> token, which only winget fills in.`;
  if (value.includes('"') && tokenize(value) === undefined)
    return `InstallerSwitches.${name} has an unclosed double quote.`;
  if (msi) {
    const p = msiSwitchProblem(value);
    if (p !== undefined) return `InstallerSwitches.${name}: ${p}`;
  }
  return undefined;
}

/** An http(s) URL without user name or password: fit for the app's public metadata. */
function publicUrl(u: string): boolean {
  return isHttpUrl(u) && !hasCredentials(u);
}

function primaryArp(inst: WingetInstaller): ArpEntry | undefined {
  const pc = inst.productCode?.toLowerCase();
  return (
    (pc === undefined ? undefined : inst.arpEntries.find((e) => e.productCode?.toLowerCase() === pc)) ??
    inst.arpEntries[0]
  );
}

/** A ProductCode usable as an Uninstall key name: one registry path segment. */
function keyNameProblem(name: string): string | undefined {
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  if (/[\\/\u0000-\u001f\u007f]/.test(name) || name.length > 255) return "it cannot be a registry key name";
  return undefined;
}

function returnCodesFor(inst: WingetInstaller, explanations: string[]): ReturnCode[] {
  const codes = new Map<number, ReturnCode["type"]>(DEFAULT_RETURN_CODES.map((r) => [r.code, r.type]));
  const added: string[] = [];
  for (const c of inst.successCodes) {
    codes.set(normalizeReturnCode(c), "success");
    added.push(`${c} success (InstallerSuccessCodes)`);
  }
  const byResponse: Partial<Record<string, ReturnCode["type"]>> = {
    packageInUse: "retry",
    packageInUseByApplication: "retry",
    installInProgress: "retry",
    fileInUse: "retry",
    rebootRequiredToFinish: "softReboot",
    rebootInitiated: "hardReboot",
    alreadyInstalled: "success",
  };
  for (const rc of inst.expectedReturnCodes) {
    const type = byResponse[rc.response];
    if (type === undefined) continue; // a failure in winget's words is a failure in Intune's too
    codes.set(normalizeReturnCode(rc.code), type);
    added.push(`${rc.code} ${type} (${rc.response})`);
  }
  if (added.length > 0)
    explanations.push(
      `Return codes: Intune's defaults, plus ${added.join(", ")}; other ExpectedReturnCodes stay failures.`,
    );
  return [...codes].map(([code, type]) => ({ code, type }));
}

/** Builds the definition; throws (kind input) when the chosen installer cannot be installed silently or safely. */
export function toDefinition(manifest: WingetManifest, options: ToDefinitionOptions): DefinitionPlan {
  const { selection } = options;
  const inst = selection.chosen;
  const type = inst.effectiveType;
  const msiLike = type === "msi" || type === "wix";
  const scope = selection.scope;
  const explanations = [...selection.reasons];
  const refuse = (code: CodeOfKind<"input">, message: string, hint: string): never => {
    throw catalogError(code, `${manifest.id} ${manifest.version}, Installers[${inst.index}]: ${message}`, hint);
  };
  if (manifest.version.length > MAX_VERSION_LENGTH)
    refuse(
      "VersionTooLong",
      `the version is ${manifest.version.length} characters; an app definition's version is at most ${MAX_VERSION_LENGTH}.`,
      "Describe the product in a catalog entry of your own with a shorter version.",
    );

  // --- content
  const fileName = options.fileName ?? installerFileName(inst.url, manifest.id, manifest.version, inst.type);
  const nested =
    inst.type === "zip" ? inst.nestedFiles[0]?.relativeFilePath.replace(/\\/g, "/").replace(/^\.\//, "") : undefined;
  const setupFile = nested ?? fileName;
  const target = setupFile.replace(/\//g, "\\");

  // --- install command
  const declared: Switches = inst.declaredSwitches;
  let silentName: "Silent" | "SilentWithProgress" = "Silent";
  let silent = inst.switches.Silent;
  if (silent === undefined && inst.switches.SilentWithProgress !== undefined) {
    silentName = "SilentWithProgress";
    silent = inst.switches.SilentWithProgress;
    explanations.push("No Silent switch: SilentWithProgress is used (an exe without Silent).");
  }
  if (silent === undefined && !msiLike)
    refuse(
      "NoSilentSwitches",
      "Silent and SilentWithProgress switches are not specified for InstallerType exe: it cannot be installed without a user.",
      "Describe the product in a catalog entry of your own with its silent switches (docs/catalog.md).",
    );
  const custom = inst.switches.Custom;
  for (const [name, value] of [
    [silentName, msiLike && declared[silentName] === undefined ? undefined : silent],
    ["Custom", custom],
  ] as const) {
    if (value === undefined) continue;
    const p = switchProblem(name, value, msiLike);
    if (p !== undefined)
      refuse("UnsafeSwitches", p, "Describe the product in a catalog entry of your own (docs/catalog.md).");
  }
  let silentArgs: string;
  let installCommand: string;
  if (msiLike) {
    const silentPart = declared[silentName] ?? "/qn /norestart";
    const allUsers = /\bALLUSERS=/i.test(`${silentPart} ${custom ?? ""}`)
      ? undefined
      : scope === "machine"
        ? "ALLUSERS=1"
        : "ALLUSERS=2 MSIINSTALLPERUSER=1";
    silentArgs = [silentPart, allUsers, custom].filter((x) => x !== undefined && x !== "").join(" ");
    installCommand = `msiexec /i "${target}" ${silentArgs}`;
    explanations.push(
      `Install: msiexec /i with ${declared[silentName] === undefined ? "/qn /norestart (the MSI default, /quiet /norestart)" : `the manifest's ${silentName} switches`}${allUsers === undefined ? "" : `, ${allUsers} for a ${scope} install`}${custom === undefined ? "" : ", then Custom"} (winget-cli ManifestCommon.cpp GetDefaultKnownSwitches; Microsoft Learn, "ALLUSERS property").`,
    );
  } else {
    silentArgs = [silent, custom].filter((x) => x !== undefined && x !== "").join(" ");
    installCommand = `"${target}"${silentArgs === "" ? "" : ` ${silentArgs}`}`;
    explanations.push(
      declared[silentName] !== undefined
        ? `Install: the manifest's ${silentName} switches${custom === undefined ? "" : " and Custom"}.`
        : `Install: ${type}'s default silent switches (${silent}, winget-cli ManifestCommon.cpp GetDefaultKnownSwitches)${custom === undefined ? "" : " and the manifest's Custom"}.`,
    );
  }
  if (nested !== undefined)
    explanations.push(`The zip is extracted into the content folder; ${nested} inside it runs.`);

  // --- identity facts: product code and the version Windows shows
  const arp = primaryArp(inst);
  const manifestCode = inst.productCode ?? arp?.productCode;
  if (options.msi !== undefined && msiLike) {
    const declaredCode = [inst.productCode, arp?.productCode].find((c) => c !== undefined && GUID.test(c));
    if (declaredCode !== undefined && declaredCode.toUpperCase() !== options.msi.productCode.toUpperCase())
      refuse(
        "ProductCodeMismatch",
        `the downloaded MSI's ProductCode is ${options.msi.productCode}, the manifest says ${declaredCode}.`,
        "The installer at that URL is not the one the manifest describes; nothing is published. Report it to the source.",
      );
  }
  const displayVersion = arp?.displayVersion;
  let version = displayVersion ?? manifest.version;
  if (displayVersion !== undefined && displayVersion !== manifest.version)
    explanations.push(
      `Windows shows version ${displayVersion} (AppsAndFeaturesEntries.DisplayVersion), not the package version ${manifest.version}: detection uses ${displayVersion}.`,
    );
  if (options.msi !== undefined && msiLike) {
    if (!new WingetVersion(options.msi.productVersion).equals(new WingetVersion(version)))
      explanations.push(
        `The MSI's ProductVersion is ${options.msi.productVersion}, the manifest's ${version}: detection uses the MSI's.`,
      );
    version = options.msi.productVersion;
  }
  const productCode = msiLike
    ? (options.msi?.productCode ?? (manifestCode !== undefined && GUID.test(manifestCode) ? manifestCode : undefined))
    : undefined;

  // --- detection
  const files: GeneratedFile[] = [];
  const roots = scope === "user" ? USER_ROOTS : MACHINE_ROOTS;
  const scriptValues = {
    source: options.sourceLabel,
    packageId: manifest.id,
    packageVersion: manifest.version,
  };
  const locale = manifest.defaultLocale;
  const keyName = manifestCode !== undefined && keyNameProblem(manifestCode) === undefined ? manifestCode : undefined;
  const findBy = (): Record<string, string | string[]> =>
    keyName !== undefined
      ? { keyName, displayName: "", displayNameMatch: "prefix", publisher: "", registryRoots: roots }
      : {
          keyName: "",
          displayName: arp?.displayName ?? locale.packageName ?? manifest.id,
          displayNameMatch: arp?.displayName !== undefined ? "exact" : "prefix",
          publisher: arp?.publisher ?? "",
          registryRoots: roots,
        };
  let detection: DetectionRule[];
  const numeric = NUMERIC_VERSION.test(version);
  if (productCode !== undefined) {
    const code = productCode.toUpperCase();
    detection = [
      numeric
        ? { type: "msi", productCode: code, operator: "greaterThanOrEqual", value: version }
        : { type: "msi", productCode: code },
    ] as DetectionRule[];
    explanations.push(
      numeric
        ? `Detection: MSI product code ${code} with ProductVersion ≥ ${version}${options.msi ? " (read from the downloaded MSI)" : ""}.`
        : `Detection: MSI product code ${code} (the version ${version} is not numeric, so it is not compared).`,
    );
  } else if (keyName !== undefined && numeric && (scope === "user" || inst.architecture === "x86")) {
    const keyPath = `${scope === "user" ? "HKEY_CURRENT_USER" : "HKEY_LOCAL_MACHINE"}\\${UNINSTALL_KEY}\\${keyName}`;
    detection = [
      {
        type: "registry",
        keyPath,
        valueName: "DisplayVersion",
        check: "version",
        operator: "greaterThanOrEqual",
        value: version,
        check32BitOn64System: scope !== "user",
      },
    ] as DetectionRule[];
    explanations.push(
      `Detection: the Uninstall key ${keyName} (ProductCode) with DisplayVersion ≥ ${version}, ${scope === "user" ? "in the user's hive" : "in the 32-bit registry view, where an x86 installer writes it"}.`,
    );
  } else {
    detection = [{ type: "script", script: DETECTION_SCRIPT }] as DetectionRule[];
    files.push({
      path: DETECTION_SCRIPT,
      purpose: "detection script",
      text: renderTemplate(DETECT_TEMPLATE, { ...scriptValues, ...findBy(), minimumVersion: version }),
    });
    explanations.push(
      keyName !== undefined
        ? `Detection: a script reads the Uninstall key ${keyName} (ProductCode) in both registry views and compares DisplayVersion ≥ ${version} in winget's order${numeric ? " (the view an installer of this type writes is not certain)" : " (the version is not numeric)"}.`
        : `Detection: no ProductCode, so a script finds the Uninstall entry whose DisplayName ${arp?.displayName !== undefined ? `is "${arp.displayName}"` : `starts with "${locale.packageName ?? manifest.id}"`} and compares DisplayVersion ≥ ${version}.`,
    );
  }

  // The MSI's own UpgradeCode (what Windows registers) when it was read, else the manifest's.
  const fileUpgradeCode =
    options.msi?.upgradeCode !== undefined && GUID.test(options.msi.upgradeCode) ? options.msi.upgradeCode : undefined;
  const upgradeCode = msiLike ? (fileUpgradeCode ?? arp?.upgradeCode) : undefined;
  if (msiLike && fileUpgradeCode !== undefined && arp?.upgradeCode !== undefined)
    if (arp.upgradeCode.toUpperCase() !== fileUpgradeCode.toUpperCase())
      explanations.push(
        `The MSI's UpgradeCode is ${fileUpgradeCode.toUpperCase()}, the manifest says ${arp.upgradeCode}: update-only rules use the MSI's.`,
      );
  const updateOnlyPlan = (): UpdateOnlyPlan => {
    if (upgradeCode !== undefined && GUID.test(upgradeCode)) {
      const keyPath =
        scope === "user"
          ? `HKEY_CURRENT_USER\\Software\\Microsoft\\Installer\\UpgradeCodes\\${packedGuid(upgradeCode)}`
          : `HKEY_LOCAL_MACHINE\\SOFTWARE\\Classes\\Installer\\UpgradeCodes\\${packedGuid(upgradeCode)}`;
      return {
        rules: [{ type: "registry", keyPath, check: "exists", check32BitOn64System: false }] as RequirementRuleInput[],
        explanation: `Update only: the MSI UpgradeCode ${upgradeCode.toUpperCase()}${upgradeCode === fileUpgradeCode ? " (read from the downloaded MSI)" : ""} is registered (a version of the product family is installed); detection leaves devices already at ${version} alone.`,
      };
    }
    if (!msiLike && keyName !== undefined && numeric && (scope === "user" || inst.architecture === "x86")) {
      const keyPath = `${scope === "user" ? "HKEY_CURRENT_USER" : "HKEY_LOCAL_MACHINE"}\\${UNINSTALL_KEY}\\${keyName}`;
      const check32BitOn64System = scope !== "user";
      return {
        rules: [
          { type: "registry", keyPath, check: "exists", check32BitOn64System },
          {
            type: "registry",
            keyPath,
            valueName: "DisplayVersion",
            check: "version",
            operator: "lessThan",
            value: version,
            check32BitOn64System,
          },
        ] as RequirementRuleInput[],
        explanation: `Update only: the Uninstall key ${keyName} exists with DisplayVersion < ${version}.`,
      };
    }
    return {
      rules: [
        {
          type: "script",
          script: UPDATE_ONLY_SCRIPT,
          outputType: "boolean",
          operator: "equal",
          value: true,
        },
      ] as RequirementRuleInput[],
      script: {
        path: UPDATE_ONLY_SCRIPT,
        purpose: "requirement script",
        text: renderTemplate(UPDATE_ONLY_TEMPLATE, { ...scriptValues, ...findBy(), newVersion: version }),
      },
      explanation: `Update only: no Uninstall key or UpgradeCode a registry rule can read with certainty, so a script finds the product's Uninstall entry and requires DisplayVersion < ${version}.`,
    };
  };

  // --- uninstall
  let uninstallCommand: string;
  if (productCode !== undefined) {
    uninstallCommand = `msiexec /x ${productCode.toUpperCase()} /qn /norestart`;
    explanations.push("Uninstall: msiexec /x with the product code.");
  } else {
    uninstallCommand = `powershell.exe -NoProfile -ExecutionPolicy Bypass -File .\\${UNINSTALL_SCRIPT}`;
    files.push({
      path: `${CONTENT_FOLDER}/${UNINSTALL_SCRIPT}`,
      purpose: "uninstall script",
      text: renderTemplate(UNINSTALL_TEMPLATE, {
        ...scriptValues,
        ...findBy(),
        silentSwitches: UNINSTALL_SWITCHES[type] ?? "",
      }),
    });
    explanations.push(
      `Uninstall: a script finds the Uninstall entry and runs its QuietUninstallString, else its UninstallString${UNINSTALL_SWITCHES[type] ? ` with ${type}'s silent switches (${UNINSTALL_SWITCHES[type]})` : ` (${type} has no known silent uninstall switch: an entry without QuietUninstallString may need one)`}.`,
    );
  }

  // --- requirements
  const release = minimumRelease(inst.minimumOSVersion);
  explanations.push(release.explanation);
  const requirements: AppDefinitionInput["requirements"] = {
    minimumWindowsRelease: release.release,
    architectures: [selection.architecture],
  };
  if (release.build !== undefined)
    requirements.rules = [
      {
        type: "registry",
        keyPath: "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion",
        valueName: "CurrentBuildNumber",
        check: "integer",
        operator: "greaterThanOrEqual",
        value: release.build,
      },
    ];

  // --- dependencies
  const dependencies: { app: string; type: "autoInstall" }[] = [];
  for (const dep of inst.dependencies.packages) {
    if (options.inCatalog?.(dep.id) === true) {
      dependencies.push({ app: definitionIdFor(dep.id), type: "autoInstall" });
      explanations.push(
        `Dependency ${dep.id}${dep.minimumVersion ? ` ≥ ${dep.minimumVersion}` : ""} is in the catalog: installed first (definition ${definitionIdFor(dep.id)}).`,
      );
    } else explanations.push(`Dependency ${dep.id} is not in this catalog: not declared (install it another way).`);
  }
  for (const [what, list] of [
    ["Windows feature", inst.dependencies.windowsFeatures],
    ["Windows library", inst.dependencies.windowsLibraries],
    ["external dependency", inst.dependencies.external],
  ] as const)
    for (const d of list) explanations.push(`The ${what} ${d} is not declared in Intune (no Win32 app stands for it).`);

  // --- metadata
  const suffix = [
    selection.architecture === "x64" ? undefined : selection.architecture,
    scope === "user" ? "user" : undefined,
  ].filter(Boolean);
  const name = locale.packageName ?? manifest.id;
  const definition: AppDefinitionInput = {
    id: definitionIdFor(manifest.id, selection.architecture, scope),
    displayName: suffix.length > 0 ? `${name} (${suffix.join(", ")})` : name,
    publisher: locale.publisher ?? manifest.id.split(".")[0]!,
    version: manifest.version,
    description: locale.description ?? locale.shortDescription ?? name,
    content: { source: CONTENT_FOLDER, setupFile },
    install: { command: installCommand, runAs: scope === "user" ? "user" : "system" },
    uninstall: { command: uninstallCommand },
    detection,
    requirements,
    returnCodes: returnCodesFor(inst, explanations),
    notes: `From the catalog: ${options.sourceLabel.slice(0, 200)}, package ${manifest.id} ${manifest.version}.`,
  };
  const info = [locale.packageUrl, locale.publisherUrl].find((u) => u !== undefined && publicUrl(u));
  if (info !== undefined) definition.informationUrl = info;
  if (locale.privacyUrl !== undefined && publicUrl(locale.privacyUrl)) definition.privacyUrl = locale.privacyUrl;
  for (const [what, u] of [
    ["PackageUrl", locale.packageUrl],
    ["PublisherUrl", locale.publisherUrl],
    ["PrivacyUrl", locale.privacyUrl],
  ] as const)
    if (u !== undefined && !publicUrl(u))
      explanations.push(`${what} is left out: not an http(s) URL without credentials.`);
  if (locale.author !== undefined) definition.developer = locale.author;
  if (dependencies.length > 0) definition.dependencies = dependencies;
  checkDefinition(definition, manifest);

  const summary: InstallerSummary = {
    url: inst.url,
    sha256: inst.sha256,
    type: inst.type,
    architecture: inst.architecture,
    scope,
    silentArgs,
    productCode: productCode?.toUpperCase() ?? manifestCode ?? null,
    fileName,
  };
  if (inst.nestedType !== undefined) summary.nestedType = inst.nestedType;
  if (inst.locale !== undefined) summary.locale = inst.locale;
  const plan: DefinitionPlan = {
    definition,
    files,
    installer: summary,
    content: { folder: CONTENT_FOLDER, fileName },
    explanations,
    updateOnly: updateOnlyPlan(),
  };
  if (nested !== undefined) plan.content.extract = { archive: fileName, setupFile: nested };
  return plan;
}

/** The generated definition must pass the schema and Intune's limits, as a written one does. */
function checkDefinition(definition: AppDefinitionInput, manifest: WingetManifest): AppDefinition {
  const r = appDefinitionSchema.safeParse(definition);
  if (!r.success)
    throw catalogError(
      "GeneratedDefinitionInvalid",
      `The definition made from ${manifest.id} ${manifest.version} is not valid: ${z.prettifyError(r.error).replace(/\n/g, " ")}`,
      "A value in the manifest does not fit an Intune app (see the field named); describe the product in a catalog entry of your own (docs/catalog.md).",
    );
  return r.data;
}

/** An MSI GUID in the packed form of the Installer registry keys (each part's characters reversed, pairs swapped). */
export function packedGuid(guid: string): string {
  const h = guid.replace(/[{}-]/g, "").toUpperCase();
  const rev = (x: string): string => [...x].reverse().join("");
  const pairs = (x: string): string => x.replace(/(.)(.)/g, "$2$1");
  return rev(h.slice(0, 8)) + rev(h.slice(8, 12)) + rev(h.slice(12, 16)) + pairs(h.slice(16));
}
