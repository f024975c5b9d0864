import { homedir } from "node:os";
import { INVENTORY_MAX_AGE_DEFAULT, INVENTORY_MAX_AGE_MAX } from "../../publish/inventory-report.js";
import { join, resolve } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { z } from "zod";
import type { openCatalogSource } from "../../catalog/catalog.js";
import { homeFolder, userStateDir } from "../../core/config/dirs.js";
import { PublisherError } from "../../core/errors.js";
import { pathsFor, readProfilesFile } from "../../publish/connect/config-store.js";
import { defaultHistoryFile, SyncHistory } from "../../publish/sync/history.js";
import { acquireSyncLock } from "../../publish/sync/lock.js";
import { DEFAULT_SUBSCRIPTIONS_FILE, loadSubscriptions } from "../../publish/sync/subscriptions.js";
import { formatMb } from "../../publish/sync/sync.js";
import { runSubscriptionsSync } from "../../publish/sync/run.js";
import type { ProductResult, SyncResult } from "../../publish/sync/sync.js";
import { defineCommand } from "../command.js";
import type { CommandContext } from "../command.js";
import { option } from "../options.js";
import { renderTable } from "../output.js";
import { queuedSync, queuedTenantsSync } from "../../queue/queued-sync.js";
import { connectRedis, queueConnection } from "../../queue/redis.js";
import { RedisJobQueue } from "../../queue/redis-queue.js";
import { runLogFile, withGraph } from "../session.js";
import { tenantOptions } from "../tenant-options.js";
import {
  firstLine,
  selectedTenants,
  TENANT_RUN_COLUMNS,
  tenantTargets,
  tenantsFailure,
  tenantsOptions,
} from "../tenants.js";
import type { TenantsOptions } from "../tenants.js";
import { SharedPackages } from "../../publish/tenants/packages.js";
import { runAcrossTenants } from "../../publish/tenants/run.js";
import type { TenantsRunResult } from "../../publish/tenants/run.js";
import { openCatalogAccess } from "../../publish/catalog/access.js";

/** `--detailed-exitcode`: success, and the tenant was (or, with --dry-run, would be) changed. */
export const SYNC_CHANGES_EXIT_CODE = 2;
/** Another sync holds the lock: this one did not run (sysexits EX_TEMPFAIL: try again later). */
export const SYNC_BUSY_EXIT_CODE = 75;
/** `--every`: at least a minute, at most a week. */
export const EVERY_LIMITS = { minMs: 60_000, maxMs: 7 * 24 * 3600_000 };

/** `6h`, `30m`, `1d`, `90s` → ms. */
export function parseEvery(text: string): number | undefined {
  const m = /^(\d{1,6})(s|m|h|d)$/.exec(text.trim());
  if (!m) return undefined;
  return Number(m[1]) * { s: 1000, m: 60_000, h: 3600_000, d: 86_400_000 }[m[2] as "s" | "m" | "h" | "d"];
}

function printResult(ctx: CommandContext, r: SyncResult, source: string): void {
  const rows = r.products.map((p) => [
    p.id,
    p.version ?? "-",
    p.action,
    p.status,
    p.appId ?? "-",
    `${(p.durationMs / 1000).toFixed(1)} s`,
    p.reason,
  ]);
  const n = (f: (p: ProductResult) => boolean): number => r.products.filter(f).length;
  ctx.stdout.write(
    [
      r.dryRun
        ? `Sync plan for ${source} (dry run: no installer was downloaded, nothing was written)`
        : `Sync of ${source}`,
      renderTable([["Product", "Version", "Action", "Result", "App id", "Time", "Reason"], ...rows]),
      "",
      `Summary: ${r.products.length} product(s): ${n((p) => p.action === "create")} created, ${n((p) => p.action === "new-version")} new version(s), ${n((p) => p.action === "update-metadata")} metadata update(s), ${n((p) => p.action === "nothing")} up to date, ${n((p) => p.status === "skipped")} skipped, ${n((p) => p.status === "failed")} failed.`,
      ...(r.willDownload === undefined
        ? []
        : [
            `A real run will download ${formatMb(r.willDownload.bytes)} (${r.willDownload.count} installer(s)${r.willDownload.unknownSize > 0 ? `, ${r.willDownload.unknownSize} of unknown size` : ""}); installers already in the cache are not counted.`,
          ]),
    ].join("\n") + "\n",
  );
}

function failureError(r: SyncResult): PublisherError | undefined {
  const failed = r.products.filter((p) => p.status === "failed");
  if (failed.length === 0) return undefined;
  const first = failed[0]!.error;
  // the first failure's code, so the exit code is its kind's
  return new PublisherError(
    first?.errorCode ?? "Internal",
    `Sync failed for ${failed.length} of ${r.products.length} product(s):\n${failed.map((p) => `  ${p.id}: ${p.reason}`).join("\n")}`,
    {
      hint: "The other products were synced. Fix the cause shown (docs/troubleshooting.md#sync) and run sync again: it continues where it stopped.",
    },
  );
}

export default defineCommand({
  description: [
    "Keeps the catalog products of a subscriptions file up to date in the tenant: resolves each product's newest",
    "(or pinned) version, plans (nothing, create, new version, metadata change, skipped with why), downloads and",
    "verifies the installer (cached: a file already verified is not downloaded again), packages it and publishes it",
    "with the publish engine: the subscription's targeting, strategy (inPlace or supersede), versions kept, mode",
    "(application or updateOnly). One product's failure never stops the others. Each run is recorded in the sync",
    "history (SQLite). With --every, runs on a schedule until SIGTERM. Reference: docs/sync.md.",
  ].join("\n"),
  notes: [
    "With --tenants all|TAG|NAME: one run across the tenants of a tenants file (docs/tenants.md), each with its",
    "overrides, a few at a time (--tenant-concurrency); each product version is packaged once for all of them.",
    "With --tenants and --queue: one job per tenant × product for `worker` processes (docs/workers.md).",
    `Exit codes: 0 done, ${SYNC_CHANGES_EXIT_CODE} changes (with --detailed-exitcode), ${SYNC_BUSY_EXIT_CODE} another sync is running (nothing done),`,
    "9 bad subscriptions file, 10 a download failed its hash check, 130 stopped by a signal; when products failed,",
    "the first failure's code (docs/cli.md).",
  ].join("\n"),
  options: z.object({
    subscriptions: option(z.string().min(1).default(DEFAULT_SUBSCRIPTIONS_FILE), {
      value: "FILE",
      help: `the subscriptions file (default ./${DEFAULT_SUBSCRIPTIONS_FILE}; docs/sync.md)`,
    }),
    dryRun: option(z.boolean().default(false), {
      help: "plan only: versions resolved and installers verified, nothing written to the tenant",
    }),
    detailedExitcode: option(z.boolean().default(false), {
      help: `exit ${SYNC_CHANGES_EXIT_CODE} (not 0) when the tenant was (or would be) changed`,
    }),
    only: option(z.array(z.string().min(1, "must not be empty")).default([]), {
      value: "ID",
      help: "sync only this catalog id (repeatable)",
    }),
    every: option(z.string().min(1).optional(), {
      value: "INTERVAL",
      help: "run on a schedule (e.g. 6h, 30m, 1d) until SIGTERM or Ctrl-C; a failed run does not stop it",
    }),
    concurrency: option(
      z
        .string()
        .regex(/^[1-9]\d*$/, "must be a whole number from 1")
        .transform(Number)
        .optional(),
      { value: "N", help: "apps published at once (default 8)" },
    ),
    inventoryMaxAge: option(
      z.coerce.number().int().min(0).max(INVENTORY_MAX_AGE_MAX).default(INVENTORY_MAX_AGE_DEFAULT),
      {
        value: "MINUTES",
        help: "autoPublish: use the cached inventory when it is at most this old (default 60; 0 reads it again)",
      },
    ),
    queue: option(z.string().min(1).optional(), {
      value: "URL",
      help: "run the products as jobs on this Redis queue (redis://…, rediss://…) for `worker` processes, and wait for them (docs/workers.md)",
    }),
    ...tenantOptions.shape,
    ...tenantsOptions.shape,
  }),
  async run(ctx, o) {
    let everyMs: number | undefined;
    if (o.every !== undefined) {
      everyMs = parseEvery(o.every);
      if (everyMs === undefined || everyMs < EVERY_LIMITS.minMs || everyMs > EVERY_LIMITS.maxMs)
        throw new PublisherError("Usage", `--every ${o.every} is not an interval from 1m to 7d.`, {
          hint: "Give a number and a unit: 6h, 30m, 1d.",
        });
    }
    if (o.queue !== undefined) checkQueueFlags(o);
    // Every problem of the files is reported before anything starts (exit 9).
    const subscriptions = await loadSubscriptions(o.subscriptions, ctx.cwd);
    if (o.tenants.length > 0) await selectedTenants(ctx, o);
    const paths = pathsFor({ env: ctx.env, configFile: o.config });
    const config = await readProfilesFile(paths);
    const home = homeFolder(ctx.env, process.platform, homedir);
    const stateDir = userStateDir(ctx.env, process.platform, home);
    const once = async (trigger: string): Promise<number> => {
      const lock = await acquireSyncLock(stateDir);
      if (!lock.acquired) {
        const h = lock.holder;
        ctx.stderr.write(
          `error: another sync is running${h ? ` (pid ${h.pid} on ${h.hostname}, since ${h.startedAt})` : ""}: this ${trigger} run did nothing.\nhint: Wait for it to finish; sync runs never overlap (docs/sync.md).\n`,
        );
        return SYNC_BUSY_EXIT_CODE;
      }
      try {
        if (o.tenants.length > 0 && o.queue !== undefined)
          return await runTenantsQueued(ctx, { ...o, queue: o.queue }, subscriptions, stateDir, trigger);
        if (o.tenants.length > 0)
          return await runTenantsOnce(ctx, o, subscriptions, config?.catalog, paths.file, stateDir, trigger);
        if (o.queue !== undefined)
          return await runQueued(ctx, { ...o, queue: o.queue }, subscriptions, stateDir, trigger);
        return await runOnce(ctx, o, subscriptions, config?.catalog, paths.file, stateDir, trigger);
      } finally {
        await lock.release();
      }
    };
    if (everyMs === undefined) return once("manual");
    for (;;) {
      const started = Date.now();
      try {
        const code = await once("schedule");
        ctx.stderr.write(`sync: run finished (exit ${code}); next in ${o.every}.\n`);
      } catch (e) {
        if (ctx.signal.aborted) throw e;
        // A failed run never stops the schedule: it is reported and recorded, the next run tries again.
        ctx.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\nsync: next run in ${o.every}.\n`);
      }
      if (ctx.signal.aborted) break;
      try {
        await delay(Math.max(0, everyMs - (Date.now() - started)), undefined, { signal: ctx.signal });
      } catch {
        break;
      }
    }
    ctx.stderr.write("sync: stopped.\n");
    return 0;
  },
});

/** With --queue, workers sign in with their own configuration: only a profile name can travel in a job. */
function checkQueueFlags(o: z.output<typeof tenantOptions>): void {
  const given = Object.keys(tenantOptions.shape)
    .filter((k) => k !== "profile" && k !== "config" && o[k as keyof typeof o] !== undefined)
    .map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
  if (given.length > 0)
    throw new PublisherError("Usage", `--queue cannot be used with ${given.join(", ")}.`, {
      hint: "Jobs carry a profile name only: workers read the tenant and credentials from their own configuration. Name the tenant with --profile.",
    });
}

async function runQueued(
  ctx: CommandContext,
  o: { dryRun: boolean; detailedExitcode: boolean; only: string[]; queue: string; profile?: string | undefined },
  subscriptions: Awaited<ReturnType<typeof loadSubscriptions>>,
  stateDir: string,
  trigger: string,
): Promise<number> {
  const conn = await queueConnection(o.queue, ctx.env, ctx.secrets);
  // fail fast with QueueUnavailable rather than wait on a server that is not there
  (await connectRedis(conn, ctx.signal)).disconnect();
  const queue = new RedisJobQueue(conn);
  const history = SyncHistory.open(defaultHistoryFile(stateDir));
  try {
    const result = await queuedSync({
      queue,
      subscriptions,
      profile: o.profile,
      dryRun: o.dryRun,
      ...(o.only.length === 0 ? {} : { only: o.only }),
      signal: ctx.signal,
      onProgress: (line) => ctx.stderr.write(`${line}\n`),
    }).catch((e: unknown) => {
      if (ctx.signal.aborted)
        throw new PublisherError("Cancelled", "Sync stopped by a signal: jobs already on the queue still run.", {
          hint: "The workers finish them; run sync again to see the result (a re-run changes nothing that is done).",
        });
      throw e;
    });
    if (!o.dryRun) history.record(result, trigger, false, undefined, { kind: "sync", logFile: runLogFile(ctx) });
    const source = `${o.profile === undefined ? "the workers' default profile" : `profile ${o.profile}`} through ${conn.display}`;
    if (ctx.output === "json")
      ctx.stdout.write(
        JSON.stringify({ target: { profile: o.profile ?? null, queue: conn.display }, ...result }, null, 2) + "\n",
      );
    else printResult(ctx, result, source);
    const failure = failureError(result);
    if (failure) throw failure;
    return o.detailedExitcode && result.changed ? SYNC_CHANGES_EXIT_CODE : 0;
  } finally {
    history.close();
    await queue.close();
  }
}

/** `sync --tenants … --queue`: one job per tenant × product for the workers (docs/workers.md). */
async function runTenantsQueued(
  ctx: CommandContext,
  o: {
    dryRun: boolean;
    detailedExitcode: boolean;
    only: string[];
    queue: string;
    config?: string | undefined;
  } & TenantsOptions,
  subscriptions: Awaited<ReturnType<typeof loadSubscriptions>>,
  stateDir: string,
  trigger: string,
): Promise<number> {
  const { file, tenants } = await selectedTenants(ctx, o);
  const configFile = pathsFor({
    env: ctx.env,
    configFile: o.config === undefined ? undefined : resolve(ctx.cwd, o.config),
  }).file;
  const conn = await queueConnection(o.queue, ctx.env, ctx.secrets);
  (await connectRedis(conn, ctx.signal)).disconnect();
  const queue = new RedisJobQueue(conn);
  try {
    const result = await queuedTenantsSync({
      queue,
      subscriptions,
      // a tenants: section is read by each worker from its own configuration file
      tenantsFile: file.file === configFile ? undefined : file.file,
      tenantsFileValue: file.value,
      tenants,
      dryRun: o.dryRun,
      ...(o.only.length === 0 ? {} : { only: o.only }),
      signal: ctx.signal,
      onProgress: (line) => ctx.stderr.write(`${line}\n`),
      onTenant: (r) =>
        ctx.stderr.write(
          `${r.tenant}: ${r.status === "ok" ? "done" : `failed: ${r.error?.message.split("\n")[0] ?? "products failed"}`}\n`,
        ),
    }).catch((e: unknown) => {
      if (ctx.signal.aborted)
        throw new PublisherError("Cancelled", "Sync stopped by a signal: jobs already on the queue still run.", {
          hint: "The workers finish them; run sync again to see the result (a re-run changes nothing that is done).",
        });
      throw e;
    });
    if (!o.dryRun) recordTenants(stateDir, result, trigger, false, runLogFile(ctx));
    if (ctx.output === "json") ctx.stdout.write(JSON.stringify(result, null, 2) + "\n");
    else printTenantsResult(ctx, result);
    const failure = syncTenantsFailure(result);
    if (failure) throw failure;
    return o.detailedExitcode && result.changed ? SYNC_CHANGES_EXIT_CODE : 0;
  } finally {
    await queue.close();
  }
}

async function runOnce(
  ctx: CommandContext,
  o: {
    dryRun: boolean;
    detailedExitcode: boolean;
    only: string[];
    concurrency?: number | undefined;
    inventoryMaxAge: number;
  } & z.output<typeof tenantOptions>,
  subscriptions: Awaited<ReturnType<typeof loadSubscriptions>>,
  catalogConfig: Parameters<typeof openCatalogSource>[1]["config"],
  configFile: string,
  stateDir: string,
  trigger: string,
): Promise<number> {
  return withGraph(
    ctx,
    o,
    o.dryRun ? "Planning a sync against" : "Syncing the subscriptions to",
    async (session, target, logger) => {
      const result = await runSubscriptionsSync({
        env: ctx.env,
        secrets: ctx.secrets,
        session,
        target,
        logger,
        subscriptions,
        catalogConfig,
        configFile,
        stateDir,
        trigger,
        logFile: runLogFile(ctx),
        dryRun: o.dryRun,
        only: o.only,
        concurrency: o.concurrency,
        inventoryMaxAge: o.inventoryMaxAge,
        signal: ctx.signal,
        onEvent: (e) => {
          if (e.type === "step") ctx.stderr.write(`${e.id}: ${e.detail}\n`);
        },
        onNote: (line) => ctx.stderr.write(`${line}\n`),
      });
      if (ctx.output === "json") ctx.stdout.write(JSON.stringify({ target: target.info, ...result }, null, 2) + "\n");
      else printResult(ctx, result, target.source);
      if (ctx.signal.aborted)
        throw new PublisherError("Cancelled", "Sync stopped by a signal.", {
          hint: "Run sync again: uploads in flight resume where they stopped.",
        });
      const failure = failureError(result);
      if (failure) throw failure;
      return o.detailedExitcode && result.changed ? SYNC_CHANGES_EXIT_CODE : 0;
    },
  );
}

/** One run across the tenants `--tenants` selects (docs/tenants.md). */
async function runTenantsOnce(
  ctx: CommandContext,
  o: {
    dryRun: boolean;
    detailedExitcode: boolean;
    only: string[];
    concurrency?: number | undefined;
  } & z.output<typeof tenantOptions> &
    TenantsOptions,
  subscriptions: Awaited<ReturnType<typeof loadSubscriptions>>,
  catalogConfig: Parameters<typeof openCatalogSource>[1]["config"],
  configFile: string,
  stateDir: string,
  trigger: string,
): Promise<number> {
  const { file, tenants } = await selectedTenants(ctx, o);
  const targets = tenantTargets(ctx, o, file);
  const packages = new SharedPackages(join(stateDir, "tenants", "packages", String(process.pid)));
  try {
    // The catalog and the downloads go through the network settings (proxy, CA) of the first tenant that resolves.
    const first = await targets.first(tenants);
    const access = await openCatalogAccess(ctx, first, {
      configFile,
      catalogConfig,
      cwd: subscriptions.dir,
      stateDir,
    });
    try {
      const inProcess = first.inProcess;
      const result = await runAcrossTenants(
        {
          file: file.value,
          subscriptions,
          openSource: access.openSource,
          downloader: access.downloader,
          packages,
          connect: (t) => targets.connect(t),
          workDir: join(stateDir, "tenants", "work"),
          // A resume journal only makes sense for tenants that outlive this process.
          ...(inProcess ? {} : { journalDir: join(stateDir, "tenants", "uploads") }),
          dryRun: o.dryRun,
          ...(o.only.length === 0 ? {} : { only: o.only }),
          ...(o.concurrency === undefined ? {} : { concurrency: o.concurrency }),
          signal: ctx.signal,
          onEvent: (tenant, e) => {
            if (e.type === "step") ctx.stderr.write(`${tenant}: ${e.id}: ${e.detail}\n`);
          },
          onTenant: (r) =>
            ctx.stderr.write(
              `${r.tenant}: ${r.status === "ok" ? "done" : `failed: ${r.error?.message.split("\n")[0] ?? "products failed"}`}\n`,
            ),
        },
        tenants,
        o.tenantConcurrency,
      );
      if (!o.dryRun) recordTenants(stateDir, result, trigger, ctx.signal.aborted, runLogFile(ctx));
      if (ctx.output === "json") ctx.stdout.write(JSON.stringify(result, null, 2) + "\n");
      else printTenantsResult(ctx, result);
      if (ctx.signal.aborted)
        throw new PublisherError("Cancelled", "Sync stopped by a signal.", {
          hint: "Run sync again: uploads in flight resume where they stopped.",
        });
      const failure = syncTenantsFailure(result);
      if (failure) throw failure;
      return o.detailedExitcode && result.changed ? SYNC_CHANGES_EXIT_CODE : 0;
    } finally {
      await access.close();
    }
  } finally {
    await packages.close();
    await targets.close();
  }
}

/** A run across tenants goes to the sync history once per tenant, with the tenant's name. */
function recordTenants(
  stateDir: string,
  r: TenantsRunResult,
  trigger: string,
  cancelled: boolean,
  logFile: string | null,
): void {
  const history = SyncHistory.open(defaultHistoryFile(stateDir));
  try {
    for (const t of r.tenants)
      history.record(
        { products: t.products, startedAt: r.startedAt, finishedAt: r.finishedAt, dryRun: r.dryRun },
        trigger,
        cancelled,
        { name: t.tenant, failed: t.status === "failed" },
        { kind: "sync", logFile },
      );
  } finally {
    history.close();
  }
}

function printTenantsResult(ctx: CommandContext, r: TenantsRunResult): void {
  const count = (t: TenantsRunResult["tenants"][number], f: (p: ProductResult) => boolean): number =>
    t.products.filter(f).length;
  const rows = r.tenants.map((t) => [
    t.tenant,
    t.tenantId ?? "-",
    t.status,
    String(count(t, (p) => p.action === "create" && p.status !== "failed")),
    String(count(t, (p) => p.action === "new-version" && p.status !== "failed")),
    String(count(t, (p) => p.action === "update-metadata" && p.status !== "failed")),
    String(count(t, (p) => p.action === "nothing")),
    String(count(t, (p) => p.status === "failed")),
    `${(t.durationMs / 1000).toFixed(1)} s`,
    t.error !== undefined
      ? t.error.message.split("\n")[0]!
      : t.products
          .filter((p) => p.status === "failed")
          .map((p) => `${p.id}: ${p.reason}`)
          .join("; "),
  ]);
  const x = r.totals;
  ctx.stdout.write(
    [
      r.dryRun ? "Sync plan across tenants (dry run: nothing written)" : "Sync across tenants",
      renderTable([TENANT_RUN_COLUMNS, ...rows]),
      "",
      `Total: ${x.tenants} tenant(s), ${x.tenantsOk} ok, ${x.tenantsFailed} failed; ${x.products} product(s): ${x.created} created, ${x.newVersions} new version(s), ${x.metadataUpdates} metadata update(s), ${x.upToDate} up to date, ${x.skipped} skipped, ${x.failed} failed; ${r.packagings} package(s) built, ${r.packagesReused} reused for other tenants.`,
    ].join("\n") + "\n",
  );
}

/** The first failed tenant's code (so its exit code), every failed tenant in the message. */
function syncTenantsFailure(r: TenantsRunResult): PublisherError | undefined {
  return tenantsFailure(
    "Sync",
    r.tenants.length,
    r.tenants
      .filter((t) => t.status === "failed")
      .map((t) => ({
        tenant: t.tenant,
        errorCode: t.error?.errorCode ?? t.products.find((p) => p.status === "failed")?.error?.errorCode ?? "Internal",
        line:
          t.error !== undefined
            ? firstLine(t.error.message)
            : t.products
                .filter((p) => p.status === "failed")
                .map((p) => `${p.id}: ${p.reason}`)
                .join("; "),
        hint: t.error?.hint,
      })),
  );
}
