/*
 * Benchmark: one sync across many tenants in this process (figures in bench/README.md, "tenants").
 *
 *   npm run build && node dist/bench/tenants.js [--tenants 50] [--products 10] [--tenant-concurrency 4]
 *
 * The local tenant serving the fleet seed (`--tenants` tenants, one multi-tenant app registration consented in
 * each, groups that differ) and the vendor host in this process (test/tenants/support.ts); `--products` small
 * nullsoft products, each assigned to the logical group Workstations, mapped per tenant. A first run creates every
 * app in every tenant; a second run finds everything up to date. Wall time, per-tenant time, peak RSS (sampled every
 * 100 ms), packagings (one per product version whatever the number of tenants), installer downloads. Prints markdown.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { product } from "../test/sync/support.js";
import { fleetTenantsYaml, startTenantsBed } from "../test/tenants/support.js";

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : Number(process.argv[i + 1]);
};
const tenants = arg("tenants", 50);
const count = arg("products", 10);
const concurrency = arg("tenant-concurrency", 4);
const load = (): string =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(", ");

let peak = process.memoryUsage().rss;
const sampler = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage().rss);
}, 100);
const ids = Array.from({ length: count }, (_, i) => `Bench.Tenants${String(i).padStart(3, "0")}`);
const subs = `products:\n${ids.map((id) => `  - id: ${id}\n    assignments: [{ intent: required, group: Workstations }]\n`).join("")}`;
const dir = await mkdtemp(join(tmpdir(), "ip-bench-tenants-"));
const bed = await startTenantsBed(dir, tenants, { products: ids.map((id) => product(id, "1.0")) });
try {
  const lines: string[] = [`load average before: ${load()} (${cpus().length} cores)`, ""];
  const cpu0 = process.cpuUsage();
  let t = performance.now();
  const first = await bed.run(fleetTenantsYaml(bed.fleet), subs, {}, concurrency);
  const firstMs = performance.now() - t;
  const cpu1 = process.cpuUsage(cpu0);
  const downloads = bed.host.admin.requests().filter((r) => r.url.startsWith("/dl/")).length;
  t = performance.now();
  const second = await bed.run(fleetTenantsYaml(bed.fleet), subs, {}, concurrency);
  const secondMs = performance.now() - t;
  const perTenant = first.tenants.map((x) => x.durationMs).sort((a, b) => a - b);
  const median = perTenant[Math.floor(perTenant.length / 2)] ?? 0;
  lines.push(
    `| ${tenants} tenants × ${count} products, tenant concurrency ${concurrency} | value |`,
    "|---|---|",
    `| first run (creates ${first.totals.created} apps, ${first.totals.failed} failed) | **${(firstMs / 1000).toFixed(1)} s** |`,
    `| per tenant, median / slowest | ${(median / 1000).toFixed(1)} s / ${((perTenant.at(-1) ?? 0) / 1000).toFixed(1)} s |`,
    `| CPU of the process (user + system), first run | ${((cpu1.user + cpu1.system) / 1e6).toFixed(1)} s |`,
    `| packagings / packages reused for other tenants | **${first.packagings}** / ${first.packagesReused} |`,
    `| installer downloads | ${downloads} |`,
    `| second run (${second.totals.upToDate} up to date, ${second.packagings} packagings) | ${(secondMs / 1000).toFixed(1)} s |`,
    `| peak RSS (whole process: emulator, Azurite, vendor host included) | ${(peak / 1024 / 1024).toFixed(0)} MiB |`,
    "",
    `load average after: ${load()}`,
  );
  console.log(lines.join("\n"));
} finally {
  clearInterval(sampler);
  await bed.close();
  await rm(dir, { recursive: true, force: true });
}
