import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { PublisherError } from "../../core/errors.js";
import { NetworkError } from "./errors.js";
import { createHttpPipeline } from "./pipeline.js";
import { parseRetryAfterMs } from "./retry-policy.js";
import type { RetryOptions } from "./retry-policy.js";
import { abortableSleep } from "./sleep.js";
import { inOrder, recordingSleep, startScriptedServer } from "./testing/scripted-server.js";
import type { Reply, Script, ScriptedServer } from "./testing/scripted-server.js";
import { createFetchTransport } from "./transport.js";
import type { FetchTransport } from "./transport.js";
import type { HttpMethod } from "./types.js";

const NOW = Date.UTC(2026, 10, 26, 12, 0, 0);
const ok: Reply = { status: 200, body: { ok: true } };
const throttled = (headers: Record<string, string>): Reply => ({
  status: 429,
  headers,
  body: { error: { code: "TooManyRequests", message: "Please retry again later." } },
});

describe("parseRetryAfterMs", () => {
  it("reads delta seconds, an HTTP date and the millisecond headers, ms headers first", () => {
    assert.equal(parseRetryAfterMs({ "retry-after": "10" }, NOW), 10_000);
    assert.equal(parseRetryAfterMs({ "retry-after": new Date(NOW + 42_000).toUTCString() }, NOW), 42_000);
    assert.equal(parseRetryAfterMs({ "retry-after": new Date(NOW - 5000).toUTCString() }, NOW), 0);
    assert.equal(parseRetryAfterMs({ "retry-after": "10", "retry-after-ms": "1500" }, NOW), 1500);
    assert.equal(parseRetryAfterMs({ "retry-after": "10", "x-ms-retry-after-ms": "250" }, NOW), 250);
    assert.equal(parseRetryAfterMs({ "retry-after": "soon" }, NOW), undefined);
    assert.equal(parseRetryAfterMs({}, NOW), undefined);
  });
});

describe("retry policy against a local server", () => {
  let transport: FetchTransport;
  let server: ScriptedServer | undefined;
  before(() => {
    transport = createFetchTransport();
  });
  after(() => transport.close());

  async function run(
    script: Script,
    opts: { method?: HttpMethod; replaySafe?: boolean; retry?: RetryOptions; signal?: AbortSignal } = {},
  ) {
    await server?.close();
    server = await startScriptedServer(script);
    const recorder = recordingSleep();
    const pipeline = createHttpPipeline({
      transport: transport.send,
      retry: { sleep: recorder.sleep, random: () => 0.5, clock: () => NOW, ...opts.retry },
    });
    const send = () =>
      pipeline.send({
        method: opts.method ?? "GET",
        url: `${server!.origin}/beta/x`,
        body: opts.method === "POST" ? "{}" : undefined,
        replaySafe: opts.replaySafe,
        signal: opts.signal,
      });
    return { send, waits: recorder.waits, received: server.received };
  }
  after(() => server?.close());

  it("waits Retry-After seconds on 429, then succeeds", async () => {
    const t = await run(inOrder(throttled({ "Retry-After": "7" }), ok));
    assert.equal((await t.send()).status, 200);
    assert.equal(t.received.length, 2);
    assert.deepEqual(t.waits, [7000]);
  });

  it("honours Retry-After as an HTTP date, then retry-after-ms and x-ms-retry-after-ms", async () => {
    const t = await run(
      inOrder(
        throttled({ "Retry-After": new Date(NOW + 12_000).toUTCString() }),
        throttled({ "Retry-After": "30", "retry-after-ms": "1500" }),
        throttled({ "x-ms-retry-after-ms": "250" }),
        ok,
      ),
    );
    assert.equal((await t.send()).status, 200);
    assert.deepEqual(t.waits, [12_000, 1500, 250]);
  });

  it("backs off exponentially with jitter on 503 without a hint", async () => {
    const t = await run(inOrder({ status: 503 }, { status: 503 }, { status: 503 }, ok), {
      retry: { baseDelayMs: 1000 },
    });
    assert.equal((await t.send()).status, 200);
    // step = 1000 * 2^(n-1); wait = step/2 + random * step/2 with random = 0.5
    assert.deepEqual(t.waits, [750, 1500, 3000]);
  });

  it("caps one backoff step at maxDelayMs", async () => {
    const t = await run(inOrder({ status: 503 }, { status: 503 }, ok), {
      retry: { baseDelayMs: 4000, maxDelayMs: 5000 },
    });
    await t.send();
    assert.deepEqual(t.waits, [3000, 3750]);
  });

  it("stops after maxAttempts and returns the last response", async () => {
    const t = await run(() => ({ status: 503 }), { retry: { maxAttempts: 3 } });
    assert.equal((await t.send()).status, 503);
    assert.equal(t.received.length, 3);
    assert.deepEqual(t.waits, [750, 1500]);
  });

  it("a 429 with Retry-After counts against maxThrottledAttempts (20), not maxAttempts: a busy window is waited out", async () => {
    const replies = [...Array.from({ length: 9 }, () => throttled({ "Retry-After": "1" })), ok];
    const t = await run(inOrder(...replies), { retry: { maxAttempts: 3 } });
    assert.equal((await t.send()).status, 200);
    assert.equal(t.received.length, 10);
    const capped = await run(() => throttled({ "Retry-After": "1" }), { retry: { maxThrottledAttempts: 4 } });
    assert.equal((await capped.send()).status, 429);
    assert.equal(capped.received.length, 4);
    assert.deepEqual(capped.waits, [1000, 1000, 1000]);
  });

  it("a throttled request holds the pipeline's other requests back until the time the server gave", async () => {
    // The clock is frozen: the second request, sent after the first was throttled, waits the whole pause.
    const t = await run(inOrder(throttled({ "Retry-After": "5" }), ok, ok));
    assert.equal((await t.send()).status, 200);
    assert.equal((await t.send()).status, 200);
    assert.equal(t.received.length, 3);
    assert.deepEqual(t.waits, [5000, 5000]);
  });

  it("does not wait past maxTotalDelayMs", async () => {
    const t = await run(inOrder(throttled({ "Retry-After": "20" }), throttled({ "Retry-After": "50" }), ok), {
      retry: { maxTotalDelayMs: 60_000 },
    });
    assert.equal((await t.send()).status, 429);
    assert.equal(t.received.length, 2);
    assert.deepEqual(t.waits, [20_000]);
  });

  it("retries a 504 for GET and a replay-safe POST, but not a plain POST", async () => {
    const get = await run(inOrder({ status: 504 }, ok));
    assert.equal((await get.send()).status, 200);
    const post = await run(inOrder({ status: 504 }, ok), { method: "POST" });
    assert.equal((await post.send()).status, 504);
    assert.equal(post.received.length, 1);
    const safe = await run(inOrder({ status: 504 }, ok), { method: "POST", replaySafe: true });
    assert.equal((await safe.send()).status, 200);
    assert.equal(safe.received.length, 2);
  });

  it("retries a 429 even for a POST (the request was refused, not processed)", async () => {
    const t = await run(inOrder(throttled({ "Retry-After": "2" }), ok), { method: "POST" });
    assert.equal((await t.send()).status, 200);
    assert.equal(t.received.length, 2);
  });

  it("does not retry other errors", async () => {
    const t = await run(inOrder({ status: 400 }, ok));
    assert.equal((await t.send()).status, 400);
    assert.equal(t.received.length, 1);
    assert.deepEqual(t.waits, []);
  });

  it("retries a GET after a dropped connection", async () => {
    const t = await run(inOrder("drop", "drop", ok));
    assert.equal((await t.send()).status, 200);
    assert.equal(t.received.length, 3);
    assert.deepEqual(t.waits, [750, 1500]);
  });

  it("never replays a POST after a dropped connection unless it is replay-safe", async () => {
    const t = await run(inOrder("drop", ok), { method: "POST" });
    await assert.rejects(t.send(), (e: unknown) => e instanceof NetworkError && e.failure === "dropped");
    assert.equal(t.received.length, 1);
    const safe = await run(inOrder("drop", ok), { method: "POST", replaySafe: true });
    assert.equal((await safe.send()).status, 200);
    assert.equal(safe.received.length, 2);
  });

  it("retries a refused connection (nothing was sent) even for a POST, within maxAttempts", async () => {
    const dead = await startScriptedServer(inOrder());
    const origin = dead.origin;
    await dead.close();
    const recorder = recordingSleep();
    const pipeline = createHttpPipeline({
      transport: transport.send,
      retry: { sleep: recorder.sleep, random: () => 0.5, maxAttempts: 3 },
    });
    await assert.rejects(
      pipeline.send({ method: "POST", url: `${origin}/beta/x`, body: "{}" }),
      (e: unknown) => e instanceof NetworkError && e.failure === "connect" && e.causeCode === "ECONNREFUSED",
    );
    assert.equal(recorder.waits.length, 2);
  });

  it("cancels while waiting: no further request, kind cancelled", async () => {
    const controller = new AbortController();
    const t = await run(inOrder(throttled({ "Retry-After": "30" }), ok), {
      signal: controller.signal,
      retry: {
        sleep: (ms, signal) => {
          controller.abort();
          return abortableSleep(ms, signal);
        },
      },
    });
    await assert.rejects(t.send(), (e: unknown) => e instanceof PublisherError && e.kind === "cancelled");
    assert.equal(t.received.length, 1);
  });

  it("cancels a request in flight", async () => {
    const controller = new AbortController();
    const t = await run(
      () => {
        setImmediate(() => controller.abort());
        return new Promise<Reply>(() => {}); // never answers
      },
      { signal: controller.signal },
    );
    await assert.rejects(t.send(), (e: unknown) => e instanceof PublisherError && e.kind === "cancelled");
    assert.equal(t.received.length, 1);
    assert.deepEqual(t.waits, []);
  });

  it("reports a timeout signal as kind timeout", async () => {
    const t = await run(() => new Promise<Reply>(() => {}), { signal: AbortSignal.timeout(50) });
    await assert.rejects(t.send(), (e: unknown) => e instanceof PublisherError && e.kind === "timeout");
  });
});
