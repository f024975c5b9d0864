/*
 * Inventory benchmark: per-device rows of a local tenant's generated inventory (devices × 20 apps) read
 * through the reports export (AppInvRawData: job, zip download, streamed CSV, aggregation) and through
 * detectedApps, then matched against 10,000 catalog products. Each measurement runs in a fresh client process
 * (its peak RSS is its own); the tenant runs in another. Sizes: 10,000 and 100,000 devices (200,000 and 2,000,000
 * rows; `--devices 10000,100000`). Goals: ≤ 30 s and ≤ 300 MB peak RSS at 2,000,000 rows. Each line gives the
 * client's phases (wall and CPU seconds) and the tenant process's CPU over the run. Results: bench/README.md.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/inventory.js [--devices 10000,100000]
 */
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { createInterface } from "node:readline";
import type { InventoryTenantInfo } from "./inventory-tenant.js";

const here = import.meta.dirname;

async function withTenant<T>(devices: number, fn: (info: InventoryTenantInfo) => Promise<T>): Promise<T> {
  const child = spawn(process.execPath, [`${here}/inventory-tenant.js`, "--devices", String(devices)], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout });
  const [line] = (await once(lines, "line")) as [string];
  try {
    return await fn(JSON.parse(line) as InventoryTenantInfo);
  } finally {
    child.stdin.end();
    await once(child, "exit");
  }
}

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat (Linux). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields 14 and 15 (utime, stime) in clock ticks; 100 per second on Linux
  return (Number(f[11]) + Number(f[12])) / 100;
}

const sizes = (): number[] => {
  const i = process.argv.indexOf("--devices");
  return i >= 0 ? (process.argv[i + 1] ?? "").split(",").map(Number) : [10_000, 100_000];
};

async function main(): Promise<void> {
  console.log(
    `load average before: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  for (const devices of sizes()) {
    await withTenant(devices, async (info) => {
      for (const via of ["export", "detected-apps"]) {
        const tenantCpu0 = cpuSeconds(info.pid);
        const r = spawnSync(process.execPath, [`${here}/inventory-client.js`, via, JSON.stringify(info)], {
          encoding: "utf8",
          maxBuffer: 1 << 20,
        });
        if (r.status !== 0) throw new Error(`client ${via} failed: ${r.stderr}`);
        const tenantCpu = (cpuSeconds(info.pid) - tenantCpu0).toFixed(2);
        console.log(
          `${devices * 20} rows (${devices} devices): ${r.stdout.trim()}  tenant CPU ${tenantCpu} s  load ${loadavg()[0]?.toFixed(2)}`,
        );
      }
    });
  }
}

void main();
