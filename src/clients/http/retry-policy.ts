/**
 * Bounded retries (docs/DESIGN.md house rule 5). Sources: Graph throttling guidance (docs/reference/entra-errors.md
 * §2.3, docs/reference/graph-conventions.md §6.5: 429/503 carry Retry-After, back off exponentially without it) and
 * azure-sdk's throttlingRetryStrategy (retry-after-ms, x-ms-retry-after-ms, Retry-After as seconds or an HTTP date).
 * docs/graph-client.md has the rules.
 */
import { abortError, NetworkError } from "./errors.js";
import { redactUrl } from "./redact.js";
import { abortableSleep } from "./sleep.js";
import { isReplaySafe } from "./types.js";
import type { Clock, HttpLogger, HttpPolicy, HttpRequest, HttpResponse, Sleep } from "./types.js";

export interface RetryOptions {
  /** attempts including the first; default 6 (retries the server asked for with a wait hint count apart) */
  maxAttempts?: number;
  /**
   * attempts including the first while every retry was a 429/503 carrying a wait hint (the server says when to come
   * back: a busy tenant's throttling window, shared by parallel requests); default 20, within maxTotalDelayMs
   */
  maxThrottledAttempts?: number;
  /** first backoff step without a server hint; doubles each retry; default 1000 ms */
  baseDelayMs?: number;
  /** cap of one computed backoff step (a server hint may be longer); default 30 000 ms */
  maxDelayMs?: number;
  /** total waiting allowed for one request; a wait that would pass it ends the retries; default 180 000 ms */
  maxTotalDelayMs?: number;
  sleep?: Sleep;
  /** in [0, 1), for jitter */
  random?: () => number;
  clock?: Clock;
  logger?: HttpLogger;
}

export const DEFAULT_RETRY_OPTIONS = {
  maxAttempts: 6,
  maxThrottledAttempts: 20,
  baseDelayMs: 1000,
  maxDelayMs: 30_000,
  maxTotalDelayMs: 180_000,
} as const;

/** The server's requested wait in ms, from `retry-after-ms`, `x-ms-retry-after-ms` or `Retry-After`. */
export function parseRetryAfterMs(headers: Readonly<Record<string, string>>, now: number): number | undefined {
  for (const name of ["retry-after-ms", "x-ms-retry-after-ms"]) {
    const v = headers[name]?.trim();
    if (v !== undefined && /^\d+(\.\d+)?$/.test(v)) return Math.ceil(Number(v));
  }
  const ra = headers["retry-after"]?.trim();
  if (ra === undefined || ra === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(ra)) return Math.ceil(Number(ra) * 1000);
  const date = Date.parse(ra);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Exponential backoff with jitter for retry `n` (1-based): half the step plus a random share of the other half. */
export function backoffDelay(n: number, o: { baseDelayMs: number; maxDelayMs: number; random: () => number }): number {
  const step = Math.min(o.maxDelayMs, o.baseDelayMs * 2 ** (n - 1));
  return Math.round(step / 2 + (o.random() * step) / 2);
}

type Outcome = { response: HttpResponse; error?: never } | { error: NetworkError; response?: never };

/** Why to retry, or undefined to stop. */
function retryReason(request: HttpRequest, outcome: Outcome): string | undefined {
  if (outcome.error !== undefined) {
    const e = outcome.error;
    if (e.failure === "connect") return `connection failed (${e.causeCode ?? "?"})`;
    if (e.failure === "dropped" && isReplaySafe(request)) return `connection dropped (${e.causeCode ?? "?"})`;
    return undefined;
  }
  const status = outcome.response.status;
  if (status === 429 || status === 503) return `HTTP ${status}`;
  // A gateway timeout may hide a request that was processed: replay only what is safe to replay.
  if (status === 504 && isReplaySafe(request)) return "HTTP 504";
  return undefined;
}

export function retryPolicy(options: RetryOptions = {}): HttpPolicy {
  const o = { ...DEFAULT_RETRY_OPTIONS, ...options };
  const sleep = options.sleep ?? abortableSleep;
  const random = options.random ?? Math.random;
  const clock = options.clock ?? Date.now;
  let pausedUntil = 0;
  return {
    name: "retry",
    async send(request, next) {
      let waited = 0;
      // Attempts that were not the server's hinted "come back later": bounded by maxAttempts.
      let unhinted = 0;
      // The pause this request set itself (its own wait covers it).
      let ownPause = 0;
      for (let attempt = 1; ; attempt++) {
        if (request.signal?.aborted) throw abortError(request.signal);
        // A throttled sibling's hint holds every request of this pipeline back, first attempts included, so
        // parallel requests do not spend their attempts against a window the server said is full.
        const hold = pausedUntil > ownPause ? pausedUntil - clock() : 0;
        if (hold > 0) await sleep(hold, request.signal);
        let outcome: Outcome;
        try {
          outcome = { response: await next(request) };
        } catch (err) {
          if (!(err instanceof NetworkError)) throw err;
          outcome = { error: err };
        }
        const finish = (): HttpResponse => {
          if (outcome.error !== undefined) throw outcome.error;
          return outcome.response;
        };
        const reason = retryReason(request, outcome);
        if (reason === undefined) return finish();
        const status = outcome.response?.status;
        const hint = outcome.response ? parseRetryAfterMs(outcome.response.headers, clock()) : undefined;
        const throttled = hint !== undefined && (status === 429 || status === 503);
        if (!throttled) unhinted++;
        if (unhinted >= o.maxAttempts || attempt >= o.maxThrottledAttempts) return finish();
        const wait = hint ?? backoffDelay(unhinted, { ...o, random });
        const target = `${request.method} ${redactUrl(request.url)}`;
        if (waited + wait > o.maxTotalDelayMs) {
          options.logger?.warning(`${target}: ${reason}; not retrying, waiting ${wait} ms would pass the retry budget`);
          return finish();
        }
        options.logger?.warning(`${target}: ${reason}; retry ${attempt} of ${o.maxAttempts - 1} in ${wait} ms`);
        if (throttled && clock() + wait >= pausedUntil) pausedUntil = ownPause = clock() + wait;
        await sleep(wait, request.signal);
        waited += wait;
      }
    },
  };
}
