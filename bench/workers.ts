/*
 * Benchmark: one sync across many tenants, in one process and on 1, 2 and 4 worker processes on Redis (figures in
 * bench/README.md, "workers").
 *
 *   npm run build && node dist/bench/workers.js [--tenants 10] [--products 4] [--workers 1,2,4]
 *     [--tenant-concurrency 4] [--worker-concurrency 4]
 *   node dist/bench/workers.js --tenants 50 --products 10        # the full size (long on a loaded machine)
 *
 * For each configuration, a fresh local tenant serving the fleet seed (`--tenants` tenants, one multi-tenant app
 * registration, groups that differ) in this process, a fresh home (empty download cache) and, for workers, an empty
 * Redis (a throwaway redis-server) and an empty shared package store (a folder). The in-process run is `sync
 * --tenants all` in a child process; a workers run starts N `worker --queue … --package-store DIR` children, then
 * `sync --tenants all --queue …` in another child. Each child's CPU (utime + stime) and peak RSS (VmHWM) are read
 * from /proc while it runs; this process (the local tenant, Azurite in memory, the vendor host) is measured with
 * process.cpuUsage. Packagings come from the run's JSON (one per product version whatever the tenants or workers).
 * The load average is printed with each figure. Prints markdown.
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fleetSeed, fleetTenants } from "../emulator/fleet-seed.js";
import { loadOrCreatePki } from "../emulator/pki.js";
import { startVendorHost } from "../emulator/vendor/host.js";
import { startRedis } from "../test/queue/redis-server.js";
import { cliCommand, emulatorHomeEnv } from "../test/support/cli.js";
import { recordLocalTenant, startLocalTestTenant } from "../test/support/tenant.js";
import { product } from "../test/sync/support.js";
import { FLEET_SECRET, fleetTenantsYaml } from "../test/tenants/support.js";

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : (process.argv[i + 1] ?? fallback);
};
const tenants = Number(arg("tenants", "10"));
const count = Number(arg("products", "4"));
const workerCounts = arg("workers", "1,2,4").split(",").map(Number);
const tenantConcurrency = arg("tenant-concurrency", "4");
const workerConcurrency = arg("worker-concurrency", "4");
const TICKS = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;
const load = (): string =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(" / ");

/** A CLI child whose CPU and peak RSS are sampled from /proc until it ends. */
interface Child {
  proc: ChildProcess;
  out(): string;
  err(): string;
  exited: Promise<number | null>;
  /** CPU seconds (user + system) and peak RSS in MiB, as last read */
  usage(): { cpuS: number; peakMiB: number };
}

function sample(pid: number): { cpuS: number; peakMiB: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const cpuS = (Number(rest[11]) + Number(rest[12])) / TICKS;
    const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return { cpuS, peakMiB: hwm ? Number(hwm[1]) / 1024 : 0 };
  } catch {
    return undefined;
  }
}

async function start(args: string[], env: NodeJS.ProcessEnv, dir: string): Promise<Child> {
  const cli = await cliCommand(dir);
  const proc = spawn(process.execPath, [...cli.args, ...args], {
    cwd: cli.cwd,
    env: { PATH: process.env["PATH"], ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  proc.stdout?.on("data", (d: Buffer) => (out += d.toString("utf8")));
  proc.stderr?.on("data", (d: Buffer) => (err += d.toString("utf8")));
  let last = { cpuS: 0, peakMiB: 0 };
  const timer = setInterval(() => {
    const s = proc.pid === undefined ? undefined : sample(proc.pid);
    if (s !== undefined) last = s;
  }, 200);
  const exited = new Promise<number | null>((r) =>
    proc.once("exit", (code) => {
      clearInterval(timer);
      r(code);
    }),
  );
  return {
    proc,
    out: () => out,
    err: () => err,
    exited,
    usage: () => {
      const s = proc.exitCode === null && proc.pid !== undefined ? sample(proc.pid) : undefined;
      if (s !== undefined) last = s;
      return last;
    },
  };
}

interface Row {
  label: string;
  wallS: number;
  created: number;
  failed: number;
  packagings: number;
  /** per process: CPU s, peak MiB */
  processes: { name: string; cpuS: number; peakMiB: number }[];
  localCpuS: number;
  loadBefore: string;
  loadAfter: string;
}

const root = await mkdtemp(join(tmpdir(), "ip-bench-workers-"));
const stateDir = join(root, "emulator");
await mkdir(stateDir, { recursive: true });
const redis = await startRedis();
const ids = Array.from({ length: count }, (_, i) => `Bench.Workers${String(i).padStart(3, "0")}`);
const host = await startVendorHost({
  seed: { products: ids.map((id) => product(id, "1.0")) },
  ca: await loadOrCreatePki(stateDir),
});
const fleet = fleetTenants(tenants);
const subsYaml = `source: ${host.origin}\nproducts:\n${ids.map((id) => `  - id: ${id}\n    assignments: [{ intent: required, group: Workstations }]\n`).join("")}`;

async function measure(workers: number | undefined): Promise<Row> {
  const label = workers === undefined ? "in-process (`sync --tenants all`)" : `${workers} worker(s) on Redis`;
  const home = join(root, workers === undefined ? "in-process" : `workers-${workers}`);
  await mkdir(home, { recursive: true });
  const env = await emulatorHomeEnv(home, stateDir);
  await writeFile(join(home, "subscriptions.yaml"), subsYaml);
  await writeFile(join(home, "tenants.yaml"), fleetTenantsYaml(fleet));
  await redis.client.flushall();
  const lt = await startLocalTestTenant({ stateDir, seed: fleetSeed(tenants, FLEET_SECRET), vendor: false });
  await recordLocalTenant(stateDir, lt);
  const children: Child[] = [];
  try {
    const ws: Child[] = [];
    for (let i = 0; i < (workers ?? 0); i++) {
      const w = await start(
        [
          "worker",
          "--queue",
          redis.url,
          "--concurrency",
          workerConcurrency,
          "--package-store",
          join(home, "store"),
          "--no-log-file",
        ],
        env,
        await mkdtemp(join(home, "w-")),
      );
      children.push(w);
      ws.push(w);
    }
    for (const w of ws)
      while (!/waiting for jobs/.test(w.err())) {
        if (w.proc.exitCode !== null) throw new Error(`worker ended: ${w.err()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    // the workers' start-up (loading modules) is not the run's
    const idle = ws.map((w) => w.usage().cpuS);
    const loadBefore = load();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const sync = await start(
      [
        "sync",
        "--subscriptions",
        join(home, "subscriptions.yaml"),
        "--tenants-file",
        join(home, "tenants.yaml"),
        "--tenants",
        "all",
        "--tenant-concurrency",
        tenantConcurrency,
        "--output",
        "json",
        "--no-log-file",
        ...(workers === undefined ? [] : ["--queue", redis.url]),
      ],
      env,
      await mkdtemp(join(home, "s-")),
    );
    children.push(sync);
    const code = await sync.exited;
    const wallS = (performance.now() - t0) / 1000;
    const localCpu = process.cpuUsage(cpu0);
    const processes = [
      { name: "sync", ...sync.usage() },
      ...ws.map((w, i) => {
        const u = w.usage();
        return { name: `worker ${i + 1}`, cpuS: u.cpuS - idle[i]!, peakMiB: u.peakMiB };
      }),
    ];
    if (code !== 0 && code !== 2) throw new Error(`sync exited ${code}: ${sync.err().slice(-3000)}`);
    const doc = JSON.parse(sync.out()) as {
      totals: { created: number; failed: number };
      packagings: number;
    };
    return {
      label,
      wallS,
      created: doc.totals.created,
      failed: doc.totals.failed,
      packagings: doc.packagings,
      processes,
      localCpuS: (localCpu.user + localCpu.system) / 1e6,
      loadBefore,
      loadAfter: load(),
    };
  } finally {
    for (const c of children)
      if (c.proc.exitCode === null) {
        c.proc.kill("SIGTERM");
        await Promise.race([c.exited, new Promise((r) => setTimeout(r, 15_000))]);
        if (c.proc.exitCode === null) c.proc.kill("SIGKILL");
      }
    await lt.close();
  }
}

try {
  const rows: Row[] = [];
  for (const w of [undefined, ...workerCounts]) {
    const row = await measure(w);
    rows.push(row);
    console.error(`${row.label}: ${row.wallS.toFixed(1)} s (load ${row.loadBefore} → ${row.loadAfter})`);
  }
  const base = rows[0]!.wallS;
  const oneWorker = rows[1]?.wallS ?? base;
  const apps = tenants * count;
  const lines = [
    `${tenants} tenants × ${count} products (${apps} apps per run), in-process tenant concurrency ${tenantConcurrency}, worker concurrency ${workerConcurrency}; ${cpus().length} cores; load average 1 / 5 / 15 min; workers' CPU counted from the run's start (their start-up left out).`,
    "",
    "| run | wall | speed-up vs 1 worker | created / failed | packagings | CPU per process (s) / peak RSS (MiB) | CPU of the local tenant + vendor host | CPU per app (all processes) | load before → after |",
    "|---|---|---|---|---|---|---|---|---|",
    ...rows.map((r) => {
      const total = r.processes.reduce((n, p) => n + p.cpuS, 0) + r.localCpuS;
      return `| ${r.label} | **${r.wallS.toFixed(1)} s** | ${r === rows[0] ? "-" : `${(oneWorker / r.wallS).toFixed(2)}×`} | ${r.created} / ${r.failed} | **${r.packagings}** | ${r.processes.map((p) => `${p.name} ${p.cpuS.toFixed(1)} / ${p.peakMiB.toFixed(0)}`).join("; ")} | ${r.localCpuS.toFixed(1)} s | ${((total / apps) * 1000).toFixed(0)} ms | ${r.loadBefore} → ${r.loadAfter} |`;
    }),
    "",
    `In-process wall time ${base.toFixed(1)} s.`,
  ];
  console.log(lines.join("\n"));
} finally {
  await host.close();
  await redis.stop();
  await rm(root, { recursive: true, force: true });
}
