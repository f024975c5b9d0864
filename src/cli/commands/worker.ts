import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { z } from "zod";
import { PublisherError } from "../../core/errors.js";
import { readBoundedText } from "../../platform/fs.js";
import { BlobPackageStore, FolderPackageStore } from "../../queue/package-store.js";
import type { PackageStore } from "../../queue/package-store.js";
import { DEFAULT_WRITE_LIMIT, TenantRateLimiter } from "../../queue/rate-limit.js";
import { connectRedis, queueConnection } from "../../queue/redis.js";
import { DEFAULT_STALL, startRedisWorker } from "../../queue/redis-queue.js";
import { syncJobRunner } from "../../queue/sync-job.js";
import type { JobData } from "../../queue/queue.js";
import { WorkerPackages } from "../../queue/worker-packages.js";
import { homeFolder, userStateDir } from "../../core/config/dirs.js";
import type { CommandContext } from "../command.js";
import { defineCommand } from "../command.js";
import { option } from "../options.js";
import { commandLogger } from "../session.js";
import { targetInput } from "../tenant-options.js";
import { resolveTarget } from "../../publish/target.js";

/** The account key of a blob package store (a SAS may be in its URL instead). */
export const STORE_KEY_ENV = "INTUNE_PUBLISHER_STORE_ACCOUNT_KEY";
/** A CA certificate file is a few KiB (limits.md). */
const CA_MAX_BYTES = 1024 * 1024;

const whole = (min: number) =>
  z
    .string()
    .regex(/^\d{1,9}$/, "must be a whole number")
    .transform(Number)
    .refine((n) => n >= min, `must be at least ${min}`);

/** `--package-store DIR | https://…/container`. */
export async function openPackageStore(
  ctx: CommandContext,
  spec: string,
  caFile: string | undefined,
): Promise<PackageStore> {
  if (!/^https?:\/\//i.test(spec)) return new FolderPackageStore(resolve(ctx.cwd, spec));
  if (!/^https:\/\//i.test(spec))
    throw new PublisherError("Usage", "--package-store: a blob container is reached over https:// only.", {
      hint: "Give https://ACCOUNT.blob.core.windows.net/CONTAINER, or a folder.",
    });
  ctx.secrets?.addFromUrl(spec);
  const key = ctx.env[STORE_KEY_ENV];
  ctx.secrets?.add(key);
  const caPem =
    caFile === undefined
      ? undefined
      : await readBoundedText({ path: resolve(ctx.cwd, caFile), what: "CA certificate", maxBytes: CA_MAX_BYTES });
  return new BlobPackageStore(spec, {
    ...(key === undefined || key === "" ? {} : { accountKey: key }),
    ...(caPem === undefined ? {} : { caPem }),
  });
}

/** ` (profile NAME)` or ` (tenant NAME)` in the worker's job lines. */
function jobTarget(d: JobData): string {
  if (d.kind === "sync-tenant-product") return ` (tenant ${d.tenant})`;
  return d.profile === undefined ? "" : ` (profile ${d.profile})`;
}

export default defineCommand({
  description: [
    "Runs the jobs `sync --queue` puts on a Redis queue (BullMQ), on any number of machines, until SIGTERM or",
    "Ctrl-C (jobs in flight are finished first). Each job publishes one product to one profile's tenant, or to one",
    "tenant of a tenants file (sync --tenants --queue), with this machine's configuration: profiles and credentials,",
    "catalog sources, download cache. Writes to each tenant are limited across all workers (Redis). Reference:",
    "docs/workers.md.",
  ].join("\n"),
  notes: [
    "Environment: INTUNE_PUBLISHER_QUEUE_PASSWORD or INTUNE_PUBLISHER_QUEUE_PASSWORD_FILE (the Redis password when",
    `the URL has none), ${STORE_KEY_ENV} (a blob package store's account key).`,
    "Exit codes: 0 stopped by SIGTERM or Ctrl-C, 64 bad flags, 7 the queue cannot be reached (docs/cli.md).",
  ].join("\n"),
  options: z.object({
    queue: option(z.string().min(1), {
      value: "URL",
      help: "the queue: redis://[:password@]host[:port][/db] or rediss://…",
    }),
    concurrency: option(whole(1).default(1), { value: "N", help: "jobs run at once by this worker (default 1)" }),
    packageStore: option(z.string().min(1).optional(), {
      value: "DIR|URL",
      help: "packages shared by the workers, by content hash: a folder, or https://…/CONTAINER (Azure Blob Storage)",
    }),
    packageStoreCa: option(z.string().min(1).optional(), {
      value: "FILE",
      help: "an extra CA to trust for the package store (Azurite)",
    }),
    tenantWriteLimit: option(whole(1).default(DEFAULT_WRITE_LIMIT.limit), {
      value: "N",
      help: `Graph writes per tenant per ${DEFAULT_WRITE_LIMIT.windowMs / 1000} s, across all workers (default ${DEFAULT_WRITE_LIMIT.limit})`,
    }),
    lockDuration: option(whole(1000).default(DEFAULT_STALL.lockDurationMs), {
      value: "MS",
      help: `how long a job's lock lasts without renewal: a killed worker's job runs again after it (default ${DEFAULT_STALL.lockDurationMs})`,
    }),
    stalledInterval: option(whole(500).default(DEFAULT_STALL.stalledIntervalMs), {
      value: "MS",
      help: `how often this worker looks for stalled jobs (default ${DEFAULT_STALL.stalledIntervalMs})`,
    }),
    recordGrants: option(z.boolean().default(false), {
      help: "record each write slot granted, with its time, in Redis (ipub:rate-log:<tenant>; for audits and tests)",
    }),
    config: option(z.string().min(1).optional(), {
      value: "FILE",
      help: "the profiles file (default: <user config folder>/intune-publisher/config.yaml)",
    }),
    state: option(z.string().min(1).optional(), {
      value: "DIR",
      help: "the emulator state folder to look in for a running local tenant",
    }),
  }),
  async run(ctx, o) {
    const conn = await queueConnection(o.queue, ctx.env, ctx.secrets);
    const store =
      o.packageStore === undefined ? undefined : await openPackageStore(ctx, o.packageStore, o.packageStoreCa);
    const redis = await connectRedis(conn, ctx.signal);
    // tenant jobs: each product version packaged once (this worker; with a store, the fleet: a build lock on Redis)
    const stateDir = userStateDir(ctx.env, process.platform, homeFolder(ctx.env, process.platform, homedir));
    const packages = new WorkerPackages(
      join(stateDir, "tenants", "packages", `worker-${process.pid}`),
      store,
      store === undefined ? undefined : redis,
    );
    const limiter = new TenantRateLimiter(redis, {
      limit: o.tenantWriteLimit,
      windowMs: DEFAULT_WRITE_LIMIT.windowMs,
      record: o.recordGrants,
    });
    const runner = syncJobRunner(
      {
        env: ctx.env,
        secrets: ctx.secrets,
        logger: commandLogger(ctx),
        onWarning: (line) => ctx.stderr.write(`warning: ${line}\n`),
        resolveTarget: (flags) => resolveTarget(targetInput(ctx, { ...flags, config: o.config, state: o.state })),
      },
      {
        config: o.config === undefined ? undefined : resolve(ctx.cwd, o.config),
        limiter,
        ...(store === undefined ? {} : { packageStore: store }),
        packages,
      },
    );
    try {
      const worker = await startRedisWorker(
        conn,
        (data, jc) =>
          runner.handler(data, {
            ...jc,
            progress: (line) => {
              ctx.stderr.write(`worker: ${line}\n`);
              jc.progress(line);
            },
          }),
        {
          concurrency: o.concurrency,
          stall: { lockDurationMs: o.lockDuration, stalledIntervalMs: o.stalledInterval },
          onJob: (e) =>
            ctx.stderr.write(
              `worker: job ${e.id} ${e.data.productId}${jobTarget(e.data)}: ${e.state}${e.detail === undefined ? "" : `: ${e.detail}`}\n`,
            ),
        },
      );
      ctx.stderr.write(
        `worker: waiting for jobs on ${conn.display} (pid ${process.pid}, concurrency ${o.concurrency}).\n`,
      );
      if (!ctx.signal.aborted)
        await new Promise<void>((r) => ctx.signal.addEventListener("abort", () => r(), { once: true }));
      ctx.stderr.write("worker: stopping: jobs in flight finish first.\n");
      await worker.close();
      if (store !== undefined)
        ctx.stderr.write(
          `worker: package store ${store.label}: ${store.stats.hits} hit(s), ${store.stats.misses} miss(es), ${store.stats.puts} stored.\n`,
        );
      ctx.stderr.write("worker: stopped.\n");
      return 0;
    } finally {
      await runner.close();
      await packages.close();
      redis.disconnect();
    }
  },
});
