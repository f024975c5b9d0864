/**
 * A folder of catalog entries (`*.yaml`, one product each), read through src/platform/fs.ts with positions for every
 * problem (src/definitions/parse.ts), and an entry turned into the same model as a winget manifest with one
 * installer, so installer choice and the definition follow the same rules for both.
 */
import { readdir, realpath, stat } from "node:fs/promises";
import { resolve } from "node:path";
import { parseYamlFile } from "../../definitions/parse.js";
import { AppDefinitionError } from "../../core/app-definition/errors.js";
import { readBoundedText, resolveInsideRoots } from "../../platform/fs.js";
import { catalogError, ManifestError } from "../errors.js";
import type { CatalogHttp } from "../http.js";
import type { IndexEntry } from "../search.js";
import { CatalogIndex } from "../search.js";
import type { Switches, WingetInstaller, WingetManifest } from "../winget/manifest.js";
import { DEFAULT_SWITCHES } from "../winget/manifest.js";
import type { ResolvedVersion } from "./resolve.js";
import { resolveEntryVersion } from "./resolve.js";
import type { CatalogEntry } from "./schema.js";
import { catalogEntrySchema } from "./schema.js";

export const ENTRY_LIMITS = {
  entryBytes: 256 * 1024,
  maxEntries: 10_000,
} as const;

export interface LoadedEntry {
  file: string;
  entry: CatalogEntry;
}

/** Reads and checks one entry file; throws (kind input) listing every problem with file:line:column. */
export async function loadEntry(path: string): Promise<LoadedEntry> {
  const text = await readBoundedText({ path, what: "catalog entry", maxBytes: ENTRY_LIMITS.entryBytes });
  try {
    const parsed = parseYamlFile(
      text,
      path,
      catalogEntrySchema,
      "The file is empty: a catalog entry is a YAML mapping (docs/catalog.md).",
    );
    return { file: path, entry: parsed.value };
  } catch (e) {
    if (e instanceof AppDefinitionError)
      throw new ManifestError(
        "catalog entry",
        e.problems,
        "Fix the fields named above; docs/catalog.md describes each one.",
      );
    throw e;
  }
}

export class EntriesSource {
  readonly kind = "entries";
  readonly label: string;
  private loaded: Promise<Map<string, LoadedEntry>> | undefined;

  private constructor(
    readonly root: string,
    private readonly http: CatalogHttp,
  ) {
    this.label = `catalog entries ${root}`;
  }

  static async open(dir: string, http: CatalogHttp): Promise<EntriesSource> {
    const abs = resolve(dir);
    if ((await stat(abs).catch(() => undefined))?.isDirectory() !== true)
      throw catalogError(
        "CatalogSourceNotFound",
        `The catalog entries folder ${dir} is not a folder.`,
        "Give the folder that holds your catalog entries (*.yaml).",
      );
    return new EntriesSource(await realpath(abs), http);
  }

  /** Every entry, once; an entry with problems fails the whole folder (an id used twice too). */
  entries(): Promise<Map<string, LoadedEntry>> {
    this.loaded ??= (async () => {
      const names = (await readdir(this.root)).filter((n) => /\.ya?ml$/i.test(n)).sort();
      if (names.length > ENTRY_LIMITS.maxEntries)
        throw catalogError(
          "TooManyEntries",
          `${this.root} holds ${names.length} entries; at most ${ENTRY_LIMITS.maxEntries} are read.`,
          "Split the catalog into several folders.",
        );
      const out = new Map<string, LoadedEntry>();
      const problems: ManifestError["problems"][number][] = [];
      for (const name of names) {
        const path = await resolveInsideRoots(this.root, name, [this.root], { what: "catalog entry" });
        try {
          const e = await loadEntry(path);
          const key = e.entry.id.toLowerCase();
          const first = out.get(key);
          if (first !== undefined)
            problems.push({
              path: ["id"],
              file: path,
              message: `The id ${e.entry.id} is already used by ${first.file}.`,
            });
          else out.set(key, e);
        } catch (e) {
          if (e instanceof ManifestError) problems.push(...e.problems);
          else throw e;
        }
      }
      if (problems.length > 0) throw new ManifestError("catalog entries", problems);
      return out;
    })();
    return this.loaded;
  }

  async index(): Promise<CatalogIndex> {
    const entries = await this.entries();
    return new CatalogIndex(
      [...entries.values()].map(({ entry }): IndexEntry => ({
        id: entry.id,
        name: entry.name,
        version: "latest",
        tags: entry.tags,
      })),
    );
  }

  async entry(id: string): Promise<LoadedEntry | undefined> {
    return (await this.entries()).get(id.toLowerCase());
  }

  resolve(entry: CatalogEntry): Promise<ResolvedVersion> {
    return resolveEntryVersion(entry, this.http);
  }
}

/** An entry with its resolved version as a one-installer manifest (version `""` until an MSI gives it). */
export function entryToManifest(loaded: LoadedEntry, resolved: ResolvedVersion, version: string): WingetManifest {
  const { entry } = loaded;
  const i = entry.installer;
  const declared: Switches = {};
  if (i.switches?.silent !== undefined) declared.Silent = i.switches.silent;
  if (i.switches?.silentWithProgress !== undefined) declared.SilentWithProgress = i.switches.silentWithProgress;
  if (i.switches?.custom !== undefined) declared.Custom = i.switches.custom;
  const installer: WingetInstaller = {
    index: 0,
    loc: { file: loaded.file, line: 1, column: 1 },
    architecture: i.architecture,
    type: i.type,
    nestedFiles: [],
    effectiveType: i.type,
    url: resolved.url,
    sha256: resolved.sha256 ?? "",
    platform: [],
    declaredSwitches: declared,
    switches: { ...DEFAULT_SWITCHES[i.type], ...declared },
    successCodes: i.successCodes ?? [],
    expectedReturnCodes: (i.returnCodes ?? []).map((r) => ({ code: r.code, response: r.response })),
    arpEntries: i.displayName === undefined ? [] : [{ displayName: i.displayName }],
    dependencies: {
      windowsFeatures: [],
      windowsLibraries: [],
      packages: entry.dependencies.map((id) => ({ id })),
      external: [],
    },
    unsupportedOSArchitectures: [],
    installModes: [],
    commands: [],
    issues: [],
  };
  if (i.scope !== undefined) installer.scope = i.scope;
  if (i.productCode !== undefined) installer.productCode = i.productCode;
  if (i.minimumOSVersion !== undefined) installer.minimumOSVersion = i.minimumOSVersion;
  const manifest: WingetManifest = {
    id: entry.id,
    version,
    manifestVersion: "entry",
    defaultLocale: { publisher: entry.publisher, packageName: entry.name, tags: entry.tags },
    locales: [],
    installers: [installer],
    files: [loaded.file],
    warnings: [],
  };
  if (entry.description !== undefined) manifest.defaultLocale.description = entry.description;
  if (entry.homepage !== undefined) manifest.defaultLocale.packageUrl = entry.homepage;
  if (entry.privacyUrl !== undefined) manifest.defaultLocale.privacyUrl = entry.privacyUrl;
  return manifest;
}
