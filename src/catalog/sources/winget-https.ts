/**
 * An HTTPS base URL in the community repository's layout (`<base>/manifests/<letter>/<id parts>/<version>/…`) with a
 * package index (`index.v2.json`, by default at `<base>/index.v2.json`), so a search never lists a remote tree.
 *
 * A version's files are found without a listing: `<id>.yaml` first; a singleton is complete, a version file names
 * its DefaultLocale, and then `<id>.installer.yaml` and `<id>.locale.<DefaultLocale>.yaml` complete it (other
 * locales are not needed). The versions of a package are the index's (`Versions` when it has them, else its one
 * `Version`).
 */
import { createHash } from "node:crypto";
import { mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseDocument } from "yaml";
import { readBoundedText } from "../../platform/fs.js";
import type { CatalogHttp, Validators } from "../http.js";
import { checkUrl } from "../http.js";
import { catalogError } from "../errors.js";
import type { CatalogIndex } from "../search.js";
import { INDEX_LIMITS, parseIndexJson } from "../search.js";
import { manifestFileName, versionSegments } from "../winget/layout.js";
import type { ManifestFile, WingetManifest } from "../winget/manifest.js";
import { MAX_MANIFEST_BYTES, parseManifest } from "../winget/manifest.js";
import { BCP47 } from "../winget/schema.js";
import { compareWingetVersions } from "../winget/version.js";
import { checkIdentity } from "./winget-folder.js";
import type { WingetSource } from "./source.js";

const KEPT_INDEX_FORMAT = 1;
interface KeptIndex {
  format: number;
  url: string;
  validators: Validators;
  text: string;
}

/** The index kept for `url` with its validators, or undefined (absent, unreadable, another URL or format). */
async function readKeptIndex(file: string, url: string): Promise<KeptIndex | undefined> {
  try {
    // The kept document is the index (bounded) plus its validators, in JSON (escapes can double its size).
    const doc = JSON.parse(
      await readBoundedText({
        path: file,
        what: "kept package index",
        maxBytes: 2 * INDEX_LIMITS.maxIndexBytes + 4096,
      }),
    ) as Partial<KeptIndex>;
    if (doc.format !== KEPT_INDEX_FORMAT || doc.url !== url || typeof doc.text !== "string") return undefined;
    const v = doc.validators ?? {};
    const validators: Validators = {
      ...(typeof v.etag === "string" ? { etag: v.etag } : {}),
      ...(typeof v.lastModified === "string" ? { lastModified: v.lastModified } : {}),
    };
    if (validators.etag === undefined && validators.lastModified === undefined) return undefined;
    return { format: doc.format, url, validators, text: doc.text };
  } catch {
    return undefined;
  }
}

export class WingetHttpsSource implements WingetSource {
  readonly kind = "winget";
  readonly label: string;
  readonly base: URL;
  readonly indexUrl: URL;
  private indexPromise: Promise<CatalogIndex> | undefined;

  constructor(
    base: string,
    private readonly http: CatalogHttp,
    indexUrl?: string,
    /** where the index is kept with its validators: the next load asks the server whether it changed (304) */
    private readonly indexCacheDir?: string,
  ) {
    const b = checkUrl(base, "catalog source URL");
    if (b.search !== "" || b.hash !== "")
      throw catalogError(
        "InvalidUrl",
        `The catalog source URL ${b.origin}${b.pathname} has a query or fragment; a base URL has neither.`,
        "Give the URL of the folder that holds manifests/ (and index.v2.json).",
      );
    if (!b.pathname.endsWith("/")) b.pathname += "/";
    this.base = b;
    this.indexUrl = indexUrl === undefined ? new URL("index.v2.json", b) : checkUrl(indexUrl, "package index URL");
    this.label = `winget source ${b.href}`;
  }

  index(): Promise<CatalogIndex> {
    this.indexPromise ??= (async () => {
      const text = await this.loadIndexText();
      if (text === undefined)
        throw catalogError(
          "CatalogIndexNotFound",
          `The package index ${this.indexUrl.href} does not exist (HTTP 404).`,
          "An HTTPS source needs an index.v2.json beside manifests/, or an indexUrl in its configuration (docs/catalog.md).",
        );
      return parseIndexJson(text, this.indexUrl.href);
    })();
    // A failed load is not cached: the next call tries again.
    this.indexPromise.catch(() => (this.indexPromise = undefined));
    return this.indexPromise;
  }

  /**
   * The index's text: with a cache folder, a conditional GET (ETag / Last-Modified of the copy kept there) and the
   * kept copy when the server answers 304; undefined on 404.
   */
  private async loadIndexText(): Promise<string | undefined> {
    const url = this.indexUrl.href;
    const get = this.http.getTextIf?.bind(this.http);
    if (this.indexCacheDir === undefined || get === undefined)
      return this.http.getText(url, "package index", INDEX_LIMITS.maxIndexBytes, "application/json");
    const file = join(this.indexCacheDir, `${createHash("sha256").update(url).digest("hex").slice(0, 32)}.json`);
    const kept = await readKeptIndex(file, url);
    const r = await get(url, "package index", INDEX_LIMITS.maxIndexBytes, kept?.validators ?? {}, "application/json");
    if (r === undefined) return undefined;
    if (r.status === "not-modified") return kept!.text;
    if (r.validators.etag !== undefined || r.validators.lastModified !== undefined) {
      const doc: KeptIndex = { format: KEPT_INDEX_FORMAT, url, validators: r.validators, text: r.text };
      // Best effort: a cache that cannot be written only costs a full download next time.
      await mkdir(this.indexCacheDir, { recursive: true })
        .then(async () => {
          const tmp = `${file}.${process.pid}.tmp`;
          await writeFile(tmp, JSON.stringify(doc));
          await rename(tmp, file);
        })
        .catch(() => undefined);
    }
    return r.text;
  }

  async versions(id: string): Promise<string[]> {
    const entry = (await this.index()).get(id);
    if (entry === undefined) return [];
    return [...(entry.versions ?? [entry.version])].sort(compareWingetVersions).reverse();
  }

  private fileUrl(id: string, version: string, name: string): string {
    const path = [...versionSegments(id, version), name].map(encodeURIComponent).join("/");
    return new URL(path, this.base).href;
  }

  async manifest(id: string, version: string): Promise<WingetManifest> {
    const get = async (name: string): Promise<ManifestFile | undefined> => {
      const url = this.fileUrl(id, version, name);
      const text = await this.http.getText(url, "winget manifest", MAX_MANIFEST_BYTES);
      return text === undefined ? undefined : { name: url, bytes: Buffer.from(text, "utf8") };
    };
    const head = await get(manifestFileName.version(id));
    if (head === undefined)
      throw catalogError(
        "PackageVersionNotFound",
        `${id} ${version} is not in ${this.label} (${this.fileUrl(id, version, manifestFileName.version(id))} answered 404).`,
        "Check the id and version with `catalog search`; the index may be older than the repository.",
      );
    const doc = parseDocument(Buffer.from(head.bytes).toString("utf8"), { schema: "failsafe", uniqueKeys: false });
    const type = doc.errors.length === 0 ? doc.get("ManifestType") : undefined;
    const files = [head];
    if (typeof type === "string" && type.toLowerCase() === "version") {
      const locale = doc.get("DefaultLocale");
      if (typeof locale !== "string" || !BCP47.test(locale) || locale.length > 20) return parseManifest(files); // reports the version file's problems (DefaultLocale missing or malformed)
      for (const name of [manifestFileName.installer(id), manifestFileName.locale(id, locale)]) {
        const f = await get(name);
        if (f === undefined)
          throw catalogError(
            "ManifestFileMissing",
            `${this.fileUrl(id, version, name)} does not exist (HTTP 404), though ${manifestFileName.version(id)} is a multi-file manifest.`,
            "The source is incomplete: a version needs its installer and default-locale files.",
          );
        files.push(f);
      }
    }
    const manifest = parseManifest(files);
    checkIdentity(manifest, id, version, this.fileUrl(id, version, ""));
    return manifest;
  }
}
