/*
 * Benchmark: sync (targets and figures in bench/README.md).
 *
 *   npm run build && node dist/bench/sync.js [--products 200] [--new 20] [--latency-ms 100] [--in-process]
 *
 * The local tenant (emulator + Azurite) in a child process of its own (bench/sync-tenant.ts), as a real tenant is
 * remote: the client's thread is not shared with the server's (`--in-process`: in this process, as the tests run it).
 * The vendor host in this process (test/sync/support.ts), a subscriptions file of `--products` products (small
 * nullsoft installers).
 * 1. Nothing new: after a first sync that creates every app (and, when some failed there, a settling sync that
 *    creates them; the failures are printed), a sync is timed; catalog requests (vendor host, installers
 *    excepted), installer downloads and Graph writes are counted.
 * 2. New versions: `--new` products get a new version with `--latency-ms` added to every Graph call (an emulator
 *    latency fault); one sync publishing them one at a time (concurrency 1), then another round with the default pool,
 *    each started 21 s after the previous writes (Intune's write window empty, as for a scheduled run); wall times,
 *    their ratio, and failed products (a 429 that surfaced would be one). Prints markdown.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { FaultInput } from "../emulator/seed.js";
import type { HttpLogEvent } from "../src/clients/http/types.js";
import { localTargetOf } from "../src/publish/connect/local-tenant.js";
import { localConnection, openGraphSession } from "../src/publish/target.js";
import type { Call } from "../test/support/tenant.js";
import { product, startSyncBed, startSyncBedOn } from "../test/sync/support.js";
import type { BedTenant } from "../test/sync/support.js";
import type { SyncTenantInfo } from "./sync-tenant.js";

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : Number(process.argv[i + 1]);
};
const count = arg("products", 200);
const fresh = arg("new", 20);
const latency = arg("latency-ms", 100);
/** Intune's throttling window (emulator/graph/throttle.ts) */
const WRITE_WINDOW_MS = 20_000;
const load = (): string =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(", ");

const inProcess = process.argv.includes("--in-process");
/** Graph and storage attempts of the child-process tenant's session: in flight, and 429 answers (retried or not) */
const traffic = { inFlight: 0, maxInFlight: 0, throttled: 0 };

/** The local tenant in a child process, our session on it; `addFault` goes to the child over its stdin. */
async function childTenant(): Promise<
  BedTenant & { addFault(f: FaultInput): Promise<void>; cpuMs(): Promise<number> }
> {
  const child = spawn(process.execPath, [join(dirname(fileURLToPath(import.meta.url)), "sync-tenant.js")], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout });
  const next = async (): Promise<string> => {
    const [line] = (await once(lines, "line")) as [string];
    return line;
  };
  const info = JSON.parse(await next()) as SyncTenantInfo;
  const started = { ...info, caCertPath: undefined, blobEndpoint: undefined, warnings: [], close: async () => {} };
  const calls: Call[] = [];
  const session = await openGraphSession(localConnection(localTargetOf(started, "bench")), {
    env: {},
    onRequest: (method, url) => calls.push({ method, url }),
    logger: {
      info: () => undefined,
      warning: () => undefined,
      event(e: HttpLogEvent): void {
        if (e.status === undefined && e.durationMs === undefined) {
          traffic.inFlight++;
          traffic.maxInFlight = Math.max(traffic.maxInFlight, traffic.inFlight);
        } else {
          traffic.inFlight--;
          if (e.status === 429) traffic.throttled++;
        }
      },
    },
  });
  return {
    session,
    calls,
    graphWrites: (from = 0) =>
      calls.slice(from).filter((c) => c.method !== "GET" && c.url.startsWith(info.graphBaseUrl)),
    async addFault(f) {
      child.stdin.write(`${JSON.stringify({ addFault: f })}\n`);
      await next();
    },
    async cpuMs() {
      child.stdin.write(`${JSON.stringify({ cpu: true })}\n`);
      return Number(await next());
    },
    async close() {
      await session.close();
      child.stdin.end();
      await once(child, "exit");
    },
  };
}

const ids = Array.from({ length: count }, (_, i) => `Bench.Product${String(i).padStart(4, "0")}`);
const yaml = `products:\n${ids.map((id) => `  - id: ${id}\n`).join("")}`;
const dir = await mkdtemp(join(tmpdir(), "ip-bench-sync-"));
const seed = { products: ids.map((id) => product(id, "1.0")) };
const bed = inProcess
  ? await startSyncBed(dir, seed).then((b) => ({
      ...b,
      addFault: async (f: FaultInput) => void b.tenant.lt.admin.addFault(f),
      cpuMs: async () => 0,
    }))
  : await childTenant().then(async (t) => ({
      ...(await startSyncBedOn(dir, seed, t)),
      addFault: t.addFault,
      cpuMs: t.cpuMs,
    }));
try {
  const lines: string[] = [
    `local tenant (emulator + Azurite): ${inProcess ? "in the benchmark's process" : "in a child process of its own"}`,
    `load average before: ${load()}`,
    "",
  ];
  let t = performance.now();
  const first = await bed.run(yaml);
  const firstMs = performance.now() - t;
  const created = first.products.filter((p) => p.action === "create" && p.status === "ok").length;
  const firstFailures = first.products.filter((p) => p.status === "failed");
  // A product the first sync could not create is created by the next: settle before timing "nothing new".
  const settled = firstFailures.length === 0 ? undefined : await bed.run(yaml);

  bed.host.admin.clearRequests();
  const from = bed.tenant.calls.length;
  t = performance.now();
  const second = await bed.run(yaml);
  const nothingMs = performance.now() - t;
  const catalogRequests = bed.host.admin.requests().filter((r) => !r.url.startsWith("/dl/")).length;
  const downloads = bed.installerRequests();
  const writes = bed.tenant.graphWrites(from).length;
  const graphCalls = bed.tenant.calls.length - from;
  lines.push(
    `| ${count} products, nothing new | value |`,
    "|---|---|",
    `| first sync (creates ${created}) | ${(firstMs / 1000).toFixed(1)} s |`,
    ...(settled === undefined
      ? []
      : [`| failed in the first sync, created by a settling sync | ${firstFailures.length} |`]),
    `| second sync, wall time | **${(nothingMs / 1000).toFixed(2)} s** |`,
    `| products up to date | ${second.products.filter((p) => p.action === "nothing").length} |`,
    `| catalog requests (vendor host, installers excepted) | ${catalogRequests} (${(catalogRequests / count).toFixed(3)} per product) |`,
    `| installer downloads | ${downloads} |`,
    `| Graph calls / writes | ${graphCalls} / ${writes} |`,
    "",
  );

  await bed.addFault({ path: ".*", delayMs: latency, count: 1_000_000 });
  type Round = {
    ms: number;
    clientCpuMs: number;
    tenantCpuMs: number;
    prepareMs: number;
    failed: number;
    ok: number;
    maxInFlight: number;
    throttled: number;
  };
  const round = async (version: string, concurrency: number): Promise<Round> => {
    for (const id of ids.slice(0, fresh)) await bed.host.admin.publish(product(id, version));
    // Each round starts as a scheduled sync does, with Intune's 20 s write window empty: 20 in-place updates are 80
    // writes of the 100 allowed per app; the previous round's writes would otherwise throttle this one.
    await new Promise((r) => setTimeout(r, WRITE_WINDOW_MS + 1000));
    Object.assign(traffic, { maxInFlight: traffic.inFlight, throttled: 0 });
    const cpu0 = process.cpuUsage();
    const tenantCpu0 = await bed.cpuMs();
    const t0 = performance.now();
    let firstEvent: number | undefined;
    const r = await bed.run(yaml, { concurrency, onEvent: () => void (firstEvent ??= performance.now()) });
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    return {
      ms,
      clientCpuMs: (cpu.user + cpu.system) / 1000,
      tenantCpuMs: (await bed.cpuMs()) - tenantCpu0,
      prepareMs: (firstEvent ?? t0) - t0,
      maxInFlight: traffic.maxInFlight,
      throttled: traffic.throttled,
      failed: r.products.filter((p) => p.status === "failed").length,
      ok: r.products.filter((p) => p.action === "new-version" && p.status === "ok").length,
    };
  };
  const serial = await round("1.1", 1);
  const parallel = await round("1.2", 8);
  for (const p of firstFailures) lines.push(`first sync: ${p.id} failed: ${p.error?.code ?? ""} ${p.reason}`);
  if (firstFailures.length > 0) lines.push("");
  lines.push(
    `| ${fresh} new versions, ${latency} ms Graph latency | one at a time | default pool (8) |`,
    "|---|---|---|",
    `| wall time | ${(serial.ms / 1000).toFixed(1)} s | ${(parallel.ms / 1000).toFixed(1)} s |`,
    `| of which before the publish run's first event (resolve, download, stage, plan) | ${(serial.prepareMs / 1000).toFixed(1)} s | ${(parallel.prepareMs / 1000).toFixed(1)} s |`,
    `| published / failed | ${serial.ok} / ${serial.failed} | ${parallel.ok} / ${parallel.failed} |`,
    ...(inProcess
      ? []
      : [
          `| requests in flight at most (Graph + storage) | ${serial.maxInFlight} | ${parallel.maxInFlight} |`,
          `| 429 answers (each retried after its wait) | ${serial.throttled} | ${parallel.throttled} |`,
          `| CPU time: client process / tenant process | ${(serial.clientCpuMs / 1000).toFixed(1)} s / ${(serial.tenantCpuMs / 1000).toFixed(1)} s | ${(parallel.clientCpuMs / 1000).toFixed(1)} s / ${(parallel.tenantCpuMs / 1000).toFixed(1)} s |`,
        ]),
    `| speed-up | | **${(serial.ms / parallel.ms).toFixed(1)}×** |`,
    "",
    `load average after: ${load()}`,
  );
  console.log(lines.join("\n"));
} finally {
  await bed.close();
  await rm(dir, { recursive: true, force: true });
}
