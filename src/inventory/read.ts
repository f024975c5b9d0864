/**
 * Reading the inventory: by `detectedApps` (one row per app + version with a device count, paged) or by the reports
 * export API (per-device rows, streamed), chosen by the tenant's device count unless the caller says; the last
 * inventory is cached with its time (docs/inventory.md "Which path").
 */
import { rename, writeFile, mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { z } from "zod";
import type { IntuneApi } from "../clients/graph/intune.js";
import type { StreamTransport } from "../clients/http/stream-transport.js";
import { readBoundedText } from "../platform/fs.js";
import { readInventoryByExport } from "./export.js";
import type { PollOptions } from "./export.js";
import { InventoryAggregator } from "./model.js";
import type { Inventory, InventorySource } from "./model.js";

/** At most this many devices: `detectedApps` (a few pages, no job to wait for); above: the export API. */
export const DETECTED_APPS_MAX_DEVICES = 10_000;

export const INVENTORY_LIMITS = {
  /** the cached inventory file */
  maxCacheBytes: 256 * 1024 * 1024,
} as const;

export type Via = "auto" | "detected-apps" | "export";

export interface ReadInventoryOptions {
  api: IntuneApi;
  transport: StreamTransport;
  via: Via;
  /** temporary files (the report's zip) */
  workDir: string;
  poll?: Partial<PollOptions>;
  signal?: AbortSignal;
  now?: () => Date;
}

export async function readInventoryByDetectedApps(api: IntuneApi, signal?: AbortSignal): Promise<Inventory["apps"]> {
  const agg = new InventoryAggregator();
  for await (const a of api.detectedApps(signal, 1000))
    agg.add(a.displayName ?? "", a.publisher ?? "", a.version ?? "", a.deviceCount);
  return agg.result();
}

export async function readInventory(o: ReadInventoryOptions): Promise<Inventory> {
  const now = o.now ?? (() => new Date());
  let devices: number | undefined;
  let source: InventorySource;
  if (o.via === "auto") {
    devices = await o.api.managedDeviceCount(o.signal);
    source = devices !== undefined && devices <= DETECTED_APPS_MAX_DEVICES ? "detectedApps" : "export";
  } else source = o.via === "export" ? "export" : "detectedApps";
  const readAt = now().toISOString();
  const apps =
    source === "detectedApps"
      ? await readInventoryByDetectedApps(o.api, o.signal)
      : (
          await readInventoryByExport({
            api: o.api,
            transport: o.transport,
            workDir: o.workDir,
            ...(o.poll ? { poll: o.poll } : {}),
            ...(o.signal ? { signal: o.signal } : {}),
          })
        ).apps;
  return { readAt, source, devices, apps };
}

const cacheSchema = z.object({
  tenant: z.string(),
  inventory: z.object({
    readAt: z.string(),
    source: z.enum(["detectedApps", "export"]),
    devices: z.number().int().nonnegative().optional(),
    apps: z.array(
      z.object({
        name: z.string(),
        publisher: z.string(),
        version: z.string(),
        devices: z.number().int().nonnegative(),
      }),
    ),
  }),
});

/** The cache file of one tenant (the tenant id is a GUID; anything else is hashed away by the caller). */
export const inventoryCacheFile = (cacheDir: string, tenant: string): string =>
  join(cacheDir, "inventory", `${tenant.replace(/[^0-9A-Za-z.-]/g, "_")}.json`);

/** The cached inventory of `tenant`, if any and readable (a damaged cache is ignored: it is only a cache). */
export async function readCachedInventory(file: string, tenant: string): Promise<Inventory | undefined> {
  let text: string;
  try {
    text = await readBoundedText({ path: file, what: "cached inventory", maxBytes: INVENTORY_LIMITS.maxCacheBytes });
  } catch {
    return undefined;
  }
  try {
    const parsed = cacheSchema.safeParse(JSON.parse(text));
    return parsed.success && parsed.data.tenant === tenant ? parsed.data.inventory : undefined;
  } catch {
    return undefined;
  }
}

/** Writes the cache whole or not at all (a temporary name, then a rename). */
export async function writeCachedInventory(file: string, tenant: string, inventory: Inventory): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify({ tenant, inventory }), { mode: 0o600 });
  await rename(tmp, file);
}
