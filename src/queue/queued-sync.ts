/**
 * `sync --queue`: the run's products become sync-product jobs (one per catalog id), any worker runs them, and their
 * results are put back together into the SyncResult an in-process run gives (same order: the file's).
 */
import { randomUUID } from "node:crypto";
import type { LoadedSubscriptions } from "../publish/sync/subscriptions.js";
import type { ProductResult, SyncResult } from "../publish/sync/sync.js";
import type { JobData, JobOutcome, JobQueue } from "./queue.js";
import { subscriptionsDigest } from "./sync-job.js";

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
    kind: "sync-product",
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
