/**
 * A catalog session (docs/catalog.md "Commands"), shared by the `catalog …` commands and the console: which source
 * the settings name (with the local tenant's vendor host as the default when nothing names one), the HTTP client for
 * manifests and the downloader for installers on the same TLS trust and proxy.
 */
import { homedir } from "node:os";
import { resolve } from "node:path";
import { openCatalogSource } from "../../catalog/catalog.js";
import type { CatalogSource } from "../../catalog/catalog.js";
import { Downloader, defaultDownloadCacheDir } from "../../catalog/download/index.js";
import type { DownloadEvent } from "../../catalog/download/index.js";
import { catalogHttp } from "../../catalog/http.js";
import { WingetHttpsSource } from "../../catalog/sources/winget-https.js";
import { createHttpPipeline } from "../../clients/http/pipeline.js";
import { proxySettingsFromEnv } from "../../clients/http/proxy.js";
import { registeringTransport } from "../../clients/http/redact.js";
import type { SecretRegistry } from "../../clients/http/redact.js";
import { createStreamTransport } from "../../clients/http/stream-transport.js";
import { createFetchTransport } from "../../clients/http/transport.js";
import type { HttpLogger } from "../../clients/http/types.js";
import { homeFolder } from "../../core/config/dirs.js";
import { isPublisherError, PublisherError } from "../../core/errors.js";
import { readBoundedText } from "../../platform/fs.js";
import { CA_FILE_MAX_BYTES, pathsFor, readProfilesFile } from "../connect/config-store.js";
import { defaultEmulatorStateDir, isLoopbackHost } from "../connect/local-tenant.js";
import type { LocalTarget, StartedLocalTenant } from "../connect/local-tenant.js";
import { localTenantLauncher } from "../connect/local-tenant-launcher.js";

/** What names the source (the `catalog …` commands' source options). */
export interface CatalogSourceSettings {
  /** a configured source name, a folder, or an https:// base URL */
  source?: string | undefined;
  /** the configuration file holding catalog sources */
  config?: string | undefined;
  /** an extra CA to trust */
  caCertificate?: string | undefined;
  /** the emulator state folder where a running local tenant is found */
  state?: string | undefined;
}

export interface CatalogSessionContext {
  env: NodeJS.ProcessEnv;
  /** relative paths are taken from here */
  cwd: string;
  secrets?: SecretRegistry | undefined;
  logger?: HttpLogger | undefined;
  /** told which source is used when none is named (a line for people) */
  onNote?: ((line: string) => void) | undefined;
  /** download progress of `downloader()` */
  onDownload?: ((event: DownloadEvent) => void) | undefined;
}

export interface CatalogSession {
  source: CatalogSource;
  /** the lock file of first-download hashes (beside the configuration file), when there is a configuration file */
  lockFile: string | undefined;
  /** the download cache folder */
  cacheDir: string;
  /**
   * The local tenant's vendor host, when nothing named a source and it was used instead (`started`: a local tenant
   * started for this session, gone when it closes).
   */
  vendorHost: { url: string; started: boolean } | undefined;
  /** a downloader on the same TLS trust and proxy */
  downloader(): Downloader;
  close(): Promise<void>;
}

/** Source unset and no `catalog` section: the local tenant's vendor host when one is in use. */
async function defaultLocalSource(
  ctx: CatalogSessionContext,
  o: CatalogSourceSettings,
  configured: boolean,
): Promise<{ vendorUrl: string; caPem: string; started?: StartedLocalTenant } | undefined> {
  const stateDir = o.state === undefined ? defaultEmulatorStateDir(ctx.env) : resolve(ctx.cwd, o.state);
  const running: LocalTarget | undefined = await localTenantLauncher.findRunning(stateDir);
  if (running?.vendorUrl !== undefined) {
    ctx.onNote?.(
      `No catalog source configured: using the local tenant's vendor host ${running.vendorUrl} (${running.source}).`,
    );
    return { vendorUrl: running.vendorUrl, caPem: running.caPem };
  }
  if (configured || running !== undefined) return undefined;
  ctx.onNote?.(
    "No catalog source and no tenant configured: using the vendor host of a local tenant started in-process (its demo products; it stops when this command ends).",
  );
  const started = await localTenantLauncher.start({ storage: false });
  if (started.vendorUrl === undefined) {
    await started.close();
    return undefined;
  }
  return { vendorUrl: started.vendorUrl, caPem: started.caCertPem, started };
}

/** The running local tenant's CA, for an https source on this machine (its vendor host); undefined otherwise. */
async function localCaFor(
  ctx: CatalogSessionContext,
  o: CatalogSourceSettings,
  spec: string,
): Promise<string | undefined> {
  if (!/^https:\/\//i.test(spec) || !URL.canParse(spec) || !isLoopbackHost(new URL(spec).hostname)) return undefined;
  const stateDir = o.state === undefined ? defaultEmulatorStateDir(ctx.env) : resolve(ctx.cwd, o.state);
  return (await localTenantLauncher.findRunning(stateDir).catch(() => undefined))?.caPem;
}

async function readCa(path: string): Promise<string> {
  try {
    return await readBoundedText({ path, what: "CA certificate", maxBytes: CA_FILE_MAX_BYTES });
  } catch (e) {
    if (isPublisherError(e) && e.code !== "FileNotFound" && e.code !== "FileNotReadable") throw e;
    throw new PublisherError("CaUnreadable", `Cannot read the CA certificate ${path}.`, {
      hint: "Check --ca-certificate.",
      cause: e,
    });
  }
}

/** Resolves the source the settings name and the clients to reach it; `close()` when done. */
export async function openCatalogSession(
  ctx: CatalogSessionContext,
  o: CatalogSourceSettings,
): Promise<CatalogSession> {
  const configFile = o.config === undefined ? undefined : resolve(ctx.cwd, o.config);
  const paths = pathsFor({ env: ctx.env, configFile });
  const file = await readProfilesFile(paths);
  if (file === undefined && configFile !== undefined)
    throw new PublisherError("ConfigFileMissing", `The configuration file ${configFile} (--config) does not exist.`, {
      hint: "Check the path; catalog sources are configured under `catalog` in it (docs/catalog.md).",
    });
  const cas: string[] = [];
  if (o.caCertificate !== undefined) cas.push(await readCa(resolve(ctx.cwd, o.caCertificate)));
  let local: Awaited<ReturnType<typeof defaultLocalSource>>;
  if (o.source === undefined && file?.catalog === undefined) {
    local = await defaultLocalSource(ctx, o, file !== undefined);
    if (local !== undefined) cas.push(local.caPem);
  } else if (o.source !== undefined) {
    const ca = await localCaFor(ctx, o, o.source);
    if (ca !== undefined) cas.push(ca);
  }
  const trustedCaPem = cas.length === 0 ? undefined : cas.join("\n");
  const proxy = proxySettingsFromEnv(ctx.env);
  const tls = { ...(trustedCaPem === undefined ? {} : { trustedCaPem }), proxy };
  const fetch = createFetchTransport(tls);
  const logger = ctx.logger;
  const send = ctx.secrets === undefined ? fetch.send : registeringTransport(fetch.send, ctx.secrets);
  const http = catalogHttp(
    createHttpPipeline({ transport: send, ...(logger === undefined ? {} : { log: { logger } }) }),
  );
  const streams: ReturnType<typeof createStreamTransport>[] = [];
  const close = async (): Promise<void> => {
    await fetch.close();
    for (const s of streams) await s.close();
    await local?.started?.close();
  };
  try {
    const source =
      local !== undefined
        ? new WingetHttpsSource(`${local.vendorUrl}/`, http)
        : await openCatalogSource(o.source, {
            config: file?.catalog,
            configFile: paths.file,
            http,
            cwd: ctx.cwd,
          });
    const lockFile = file === undefined ? undefined : resolve(paths.dir, "catalog.lock.json");
    const cacheDir = defaultDownloadCacheDir(ctx.env, process.platform, homeFolder(ctx.env, process.platform, homedir));
    return {
      source,
      lockFile,
      cacheDir,
      vendorHost: local === undefined ? undefined : { url: local.vendorUrl, started: local.started !== undefined },
      downloader: () => {
        const transport = createStreamTransport(tls);
        streams.push(transport);
        return new Downloader({
          cacheDir,
          transport,
          ...(lockFile === undefined ? {} : { lockFile }),
          ...(ctx.onDownload === undefined ? {} : { onProgress: ctx.onDownload }),
          ...(ctx.secrets === undefined ? {} : { secrets: ctx.secrets }),
          ...(logger === undefined ? {} : { logger }),
        });
      },
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}
