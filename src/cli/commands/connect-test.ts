import { resolve } from "node:path";
import { z } from "zod";
import { loadCredential } from "../../clients/auth/credentials.js";
import { teeLogger } from "../../clients/http/log-file.js";
import { loadSettings, transportFor } from "../../publish/connect/config-store.js";
import { defaultEmulatorStateDir } from "../../publish/connect/local-tenant.js";
import { localTenantLauncher } from "../../publish/connect/local-tenant-launcher.js";
import { problemError, runConnectionTest } from "../../publish/connect/test-connection.js";
import { openLocalTarget, wantsLocalTenant } from "../../publish/target.js";
import type { ResolvedTarget } from "../../publish/target.js";
import type { ConnectionReport, StepStatus } from "../../publish/connect/test-connection.js";
import { defineCommand } from "../command.js";
import type { CommandContext } from "../command.js";
import { renderTable } from "../output.js";

const MARK: Record<StepStatus, string> = { ok: "✓", warning: "!", failed: "✗", skipped: "-" };

export const settingsFlags = {
  profile: { type: "string", short: "p" },
  config: { type: "string" },
  cloud: { type: "string" },
  tenant: { type: "string" },
  "client-id": { type: "string" },
  "authority-host": { type: "string" },
  "token-audience": { type: "string" },
  "graph-base-url": { type: "string" },
  "ca-certificate": { type: "string" },
  proxy: { type: "string" },
  state: { type: "string" },
} as const;

export const settingsSchema = z.object({
  profile: z.string().min(1).optional(),
  config: z.string().min(1).optional(),
  cloud: z.string().min(1).optional(),
  tenant: z.string().min(1).optional(),
  "client-id": z.string().min(1).optional(),
  "authority-host": z.string().min(1).optional(),
  "token-audience": z.string().min(1).optional(),
  "graph-base-url": z.string().min(1).optional(),
  "ca-certificate": z.string().min(1).optional(),
  proxy: z.string().min(1).optional(),
  state: z.string().min(1).optional(),
});
type SettingsOptions = z.infer<typeof settingsSchema>;

/** The connection flags as the settings loader takes them. */
export function flagsOf(o: SettingsOptions): Parameters<typeof loadSettings>[1] {
  return {
    profile: o.profile,
    cloud: o.cloud,
    tenant: o.tenant,
    clientId: o["client-id"],
    authorityHost: o["authority-host"],
    tokenAudience: o["token-audience"],
    graphBaseUrl: o["graph-base-url"],
    caCertificate: o["ca-certificate"],
    proxy: o.proxy,
  };
}

function printReport(ctx: CommandContext, report: ConnectionReport): void {
  if (ctx.output === "json") {
    ctx.stdout.write(JSON.stringify(report, null, 2) + "\n");
    return;
  }
  const lines: string[] = [];
  lines.push(renderTable([["", "Step", "Result"], ...report.steps.map((s) => [MARK[s.status], s.name, s.detail])]));
  if (report.permissions.length > 0) {
    lines.push("");
    lines.push(
      renderTable([
        ["Permission", "Used for", "Enabled", "Probe"],
        ...report.permissions.map((p) => [
          p.permission,
          p.usedFor,
          p.enabled ? (p.via ? `✓ (via ${p.via})` : "✓") : "✗",
          `${MARK[p.probe.status]} ${p.probe.what}${p.probe.httpStatus !== undefined ? ` (HTTP ${p.probe.httpStatus}${p.probe.requestId ? `, request-id ${p.probe.requestId}` : ""})` : ""}`,
        ]),
      ]),
    );
  }
  const c = report.credential;
  if (c) {
    lines.push("");
    const rows: string[][] = [["Credential", c.description]];
    if (c.thumbprintSha1) rows.push(["Thumbprint (SHA-1)", c.thumbprintSha1]);
    if (c.thumbprintSha256) rows.push(["Thumbprint (SHA-256)", c.thumbprintSha256]);
    if (c.subject) rows.push(["Subject", c.subject]);
    if (c.expiresOn) rows.push(["Expires", `${c.expiresOn} (${c.daysLeft ?? "?"} days)`]);
    lines.push(renderTable(rows));
  }
  lines.push(
    "",
    report.ok ? "Connection test passed." : `Connection test failed: ${report.problem?.message ?? report.result}`,
  );
  ctx.stdout.write(lines.join("\n") + "\n");
}

export default defineCommand({
  name: "connect test",
  summary: "Test the connection to a tenant: sign-in, the six Graph permissions, live probes, credential expiry",
  usage: "connect test [--profile P] [--config FILE] [--cloud C] [--output json]",
  details: [
    "Steps: resolve settings, load the credential, reach the authority, get a token, read its roles, probe one",
    "read-only endpoint per permission, and check the credential's expiry (warning under 30 days).",
    "",
    "Options (each overrides the profile; environment: AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET,",
    "AZURE_CLIENT_CERTIFICATE_PATH, AZURE_CLIENT_CERTIFICATE_PASSWORD, AZURE_FEDERATED_TOKEN_FILE,",
    "AZURE_AUTHORITY_HOST, HTTPS_PROXY, NO_PROXY):",
    "  -p, --profile NAME       the profile (default: the file's defaultProfile)",
    "      --config FILE        the profiles file (default: <user config folder>/intune-publisher/config.yaml)",
    "      --cloud C            global | usgov | usgov-dod | china | custom | local",
    "      --tenant T           tenant ID or verified domain",
    "      --client-id ID       application (client) ID",
    "      --authority-host URL, --token-audience URL, --graph-base-url URL   endpoint overrides",
    "      --ca-certificate FILE  an extra CA to trust (TLS-inspecting proxy, local tenant)",
    "      --proxy URL          http://host:port",
    "      --state DIR          with --cloud local: the emulator state folder to look in for a running local",
    "                           tenant (default: $INTUNE_PUBLISHER_EMULATOR_STATE, else the user's state folder)",
    "",
    "`connect test --cloud local` with no profile tests the local tenant `emulator start` runs (found through",
    "credentials.json in its state folder; an error if it no longer answers), or else starts one in-process",
    "(default seed) and tests it. Flags and AZURE_* variables override what credentials.json says.",
    "Every request and answer is logged, redacted, to the run's log file (--log-file, --no-log-file).",
    "Exit codes: 0 all good, 3 sign-in refused, 4 permissions missing, 5 Graph error, 7 network/TLS, 8 configuration,",
    "11 incomplete configuration (e.g. AZURE_CLIENT_ID without AZURE_TENANT_ID, or set but empty).",
  ].join("\n"),
  flags: settingsFlags,
  schema: settingsSchema,
  async run(ctx, o) {
    // Every request and answer goes, redacted, to the run log (main.ts) and with --verbose to stderr.
    const logger = teeLogger(
      ctx.verbose
        ? {
            info: (line: string) => ctx.stderr.write(`log: ${line}\n`),
            warning: (line: string) => ctx.stderr.write(`log: warning: ${line}\n`),
          }
        : undefined,
      ctx.runLog,
    );
    const configFile = o.config === undefined ? undefined : resolve(ctx.cwd, o.config);
    let local: ResolvedTarget | undefined;
    try {
      if (wantsLocalTenant(flagsOf(o), ctx.env)) {
        local = await openLocalTarget({
          env: ctx.env,
          flags: flagsOf(o),
          stateDir: o.state === undefined ? defaultEmulatorStateDir(ctx.env) : resolve(ctx.cwd, o.state),
          storage: false,
          launcher: localTenantLauncher,
          onNote: (line) => {
            // "Using the running local tenant (…)." reads "Testing …" here.
            const text = line.replace(/^Using the /, "Testing the ");
            ctx.runLog?.info(text);
            ctx.stderr.write(`${text}\n`);
          },
        });
      }
      const target = local;
      const { report, close } = await runConnectionTest({
        resolveSettings: async () =>
          target ? target.settings : loadSettings({ env: ctx.env, configFile }, flagsOf(o)),
        loadCredential: (s) =>
          loadCredential(s.credential, { env: ctx.env, secretValue: target?.secretValue, secrets: ctx.secrets }),
        transport: (s) => transportFor(s, { caPem: target?.caPem, secrets: ctx.secrets }),
        signal: ctx.signal,
        secrets: ctx.secrets,
        ...(logger === undefined ? {} : { logger }),
      });
      try {
        printReport(ctx, report);
        for (const w of report.warnings) ctx.stderr.write(`warning: ${w}\n`);
      } finally {
        await close();
      }
      if (report.problem) throw problemError(report.problem);
      return 0;
    } finally {
      await local?.close();
    }
  },
});
