/**
 * The sync-product job (docs/workers.md): on a worker, `sync --only ID` for one product and one profile, with the
 * worker's own configuration (profiles, credentials, catalog sources, download cache, state folder). The job names
 * the subscriptions file by path and SHA-256: a worker that sees other bytes there refuses the job (it would publish
 * something the run did not plan).
 *
 * Signed-in sessions are kept per profile for the worker's life, so a token is fetched once, not once per job.
 */
import { createHash } from "node:crypto";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { openCatalogSource } from "../catalog/catalog.js";
import { defaultDownloadCacheDir } from "../catalog/download/cache.js";
import { Downloader } from "../catalog/download/downloader.js";
import { catalogHttp } from "../catalog/http.js";
import { createHttpPipeline } from "../clients/http/pipeline.js";
import { createStreamTransport } from "../clients/http/stream-transport.js";
import type { StreamTransport } from "../clients/http/stream-transport.js";
import type { SecretRegistry } from "../clients/http/redact.js";
import type { HttpLogger } from "../clients/http/types.js";
import { homeFolder, userStateDir } from "../core/config/dirs.js";
import { isPublisherError } from "../core/errors.js";
import type { ErrorKind } from "../core/errors.js";
import { readBoundedFile } from "../platform/fs.js";
import { pathsFor, readProfilesFile } from "../publish/connect/config-store.js";
import { loadSubscriptions, SUBSCRIPTIONS_MAX_BYTES } from "../publish/sync/subscriptions.js";
import { sync } from "../publish/sync/sync.js";
import type { ProductResult } from "../publish/sync/sync.js";
import { openGraphSession } from "../publish/target.js";
import type { GraphSession, ResolvedTarget } from "../publish/target.js";
import type { PackageStore } from "./package-store.js";
import { PermanentJobError } from "./queue.js";
import type { JobContext, JobData, JobHandler } from "./queue.js";
import type { TenantRateLimiter } from "./rate-limit.js";

/** Failures worth another attempt: the network, a deadline, a service answering with an error. */
const RETRYABLE: ReadonlySet<ErrorKind> = new Set(["network", "timeout", "graph"]);

/** The SHA-256 of a subscriptions file's bytes (the job's identity of the file). */
export async function subscriptionsDigest(path: string): Promise<string> {
  const bytes = await readBoundedFile({ path, what: "subscriptions file", maxBytes: SUBSCRIPTIONS_MAX_BYTES });
  return createHash("sha256").update(bytes).digest("hex");
}

/** What the worker process gives the jobs: its environment, and how it finds a profile's tenant. */
export interface WorkerContext {
  env: NodeJS.ProcessEnv;
  secrets?: SecretRegistry | undefined;
  logger?: HttpLogger | undefined;
  onWarning(line: string): void;
  /** the tenant of a profile (undefined: the default), as the worker's own configuration says */
  resolveTarget(profile: string | undefined): Promise<ResolvedTarget>;
}

export interface SyncJobSettings {
  /** the worker's profiles file (absent: the default one) */
  config?: string | undefined;
  limiter?: TenantRateLimiter;
  packageStore?: PackageStore;
  /** apps published at once within a job */
  concurrency?: number;
}

interface Environment {
  target: ResolvedTarget;
  session: GraphSession;
  stream: StreamTransport;
  downloader: Downloader;
  http: ReturnType<typeof catalogHttp>;
}

export interface SyncJobRunner {
  handler: JobHandler;
  close(): Promise<void>;
}

export function syncJobRunner(ctx: WorkerContext, s: SyncJobSettings): SyncJobRunner {
  const envs = new Map<string, Promise<Environment>>();
  const paths = pathsFor({ env: ctx.env, configFile: s.config });
  const home = homeFolder(ctx.env, process.platform, homedir);
  const stateDir = userStateDir(ctx.env, process.platform, home);

  const open = async (profile: string | undefined): Promise<Environment> => {
    const target = await ctx.resolveTarget(profile);
    try {
      const session = await openGraphSession(target, {
        env: ctx.env,
        logger: ctx.logger,
        secrets: ctx.secrets,
        onWarning: ctx.onWarning,
        ...(s.limiter === undefined ? {} : { policies: [s.limiter.policy(target.info.tenantId)] }),
      });
      const settings = target.settings;
      const stream = createStreamTransport({
        ...(target.caPem === undefined ? {} : { trustedCaPem: target.caPem }),
        proxy: {
          ...(settings.proxy === undefined ? {} : { httpsProxy: settings.proxy }),
          ...(settings.noProxy === undefined ? {} : { noProxy: settings.noProxy }),
        },
      });
      const downloader = new Downloader({
        cacheDir: defaultDownloadCacheDir(ctx.env, process.platform, home),
        transport: stream,
        lockFile: join(dirname(paths.file), "catalog.lock.json"),
        ...(ctx.secrets === undefined ? {} : { secrets: ctx.secrets }),
      });
      const http = catalogHttp(createHttpPipeline({ transport: session.transport.send }));
      return { target, session, stream, downloader, http };
    } catch (e) {
      await target.close();
      throw e;
    }
  };
  const environment = (profile: string | undefined): Promise<Environment> => {
    const key = profile ?? "";
    let p = envs.get(key);
    if (p === undefined) {
      p = open(profile);
      envs.set(key, p);
      // a failed sign-in is tried again by the next job
      p.catch(() => envs.delete(key));
    }
    return p;
  };

  const run = async (data: JobData, jc: JobContext): Promise<ProductResult[]> => {
    if (data.kind !== "sync-product") throw new PermanentJobError(`Unknown job kind ${String(data.kind)}.`);
    const last = jc.attempt >= jc.attempts;
    const failedResult = (e: unknown): ProductResult[] => {
      const kind: ErrorKind = isPublisherError(e) ? e.kind : "internal";
      const message = e instanceof Error ? e.message : String(e);
      return [
        {
          id: data.productId,
          architecture: "-",
          scope: "-",
          action: "failed",
          status: "failed",
          reason: `worker failed: ${message.split("\n")[0]}`,
          error: {
            kind,
            code: isPublisherError(e) ? (e.serviceCode ?? e.code) : "Internal",
            errorCode: isPublisherError(e) ? e.code : "Internal",
            message,
            step: "worker",
          },
          durationMs: 0,
        },
      ];
    };
    const started = Date.now();
    let digest: string;
    try {
      digest = await subscriptionsDigest(data.subscriptions.path);
    } catch (e) {
      return failedResult(e);
    }
    if (digest !== data.subscriptions.sha256)
      return failedResult(
        new Error(
          `${data.subscriptions.path} on this worker is not the file the run enqueued (SHA-256 ${digest.slice(0, 12)}…, expected ${data.subscriptions.sha256.slice(0, 12)}…): give every worker the same file.`,
        ),
      );
    let env: Environment;
    try {
      env = await environment(data.profile);
    } catch (e) {
      if (isPublisherError(e) && RETRYABLE.has(e.kind) && !last) throw e;
      return failedResult(e);
    }
    const config = await readProfilesFile(paths).catch(() => undefined);
    // one tree per profile: two tenants may sync the same product at once
    const base =
      data.profile === undefined
        ? join(stateDir, "sync")
        : join(stateDir, "sync", "profiles", encodeURIComponent(data.profile));
    const subscriptions = await loadSubscriptions(data.subscriptions.path);
    const result = await sync({
      subscriptions,
      openSource: (spec) =>
        openCatalogSource(spec, {
          config: config?.catalog,
          configFile: paths.file,
          http: env.http,
          cwd: subscriptions.dir,
        }),
      downloader: env.downloader,
      graph: env.session.graph,
      workDir: join(base, "work"),
      dryRun: data.dryRun,
      only: [data.productId],
      ...(s.concurrency === undefined ? {} : { concurrency: s.concurrency }),
      signal: jc.signal,
      ...(!env.target.inProcess ? { journalDir: join(base, "uploads") } : {}),
      upload: { storage: { transport: env.session.transport.send } },
      ...(s.packageStore === undefined ? {} : { packageStore: s.packageStore }),
      onEvent: (e) => {
        if (e.type === "step") jc.progress(`${e.id}: ${e.detail}`);
      },
    });
    const retryable = result.products.find(
      (p) => p.status === "failed" && p.error !== undefined && RETRYABLE.has(p.error.kind),
    );
    if (retryable !== undefined && !last && !jc.signal.aborted)
      throw new Error(`${retryable.id}: ${retryable.reason} (attempt ${jc.attempt}; took ${Date.now() - started} ms)`);
    return result.products;
  };

  return {
    handler: run,
    async close() {
      for (const p of envs.values()) {
        const env = await p.catch(() => undefined);
        if (env === undefined) continue;
        await env.stream.close();
        await env.session.close();
        await env.target.close();
      }
      envs.clear();
    },
  };
}
