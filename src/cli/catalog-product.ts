/**
 * What `catalog show`, `download` and `import` share: the options choosing a product's installer, and a product made
 * ready to publish (installer downloaded and verified, the MSI's own facts checked against the manifest).
 */
import { z } from "zod";
import { showProduct } from "../catalog/catalog.js";
import type { CatalogSource, ShowOptions, ShowResult } from "../catalog/catalog.js";
import type { Downloader, DownloadResult } from "../catalog/download/index.js";
import { REQUESTED_ARCHITECTURES, REQUESTED_SCOPES } from "../catalog/select.js";
import { downloadRequest, prepareDownloaded } from "../catalog/prepare.js";
import type { PreparedProduct } from "../catalog/prepare.js";
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

/** Downloads the installer `show` chose (verified: the published hash, else the lock file's; a fixed URL conditionally). */
export function downloadInstaller(
  downloader: Downloader,
  show: ShowResult,
  signal: AbortSignal,
): Promise<DownloadResult> {
  return downloader.download(downloadRequest(show, signal));
}

export type ReadyProduct = PreparedProduct;

/**
 * The product's definition with its installer downloaded (src/catalog/prepare.ts): an MSI's ProductCode and
 * ProductVersion checked against the manifest (a fixed-URL entry learns its version), a zip unpacked with its nested
 * installer checked.
 */
export async function prepareProduct(
  source: CatalogSource,
  downloader: Downloader,
  id: string,
  options: ShowOptions,
  signal: AbortSignal,
): Promise<ReadyProduct> {
  const show = await showProduct(source, id, options);
  return (await prepareDownloaded(source, downloader, show, { ...options, checkMsi: true, signal }))!;
}
