/**
 * `sync --queue`: the run's products become sync-product jobs (one per catalog id), any worker runs them, and their
 * results are put back together into the SyncResult an in-process run gives (same order: the file's).
 */
import { randomUUID } from "node:crypto";
import type { LoadedSubscriptions } from "../publish/sync/subscriptions.js";
import type { ProductResult, SyncResult } from "../publish/sync/sync.js";
import type { TenantEntry, TenantsFile } from "../core/config/tenants.js";
import { tenantHeader } from "../publish/tenants/each.js";
import { tenantSubscriptions } from "../publish/tenants/overrides.js";
import { summarize } from "../publish/tenants/run.js";
import type { TenantResult, TenantsRunResult } from "../publish/tenants/run.js";
import type { JobData, JobOutcome, JobQueue, SyncTenantProductJob } from "./queue.js";
import { subscriptionsDigest, tenantsDigest } from "./sync-job.js";
import type { TenantJobResult } from "./sync-job.js";

export interface QueuedSyncOptions {
  queue: JobQueue;
  subscriptions: LoadedSubscriptions;
  profile?: string | undefined;
  dryRun: boolean;
  only?: readonly string[];
  signal?: AbortSignal;
  onProgress?: (line: string) => void;
  runId?: string;
}

/** The jobs of one run: one per distinct catalog id of the file (every architecture and scope of it), in order. */
export async function syncJobs(o: QueuedSyncOptions, runId: string): Promise<JobData[]> {
  const sha256 = await subscriptionsDigest(o.subscriptions.file);
  const only = o.only === undefined ? undefined : new Set(o.only.map((x) => x.toLowerCase()));
  const ids: string[] = [];
  const seen = new Set<string>();
  for (const p of o.subscriptions.value.products) {
    const key = p.id.toLowerCase();
    if (seen.has(key) || (only !== undefined && !only.has(key))) continue;
    seen.add(key);
    ids.push(p.id);
  }
  return ids.map((productId) => ({
    kind: "sync-product" as const,
    runId,
    ...(o.profile === undefined ? {} : { profile: o.profile }),
    subscriptions: { path: o.subscriptions.file, sha256 },
    productId,
    dryRun: o.dryRun,
  }));
}

export async function queuedSync(o: QueuedSyncOptions): Promise<SyncResult> {
  const startedAt = new Date().toISOString();
  const jobs = await syncJobs(o, o.runId ?? randomUUID());
  const outcomes = await o.queue.run(jobs, {
    ...(o.signal === undefined ? {} : { signal: o.signal }),
    onProgress: (_, line) => o.onProgress?.(line),
  });
  const products = inFileOrder(o.subscriptions, outcomes.flatMap(productsOf));
  return {
    dryRun: o.dryRun,
    startedAt,
    finishedAt: new Date().toISOString(),
    products,
    failed: products.some((p) => p.status === "failed"),
    changed: products.some((p) => ["create", "new-version", "update-metadata"].includes(p.action)),
  };
}

function productsOf(outcome: JobOutcome): ProductResult[] {
  if (outcome.ok && Array.isArray(outcome.result)) return outcome.result as ProductResult[];
  const message = outcome.ok ? "the worker returned no result" : outcome.error;
  return [
    {
      id: outcome.data.productId,
      architecture: "-",
      scope: "-",
      action: "failed",
      status: "failed",
      reason: `job failed after ${outcome.attempts} attempt(s): ${message.split("\n")[0]}`,
      error: { kind: "internal", code: "Internal", errorCode: "Internal", message, step: "worker" },
      durationMs: 0,
    },
  ];
}

function inFileOrder(s: LoadedSubscriptions, products: ProductResult[]): ProductResult[] {
  const index = (p: ProductResult): number => {
    const i = s.value.products.findIndex(
      (x) =>
        x.id.toLowerCase() === p.id.toLowerCase() &&
        (p.architecture === "-" || (x.architecture === p.architecture && x.scope === p.scope)),
    );
    return i === -1 ? Number.MAX_SAFE_INTEGER : i;
  };
  return products
    .map((p) => [index(p), p] as const)
    .sort((a, b) => a[0] - b[0])
    .map(([, p]) => p);
}

export interface QueuedTenantsSyncOptions {
  queue: JobQueue;
  subscriptions: LoadedSubscriptions;
  /** the run's tenants file (the workers read the same file), or undefined: the workers' own `tenants:` section */
  tenantsFile: string | undefined;
  tenantsFileValue: TenantsFile;
  tenants: readonly TenantEntry[];
  dryRun: boolean;
  only?: readonly string[];
  signal?: AbortSignal;
  onProgress?: (line: string) => void;
  onTenant?: (r: TenantResult) => void;
  runId?: string;
}

/**
 * The jobs of a run across tenants: one per tenant × product the tenant gets (its excluded products left out), tenant
 * by tenant. A job names the tenant, never a credential: the worker resolves it from its own configuration.
 */
export async function tenantSyncJobs(o: QueuedTenantsSyncOptions, runId: string): Promise<SyncTenantProductJob[]> {
  const subscriptions = { path: o.subscriptions.file, sha256: await subscriptionsDigest(o.subscriptions.file) };
  const tenantsFile =
    o.tenantsFile === undefined ? undefined : { path: o.tenantsFile, sha256: await tenantsDigest(o.tenantsFile) };
  const only = o.only === undefined ? undefined : new Set(o.only.map((x) => x.toLowerCase()));
  const jobs: SyncTenantProductJob[] = [];
  for (const t of o.tenants) {
    const seen = new Set<string>();
    for (const p of tenantSubscriptions(o.subscriptions, t).value.products) {
      const key = p.id.toLowerCase();
      if (seen.has(key) || (only !== undefined && !only.has(key))) continue;
      seen.add(key);
      jobs.push({
        kind: "sync-tenant-product",
        runId,
        tenant: t.name,
        ...(tenantsFile === undefined ? {} : { tenantsFile }),
        subscriptions,
        productId: p.id,
        dryRun: o.dryRun,
      });
    }
  }
  return jobs;
}

/** `sync --tenants … --queue`: the jobs on the queue, their results put together as an in-process run's. */
export async function queuedTenantsSync(o: QueuedTenantsSyncOptions): Promise<TenantsRunResult> {
  const startedAt = new Date().toISOString();
  const jobs = await tenantSyncJobs(o, o.runId ?? randomUUID());
  const outcomes = await o.queue.run(jobs, {
    ...(o.signal === undefined ? {} : { signal: o.signal }),
    onProgress: (_, line) => o.onProgress?.(line),
  });
  const byTenant = new Map<string, TenantJobResult[]>();
  for (const outcome of outcomes) {
    const d = outcome.data as SyncTenantProductJob;
    const r = tenantJobResult(outcome, d);
    byTenant.set(d.tenant.toLowerCase(), [...(byTenant.get(d.tenant.toLowerCase()) ?? []), r]);
  }
  const results = o.tenants.map((t): TenantResult => {
    const rs = byTenant.get(t.name.toLowerCase()) ?? [];
    const error = rs.find((r) => r.error !== undefined)?.error;
    const subs = tenantSubscriptions(o.subscriptions, t);
    const products = inFileOrder(
      subs,
      rs.flatMap((r) => r.products),
    );
    const header = tenantHeader(o.tenantsFileValue, t);
    const tenantId = rs.find((r) => r.tenantId !== undefined)?.tenantId ?? header.tenantId;
    const r: TenantResult = {
      ...header,
      ...(tenantId === undefined ? {} : { tenantId }),
      status: error !== undefined || products.some((p) => p.status === "failed") ? "failed" : "ok",
      ...(error === undefined ? {} : { error }),
      products,
      changed: rs.some((x) => x.changed),
      // the workers' time on this tenant (its jobs may have run on several workers at once)
      durationMs: rs.reduce((n, x) => n + x.durationMs, 0),
    };
    o.onTenant?.(r);
    return r;
  });
  return summarize(results, {
    dryRun: o.dryRun,
    startedAt,
    finishedAt: new Date().toISOString(),
    packagings: outcomes.reduce((n, x) => n + (x.ok ? ((x.result as TenantJobResult).packagings ?? 0) : 0), 0),
    packagesReused: outcomes.reduce((n, x) => n + (x.ok ? ((x.result as TenantJobResult).packagesReused ?? 0) : 0), 0),
  });
}

function tenantJobResult(outcome: JobOutcome, d: SyncTenantProductJob): TenantJobResult {
  if (outcome.ok && typeof outcome.result === "object" && outcome.result !== null && "products" in outcome.result)
    return outcome.result as TenantJobResult;
  const message = outcome.ok ? "the worker returned no result" : outcome.error;
  return {
    tenant: d.tenant,
    products: productsOf({ ok: false, data: d, error: message, attempts: outcome.attempts }),
    changed: false,
    durationMs: 0,
    packagings: 0,
    packagesReused: 0,
  };
}
