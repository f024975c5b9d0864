/**
 * The job queue on Redis with BullMQ (docs/workers.md): `sync --queue` enqueues (RedisJobQueue) and waits through
 * BullMQ's queue events; `worker --queue` runs the jobs (startRedisWorker). A worker killed mid-job stops renewing its
 * job's lock: after `lockDuration` another worker's stalled-job check moves the job back to waiting and it runs again
 * (the ownership stamp and the upload journal make a re-run safe).
 */
import { Queue, QueueEvents, UnrecoverableError, Worker } from "bullmq";
import type { Job } from "bullmq";
import { Redis } from "ioredis";
import { DEFAULT_RETRY, PermanentJobError } from "./queue.js";
import type { JobData, JobHandler, JobOutcome, JobQueue, RetryPolicy, RunJobsOptions } from "./queue.js";
import type { QueueConnection } from "./redis.js";

/** Every key BullMQ writes starts with this prefix. */
export const QUEUE_PREFIX = "ipub";
export const QUEUE_NAME = "jobs";

/** BullMQ's own defaults (30 s lock, checked every 30 s); tests shorten them. */
export interface StallSettings {
  lockDurationMs: number;
  stalledIntervalMs: number;
}
export const DEFAULT_STALL: StallSettings = { lockDurationMs: 30_000, stalledIntervalMs: 30_000 };

/** Completed and failed jobs are kept this long for `sync` to read their result, then dropped. */
const KEEP_SECONDS = 24 * 3600;

export class RedisJobQueue implements JobQueue {
  private readonly queue: Queue;
  private readonly events: QueueEvents;
  /** BullMQ leaves connections it was given open: they are ours to close */
  private readonly connections: Redis[];

  constructor(
    conn: QueueConnection,
    private readonly retry: RetryPolicy = DEFAULT_RETRY,
  ) {
    this.connections = [new Redis(conn.options), new Redis(conn.options)];
    for (const c of this.connections) c.on("error", () => undefined);
    this.queue = new Queue(QUEUE_NAME, { connection: this.connections[0]!, prefix: QUEUE_PREFIX });
    this.events = new QueueEvents(QUEUE_NAME, { connection: this.connections[1]!, prefix: QUEUE_PREFIX });
  }

  async run(jobs: readonly JobData[], o: RunJobsOptions = {}): Promise<JobOutcome[]> {
    await this.events.waitUntilReady();
    const ids = new Map<string, JobData>();
    const onProgress = ({ jobId, data }: { jobId: string; data: unknown }): void => {
      const job = ids.get(jobId);
      if (job !== undefined && typeof data === "string") o.onProgress?.(job, data);
    };
    this.events.on("progress", onProgress);
    try {
      const added = await this.queue.addBulk(
        jobs.map((data, i) => ({
          name: data.kind,
          data,
          opts: {
            // one id per run and job: enqueuing the same run twice adds nothing
            jobId: `${data.runId}-${i}`,
            attempts: this.retry.attempts,
            backoff: { type: "exponential", delay: this.retry.backoffMs },
            removeOnComplete: { age: KEEP_SECONDS },
            removeOnFail: { age: KEEP_SECONDS },
          },
        })),
      );
      for (const [i, job] of added.entries()) ids.set(job.id!, jobs[i]!);
      const stopped = new Promise<never>((_, reject) => {
        if (o.signal === undefined) return;
        const stop = (): void => reject(o.signal!.reason instanceof Error ? o.signal!.reason : new Error("aborted"));
        if (o.signal.aborted) stop();
        else o.signal.addEventListener("abort", stop, { once: true });
      });
      stopped.catch(() => undefined);
      return await Promise.all(
        added.map(async (job, i): Promise<JobOutcome> => {
          const data = jobs[i]!;
          try {
            const result: unknown = await Promise.race([job.waitUntilFinished(this.events), stopped]);
            const done = await this.queue.getJob(job.id!);
            return { ok: true, data, result, attempts: Math.max(1, done?.attemptsMade ?? 1) };
          } catch (e) {
            if (o.signal?.aborted === true) throw e;
            const failed = await this.queue.getJob(job.id!);
            return {
              ok: false,
              data,
              error: failed?.failedReason ?? (e instanceof Error ? e.message : String(e)),
              attempts: failed?.attemptsMade ?? this.retry.attempts,
            };
          }
        }),
      );
    } finally {
      this.events.off("progress", onProgress);
    }
  }

  /** The raw jobs of a run, for tests and `sync` diagnostics. */
  jobsOf(runId: string, count: number): Promise<(Job | undefined)[]> {
    return Promise.all(Array.from({ length: count }, (_, i) => this.queue.getJob(`${runId}-${i}`)));
  }

  async close(): Promise<void> {
    await this.events.close();
    await this.queue.close();
    for (const c of this.connections) c.disconnect();
  }
}

export interface RedisWorkerOptions {
  concurrency?: number;
  stall?: StallSettings;
  /** told when a job starts and ends (for the worker's log) */
  onJob?: (e: { id: string; data: JobData; state: "active" | "completed" | "failed"; detail?: string }) => void;
}

export interface RedisWorker {
  /** Stops taking jobs and waits for the in-flight ones to end. */
  close(): Promise<void>;
  /** Ends at once: in-flight jobs are aborted and left to the stalled-job check of another worker. */
  forceClose(): Promise<void>;
}

export async function startRedisWorker(
  conn: QueueConnection,
  handler: JobHandler,
  o: RedisWorkerOptions = {},
): Promise<RedisWorker> {
  const stall = o.stall ?? DEFAULT_STALL;
  const aborts = new Set<AbortController>();
  const connection = new Redis(conn.options);
  connection.on("error", () => undefined);
  const worker = new Worker<JobData, unknown>(
    QUEUE_NAME,
    async (job) => {
      const ac = new AbortController();
      aborts.add(ac);
      try {
        return await handler(job.data, {
          signal: ac.signal,
          attempt: job.attemptsMade + 1,
          attempts: job.opts.attempts ?? 1,
          progress: (line) => void job.updateProgress(line).catch(() => undefined),
        });
      } catch (e) {
        if (e instanceof PermanentJobError) throw new UnrecoverableError(e.message);
        throw e;
      } finally {
        aborts.delete(ac);
      }
    },
    {
      connection,
      prefix: QUEUE_PREFIX,
      concurrency: o.concurrency ?? 1,
      lockDuration: stall.lockDurationMs,
      stalledInterval: stall.stalledIntervalMs,
      maxStalledCount: 2,
    },
  );
  worker.on("active", (job) => o.onJob?.({ id: job.id!, data: job.data, state: "active" }));
  worker.on("completed", (job) => o.onJob?.({ id: job.id!, data: job.data, state: "completed" }));
  worker.on("failed", (job, e) => {
    if (job !== undefined) o.onJob?.({ id: job.id!, data: job.data, state: "failed", detail: e.message });
  });
  worker.on("error", () => undefined);
  await worker.waitUntilReady();
  return {
    async close() {
      await worker.close();
      connection.disconnect();
    },
    async forceClose() {
      for (const ac of aborts) ac.abort(new Error("worker stopped"));
      await worker.close(true);
      connection.disconnect();
    },
  };
}
