/*
 * Memory sampler for the package benchmark: `node --import ./dist/bench/mem-sampler.js …` with BENCH_MEM_LOG set
 * to a file. Every 20 ms, on the main thread, samples process.memoryUsage() and the thread count; at each new peak
 * of RSS (by ≥ 1 MiB) it also splits the RSS by mapping kind from /proc/self/smaps. At exit, appends one JSON line
 * to BENCH_MEM_LOG: the peak sample, its split and a coarse time series. Linux only; a no-op without the variable.
 */
import { appendFileSync, readFileSync } from "node:fs";
import { getHeapSpaceStatistics } from "node:v8";
import { isMainThread } from "node:worker_threads";

interface Sample {
  t: number;
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  threads: number;
}

const MiB = 1024 * 1024;
const log = process.env.BENCH_MEM_LOG;

/** RSS in MiB by kind: the brk heap (glibc's main arena), anonymous mappings, file-backed ones, stacks. */
function smapsSplit(): Record<string, number> {
  const out: Record<string, number> = { heap: 0, anon: 0, anonCount: 0, file: 0, stack: 0, big64: 0 };
  let kind = "anon";
  let size = 0;
  for (const line of readFileSync("/proc/self/smaps", "utf8").split("\n")) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (m) {
      const name = m[3]!;
      size = (parseInt(m[2]!, 16) - parseInt(m[1]!, 16)) / MiB;
      kind = name === "[heap]" ? "heap" : name.startsWith("[stack") ? "stack" : name.startsWith("/") ? "file" : "anon";
      if (kind === "anon") out.anonCount!++;
      continue;
    }
    const r = /^Rss:\s+(\d+) kB/.exec(line);
    if (r) {
      const rss = Number(r[1]) / 1024;
      out[kind]! += rss;
      // glibc's per-thread arenas reserve 64 MiB each (HEAP_MAX_SIZE); V8 and Node map smaller pieces.
      if (kind === "anon" && size >= 60 && size <= 64) out.big64! += rss;
    }
  }
  for (const k of Object.keys(out)) out[k] = Math.round(out[k]! * 10) / 10;
  return out;
}

function threads(): number {
  const m = /^Threads:\s+(\d+)/m.exec(readFileSync("/proc/self/status", "utf8"));
  return m ? Number(m[1]) : 0;
}

if (log && isMainThread) {
  const start = Date.now();
  let peak: Sample | undefined;
  let split: Record<string, number> = {};
  const series: Sample[] = [];
  let lastSeries = 0;
  const sample = (): void => {
    const u = process.memoryUsage();
    const s: Sample = {
      t: Date.now() - start,
      rss: u.rss / MiB,
      heapTotal: u.heapTotal / MiB,
      heapUsed: u.heapUsed / MiB,
      external: u.external / MiB,
      arrayBuffers: u.arrayBuffers / MiB,
      threads: threads(),
    };
    if (!peak || s.rss >= peak.rss + 1) {
      peak = s;
      split = smapsSplit();
      for (const h of getHeapSpaceStatistics()) split[h.space_name] = Math.round((h.space_size / MiB) * 10) / 10;
    } else if (s.rss > peak.rss) peak = s;
    if (s.t - lastSeries >= 250) {
      series.push(s);
      lastSeries = s.t;
    }
  };
  setInterval(sample, 20).unref();
  process.on("exit", () => {
    sample();
    const round = (s: Sample): Sample =>
      Object.fromEntries(Object.entries(s).map(([k, v]) => [k, Math.round(v * 10) / 10])) as unknown as Sample;
    appendFileSync(
      log,
      JSON.stringify({ argv: process.argv.slice(2, 3), peak: peak && round(peak), split, series: series.map(round) }) +
        "\n",
    );
  });
}
