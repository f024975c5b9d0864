/**
 * What `catalog show`, `download` and `import` share: the options choosing a product's installer, and a product made
 * ready to publish (installer downloaded and verified, the MSI's own facts checked against the manifest).
 */
import { z } from "zod";
import { showProduct } from "../catalog/catalog.js";
import type { CatalogSource, ShowOptions, ShowResult } from "../catalog/catalog.js";
import type { Downloader, DownloadResult } from "../catalog/download/index.js";
import { msiProductVersion } from "../catalog/download/index.js";
import { REQUESTED_ARCHITECTURES, REQUESTED_SCOPES } from "../catalog/select.js";
import { PublisherError } from "../core/errors.js";
import { readMsi } from "../intunewin/msi.js";
import { option } from "./options.js";

export const productOptions = z.object({
  version: option(z.string().min(1).max(128).optional(), {
    value: "V",
    help: "a version the source has (default: the newest, in winget's version order)",
  }),
  arch: option(
    z
      .enum(REQUESTED_ARCHITECTURES, {
        error: (i) => `must be ${REQUESTED_ARCHITECTURES.join(", ")}, not "${String(i.input)}"`,
      })
      .optional(),
    {
      value: REQUESTED_ARCHITECTURES.join("|"),
      help: "the architecture (default x64; x86 only as a fallback when the product has no x64 installer)",
    },
  ),
  scope: option(
    z
      .enum(REQUESTED_SCOPES, { error: (i) => `must be ${REQUESTED_SCOPES.join(" or ")}, not "${String(i.input)}"` })
      .optional(),
    { value: REQUESTED_SCOPES.join("|"), help: "machine (default) or user (the app then installs as the user)" },
  ),
});
export type ProductOptions = z.output<typeof productOptions>;

export function showOptions(o: ProductOptions): ShowOptions {
  return {
    ...(o.version === undefined ? {} : { version: o.version }),
    ...(o.arch === undefined ? {} : { architecture: o.arch }),
    ...(o.scope === undefined ? {} : { scope: o.scope }),
  };
}

/** Downloads the installer `show` chose (verified: the published hash, else the lock file's). */
export function downloadInstaller(
  downloader: Downloader,
  show: ShowResult,
  signal: AbortSignal,
): Promise<DownloadResult> {
  return downloader.download({
    url: show.installer.url,
    ...(show.installer.sha256 === null ? {} : { sha256: show.installer.sha256 }),
    product: show.id,
    ...(show.version === null ? { versionFromFile: msiProductVersion } : { version: show.version }),
    signal,
  });
}

export interface ReadyProduct {
  show: ShowResult;
  download: DownloadResult;
}

/**
 * The product's definition with its installer downloaded: for an MSI, `show` again with the MSI's ProductCode and
 * ProductVersion (a product code other than the manifest's is refused; a fixed-URL entry learns its version).
 */
export async function prepareProduct(
  source: CatalogSource,
  downloader: Downloader,
  id: string,
  options: ShowOptions,
  signal: AbortSignal,
): Promise<ReadyProduct> {
  let show = await showProduct(source, id, options);
  const download = await downloadInstaller(downloader, show, signal);
  if (show.installer.type === "msi" || show.installer.type === "wix") {
    const msi = await readMsi(download.path);
    show = await showProduct(source, id, {
      ...options,
      msi: { productCode: msi.productCode, productVersion: msi.productVersion.trim() },
    });
  }
  if (show.definition === null)
    throw new PublisherError("DefinitionPending", `${id}: ${show.pending ?? "no definition could be made."}`, {
      hint: "Check the catalog entry (docs/catalog.md).",
    });
  return { show, download };
}
