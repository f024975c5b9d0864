/**
 * The `catalog …` commands' source options and download progress lines; the session itself (which source, the
 * clients to reach it) is src/publish/catalog/session.ts, shared with the console.
 */
import { z } from "zod";
import type { DownloadEvent } from "../catalog/download/index.js";
import { openCatalogSession } from "../publish/catalog/session.js";
import type { CatalogSession } from "../publish/catalog/session.js";
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

export type { CatalogSession };

/** Resolves the source the options name and the clients to reach it (src/publish/catalog/session.ts); `close()` when done. */
export function openCatalog(ctx: CommandContext, o: SourceOptions): Promise<CatalogSession> {
  const logger = commandLogger(ctx);
  return openCatalogSession(
    {
      env: ctx.env,
      cwd: ctx.cwd,
      secrets: ctx.secrets,
      logger,
      onNote: (line) => ctx.stderr.write(`${line}\n`),
      onDownload: downloadProgress(ctx),
    },
    o,
  );
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
