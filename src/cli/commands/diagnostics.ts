import { homedir } from "node:os";
import { resolve } from "node:path";
import { z } from "zod";
import { homeFolder, userStateDir } from "../../core/config/dirs.js";
import { pathsFor } from "../../publish/connect/config-store.js";
import { testTarget } from "../../publish/connect/test-target.js";
import { collectSupportBundle, writeSupportBundle, zipEntries } from "../../publish/diagnostics.js";
import { wantsLocalTenant } from "../../publish/target.js";
import { defineCommand } from "../command.js";
import { option } from "../options.js";
import { commandLogger } from "../session.js";
import { targetInput, tenantOptions } from "../tenant-options.js";

/** The connection test's deadline inside the bundle: a failure (or a timeout) is recorded, not fatal. */
const CONNECTION_TEST_TIMEOUT_MS = 30_000;

export default defineCommand({
  description: [
    "Writes a support bundle: one zip to attach to a support request, with the tool, Node and OS versions, the",
    "settings and profiles (no secrets), the connection test's JSON (a failure is recorded), the last run logs and",
    "sync runs, and the local tenant's state summary. Every entry is redacted again: no secret, token, key, SAS",
    "signature or private key is in it. Tenant options as for `connect test`.",
  ].join("\n"),
  notes: "The zip is written with mode 0600 through a temporary file; an existing file is kept unless --force.",
  options: tenantOptions.extend({
    out: option(z.string().min(1).optional(), {
      value: "FILE",
      help: "the zip to write (default: intune-publisher-support-<date>.zip in the current folder)",
    }),
    force: option(z.boolean().default(false), { help: "replace an existing FILE" }),
  }),
  async run(ctx, o) {
    const now = new Date();
    const out = resolve(
      ctx.cwd,
      o.out ?? `intune-publisher-support-${now.toISOString().slice(0, 19).replace(/[:T]/g, "-")}.zip`,
    );
    const input = targetInput(ctx, o, (line) => ctx.runLog?.info(line));
    const home = homeFolder(ctx.env, process.platform, homedir);
    const logger = commandLogger(ctx);
    const entries = await collectSupportBundle({
      env: ctx.env,
      config: pathsFor({ env: ctx.env, configFile: input.configFile }),
      stateDir: input.stateDir,
      userStateDir: userStateDir(ctx.env, process.platform, home),
      local: wantsLocalTenant(o, ctx.env),
      now,
      connectionTest: () => {
        const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(CONNECTION_TEST_TIMEOUT_MS)]);
        return testTarget(input, { signal, secrets: ctx.secrets, logger });
      },
    });
    await writeSupportBundle(out, zipEntries(entries, now), o.force);
    const summary = { file: out, entries: entries.map((e) => ({ name: e.name, bytes: e.data.length })) };
    if (ctx.output === "json") ctx.stdout.write(JSON.stringify(summary, null, 2) + "\n");
    else ctx.stdout.write(`${out}\n${summary.entries.map((e) => `  ${e.name} (${e.bytes} bytes)`).join("\n")}\n`);
    return 0;
  },
});
