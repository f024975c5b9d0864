/*
 * Benchmark: upload and publish against the local tenant.
 *
 *   npm run build && node dist/bench/upload.js [--mib 512] [--apps 20] [--latency 100] [--big-mib 2048]
 *                                              [--rounds 4] [--skip-throughput] [--skip-graph] [--skip-big]
 *                                              [--tenant child|in-process] [--block-mib N] [--concurrency 4,8,16]
 *                                              [--sdk-block default,ours|default|ours|none] [--max-buffer-mib N]
 *
 * (a) Upload throughput: our engine (`uploadContent`, blocks of `--block-mib`, default our default) vs
 *     `@azure/storage-blob` `BlockBlobClient.uploadFile` at each `--concurrency` (default 4, 8, 16), the SDK with its
 *     own default block size (no `blockSize`, no `maxSingleShotSize`: what a caller gets) and with ours
 *     (`--sdk-block`, default both), to the same disk-backed Azurite, the same payload (a real package made by our
 *     packager from random data; the package's payload extracted as the SDK's file): one warm-up upload each, then
 *     `--rounds` rounds (default 4) of adjacent groups per concurrency (ours and each SDK variant), the group's order
 *     reversed every other round; ratios from the medians (best against best), and paired ratios per concurrency.
 *     Ours is not run where block × concurrency exceeds `--max-buffer-mib` (default: no limit, since a stored payload's
 *     blocks are read while they are sent and hold no block buffers). `--tenant child` (the default): the local tenant (emulator and
 *     Azurite) runs in a child process (bench/upload-tenant.ts), as storage is another machine in a real
 *     deployment, and the benchmark process holds only the client being measured; `in-process`: all in one process
 *     (the setting of the runs before 2026-12-04).
 * (b) Graph calls for publishing one new app (contoso-notes), state polls counted apart, at the transport.
 * (c) N apps with latency injected by the emulator on every Graph call (a latency-only fault): the publish use
 *     case with its pool vs one app at a time, with the emulator's throttling on; 429s counted at the transport.
 *     Main rows: contoso-notes copies without their category (5 writes per new app: 20 apps make exactly Intune's
 *     100 writes per 20 s); second table: with it (6 writes, 120 for 20 apps). Every row on a fresh local tenant.
 *
 * (d) Memory: a package with a ~2 GiB payload (incompressible data packaged by our packager) uploaded through
 *     `uploadContent` by a child process (bench/upload-child.ts) to disk-backed Azurite; the child's peak RSS.
 *
 * Writes under bench/.work/upload (git-ignored); the package and its source are kept for the next run.
 * Prints markdown.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, existsSync, readFileSync } from "node:fs";
import { cp, mkdir, open, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { loadavg } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { BlockBlobClient } from "@azure/storage-blob";
import type { StoragePipelineOptions } from "@azure/storage-blob";
import { loadAppDefinitions } from "../src/definitions/load.js";
import type { Win32LobAppWire } from "../src/core/wire/graph.js";
import { packageFolder } from "../src/intunewin/package.js";
import { openPackage } from "../src/intunewin/read.js";
import { DEFAULT_APP_CONCURRENCY, publish } from "../src/publish/publish.js";
import { DEFAULT_BLOCK_SIZE, DEFAULT_CONCURRENCY, uploadContent } from "../src/publish/upload/index.js";
import { GraphClient } from "../src/clients/graph/client.js";
import { createHttpPipeline } from "../src/clients/http/pipeline.js";
import { createFetchTransport } from "../src/clients/http/transport.js";
import type { HttpTransport } from "../src/clients/http/types.js";
import type { UploadTenantInfo } from "./upload-tenant.js";
import { createApp } from "../test/support/fixtures.js";
import { startTestTenant } from "../test/support/tenant.js";
import type { Recorded, TestTenant } from "../test/support/tenant.js";

const MiB = 1024 * 1024;
const root = fileURLToPath(new URL("../..", import.meta.url)); // dist/bench -> repo root
const work = join(root, "bench", ".work", "upload");
const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : Number(process.argv[i + 1]);
};
const payloadMiB = arg("mib", 512);
const appCount = arg("apps", 20);
const latencyMs = arg("latency", 100);
const bigMiB = arg("big-mib", 2048);
const rounds = arg("rounds", 4);
const skipThroughput = process.argv.includes("--skip-throughput");
const skipBig = process.argv.includes("--skip-big");
const skipGraph = process.argv.includes("--skip-graph");
const BLOCK = DEFAULT_BLOCK_SIZE;
const tenantMode = (() => {
  const i = process.argv.indexOf("--tenant");
  const v = i < 0 ? "child" : process.argv[i + 1];
  if (v !== "child" && v !== "in-process") throw new Error("--tenant takes child or in-process.");
  return v;
})();
/** Ours at each of these block sizes (MiB); the first is also the SDK's in its "ours" variant. */
const oursBlocksMiB = (() => {
  const i = process.argv.indexOf("--block-mib");
  const list = i < 0 ? [DEFAULT_BLOCK_SIZE / MiB] : process.argv[i + 1]!.split(",").map(Number);
  if (list.some((b) => !(b > 0) || b > 100)) throw new Error("--block-mib takes sizes in MiB up to 100, e.g. 8,32.");
  return list;
})();
const blockMiB = oursBlocksMiB[0]!;
const THROUGHPUT_BLOCK = blockMiB * MiB;
const sdkBlocks = (() => {
  const i = process.argv.indexOf("--sdk-block");
  const v = i < 0 ? "default,ours" : process.argv[i + 1]!;
  const list = v === "none" ? [] : v.split(",");
  if (list.some((x) => x !== "default" && x !== "ours"))
    throw new Error("--sdk-block takes default, ours, both (default,ours) or none.");
  return list as ("default" | "ours")[];
})();
const maxBufferMiB = arg("max-buffer-mib", Number.POSITIVE_INFINITY);
const concurrencies = (() => {
  const i = process.argv.indexOf("--concurrency");
  const list = i < 0 ? [4, 8, 16] : process.argv[i + 1]!.split(",").map(Number);
  if (list.some((c) => !Number.isInteger(c) || c < 1))
    throw new Error("--concurrency takes whole numbers, e.g. 4,8,16.");
  return list;
})();

const load = (): string =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(", ");
const fmt = (x: number, digits = 1): string => x.toFixed(digits);
const now = (): number => performance.now();

const MOBILE_APPS = "/deviceAppManagement/mobileApps";

/** A local tenant with defaults everywhere (upload-state delays 1 s, throttling on), storage on disk. */
async function startBenchTenant(blobDir: string): Promise<TestTenant> {
  await rm(blobDir, { recursive: true, force: true });
  await mkdir(blobDir, { recursive: true });
  return startTestTenant({ uploadDelays: {}, storage: { location: blobDir } });
}

// ---------------------------------------------------------------------------------------------------------------
// (a) throughput

/** What part (a) needs of a local tenant, in this process or in a child. */
interface UploadTarget {
  graph: GraphClient;
  blobSend: HttpTransport;
  caCertPem: string;
  /** CPU seconds of the tenant's process so far (every thread), NaN when it is this process */
  serverCpu(): number;
  close(): Promise<void>;
}

async function inProcessTarget(blobDir: string): Promise<UploadTarget> {
  const b = await startBenchTenant(blobDir);
  return {
    graph: b.graph,
    blobSend: b.blob.send,
    caCertPem: b.lt.caCertPem,
    serverCpu: () => Number.NaN,
    close: () => b.close(),
  };
}

/** The local tenant in a child process (bench/upload-tenant.ts); our clients here reach it over loopback. */
async function childTarget(blobDir: string): Promise<UploadTarget> {
  await rm(blobDir, { recursive: true, force: true });
  await mkdir(blobDir, { recursive: true });
  // The child gets this process's Node flags: `node --cpu-prof dist/bench/upload.js` profiles both.
  const script = [join(root, "dist", "bench", "upload-tenant.js"), "--location", blobDir];
  const child = spawn(process.execPath, [...process.execArgv, ...script], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const info = await new Promise<UploadTenantInfo>((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
      const nl = out.indexOf("\n");
      if (nl >= 0) resolve(JSON.parse(out.slice(0, nl)) as UploadTenantInfo);
    });
    child.on("exit", (code) => reject(new Error(`The tenant child exited with ${code} before it was ready.`)));
  });
  const transport = createFetchTransport({ trustedCaPem: info.caCertPem });
  const pipeline = createHttpPipeline({
    transport: transport.send,
    tokenProvider: { getToken: async () => ({ token: info.token, expiresOn: Date.now() + 3_600_000 }) },
  });
  const exited = new Promise<void>((r) => child.on("exit", () => r()));
  return {
    graph: new GraphClient({ pipeline, baseUrl: info.graphBaseUrl }),
    blobSend: transport.send,
    caCertPem: info.caCertPem,
    serverCpu: () => {
      const fields = readFileSync(`/proc/${info.pid}/stat`, "utf8").split(") ")[1]!.split(" ");
      return (Number(fields[11]) + Number(fields[12])) / 100;
    },
    async close() {
      await transport.close();
      child.stdin.end();
      await exited;
    },
  };
}

interface BigPackage {
  path: string;
  payloadPath: string;
  payloadSize: number;
  fileName: string;
  unencryptedSize: number;
  packagingSeconds: number | undefined;
}

async function bigPackage(): Promise<BigPackage> {
  const source = join(work, `source-${payloadMiB}`);
  const data = join(source, "data.bin");
  const out = join(work, `package-${payloadMiB}`);
  let packagingSeconds: number | undefined;
  const existing = existsSync(out) ? (await readdir(out)).filter((n) => n.endsWith(".intunewin")) : [];
  if (existing.length !== 1) {
    if (!existsSync(data) || (await stat(data)).size !== payloadMiB * MiB) {
      await mkdir(source, { recursive: true });
      const fh = await open(data, "w");
      for (let i = 0; i < payloadMiB / 16; i++) await fh.write(randomBytes(16 * MiB));
      await fh.close();
      await writeFile(join(source, "install.ps1"), "Write-Output 'installing'\r\n");
    }
    await rm(out, { recursive: true, force: true });
    const t0 = now();
    await packageFolder({ sourceDir: source, setupFile: "install.ps1", outDir: out });
    packagingSeconds = (now() - t0) / 1000;
  }
  const name = (await readdir(out)).find((n) => n.endsWith(".intunewin"))!;
  const path = join(out, name);
  const pkg = await openPackage(path);
  const payloadPath = join(work, `payload-${payloadMiB}.bin`);
  try {
    if (!existsSync(payloadPath) || (await stat(payloadPath)).size !== pkg.payloadSize) {
      await pipeline(await pkg.openPayload(), createWriteStream(payloadPath));
    }
    return {
      path,
      payloadPath,
      payloadSize: pkg.payloadSize,
      fileName: pkg.detection.FileName,
      unencryptedSize: pkg.detection.UnencryptedContentSize,
      packagingSeconds,
    };
  } finally {
    pkg.close();
  }
}

/** ours, the SDK with its own default block size, the SDK with our block size */
type Kind = "ours" | "sdk-default" | "sdk-ours";

interface ThroughputRow {
  kind: Kind;
  client: string;
  /** MiB per Put Block (the SDK's default: as it chose) */
  blockMiB: number;
  concurrency: number;
  seconds: number;
  mibPerSecond: number;
  /** CPU seconds over the same window: the whole process, and its main thread (client, emulator and Azurite) */
  cpu: CpuSpan;
  /** CPU seconds of the tenant's process over the same window (NaN in process) */
  server: number;
  endToEnd?: number;
  note: string;
}

interface CpuSpan {
  process: number;
  mainThread: number;
}

/** CPU seconds so far: the process (every thread) and its main thread (Linux: /proc/self/task/<pid>/stat). */
function cpuNow(): CpuSpan {
  const u = process.cpuUsage();
  let mainThread = Number.NaN;
  try {
    const fields = readFileSync(`/proc/self/task/${process.pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    mainThread = (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks of 10 ms
  } catch {
    // not Linux: the column shows NaN
  }
  return { process: (u.user + u.system) / 1e6, mainThread };
}
const cpuSince = (a: CpuSpan, b: CpuSpan = cpuNow()): CpuSpan => ({
  process: b.process - a.process,
  mainThread: b.mainThread - a.mainThread,
});

async function ourUpload(
  b: UploadTarget,
  pkg: BigPackage,
  concurrency: number,
  block = THROUGHPUT_BLOCK,
): Promise<ThroughputRow> {
  const appId = await createApp(b.graph, `Bench throughput ${concurrency}`, "bench.intunewin");
  let blocksAt = 0;
  let commitAt = 0;
  let cpuAtBlocks = cpuNow();
  let cpu = cpuAtBlocks;
  let serverAtBlocks = b.serverCpu();
  let server = Number.NaN;
  const t0 = now();
  const r = await uploadContent({
    graph: b.graph,
    appId,
    packagePath: pkg.path,
    blockSize: block,
    concurrency,
    storage: { transport: b.blobSend },
    onProgress: (e) => {
      if (e.type !== "stage") return;
      if (e.stage === "blocks") {
        blocksAt = now();
        cpuAtBlocks = cpuNow();
        serverAtBlocks = b.serverCpu();
      }
      if (e.stage === "commit") {
        commitAt = now();
        cpu = cpuSince(cpuAtBlocks);
        server = b.serverCpu() - serverAtBlocks;
      }
    },
  });
  const total = (now() - t0) / 1000;
  const seconds = (commitAt - blocksAt) / 1000;
  return {
    kind: "ours",
    client: "ours: uploadContent",
    blockMiB: block / MiB,
    concurrency,
    seconds,
    mibPerSecond: pkg.payloadSize / MiB / seconds,
    cpu,
    server,
    endToEnd: total,
    note: `${r.blockCount} blocks sent, committed (content version ${r.contentVersionId}, ${r.publishingState})`,
  };
}

/** An Intune-shaped SAS upload URL for a new content file of `pkg`'s size, as the engine gets one. */
async function uploadUrl(b: UploadTarget, pkg: BigPackage, label: string): Promise<string> {
  const appId = await createApp(b.graph, `Bench SDK ${label}`, "bench.intunewin");
  const base = `${MOBILE_APPS}/${appId}/microsoft.graph.win32LobApp/contentVersions`;
  const cv = await b.graph.post<{ id: string }>(base, {});
  const file = await b.graph.post<{ id: string }>(`${base}/${cv.id}/files`, {
    name: pkg.fileName,
    size: pkg.unencryptedSize,
    sizeEncrypted: pkg.payloadSize,
    manifest: null,
    isDependency: false,
  });
  for (;;) {
    const f = await b.graph.get<{ uploadState: string; azureStorageUri: string | null }>(
      `${base}/${cv.id}/files/${file.id}`,
    );
    if (f.uploadState === "azureStorageUriRequestSuccess" && f.azureStorageUri) return f.azureStorageUri;
    if (!f.uploadState.endsWith("Pending")) throw new Error(`Upload URL request ended in ${f.uploadState}.`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * The block size `uploadFile` picks when given none (@azure/storage-blob 12.x `uploadSeekableInternal`): one Put Blob
 * up to `maxSingleShotSize` (default 256 MiB), else max(4 MiB, size / 50,000).
 */
const sdkDefaultBlock = (size: number): number =>
  size <= 256 * MiB ? size : Math.max(4 * MiB, Math.ceil(size / 50_000));

async function sdkUpload(
  b: UploadTarget,
  pkg: BigPackage,
  concurrency: number,
  variant: "default" | "ours",
): Promise<ThroughputRow> {
  const url = await uploadUrl(b, pkg, `${variant} ${concurrency}`);
  const options: StoragePipelineOptions & { tlsOptions: { ca: string } } = { tlsOptions: { ca: b.caCertPem } };
  const client = new BlockBlobClient(url, undefined, options);
  const cpu0 = cpuNow();
  const server0 = b.serverCpu();
  const t0 = now();
  // Its default: only the concurrency given, as a caller of uploadFile would; ours: our block size, never one shot.
  await client.uploadFile(
    pkg.payloadPath,
    variant === "default" ? { concurrency } : { blockSize: THROUGHPUT_BLOCK, concurrency, maxSingleShotSize: 0 },
  );
  const seconds = (now() - t0) / 1000;
  const cpu = cpuSince(cpu0);
  const server = b.serverCpu() - server0;
  const props = await client.getProperties();
  if (props.contentLength !== pkg.payloadSize)
    throw new Error(`The SDK's blob has ${props.contentLength} bytes, not ${pkg.payloadSize}.`);
  const blocks = await client.getBlockList("committed");
  const count = blocks.committedBlocks?.length ?? 0;
  const block = variant === "default" ? sdkDefaultBlock(pkg.payloadSize) : THROUGHPUT_BLOCK;
  const oneShot = variant === "default" && block === pkg.payloadSize; // Put Blob: no block list
  if (!oneShot && count !== Math.ceil(pkg.payloadSize / block))
    throw new Error(`The SDK committed ${count} blocks, not the ${Math.ceil(pkg.payloadSize / block)} expected.`);
  return {
    kind: variant === "default" ? "sdk-default" : "sdk-ours",
    client: `@azure/storage-blob uploadFile (${variant === "default" ? "its default block" : "our block"})`,
    blockMiB: block / MiB,
    concurrency,
    seconds,
    mibPerSecond: pkg.payloadSize / MiB / seconds,
    cpu,
    server,
    note: oneShot
      ? `one Put Blob, ${props.contentLength} bytes`
      : `${count} blocks committed, ${props.contentLength} bytes`,
  };
}

async function throughput(): Promise<string[]> {
  const out: string[] = [];
  const pkg = await bigPackage();
  const b =
    tenantMode === "child" ? await childTarget(join(work, "blobs")) : await inProcessTarget(join(work, "blobs"));
  try {
    // Why this order (probes at 18:40–18:50 UTC, bench/README.md): every upload to the disk-backed Azurite costs more
    // than the first one after start (about 5 against 7.5 CPU s for 512 MiB, the same for both clients), and costs
    // drift during a run. So one warm-up upload per client is not counted, and each concurrency is timed as an adjacent
    // pair (ours, SDK) whose order alternates from round to round, so drift and position fall on both clients alike.
    // Ours at each block size that fits the buffer budget at this concurrency, then each SDK variant.
    interface Entry {
      kind: Kind;
      block: number;
    }
    const oursFits = (block: number, c: number): boolean => block * c <= maxBufferMiB;
    const runOf = (e: Entry, c: number): Promise<ThroughputRow> =>
      e.kind === "ours"
        ? ourUpload(b, pkg, c, e.block * MiB)
        : sdkUpload(b, pkg, c, e.kind === "sdk-default" ? "default" : "ours");
    const sdkKinds = sdkBlocks.map((v): Kind => (v === "default" ? "sdk-default" : "sdk-ours"));
    const groupAt = (c: number): Entry[] => [
      ...oursBlocksMiB.filter((block) => oursFits(block, c)).map((block): Entry => ({ kind: "ours", block })),
      ...sdkKinds.map((kind): Entry => ({ kind, block: 0 })),
    ];
    // Warm-up: one upload of each client, not counted.
    const warm = concurrencies.find((c) => oursFits(blockMiB, c)) ?? concurrencies[0]!;
    for (const e of groupAt(warm).filter((e) => e.kind !== "ours" || e.block === blockMiB)) await runOf(e, warm);
    const rows: (ThroughputRow & { round: number })[] = [];
    for (let round = 1; round <= rounds; round++) {
      // Even rounds run everything in reverse: the concurrencies too, so that drift does not favour the first ones.
      for (const c of round % 2 === 1 ? concurrencies : [...concurrencies].reverse()) {
        const group = round % 2 === 1 ? groupAt(c) : groupAt(c).reverse();
        for (const e of group) rows.push({ round, ...(await runOf(e, c)) });
      }
    }
    const median = (xs: number[]): number => {
      const v = [...xs].sort((x, y) => x - y);
      const m = Math.floor(v.length / 2);
      return v.length % 2 === 1 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
    };
    const key = (r: ThroughputRow): string => `${r.kind}|${r.blockMiB}|${r.concurrency}`;
    const configs = [...new Map(rows.map((r) => [key(r), r])).values()].map((r) => {
      const same = rows.filter((x) => key(x) === key(r));
      return {
        kind: r.kind,
        client: r.client,
        blockMiB: r.blockMiB,
        concurrency: r.concurrency,
        mibPerSecond: median(same.map((x) => x.mibPerSecond)),
        runs: same.map((x) => fmt(x.mibPerSecond)).join(", "),
        mainThread: median(same.map((x) => x.cpu.mainThread)),
        process: median(same.map((x) => x.cpu.process)),
        server: median(same.map((x) => x.server)),
        requests: Math.ceil(pkg.payloadSize / (r.blockMiB * MiB)) + (r.blockMiB * MiB >= pkg.payloadSize ? 0 : 1),
      };
    });
    const best = (kind: Kind) =>
      configs.filter((c) => c.kind === kind).sort((x, y) => y.mibPerSecond - x.mibPerSecond)[0];
    const oursBest = best("ours");
    const oursDefault = configs.find(
      (c) => c.kind === "ours" && c.blockMiB * MiB === DEFAULT_BLOCK_SIZE && c.concurrency === DEFAULT_CONCURRENCY,
    );
    // Paired: ours / SDK variant within each adjacent group, median over the rounds (drift cancels out).
    const paired = concurrencies.flatMap((c) =>
      oursBlocksMiB
        .filter((block) => oursFits(block, c))
        .flatMap((block) =>
          sdkKinds.map((k) => {
            const ratios = Array.from({ length: rounds }, (_, i) => {
              const at = rows.filter((r) => r.round === i + 1 && r.concurrency === c);
              const o = at.find((r) => r.kind === "ours" && r.blockMiB === block)!;
              return o.mibPerSecond / at.find((r) => r.kind === k)!.mibPerSecond;
            });
            const each = ratios.map((x) => fmt(x, 2)).join(", ");
            return { concurrency: c, block, kind: k, median: median(ratios), each };
          }),
        ),
    );
    const label = (k: Kind): string =>
      k === "sdk-default" ? "the SDK with its default block size" : `the SDK with our block size (${blockMiB} MiB)`;
    const summary = sdkKinds.map((k) => {
      const s = best(k)!;
      const head = `Best of ${label(k)}: concurrency ${s.concurrency} (${s.blockMiB} MiB blocks), ${fmt(s.mibPerSecond)} MiB/s. `;
      if (oursBest === undefined) return `${head}Ours: not run (every concurrency above --max-buffer-mib).`;
      return (
        head +
        (oursDefault === undefined
          ? "Ours at its default: not in this run (other block size or concurrencies); "
          : `Ours at its default (${DEFAULT_BLOCK_SIZE / MiB} MiB × ${DEFAULT_CONCURRENCY}): ${fmt(oursDefault.mibPerSecond)} MiB/s = **${fmt(oursDefault.mibPerSecond / s.mibPerSecond, 2)}×**; `) +
        `ours at its best (${oursBest.blockMiB} MiB × ${oursBest.concurrency}): ${fmt(oursBest.mibPerSecond)} MiB/s = **${fmt(oursBest.mibPerSecond / s.mibPerSecond, 2)}×** (target ≥ 1.1×).`
      );
    });
    out.push(
      `### (a) Upload throughput: ${fmt(pkg.payloadSize / MiB)} MiB payload, ours in ${oursBlocksMiB.join(" / ")} MiB blocks${Number.isFinite(maxBufferMiB) ? ` (at most ${maxBufferMiB} MiB in flight)` : ""}, disk-backed Azurite ` +
        (tenantMode === "child" ? "in a child process" : "in this process"),
      "",
      pkg.packagingSeconds === undefined
        ? `Package: ${pkg.path} (reused from an earlier run).`
        : `Package: ${pkg.path}, built by our packager in ${fmt(pkg.packagingSeconds)} s.`,
      "",
      "| round | client | block MiB | concurrency | blocks + block list s | MiB/s | CPU s (process) | CPU s (main thread) | CPU s (tenant child) | end to end s | notes |",
      "|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|---|",
      ...rows.map(
        (r) =>
          `| ${r.round} | ${r.client} | ${r.blockMiB} | ${r.concurrency} | ${fmt(r.seconds, 2)} | ${fmt(r.mibPerSecond)} | ${fmt(r.cpu.process, 2)} | ${fmt(r.cpu.mainThread, 2)} | ${fmt(r.server, 2)} | ${r.endToEnd === undefined ? "—" : fmt(r.endToEnd, 1)} | ${r.note} |`,
      ),
      "",
      `Medians over ${rounds} round(s); CPU per 512 MiB scales the window's CPU to 512 MiB; tenant ms per request = ` +
        "the tenant child's CPU over the window / (Put Blocks + the Put Block List):",
      "",
      "| client | block MiB | concurrency | MiB/s (median) | each round | CPU s, process | CPU s per 512 MiB, process | CPU s per 512 MiB, tenant child | requests | tenant CPU ms per request |",
      "|---|--:|--:|--:|---|--:|--:|--:|--:|--:|",
      ...configs.map((c) => {
        const per512 = (x: number): string => fmt((x * 512 * MiB) / pkg.payloadSize, 2);
        return `| ${c.client} | ${c.blockMiB} | ${c.concurrency} | ${fmt(c.mibPerSecond)} | ${c.runs} | ${fmt(c.process, 2)} | ${per512(c.process)} | ${per512(c.server)} | ${c.requests} | ${fmt((c.server * 1000) / c.requests, 0)} |`;
      }),
      "",
      ...summary.flatMap((x) => [x, ""]),
      "Paired ratios (ours / the SDK variant at the same concurrency, within each adjacent group):",
      "",
      "| concurrency | ours' block MiB | against | median ratio | each round |",
      "|--:|--:|---|--:|---|",
      ...paired.map((p) => `| ${p.concurrency} | ${p.block} | ${label(p.kind)} | ${fmt(p.median, 2)}× | ${p.each} |`),
      "",
    );
  } finally {
    await b.close();
    await rm(join(work, "blobs"), { recursive: true, force: true });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// (b) Graph calls for one new app, (c) many apps with latency

const isPoll = (c: Recorded): boolean => c.method === "GET" && /\/files\/[^/?]+$/.test(new URL(c.url).pathname);
const shape = (c: Recorded, base: string): string =>
  `${c.method} ${c.url
    .slice(base.length)
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, "{id}")
    .replace(/contentVersions\/\d+/, "contentVersions/{cv}")
    .replace(/\?.*$/, (q) => (q.length > 40 ? "?…" : q))}`;

/** Definition sets of (c): contoso-notes copies without their categories (the main rows), and as they are. */
type AppSet = "plain" | "categories";
const appFile = (dir: string, set: AppSet, i: number): string =>
  join(dir, `bench-${set === "plain" ? "app" : "cat"}-${String(i).padStart(2, "0")}.yaml`);

async function examples(): Promise<string> {
  const dir = join(work, "apps");
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await cp(join(root, "examples", "apps", "contoso-notes"), join(dir, "contoso-notes"), { recursive: true });
  const text = await readFile(join(root, "examples", "apps", "contoso-notes.yaml"), "utf8");
  await writeFile(join(dir, "contoso-notes.yaml"), text);
  const plain = text.replace(/^categories: .*\n/m, "");
  if (plain === text) throw new Error("contoso-notes.yaml has no categories line: the bench cannot derive its sets.");
  for (let i = 1; i <= appCount; i++) {
    const n = String(i).padStart(2, "0");
    for (const [set, source, name] of [
      ["plain", plain, `Bench App ${n}`],
      ["categories", text, `Bench Cat App ${n}`],
    ] as const) {
      const def = source
        .replace(/^id: contoso-notes$/m, `id: bench-${set === "plain" ? "app" : "cat"}-${n}`)
        .replace(/^displayName: Contoso Notes$/m, `displayName: ${name}`);
      if (def === source) throw new Error("contoso-notes.yaml changed: the bench cannot derive its definitions.");
      await writeFile(appFile(dir, set, i), def);
    }
  }
  return dir;
}

async function callsPerApp(b: TestTenant, dir: string): Promise<string[]> {
  b.lt.admin.reset();
  const defs = await loadAppDefinitions([join(dir, "contoso-notes.yaml")]);
  const mark = b.graphCalls.calls.length;
  const r = await publish({ graph: b.graph, definitions: defs, upload: { storage: { transport: b.blob.send } } });
  const o = r.outcomes[0]!;
  if (o.status !== "ok") throw new Error(`Publishing contoso-notes failed: ${o.error?.message}`);
  const calls = b.graphCalls.calls.slice(mark);
  const polls = calls.filter(isPoll);
  const others = calls.filter((c) => !isPoll(c));
  return [
    "### (b) Graph calls for publishing one new app (contoso-notes, source folder packaged, icon, scope tag)",
    "",
    `${others.length} Graph calls besides ${polls.length} upload-state polls (target ≤ 12), counted at the ` +
      `transport (retries would count; there were ${calls.filter((c) => c.status !== 200 && c.status !== 201 && c.status !== 204).length} non-2xx answers). ` +
      "Engine defaults (poll 1 s × 1.5), emulator defaults (URL issued and commit done 1 s after the request). " +
      "Sign-in (one token request with msal in the CLI) is not a Graph call and is not counted.",
    "",
    "| # | call | status |",
    "|--:|---|--:|",
    ...calls.map(
      (c, i) => `| ${i + 1} | ${isPoll(c) ? "(poll) " : ""}\`${shape(c, b.lt.graphBaseUrl)}\` | ${c.status} |`,
    ),
    "",
  ];
}

interface ManyRun {
  set: AppSet;
  concurrency: number;
  seconds: number;
  ok: number;
  failed: number;
  graphCalls: number;
  polls: number;
  /** Graph writes accepted (POST, PATCH, DELETE answered 2xx), polls excluded by nature */
  writes: number;
  throttled: number;
  otherErrors: number;
}

/** One row of (c), on a fresh local tenant: its throttling windows start empty (admin.reset() keeps them). */
async function manyApps(dir: string, set: AppSet, concurrency: number): Promise<ManyRun> {
  const b = await startBenchTenant(join(work, "blobs-many"));
  try {
    return await manyAppsOn(b, dir, set, concurrency);
  } finally {
    await b.close();
    await rm(join(work, "blobs-many"), { recursive: true, force: true });
  }
}

async function manyAppsOn(b: TestTenant, dir: string, set: AppSet, concurrency: number): Promise<ManyRun> {
  b.lt.admin.addFault({ path: "^/beta/", delayMs: latencyMs, count: 10_000_000 });
  const files = Array.from({ length: appCount }, (_, i) => appFile(dir, set, i + 1));
  const defs = await loadAppDefinitions(files);
  const mark = b.graphCalls.calls.length;
  const t0 = now();
  const r = await publish({
    graph: b.graph,
    definitions: defs,
    concurrency,
    upload: { storage: { transport: b.blob.send } },
  });
  const seconds = (now() - t0) / 1000;
  const calls = b.graphCalls.calls.slice(mark);
  const apps = Object.values(b.lt.admin.state()).flatMap(
    (t) => (t["mobileApps"] ?? []) as unknown as Win32LobAppWire[],
  );
  const committed = apps.filter((a) => a.committedContentVersion === "1" && a.publishingState === "published").length;
  const failed = r.outcomes.filter((o) => o.status !== "ok");
  if (failed.length > 0 || committed !== appCount)
    throw new Error(
      `${set}, concurrency ${concurrency}: ${failed.length} failed (${failed.map((o) => o.error?.message).join("; ")}), ${committed} committed apps`,
    );
  return {
    set,
    concurrency,
    seconds,
    ok: r.outcomes.length - failed.length,
    failed: failed.length,
    graphCalls: calls.length - calls.filter(isPoll).length,
    polls: calls.filter(isPoll).length,
    writes: calls.filter((c) => c.method !== "GET" && typeof c.status === "number" && c.status < 300).length,
    throttled: calls.filter((c) => c.status === 429).length,
    otherErrors: calls.filter(
      (c) => c.status === "error" || (typeof c.status === "number" && c.status >= 400 && c.status !== 429),
    ).length,
  };
}

const manyTable = (runs: ManyRun[]): string[] => {
  const serial = runs[0]!;
  return [
    "| apps at once | wall s | speed-up vs 1 | outcomes ok | Graph calls (no polls) | of which writes | polls | 429 answers (retried) | other failed attempts |",
    "|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ...runs.map(
      (r) =>
        `| ${r.concurrency}${r.concurrency === DEFAULT_APP_CONCURRENCY ? " (default)" : ""} | ${fmt(r.seconds, 1)} | ${fmt(serial.seconds / r.seconds, 2)}× | ${r.ok}/${appCount} | ${r.graphCalls} | ${r.writes} | ${r.polls} | ${r.throttled} | ${r.otherErrors} |`,
    ),
  ];
};

async function graphParts(): Promise<string[]> {
  const dir = await examples();
  const b = await startBenchTenant(join(work, "blobs-graph"));
  let out: string[];
  try {
    out = await callsPerApp(b, dir);
  } finally {
    await b.close();
    await rm(join(work, "blobs-graph"), { recursive: true, force: true });
  }
  // Every row on its own fresh tenant, one after the other: empty throttling windows for each.
  const plain: ManyRun[] = [];
  for (const c of [...new Set([1, 4, DEFAULT_APP_CONCURRENCY, appCount])]) plain.push(await manyApps(dir, "plain", c));
  const withCategories: ManyRun[] = [];
  for (const c of [1, DEFAULT_APP_CONCURRENCY]) withCategories.push(await manyApps(dir, "categories", c));
  out.push(
    `### (c) ${appCount} new apps, ${latencyMs} ms added by the emulator to every Graph answer, throttling on`,
    "",
    `A latency-only emulator fault (\`{path: "^/beta/", delayMs: ${latencyMs}}\`) holds back every Graph answer ` +
      "(polls included); blob storage is not delayed. Engine and emulator defaults as in (b). One run per row, each " +
      "on a fresh local tenant (empty throttling windows); all apps created and committed in every row; 429s and " +
      "other failed attempts counted at the transport (the Graph pipeline retries them; none reached an outcome). " +
      "Intune allows 100 writes per app per tenant in any 20 s in the applications area (the emulator enforces it).",
    "",
    `**Main rows**: each app a copy of contoso-notes under its own id (packaged, icon, scope tag) **without its ` +
      `category**: 5 writes per new app, ${5 * appCount} for ${appCount} apps.`,
    "",
    ...manyTable(plain),
    "",
    `**With the category** (contoso-notes as it is, linked to Productivity): 6 writes per new app, ${6 * appCount} ` +
      `for ${appCount} apps.`,
    "",
    ...manyTable(withCategories),
    "",
  );
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// (d) a ~2 GiB payload with flat memory, in a child process

async function bigMemory(): Promise<string[]> {
  const source = join(work, `source-big-${bigMiB}`);
  const data = join(source, "data.bin");
  const out = join(work, `package-big-${bigMiB}`);
  let packagingSeconds: number | undefined;
  let existing = existsSync(out) ? (await readdir(out)).filter((n) => n.endsWith(".intunewin")) : [];
  if (existing.length !== 1) {
    if (!existsSync(data) || (await stat(data)).size !== bigMiB * MiB) {
      await mkdir(source, { recursive: true });
      // 16 MiB of random bytes written over and over: deflate only looks 32 KiB back, so it stays incompressible.
      const chunk = randomBytes(16 * MiB);
      const fh = await open(data, "w");
      for (let i = 0; i < bigMiB / 16; i++) await fh.write(chunk);
      await fh.close();
      await writeFile(join(source, "install.ps1"), "Write-Output 'installing'\r\n");
    }
    await rm(out, { recursive: true, force: true });
    const t0 = now();
    await packageFolder({ sourceDir: source, setupFile: "install.ps1", outDir: out });
    packagingSeconds = (now() - t0) / 1000;
    existing = (await readdir(out)).filter((n) => n.endsWith(".intunewin"));
  }
  const packagePath = join(out, existing[0]!);
  const pkg = await openPackage(packagePath);
  const payloadSize = pkg.payloadSize;
  pkg.close();
  const b = await startBenchTenant(join(work, "blobs-big"));
  try {
    const caPath = join(work, "ca.pem");
    await writeFile(caPath, b.lt.caCertPem);
    const appId = await createApp(b.graph, "Bench 2 GiB", "install.intunewin");
    const input = {
      caPath,
      token: b.lt.admin.issueToken(),
      graphBaseUrl: b.lt.graphBaseUrl,
      appId,
      packagePath,
      blockSize: BLOCK,
      concurrency: DEFAULT_CONCURRENCY,
    };
    const child = spawn(process.execPath, [join(root, "dist", "bench", "upload-child.js"), JSON.stringify(input)], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let stdout = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    const code = await new Promise<number | null>((r) => child.on("exit", r));
    if (code !== 0) throw new Error(`The upload child exited with ${code}.`);
    const r = JSON.parse(stdout.trim()) as {
      maxRssKiB: number;
      startRssKiB: number;
      sampledPeakBytes: number;
      seconds: number;
      blocksSeconds: number;
      bytesSent: number;
      blockCount: number;
      contentVersionId: string;
      publishingState: string;
    };
    const app = await b.graph.get<Win32LobAppWire>(`${MOBILE_APPS}/${appId}`);
    const peakMB = (r.maxRssKiB * 1024) / 1e6;
    return [
      `### (d) ${fmt(payloadSize / MiB / 1024, 2)} GiB payload, ${BLOCK / MiB} MiB × ${DEFAULT_CONCURRENCY} (the default), upload engine in a child process`,
      "",
      `Package: ${existing[0]} (${fmt(payloadSize / MiB)} MiB payload${packagingSeconds === undefined ? ", reused" : `, built in ${fmt(packagingSeconds)} s`}). ` +
        "The emulator and disk-backed Azurite run in the benchmark process; the child only uploads.",
      "",
      "| payload MiB | blocks | bytes sent | blocks + list s | MiB/s | end to end s (incl. commit check) | child RSS at start MiB | child max sampled RSS MiB | child peak RSS (maxRSS) MB | committed |",
      "|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|",
      `| ${fmt(payloadSize / MiB)} | ${r.blockCount} | ${r.bytesSent} | ${fmt(r.blocksSeconds, 1)} | ${fmt(payloadSize / MiB / r.blocksSeconds)} | ${fmt(r.seconds, 1)} | ${fmt(r.startRssKiB / 1024)} | ${fmt(r.sampledPeakBytes / MiB)} | **${fmt(peakMB)}** | ${app.committedContentVersion === r.contentVersionId ? `yes (content version ${r.contentVersionId}, ${r.publishingState})` : "NO"} |`,
      "",
      `Peak RSS ${peakMB < 250 ? "under" : "OVER"} the 250 MB bound (${fmt(BLOCK / MiB, 0)} MiB blocks × ${DEFAULT_CONCURRENCY} in flight, each read from the file while it is sent).`,
      "",
    ];
  } finally {
    await b.close();
    await rm(join(work, "blobs-big"), { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------------------

const watchdog = setTimeout(() => {
  console.error("bench/upload: watchdog (30 min), giving up");
  process.exit(2);
}, 30 * 60_000);
watchdog.unref();

await mkdir(work, { recursive: true });
const started = new Date();
const loadBefore = load();
const lines: string[] = [
  `## Upload and publish — ${started.toISOString().slice(0, 16).replace("T", " ")} UTC`,
  "",
  `Node ${process.version}; load averages before: ${loadBefore}.`,
  "",
];
if (!skipThroughput) lines.push(...(await throughput()));
if (!skipGraph) lines.push(...(await graphParts()));
if (!skipBig) lines.push(...(await bigMemory()));
lines.push(`Load averages after: ${load()}; ${fmt((Date.now() - started.getTime()) / 1000, 0)} s in all.`);
console.log(lines.join("\n"));
