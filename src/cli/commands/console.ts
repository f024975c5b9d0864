import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { z } from "zod";
import { PublisherError } from "../../core/errors.js";
import { readBoundedText } from "../../platform/fs.js";
import { startConsole } from "../../console/server.js";
import { defaultEmulatorStateDir } from "../../publish/connect/local-tenant.js";
import { localTenantLauncher } from "../../publish/connect/local-tenant-launcher.js";
import { defineCommand } from "../command.js";
import { option } from "../options.js";
import { commandLogger, runLogFile } from "../session.js";

/** A PEM certificate chain or key file for --tls-cert / --tls-key. */
export const CONSOLE_TLS_FILE_MAX_BYTES = 1024 * 1024;

function waitForAbort(signal: AbortSignal): Promise<void> {
  return new Promise((done) =>
    signal.aborted ? done() : signal.addEventListener("abort", () => done(), { once: true }),
  );
}

/** Opens `url` in the desktop's browser; a failure only leaves the printed URL to open by hand. */
function openBrowser(url: string): void {
  const [cmd, args] =
    process.platform === "win32"
      ? ["cmd", ["/c", "start", '""', url]]
      : [process.platform === "darwin" ? "open" : "xdg-open", [url]];
  try {
    const child = spawn(cmd, args, { stdio: "ignore", detached: true });
    child.on("error", () => undefined);
    child.unref();
  } catch {
    // the URL is printed
  }
}

export default defineCommand({
  description: [
    "Serves the web console (Connection, Apps, Sync and publish, Catalog, Inventory, Diagnostics) on loopback and",
    "prints its URL with a one-time access token; its first use becomes an HttpOnly session cookie. The console runs",
    "the same code as the CLI commands. With no tenant configured it works against the local tenant. Stop it with",
    "Ctrl-C. Reference: docs/console.md.",
  ].join("\n"),
  notes:
    'A --host other than loopback needs --tls-cert and --tls-key (HTTPS). With --output json: {"url": …} on one line.',
  options: z.object({
    port: option(z.coerce.number().int().min(0).max(65535).default(8731), {
      value: "N",
      help: "the port (default 8731; 0 picks a free one)",
    }),
    host: option(z.string().min(1).default("127.0.0.1"), {
      value: "ADDR",
      help: "the address to serve (default 127.0.0.1; another needs --tls-cert and --tls-key)",
    }),
    open: option(z.boolean().default(false), { help: "open the console in the desktop's browser" }),
    tlsCert: option(z.string().min(1).optional(), { value: "FILE", help: "PEM certificate (chain) for HTTPS" }),
    tlsKey: option(z.string().min(1).optional(), { value: "FILE", help: "PEM private key for HTTPS" }),
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
    if ((o.tlsCert === undefined) !== (o.tlsKey === undefined))
      throw new PublisherError("Usage", "--tls-cert and --tls-key go together.", {
        hint: "Give both (PEM files), or neither.",
      });
    const tls =
      o.tlsCert === undefined || o.tlsKey === undefined
        ? undefined
        : {
            cert: await readBoundedText({
              path: resolve(ctx.cwd, o.tlsCert),
              what: "TLS certificate",
              maxBytes: CONSOLE_TLS_FILE_MAX_BYTES,
            }),
            key: await readBoundedText({
              path: resolve(ctx.cwd, o.tlsKey),
              what: "TLS private key",
              maxBytes: CONSOLE_TLS_FILE_MAX_BYTES,
            }),
          };
    if (tls !== undefined) ctx.secrets?.add(tls.key);
    const running = await startConsole({
      host: o.host,
      port: o.port,
      ...(tls === undefined ? {} : { tls }),
      env: ctx.env,
      cwd: ctx.cwd,
      configFile: o.config === undefined ? undefined : resolve(ctx.cwd, o.config),
      stateDir: o.state === undefined ? defaultEmulatorStateDir(ctx.env) : resolve(ctx.cwd, o.state),
      launcher: localTenantLauncher,
      secrets: ctx.secrets!,
      logger: commandLogger(ctx),
      logFile: runLogFile(ctx),
      onNote: (line) => ctx.stderr.write(`${line}\n`),
      onError: (e) => ctx.stderr.write(`error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`),
    });
    try {
      if (ctx.output === "json") ctx.stdout.write(JSON.stringify({ url: running.url }) + "\n");
      else ctx.stdout.write(`${running.url}\n`);
      ctx.stderr.write("The console serves until Ctrl-C. The link works once: it signs this browser in.\n");
      if (o.open) openBrowser(running.url);
      await waitForAbort(ctx.signal);
      return 0;
    } finally {
      await running.close();
    }
  },
});
