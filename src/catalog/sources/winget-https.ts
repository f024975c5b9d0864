/**
 * An HTTPS base URL in the community repository's layout (`<base>/manifests/<letter>/<id parts>/<version>/…`) with a
 * package index (`index.v2.json`, by default at `<base>/index.v2.json`), so a search never lists a remote tree.
 *
 * A version's files are found without a listing: `<id>.yaml` first; a singleton is complete, a version file names
 * its DefaultLocale, and then `<id>.installer.yaml` and `<id>.locale.<DefaultLocale>.yaml` complete it (other
 * locales are not needed). The versions of a package are the index's (`Versions` when it has them, else its one
 * `Version`).
 */
import { parseDocument } from "yaml";
import type { CatalogHttp } from "../http.js";
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
      const text = await this.http.getText(
        this.indexUrl.href,
        "package index",
        INDEX_LIMITS.maxIndexBytes,
        "application/json",
      );
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
