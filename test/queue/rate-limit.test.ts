// The per-tenant write limit shared by workers: several limiters on their own Redis connections (as separate worker
// processes have) take slots at once; Redis's own log of the grants never has more than L in any window. Reads are
// not limited; tenants are limited apart.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { createHttpPipeline } from "../../src/clients/http/pipeline.js";
import type { HttpResponse, HttpTransport } from "../../src/clients/http/types.js";
import { rateKey, rateLogKey, TenantRateLimiter } from "../../src/queue/rate-limit.js";
import { startRedis } from "./redis-server.js";
import type { TestRedis } from "./redis-server.js";

const TENANT = "11111111-2222-4333-8444-555555555555";
const OTHER = "99999999-2222-4333-8444-555555555555";

/** Grant times (ms, Redis clock) in order; the most grants found in any window (t - window, t]. */
function maxInWindow(times: number[], windowMs: number): number {
  let most = 0;
  for (let i = 0; i < times.length; i++) {
    let n = 0;
    for (let j = 0; j <= i; j++) if (times[j]! > times[i]! - windowMs) n++;
    most = Math.max(most, n);
  }
  return most;
}

describe("per-tenant write limit on Redis", () => {
  let redis: TestRedis;
  const clients: Redis[] = [];
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    for (const c of clients) c.disconnect();
    await redis.stop();
  });
  const client = (): Redis => {
    const c = new Redis(redis.url);
    clients.push(c);
    return c;
  };

  it("4 workers × 6 concurrent writers, limit 5 per 500 ms: never more than 5 grants in a window", async () => {
    const limit = 5;
    const windowMs = 500;
    const workers = Array.from({ length: 4 }, () => new TenantRateLimiter(client(), { limit, windowMs, record: true }));
    const grants = 30;
    let taken = 0;
    await Promise.all(
      workers.flatMap((w) =>
        Array.from({ length: 6 }, async () => {
          while (taken < grants) {
            taken++;
            await w.acquire(TENANT);
          }
        }),
      ),
    );
    const times = (await redis.client.lrange(rateLogKey(TENANT), 0, -1)).map(Number);
    assert.equal(times.length, taken);
    assert.ok(taken >= grants);
    assert.deepEqual(
      times,
      [...times].sort((a, b) => a - b),
      "granted in Redis's clock order",
    );
    assert.ok(maxInWindow(times, windowMs) <= limit, `at most ${limit} per window`);
    // 30 grants at 5 per window need at least 5 windows between the first and the last
    assert.ok(times.at(-1)! - times[0]! >= (Math.ceil(taken / limit) - 1) * windowMs);
    // another tenant is not held back by this one
    await new TenantRateLimiter(client(), { limit, windowMs, record: true }).acquire(OTHER);
    assert.equal(await redis.client.llen(rateLogKey(OTHER)), 1);
    assert.ok((await redis.client.pttl(rateKey(TENANT))) <= windowMs, "the window key expires");
  });

  it("as a Graph pipeline policy: each write attempt takes a slot, reads take none", async () => {
    const limiter = new TenantRateLimiter(client(), { limit: 100, windowMs: 20_000, record: true });
    const seen: string[] = [];
    const transport: HttpTransport = async (req): Promise<HttpResponse> => {
      seen.push(req.method);
      return { status: 200, headers: {}, bodyText: "", request: req };
    };
    const tenant = "22222222-2222-4333-8444-555555555555";
    const pipeline = createHttpPipeline({ transport, policies: [limiter.policy(tenant)] });
    for (const method of ["GET", "POST", "PATCH", "GET", "DELETE"] as const)
      await pipeline.send({ method, url: "https://graph.example/beta/x" });
    assert.deepEqual(seen, ["GET", "POST", "PATCH", "GET", "DELETE"]);
    assert.equal(await redis.client.llen(rateLogKey(tenant)), 3);
  });
});
