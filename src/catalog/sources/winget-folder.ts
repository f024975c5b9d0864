/**
 * A folder in the community repository's layout (a clone of microsoft/winget-pkgs, or a private repository laid out
 * the same way): the folder holding `manifests/`, or `manifests/` itself. Its package index is `index.v2.json` at the
 * root when there is one; else it is built once, on first use, by walking the tree (every package's newest version's
 * name, moniker and tags).
 *
 * Every file is read through src/platform/fs.ts (regular files, bounded) and every folder resolved inside the root
 * after symbolic links, so a link in the tree cannot make the catalog read elsewhere.
 */
import type { Dirent } from "node:fs";
import { readdir, realpath, stat } from "node:fs/promises";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { parseDocument } from "yaml";
import { isPublisherError } from "../../core/errors.js";
import { readBoundedFile, readBoundedText, resolveInsideRoots } from "../../platform/fs.js";
import { catalogError } from "../errors.js";
import type { IndexEntry } from "../search.js";
import { CatalogIndex, INDEX_LIMITS, parseIndexJson } from "../search.js";
import { isPackageId, isPackageVersion, manifestFileName, packageSegments, versionSegments } from "../winget/layout.js";
import type { WingetManifest } from "../winget/manifest.js";
import { MAX_MANIFEST_BYTES, MAX_MANIFEST_FILES, parseManifest } from "../winget/manifest.js";
import { compareWingetVersions, newestVersion } from "../winget/version.js";
import type { WingetSource } from "./source.js";

/** Limits of a walk without index (docs/limits.md). */
export const FOLDER_LIMITS = {
  maxPackages: 200_000,
  /** Folders below `manifests/<letter>`: 8 id parts and the version. */
  maxDepth: 9,
} as const;

export class WingetFolderSource implements WingetSource {
  readonly kind = "winget";
  readonly label: string;
  private indexPromise: Promise<CatalogIndex> | undefined;

  private constructor(
    /** Real path of the folder holding `manifests/`. */
    readonly root: string,
  ) {
    this.label = `winget folder ${root}`;
  }

  /** Opens `dir` (the repository root or its `manifests` folder); refuses anything else with the fix. */
  static async open(dir: string): Promise<WingetFolderSource> {
    const abs = resolve(dir);
    const isDir = async (p: string) => (await stat(p).catch(() => undefined))?.isDirectory() === true;
    if (!(await isDir(abs)))
      throw catalogError(
        "CatalogSourceNotFound",
        `The catalog source ${dir} is not a folder.`,
        "Give a configured source name, a folder in the winget-pkgs layout, or an https:// base URL.",
      );
    let root: string | undefined;
    if (await isDir(join(abs, "manifests"))) root = abs;
    else if (basename(abs) === "manifests") root = dirname(abs);
    if (root === undefined)
      throw catalogError(
        "NotWingetLayout",
        `The folder ${dir} is not in the winget-pkgs layout: it has no manifests/ folder.`,
        "Give the folder that holds manifests/<letter>/<Publisher>/<Package>/<version>/ (a clone of microsoft/winget-pkgs).",
      );
    return new WingetFolderSource(await realpath(root));
  }

  index(): Promise<CatalogIndex> {
    this.indexPromise ??= this.loadIndex();
    return this.indexPromise;
  }

  private async loadIndex(): Promise<CatalogIndex> {
    const file = join(this.root, "index.v2.json");
    const s = await stat(file).catch(() => undefined);
    if (s !== undefined) {
      const text = await readBoundedText({ path: file, what: "package index", maxBytes: INDEX_LIMITS.maxIndexBytes });
      return parseIndexJson(text, file);
    }
    return this.walkIndex();
  }

  /** The folder of a package or version, inside the root after links; undefined when it does not exist. */
  private async folder(segments: string[]): Promise<string | undefined> {
    const path = await resolveInsideRoots(this.root, segments.join(sep), [this.root], { what: "catalog folder" });
    return (await stat(path).catch(() => undefined))?.isDirectory() === true ? path : undefined;
  }

  async versions(id: string): Promise<string[]> {
    const dir = await this.folder(packageSegments(id));
    if (dir === undefined) return [];
    const out: string[] = [];
    for (const e of await readdir(dir, { withFileTypes: true })) {
      if (!isPackageVersion(e.name) || !(await isVersionFolder(join(dir, e.name), e))) continue;
      out.push(e.name);
    }
    return out.sort(compareWingetVersions).reverse();
  }

  async manifest(id: string, version: string): Promise<WingetManifest> {
    const dir = await this.folder(versionSegments(id, version));
    if (dir === undefined)
      throw catalogError(
        "PackageVersionNotFound",
        `${id} has no version ${version} in ${this.label}.`,
        "List the versions with `catalog show ID` (it names the newest), or leave --version out.",
      );
    const names = (await readdir(dir, { withFileTypes: true }))
      .filter((e) => /\.ya?ml$/i.test(e.name))
      .map((e) => e.name)
      .sort();
    if (names.length > MAX_MANIFEST_FILES)
      throw catalogError(
        "TooManyManifestFiles",
        `${relative(this.root, dir)} holds ${names.length} manifest files; at most ${MAX_MANIFEST_FILES} are read.`,
        "A version folder holds one version, installer and default-locale file plus locales.",
      );
    const files = [];
    for (const name of names) {
      const path = join(dir, name);
      files.push({
        name: relative(this.root, path),
        bytes: await readBoundedFile({ path, what: "winget manifest", maxBytes: MAX_MANIFEST_BYTES }),
      });
    }
    const manifest = parseManifest(files);
    checkIdentity(manifest, id, version, relative(this.root, dir));
    return manifest;
  }

  /** The index of a tree without index.v2.json: every package's newest version, read once. */
  private async walkIndex(): Promise<CatalogIndex> {
    const entries: IndexEntry[] = [];
    const skipped: string[] = [];
    const manifests = join(this.root, "manifests");
    const visit = async (dir: string, parts: string[]): Promise<void> => {
      if (parts.length > FOLDER_LIMITS.maxDepth) return;
      const children = await readdir(dir, { withFileTypes: true }).catch(() => [] as Dirent[]);
      const versions: string[] = [];
      for (const c of children) {
        if (!c.isDirectory()) continue;
        const path = join(dir, c.name);
        if (parts.length >= 2 && isPackageVersion(c.name) && (await isVersionFolder(path, c))) versions.push(c.name);
        else await visit(path, [...parts, c.name]);
      }
      if (versions.length === 0) return;
      const id = parts.slice(1).join(".");
      if (!isPackageId(id)) return void skipped.push(`${relative(this.root, dir)}: not a package id`);
      if (entries.length >= FOLDER_LIMITS.maxPackages) return;
      const newest = newestVersion(versions)!;
      try {
        entries.push({ ...(await this.summary(id, newest)), versions });
      } catch (e) {
        if (!isPublisherError(e)) throw e;
        skipped.push(`${id} ${newest}: ${e.message.split("\n")[0]}`);
      }
    };
    for (const letter of await readdir(manifests, { withFileTypes: true })) {
      if (letter.isDirectory()) await visit(join(manifests, letter.name), [letter.name]);
    }
    return new CatalogIndex(entries, skipped.slice(0, 20));
  }

  /** Name, moniker and tags of one version from its version (or singleton) file and default-locale file. */
  private async summary(id: string, version: string): Promise<IndexEntry> {
    const dir = join(this.root, ...versionSegments(id, version));
    const read = async (name: string) => {
      const path = join(dir, name);
      if ((await stat(path).catch(() => undefined)) === undefined) return undefined;
      const text = await readBoundedText({ path, what: "winget manifest", maxBytes: MAX_MANIFEST_BYTES });
      const doc = parseDocument(text, { schema: "failsafe", uniqueKeys: false });
      return doc.errors.length > 0 ? undefined : (doc.toJS() as Record<string, unknown> | null);
    };
    const head = await read(manifestFileName.version(id));
    let data = head;
    if (
      head?.ManifestType === "version" &&
      typeof head.DefaultLocale === "string" &&
      /^[A-Za-z0-9-]{2,20}$/.test(head.DefaultLocale)
    )
      data = await read(manifestFileName.locale(id, head.DefaultLocale));
    if (data === undefined || data === null)
      throw catalogError("UnreadableManifest", `cannot read ${manifestFileName.version(id)}`, "");
    const text = (v: unknown) => (typeof v === "string" ? v.trim() : undefined);
    const tags = Array.isArray(data.Tags)
      ? data.Tags.filter((t): t is string => typeof t === "string")
      : typeof data.Tags === "string"
        ? data.Tags.split(",").map((t) => t.trim())
        : [];
    const entry: IndexEntry = { id, name: text(data.PackageName) ?? text(data.Name) ?? id, version, tags };
    const moniker = text(data.Moniker) ?? text(data.AppMoniker);
    if (moniker !== undefined) entry.moniker = moniker;
    return entry;
  }
}

/** A folder whose files include a manifest (`*.yaml`); package folders hold folders only. */
async function isVersionFolder(path: string, entry: Dirent): Promise<boolean> {
  if (!entry.isDirectory()) return false;
  const names = await readdir(path).catch(() => [] as string[]);
  return names.some((n) => /\.ya?ml$/i.test(n));
}

/** The manifest read from a folder must be the package and version the folder names. */
export function checkIdentity(manifest: WingetManifest, id: string, version: string, where: string): void {
  if (manifest.id.toLowerCase() !== id.toLowerCase() || manifest.version !== version)
    throw catalogError(
      "ManifestMismatch",
      `The manifest at ${where} is ${manifest.id} ${manifest.version}, not ${id} ${version} as its place says.`,
      "The source is inconsistent: the folder (or URL) of a version must hold that package's manifest.",
    );
}
