/*
 * Benchmark: `intune-publisher package` against the serial pipeline a Linux admin would script
 * (`zip -1 -r` + `openssl enc -aes-256-cbc` + `sha256sum` of the zip), on the same 1 GiB folder:
 * half incompressible, many small files and a few large ones. Wall time and peak RSS (GNU time) per run.
 *
 *   npm run build && node dist/bench/package.js [--runs N] [--keep]
 *
 * Needs zip, openssl and /usr/bin/time (Debian: zip openssl time). Writes under bench/.work (git-ignored).
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, open, readdir, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const MiB = 1024 * 1024;
const root = fileURLToPath(new URL("../..", import.meta.url)); // dist/bench -> repo root
const work = join(root, "bench", ".work");
const data = join(work, "data");
const runs = Number(process.argv[process.argv.indexOf("--runs") + 1] || 3) || 3;

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
  // 2048 small files of 64 KiB in 32 folders: half random, half text (128 MiB).
  for (let d = 0; d < 32; d++) {
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
  for (let i = 0; i < 4; i++) await writeLarge(join(data, "large", `archive-${i}.cab`), 112 * MiB, "random", i);
  for (let i = 0; i < 2; i++) await writeLarge(join(data, "large", `data-${i}.log`), 224 * MiB, "text", 1000 + i * 100);
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
}

/** Runs a command under GNU time and returns its wall time and peak RSS. */
function timed(cmd: string, args: string[], cwd = root): Measure {
  const r = spawnSync("/usr/bin/time", ["-f", "%e %M", cmd, ...args], { cwd, encoding: "utf8", maxBuffer: 64 * MiB });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${r.stderr}`);
  const [sec, rss] = r.stderr.trim().split("\n").pop()!.split(" ");
  return { seconds: Number(sec), maxRssKiB: Number(rss) };
}

function ours(out: string): Measure {
  return timed(process.execPath, [
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
  return { seconds: steps.reduce((s, m) => s + m.seconds, 0), maxRssKiB: Math.max(...steps.map((m) => m.maxRssKiB)) };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const size = await buildData();
  spawnSync("sh", ["-c", `cat $(find ${JSON.stringify(data)} -type f) > /dev/null`]); // warm the page cache for both
  const results = { ours: [] as Measure[], reference: [] as Measure[] };
  for (let i = 0; i < runs; i++) {
    for (const [name, fn] of [
      ["ours", ours],
      ["reference", reference],
    ] as const) {
      const out = join(work, `out-${name}`);
      await rm(out, { recursive: true, force: true });
      await mkdir(out, { recursive: true });
      const m = fn(out);
      results[name].push(m);
      process.stderr.write(`run ${i + 1} ${name}: ${m.seconds.toFixed(2)} s, ${(m.maxRssKiB / 1024).toFixed(0)} MiB\n`);
      await rm(out, { recursive: true, force: true });
    }
  }
  const o = median(results.ours.map((m) => m.seconds));
  const r = median(results.reference.map((m) => m.seconds));
  const oRss = Math.max(...results.ours.map((m) => m.maxRssKiB)) / 1024;
  const rRss = Math.max(...results.reference.map((m) => m.maxRssKiB)) / 1024;
  console.log(`Input: ${(size / MiB).toFixed(0)} MiB; ${runs} runs each, median wall time, max peak RSS.`);
  console.log("| pipeline | wall time (s) | peak RSS (MiB) |");
  console.log("|---|---|---|");
  console.log(`| intune-publisher package | ${o.toFixed(2)} | ${oRss.toFixed(0)} |`);
  console.log(`| zip -1 -r + openssl enc + sha256sum | ${r.toFixed(2)} | ${rRss.toFixed(0)} |`);
  console.log(`Speed-up: ${(r / o).toFixed(2)}x`);
  if (!process.argv.includes("--keep")) await rm(work, { recursive: true, force: true });
}

await main();
