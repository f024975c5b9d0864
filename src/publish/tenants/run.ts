/**
 * Runs across tenants (docs/tenants.md). The unit of work is one tenant × product (`runTenantProduct`, what a job
 * queue calls) or one tenant × all its products (`runTenant`, one publish run per tenant); `runAcrossTenants` runs
 * tenants a few at a time in this process. Each tenant has its own Graph client (so its own Intune write limits and
 * throttling), one tenant's failure never stops the others, and packages are shared by content hash: a product
 * version is downloaded once (the downloader's cache) and packaged once (`SharedPackages`), then uploaded to every
 * tenant that needs it.
 */
import { join } from "node:path";
import type { CatalogSource } from "../../catalog/catalog.js";
import type { Downloader } from "../../catalog/download/downloader.js";
import type { GraphClient } from "../../clients/graph/client.js";
import type { HttpTransport } from "../../clients/http/types.js";
import type { TenantEntry, TenantsFile } from "../../core/config/tenants.js";
import type { PublishEvent, RunPackages, UploadSettings } from "../publish.js";
import type { LoadedSubscriptions } from "../sync/subscriptions.js";
import { sync } from "../sync/sync.js";
import type { ProductResult } from "../sync/sync.js";
import { eachTenant, pool } from "./each.js";
import type { TenantError, TenantHeader } from "./each.js";
import { tenantAdjust, tenantSubscriptions } from "./overrides.js";

/** Tenants run at once by default (`--tenant-concurrency`). */
export const DEFAULT_TENANT_CONCURRENCY = 4;

/** A signed-in tenant: its own Graph client and the transport its uploads use. */
export interface TenantSession {
  graph: GraphClient;
  storageTransport: HttpTransport;
  close(): Promise<void>;
}

/** What every tenant of a run shares. */
export interface TenantRunContext {
  file: TenantsFile;
  subscriptions: LoadedSubscriptions;
  openSource(spec: string | undefined): Promise<CatalogSource>;
  downloader: Downloader;
  /** shared packages, by content hash, with their counts */
  packages: RunPackages & { readonly packagings: number; readonly reused: number };
  /** signs in to a tenant (a refused sign-in throws: the tenant fails alone) */
  connect(t: TenantEntry, signal?: AbortSignal): Promise<TenantSession>;
  /** each tenant stages its products in `<workDir>/<tenant name>/` */
  workDir: string;
  /** each tenant keeps its resume journal in `<journalDir>/<tenant name>/` */
  journalDir?: string;
  dryRun?: boolean;
  /** catalog ids (any case) to sync in every tenant; default all */
  only?: readonly string[];
  /** apps published at once in one tenant */
  concurrency?: number;
  signal?: AbortSignal;
  upload?: Omit<UploadSettings, "storage">;
  onEvent?: (tenant: string, e: PublishEvent) => void;
  onTenant?: (r: TenantResult) => void;
  clock?: () => number;
}

export interface TenantResult extends TenantHeader {
  status: "ok" | "failed";
  /** a failure of the tenant as a whole (sign-in, the tenant's own problem); products are then empty */
  error?: TenantError;
  products: ProductResult[];
  changed: boolean;
  durationMs: number;
}

export interface TenantsRunResult {
  dryRun: boolean;
  startedAt: string;
  finishedAt: string;
  tenants: TenantResult[];
  totals: {
    tenants: number;
    tenantsOk: number;
    tenantsFailed: number;
    products: number;
    created: number;
    newVersions: number;
    metadataUpdates: number;
    upToDate: number;
    skipped: number;
    failed: number;
  };
  /** packages built in this run: one per product version (content hash), whatever the number of tenants */
  packagings: number;
  /** packages uploaded again to another tenant without building */
  packagesReused: number;
  failed: boolean;
  changed: boolean;
}

/** One job of a queue: a product for a tenant (names as in the tenants and subscriptions files). */
export interface TenantProductJob {
  tenant: string;
  productId: string;
}

function tenantOf(ctx: TenantRunContext, name: string): TenantEntry {
  const t = ctx.file.tenants.find((x) => x.name.toLowerCase() === name.toLowerCase());
  if (t === undefined) throw new Error(`No tenant named ${name} in the tenants file.`);
  return t;
}

/** One product for one tenant: the unit a job queue runs (idempotent: the ownership stamp and upload journal). */
export async function runTenantProduct(ctx: TenantRunContext, job: TenantProductJob): Promise<TenantResult> {
  return runTenant(ctx, tenantOf(ctx, job.tenant), [job.productId]);
}

/** Every product (or `only` those) for one tenant, in one publish run; never throws for the tenant's failures. */
export async function runTenant(
  ctx: TenantRunContext,
  t: TenantEntry,
  only: readonly string[] | undefined = ctx.only,
): Promise<TenantResult> {
  const [r] = await eachTenant(
    { file: ctx.file, tenants: [t], concurrency: 1, ...(ctx.clock === undefined ? {} : { clock: ctx.clock }) },
    async () => {
      const v = await syncTenant(ctx, t, only);
      return { value: v, failed: v.products.some((p) => p.status === "failed") };
    },
  );
  const { value, ...rest } = r!;
  const res: TenantResult = { ...rest, products: value?.products ?? [], changed: value?.changed ?? false };
  ctx.onTenant?.(res);
  return res;
}

async function syncTenant(
  ctx: TenantRunContext,
  t: TenantEntry,
  only: readonly string[] | undefined,
): Promise<{ products: ProductResult[]; changed: boolean }> {
  const session = await ctx.connect(t, ctx.signal);
  try {
    const subscriptions = tenantSubscriptions(ctx.subscriptions, t);
    const wanted =
      only === undefined
        ? undefined
        : // an id this tenant excludes is left out; an id nobody subscribes is sync's positioned error
          only.filter(
            (id) =>
              subscriptions.value.products.some((p) => p.id.toLowerCase() === id.toLowerCase()) ||
              !ctx.subscriptions.value.products.some((p) => p.id.toLowerCase() === id.toLowerCase()),
          );
    if (wanted !== undefined && wanted.length === 0) return { products: [], changed: false };
    return await sync({
      subscriptions,
      openSource: ctx.openSource,
      downloader: ctx.downloader,
      graph: session.graph,
      workDir: join(ctx.workDir, t.name),
      dryRun: ctx.dryRun === true,
      ...(wanted === undefined ? {} : { only: wanted }),
      ...(ctx.concurrency === undefined ? {} : { concurrency: ctx.concurrency }),
      ...(ctx.signal === undefined ? {} : { signal: ctx.signal }),
      ...(ctx.journalDir === undefined ? {} : { journalDir: join(ctx.journalDir, t.name) }),
      upload: { ...ctx.upload, storage: { transport: session.storageTransport } },
      packages: ctx.packages,
      adjust: tenantAdjust(t),
      ...(ctx.onEvent === undefined ? {} : { onEvent: (e: PublishEvent) => ctx.onEvent?.(t.name, e) }),
      ...(ctx.clock === undefined ? {} : { clock: ctx.clock }),
    });
  } finally {
    await session.close();
  }
}

/** Every tenant given, `concurrency` at a time; one tenant's failure never stops the others. */
export async function runAcrossTenants(
  ctx: TenantRunContext,
  tenants: readonly TenantEntry[],
  concurrency = DEFAULT_TENANT_CONCURRENCY,
): Promise<TenantsRunResult> {
  const clock = ctx.clock ?? Date.now;
  const startedAt = new Date(clock()).toISOString();
  const before = { packagings: ctx.packages.packagings, reused: ctx.packages.reused };
  const results = new Array<TenantResult>(tenants.length);
  await pool(tenants.length, concurrency, async (i) => {
    results[i] = await runTenant(ctx, tenants[i]!);
  });
  return summarize(results, {
    dryRun: ctx.dryRun === true,
    startedAt,
    finishedAt: new Date(clock()).toISOString(),
    packagings: ctx.packages.packagings - before.packagings,
    packagesReused: ctx.packages.reused - before.reused,
  });
}

export function summarize(
  tenants: TenantResult[],
  o: Pick<TenantsRunResult, "dryRun" | "startedAt" | "finishedAt" | "packagings" | "packagesReused">,
): TenantsRunResult {
  const products = tenants.flatMap((t) => t.products);
  const n = (f: (p: ProductResult) => boolean): number => products.filter(f).length;
  const failedTenants = tenants.filter((t) => t.status === "failed").length;
  return {
    ...o,
    tenants,
    totals: {
      tenants: tenants.length,
      tenantsOk: tenants.length - failedTenants,
      tenantsFailed: failedTenants,
      products: products.length,
      created: n((p) => p.action === "create" && p.status !== "failed"),
      newVersions: n((p) => p.action === "new-version" && p.status !== "failed"),
      metadataUpdates: n((p) => p.action === "update-metadata" && p.status !== "failed"),
      upToDate: n((p) => p.action === "nothing"),
      skipped: n((p) => p.status === "skipped"),
      failed: n((p) => p.status === "failed"),
    },
    failed: failedTenants > 0,
    changed: tenants.some((t) => t.changed),
  };
}
