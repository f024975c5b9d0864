/**
 * The inventory report (`intune-publisher inventory`, the console's Inventory page): the tenant's installed apps
 * (cached for `maxAgeMinutes`), grouped into products and matched to the catalog, with what the tenant subscribes to
 * or publishes, and what the subscriptions file's `autoPublish:` section would add to the next sync.
 */
import { homedir } from "node:os";
import { join } from "node:path";
import type { CatalogSource } from "../catalog/catalog.js";
import { IntuneApi } from "../clients/graph/intune.js";
import type { GraphClient } from "../clients/graph/client.js";
import { createStreamTransport } from "../clients/http/stream-transport.js";
import { homeFolder, userCacheDir, userStateDir } from "../core/config/dirs.js";
import type { InventoryRules } from "../core/config/inventory-rules.js";
import { isPublisherError } from "../core/errors.js";
import { catalogProducts } from "../inventory/catalog-products.js";
import type { CatalogProduct } from "../inventory/match.js";
import { CatalogMatcher } from "../inventory/match.js";
import type { Inventory } from "../inventory/model.js";
import { inventoryCacheFile, readCachedInventory, readInventory, writeCachedInventory } from "../inventory/read.js";
import type { Via } from "../inventory/read.js";
import { buildReport } from "../inventory/report.js";
import type { ProductRow } from "../inventory/report.js";
import { listApps } from "./apps.js";
import { autoRecordFile, planAutoPublish, readAutoRecord } from "./sync/auto-publish.js";
import type { LoadedSubscriptions } from "./sync/subscriptions.js";
import type { TargetInfo } from "./target.js";

/** `--max-age` (minutes) of `inventory`, `--inventory-max-age` of `sync`, the console's field: default and bound. */
export const INVENTORY_MAX_AGE_DEFAULT = 60;
export const INVENTORY_MAX_AGE_MAX = 525_600;

export interface InventoryReportOptions {
  graph: GraphClient;
  target: { info: TargetInfo; caPem: string | undefined };
  env: NodeJS.ProcessEnv;
  /** the catalog the inventory is matched against (or its products, read once for many tenants) */
  catalog: CatalogSource | CatalogProduct[];
  subscriptions: LoadedSubscriptions | undefined;
  /** mappings and exclusions (default: the subscriptions file's `inventory:` section) */
  rules: InventoryRules | undefined;
  via: Via;
  /** read the inventory again even if the cached one is recent */
  refresh: boolean;
  maxAgeMinutes: number;
  filters: { minDevices?: number | undefined; outdated: boolean; unmatched: boolean };
  signal: AbortSignal;
  onWarning?: (line: string) => void;
}

export interface InventoryReport {
  target: TargetInfo;
  inventory: { readAt: string; source: Inventory["source"]; devices: number | null; cached: boolean };
  products: ProductRow[];
}

/** What the `autoPublish:` section would publish now (the sync's own plan, from the same inventory). */
export interface AutoPublishView {
  minDevices: number;
  mode: string;
  minConfidence: number;
  exclude: string[];
  products: { id: string; mode: string; devices: number; recorded: boolean; reason: string }[];
}

export async function inventoryReport(
  o: InventoryReportOptions,
): Promise<{ report: InventoryReport; appVersions: number; autoPublish: AutoPublishView | undefined }> {
  const tenant = o.target.info.tenantId;
  const products = Array.isArray(o.catalog) ? o.catalog : await catalogProducts(o.catalog);
  const matcher = new CatalogMatcher(products, o.rules ?? o.subscriptions?.value.inventory);
  const cacheRoot = userCacheDir(o.env, process.platform, homedir());
  const file = inventoryCacheFile(cacheRoot, tenant);
  let inventory: Inventory | undefined;
  let cached = false;
  if (!o.refresh) {
    const c = await readCachedInventory(file, tenant);
    if (c && Date.now() - Date.parse(c.readAt) <= o.maxAgeMinutes * 60_000) {
      inventory = c;
      cached = true;
    }
  }
  if (!inventory) {
    const stream = createStreamTransport(o.target.caPem === undefined ? {} : { trustedCaPem: o.target.caPem });
    try {
      inventory = await readInventory({
        api: new IntuneApi(o.graph),
        transport: stream,
        via: o.via,
        workDir: join(cacheRoot, "inventory"),
        signal: o.signal,
      });
    } finally {
      await stream.close();
    }
    await writeCachedInventory(file, tenant, inventory);
  }
  const published = new Set<string>();
  try {
    for (const a of await listApps(o.graph, o.signal)) if (a.definitionId) published.add(a.definitionId.toLowerCase());
  } catch (e) {
    if (!(isPublisherError(e) && e.kind === "permission")) throw e;
    o.onWarning?.("cannot list the tenant's apps (permission): published is no in the Subscribed/published column.");
  }
  const subscribed = new Map<string, "file" | "auto">();
  const stateDir = userStateDir(o.env, process.platform, homeFolder(o.env, process.platform, homedir));
  const record = await readAutoRecord(autoRecordFile(stateDir, tenant), tenant);
  for (const p of record.products) subscribed.set(p.id.toLowerCase(), "auto");
  for (const p of o.subscriptions?.value.products ?? []) subscribed.set(p.id.toLowerCase(), "file");
  const rows = buildReport(inventory.apps, matcher, {
    ...(o.filters.minDevices === undefined ? {} : { minDevices: o.filters.minDevices }),
    outdated: o.filters.outdated,
    unmatched: o.filters.unmatched,
    published,
    subscribed,
  });
  const settings = o.subscriptions?.value.autoPublish;
  const autoPublish =
    o.subscriptions === undefined || settings === undefined
      ? undefined
      : {
          minDevices: settings.minDevices,
          mode: settings.mode,
          minConfidence: settings.minConfidence,
          exclude: settings.exclude,
          products: planAutoPublish({
            subscriptions: o.subscriptions,
            apps: inventory.apps,
            catalog: products,
            record,
          }).map((e) => ({
            id: e.sub.id,
            mode: e.sub.mode,
            devices: e.auto.devices,
            recorded: e.auto.recorded,
            reason: e.auto.reason,
          })),
        };
  return {
    report: {
      target: o.target.info,
      inventory: { readAt: inventory.readAt, source: inventory.source, devices: inventory.devices ?? null, cached },
      products: rows,
    },
    appVersions: inventory.apps.length,
    autoPublish,
  };
}
