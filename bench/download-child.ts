/*
 * Child process of bench/download.ts: downloads one file through our downloader (transport with the host's CA,
 * hash pinned, an empty cache folder) and prints one JSON line with its time, its CPU time and its own peak RSS
 * (`process.resourceUsage().maxRSS`, KiB; plus RSS sampled every 50 ms), so the vendor host's memory is not counted.
 * Input: argv[2] = JSON {caPath, url, sha256, cacheDir, hashThread?}.
 */
import { readFile } from "node:fs/promises";
import { Downloader } from "../src/catalog/download/index.js";
import { createStreamTransport } from "../src/clients/http/stream-transport.js";

interface Input {
  caPath: string;
  url: string;
  sha256: string;
  cacheDir: string;
  /** the downloader's `hashThread` */
  hashThread?: boolean;
}

const input = JSON.parse(process.argv[2] ?? "{}") as Input;
const transport = createStreamTransport({ trustedCaPem: await readFile(input.caPath, "utf8") });
const downloader = new Downloader({
  cacheDir: input.cacheDir,
  transport: transport,
  ...(input.hashThread === true ? { hashThread: true } : {}),
});
const startRssKiB = process.resourceUsage().maxRSS;
let sampledPeak = 0;
/** process.memoryUsage() when the sampled RSS peaked: which part (JS heap, external buffers) holds the memory */
let atPeak: NodeJS.MemoryUsage | undefined;
const sampler = setInterval(() => {
  const m = process.memoryUsage();
  if (m.rss > sampledPeak) [sampledPeak, atPeak] = [m.rss, m];
}, 50);
const t0 = performance.now();
const cpu0 = process.cpuUsage();
const r = await downloader.download({ url: input.url, sha256: input.sha256 });
const seconds = (performance.now() - t0) / 1000;
const cpu1 = process.cpuUsage(cpu0);
const usage = process.resourceUsage();
clearInterval(sampler);
await transport.close();
process.stdout.write(
  JSON.stringify({
    seconds,
    size: r.size,
    sha256: r.sha256,
    maxRssKiB: process.resourceUsage().maxRSS,
    /** the whole process's, start-up included */
    cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6,
    /** the download's alone (user + sys), start-up excluded */
    downloadCpuSeconds: (cpu1.user + cpu1.system) / 1e6,
    startRssKiB,
    sampledPeakBytes: sampledPeak,
    atPeak,
  }) + "\n",
);
