/*
 * Child process of bench/upload.ts (which imports only the type below): the local tenant of the upload benchmark
 * (emulator + disk-backed Azurite, default upload-state delays, throttling on), alone in its process, so that the
 * clients measured in the benchmark process do not share a main thread with the storage server. Prints one JSON line
 * (URLs, CA, a token) on stdout, then serves until its stdin closes, SIGTERM, or a safety timeout.
 *
 *   node dist/bench/upload-tenant.js --location DIR [--max-seconds N]
 */
import { startLocalTenant } from "../emulator/server.js";
import { serveUntilParentGoes } from "./child-life.js";

export interface UploadTenantInfo {
  pid: number;
  graphBaseUrl: string;
  caCertPem: string;
  /** a Graph token the emulator issued, valid for twice the child's safety timeout */
  token: string;
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

async function main(): Promise<void> {
  const location = arg("--location", "");
  if (location === "") throw new Error("upload-tenant: --location DIR is required");
  const maxSeconds = Number(arg("--max-seconds", "3600")) || 3600;
  const lt = await startLocalTenant({ uploadDelays: {}, storage: { location } });
  serveUntilParentGoes("upload-tenant", () => lt.close(), { maxSeconds });
  const info: UploadTenantInfo = {
    pid: process.pid,
    graphBaseUrl: lt.graphBaseUrl,
    caCertPem: lt.caCertPem,
    token: lt.admin.issueToken({ lifetimeSeconds: 2 * maxSeconds }),
  };
  process.stdout.write(`${JSON.stringify(info)}\n`);
}

await main();
