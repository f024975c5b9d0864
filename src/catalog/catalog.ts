/**
 * The catalog's use cases, so each command is a thin shell over one call (docs/catalog.md):
 * - `openCatalogSource`: `--source` (a configured name, a folder, an HTTPS base URL) → a source;
 * - `searchCatalog`: search the sources' indexes;
 * - `showProduct`: a product → the installer chosen (and those skipped, with why) and the app definition it
 *   becomes, with every decision explained. It reads manifests and feeds only: it never downloads an installer
 *   (the MSI's own facts, once downloaded, can be passed in and are checked against the manifest).
 */
import { stat } from "node:fs/promises";
import { dirname, isAbsolute, resolve } from "node:path";
import type { AppDefinitionInput } from "../core/app-definition/schema.js";
import type { CatalogConfig, CatalogSourceConfig } from "../core/config/catalog.js";
import { DEFAULT_CATALOG_SOURCE, DEFAULT_CATALOG_SOURCES } from "../core/config/catalog.js";
import { EntriesSource, entryToManifest } from "./entries/source.js";
import { catalogError } from "./errors.js";
import type { CatalogHttp } from "./http.js";
import type { SearchHit } from "./search.js";
import { INDEX_LIMITS } from "./search.js";
import type { SelectOptions, SkippedInstaller } from "./select.js";
import { selectInstaller } from "./select.js";
import type { WingetSource } from "./sources/source.js";
import { WingetFolderSource } from "./sources/winget-folder.js";
import { WingetHttpsSource } from "./sources/winget-https.js";
import type { GeneratedFile, InstallerSummary, MsiFacts, UpdateOnlyPlan } from "./to-definition.js";
import { toDefinition } from "./to-definition.js";
import { assertPackageId, assertPackageVersion } from "./winget/layout.js";
import type { WingetManifest } from "./winget/manifest.js";

export type CatalogSource = WingetSource | EntriesSource;

export interface OpenSourceOptions {
  /** The `catalog` part of the configuration file, if any. */
  config?: CatalogConfig | undefined;
  /** The configuration file (relative source paths are relative to its folder). */
  configFile?: string | undefined;
  http: CatalogHttp;
  /** Base of a relative folder given on the command line; default process.cwd(). */
  cwd?: string;
  /** An HTTPS source's index is kept there with its ETag / Last-Modified and asked for conditionally (sync). */
  indexCacheDir?: string;
}

/** Resolves `--source`: a configured source name, an https:// base URL, or a folder (winget layout or entries). */
export async function openCatalogSource(spec: string | undefined, options: OpenSourceOptions): Promise<CatalogSource> {
  const configured = { ...DEFAULT_CATALOG_SOURCES, ...options.config?.sources };
  const name = spec ?? options.config?.defaultSource ?? DEFAULT_CATALOG_SOURCE;
  const base = options.configFile === undefined ? (options.cwd ?? process.cwd()) : dirname(options.configFile);
  const byName = configured[name];
  if (byName !== undefined) return fromConfig(name, byName, base, options.http, options.indexCacheDir);
  if (spec === undefined)
    throw catalogError(
      "UnknownCatalogSource",
      `The default catalog source "${name}" is not configured.`,
      `Add it under catalog.sources in the configuration file, or set catalog.defaultSource to one of: ${Object.keys(configured).join(", ")}.`,
    );
  if (/^https:\/\//i.test(spec)) return new WingetHttpsSource(spec, options.http, undefined, options.indexCacheDir);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(spec))
    throw catalogError(
      "InsecureUrl",
      `The catalog source ${spec.replace(/\/\/[^/@]*@/, "//…@")} is not an https:// URL: refused.`,
      "Give an https:// base URL, a folder, or a configured source name.",
    );
  const folder = resolve(options.cwd ?? process.cwd(), spec);
  const s = await stat(folder).catch(() => undefined);
  if (s?.isDirectory() !== true)
    throw catalogError(
      "UnknownCatalogSource",
      `"${spec}" is neither a configured catalog source (${Object.keys(configured).join(", ")}), an https:// URL nor a folder.`,
      "Give a configured source name, a folder in the winget-pkgs layout or of catalog entries, or an https:// base URL (docs/catalog.md).",
    );
  const hasManifests = (await stat(resolve(folder, "manifests")).catch(() => undefined))?.isDirectory() === true;
  return hasManifests || /(^|[\\/])manifests[\\/]?$/.test(folder)
    ? WingetFolderSource.open(folder)
    : EntriesSource.open(folder, options.http);
}

async function fromConfig(
  name: string,
  c: CatalogSourceConfig,
  base: string,
  http: CatalogHttp,
  indexCacheDir: string | undefined,
): Promise<CatalogSource> {
  const path = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  if (c.type === "entries") return EntriesSource.open(path(c.path), http);
  if (c.url !== undefined) return new WingetHttpsSource(c.url, http, c.indexUrl, indexCacheDir);
  if (c.path !== undefined) return WingetFolderSource.open(path(c.path));
  throw catalogError(
    "InvalidCatalogConfig",
    `The catalog source ${name} has neither url nor path.`,
    "See docs/catalog.md.",
  );
}

export interface CatalogSearchHit extends SearchHit {
  /** The label of the source the hit comes from. */
  source: string;
}

/** Searches every source; hits ranked as search.ts ranks them, then by source order. */
export async function searchCatalog(
  sources: readonly CatalogSource[],
  text: string,
  limit: number = INDEX_LIMITS.defaultResults,
): Promise<CatalogSearchHit[]> {
  const all: CatalogSearchHit[] = [];
  for (const s of sources)
    for (const hit of (await s.index()).search(text, limit)) all.push({ ...hit, source: s.label });
  return all.sort((a, b) => a.rank - b.rank).slice(0, limit);
}

export interface ShowOptions extends SelectOptions {
  /** A version the source has; default the newest (winget's order). */
  version?: string;
  /** The downloaded MSI's ProductCode and ProductVersion, checked against the manifest. */
  msi?: MsiFacts;
}

/** The JSON of `catalog show`: the fields the issue fixes, then the explanation. */
export interface ShowResult {
  id: string;
  /** null until the download of a fixed-URL product gives its version. */
  version: string | null;
  source: string;
  installer: Omit<InstallerSummary, "sha256"> & { sha256: string | null };
  skipped: SkippedInstaller[];
  /** The app definition (input form, as a YAML file holds it); null when `pending` says why. */
  definition: AppDefinitionInput | null;
  /** Scripts the definition names, relative to the definition file. */
  files: GeneratedFile[];
  content: { folder: string; fileName: string; extract?: { archive: string; setupFile: string } };
  explanations: string[];
  warnings: string[];
  pending?: string;
  /** The requirement rules (and script) of update-only mode (sync; docs/sync.md). */
  updateOnly: UpdateOnlyPlan;
}

export async function showProduct(source: CatalogSource, id: string, options: ShowOptions = {}): Promise<ShowResult> {
  assertPackageId(id);
  if (options.version !== undefined) assertPackageVersion(options.version);
  return source.kind === "winget" ? showWinget(source, id, options) : showEntry(source, id, options);
}

async function showWinget(source: WingetSource, id: string, options: ShowOptions): Promise<ShowResult> {
  const versions = await source.versions(id);
  let version = options.version;
  const explanations: string[] = [];
  if (version === undefined) {
    version = versions[0];
    if (version === undefined)
      throw catalogError(
        "PackageNotFound",
        `${id} is not in ${source.label}.`,
        "Find the id with `intune-publisher catalog search TEXT` (ids are Publisher.Package).",
      );
    explanations.push(
      versions.length > 1
        ? `Version ${version}: the newest of ${versions.length} in winget's version order.`
        : `Version ${version}: the ${source instanceof WingetHttpsSource ? "index's" : "only"} version.`,
    );
  }
  const manifest = await source.manifest(id, version);
  const inCatalog = new Set<string>();
  for (const inst of manifest.installers)
    for (const dep of inst.dependencies.packages)
      if ((await source.versions(dep.id).catch(() => [])).length > 0) inCatalog.add(dep.id.toLowerCase());
  return build(manifest, source.label, options, explanations, (depId) => inCatalog.has(depId.toLowerCase()));
}

async function showEntry(source: EntriesSource, id: string, options: ShowOptions): Promise<ShowResult> {
  const loaded = await source.entry(id);
  if (loaded === undefined)
    throw catalogError(
      "PackageNotFound",
      `${id} is not in ${source.label}.`,
      "Find the id with `catalog search TEXT`.",
    );
  const resolved = await source.resolve(loaded.entry);
  const version = resolved.version ?? options.msi?.productVersion;
  if (options.version !== undefined && version !== undefined && options.version !== version)
    throw catalogError(
      "PackageVersionNotFound",
      `${id}: its source offers version ${version}, not ${options.version}; a catalog entry only knows the newest version.`,
      "Leave --version out.",
    );
  const explanations = [`Version ${version ?? "(after download)"}: from ${resolved.how}.`];
  const manifest = entryToManifest(loaded, resolved, version ?? "0");
  const entries = await source.entries();
  const result = build(
    manifest,
    source.label,
    options,
    explanations,
    (depId) => entries.has(depId.toLowerCase()),
    loaded.entry.installer.fileName,
  );
  if (version === undefined) {
    result.version = null;
    result.definition = null;
    result.files = [];
    result.pending =
      "The version is the ProductVersion of the MSI at the fixed URL: it is known only after download (`catalog download`, `catalog import` or `sync`).";
  }
  return result;
}

function build(
  manifest: WingetManifest,
  label: string,
  options: ShowOptions,
  explanations: string[],
  inCatalog: (id: string) => boolean,
  fileName?: string,
): ShowResult {
  const selection = selectInstaller(manifest, options);
  const plan = toDefinition(manifest, {
    selection,
    sourceLabel: label,
    inCatalog,
    ...(options.msi === undefined ? {} : { msi: options.msi }),
    ...(fileName === undefined ? {} : { fileName }),
  });
  return {
    id: manifest.id,
    version: manifest.version,
    source: label,
    installer: { ...plan.installer, sha256: plan.installer.sha256 === "" ? null : plan.installer.sha256 },
    skipped: selection.skipped,
    definition: plan.definition,
    files: plan.files,
    content: plan.content,
    explanations: [...explanations, ...plan.explanations],
    warnings: manifest.warnings,
    updateOnly: plan.updateOnly,
  };
}
