/**
 * Auto-publish (docs/inventory.md "Auto-publish"): the subscriptions file's `autoPublish:` section adds every catalog
 * product the inventory matches (at least `minConfidence`) on at least `minDevices` devices, unless excluded or
 * already subscribed, to the sync run, in the section's mode (`both`: an application and an update-only app).
 *
 * What was auto-published is recorded per tenant (`<state>/sync/auto-published/<tenant id>.json`, with the device
 * count that qualified it and when): a recorded product stays in every later run even when its count falls (the tool
 * never removes an app on its own; the plan says the count fell). Excluding it, or subscribing to it in `products`,
 * takes it out of auto-publish; the app in the tenant stays as it is.
 */
import { mkdir, rename, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { z } from "zod";
import { definitionIdFor, legacyUpdateOnlyDefinitionId, updateOnlyDefinitionId } from "../../catalog/to-definition.js";
import { globMatcher } from "../../core/config/inventory-rules.js";
import { isPublisherError, PublisherError } from "../../core/errors.js";
import { CatalogMatcher } from "../../inventory/match.js";
import type { CatalogProduct } from "../../inventory/match.js";
import type { InventoryApp } from "../../inventory/model.js";
import { buildReport } from "../../inventory/report.js";
import { readBoundedText } from "../../platform/fs.js";
import { subscriptionSchema } from "./subscriptions.js";
import type { AutoPublishSettings, LoadedSubscriptions, RawSubscription, Subscription } from "./subscriptions.js";

/** The record of one tenant: a few hundred bytes per product (limits.md). */
export const AUTO_RECORD_MAX_BYTES = 4 * 1024 * 1024;

/** Why a product is in the run, for the plan, the JSON output and the history. */
export interface AutoInfo {
  /** devices the current inventory shows it on (0 when it no longer shows it) */
  devices: number;
  minDevices: number;
  /** recorded as auto-published by an earlier run */
  recorded: boolean;
  /** recorded, and now below minDevices: it stays published */
  countFell: boolean;
  /** the plan's words: "auto: seen on 1,234 devices ≥ 500" */
  reason: string;
}

/** One product (one mode) that auto-publish adds to the run. */
export interface AutoEntry {
  sub: Subscription;
  raw: RawSubscription;
  /** the definition id when not the catalog's (the update-only twin in mode `both`) */
  definitionId?: string;
  auto: AutoInfo;
}

const recordSchema = z.object({
  format: z.literal(1),
  tenant: z.string(),
  products: z.array(
    z.object({
      id: z.string(),
      mode: z.enum(["application", "updateOnly"]),
      definitionId: z.string(),
      devices: z.number().int().nonnegative(),
      minDevices: z.number().int().nonnegative(),
      firstPublishedAt: z.string(),
      lastSyncedAt: z.string(),
      reason: z.string(),
    }),
  ),
});
export type AutoRecord = z.output<typeof recordSchema>;
export type AutoRecordEntry = AutoRecord["products"][number];

export const autoRecordFile = (stateDir: string, tenant: string): string =>
  join(stateDir, "sync", "auto-published", `${tenant.replace(/[^0-9A-Za-z.-]/g, "_")}.json`);

/** The tenant's record; none yet is an empty one. A damaged record is an error: it decides what stays published. */
export async function readAutoRecord(file: string, tenant: string): Promise<AutoRecord> {
  let text: string;
  try {
    text = await readBoundedText({ path: file, what: "auto-publish record", maxBytes: AUTO_RECORD_MAX_BYTES });
  } catch (e) {
    if (isPublisherError(e) && e.code === "FileNotFound") return { format: 1, tenant, products: [] };
    throw e;
  }
  let parsed: z.ZodSafeParseResult<AutoRecord>;
  try {
    parsed = recordSchema.safeParse(JSON.parse(text));
  } catch {
    parsed = recordSchema.safeParse(undefined);
  }
  if (!parsed.success || parsed.data.tenant !== tenant)
    throw new PublisherError("AutoPublishRecordInvalid", `The auto-publish record ${file} is damaged.`, {
      hint: "It lists the products auto-published earlier (kept up to date even when their count falls). Restore it from a backup, or delete it: products still above minDevices are found again, the others are no longer synced (their apps stay in the tenant).",
    });
  return parsed.data;
}

/** Writes the record whole or not at all. */
export async function writeAutoRecord(file: string, record: AutoRecord): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(record, null, 2) + "\n", { mode: 0o600 });
  await rename(tmp, file);
}

const count = (n: number): string => n.toLocaleString("en-US");

/** The definition id of the update-only app in mode `both`: the application's id and `-updates`, within 64 characters. */
export function updateOnlyTwinId(catalogId: string): string {
  return updateOnlyDefinitionId(definitionIdFor(catalogId));
}

/**
 * The products auto-publish adds to this run: those qualifying now, and those recorded earlier (whatever their count
 * now), neither excluded nor subscribed in `products`.
 */
export function planAutoPublish(o: {
  subscriptions: LoadedSubscriptions;
  apps: readonly InventoryApp[];
  catalog: readonly CatalogProduct[];
  record: AutoRecord;
}): AutoEntry[] {
  const settings = o.subscriptions.value.autoPublish;
  if (settings === undefined) return [];
  const matcher = new CatalogMatcher(o.catalog, o.subscriptions.value.inventory);
  const excluded = settings.exclude.map(globMatcher);
  const subscribed = new Set(o.subscriptions.value.products.map((p) => p.id.toLowerCase()));
  const skip = (id: string): boolean => subscribed.has(id.toLowerCase()) || excluded.some((m) => m(id));
  const seen = new Map<string, number>();
  for (const r of buildReport(o.apps, matcher))
    if (r.catalogId !== null && (r.confidence ?? 0) >= settings.minConfidence)
      seen.set(r.catalogId.toLowerCase(), (seen.get(r.catalogId.toLowerCase()) ?? 0) + r.devices);

  const entries: AutoEntry[] = [];
  // A twin recorded under the cut id of earlier versions keeps it: a new id would publish a second app.
  const twinIdFor = (id: string): string => {
    const current = updateOnlyTwinId(id);
    const legacy = legacyUpdateOnlyDefinitionId(definitionIdFor(id));
    const recorded = o.record.products.find((p) => p.id.toLowerCase() === id.toLowerCase() && p.mode === "updateOnly");
    return recorded?.definitionId === legacy ? legacy : current;
  };
  const added = new Set<string>();
  const add = (id: string, mode: "application" | "updateOnly", recorded: boolean): void => {
    const key = `${id.toLowerCase()}|${mode}`;
    if (added.has(key)) return;
    added.add(key);
    const devices = seen.get(id.toLowerCase()) ?? 0;
    const countFell = devices < settings.minDevices;
    const raw: RawSubscription = {
      id,
      mode,
      ...(settings.targeting === undefined ? {} : { targeting: settings.targeting }),
    };
    const twin = mode === "updateOnly" && settings.mode === "both";
    entries.push({
      sub: subscriptionSchema.parse(raw),
      raw,
      ...(twin ? { definitionId: twinIdFor(id) } : {}),
      auto: {
        devices,
        minDevices: settings.minDevices,
        recorded,
        countFell,
        reason: countFell
          ? `auto: seen on ${count(devices)} devices < ${count(settings.minDevices)}, down from ${count(
              o.record.products.find((p) => p.id.toLowerCase() === id.toLowerCase())?.devices ?? 0,
            )} (count fell: stays published; remove it from the tenant yourself if it should go)`
          : `auto: seen on ${count(devices)} devices ≥ ${count(settings.minDevices)}`,
      },
    });
  };
  const modes = (m: AutoPublishSettings["mode"]): ("application" | "updateOnly")[] =>
    m === "both" ? ["application", "updateOnly"] : [m];

  const qualifying = o.catalog.filter((p) => (seen.get(p.id.toLowerCase()) ?? 0) >= settings.minDevices);
  qualifying.sort((a, b) => (seen.get(b.id.toLowerCase()) ?? 0) - (seen.get(a.id.toLowerCase()) ?? 0));
  const recordedIds = new Set(o.record.products.map((p) => `${p.id.toLowerCase()}|${p.mode}`));
  for (const p of qualifying)
    if (!skip(p.id))
      for (const mode of modes(settings.mode)) add(p.id, mode, recordedIds.has(`${p.id.toLowerCase()}|${mode}`));
  // Recorded products stay, in the mode they were published in, whatever their count now.
  for (const r of o.record.products) if (!skip(r.id)) add(r.id, r.mode, true);
  return entries;
}

/**
 * The record after a run: products published (or found up to date) now are added or refreshed; the others are kept
 * as they were (a failed first publish is not recorded: the next run tries again if the count still qualifies).
 */
export function updateAutoRecord(
  record: AutoRecord,
  done: readonly { entry: AutoEntry; definitionId: string; ok: boolean }[],
  now: string,
): AutoRecord {
  const products = [...record.products];
  for (const { entry, definitionId, ok } of done) {
    if (!ok) continue;
    const i = products.findIndex((p) => p.id.toLowerCase() === entry.sub.id.toLowerCase() && p.mode === entry.sub.mode);
    const prev = i >= 0 ? products[i] : undefined;
    const row: AutoRecordEntry = {
      id: entry.sub.id,
      mode: entry.sub.mode,
      definitionId,
      // the count that qualified it: kept while the count is below minDevices
      devices: entry.auto.countFell && prev !== undefined ? prev.devices : entry.auto.devices,
      minDevices: entry.auto.minDevices,
      firstPublishedAt: prev?.firstPublishedAt ?? now,
      lastSyncedAt: now,
      reason: prev?.reason ?? entry.auto.reason,
    };
    if (i >= 0) products[i] = row;
    else products.push(row);
  }
  return { ...record, products };
}
