/**
 * Per-tenant write limit shared by every worker (docs/workers.md): a sliding window in Redis, checked and taken in
 * one Lua script so two workers never both take the last slot. Intune counts writes per tenant and per app per
 * tenant in sliding 20 s windows (100 writes per app per tenant); the workers of one fleet share one app
 * registration, so the default is that figure.
 *
 * Key: `ipub:rate:<tenant id>` (a sorted set of grants scored by Redis's own clock in ms, so the workers' clocks do
 * not matter). With `record`, each grant's time is also appended to `ipub:rate-log:<tenant id>` (tests, audits).
 */
import { randomUUID } from "node:crypto";
import { setTimeout as delay } from "node:timers/promises";
import type { Redis } from "ioredis";
import type { HttpPolicy } from "../clients/http/types.js";

export const DEFAULT_WRITE_LIMIT = { limit: 100, windowMs: 20_000 };

const SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  if ARGV[4] == '1' then redis.call('RPUSH', KEYS[2], now) end
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + window - now)
`;

type WithLimiter = Redis & {
  ipubTakeSlot(
    key: string,
    log: string,
    limit: number,
    windowMs: number,
    member: string,
    record: string,
  ): Promise<number>;
};

export const rateKey = (tenantId: string): string => `ipub:rate:${tenantId.toLowerCase()}`;
export const rateLogKey = (tenantId: string): string => `ipub:rate-log:${tenantId.toLowerCase()}`;

export class TenantRateLimiter {
  private readonly redis: WithLimiter;

  constructor(
    redis: Redis,
    readonly o: { limit: number; windowMs: number; record?: boolean } = DEFAULT_WRITE_LIMIT,
  ) {
    if (typeof (redis as unknown as Partial<WithLimiter>).ipubTakeSlot !== "function")
      redis.defineCommand("ipubTakeSlot", { numberOfKeys: 2, lua: SCRIPT });
    this.redis = redis as unknown as WithLimiter;
  }

  /** Waits until the tenant has a free slot in the window and takes it. */
  async acquire(tenantId: string, signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      const wait = await this.redis.ipubTakeSlot(
        rateKey(tenantId),
        rateLogKey(tenantId),
        this.o.limit,
        this.o.windowMs,
        randomUUID(),
        this.o.record === true ? "1" : "0",
      );
      if (wait === 0) return;
      await delay(Number(wait), undefined, signal === undefined ? {} : { signal });
    }
  }

  /** An HTTP policy taking a slot before each write (any method but GET and HEAD) to `tenantId`'s Graph. */
  policy(tenantId: string): HttpPolicy {
    return {
      name: "tenantWriteLimit",
      send: async (req, next) => {
        if (req.method !== "GET" && req.method !== "HEAD") await this.acquire(tenantId, req.signal);
        return next(req);
      },
    };
  }
}
