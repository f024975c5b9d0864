/**
 * Catalog products as matching needs them, from a catalog source: the package index (id, name, newest version,
 * tags) and, for sources small enough (at most `ARP_MANIFEST_LIMIT` products), the publisher and
 * AppsAndFeaturesEntries of each product's newest manifest. A manifest that cannot be read leaves that product
 * matched by name, id and tags only.
 */
import type { CatalogSource } from "../catalog/catalog.js";
import type { CatalogProduct } from "./match.js";

/** Reading every manifest of a large source would cost a request or file read per product. */
export const ARP_MANIFEST_LIMIT = 2_000;

export async function catalogProducts(source: CatalogSource): Promise<CatalogProduct[]> {
  const index = await source.index();
  const products: CatalogProduct[] = index.entries.map((e) => ({
    id: e.id,
    name: e.name,
    // winget ids are Publisher.Product
    publisher: e.id.split(".")[0],
    version: e.version,
    tags: e.tags,
  }));
  if (source.kind === "winget" && products.length <= ARP_MANIFEST_LIMIT) {
    for (const p of products) {
      try {
        const m = await source.manifest(p.id, p.version);
        if (m.defaultLocale.publisher) p.publisher = m.defaultLocale.publisher;
        const arp = m.installers.flatMap((i) => i.arpEntries);
        if (arp.length > 0) p.arp = arp;
      } catch {
        // matched by name, id and tags only
      }
    }
  }
  return products;
}
