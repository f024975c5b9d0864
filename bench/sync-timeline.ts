/*
 * Where a sync's time goes: per-product timelines of one round of new versions (bench/README.md, "sync").
 *
 *   npm run build && node dist/bench/sync-timeline.js [--products 20] [--latency-ms 100] [--concurrency 8] [--out FILE]
 *
 * The sync bed of bench/sync.ts (local tenant + vendor host in this process), our own session code with a logger
 * that records every Graph and storage attempt (start, end, method, path) and the publish engine's events. A first
 * sync creates the products, then each gets a new version and a second sync, with `--latency-ms` on every Graph
 * call, is recorded after `--gap-s` seconds (default 21: Intune's write window empty again). Prints a summary (calls by kind, time in flight, per-product spans, the largest gaps where no
 * request of the product was in flight); `--out` writes every record as JSON lines.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import type { HttpLogEvent } from "../src/clients/http/types.js";
import { product, startSyncBed } from "../test/sync/support.js";
import { FAST_POLL } from "../test/support/tenant.js";

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : process.argv[i + 1]!;
};
const count = Number(arg("products", "20"));
const latency = Number(arg("latency-ms", "100"));
const concurrency = Number(arg("concurrency", "8"));
const out = arg("out", "");
/** seconds waited before the recorded round, so that it starts with Intune's whole 20 s write budget */
const gap = Number(arg("gap-s", "21"));
const load = (): string =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(", ");

interface Rec {
  t: number;
  kind: "send" | "answer" | "event";
  method?: string;
  path?: string;
  status?: number;
  durationMs?: number;
  id?: string;
  detail?: string;
}
const recs: Rec[] = [];
let recording = false;
const now = (): number => performance.now();
const logger = {
  info: () => undefined,
  warning: () => undefined,
  event(e: HttpLogEvent): void {
    if (!recording) return;
    const path = e.url === undefined ? "" : new URL(e.url).pathname;
    if (e.status === undefined && e.durationMs === undefined)
      recs.push({ t: now(), kind: "send", method: e.method ?? "", path });
    else
      recs.push({
        t: now(),
        kind: "answer",
        method: e.method ?? "",
        path,
        ...(e.status === undefined ? {} : { status: e.status }),
        ...(e.durationMs === undefined ? {} : { durationMs: e.durationMs }),
      });
  },
};

const ids = Array.from({ length: count }, (_, i) => `Bench.Product${String(i).padStart(4, "0")}`);
const yaml = `products:\n${ids.map((id) => `  - id: ${id}\n`).join("")}`;
const dir = await mkdtemp(join(tmpdir(), "ip-bench-sync-timeline-"));
const bed = await startSyncBed(dir, { products: ids.map((id) => product(id, "1.0")) }, { logger });
try {
  const loadBefore = load();
  await bed.run(yaml);
  bed.tenant.lt.admin.addFault({ path: ".*", delayMs: latency, count: 1_000_000 });
  for (const id of ids) await bed.host.admin.publish(product(id, "1.1"));
  await new Promise((r) => setTimeout(r, gap * 1000));
  const storage = bed.tenant.session.transport.send;
  recording = true;
  const t0 = now();
  const r = await bed.run(yaml, {
    concurrency,
    upload: {
      poll: FAST_POLL,
      blockSize: 64 * 1024,
      storage: {
        transport: async (req) => {
          const path = new URL(req.url).pathname;
          recs.push({ t: now(), kind: "send", method: req.method, path: `blob ${path}` });
          const start = now();
          const res = await storage(req);
          recs.push({
            t: now(),
            kind: "answer",
            method: req.method,
            path: `blob ${path}`,
            status: res.status,
            durationMs: now() - start,
          });
          return res;
        },
      },
    },
    onEvent: (e) => {
      if (e.type === "step") recs.push({ t: now(), kind: "event", id: e.id, detail: `${e.step}: ${e.detail}` });
      if (e.type === "done") recs.push({ t: now(), kind: "event", id: e.id, detail: `done ${e.outcome.status}` });
    },
  });
  const wall = now() - t0;
  recording = false;
  const ok = r.products.filter((p) => p.status === "ok").length;
  for (const x of recs) x.t = Math.round(x.t - t0);
  if (out !== "") await writeFile(out, recs.map((x) => JSON.stringify(x)).join("\n") + "\n");

  // Calls by kind (method + path with ids folded), with their count and summed duration.
  const fold = (p: string): string => p.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, "{id}").replace(/\/\d+(\/|$)/g, "/{n}$1");
  const kinds = new Map<string, { n: number; ms: number }>();
  for (const x of recs.filter((x) => x.kind === "answer")) {
    const k = `${x.method} ${fold(x.path ?? "")}`;
    const v = kinds.get(k) ?? { n: 0, ms: 0 };
    v.n++;
    v.ms += x.durationMs ?? 0;
    kinds.set(k, v);
  }
  console.log(
    `${count} products, concurrency ${concurrency}, ${latency} ms latency: ${(wall / 1000).toFixed(1)} s, ${ok} ok (load ${loadBefore} before, ${load()} after)`,
  );
  console.log("");
  console.log("| call | count | mean ms |");
  console.log("|---|--:|--:|");
  for (const [k, v] of [...kinds].sort((a, b) => b[1].ms - a[1].ms))
    console.log(`| ${k} | ${v.n} | ${(v.ms / v.n).toFixed(0)} |`);
  // Requests in flight over time (sampled every 100 ms of the run).
  const answers = recs.filter((x) => x.kind === "answer" && x.durationMs !== undefined);
  const line: string[] = [];
  for (let s = 0; s < wall; s += 250) {
    const n = answers.filter((x) => x.t - x.durationMs! <= s && x.t >= s).length;
    line.push(String(n));
  }
  console.log("");
  console.log(`requests in flight every 250 ms: ${line.join(" ")}`);
  const events = recs.filter((x) => x.kind === "event");
  console.log("");
  for (const x of events) console.log(`${String(x.t).padStart(6)} ms ${x.id} ${x.detail}`);
} finally {
  await bed.close();
  await rm(dir, { recursive: true, force: true });
}
