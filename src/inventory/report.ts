/**
 * The inventory report: apps grouped into products (by the catalog product they match, else by normalised name and
 * publisher), with device counts, the versions in the field, the devices on a version older than the catalog's
 * newest (winget's ordering), and whether the tenant already publishes the product.
 */
import { definitionIdFor, legacyUpdateOnlyDefinitionId, updateOnlyDefinitionId } from "../catalog/to-definition.js";
import { compareWingetVersions } from "../catalog/winget/version.js";
import type { CatalogMatcher } from "./match.js";
import { normaliseName, normalisePublisher } from "./match.js";
import type { InventoryApp } from "./model.js";

export interface ProductRow {
  name: string;
  publisher: string;
  devices: number;
  catalogId: string | null;
  confidence: number | null;
  reason: string | null;
  /** the catalog's newest version */
  newestVersion: string | null;
  /** versions in the field, newest first */
  versions: { version: string; devices: number }[];
  /** devices on a version older than the catalog's newest */
  outdatedDevices: number;
  /** the tenant has a Win32 app for this catalog product (ours: its stamp names the product's definition id) */
  published: boolean;
  /** the subscriptions file subscribes to it (`file`), or auto-publish published it earlier (`auto`) */
  subscribed: "file" | "auto" | null;
}

export interface ReportOptions {
  minDevices?: number;
  outdated?: boolean;
  unmatched?: boolean;
  /** definition ids (lower case) of the tenant's apps */
  published?: ReadonlySet<string>;
  /** catalog ids (lower case) subscribed in the subscriptions file or recorded as auto-published */
  subscribed?: ReadonlyMap<string, "file" | "auto">;
}

const ARCHES = ["x64", "x86", "arm64"] as const;
const SCOPES = ["machine", "user"] as const;

/**
 * Whether one of the definition ids sync gives this catalog id (any architecture and scope), or its update-only twin
 * (also under the cut id of earlier versions), is published.
 */
export function publishedIn(definitionIds: ReadonlySet<string>, catalogId: string): boolean {
  for (const a of ARCHES)
    for (const s of SCOPES) {
      const id = definitionIdFor(catalogId, a, s);
      if (
        definitionIds.has(id) ||
        definitionIds.has(updateOnlyDefinitionId(id)) ||
        definitionIds.has(legacyUpdateOnlyDefinitionId(id))
      )
        return true;
    }
  return false;
}

export function buildReport(
  apps: readonly InventoryApp[],
  matcher: CatalogMatcher,
  o: ReportOptions = {},
): ProductRow[] {
  const groups = new Map<string, { row: ProductRow; names: Map<string, number>; versions: Map<string, number> }>();
  const matches = new Map<string, ReturnType<CatalogMatcher["match"]>>();
  for (const a of apps) {
    const mk = `${a.name}\u0000${a.publisher}`;
    let m = matches.get(mk);
    if (!matches.has(mk)) {
      m = matcher.match(a.name, a.publisher);
      matches.set(mk, m);
    }
    if (matcher.excluded(a.name, a.publisher, m?.catalogId)) continue;
    const key = m
      ? `id:${m.catalogId.toLowerCase()}`
      : `n:${normaliseName(a.name)}\u0000${normalisePublisher(a.publisher)}`;
    let g = groups.get(key);
    if (!g) {
      const product = m ? matcher.products.get(m.catalogId.toLowerCase()) : undefined;
      g = {
        row: {
          name: a.name,
          publisher: a.publisher,
          devices: 0,
          catalogId: m?.catalogId ?? null,
          confidence: m?.confidence ?? null,
          reason: m?.reason ?? null,
          newestVersion: product?.version ?? null,
          versions: [],
          outdatedDevices: 0,
          published: m !== undefined && o.published !== undefined && publishedIn(o.published, m.catalogId),
          subscribed: m === undefined ? null : (o.subscribed?.get(m.catalogId.toLowerCase()) ?? null),
        },
        names: new Map(),
        versions: new Map(),
      };
      groups.set(key, g);
    }
    g.row.devices += a.devices;
    g.names.set(a.name, (g.names.get(a.name) ?? 0) + a.devices);
    g.versions.set(a.version, (g.versions.get(a.version) ?? 0) + a.devices);
  }
  const rows: ProductRow[] = [];
  for (const g of groups.values()) {
    const r = g.row;
    // the name most devices show
    r.name = [...g.names.entries()].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1))[0]?.[0] ?? r.name;
    r.versions = [...g.versions.entries()]
      .map(([version, devices]) => ({ version, devices }))
      .sort((x, y) => compareWingetVersions(y.version, x.version) || (x.version < y.version ? -1 : 1));
    const newest = r.newestVersion;
    if (newest !== null)
      r.outdatedDevices = r.versions
        .filter((v) => v.version !== "" && compareWingetVersions(v.version, newest) < 0)
        .reduce((n, v) => n + v.devices, 0);
    if (o.minDevices !== undefined && r.devices < o.minDevices) continue;
    if (o.outdated === true && r.outdatedDevices === 0) continue;
    if (o.unmatched === true && r.catalogId !== null) continue;
    rows.push(r);
  }
  return rows.sort((x, y) => y.devices - x.devices || (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
}
