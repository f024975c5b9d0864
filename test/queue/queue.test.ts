// The job queue on its own: in-process and BullMQ on a throwaway redis-server give the same results, retry with
// exponential backoff, stop at once on a permanent failure, carry progress; the --queue URL and its password.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { SecretRegistry } from "../../src/clients/http/redact.js";
import { isPublisherError } from "../../src/core/errors.js";
import { backoffDelay, InProcessQueue, PermanentJobError } from "../../src/queue/queue.js";
import type { JobData, JobHandler, JobOutcome, JobQueue, RetryPolicy } from "../../src/queue/queue.js";
import { connectRedis, displayQueueUrl, queueConnection } from "../../src/queue/redis.js";
import { RedisJobQueue, startRedisWorker } from "../../src/queue/redis-queue.js";
import type { RedisWorker } from "../../src/queue/redis-queue.js";
import { useScratch } from "../support/scratch.js";
import { startRedis } from "./redis-server.js";
import type { TestRedis } from "./redis-server.js";

const PASSWORD = "queue-password-7f1c9a2e4b";
const scratch = useScratch("ip-queue-");

function jobs(n: number, runId = randomUUID()): JobData[] {
  return Array.from({ length: n }, (_, i) => ({
    kind: "sync-product" as const,
    runId,
    subscriptions: { path: "/srv/subscriptions.yaml", sha256: "0".repeat(64) },
    productId: `Product.${i}`,
    dryRun: false,
  }));
}

/** A handler for the tests: fails the first `failures[id]` attempts of a product, records every attempt's start. */
function scripted(failures: Record<string, number | "permanent"> = {}) {
  const starts: { id: string; attempt: number; at: number }[] = [];
  const ends: { id: string; attempt: number; at: number }[] = [];
  const handler: JobHandler = async (data, ctx) => {
    starts.push({ id: data.productId, attempt: ctx.attempt, at: Date.now() });
    ctx.progress(`${data.productId}: step ${ctx.attempt}`);
    await new Promise((r) => setTimeout(r, 5));
    const f = failures[data.productId];
    ends.push({ id: data.productId, attempt: ctx.attempt, at: Date.now() });
    if (f === "permanent") throw new PermanentJobError(`${data.productId} cannot be done`);
    if (f !== undefined && ctx.attempt <= f) throw new Error(`${data.productId} failed attempt ${ctx.attempt}`);
    return { product: data.productId, attempt: ctx.attempt, of: ctx.attempts };
  };
  return { handler, starts, ends };
}

const shape = (outcomes: JobOutcome[]) =>
  outcomes.map((o) =>
    o.ok ? { ok: true, id: o.data.productId, result: o.result } : { ok: false, id: o.data.productId, error: o.error },
  );

describe("job queue", () => {
  let redis: TestRedis;
  const workers: RedisWorker[] = [];
  const queues: JobQueue[] = [];
  const conn = () => queueConnection(redis.url, { INTUNE_PUBLISHER_QUEUE_PASSWORD: PASSWORD });

  before(async () => {
    redis = await startRedis(["--requirepass", PASSWORD]);
  });
  after(async () => {
    for (const w of workers) await w.forceClose();
    for (const q of queues) await q.close();
    await redis.stop();
  });

  async function redisQueue(handler: JobHandler, retry: RetryPolicy, workerCount = 2) {
    // each test its own queue contents: drain what a previous test left (nothing should be left)
    for (let i = 0; i < workerCount; i++)
      workers.push(await startRedisWorker(await conn(), handler, { concurrency: 2 }));
    const q = new RedisJobQueue(await conn(), retry);
    queues.push(q);
    return q;
  }

  it("in-process and Redis give the same results, in order, with progress", async () => {
    const retry = { attempts: 3, backoffMs: 50 };
    const failures = { "Product.1": 1, "Product.3": "permanent" as const };
    const local = scripted(failures);
    const progressLocal: string[] = [];
    const a = await new InProcessQueue(local.handler, { concurrency: 2, retry }).run(jobs(5), {
      onProgress: (_, line) => progressLocal.push(line),
    });
    const remote = scripted(failures);
    const q = await redisQueue(remote.handler, retry);
    const progressRemote: string[] = [];
    const b = await q.run(jobs(5), { onProgress: (_, line) => progressRemote.push(line) });
    await closeWorkers();
    assert.deepEqual(shape(b), shape(a));
    assert.deepEqual(
      shape(a).map((o) => [o.id, o.ok]),
      [
        ["Product.0", true],
        ["Product.1", true],
        ["Product.2", true],
        ["Product.3", false],
        ["Product.4", true],
      ],
    );
    assert.deepEqual((a[1] as { result: unknown }).result, { product: "Product.1", attempt: 2, of: 3 });
    assert.match((a[3] as { error: string }).error, /Product\.3 cannot be done/);
    // a permanent failure is not retried, on either side
    assert.equal(local.starts.filter((s) => s.id === "Product.3").length, 1);
    assert.equal(remote.starts.filter((s) => s.id === "Product.3").length, 1);
    assert.ok(progressLocal.includes("Product.1: step 2"));
    assert.ok(progressRemote.length > 0, "progress reaches the enqueuing side");
  });

  it("retries with exponential backoff, then reports the last error", async () => {
    const retry = { attempts: 3, backoffMs: 200 };
    for (const make of [
      async (h: JobHandler) => new InProcessQueue(h, { retry }),
      async (h: JobHandler) => redisQueue(h, retry, 1),
    ]) {
      const s = scripted({ "Product.0": 99 });
      const q = await make(s.handler);
      const [out] = await q.run(jobs(1));
      await closeWorkers();
      assert.equal(out!.ok, false);
      assert.equal(out!.attempts, 3);
      assert.match((out as { error: string }).error, /failed attempt 3/);
      assert.deepEqual(
        s.starts.map((x) => x.attempt),
        [1, 2, 3],
      );
      // each attempt starts no earlier than the backoff after the previous one ended: 200 ms, then 400 ms
      for (let k = 1; k < 3; k++)
        assert.ok(
          s.starts[k]!.at - s.ends[k - 1]!.at >= backoffDelay(retry, k) - 5,
          `attempt ${k + 1} waited ${s.starts[k]!.at - s.ends[k - 1]!.at} ms, backoff ${backoffDelay(retry, k)}`,
        );
    }
  });

  it("the password comes from the URL, the environment or a file, and is never shown", async () => {
    const secrets = new SecretRegistry();
    const inUrl = await queueConnection(`redis://:${PASSWORD}@127.0.0.1:${redis.port}/0`, {}, secrets);
    assert.equal(inUrl.options.password, PASSWORD);
    assert.equal(inUrl.display, `redis://:***@127.0.0.1:${redis.port}/0`);
    assert.equal(secrets.scrub(`x ${PASSWORD} y`).includes(PASSWORD), false);
    const file = join(await scratch(), "password");
    await writeFile(file, `${PASSWORD}\n`);
    const fromFile = await queueConnection(redis.url, { INTUNE_PUBLISHER_QUEUE_PASSWORD_FILE: file });
    assert.equal(fromFile.options.password, PASSWORD);
    (await connectRedis(fromFile)).disconnect();
    assert.equal(displayQueueUrl("rediss://user:pw-secret@h:6380"), "rediss://user:***@h:6380");
    assert.deepEqual((await queueConnection("rediss://h:6380", {})).options.tls, { servername: "h" });
  });

  it("a wrong password or an unreachable server is QueueUnavailable, without the password", async () => {
    for (const url of [`redis://:wrong-password-123@127.0.0.1:${redis.port}`, `redis://127.0.0.1:1`]) {
      await assert.rejects(connectRedis(await queueConnection(url, {})), (e: unknown) => {
        assert.ok(isPublisherError(e) && e.code === "QueueUnavailable", String(e));
        assert.equal(e.message.includes("wrong-password-123"), false);
        return true;
      });
    }
    await assert.rejects(queueConnection("http://127.0.0.1:6379", {}), /only redis:\/\/ and rediss:\/\//);
  });

  async function closeWorkers(): Promise<void> {
    for (const w of workers.splice(0)) await w.close();
  }
});
