/**
 * A catalog product made ready to package (docs/catalog.md "Catalog entries", "Installer choice"): its installer
 * downloaded and verified; a fixed-URL entry's version read from the MSI (ProductVersion, with ProductCode for
 * detection); a zip with a nested installer unpacked in the cache with its nested file checked; and, when asked, an
 * MSI's own ProductCode and ProductVersion (the nested MSI's for a zip) checked against the manifest. Shared by
 * `catalog download` / `import` (src/cli/catalog-product.ts) and `sync` (src/publish/sync/sync.ts).
 */
import { join } from "node:path";
import { isPublisherError, PublisherError } from "../core/errors.js";
import { readMsi } from "../intunewin/msi.js";
import type { CatalogSource, ShowOptions, ShowResult } from "./catalog.js";
import { showProduct } from "./catalog.js";
import type { Downloader, DownloadRequest, DownloadResult } from "./download/downloader.js";
import { DownloadCache } from "./download/cache.js";
import { DownloadLockFile } from "./download/lock-file.js";
import { unpackNestedZip } from "./download/nested.js";
import type { MsiFacts } from "./to-definition.js";

/** The file at a fixed URL must be an MSI: its ProductVersion is the version. */
export function fixedUrlVersion(url: string): (path: string) => Promise<string> {
  return async (path) => (await fixedUrlMsi(url, path)).productVersion;
}

async function fixedUrlMsi(url: string, path: string): Promise<MsiFacts> {
  let facts: MsiFacts;
  try {
    facts = await msiFacts(path);
  } catch (e) {
    if (isPublisherError(e) && (e.code === "MsiCorrupt" || e.code === "MsiUnreadable"))
      throw new PublisherError(
        "FixedUrlNotMsi",
        `The file at the fixed URL ${url} is not an MSI (${e.message}): a fixed URL learns its version from the MSI's ProductVersion. It was not kept.`,
        {
          hint: "Point source.url at the vendor's MSI, or describe the product with a feed (source.kind json, xml or github) that names the version (docs/catalog.md).",
          cause: e,
        },
      );
    throw e;
  }
  if (facts.productVersion === "")
    throw new PublisherError("MsiWithoutVersion", `The MSI at the fixed URL ${url} has no ProductVersion.`, {
      hint: "Describe the product with a feed that names the version (docs/catalog.md).",
    });
  return facts;
}

/** ProductCode, ProductVersion and UpgradeCode of an MSI (the reader loads only the tables it needs). */
export async function msiFacts(path: string): Promise<MsiFacts> {
  const msi = await readMsi(path);
  return {
    productCode: msi.productCode,
    productVersion: msi.productVersion.trim(),
    ...(msi.upgradeCode === undefined ? {} : { upgradeCode: msi.upgradeCode }),
  };
}

/** The download of the installer `show` chose: the published hash, else the lock file's; a fixed URL conditionally. */
export function downloadRequest(show: ShowResult, signal?: AbortSignal): DownloadRequest {
  return {
    url: show.installer.url,
    ...(show.installer.sha256 === null ? {} : { sha256: show.installer.sha256 }),
    product: show.id,
    ...(show.version === null ? { versionFromFile: fixedUrlVersion(show.installer.url) } : { version: show.version }),
    ...(signal === undefined ? {} : { signal }),
  };
}

/** A zip with a nested installer, downloaded: the folder of its files in the cache (nested file checked). */
export function unpackDownload(
  downloader: Downloader,
  show: ShowResult,
  download: DownloadResult,
  signal?: AbortSignal,
): Promise<string> {
  const extract = show.content.extract!;
  return unpackNestedZip(downloader.cacheDir, {
    product: show.id,
    version: show.version ?? "",
    url: show.installer.url,
    path: download.path,
    sha256: download.sha256,
    size: download.size,
    nestedFiles: [extract.setupFile],
    ...(signal === undefined ? {} : { signal }),
  });
}

export interface PreparedProduct {
  show: ShowResult;
  download: DownloadResult;
  /** a zip with a nested installer: the folder holding its files (in the download cache) */
  unpacked?: string;
}

const msiLike = (type: string | undefined): boolean => type === "msi" || type === "wix";

/**
 * Downloads, verifies and (for a zip) unpacks the installer `first` chose, then makes the definition again with the
 * MSI's own facts: always for a fixed URL (its version and product code come from it), and with `checkMsi` for any
 * MSI (the manifest's product code must be the file's). `fetch` replaces the download (a dry run: the cache only);
 * it gives undefined when the file is not at hand, and then nothing more is done. `reshow` replaces showProduct for
 * the definition made again with the MSI's facts (sync remembers it between runs).
 */
export async function prepareDownloaded(
  source: CatalogSource,
  downloader: Downloader,
  first: ShowResult,
  options: ShowOptions & { checkMsi: boolean; signal?: AbortSignal },
  fetch: (request: DownloadRequest) => Promise<DownloadResult | undefined> = (r) => downloader.download(r),
  reshow?: (msi: MsiFacts) => Promise<ShowResult>,
): Promise<PreparedProduct | undefined> {
  const download = await fetch(downloadRequest(first, options.signal));
  if (download === undefined) return undefined;
  const unpacked =
    first.content.extract === undefined ? undefined : await unpackDownload(downloader, first, download, options.signal);
  const msiPath =
    unpacked !== undefined
      ? msiLike(first.installer.nestedType)
        ? join(unpacked, ...first.content.extract!.setupFile.split("/"))
        : undefined
      : msiLike(first.installer.type)
        ? download.path
        : undefined;
  let show = first;
  if (msiPath !== undefined && (first.version === null || options.checkMsi)) {
    const msi = first.version === null ? await fixedUrlMsi(first.installer.url, msiPath) : await msiFacts(msiPath);
    const { checkMsi: _c, signal: _s, ...showOptions } = options;
    show =
      reshow !== undefined
        ? await reshow(msi)
        : await showProduct(source, first.id, {
            ...showOptions,
            ...(first.version === null ? {} : { version: first.version }),
            msi,
          });
    if (first.version === null)
      show.explanations.unshift(
        `Version ${msi.productVersion}: the ProductVersion of the MSI ${download.notModified === true ? "last downloaded from the fixed URL (the server answered 304 Not Modified)" : "downloaded from the fixed URL"}, SHA-256 ${download.sha256}.`,
      );
  }
  if (show.definition === null)
    throw new PublisherError("DefinitionPending", `${first.id}: ${show.pending ?? "no definition could be made."}`, {
      hint: "Check the catalog entry (docs/catalog.md).",
    });
  return { show, download, ...(unpacked === undefined ? {} : { unpacked }) };
}

/**
 * `catalog show` of a fixed-URL entry, which never downloads: the MSI last downloaded from the URL, when the cache
 * still holds it, gives the version and definition (said to be that download's); else the lock file's newest row
 * for the product is named in `pending`.
 */
export async function showFixedFromCache(
  source: CatalogSource,
  first: ShowResult,
  options: ShowOptions,
  cacheDir: string,
  lockFile: string | undefined,
): Promise<ShowResult> {
  if (first.version !== null) return first;
  const cache = new DownloadCache(cacheDir);
  const record = await cache.urlRecord(first.installer.url);
  const hit = record === undefined ? undefined : await cache.verified(record.sha256);
  if (record !== undefined && hit !== undefined) {
    const msi = await msiFacts(hit.path).catch(() => undefined);
    if (msi !== undefined && msi.productVersion !== "") {
      const show = await showProduct(source, first.id, { ...options, msi });
      show.installer.sha256 ??= record.sha256;
      show.explanations.unshift(
        `Version ${msi.productVersion}: the ProductVersion of the MSI last downloaded from the fixed URL (${record.downloaded}, SHA-256 ${record.sha256}, in the download cache). Nothing was downloaded now: the URL may serve a newer file (\`catalog download\` or \`sync\` asks it).`,
      );
      return show;
    }
  }
  const row = lockFile === undefined ? undefined : await new DownloadLockFile(lockFile).latest(first.id);
  if (row !== undefined)
    first.pending =
      `${first.pending ?? ""} The lock file records version ${row.version} (SHA-256 ${row.sha256}, downloaded ${row.recorded}), but that file is no longer in the download cache.`.trim();
  return first;
}
