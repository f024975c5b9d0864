import { chmod, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { z } from "zod";
import { startLocalTenant } from "../../../emulator/server.js";
import { defaultEmulatorStateDir } from "../../publish/connect/local-tenant.js";
import { defineCommand } from "../command.js";
import type { CommandContext } from "../command.js";
import { keyValueTable, printData } from "../output.js";

function waitForAbort(signal: AbortSignal): Promise<void> {
  return new Promise((done) =>
    signal.aborted ? done() : signal.addEventListener("abort", () => done(), { once: true }),
  );
}

export default defineCommand({
  name: "emulator start",
  summary: "Run the local tenant: Entra ID + Intune Graph + blob storage on 127.0.0.1",
  usage:
    "emulator start [--seed FILE] [--port N] [--host 127.0.0.1|localhost] [--state DIR] [--persist] [--blob-dir DIR]",
  details: [
    "Serves the token endpoint, Graph (/beta, /v1.0) and the upload storage over HTTPS until Ctrl-C.",
    "--seed FILE   YAML or JSON seed (docs/emulator.md); default: one tenant, one app with all six permissions",
    "--port N      HTTPS port (default: any free port)",
    "--host H      127.0.0.1 (default) or localhost; any other address is refused: the admin API has no",
    "              authentication and blob storage uses Azurite's public well-known account key (loopback only)",
    "--state DIR   keeps the CA, server certificate and credentials.json (default: $INTUNE_PUBLISHER_EMULATOR_STATE,",
    "              else the user's state folder); `connect test --cloud local` finds the running tenant there",
    "--persist     keeps Graph state (apps, uploads, assignments) and uploaded content in the state folder",
    "--blob-dir DIR  keeps uploaded content on disk in DIR instead of in memory (for large packages)",
    "Clients must trust the printed CA certificate (NODE_EXTRA_CA_CERTS or an explicit CA option).",
  ].join("\n"),
  flags: {
    seed: { type: "string" },
    port: { type: "string" },
    host: { type: "string" },
    state: { type: "string" },
    persist: { type: "boolean" },
    "blob-dir": { type: "string" },
  },
  schema: z.object({
    seed: z.string().min(1).optional(),
    port: z.coerce.number().int().min(0).max(65535).optional(),
    host: z.string().min(1).optional(),
    state: z.string().min(1).optional(),
    persist: z.boolean().optional(),
    "blob-dir": z.string().min(1).optional(),
  }),
  async run(ctx: CommandContext, o) {
    const stateDir = resolve(ctx.cwd, o.state ?? defaultEmulatorStateDir(ctx.env));
    const blobDir =
      o["blob-dir"] !== undefined ? resolve(ctx.cwd, o["blob-dir"]) : o.persist ? join(stateDir, "blobs") : undefined;
    const lt = await startLocalTenant({
      ...(o.seed === undefined ? {} : { seed: resolve(ctx.cwd, o.seed) }),
      ...(o.port === undefined ? {} : { port: o.port }),
      ...(o.host === undefined ? {} : { host: o.host }),
      stateDir,
      persist: o.persist === true,
      storage: blobDir === undefined ? "memory" : { location: blobDir },
    });
    try {
      // Everything a client needs to find and use this tenant (src/publish/connect/local-tenant.ts reads it).
      const credentialsPath = join(stateDir, "credentials.json");
      await writeFile(
        credentialsPath,
        JSON.stringify(
          {
            authorityHost: lt.authorityHost,
            graphBaseUrl: lt.graphBaseUrl,
            tokenAudience: lt.tokenAudience,
            tenantId: lt.tenantId,
            clientId: lt.clientId,
            clientSecret: lt.clientSecret ?? null,
          },
          null,
          2,
        ) + "\n",
        { mode: 0o600 },
      );
      // writeFile's mode applies only when it creates the file.
      await chmod(credentialsPath, 0o600);
      const data = {
        authority: lt.authority,
        authorityHost: lt.authorityHost,
        graphBaseUrl: lt.graphBaseUrl,
        tenantId: lt.tenantId,
        clientId: lt.clientId,
        caCertificate: lt.caCertPath ?? join(stateDir, "ca.pem"),
        clientSecretFile: credentialsPath,
        blobEndpoint: lt.blobEndpoint ?? null,
      };
      printData(ctx, data, () => keyValueTable(Object.entries(data)));
      ctx.stderr.write(`Local tenant listening on ${lt.authorityHost}. Press Ctrl-C to stop.\n`);
      await waitForAbort(ctx.signal);
      ctx.stderr.write("Stopping the local tenant.\n");
      return 0;
    } finally {
      await lt.close();
    }
  },
});
