/*
 * Child process of bench/sync.ts: the local tenant (emulator + Azurite, the tests' upload delays) alone in its
 * process, as a real tenant is remote. Prints one JSON line (what the client needs to sign in: URLs, client
 * credentials of the emulator's seed, CA) on stdout, then takes one JSON command per stdin line (`{"addFault": …}`,
 * answered `ok`; `{"cpu": true}`, answered with its CPU time in ms) until stdin closes, SIGTERM, or a safety timeout.
 *
 *   node dist/bench/sync-tenant.js [--max-seconds N]
 */
import { createInterface } from "node:readline";
import type { FaultInput } from "../emulator/seed.js";
import type { StartedLocalTenant } from "../src/publish/connect/local-tenant.js";
import { startLocalTestTenant } from "../test/support/tenant.js";
import { serveUntilParentGoes } from "./child-life.js";

export type SyncTenantInfo = Pick<
  StartedLocalTenant,
  | "tenantId"
  | "clientId"
  | "clientSecret"
  | "authorityHost"
  | "authority"
  | "graphBaseUrl"
  | "tokenAudience"
  | "caCertPem"
> & { pid: number };

const i = process.argv.indexOf("--max-seconds");
const maxSeconds = (i < 0 ? 1800 : Number(process.argv[i + 1])) || 1800;
const lt = await startLocalTestTenant();
const stop = serveUntilParentGoes("sync-tenant", () => lt.close(), { maxSeconds, stdinCommands: true });
const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  const command = JSON.parse(line) as { addFault?: FaultInput; cpu?: true };
  if (command.addFault !== undefined) lt.admin.addFault(command.addFault);
  // `cpu`: this process's CPU time so far (user + system, ms)
  const { user, system } = process.cpuUsage();
  process.stdout.write(command.cpu === true ? `${(user + system) / 1000}\n` : "ok\n");
});
lines.on("close", stop);
const info: SyncTenantInfo = {
  pid: process.pid,
  tenantId: lt.tenantId,
  clientId: lt.clientId,
  clientSecret: lt.clientSecret,
  authorityHost: lt.authorityHost,
  authority: lt.authority,
  graphBaseUrl: lt.graphBaseUrl,
  tokenAudience: lt.tokenAudience,
  caCertPem: lt.caCertPem,
};
process.stdout.write(`${JSON.stringify(info)}\n`);
