/*
 * Child process of bench/upload.ts (part d): uploads one package through `uploadContent` to the local tenant that
 * the parent runs, and prints one JSON line with its own peak RSS (`process.resourceUsage().maxRSS`, KiB), so the
 * figure is the upload engine's alone (the emulator and Azurite live in the parent).
 * Input: argv[2] = JSON {caPath, token, graphBaseUrl, appId, packagePath, blockSize, concurrency}.
 */
import { readFile } from "node:fs/promises";
import { GraphClient } from "../src/clients/graph/client.js";
import { createHttpPipeline } from "../src/clients/http/pipeline.js";
import { createFetchTransport } from "../src/clients/http/transport.js";
import { uploadContent } from "../src/publish/upload/index.js";

interface Input {
  caPath: string;
  token: string;
  graphBaseUrl: string;
  appId: string;
  packagePath: string;
  blockSize: number;
  concurrency: number;
}

const input = JSON.parse(process.argv[2] ?? "{}") as Input;
const transport = createFetchTransport({ trustedCaPem: await readFile(input.caPath, "utf8") });
const graph = new GraphClient({
  pipeline: createHttpPipeline({
    transport: transport.send,
    tokenProvider: { getToken: async () => ({ token: input.token, expiresOn: Date.now() + 3_600_000 }) },
  }),
  baseUrl: input.graphBaseUrl,
});
const baseline = process.resourceUsage().maxRSS;
let sampledPeak = 0;
const sampler = setInterval(() => (sampledPeak = Math.max(sampledPeak, process.memoryUsage().rss)), 50);
let blocksAt = 0;
let commitAt = 0;
const t0 = performance.now();
const r = await uploadContent({
  graph,
  appId: input.appId,
  packagePath: input.packagePath,
  blockSize: input.blockSize,
  concurrency: input.concurrency,
  storage: { transport: transport.send },
  onProgress: (e) => {
    if (e.type === "stage" && e.stage === "blocks") blocksAt = performance.now();
    if (e.type === "stage" && e.stage === "commit") commitAt = performance.now();
  },
});
clearInterval(sampler);
await transport.close();
process.stdout.write(
  JSON.stringify({
    maxRssKiB: process.resourceUsage().maxRSS,
    startRssKiB: baseline,
    sampledPeakBytes: sampledPeak,
    seconds: (performance.now() - t0) / 1000,
    blocksSeconds: (commitAt - blocksAt) / 1000,
    bytesSent: r.bytesSent,
    blockCount: r.blockCount,
    contentVersionId: r.contentVersionId,
    publishingState: r.publishingState,
  }) + "\n",
);
