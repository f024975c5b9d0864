// A separate process that publishes one app definition through the publish use case with a resume journal folder,
// and freezes at a chosen point (printing "at <point>"), so a test can kill -9 it exactly there and re-run.
// Input through the environment (PUBLISH_CHILD_*). Points: created (the app exists, no upload yet), file (content
// file registered, journal written), blocks (3 blocks acknowledged), blockList (block list put, commit not sent),
// commit (commit requested, waiting for commitFileSuccess), patch (committedContentVersion PATCHed, not verified).
import { writeSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { loadAppDefinitions } from "../../src/definitions/load.js";
import { GraphClient } from "../../src/clients/graph/client.js";
import { createHttpPipeline } from "../../src/clients/http/pipeline.js";
import { createFetchTransport } from "../../src/clients/http/transport.js";
import { publish } from "../../src/publish/publish.js";
import type { PublishEvent } from "../../src/publish/publish.js";

const env = (name: string): string => {
  const v = process.env[`PUBLISH_CHILD_${name}`];
  if (v === undefined) throw new Error(`PUBLISH_CHILD_${name} is not set`);
  return v;
};

const point = env("POINT");
const reached = (e: PublishEvent): boolean => {
  if (point === "created") return e.type === "step" && e.step === "upload";
  if (e.type !== "upload") return false;
  const u = e.event;
  switch (point) {
    case "file":
      return u.type === "stage" && u.stage === "sasRequest";
    case "blocks":
      return u.type === "bytes" && u.blocksDone === 3;
    case "blockList":
      return u.type === "stage" && u.stage === "commit";
    case "commit":
      return u.type === "state" && u.stage === "commit";
    case "patch":
      return u.type === "stage" && u.stage === "verify";
    default:
      throw new Error(`Unknown point ${point}.`);
  }
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
const frozen = new Int32Array(new SharedArrayBuffer(4));
await publish({
  graph,
  definitions: await loadAppDefinitions([env("DEFINITION")]),
  journalDir: env("JOURNAL_DIR"),
  // inside the test's scratch folder: a killed process cannot remove its temporary folder
  workDir: env("WORK_DIR"),
  upload: {
    blockSize: 64 * 1024,
    concurrency: 2,
    poll: { initialIntervalMs: 10, factor: 1.5, maxIntervalMs: 50 },
    storage: { transport: transport.send },
  },
  onEvent: (e) => {
    if (!reached(e)) return;
    writeSync(1, `at ${point}\n`);
    // Freeze right here (nothing else of this process runs) until the test kills it; give up after 60 s.
    Atomics.wait(frozen, 0, 0, 60_000);
    process.exit(3);
  },
});
writeSync(1, "done\n");
await transport.close();
