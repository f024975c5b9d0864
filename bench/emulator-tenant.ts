/*
 * Child process of bench/emulator.ts (which imports only the type below): one local tenant on 127.0.0.1, nothing else in the process, so its RSS
 * and CPU time are the emulator's own. Prints one JSON line (URLs, client credentials, CA) on stdout, then serves
 * until its stdin closes (the benchmark exited or closed it), SIGTERM, or a safety timeout.
 *
 *   node dist/bench/emulator-tenant.js [--throttling on|off] [--max-seconds N]
 */
import { startLocalTenant } from "../emulator/server.js";
import { serveUntilParentGoes } from "./child-life.js";

const BENCH_TENANT_ID = "5e1f0c2a-7b3d-4e5f-8a9b-0c1d2e3f4a5b";
const BENCH_CLIENT_ID = "b3e1c2d4-5f60-4a7b-8c9d-0e1f2a3b4c5d";
/** Generated inventory: 100,000 devices × 20 apps = 2,000,000 detected-app rows, produced while paging. */
const INVENTORY = { devices: 100_000, appsPerDevice: 20, seed: 1 };

export interface TenantInfo {
  pid: number;
  authority: string;
  graphBaseUrl: string;
  clientId: string;
  clientSecret: string;
  caCertPem: string;
  throttling: boolean;
  inventory: { devices: number; appsPerDevice: number; seed: number };
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

async function main(): Promise<void> {
  const throttling = arg("--throttling", "off") === "on";
  const maxSeconds = Number(arg("--max-seconds", "900")) || 900;
  const secret = `bench-${process.pid}-${Date.now()}`;
  const lt = await startLocalTenant({
    storage: false, // Graph + Entra only: the benchmarked routes never touch blob storage
    throttling,
    // No pageSize option: every collection keeps its real default (detectedApps: 1000 per page).
    seed: {
      tenants: [{ id: BENCH_TENANT_ID, domains: ["bench.example"] }],
      appRegistrations: [
        {
          clientId: BENCH_CLIENT_ID,
          displayName: "bench",
          secrets: [{ value: secret }],
          roles: ["GroupMember.Read.All", "DeviceManagementRBAC.Read.All", "DeviceManagementManagedDevices.Read.All"],
        },
      ],
      groups: Array.from({ length: 10 }, (_, i) => ({
        id: `0000000${i}-1111-4222-8333-444444444444`,
        displayName: `Bench group ${i}`,
      })),
      detectedApps: { ...INVENTORY },
    },
  });
  serveUntilParentGoes("emulator-tenant", () => lt.close(), { maxSeconds });
  const info: TenantInfo = {
    pid: process.pid,
    authority: lt.authority,
    graphBaseUrl: lt.graphBaseUrl,
    clientId: lt.clientId,
    clientSecret: secret,
    caCertPem: lt.caCertPem,
    throttling,
    inventory: INVENTORY,
  };
  process.stdout.write(`${JSON.stringify(info)}\n`);
}

await main();
