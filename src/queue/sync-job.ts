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
import type { JobContext, JobHandler, SyncProductJob, SyncTenantProductJob } from "./queue.js";
import type { WorkerPackages } from "./worker-packages.js";
import { TENANTS_MAX_BYTES, tenantConnection } from "../core/config/tenants.js";
import type { TenantEntry, TenantsFile } from "../core/config/tenants.js";
import { tenantError } from "../publish/tenants/each.js";
import type { TenantError } from "../publish/tenants/each.js";
import { loadTenants, loadTenantsSection } from "../publish/tenants/file.js";
import { tenantAdjust, tenantSubscriptions } from "../publish/tenants/overrides.js";
import type { LoadedSubscriptions } from "../publish/sync/subscriptions.js";
import type { TenantRateLimiter } from "./rate-limit.js";

/** Failures worth another attempt: the network, a deadline, a service answering with an error. */
const RETRYABLE: ReadonlySet<ErrorKind> = new Set(["network", "timeout", "graph"]);

/** The SHA-256 of a subscriptions file's bytes (the job's identity of the file). */
export async function subscriptionsDigest(path: string): Promise<string> {
  return fileDigest(path, "subscriptions file", SUBSCRIPTIONS_MAX_BYTES);
}

/** The SHA-256 of a tenants file's bytes. */
export async function tenantsDigest(path: string): Promise<string> {
  return fileDigest(path, "tenants file", TENANTS_MAX_BYTES);
}

async function fileDigest(path: string, what: string, maxBytes: number): Promise<string> {
  const bytes = await readBoundedFile({ path, what, maxBytes });
  return createHash("sha256").update(bytes).digest("hex");
}

/** A file named by a job must have the bytes the run enqueued. */
async function checkDigest(
  f: { path: string; sha256: string },
  what: "subscriptions file" | "tenants file",
): Promise<void> {
  const digest = what === "tenants file" ? await tenantsDigest(f.path) : await subscriptionsDigest(f.path);
  if (digest !== f.sha256)
    throw new Error(
      `${f.path} on this worker is not the ${what} the run enqueued (SHA-256 ${digest.slice(0, 12)}…, expected ${f.sha256.slice(0, 12)}…): give every worker the same file.`,
    );
}

/** The tenants a tenant job names: its tenants file (same bytes), else the worker's configuration's section. */
async function jobTenants(data: SyncTenantProductJob, configFile: string): Promise<TenantsFile> {
  if (data.tenantsFile !== undefined) {
    await checkDigest(data.tenantsFile, "tenants file");
    return (await loadTenants(data.tenantsFile.path)).value;
  }
  const section = await loadTenantsSection(configFile);
  if (section === undefined)
    throw new Error(`${configFile} on this worker has no tenants: section: give every worker the run's tenants.`);
  return section.value;
}

/** What the worker process gives the jobs: its environment, and how it finds a profile's tenant. */
export interface WorkerContext {
  env: NodeJS.ProcessEnv;
  secrets?: SecretRegistry | undefined;
  logger?: HttpLogger | undefined;
  onWarning(line: string): void;
  /** the tenant these flags name (a profile; a tenant of a tenants file adds cloud, tenant id, client id), as the worker's own configuration says */
  resolveTarget(flags: TargetFlags): Promise<ResolvedTarget>;
}

/** How a job names its tenant: a profile (undefined: the default), or a tenants file entry's connection. */
export interface TargetFlags {
  profile?: string | undefined;
  cloud?: string;
  tenant?: string;
  clientId?: string;
}

export interface SyncJobSettings {
  /** the worker's profiles file (absent: the default one) */
  config?: string | undefined;
  limiter?: TenantRateLimiter;
  packageStore?: PackageStore;
  /** apps published at once within a job */
  concurrency?: number;
  /** tenant jobs: packages built once per content hash across the fleet (worker-packages.ts) */
  packages?: WorkerPackages;
}

/** What a sync-tenant-product job returns: the tenant's products, or its failure as a whole (sign-in refused…). */
export interface TenantJobResult {
  tenant: string;
  tenantId?: string;
  error?: TenantError;
  products: ProductResult[];
  changed: boolean;
  durationMs: number;
  /** packages this job built, and reused (built by this worker for another tenant, or found in the store) */
  packagings: number;
  packagesReused: number;
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

  const open = async (flags: TargetFlags, signIn: boolean): Promise<Environment> => {
    const target = await ctx.resolveTarget(flags);
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
      if (signIn) {
        try {
          await session.signIn();
        } catch (e) {
          await stream.close();
          await session.close();
          throw e;
        }
      }
      return { target, session, stream, downloader, http };
    } catch (e) {
      await target.close();
      throw e;
    }
  };
  const environment = (flags: TargetFlags, signIn = false): Promise<Environment> => {
    const key = JSON.stringify([flags.profile ?? "", flags.cloud ?? "", flags.tenant ?? "", flags.clientId ?? ""]);
    let p = envs.get(key);
    if (p === undefined) {
      p = open(flags, signIn);
      envs.set(key, p);
      // a failed sign-in is tried again by the next job
      p.catch(() => envs.delete(key));
    }
    return p;
  };

  /** A job's catalog sources: the worker's configured sources, relative folders from the subscriptions file's. */
  const sourceOpener = async (env: Environment, subscriptions: LoadedSubscriptions) => {
    const config = await readProfilesFile(paths).catch(() => undefined);
    return (spec: string | undefined) =>
      openCatalogSource(spec, {
        config: config?.catalog,
        configFile: paths.file,
        http: env.http,
        cwd: subscriptions.dir,
      });
  };

  const run = async (data: SyncProductJob, jc: JobContext): Promise<ProductResult[]> => {
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
      env = await environment({ profile: data.profile });
    } catch (e) {
      if (isPublisherError(e) && RETRYABLE.has(e.kind) && !last) throw e;
      return failedResult(e);
    }
    // one tree per profile: two tenants may sync the same product at once
    const base =
      data.profile === undefined
        ? join(stateDir, "sync")
        : join(stateDir, "sync", "profiles", encodeURIComponent(data.profile));
    const subscriptions = await loadSubscriptions(data.subscriptions.path);
    const result = await sync({
      subscriptions,
      openSource: await sourceOpener(env, subscriptions),
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

  /** One product for one tenant of a tenants file, with the tenant's overrides. */
  const runTenant = async (data: SyncTenantProductJob, jc: JobContext): Promise<TenantJobResult> => {
    const last = jc.attempt >= jc.attempts;
    const started = Date.now();
    const base = { tenant: data.tenant, products: [], changed: false, packagings: 0, packagesReused: 0 };
    const failed = (e: unknown, tenantId?: string): TenantJobResult => ({
      ...base,
      ...(tenantId === undefined ? {} : { tenantId }),
      error: tenantError(e),
      durationMs: Date.now() - started,
    });
    let tenants: TenantsFile;
    let entry: TenantEntry;
    let subscriptions: LoadedSubscriptions;
    try {
      tenants = await jobTenants(data, paths.file);
      const found = tenants.tenants.find((t) => t.name.toLowerCase() === data.tenant.toLowerCase());
      if (found === undefined)
        throw new Error(
          `No tenant named ${data.tenant} in ${data.tenantsFile?.path ?? `the tenants: section of ${paths.file}`} on this worker: give every worker the same tenants.`,
        );
      entry = found;
      await checkDigest(data.subscriptions, "subscriptions file");
      subscriptions = tenantSubscriptions(await loadSubscriptions(data.subscriptions.path), entry);
    } catch (e) {
      return failed(e);
    }
    const flags = tenantConnection(tenants, entry);
    let env: Environment;
    try {
      env = await environment(flags, true);
    } catch (e) {
      if (isPublisherError(e) && RETRYABLE.has(e.kind) && !last) throw e;
      return failed(e, flags.tenant);
    }
    const tenantId = env.target.info.tenantId ?? flags.tenant;
    // excluded by this tenant: nothing to do
    if (!subscriptions.value.products.some((p) => p.id.toLowerCase() === data.productId.toLowerCase()))
      return { ...base, ...(tenantId === undefined ? {} : { tenantId }), durationMs: Date.now() - started };
    const dir = join(stateDir, "tenants", "work", encodeURIComponent(entry.name));
    const packages = s.packages?.forJob();
    const result = await sync({
      subscriptions,
      openSource: await sourceOpener(env, subscriptions),
      downloader: env.downloader,
      graph: env.session.graph,
      workDir: dir,
      dryRun: data.dryRun,
      only: [data.productId],
      ...(s.concurrency === undefined ? {} : { concurrency: s.concurrency }),
      signal: jc.signal,
      ...(!env.target.inProcess
        ? { journalDir: join(stateDir, "tenants", "uploads", encodeURIComponent(entry.name)) }
        : {}),
      upload: { storage: { transport: env.session.transport.send } },
      ...(packages === undefined ? {} : { packages }),
      adjust: tenantAdjust(entry),
      onEvent: (e) => {
        if (e.type === "step") jc.progress(`${entry.name}: ${e.id}: ${e.detail}`);
      },
    });
    const retryable = result.products.find(
      (p) => p.status === "failed" && p.error !== undefined && RETRYABLE.has(p.error.kind),
    );
    if (retryable !== undefined && !last && !jc.signal.aborted)
      throw new Error(`${entry.name}: ${retryable.id}: ${retryable.reason} (attempt ${jc.attempt})`);
    return {
      ...base,
      ...(tenantId === undefined ? {} : { tenantId }),
      products: result.products,
      changed: result.changed,
      durationMs: Date.now() - started,
      packagings: packages?.built ?? 0,
      packagesReused: packages?.reused ?? 0,
    };
  };

  return {
    handler: async (data, jc) => {
      if (data.kind === "sync-product") return run(data, jc);
      if (data.kind === "sync-tenant-product") return runTenant(data, jc);
      throw new PermanentJobError(`Unknown job kind ${String((data as { kind: unknown }).kind)}.`);
    },
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
