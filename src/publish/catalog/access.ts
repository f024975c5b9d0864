/**
 * The catalog and the installer downloads of a run (`sync` and the console's Sync page, `sync --tenants`,
 * `publish --tenants`): catalog
 * requests and downloads through the network settings (proxy with its password, CA) of the tenant given, one
 * download cache for the whole run, and each catalog source opened once.
 */
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { openCatalogSource } from "../../catalog/catalog.js";
import type { CatalogSource } from "../../catalog/catalog.js";
import { defaultDownloadCacheDir } from "../../catalog/download/cache.js";
import { Downloader } from "../../catalog/download/downloader.js";
import type { DownloadEvent } from "../../catalog/download/downloader.js";
import { catalogHttp } from "../../catalog/http.js";
import { createHttpPipeline } from "../../clients/http/pipeline.js";
import type { SecretRegistry } from "../../clients/http/redact.js";
import type { StreamTransport } from "../../clients/http/stream-transport.js";
import { homeFolder } from "../../core/config/dirs.js";
import type { Settings } from "../../core/config/profile.js";
import { downloadTransportFor, transportFor } from "../connect/config-store.js";

export interface CatalogAccess {
  openSource(spec: string | undefined): Promise<CatalogSource>;
  downloader: Downloader;
  /** the download transport (also for the inventory's export reports) */
  stream: StreamTransport;
  close(): Promise<void>;
}

export async function openCatalogAccess(
  ctx: {
    env: NodeJS.ProcessEnv;
    secrets?: SecretRegistry | undefined;
    /** installer downloads: start, progress (rate, ETA), retries */
    onDownload?: ((e: DownloadEvent) => void) | undefined;
  },
  target: { settings: Settings; caPem: string | undefined },
  o: {
    /** the profiles file: the lock file is beside it, its catalog section names the sources */
    configFile: string;
    catalogConfig: Parameters<typeof openCatalogSource>[1]["config"];
    /** relative catalog folders are relative to this (the subscriptions file's folder) */
    cwd: string;
    stateDir: string;
  },
): Promise<CatalogAccess> {
  const secrets = ctx.secrets === undefined ? {} : { secrets: ctx.secrets };
  const catalogTransport = await transportFor(target.settings, { caPem: target.caPem, ...secrets });
  let stream: StreamTransport;
  try {
    stream = await downloadTransportFor(target.settings, { caPem: target.caPem, ...secrets });
  } catch (e) {
    await catalogTransport.close();
    throw e;
  }
  const http = catalogHttp(createHttpPipeline({ transport: catalogTransport.send }));
  const downloader = new Downloader({
    cacheDir: defaultDownloadCacheDir(ctx.env, process.platform, homeFolder(ctx.env, process.platform, homedir)),
    transport: stream,
    lockFile: join(dirname(o.configFile), "catalog.lock.json"),
    ...secrets,
    ...(ctx.onDownload === undefined ? {} : { onProgress: ctx.onDownload }),
  });
  const opened = new Map<string, Promise<CatalogSource>>();
  return {
    openSource(spec) {
      let s = opened.get(spec ?? "");
      if (s === undefined) {
        s = openCatalogSource(spec, {
          config: o.catalogConfig,
          configFile: o.configFile,
          http,
          cwd: o.cwd,
          indexCacheDir: join(o.stateDir, "sync", "index"),
        });
        opened.set(spec ?? "", s);
      }
      return s;
    },
    downloader,
    stream,
    async close() {
      await stream.close();
      await catalogTransport.close();
    },
  };
}
