/*
 * Benchmark: downloading from the local tenant's vendor host.
 *
 *   npm run build && node dist/bench/download.js [--mib 1024] [--rounds 4] [--hash-thread] [--references]
 *
 * One file (`--mib` MiB of random bytes, kept under bench/.work/download/ for the next run) served by the vendor
 * host (emulator/vendor/, HTTPS with its own CA) in this process; downloaded in rounds by `curl` (to a file, CA
 * given with --cacert) and by our downloader in a child process (bench/download-child.ts: verified download into an
 * empty cache, SHA-256 pinned), the pair's order alternating from round to round. Speed is size / wall time of each
 * download (curl: its `time_total`; ours: the `download()` call, hashing and the move into the cache included);
 * ratios from the medians, and the median of the paired ratios. Peak RSS of the child (`maxRSS`). Prints markdown.
 * `--hash-thread`: our downloader hashes and writes on its worker thread (`hashThread: true`), not on its own thread.
 * `--references`: two more clients each round, for what a verified download costs on this machine: `curl -o file`
 * then `openssl dgst -sha256 file` (native tools writing and hashing the same bytes) and the least a Node client can do
 * (bench/download-floor.ts); each client goes first in turn. Every row also has the vendor host's CPU (this process).
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, existsSync } from "node:fs";
import { mkdir, rm, stat, writeFile } from "node:fs/promises";
import { loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startVendorHost } from "../emulator/vendor/host.js";

const MiB = 1024 * 1024;
const root = fileURLToPath(new URL("../..", import.meta.url)); // dist/bench -> repo root
const work = join(root, "bench", ".work", "download");
const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : Number(process.argv[i + 1]);
};
const sizeMiB = arg("mib", 1024);
const rounds = arg("rounds", 4);
const load = (): string =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(", ");
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} exited with ${code}`))));
  });
}

await mkdir(work, { recursive: true });
const file = join(work, `random-${sizeMiB}mib.bin`);
if (!existsSync(file) || (await stat(file)).size !== sizeMiB * MiB) {
  const out = createWriteStream(file);
  const block = randomBytes(16 * MiB);
  for (let i = 0; i < sizeMiB / 16; i++)
    if (!out.write(block)) await new Promise<void>((r) => out.once("drain", () => r()));
  await new Promise<void>((r, j) => out.end((e?: Error | null) => (e ? j(e) : r())));
}
const loadBefore = load();
const host = await startVendorHost({
  seed: {
    products: [
      {
        id: "Bench.Big",
        name: "Bench",
        publisher: "Bench",
        versions: [{ version: "1.0", installers: [{ architecture: "x64", type: "exe", content: { path: file } }] }],
      },
    ],
  },
});
const inst = host.admin.installer("Bench.Big");
const caPath = join(work, "vendor-ca.pem");
await writeFile(caPath, host.caCertPem);

type Client = "ours" | "curl" | "curl, then openssl dgst" | "node floor";
interface Row {
  round: number;
  client: Client;
  seconds: number;
  mibps: number;
  /** user + system CPU seconds of the client process */
  cpu: number;
  rssMiB?: number;
  startRssMiB?: number;
  /** CPU seconds of this process (the vendor host) during the download */
  hostCpu?: number;
}
const rows: Row[] = [];
const references = process.argv.includes("--references");

async function curl(round: number): Promise<void> {
  const out = join(work, "curl.out");
  await rm(out, { force: true });
  // bash's `times` prints the CPU time of its children (curl) on its second line: "0m0.650s 0m1.600s".
  const script = `curl -sS --cacert "$1" -o "$2" -w '%{time_total} %{size_download}\\n' "$3" && times`;
  const text = await run("bash", ["-c", script, "bash", caPath, out, inst.url]);
  const lines = text.trim().split("\n");
  const [seconds, size] = lines[0]!.split(" ").map(Number);
  if (size !== inst.size) throw new Error(`curl got ${size} bytes, not ${inst.size}.`);
  const cpu = [...lines.at(-1)!.matchAll(/(\d+)m([\d.]+)s/g)].reduce((a, m) => a + Number(m[1]) * 60 + Number(m[2]), 0);
  rows.push({ round, client: "curl", seconds: seconds!, mibps: sizeMiB / seconds!, cpu });
  await rm(out, { force: true });
}

/**
 * A verified download in native tools, as an admin's script does it: `curl -o file`, then `openssl dgst -sha256
 * file` (the file still in the page cache; OpenSSL's SHA-256 uses the CPU's SHA extensions, Debian's `sha256sum` does
 * not and takes ≈ 5 s per GiB here). Wall time from bash's EPOCHREALTIME around both; CPU of both from `times`.
 */
async function curlHashed(round: number): Promise<void> {
  const out = join(work, "curl.out");
  await rm(out, { force: true });
  const script =
    `t0=$EPOCHREALTIME; curl -sS --cacert "$1" -o "$2" "$3" && openssl dgst -sha256 -r "$2"; t1=$EPOCHREALTIME; ` +
    `echo "$t0 $t1"; times`;
  const text = await run("bash", ["-c", script, "bash", caPath, out, inst.url]);
  const lines = text.trim().split("\n");
  if (!lines[0]!.startsWith(inst.sha256)) throw new Error("curl then openssl dgst got other bytes.");
  const [t0, t1] = lines[1]!.split(" ").map(Number);
  const seconds = t1! - t0!;
  const cpu = [...lines.at(-1)!.matchAll(/(\d+)m([\d.]+)s/g)].reduce((a, m) => a + Number(m[1]) * 60 + Number(m[2]), 0);
  rows.push({ round, client: "curl, then openssl dgst", seconds, mibps: sizeMiB / seconds, cpu });
  await rm(out, { force: true });
}

/** The least a Node client can do for a verified download (bench/download-floor.ts). */
async function nodeFloor(round: number): Promise<void> {
  const out = join(work, "floor.out");
  await rm(out, { force: true });
  const text = await run(process.execPath, [
    join(root, "dist", "bench", "download-floor.js"),
    JSON.stringify({ caPath, url: inst.url, out }),
  ]);
  const r = JSON.parse(text.trim().split("\n").at(-1)!) as {
    seconds: number;
    size: number;
    sha256: string;
    cpuSeconds: number;
  };
  if (r.size !== inst.size || r.sha256 !== inst.sha256) throw new Error("The floor client's download came back wrong.");
  rows.push({ round, client: "node floor", seconds: r.seconds, mibps: sizeMiB / r.seconds, cpu: r.cpuSeconds });
  await rm(out, { force: true });
}

async function ours(round: number): Promise<void> {
  const cacheDir = join(work, "cache");
  await rm(cacheDir, { recursive: true, force: true });
  const input = {
    caPath,
    url: inst.url,
    sha256: inst.sha256,
    cacheDir,
    hashThread: process.argv.includes("--hash-thread"),
  };
  // BENCH_CHILD_ARGS: node options for the child only (e.g. --trace-gc), to see where its memory goes.
  const nodeArgs = process.env.BENCH_CHILD_ARGS ? process.env.BENCH_CHILD_ARGS.split(" ") : [];
  const text = await run(process.execPath, [
    ...nodeArgs,
    join(root, "dist", "bench", "download-child.js"),
    JSON.stringify(input),
  ]);
  process.stderr.write(`ours, round ${round}: ${text.trim()}\n`);
  const r = JSON.parse(text.trim().split("\n").at(-1)!) as {
    seconds: number;
    size: number;
    sha256: string;
    maxRssKiB: number;
    startRssKiB: number;
    cpuSeconds: number;
  };
  if (r.size !== inst.size || r.sha256 !== inst.sha256) throw new Error("Our download came back wrong.");
  rows.push({
    round,
    client: "ours",
    seconds: r.seconds,
    mibps: sizeMiB / r.seconds,
    cpu: r.cpuSeconds,
    rssMiB: r.maxRssKiB / 1024,
    startRssMiB: r.startRssKiB / 1024,
  });
  await rm(cacheDir, { recursive: true, force: true });
}

try {
  // Warm-up (page cache of the source file, TLS session code paths), not counted.
  await curl(0);
  rows.length = 0;
  const clients: ((round: number) => Promise<void>)[] = references ? [ours, curl, curlHashed, nodeFloor] : [ours, curl];
  for (let round = 1; round <= rounds; round++) {
    // each client goes first in turn (with two: ours, curl; then curl, ours; …)
    const order = clients.map((_, i) => clients[(i + round - 1) % clients.length]!);
    for (const client of order) {
      const before = process.cpuUsage();
      const count = rows.length;
      await client(round);
      const used = process.cpuUsage(before);
      if (rows.length > count) rows.at(-1)!.hostCpu = (used.user + used.system) / 1e6;
    }
  }
} finally {
  await host.close();
}

const oursRows = rows.filter((r) => r.client === "ours");
const curlRows = rows.filter((r) => r.client === "curl");
const paired = oursRows.map((o) => o.mibps / curlRows.find((c) => c.round === o.round)!.mibps);
const peak = Math.max(...oursRows.map((r) => r.rssMiB ?? 0));
console.log(`### ${sizeMiB} MiB from the vendor host, ${rounds} rounds (load ${loadBefore} before, ${load()} after)`);
console.log("");
console.log(
  "| round | client | s | MiB/s | CPU s (user + sys) | vendor host CPU s | RSS before the download MiB | peak RSS MiB |",
);
console.log("|--:|---|--:|--:|--:|--:|--:|--:|");
const mib = (x: number | undefined): string => (x === undefined ? "—" : x.toFixed(1));
for (const r of rows)
  console.log(
    `| ${r.round} | ${r.client} | ${r.seconds.toFixed(2)} | ${r.mibps.toFixed(1)} | ${r.cpu.toFixed(2)} | ${r.hostCpu?.toFixed(2) ?? "—"} | ${mib(r.startRssMiB)} | ${mib(r.rssMiB)} |`,
  );
console.log("");
const ratio = median(oursRows.map((r) => r.mibps)) / median(curlRows.map((r) => r.mibps));
console.log(
  `Median: ours ${median(oursRows.map((r) => r.mibps)).toFixed(1)} MiB/s, curl ${median(curlRows.map((r) => r.mibps)).toFixed(1)} MiB/s: **${ratio.toFixed(2)}×** (target ≥ 0.9×); median of paired ratios ${median(paired).toFixed(2)}×. Peak RSS of our downloader: **${peak.toFixed(1)} MiB** (target ≤ 100 MB).`,
);
console.log("curl's file is checked by its size; ours by its SHA-256 (the downloader keeps nothing else).");
if (references) {
  const of = (client: Client): Row[] => rows.filter((r) => r.client === client);
  const summary = (client: Client): string => {
    const rs = of(client);
    const pairedWith = oursRows.map((o) => o.mibps / rs.find((c) => c.round === o.round)!.mibps);
    const cpu = median(rs.map((r) => r.cpu));
    const host = median(rs.map((r) => r.hostCpu ?? 0));
    return `${client}: ${median(rs.map((r) => r.mibps)).toFixed(1)} MiB/s, CPU ${cpu.toFixed(2)} s + vendor host ${host.toFixed(2)} s; ours / it **${(median(oursRows.map((r) => r.mibps)) / median(rs.map((r) => r.mibps))).toFixed(2)}×** (paired ${median(pairedWith).toFixed(2)}×)`;
  };
  console.log("");
  for (const client of ["ours", "curl", "curl, then openssl dgst", "node floor"] as Client[])
    console.log(`- ${summary(client)}`);
}
