import { problemError } from "../../publish/connect/test-connection.js";
import { testTarget } from "../../publish/connect/test-target.js";
import { defineCommand } from "../command.js";
import { connectionFooter, connectionTables } from "../connection-report.js";
import { commandLogger } from "../session.js";
import { targetInput, tenantOptions } from "../tenant-options.js";
import { tenantsOptions } from "../tenants.js";
import { connectTestAcrossTenants } from "../tenants-connect.js";
import { z } from "zod";

export default defineCommand({
  description: [
    "Steps: resolve settings, load the credential, reach the authority, get a token, read its roles, probe one",
    "read-only endpoint per permission, and check the credential's expiry (warning under 30 days).",
  ].join("\n"),
  notes: [
    "`connect test --cloud local` with no profile tests the local tenant `emulator start` runs (found through",
    "credentials.json in its state folder; an error if it no longer answers), or else starts one in-process",
    "(default seed) and tests it. Flags and AZURE_* variables override what credentials.json says.",
    "Every request and answer is logged, redacted, to the run's log file (--log-file, --no-log-file).",
    "Exit codes: 0 all good, 3 sign-in refused, 4 permissions missing, 5 Graph error, 7 network/TLS, 8 configuration,",
    "11 incomplete configuration (e.g. AZURE_CLIENT_ID without AZURE_TENANT_ID, or set but empty).",
    "With --tenants all|TAG|NAME: the test in every tenant of a tenants file, one table of tenants × permissions",
    "(docs/tenants.md); exit code the first failed tenant's.",
  ].join("\n"),
  options: z.object({ ...tenantOptions.shape, ...tenantsOptions.shape }),
  async run(ctx, o) {
    if (o.tenants.length > 0) return connectTestAcrossTenants(ctx, o);
    const logger = commandLogger(ctx);
    const input = targetInput(ctx, o, (line) => {
      // "Using the running local tenant (…)." reads "Testing …" here.
      const text = line.replace(/^Using the /, "Testing the ");
      ctx.runLog?.info(text);
      ctx.stderr.write(`${text}\n`);
    });
    // Only an explicit --cloud local tests the local tenant; anything else is resolved (and reported) by the test.
    const report = await testTarget(input, { signal: ctx.signal, secrets: ctx.secrets, logger });
    if (ctx.output === "json") ctx.stdout.write(JSON.stringify(report, null, 2) + "\n");
    else ctx.stdout.write([...connectionTables(report), ...connectionFooter(report)].join("\n") + "\n");
    for (const w of report.warnings) ctx.stderr.write(`warning: ${w}\n`);
    if (report.problem) throw problemError(report.problem);
    return 0;
  },
});
