/**
 * The job queue behind `sync` (docs/workers.md): enqueue jobs, wait for their results, hear their progress. Two
 * implementations share this interface: in-process (default, no server; this file) and BullMQ on Redis
 * (`redis-queue.ts`, chosen with `--queue redis://…`). Both retry a failed job with exponential backoff.
 *
 * A job carries names only, never a secret: the worker that runs it reads credentials from its own configuration.
 */
import { setTimeout as delay } from "node:timers/promises";

/** Publish one subscribed product (every architecture and scope of its id) to one tenant: `sync --only ID`. */
export interface SyncProductJob {
  kind: "sync-product";
  /** the run that enqueued it (a UUID) */
  runId: string;
  /** the profile (tenant) the worker signs in with; absent: the worker's default (its defaultProfile, else local) */
  profile?: string;
  /** the subscriptions file: its absolute path on the workers and the SHA-256 of its bytes when enqueued */
  subscriptions: { path: string; sha256: string };
  productId: string;
  dryRun: boolean;
}

/**
 * Publish one subscribed product to one tenant of a tenants file (`sync --tenants … --queue`): the worker finds the
 * tenant by name in the same tenants file (path and SHA-256), or in its own configuration's `tenants:` section when
 * the run used one, and applies the tenant's overrides.
 */
export interface SyncTenantProductJob {
  kind: "sync-tenant-product";
  runId: string;
  /** the tenant's name in the tenants file */
  tenant: string;
  /** the tenants file; absent: the worker's configuration file's `tenants:` section */
  tenantsFile?: { path: string; sha256: string };
  subscriptions: { path: string; sha256: string };
  productId: string;
  dryRun: boolean;
}

export type JobData = SyncProductJob | SyncTenantProductJob;

/** What a job returned (JSON). */
export type JobResult = unknown;

export interface JobContext {
  /** aborted when the run stops (in-process) or the worker is forced to stop */
  signal: AbortSignal;
  /** 1 for the first attempt */
  attempt: number;
  /** the attempts allowed in all: a handler may return a failure on the last one instead of throwing */
  attempts: number;
  /** a line for the enqueuing side (e.g. `Contoso.Tool: upload …`) */
  progress(line: string): void;
}

export type JobHandler = (data: JobData, ctx: JobContext) => Promise<JobResult>;

export type JobOutcome =
  | { ok: true; data: JobData; result: JobResult; attempts: number }
  | { ok: false; data: JobData; error: string; attempts: number };

export interface RunJobsOptions {
  onProgress?: (data: JobData, line: string) => void;
  signal?: AbortSignal;
}

export interface JobQueue {
  /** Enqueues the jobs and waits for every one to end (done, or failed after its last attempt); in order. */
  run(jobs: readonly JobData[], o?: RunJobsOptions): Promise<JobOutcome[]>;
  close(): Promise<void>;
}

/** Retries: attempts in all, and the first backoff (doubled at each retry). */
export interface RetryPolicy {
  attempts: number;
  backoffMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 3, backoffMs: 5_000 };

/** The wait before attempt `attempt + 1` after attempt `attempt` failed: backoff × 2^(attempt-1). */
export function backoffDelay(policy: RetryPolicy, attempt: number): number {
  return policy.backoffMs * 2 ** (attempt - 1);
}

/** A handler's error that retrying cannot fix (bad input): the job fails at once. */
export class PermanentJobError extends Error {
  override readonly name = "PermanentJobError";
}

/** Runs jobs in this process, `concurrency` at a time, with the same retries as the workers. */
export class InProcessQueue implements JobQueue {
  constructor(
    private readonly handler: JobHandler,
    private readonly o: { concurrency?: number; retry?: RetryPolicy } = {},
  ) {}

  async run(jobs: readonly JobData[], ro: RunJobsOptions = {}): Promise<JobOutcome[]> {
    const retry = this.o.retry ?? DEFAULT_RETRY;
    const out = new Array<JobOutcome>(jobs.length);
    const signal = ro.signal ?? new AbortController().signal;
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < jobs.length) {
        const i = next++;
        const data = jobs[i]!;
        for (let attempt = 1; ; attempt++) {
          try {
            const result = await this.handler(data, {
              signal,
              attempt,
              attempts: retry.attempts,
              progress: (line) => ro.onProgress?.(data, line),
            });
            out[i] = { ok: true, data, result, attempts: attempt };
            break;
          } catch (e) {
            const error = e instanceof Error ? e.message : String(e);
            if (e instanceof PermanentJobError || attempt >= retry.attempts || signal.aborted) {
              out[i] = { ok: false, data, error, attempts: attempt };
              break;
            }
            try {
              await delay(backoffDelay(retry, attempt), undefined, { signal });
            } catch {
              out[i] = { ok: false, data, error, attempts: attempt };
              break;
            }
          }
        }
      }
    };
    const lanes = Math.max(1, Math.min(this.o.concurrency ?? 4, jobs.length));
    await Promise.all(Array.from({ length: lanes }, lane));
    return out;
  }

  async close(): Promise<void> {}
}
