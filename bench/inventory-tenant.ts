/*
 * Child process of bench/inventory.ts: one local tenant with embedded storage and a generated inventory of
 * `--devices N` × 20 apps. Prints one JSON line (Graph URL, CA, a token), then serves until stdin closes.
 *
 *   node dist/bench/inventory-tenant.js --devices 100000
 */
import { startLocalTenant } from "../emulator/server.js";
import { serveUntilParentGoes } from "./child-life.js";

const TENANT = "5e1f0c2a-7b3d-4e5f-8a9b-0c1d2e3f4a5c";

export interface InventoryTenantInfo {
  pid: number;
  graphBaseUrl: string;
  caCertPem: string;
  token: string;
}

async function main(): Promise<void> {
  const i = process.argv.indexOf("--devices");
  const devices = Number(i >= 0 ? process.argv[i + 1] : "100000");
  const lt = await startLocalTenant({
    throttling: false,
    exportJobs: { startDelayMs: 0, runDelayMs: 0 },
    seed: {
      tenants: [{ id: TENANT, domains: ["bench.example"] }],
      appRegistrations: [
        {
          clientId: "b3e1c2d4-5f60-4a7b-8c9d-0e1f2a3b4c5e",
          displayName: "bench",
          roles: ["DeviceManagementManagedDevices.Read.All"],
        },
      ],
      detectedApps: { devices, appsPerDevice: 20, seed: 1 },
    },
  });
  const info: InventoryTenantInfo = {
    pid: process.pid,
    graphBaseUrl: lt.graphBaseUrl,
    caCertPem: lt.caCertPem,
    token: lt.admin.issueToken(),
  };
  process.stdout.write(JSON.stringify(info) + "\n");
  serveUntilParentGoes("inventory-tenant", () => lt.close(), { maxSeconds: 900 });
}

void main();
