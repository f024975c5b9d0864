/**
 * A catalog source: where products are described. Three kinds (docs/catalog.md "Sources"): a folder in the winget
 * layout, an HTTPS base URL in the same layout with a package index, and a folder of our own catalog entries.
 */
import type { CatalogIndex } from "../search.js";
import type { WingetManifest } from "../winget/manifest.js";

export interface WingetSource {
  readonly kind: "winget";
  /** Names the source in messages and in generated notes. */
  readonly label: string;
  index(): Promise<CatalogIndex>;
  /** The versions the source has, newest first (winget's order); [] for an unknown package. */
  versions(id: string): Promise<string[]>;
  manifest(id: string, version: string): Promise<WingetManifest>;
}
