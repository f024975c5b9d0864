/*
 * Benchmark: `catalog search` over an index of 10,000 packages (target: under 100 ms per query after load).
 * Builds a synthetic index.v2.json in the community shape (ids, names, tags drawn from a word list, deterministic),
 * loads it as `catalog search` does (parse, check every entry, precompute lower-case fields), then times queries of
 * several kinds after one warm-up pass: an exact id, a word, a prefix, two words, a tag, a query that matches nothing.
 * Wall time per query (mean, p95, max) and CPU time per query (less sensitive to other work on the machine).
 *
 *   npm run build && node dist/bench/catalog-search.js [--packages N] [--rounds N]
 */
import { performance } from "node:perf_hooks";
import { parseIndexJson } from "../src/catalog/search.js";

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name);
  return i === -1 ? fallback : Number(process.argv[i + 1]) || fallback;
};
const packages = arg("--packages", 10_000);
const rounds = arg("--rounds", 50);

/** Deterministic PRNG (xorshift32) so every run searches the same index. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

const WORDS = (
  "note pad code studio office zip archive browser mail chat video player audio editor image photo viewer " +
  "terminal shell git sync cloud drive backup password manager vpn remote desktop runtime sdk java python " +
  "node docker tools utility monitor network security scanner reader pdf print driver font game launcher"
).split(" ");
const PUBLISHERS = "Contoso Fabrikam Northwind Tailspin Adatum Litware Proseware Wingtip Woodgrove Fourth".split(" ");

const rand = prng(13);
const pick = <T>(list: readonly T[]) => list[rand() % list.length]!;
const entries = [];
for (let i = 0; i < packages; i++) {
  const a = pick(WORDS);
  const b = pick(WORDS);
  const name = `${a[0]!.toUpperCase()}${a.slice(1)} ${b[0]!.toUpperCase()}${b.slice(1)} ${i}`;
  entries.push({
    Name: name,
    PackageId: `${pick(PUBLISHERS)}.${a}${b}${i}`,
    Version: `${rand() % 30}.${rand() % 20}.${rand() % 1000}`,
    Tags: [pick(WORDS), pick(WORDS), pick(WORDS)],
    LastUpdate: "2026-09-25T10:00:00+00:00",
  });
}
const text = JSON.stringify(entries);

const loadStart = performance.now();
const index = parseIndexJson(text, "synthetic index.v2.json");
const loadMs = performance.now() - loadStart;

const queries = [
  ["exact id", entries[packages >> 1]!.PackageId],
  ["one word", "studio"],
  ["prefix", "terminal sh"],
  ["two words", "password manager"],
  ["tag", "vpn"],
  ["no match", "zzzz-nothing"],
] as const;

console.log(
  `index: ${packages} packages, ${(text.length / 1e6).toFixed(1)} MB of JSON, loaded in ${loadMs.toFixed(0)} ms`,
);
// One warm-up pass, so the figures are the steady state (not the first call's compilation).
for (const [, q] of queries) index.search(q);
console.log("| query | hits (first 50) | mean ms | p95 ms | max ms | CPU ms per query |");
console.log("|---|---|---|---|---|---|");
for (const [label, q] of queries) {
  const times: number[] = [];
  let hits = 0;
  const cpu = process.cpuUsage();
  for (let r = 0; r < rounds; r++) {
    const t = performance.now();
    hits = index.search(q).length;
    times.push(performance.now() - t);
  }
  const used = process.cpuUsage(cpu);
  const cpuMs = (used.user + used.system) / 1000 / rounds;
  times.sort((x, y) => x - y);
  const mean = times.reduce((s, x) => s + x, 0) / times.length;
  const p95 = times[Math.floor(times.length * 0.95)]!;
  console.log(
    `| ${label} (\`${q}\`) | ${hits} | ${mean.toFixed(2)} | ${p95.toFixed(2)} | ${times.at(-1)!.toFixed(2)} | ${cpuMs.toFixed(2)} |`,
  );
}
