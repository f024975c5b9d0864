// A separate process that uploads with a journal, slowly, printing "block <n>" per acknowledged block, so a test can
// kill -9 it mid-upload and resume in another process. Input through the environment (UPLOAD_CHILD_*).
import { readFile } from "node:fs/promises";
import { GraphClient } from "../../src/clients/graph/client.js";
import { createHttpPipeline } from "../../src/clients/http/pipeline.js";
import { createFetchTransport } from "../../src/clients/http/transport.js";
import { uploadContent } from "../../src/publish/upload/index.js";

const env = (name: string): string => {
  const v = process.env[`UPLOAD_CHILD_${name}`];
  if (v === undefined) throw new Error(`UPLOAD_CHILD_${name} is not set`);
  return v;
};

const transport = createFetchTransport({ trustedCaPem: await readFile(env("CA"), "utf8") });
const token = env("TOKEN");
const graph = new GraphClient({
  pipeline: createHttpPipeline({
    transport: transport.send,
    tokenProvider: { getToken: async () => ({ token, expiresOn: Date.now() + 3_600_000 }) },
  }),
  baseUrl: env("GRAPH"),
});
await uploadContent({
  graph,
  appId: env("APP"),
  packagePath: env("PACKAGE"),
  journalPath: env("JOURNAL"),
  blockSize: Number(env("BLOCK")),
  concurrency: 2,
  poll: { initialIntervalMs: 10, factor: 1.5, maxIntervalMs: 50 },
  storage: {
    transport: async (req) => {
      if (req.method === "PUT" && /[?&]comp=block(&|$)/.test(req.url)) await new Promise((r) => setTimeout(r, 150));
      return transport.send(req);
    },
  },
  onProgress: (e) => {
    if (e.type === "bytes" && e.blocksDone > 0) process.stdout.write(`block ${e.blocksDone}\n`);
  },
});
process.stdout.write("done\n");
await transport.close();
