/**
 * Shared plumbing of the `catalog …` commands (docs/catalog.md "Commands"): the options naming a source, which
 * source they resolve to (with the local tenant's vendor host as the default when nothing names one), the HTTP
 * client for manifests and the downloader for installers, and the progress line of downloads.
 */
import { homedir } from "node:os";
import { resolve } from "node:path";
import { z } from "zod";
import { openCatalogSource } from "../catalog/catalog.js";
import type { CatalogSource } from "../catalog/catalog.js";
import { Downloader, defaultDownloadCacheDir } from "../catalog/download/index.js";
import type { DownloadEvent } from "../catalog/download/index.js";
import { catalogHttp } from "../catalog/http.js";
import { WingetHttpsSource } from "../catalog/sources/winget-https.js";
import { createHttpPipeline } from "../clients/http/pipeline.js";
import { proxySettingsFromEnv } from "../clients/http/proxy.js";
import { registeringTransport } from "../clients/http/redact.js";
import { createStreamTransport } from "../clients/http/stream-transport.js";
import { createFetchTransport } from "../clients/http/transport.js";
import { homeFolder } from "../core/config/dirs.js";
import { isPublisherError, PublisherError } from "../core/errors.js";
import { CA_FILE_MAX_BYTES, pathsFor, readProfilesFile } from "../publish/connect/config-store.js";
import { defaultEmulatorStateDir, isLoopbackHost } from "../publish/connect/local-tenant.js";
import type { LocalTarget, StartedLocalTenant } from "../publish/connect/local-tenant.js";
import { localTenantLauncher } from "../publish/connect/local-tenant-launcher.js";
import { readBoundedText } from "../platform/fs.js";
import type { CommandContext } from "./command.js";
import { option } from "./options.js";
import { fitStatus, formatBytes, formatDuration, knownColumns, LineThrottle } from "./progress.js";
import { clearStatusLine, drawStatusLine } from "./safe-output.js";
import { commandLogger } from "./session.js";

const group = "Source options";
const text = (): z.ZodOptional<z.ZodString> => z.string().min(1).optional();

export const sourceOptions = z.object({
  source: option(text(), {
    value: "S",
    group,
    help:
      "a source named in the configuration file, a folder in the winget-pkgs layout (or of catalog entries), or an " +
      "https:// base URL (default: catalog.defaultSource, else winget, the community repository; with nothing " +
      "configured, the local tenant's vendor host)",
  }),
  config: option(text(), {
    value: "FILE",
    group,
    help: "the configuration file holding catalog sources (default: <user config folder>/intune-publisher/config.yaml)",
  }),
  caCertificate: option(text(), {
    value: "FILE",
    group,
    help: "an extra CA to trust (a TLS-inspecting proxy, a private mirror); the local tenant's CA is trusted for it",
  }),
  state: option(text(), {
    value: "DIR",
    group,
    help:
      "the emulator state folder where a running local tenant (and its vendor host) is found (default: " +
      "$INTUNE_PUBLISHER_EMULATOR_STATE, else the user's state folder)",
  }),
});
export type SourceOptions = z.output<typeof sourceOptions>;

export interface CatalogSession {
  source: CatalogSource;
  /** the lock file of first-download hashes (beside the configuration file), when there is a configuration file */
  lockFile: string | undefined;
  /** the download cache folder */
  cacheDir: string;
  /** a downloader on the same TLS trust and proxy; progress on stderr */
  downloader(): Downloader;
  close(): Promise<void>;
}

/** `--source` unset and no `catalog` section: the local tenant's vendor host when one is in use. */
async function defaultLocalSource(
  ctx: CommandContext,
  o: SourceOptions,
  configured: boolean,
): Promise<{ vendorUrl: string; caPem: string; started?: StartedLocalTenant } | undefined> {
  const stateDir = o.state === undefined ? defaultEmulatorStateDir(ctx.env) : resolve(ctx.cwd, o.state);
  const running: LocalTarget | undefined = await localTenantLauncher.findRunning(stateDir);
  if (running?.vendorUrl !== undefined) {
    ctx.stderr.write(
      `No catalog source configured: using the local tenant's vendor host ${running.vendorUrl} (${running.source}).\n`,
    );
    return { vendorUrl: running.vendorUrl, caPem: running.caPem };
  }
  if (configured || running !== undefined) return undefined;
  ctx.stderr.write(
    "No catalog source and no tenant configured: using the vendor host of a local tenant started in-process (its demo products; it stops when this command ends).\n",
  );
  const started = await localTenantLauncher.start({ storage: false });
  if (started.vendorUrl === undefined) {
    await started.close();
    return undefined;
  }
  return { vendorUrl: started.vendorUrl, caPem: started.caCertPem, started };
}

/** The running local tenant's CA, for an https source on this machine (its vendor host); undefined otherwise. */
async function localCaFor(ctx: CommandContext, o: SourceOptions, spec: string): Promise<string | undefined> {
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

/** Resolves the source the options name and the clients to reach it; `close()` when done. */
export async function openCatalog(ctx: CommandContext, o: SourceOptions): Promise<CatalogSession> {
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
  const logger = commandLogger(ctx);
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
      downloader: () => {
        const transport = createStreamTransport(tls);
        streams.push(transport);
        const progress = downloadProgress(ctx);
        return new Downloader({
          cacheDir,
          transport,
          ...(lockFile === undefined ? {} : { lockFile }),
          onProgress: progress,
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

/** `12.0 MiB of 40.0 MiB, 3.1 MiB/s, 9 s left`: one download's progress for people. */
export function downloadStatus(event: Extract<DownloadEvent, { type: "progress" }>): string {
  const of = event.total === undefined ? "" : ` of ${formatBytes(event.total)}`;
  const eta = event.etaSeconds === undefined ? "" : `, ${formatDuration(event.etaSeconds)} left`;
  return `${formatBytes(event.bytes)}${of}, ${formatBytes(event.rate)}/s${eta}`;
}

export { formatDuration };

/**
 * Progress on stderr: on a terminal, a status line with size, rate and time left; elsewhere a line when a download
 * starts, every 10 % (or 30 s) with size, rate and time left, and when it retries and ends (a log stays readable).
 */
export function downloadProgress(ctx: CommandContext): (event: DownloadEvent) => void {
  const tty = ctx.stderr.isTTY === true;
  const throttles = new Map<string, LineThrottle>();
  return (event) => {
    const what = event.product ?? event.url;
    switch (event.type) {
      case "start":
        throttles.delete(what);
        if (!tty || event.attempt === 1)
          ctx.stderr.write(
            `Downloading ${what}${event.total === undefined ? "" : ` (${formatBytes(event.total)})`}${event.resumedFrom > 0 ? `, resuming at ${formatBytes(event.resumedFrom)}` : ""}...\n`,
          );
        break;
      case "progress": {
        const text = `${what}: ${downloadStatus(event)}`;
        if (tty) {
          drawStatusLine(ctx.stderr, fitStatus(text, knownColumns(ctx.stderr)));
          break;
        }
        let throttle = throttles.get(what);
        if (throttle === undefined) throttles.set(what, (throttle = new LineThrottle()));
        if (throttle.due(event.bytes, event.total)) ctx.stderr.write(`${text}\n`);
        break;
      }
      case "retry":
        if (tty) clearStatusLine(ctx.stderr);
        ctx.stderr.write(
          `${what}: ${event.reason}; attempt ${event.attempt + 1} in ${formatDuration(event.delayMs / 1000)}.\n`,
        );
        break;
      case "done":
        if (tty) clearStatusLine(ctx.stderr);
        ctx.stderr.write(
          `${what}: ${event.fromCache ? "from the cache" : "downloaded"}, ${formatBytes(event.size)}, SHA-256 verified.\n`,
        );
        break;
    }
  };
}
