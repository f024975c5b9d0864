/**
 * One `sync` run of a subscriptions file against one tenant, everything the CLI command does beyond its arguments
 * and output: the catalog sources, the installer downloads (through the profile's proxy), auto-publish from the
 * inventory, the run itself, the history record and the auto-publish record. The CLI's `sync` and the console's
 * Sync page both call it.
 */
import { homedir } from "node:os";
import { join } from "node:path";
import type { DownloadEvent } from "../../catalog/download/downloader.js";
import { IntuneApi } from "../../clients/graph/intune.js";
import type { SecretRegistry } from "../../clients/http/redact.js";
import type { StreamTransport } from "../../clients/http/stream-transport.js";
import type { HttpLogger } from "../../clients/http/types.js";
import { homeFolder, userCacheDir } from "../../core/config/dirs.js";
import type { ProfilesFile } from "../../core/config/profile.js";
import { PublisherError } from "../../core/errors.js";
import { catalogProducts } from "../../inventory/catalog-products.js";
import type { Inventory } from "../../inventory/model.js";
import { inventoryCacheFile, readCachedInventory, readInventory, writeCachedInventory } from "../../inventory/read.js";
import type { PublishEvent } from "../publish.js";
import type { GraphSession, ResolvedTarget } from "../target.js";
import { autoRecordFile, planAutoPublish, readAutoRecord, updateAutoRecord, writeAutoRecord } from "./auto-publish.js";
import type { AutoEntry } from "./auto-publish.js";
import { openCatalogAccess } from "../catalog/access.js";
import { defaultHistoryFile, SyncHistory } from "./history.js";
import type { TenantEntry } from "../../core/config/tenants.js";
import { tenantAdjust, tenantSubscriptions } from "../tenants/overrides.js";
import { acquireSyncLock } from "./lock.js";
import type { LoadedSubscriptions } from "./subscriptions.js";
import { sync } from "./sync.js";
import type { SyncResult } from "./sync.js";

export interface SyncRunOptions {
  env: NodeJS.ProcessEnv;
  secrets?: SecretRegistry | undefined;
  session: GraphSession;
  target: ResolvedTarget;
  logger?: HttpLogger | undefined;
  subscriptions: LoadedSubscriptions;
  /** the profiles file's `catalog` settings */
  catalogConfig: ProfilesFile["catalog"];
  /** the profiles file (the catalog lock file lives beside it) */
  configFile: string;
  /** the user state folder: history, index cache, work folders, upload journals */
  stateDir: string;
  /** how the history records the run: manual, schedule, console */
  trigger: string;
  /** the run log the history names for this run: its path; null: none kept (`--no-log-file`); undefined: unknown */
  logFile?: string | null | undefined;
  dryRun: boolean;
  only?: readonly string[] | undefined;
  concurrency?: number | undefined;
  /** autoPublish: the cached inventory is used when at most this many minutes old (0: read again) */
  inventoryMaxAge: number;
  signal: AbortSignal;
  onEvent?: ((e: PublishEvent) => void) | undefined;
  /** installer downloads: start, progress (rate, ETA), retries */
  onDownload?: ((e: DownloadEvent) => void) | undefined;
  /** lines for the person (auto-publish's summary) */
  onNote?: ((line: string) => void) | undefined;
  /** a tenant of the tenants file (the console's tenants switcher): its overrides apply, the history names it */
  tenant?: TenantEntry | undefined;
}

export async function runSubscriptionsSync(o: SyncRunOptions): Promise<SyncResult> {
  const { session, target, stateDir } = o;
  const subscriptions = o.tenant === undefined ? o.subscriptions : tenantSubscriptions(o.subscriptions, o.tenant);
  const access = await openCatalogAccess({ env: o.env, secrets: o.secrets, onDownload: o.onDownload }, target, {
    configFile: o.configFile,
    catalogConfig: o.catalogConfig,
    cwd: subscriptions.dir,
    stateDir,
  });
  const { downloader, openSource, stream } = access;
  const history = SyncHistory.open(defaultHistoryFile(stateDir));
  try {
    let auto: AutoEntry[] = [];
    const recordFile = autoRecordFile(stateDir, target.info.tenantId);
    const record = await readAutoRecord(recordFile, target.info.tenantId);
    if (subscriptions.value.autoPublish !== undefined) {
      const inventory = await syncInventory(o, stream);
      const catalog = await catalogProducts(await openSource(subscriptions.value.source));
      auto = planAutoPublish({ subscriptions, apps: inventory.apps, catalog, record });
      const fell = auto.filter((e) => e.auto.countFell).length;
      o.onNote?.(
        `auto-publish: ${auto.length - fell} app(s) on ≥ ${subscriptions.value.autoPublish.minDevices} devices${fell > 0 ? `, ${fell} kept although the count fell` : ""} (inventory via ${inventory.source}, read ${inventory.readAt}${inventory.cached ? ", cached" : ""})`,
      );
    }
    const result = await sync({
      subscriptions,
      openSource,
      autoPublished: auto,
      downloader,
      graph: session.graph,
      workDir: join(stateDir, "sync", "work"),
      dryRun: o.dryRun,
      ...(o.only === undefined || o.only.length === 0 ? {} : { only: o.only }),
      ...(o.concurrency === undefined ? {} : { concurrency: o.concurrency }),
      signal: o.signal,
      // A resume journal only makes sense for a tenant that outlives this process.
      ...(!target.inProcess ? { journalDir: join(stateDir, "uploads") } : {}),
      upload: {
        storage: { transport: session.transport.send, ...(o.logger === undefined ? {} : { logger: o.logger }) },
      },
      ...(o.onEvent === undefined ? {} : { onEvent: o.onEvent }),
      ...(o.tenant === undefined ? {} : { adjust: tenantAdjust(o.tenant) }),
    });
    if (!o.dryRun)
      history.record(
        result,
        o.trigger,
        o.signal.aborted,
        o.tenant === undefined ? undefined : { name: o.tenant.name, failed: false },
        {
          kind: "sync",
          tenantId: target.info.tenantId,
          ...(o.logFile === undefined ? {} : { logFile: o.logFile }),
        },
      );
    if (!o.dryRun && auto.length > 0) {
      const done = result.products.flatMap((p) => {
        const entry = auto.find((e) => e.sub.id === p.id && e.sub.mode === p.auto?.mode);
        return entry === undefined || p.definitionId === undefined
          ? []
          : [{ entry, definitionId: p.definitionId, ok: p.status === "ok" }];
      });
      await writeAutoRecord(recordFile, updateAutoRecord(record, done, result.finishedAt));
    }
    return result;
  } finally {
    history.close();
    await access.close();
  }
}

/** The inventory auto-publish reads: the cached one when at most `inventoryMaxAge` minutes old, else read (and cached) now. */
async function syncInventory(o: SyncRunOptions, stream: StreamTransport): Promise<Inventory & { cached: boolean }> {
  const tenant = o.target.info.tenantId;
  const cacheRoot = userCacheDir(o.env, process.platform, homeFolder(o.env, process.platform, homedir));
  const file = inventoryCacheFile(cacheRoot, tenant);
  const cached = await readCachedInventory(file, tenant);
  if (
    cached !== undefined &&
    o.inventoryMaxAge > 0 &&
    Date.now() - Date.parse(cached.readAt) <= o.inventoryMaxAge * 60_000
  )
    return { ...cached, cached: true };
  const inventory = await readInventory({
    api: new IntuneApi(o.session.graph),
    transport: stream,
    via: "auto",
    workDir: join(cacheRoot, "inventory"),
    signal: o.signal,
  });
  await writeCachedInventory(file, tenant, inventory);
  return { ...inventory, cached: false };
}

/** Runs `fn` holding the sync lock (runs never overlap); another run holding it: SyncBusy, nothing done. */
export async function withSyncLock<T>(stateDir: string, trigger: string, fn: () => Promise<T>): Promise<T> {
  const lock = await acquireSyncLock(stateDir);
  if (!lock.acquired) {
    const h = lock.holder;
    throw new PublisherError(
      "SyncBusy",
      `Another sync is running${h ? ` (pid ${h.pid} on ${h.hostname}, since ${h.startedAt})` : ""}: this ${trigger} run did nothing.`,
      { hint: "Wait for it to finish; sync runs never overlap (docs/sync.md)." },
    );
  }
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}
