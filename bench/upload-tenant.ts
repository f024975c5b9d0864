/*
 * Child process of bench/upload.ts (which imports only the type below): the local tenant of the upload benchmark
 * (emulator + disk-backed Azurite, default upload-state delays, throttling on), alone in its process, so that the
 * clients measured in the benchmark process do not share a main thread with the storage server. Prints one JSON line
 * (URLs, CA, a token) on stdout, then serves until its stdin closes, SIGTERM, or a safety timeout.
 *
 *   node dist/bench/upload-tenant.js --location DIR [--max-seconds N]
 */
import { startLocalTenant } from "../emulator/server.js";

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
  let closing = false;
  const stop = (): void => {
    if (closing) return;
    closing = true;
    void lt.close().then(() => process.exit(0));
  };
  process.stdin.on("end", stop);
  process.stdin.on("close", stop);
  process.stdin.resume();
  process.on("SIGTERM", stop);
  setTimeout(() => {
    process.stderr.write(`upload-tenant: safety timeout after ${maxSeconds} s\n`);
    stop();
  }, maxSeconds * 1000).unref();
  const info: UploadTenantInfo = {
    pid: process.pid,
    graphBaseUrl: lt.graphBaseUrl,
    caCertPem: lt.caCertPem,
    token: lt.admin.issueToken({ lifetimeSeconds: 2 * maxSeconds }),
  };
  process.stdout.write(`${JSON.stringify(info)}\n`);
}

await main();
