/*
 * Benchmark: `intune-publisher package` against the serial pipeline a Linux admin would script
 * (`zip -1 -r` + `openssl enc -aes-256-cbc` + `sha256sum` of the zip), on the same 1 GiB folder:
 * half incompressible, many small files and a few large ones. Wall time and peak RSS (GNU time) per run.
 *
 *   npm run build && node dist/bench/package.js [--runs N] [--mib 1024] [--keep] [--skip-unpack]
 *
 * --mib scales the folder (same layout, sizes × mib/1024): 64 for quick iterations, 4096 for the growth row.
 * Also times `openssl enc -aes-256-cbc` alone on our inner zip's byte count (the serial floor), and our `unpack`
 * against `openssl enc -d` + `unzip` on our own package. CPU time (user + sys) beside every wall time.
 *
 * Needs zip, unzip, openssl and /usr/bin/time (Debian: zip unzip openssl time). Writes under bench/.work
 * (git-ignored).
 */
import { spawnSync } from "node:child_process";
import { loadavg } from "node:os";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, open, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const MiB = 1024 * 1024;
const root = fileURLToPath(new URL("../..", import.meta.url)); // dist/bench -> repo root
const work = join(root, "bench", ".work");
const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) || fallback : fallback;
};
const runs = arg("--runs", 3);
const mib = arg("--mib", 1024);
const scale = mib / 1024;
const data = join(work, `data-${mib}`);

/** Deterministic PRNG (xorshift32) so every run builds the same data. */
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
  "install setup error warning info debug service registry value key path program files windows system " +
  "update version product vendor license user machine device policy config timestamp started finished " +
  "success failure retry download extract copy delete create modify token request response"
).split(" ");

/** Text that compresses about as well as real logs and scripts (roughly 3-4x at deflate level 1). */
function textBuffer(size: number, seed: number): Buffer {
  const next = prng(seed);
  const parts: string[] = [];
  let n = 0;
  while (n < size) {
    const line = `${next() % 100000} ${Array.from({ length: 6 + (next() % 8) }, () => WORDS[next() % WORDS.length]).join(" ")}\r\n`;
    parts.push(line);
    n += line.length;
  }
  return Buffer.from(parts.join("")).subarray(0, size);
}

async function writeLarge(path: string, size: number, kind: "random" | "text", seed: number): Promise<void> {
  const fh = await open(path, "w");
  for (let done = 0, i = 0; done < size; done += 16 * MiB, i++) {
    const len = Math.min(16 * MiB, size - done);
    await fh.write(kind === "random" ? randomBytes(len) : textBuffer(len, seed + i));
  }
  await fh.close();
}

async function buildData(): Promise<number> {
  if (existsSync(join(data, ".complete"))) return totalSize(data);
  await rm(data, { recursive: true, force: true });
  await mkdir(data, { recursive: true });
  await writeFile(join(data, "setup.exe"), randomBytes(256 * 1024));
  // 2048 small files of 64 KiB in 32 folders: half random, half text (128 MiB; scaled: the number of folders).
  for (let d = 0; d < Math.max(1, Math.round(32 * scale)); d++) {
    const dir = join(data, "payload", `module-${d}`);
    await mkdir(dir, { recursive: true });
    for (let f = 0; f < 64; f++) {
      const random = (d * 64 + f) % 2 === 0;
      await writeFile(
        join(dir, `file-${f}.${random ? "bin" : "txt"}`),
        random ? randomBytes(64 * 1024) : textBuffer(64 * 1024, d * 64 + f),
      );
    }
  }
  // A few large files: 4 × 112 MiB random, 2 × 224 MiB text (896 MiB).
  await mkdir(join(data, "large"));
  const large = (n: number): number => Math.round(n * MiB * scale);
  for (let i = 0; i < 4; i++) await writeLarge(join(data, "large", `archive-${i}.cab`), large(112), "random", i);
  for (let i = 0; i < 2; i++)
    await writeLarge(join(data, "large", `data-${i}.log`), large(224), "text", 1000 + i * 100);
  await writeFile(join(data, ".complete"), "");
  return totalSize(data);
}

async function totalSize(dir: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    n += e.isDirectory() ? await totalSize(p) : (await stat(p)).size;
  }
  return n;
}

interface Measure {
  seconds: number;
  maxRssKiB: number;
  /** User + system CPU seconds. */
  cpu: number;
}

/** Runs a command under GNU time and returns its wall time, CPU time and peak RSS. */
function timed(cmd: string, args: string[], cwd = root, okStatus = [0]): Measure {
  const r = spawnSync("/usr/bin/time", ["-f", "%e %M %U %S", cmd, ...args], {
    cwd,
    encoding: "utf8",
    maxBuffer: 64 * MiB,
  });
  if (!okStatus.includes(r.status ?? -1)) throw new Error(`${cmd} ${args.join(" ")} failed: ${r.stderr}`);
  const [sec, rss, user, sys] = r.stderr.trim().split("\n").pop()!.split(" ").map(Number);
  return { seconds: sec!, maxRssKiB: rss!, cpu: user! + sys! };
}

function sum(steps: Measure[]): Measure {
  return {
    seconds: steps.reduce((s, m) => s + m.seconds, 0),
    maxRssKiB: Math.max(...steps.map((m) => m.maxRssKiB)),
    cpu: steps.reduce((s, m) => s + m.cpu, 0),
  };
}

/** With BENCH_MEM_LOG=file: the memory sampler (bench/mem-sampler.ts) in our package and unpack runs. */
const sampler = process.env.BENCH_MEM_LOG ? ["--import", join(root, "dist", "bench", "mem-sampler.js")] : [];

function ours(out: string): Measure {
  return timed(process.execPath, [
    ...(process.env.BENCH_NODE_ARGS ? process.env.BENCH_NODE_ARGS.split(" ") : []),
    ...sampler,
    join(root, "bin", "intune-publisher.js"),
    "package",
    "--source",
    data,
    "--setup",
    "setup.exe",
    "--out",
    out,
  ]);
}

function reference(out: string): Measure {
  const zip = join(out, "ref.zip");
  const steps = [
    timed("zip", ["-1", "-r", "-q", zip, "."], data),
    timed("openssl", [
      "enc",
      "-aes-256-cbc",
      "-K",
      randomBytes(32).toString("hex"),
      "-iv",
      randomBytes(16).toString("hex"),
      "-in",
      zip,
      "-out",
      join(out, "ref.enc"),
    ]),
    timed("sha256sum", [zip]),
  ];
  return sum(steps);
}

/** Our package's key, IV and plaintext size (from its Detection.xml), and its payload less MAC and IV. */
async function payloadOf(pkg: string, out: string): Promise<{ key: string; iv: string; size: number; enc: string }> {
  const xml = spawnSync("unzip", ["-p", pkg, "IntuneWinPackage/Metadata/Detection.xml"], { encoding: "utf8" }).stdout;
  const field = (n: string): string =>
    Buffer.from(xml.match(new RegExp(`<${n}>([^<]*)<`))![1]!, "base64").toString("hex");
  const enc = join(out, "payload.enc");
  spawnSync("sh", [
    "-c",
    `unzip -p "${pkg}" IntuneWinPackage/Contents/IntunePackage.intunewin | tail -c +49 > "${enc}"`,
  ]);
  const size = Number(xml.match(/<UnencryptedContentSize>(\d+)</)![1]);
  return { key: field("EncryptionKey"), iv: field("InitializationVector"), size, enc };
}

/** The serial floor: `openssl enc -aes-256-cbc` alone on as many bytes as our inner zip (a file of zeros). */
async function opensslAlone(size: number, out: string): Promise<Measure> {
  const plain = join(out, "plain.bin");
  const fh = await open(plain, "w");
  await fh.truncate(size);
  await fh.close();
  await readFile(plain).catch(() => undefined); // into the page cache (may fail above 2 GiB: then read by openssl)
  const key = randomBytes(32).toString("hex");
  const iv = randomBytes(16).toString("hex");
  return timed("openssl", ["enc", "-aes-256-cbc", "-K", key, "-iv", iv, "-in", plain, "-out", join(out, "plain.enc")]);
}

function unpackOurs(pkg: string, out: string): Measure {
  return timed(process.execPath, [
    ...sampler,
    join(root, "bin", "intune-publisher.js"),
    "unpack",
    pkg,
    "--out",
    join(out, "unpacked-ours"),
  ]);
}

function unpackReference(p: { key: string; iv: string; enc: string }, out: string): Measure {
  const zip = join(out, "decrypted.zip");
  return sum([
    timed("openssl", ["enc", "-d", "-aes-256-cbc", "-K", p.key, "-iv", p.iv, "-in", p.enc, "-out", zip]),
    // Exit status 1 is unzip's warning that the names use backslashes, as the official tool writes them.
    timed("unzip", ["-q", zip, "-d", join(out, "unpacked-ref")], root, [0, 1]),
  ]);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (m: Measure): string =>
  `${m.seconds.toFixed(2)} s (CPU ${m.cpu.toFixed(2)} s), ${(m.maxRssKiB / 1024).toFixed(0)} MiB`;

async function main(): Promise<void> {
  const size = await buildData();
  spawnSync("sh", ["-c", `cat $(find ${JSON.stringify(data)} -type f) > /dev/null`]); // warm the page cache for both
  const loadBefore = loadavg()[0]!;
  const names = ["ours", "reference", "openssl enc alone", "unpack ours", "unpack openssl -d + unzip"] as const;
  const results = Object.fromEntries(names.map((n) => [n, [] as Measure[]])) as Record<
    (typeof names)[number],
    Measure[]
  >;
  let innerSize = 0;
  const log = (name: string, i: number, m: Measure): void => {
    results[name as (typeof names)[number]].push(m);
    process.stderr.write(`run ${i + 1} ${name}: ${fmt(m)} (load ${loadavg()[0]!.toFixed(2)})\n`);
  };
  for (let i = 0; i < runs; i++) {
    const out = join(work, "out");
    await rm(out, { recursive: true, force: true });
    await mkdir(out, { recursive: true });
    // Alternate the order so that neither pipeline always runs first.
    const pair = i % 2 === 0 ? (["ours", "reference"] as const) : (["reference", "ours"] as const);
    for (const name of pair) log(name, i, name === "ours" ? ours(join(out)) : reference(out));
    const pkg = join(out, "setup.intunewin");
    const p = await payloadOf(pkg, out);
    innerSize = p.size;
    await rm(join(out, "ref.zip"), { force: true });
    await rm(join(out, "ref.enc"), { force: true });
    log("openssl enc alone", i, await opensslAlone(p.size, out));
    await rm(join(out, "plain.bin"), { force: true });
    await rm(join(out, "plain.enc"), { force: true });
    if (!process.argv.includes("--skip-unpack")) {
      const uPair = i % 2 === 0 ? [0, 1] : [1, 0];
      for (const u of uPair) {
        if (u === 0) log("unpack ours", i, unpackOurs(pkg, out));
        else log("unpack openssl -d + unzip", i, unpackReference(p, out));
      }
    }
    await rm(out, { recursive: true, force: true });
  }
  const loadAfter = loadavg()[0]!;
  const med = (n: (typeof names)[number]): number => median(results[n].map((m) => m.seconds));
  const medCpu = (n: (typeof names)[number]): number => median(results[n].map((m) => m.cpu));
  const rss = (n: (typeof names)[number]): number => Math.max(...results[n].map((m) => m.maxRssKiB)) / 1024;
  console.log(
    `Input: ${(size / MiB).toFixed(0)} MiB, inner zip ${(innerSize / MiB).toFixed(1)} MiB; ${runs} runs each, median ` +
      `wall and CPU time, max peak RSS; load average ${loadBefore.toFixed(2)} → ${loadAfter.toFixed(2)}.`,
  );
  console.log("| pipeline | wall time (s) | CPU (s) | peak RSS (MiB) |");
  console.log("|---|--:|--:|--:|");
  for (const n of names) {
    if (results[n].length === 0) continue;
    console.log(`| ${n} | ${med(n).toFixed(2)} | ${medCpu(n).toFixed(2)} | ${rss(n).toFixed(0)} |`);
  }
  console.log(
    `Package: ${(med("reference") / med("ours")).toFixed(2)}x faster than the reference (target ≥ 2.5x), ` +
      `${(med("ours") / med("openssl enc alone")).toFixed(2)}x openssl enc alone (target ≤ 2x).`,
  );
  if (results["unpack ours"].length) {
    console.log(
      `Unpack: ${(med("unpack openssl -d + unzip") / med("unpack ours")).toFixed(2)}x the speed of openssl -d + unzip (target ≥ 1x).`,
    );
  }
  if (!process.argv.includes("--keep")) await rm(work, { recursive: true, force: true });
}

await main();
