/**
 * winget manifest files → one package version with every installer's effective fields, as winget computes them
 * (docs/catalog.md "Reading winget manifests"). Sources in winget-cli:
 * - `src/AppInstallerCommonCore/Manifest/YamlParser.cpp`: ManifestVersion from the first file (absent: 0.1.0, the
 *   preview format, one file only); a multi-file manifest has exactly one `version`, `installer` and
 *   `defaultLocale` file and any number of `locale` files, all with the same PackageIdentifier, PackageVersion and
 *   ManifestVersion; the installer and default-locale files are merged into one root.
 * - `ManifestYamlPopulator.cpp` (inheritance): an installer starts as a copy of the root's installer fields and its
 *   own fields replace them, except `InstallerSwitches`, which merge key by key (an installer's `Silent` replaces the
 *   root's `Silent`, the root's `Custom` stays). `ProductCode` and `AppsAndFeaturesEntries` are inherited only by
 *   types that use them, `PackageFamilyName` only by MSIX, `Dependencies` only when the installer has none,
 *   `NestedInstallerType`/`NestedInstallerFiles` only by zip installers. Then the type's default switches
 *   (`GetDefaultKnownSwitches`, ManifestCommon.cpp) fill the keys still missing.
 * - `ManifestValidation.cpp`: the checks on the result (duplicate installers, URL ↔ hash, nested installers,
 *   return codes, approximate versions…).
 */
import type { FieldPath } from "../../core/app-definition/errors.js";
import { ManifestError } from "../errors.js";
import type { InstallerType, ManifestVer, ReturnResponse, Scope, WingetArchitecture } from "./schema.js";
import {
  compareManifestVer,
  fieldsFor,
  formatManifestVer,
  MANIFEST_V1,
  NEWEST_KNOWN_MANIFEST,
  PREVIEW_FIELDS,
  V1_FILE_FIELDS,
} from "./schema.js";
import type { Loc, Problems, RawMap } from "./read.js";
import {
  decodeManifest,
  has,
  ints,
  locOf,
  map,
  maps,
  num,
  parseManifestYaml,
  problemAt,
  readMap,
  str,
  strs,
} from "./read.js";
import { WingetVersion } from "./version.js";

export const SWITCH_NAMES = [
  "Silent",
  "SilentWithProgress",
  "Interactive",
  "Custom",
  "Log",
  "InstallLocation",
  "Upgrade",
  "Repair",
] as const;
export type SwitchName = (typeof SWITCH_NAMES)[number];
export type Switches = Partial<Record<SwitchName, string>>;

export interface ExpectedReturnCode {
  code: number;
  response: ReturnResponse;
  url?: string;
}

export interface ArpEntry {
  displayName?: string;
  publisher?: string;
  displayVersion?: string;
  productCode?: string;
  upgradeCode?: string;
  installerType?: InstallerType;
}

export interface PackageDependency {
  id: string;
  minimumVersion?: string;
}

export interface Dependencies {
  windowsFeatures: string[];
  windowsLibraries: string[];
  packages: PackageDependency[];
  external: string[];
}

export interface NestedInstallerFile {
  relativeFilePath: string;
  portableCommandAlias?: string;
}

/** One installer with the fields it inherits from the root already applied. */
export interface WingetInstaller {
  /** Position in `Installers` (0-based) and where it is written. */
  index: number;
  loc: Loc;
  architecture: WingetArchitecture;
  /** `InstallerType` as written (zip for archives). */
  type: InstallerType;
  nestedType?: InstallerType;
  nestedFiles: NestedInstallerFile[];
  /** The nested type for a zip, else `type` (winget's EffectiveInstallerType). */
  effectiveType: InstallerType;
  url: string;
  /** 64 lowercase hex digits. */
  sha256: string;
  locale?: string;
  scope?: Scope;
  platform: string[];
  minimumOSVersion?: string;
  /** The manifest's switches (root, then the installer's key by key), before the type's defaults. */
  declaredSwitches: Switches;
  /** As winget computes them: declared, then the type's defaults for keys still missing. */
  switches: Switches;
  successCodes: number[];
  expectedReturnCodes: ExpectedReturnCode[];
  productCode?: string;
  packageFamilyName?: string;
  arpEntries: ArpEntry[];
  dependencies: Dependencies;
  upgradeBehavior?: string;
  elevationRequirement?: string;
  unsupportedOSArchitectures: string[];
  installModes: string[];
  commands: string[];
  releaseDate?: string;
  /**
   * Why this installer cannot be used, as `file:line:column: field: message` (winget's full-validation errors about
   * one installer: a bad URL, nested installer or return code list). The other installers stay usable.
   */
  issues: string[];
}

export interface WingetLocale {
  locale?: string;
  publisher?: string;
  packageName?: string;
  license?: string;
  shortDescription?: string;
  description?: string;
  publisherUrl?: string;
  packageUrl?: string;
  privacyUrl?: string;
  author?: string;
  tags: string[];
}

export interface WingetManifest {
  id: string;
  version: string;
  manifestVersion: string;
  moniker?: string;
  defaultLocale: WingetLocale;
  locales: WingetLocale[];
  installers: WingetInstaller[];
  /** The files read, in order. */
  files: string[];
  /** Problems that do not refuse the manifest, as `file:line:column: field: message`. */
  warnings: string[];
}

export interface ManifestFile {
  /** Shown in messages (a path or URL). */
  name: string;
  bytes: Uint8Array;
}

/**
 * The default switches of each type (winget-cli ManifestCommon.cpp `GetDefaultKnownSwitches`); an `exe` has none.
 * `<LOGPATH>` and `<INSTALLPATH>` are winget's tokens.
 */
export const DEFAULT_SWITCHES: Partial<Record<InstallerType, Switches>> = {
  msi: {
    Silent: "/quiet /norestart",
    SilentWithProgress: "/passive /norestart",
    Log: '/log "<LOGPATH>"',
    InstallLocation: 'TARGETDIR="<INSTALLPATH>"',
  },
  nullsoft: { Silent: "/S", SilentWithProgress: "/S", InstallLocation: "/D=<INSTALLPATH>" },
  inno: {
    Silent: "/SP- /VERYSILENT /SUPPRESSMSGBOXES /NORESTART",
    SilentWithProgress: "/SP- /SILENT /SUPPRESSMSGBOXES /NORESTART",
    Log: '/LOG="<LOGPATH>"',
    InstallLocation: '/DIR="<INSTALLPATH>"',
  },
};
DEFAULT_SWITCHES.wix = DEFAULT_SWITCHES.msi;
DEFAULT_SWITCHES.burn = DEFAULT_SWITCHES.msi;

/** winget's DoesInstallerTypeUseProductCode and DoesInstallerTypeWriteAppsAndFeaturesEntry (the same list). */
const USES_PRODUCT_CODE: ReadonlySet<InstallerType> = new Set([
  "exe",
  "inno",
  "msi",
  "nullsoft",
  "wix",
  "burn",
  "portable",
]);
const USES_FAMILY_NAME: ReadonlySet<InstallerType> = new Set(["msix", "msstore"]);

/** Size limit of one manifest file (docs/limits.md): real ones are a few KiB; the largest community ones ~100 KiB. */
export const MAX_MANIFEST_BYTES = 1024 * 1024;
/** Files of one package version (version + installer + defaultLocale + locales). */
export const MAX_MANIFEST_FILES = 200;

const MANIFEST_TYPES = ["version", "installer", "defaultLocale", "locale", "singleton", "merged", "shadow"] as const;
type ManifestType = (typeof MANIFEST_TYPES)[number];

interface ReadFile {
  name: string;
  root: RawMap;
  type: ManifestType | "preview";
}

const HINT_FILES =
  "A package version is one singleton file, or one version, one installer and one defaultLocale file plus locale files, in one folder (docs/catalog.md).";

/** Reads the files of one package version; throws ManifestError listing every problem with its position. */
export function parseManifest(files: readonly ManifestFile[]): WingetManifest {
  const problems: Problems = { errors: [], warnings: [] };
  const fail = (): never => {
    throw new ManifestError(
      files.length === 1 ? `winget manifest ${files[0]!.name}` : "winget manifest",
      sortProblems(problems.errors),
    );
  };
  if (files.length === 0)
    throw new ManifestError("winget manifest", [{ path: [], message: "No manifest file found." }], HINT_FILES);
  if (files.length > MAX_MANIFEST_FILES)
    throw new ManifestError(
      "winget manifest",
      [{ path: [], message: `${files.length} files for one version; at most ${MAX_MANIFEST_FILES} are read.` }],
      HINT_FILES,
    );
  const docs = [];
  for (const f of files) {
    if (f.bytes.byteLength > MAX_MANIFEST_BYTES) {
      problems.errors.push({
        path: [],
        file: f.name,
        message: `The manifest file is ${f.bytes.byteLength} bytes, over the limit of ${MAX_MANIFEST_BYTES} (1 MiB).`,
      });
      continue;
    }
    const yaml = parseManifestYaml(decodeManifest(f.bytes), f.name, problems);
    if (yaml) docs.push({ name: f.name, ...yaml });
  }
  if (problems.errors.length > 0) fail();

  // ManifestVersion from the first file (YamlParser.cpp ValidateInput); absent: the preview format 0.1.0.
  const first = docs[0]!;
  const mvNode = first.doc.contents && "get" in first.doc.contents ? first.doc.get("ManifestVersion", true) : undefined;
  const mvText = mvNode === undefined || mvNode === null ? "0.1.0" : String((mvNode as { value?: unknown }).value);
  const mvLoc = mvNode ? first.at((mvNode as { range?: [number] }).range?.[0] ?? 0) : first.at(0);
  const version = parseManifestVer(mvText);
  if (version === undefined) {
    problems.errors.push(
      problemAt(
        mvLoc,
        ["ManifestVersion"],
        `Failed to validate against schema associated with property name 'ManifestVersion': "${mvText}" is not three numbers (e.g. 1.12.0).`,
      ),
    );
    fail();
  }
  const mv = version!;
  if (mv[0] > 1) {
    problems.errors.push(
      problemAt(mvLoc, ["ManifestVersion"], `Unsupported ManifestVersion: ${mvText} (this tool reads 0.1.0 to 1.x).`),
    );
    fail();
  }
  const preview = compareManifestVer(mv, MANIFEST_V1) < 0;
  const newer = compareManifestVer(mv, NEWEST_KNOWN_MANIFEST) > 0;
  if (newer)
    problems.warnings.push(
      problemAt(
        mvLoc,
        ["ManifestVersion"],
        `ManifestVersion ${mvText} is newer than the newest this tool knows (${formatManifestVer(NEWEST_KNOWN_MANIFEST)}): fields it does not know are ignored.`,
      ),
    );
  if (preview && docs.length > 1) {
    problems.errors.push({ path: [], message: "Preview manifest does not support multi file manifest format." });
    fail();
  }

  const read: ReadFile[] = [];
  for (const d of docs) {
    const ctx = { file: d.name, doc: d.doc, at: d.at, version: mv, newer, problems, aliases: { count: 0 } };
    if (preview) {
      const root = readMap(d.doc.contents, PREVIEW_FIELDS, ctx, [], "the manifest");
      if (root) read.push({ name: d.name, root, type: "preview" });
      continue;
    }
    const typeText = typeOf(d.doc);
    const type = MANIFEST_TYPES.find((t) => t.toLowerCase() === typeText?.toLowerCase());
    if (type === undefined) {
      problems.errors.push(
        problemAt(
          d.at(0),
          ["ManifestType"],
          typeText === undefined
            ? "Missing required property 'ManifestType' (version, installer, defaultLocale, locale or singleton)."
            : `Invalid field value. [ManifestType] Value: ${typeText} (version, installer, defaultLocale, locale or singleton).`,
        ),
      );
      continue;
    }
    if (type === "shadow") {
      problems.errors.push(
        problemAt(
          d.at(0),
          ["ManifestType"],
          `Shadow manifest is not allowed. [ManifestType] Value: shadow File: ${d.name}`,
        ),
      );
      continue;
    }
    const table = type === "merged" ? V1_FILE_FIELDS.singleton : V1_FILE_FIELDS[type];
    const root = readMap(d.doc.contents, fieldsFor(table, NEWEST_KNOWN_MANIFEST), ctx, [], `a ${type} manifest`);
    if (root) read.push({ name: d.name, root, type });
  }
  if (problems.errors.length > 0) fail();

  const merged = preview ? read[0]!.root : mergeFiles(read, mvText, problems);
  if (merged === undefined || problems.errors.length > 0) fail();
  const manifest = buildManifest(merged!, read, preview, mvText, problems);
  if (problems.errors.length > 0) fail();
  manifest.warnings = sortProblems(problems.warnings).map(formatWarning);
  return manifest;
}

function formatWarning(p: { file?: string; line?: number; column?: number; path: FieldPath; message: string }): string {
  const where =
    p.file === undefined ? "" : p.line === undefined ? `${p.file}: ` : `${p.file}:${p.line}:${p.column ?? 1}: `;
  return `${where}${p.message}`;
}

function sortProblems<T extends { file?: string; line?: number; column?: number }>(ps: T[]): T[] {
  return [...ps].sort(
    (a, b) =>
      (a.file ?? "").localeCompare(b.file ?? "") || (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0),
  );
}

function typeOf(doc: { contents: unknown; get(key: string): unknown }): string | undefined {
  const v =
    doc.contents !== null && typeof doc.contents === "object" && "items" in doc.contents
      ? doc.get("ManifestType")
      : undefined;
  return typeof v === "string" ? v : undefined;
}

/** `1.12.0`, `0.2.0-msstore` (ManifestVer: three numbers up to 65535, extensions after `-`). */
export function parseManifestVer(text: string): ManifestVer | undefined {
  const m = /^(\d{1,5})\.(\d{1,5})\.(\d{1,5})((-[A-Za-z][A-Za-z0-9]*)*)$/.exec(text.trim());
  if (m === null) return undefined;
  const parts = [Number(m[1]), Number(m[2]), Number(m[3])] as const;
  if (parts.some((n) => n > 65535)) return undefined;
  // The only extension winget knows is msstore (preview manifests of the Microsoft Store source).
  if (m[4] !== "" && !/^(-msstore)+$/i.test(m[4]!)) return undefined;
  return parts;
}

/** The multi-file checks of YamlParser.cpp, then the installer and default-locale roots merged. */
function mergeFiles(files: ReadFile[], mvText: string, problems: Problems): RawMap | undefined {
  const err = (f: ReadFile, field: string, message: string) =>
    problems.errors.push(problemAt(locOf(f.root, field), [field], message));
  if (files.length === 1) {
    const f = files[0]!;
    if (f.type !== "singleton" && f.type !== "merged") {
      err(f, "ManifestType", `The multi file manifest is incomplete: ${f.name} is a ${f.type} file. ${HINT_FILES}`);
      return undefined;
    }
    return f.root;
  }
  const firstId = str(files[0]!.root, "PackageIdentifier");
  const firstVersion = str(files[0]!.root, "PackageVersion");
  const byType = new Map<string, ReadFile[]>();
  const localesSeen = new Set<string>();
  for (const f of files) {
    if (str(f.root, "PackageIdentifier") !== firstId)
      err(
        f,
        "PackageIdentifier",
        `The multi file manifest has inconsistent field values. [PackageIdentifier] Value: ${str(f.root, "PackageIdentifier") ?? "(none)"} (${files[0]!.name} has ${firstId ?? "none"}).`,
      );
    if (str(f.root, "PackageVersion") !== firstVersion)
      err(
        f,
        "PackageVersion",
        `The multi file manifest has inconsistent field values. [PackageVersion] Value: ${str(f.root, "PackageVersion") ?? "(none)"} (${files[0]!.name} has ${firstVersion ?? "none"}).`,
      );
    if (str(f.root, "ManifestVersion") !== mvText)
      err(
        f,
        "ManifestVersion",
        `The multi file manifest has inconsistent field values. [ManifestVersion] Value: ${str(f.root, "ManifestVersion") ?? "(none)"} (${files[0]!.name} has ${mvText}).`,
      );
    if (f.type === "singleton" || f.type === "merged") {
      err(
        f,
        "ManifestType",
        `The multi file manifest should not contain file with the particular ManifestType. [ManifestType] Value: ${f.type}`,
      );
      continue;
    }
    byType.set(f.type, [...(byType.get(f.type) ?? []), f]);
    if (f.type === "defaultLocale" || f.type === "locale") {
      const loc = str(f.root, "PackageLocale")?.toLowerCase();
      if (loc !== undefined && localesSeen.has(loc))
        err(
          f,
          "PackageLocale",
          `The multi file manifest contains duplicate PackageLocale. [PackageLocale] Value: ${str(f.root, "PackageLocale")}`,
        );
      if (loc !== undefined) localesSeen.add(loc);
    }
  }
  for (const t of ["version", "installer", "defaultLocale"] as const) {
    const list = byType.get(t) ?? [];
    if (list.length === 0)
      problems.errors.push({ path: [], message: `The multi file manifest is incomplete: no ${t} file. ${HINT_FILES}` });
    for (const extra of list.slice(1))
      err(
        extra,
        "ManifestType",
        `The multi file manifest should contain only one file with the particular ManifestType. [ManifestType] Value: ${t}`,
      );
  }
  const versionFile = byType.get("version")?.[0];
  const defaultLocaleFile = byType.get("defaultLocale")?.[0];
  const installerFile = byType.get("installer")?.[0];
  if (versionFile && defaultLocaleFile) {
    const declared = str(versionFile.root, "DefaultLocale");
    const actual = str(defaultLocaleFile.root, "PackageLocale");
    if (declared === undefined) err(versionFile, "DefaultLocale", "Missing required property 'DefaultLocale'.");
    else if (actual !== declared)
      err(
        defaultLocaleFile,
        "PackageLocale",
        `DefaultLocale value in version manifest does not match PackageLocale value in defaultLocale manifest (${declared} and ${actual ?? "none"}).`,
      );
  }
  if (!installerFile || !defaultLocaleFile || problems.errors.length > 0) return undefined;
  // The merged root: the installer file's fields, then the default locale's (YamlParser.cpp MergeMultiFileManifest).
  const root: RawMap = { loc: installerFile.root.loc, path: [], fields: new Map(installerFile.root.fields) };
  for (const [k, v] of defaultLocaleFile.root.fields) {
    if (["PackageIdentifier", "PackageVersion", "ManifestType", "ManifestVersion"].includes(k)) continue;
    if (root.fields.has(k)) {
      problems.errors.push(
        problemAt(v.keyLoc, [k], `Duplicate field found in the manifest: ${k} is also in ${installerFile.name}.`),
      );
      continue;
    }
    root.fields.set(k, v);
  }
  const locales = (byType.get("locale") ?? []).map((f) => f.root);
  if (locales.length > 0)
    root.fields.set("Localization", { keyLoc: locales[0]!.loc, loc: locales[0]!.loc, value: locales });
  return root;
}

function localeOf(m: RawMap): WingetLocale {
  const out: WingetLocale = { tags: strs(m, "Tags") ?? [] };
  const set = <K extends keyof WingetLocale>(k: K, name: string) => {
    const v = str(m, name);
    if (v !== undefined) (out as unknown as Record<string, unknown>)[k] = v.trim();
  };
  set("locale", "PackageLocale");
  set("publisher", "Publisher");
  set("packageName", "PackageName");
  set("license", "License");
  set("shortDescription", "ShortDescription");
  set("description", "Description");
  set("publisherUrl", "PublisherUrl");
  set("packageUrl", "PackageUrl");
  set("privacyUrl", "PrivacyUrl");
  set("author", "Author");
  return out;
}

function switchesOf(m: RawMap | undefined): Switches {
  const out: Switches = {};
  for (const n of SWITCH_NAMES) {
    const v = str(m, n);
    if (v !== undefined) out[n] = v;
  }
  return out;
}

function dependenciesOf(m: RawMap | undefined): Dependencies {
  return {
    windowsFeatures: strs(m, "WindowsFeatures") ?? [],
    windowsLibraries: strs(m, "WindowsLibraries") ?? [],
    packages: (maps(m, "PackageDependencies") ?? []).flatMap((p) => {
      const id = str(p, "PackageIdentifier");
      if (id === undefined) return [];
      const min = str(p, "MinimumVersion");
      return [min === undefined ? { id } : { id, minimumVersion: min }];
    }),
    external: strs(m, "ExternalDependencies") ?? [],
  };
}

function hasDependencies(d: Dependencies): boolean {
  return d.windowsFeatures.length + d.windowsLibraries.length + d.packages.length + d.external.length > 0;
}

function arpEntriesOf(list: RawMap[] | undefined): ArpEntry[] {
  return (list ?? []).map((m) => {
    const e: ArpEntry = {};
    const dn = str(m, "DisplayName");
    if (dn !== undefined) e.displayName = dn.trim();
    const p = str(m, "Publisher");
    if (p !== undefined) e.publisher = p.trim();
    const dv = str(m, "DisplayVersion");
    if (dv !== undefined) e.displayVersion = dv.trim();
    const pc = str(m, "ProductCode");
    if (pc !== undefined) e.productCode = pc.trim();
    const uc = str(m, "UpgradeCode");
    if (uc !== undefined) e.upgradeCode = uc.trim();
    const t = str(m, "InstallerType");
    if (t !== undefined) e.installerType = t as InstallerType;
    return e;
  });
}

function returnCodesOf(list: RawMap[] | undefined): ExpectedReturnCode[] {
  return (list ?? []).flatMap((m) => {
    const code = num(m, "InstallerReturnCode");
    const response = str(m, "ReturnResponse") as ReturnResponse | undefined;
    if (code === undefined || response === undefined) return [];
    const url = str(m, "ReturnResponseUrl");
    return [url === undefined ? { code, response } : { code, response, url }];
  });
}

/** A URL with a user name or password in it (never repeated in messages). */
export function hasCredentials(s: string): boolean {
  if (!URL.canParse(s)) return /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(s);
  const u = new URL(s);
  return u.username !== "" || u.password !== "";
}

export function isHttpUrl(s: string): boolean {
  return /^https?:\/\/\S+$/i.test(s) && URL.canParse(s);
}

/** `..`, absolute paths and drive letters leave the folder (winget's PathEscapesBaseDirectory). */
export function escapesBase(path: string): boolean {
  const p = path.replace(/\\/g, "/");
  if (p.startsWith("/") || /^[A-Za-z]:/.test(p)) return true;
  let depth = 0;
  for (const seg of p.split("/")) {
    if (seg === "..") depth--;
    else if (seg !== "" && seg !== ".") depth++;
    if (depth < 0) return true;
  }
  return false;
}

/** Return codes as the 32-bit values Windows reports (0x80070005 and -2147024891 are one code). */
export function normalizeReturnCode(code: number): number {
  return code > 0x7fffffff ? code - 2 ** 32 : code;
}

function buildManifest(
  root: RawMap,
  files: ReadFile[],
  preview: boolean,
  mvText: string,
  problems: Problems,
): WingetManifest {
  const err = (m: RawMap, field: string | undefined, path: FieldPath, message: string) =>
    problems.errors.push(problemAt(locOf(m, field), path, message));
  const warn = (m: RawMap, field: string | undefined, path: FieldPath, message: string) =>
    problems.warnings.push(problemAt(locOf(m, field), path, message));
  const name = (v1: string, pre: string) => (preview ? pre : v1);

  // Required fields (the JSON schemas' `required`; winget checks them only in full validation). A null value counts
  // as missing. Those we use refuse the manifest; the others only warn.
  const required: [string, string, boolean][] = preview
    ? [
        ["PackageIdentifier", "Id", true],
        ["PackageName", "Name", true],
        ["PackageVersion", "Version", true],
        ["Publisher", "Publisher", true],
        ["License", "License", false],
        ["Installers", "Installers", true],
      ]
    : [
        ["PackageIdentifier", "PackageIdentifier", true],
        ["PackageVersion", "PackageVersion", true],
        ["PackageLocale", "PackageLocale", false],
        ["Publisher", "Publisher", true],
        ["PackageName", "PackageName", true],
        ["License", "License", false],
        ["ShortDescription", "ShortDescription", false],
        ["Installers", "Installers", true],
      ];
  for (const [field, written, used] of required)
    if (!has(root, field)) (used ? err : warn)(root, undefined, [written], `Missing required property '${written}'.`);

  if (has(root, "Channel"))
    warn(root, "Channel", ["Channel"], "Field is not supported. [Channel]: ignored (winget ignores channels too).");

  const id = str(root, "PackageIdentifier") ?? "";
  const version = str(root, "PackageVersion")?.trim() ?? "";
  if (version !== "" && new WingetVersion(version).isApproximate())
    err(
      root,
      "PackageVersion",
      [name("PackageVersion", "Version")],
      `Approximate version not allowed. [PackageVersion] Value: ${version}`,
    );

  const defaults = {
    switches: switchesOf(map(root, "InstallerSwitches")),
    dependencies: dependenciesOf(map(root, "Dependencies")),
    arp: arpEntriesOf(maps(root, "AppsAndFeaturesEntries")),
    nestedFiles: maps(root, "NestedInstallerFiles"),
  };

  const installers: WingetInstaller[] = [];
  (maps(root, "Installers") ?? []).forEach((m, index) => {
    const at = (field: string): FieldPath => ["Installers", index, field];
    const get = (field: string) => (has(m, field) ? m : root);
    const text = (field: string) => str(get(field), field);
    const arch = str(m, "Architecture") as WingetArchitecture | undefined;
    if (arch === undefined)
      err(
        m,
        undefined,
        at(name("Architecture", "Arch")),
        `Missing required property '${name("Architecture", "Arch")}'.`,
      );
    const type = text("InstallerType") as InstallerType | undefined;
    if (type === undefined)
      err(
        m,
        undefined,
        at("InstallerType"),
        "Invalid field value. [InstallerType] is required, at the root or in the installer.",
      );
    const url = str(m, "InstallerUrl");
    const sha = str(m, "InstallerSha256");
    if (arch === undefined || type === undefined) return;

    // Zip installers inherit the root's nested installer fields; other types never do.
    let nestedType: InstallerType | undefined;
    let nestedFilesRaw: RawMap[] | undefined;
    if (type === "zip") {
      nestedType = text("NestedInstallerType") as InstallerType | undefined;
      nestedFilesRaw = maps(m, "NestedInstallerFiles") ?? defaults.nestedFiles;
    }
    const effectiveType = type === "zip" && nestedType !== undefined ? nestedType : type;
    const own = switchesOf(map(m, "InstallerSwitches"));
    const declaredSwitches: Switches = { ...defaults.switches, ...own };
    const switches: Switches = { ...DEFAULT_SWITCHES[effectiveType], ...declaredSwitches };
    const ownArp = arpEntriesOf(maps(m, "AppsAndFeaturesEntries"));
    const arpEntries = ownArp.length > 0 ? ownArp : USES_PRODUCT_CODE.has(effectiveType) ? defaults.arp : [];
    const ownDeps = dependenciesOf(map(m, "Dependencies"));
    const productCode =
      str(m, "ProductCode") ?? (USES_PRODUCT_CODE.has(effectiveType) ? str(root, "ProductCode") : undefined);
    const pfn =
      str(m, "PackageFamilyName") ??
      (USES_FAMILY_NAME.has(effectiveType) ||
      arpEntries.some((e) => e.installerType !== undefined && USES_FAMILY_NAME.has(e.installerType))
        ? str(root, "PackageFamilyName")
        : undefined);
    const inst: WingetInstaller = {
      index,
      loc: m.loc,
      architecture: arch,
      type,
      nestedFiles: (nestedFilesRaw ?? []).map((f) => {
        const rel = str(f, "RelativeFilePath") ?? "";
        const alias = str(f, "PortableCommandAlias");
        return alias === undefined
          ? { relativeFilePath: rel.trim() }
          : { relativeFilePath: rel.trim(), portableCommandAlias: alias.trim() };
      }),
      effectiveType,
      url: url ?? "",
      sha256: (sha ?? "").toLowerCase(),
      platform: strs(get("Platform"), "Platform") ?? [],
      declaredSwitches,
      switches,
      successCodes: ints(get("InstallerSuccessCodes"), "InstallerSuccessCodes") ?? [],
      expectedReturnCodes: returnCodesOf(maps(get("ExpectedReturnCodes"), "ExpectedReturnCodes")),
      arpEntries,
      dependencies: hasDependencies(ownDeps) ? ownDeps : defaults.dependencies,
      unsupportedOSArchitectures: strs(get("UnsupportedOSArchitectures"), "UnsupportedOSArchitectures") ?? [],
      installModes: strs(get("InstallModes"), "InstallModes") ?? [],
      commands: strs(get("Commands"), "Commands") ?? [],
      issues: [],
    };
    if (nestedType !== undefined) inst.nestedType = nestedType;
    const optional: [keyof WingetInstaller, string][] = [
      ["locale", "InstallerLocale"],
      ["scope", "Scope"],
      ["minimumOSVersion", "MinimumOSVersion"],
      ["upgradeBehavior", "UpgradeBehavior"],
      ["elevationRequirement", "ElevationRequirement"],
      ["releaseDate", "ReleaseDate"],
    ];
    for (const [key, field] of optional) {
      // Preview manifests have no root Scope: only the installer's counts there (the table has none at the root).
      const v = text(field);
      if (v !== undefined) (inst as unknown as Record<string, unknown>)[key] = v.trim();
    }
    if (productCode !== undefined) inst.productCode = productCode.trim();
    if (pfn !== undefined) inst.packageFamilyName = pfn;
    const issue: Report = (at, field, path, message) =>
      inst.issues.push(formatWarning(problemAt(locOf(at, field), path, message)));
    validateInstaller(inst, m, index, preview, issue, warn);
    installers.push(inst);
  });

  // Duplicate installers: {type (nested type for zip), architecture, locale, scope}; an absent scope matches any.
  for (let i = 0; i < installers.length; i++) {
    const a = installers[i]!;
    const dup = installers
      .slice(0, i)
      .find(
        (b) =>
          b.type === a.type &&
          (a.type !== "zip" || b.nestedType === a.nestedType) &&
          b.architecture === a.architecture &&
          (b.locale ?? "") === (a.locale ?? "") &&
          (a.scope === undefined || b.scope === undefined || a.scope === b.scope),
      );
    if (dup !== undefined)
      problems.errors.push(
        problemAt(
          a.loc,
          ["Installers", i],
          `Duplicate installer entry found: Installers[${dup.index}] has the same type (${a.effectiveType}), architecture (${a.architecture}), locale (${a.locale ?? "none"}) and scope (${a.scope ?? dup.scope ?? "none"}).`,
        ),
      );
  }
  // One URL, one hash (an error); one hash for several URLs is only a warning (PuTTY's zip and msi share theirs).
  const hashOfUrl = new Map<string, WingetInstaller>();
  for (const inst of installers) {
    if (inst.url === "" || inst.sha256 === "") continue;
    const prev = hashOfUrl.get(inst.url);
    if (prev !== undefined && prev.sha256 !== inst.sha256)
      problems.errors.push(
        problemAt(
          inst.loc,
          ["Installers", inst.index, "InstallerSha256"],
          `The values of InstallerSha256 do not match for all instances of the same InstallerUrl (Installers[${prev.index}] has another hash for ${inst.url}).`,
        ),
      );
    else hashOfUrl.set(inst.url, inst);
  }

  const defaultLocale = localeOf(root);
  const locales = (maps(root, "Localization") ?? []).map(localeOf);
  const out: WingetManifest = {
    id: id.trim(),
    version,
    manifestVersion: mvText,
    defaultLocale,
    locales,
    installers,
    files: files.map((f) => f.name),
    warnings: [],
  };
  const moniker = str(root, "Moniker");
  if (moniker !== undefined) out.moniker = moniker.trim();
  return out;
}

type Report = (m: RawMap, field: string | undefined, path: FieldPath, message: string) => void;

/** The checks of ManifestValidation.cpp that concern one installer: each makes that installer unusable (`err`). */
function validateInstaller(
  inst: WingetInstaller,
  m: RawMap,
  index: number,
  preview: boolean,
  err: Report,
  warn: Report,
): void {
  const at = (field: string): FieldPath => ["Installers", index, field];
  const t = inst.effectiveType;
  // Every type but msstore is downloaded: it needs its URL and hash.
  if (inst.type !== "msstore") {
    if (inst.url === "")
      err(m, undefined, at(preview ? "Url" : "InstallerUrl"), "Required field missing. [InstallerUrl]");
    else if (hasCredentials(inst.url))
      err(
        m,
        "InstallerUrl",
        at(preview ? "Url" : "InstallerUrl"),
        "Invalid field value. [InstallerUrl] carries a user name or password: refused (it would reach logs and definitions).",
      );
    else if (!isHttpUrl(inst.url))
      err(
        m,
        "InstallerUrl",
        at(preview ? "Url" : "InstallerUrl"),
        `Invalid field value. [InstallerUrl] Value: ${inst.url} is not an http(s) URL.`,
      );
    if (inst.sha256 === "")
      err(m, undefined, at(preview ? "Sha256" : "InstallerSha256"), "Required field missing. [InstallerSha256]");
  }
  if (inst.productCode !== undefined && !USES_PRODUCT_CODE.has(t))
    err(
      m,
      "ProductCode",
      at("ProductCode"),
      `The specified installer type does not support ProductCode. [InstallerType] Value: ${t}`,
    );
  if (inst.arpEntries.length > 0 && !USES_PRODUCT_CODE.has(t))
    err(
      m,
      "AppsAndFeaturesEntries",
      at("AppsAndFeaturesEntries"),
      `The specified installer type does not write to Apps and Features entry. [InstallerType] Value: ${t}`,
    );
  if (inst.packageFamilyName !== undefined && !USES_FAMILY_NAME.has(t))
    warn(
      m,
      "PackageFamilyName",
      at("PackageFamilyName"),
      `The specified installer type does not support PackageFamilyName. [InstallerType] Value: ${t}`,
    );
  if (
    t === "exe" &&
    (inst.declaredSwitches.Silent === undefined || inst.declaredSwitches.SilentWithProgress === undefined)
  )
    warn(
      m,
      "InstallerSwitches",
      at(preview ? "Switches" : "InstallerSwitches"),
      "Silent and SilentWithProgress switches are not specified for InstallerType exe.",
    );
  for (const e of inst.arpEntries)
    if (e.displayVersion !== undefined && new WingetVersion(e.displayVersion).isApproximate())
      err(
        m,
        "AppsAndFeaturesEntries",
        at("AppsAndFeaturesEntries"),
        `Approximate version not allowed. [DisplayVersion] Value: ${e.displayVersion}`,
      );
  // Return codes: a code is either a success code or an expected (failure) code, once.
  const seen = new Set(inst.successCodes.map(normalizeReturnCode));
  for (const rc of inst.expectedReturnCodes) {
    const c = normalizeReturnCode(rc.code);
    if (seen.has(c)) {
      err(
        m,
        has(m, "ExpectedReturnCodes") ? "ExpectedReturnCodes" : "InstallerSuccessCodes",
        at("ExpectedReturnCodes"),
        `Duplicate installer return code found: ${rc.code} is listed twice (InstallerSuccessCodes and ExpectedReturnCodes).`,
      );
      break;
    }
    seen.add(c);
  }
  if (inst.type === "portable" || t === "portable") {
    if (inst.type === "portable" && inst.commands.length > 1)
      err(
        m,
        "Commands",
        at("Commands"),
        "Only zero or one value for Commands may be specified for InstallerType portable.",
      );
    if (inst.type === "portable" && inst.commands[0] !== undefined && escapesBase(inst.commands[0]))
      err(
        m,
        "Commands",
        at("Commands"),
        "Portable command alias must not point to a location outside of base directory.",
      );
    if (inst.arpEntries.length > 1)
      err(
        m,
        "AppsAndFeaturesEntries",
        at("AppsAndFeaturesEntries"),
        "Only zero or one entry for Apps and Features may be specified for InstallerType portable.",
      );
    if (inst.scope !== undefined) warn(m, "Scope", at("Scope"), "Scope is not supported for InstallerType portable.");
  }
  if (inst.type === "zip") {
    if (inst.nestedType === undefined)
      err(m, undefined, at("NestedInstallerType"), "Required field missing. [NestedInstallerType]");
    if (inst.nestedFiles.length === 0)
      err(m, undefined, at("NestedInstallerFiles"), "Required field missing. [NestedInstallerFiles]");
    const multiple = inst.nestedType === "portable" || inst.nestedType === "font";
    if (!multiple && inst.nestedFiles.length > 1)
      err(
        m,
        "NestedInstallerFiles",
        at("NestedInstallerFiles"),
        "Only one entry for NestedInstallerFiles can be specified for non-portable InstallerTypes.",
      );
    const paths = new Set<string>();
    const aliases = new Set<string>();
    inst.nestedFiles.forEach((f, i) => {
      const where: FieldPath = ["Installers", index, "NestedInstallerFiles", i, "RelativeFilePath"];
      if (f.relativeFilePath === "")
        return void err(m, "NestedInstallerFiles", where, "Required field missing. [RelativeFilePath]");
      if (escapesBase(f.relativeFilePath))
        err(
          m,
          "NestedInstallerFiles",
          where,
          `Relative file path must not point to a location outside of archive directory: ${f.relativeFilePath}`,
        );
      if (paths.has(f.relativeFilePath.toLowerCase()))
        err(m, "NestedInstallerFiles", where, `Duplicate relative file path found: ${f.relativeFilePath}`);
      paths.add(f.relativeFilePath.toLowerCase());
      if (inst.nestedType === "portable") {
        const ext = /\.[^./\\]+$/.exec(f.relativeFilePath)?.[0].toLowerCase();
        if (ext !== undefined && ext !== ".exe")
          err(
            m,
            "NestedInstallerFiles",
            where,
            `The file type of the referenced file is not allowed. [RelativeFilePath] Value: ${f.relativeFilePath}`,
          );
      }
      if (f.portableCommandAlias !== undefined) {
        const aliasAt: FieldPath = ["Installers", index, "NestedInstallerFiles", i, "PortableCommandAlias"];
        if (escapesBase(f.portableCommandAlias))
          err(
            m,
            "NestedInstallerFiles",
            aliasAt,
            "Portable command alias must not point to a location outside of base directory.",
          );
        if (aliases.has(f.portableCommandAlias.toLowerCase()))
          err(m, "NestedInstallerFiles", aliasAt, `Duplicate portable command alias found: ${f.portableCommandAlias}`);
        aliases.add(f.portableCommandAlias.toLowerCase());
      }
    });
  }
}
