/**
 * JSON batching (docs/reference/graph-conventions.md §6.3, Graph's JSON batching doc): at most 20 requests per
 * `$batch`, ids unique and case-insensitive, `dependsOn` within one batch, answers matched by id (order not
 * guaranteed), each inner request throttled on its own (429 + Retry-After) and a failed dependency answered 424.
 */
import { PublisherError } from "../../core/errors.js";
import { backoffDelay, DEFAULT_RETRY_OPTIONS, parseRetryAfterMs } from "../http/retry-policy.js";
import { abortableSleep } from "../http/sleep.js";
import type { Clock, HttpMethod, Sleep } from "../http/types.js";
import { graphError } from "./errors.js";
import type { GraphError } from "./errors.js";

export const MAX_BATCH_SIZE = 20;

export interface BatchRequestItem {
  id: string;
  method: HttpMethod;
  /** relative to the version root, e.g. `/deviceAppManagement/mobileApps/{id}?$select=id` */
  url: string;
  headers?: Readonly<Record<string, string>>;
  /** JSON body; `Content-Type: application/json` is added */
  body?: unknown;
  dependsOn?: readonly string[];
}

export interface BatchItemResult {
  id: string;
  status: number;
  /** lower-case names */
  headers: Record<string, string>;
  body: unknown;
  /** set when status ≥ 400 */
  error?: GraphError;
}

/** Item-level retries of 429/503 answers; defaults as the pipeline's retry policy. */
export interface BatchOptions {
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  maxTotalDelayMs?: number;
  sleep?: Sleep;
  clock?: Clock;
  random?: () => number;
}

interface BatchResponseWire {
  responses?: { id?: unknown; status?: unknown; headers?: Record<string, string>; body?: unknown }[];
}

export interface RunBatchOptions extends BatchOptions {
  signal?: AbortSignal | undefined;
  send(body: unknown, replaySafe: boolean, signal: AbortSignal | undefined): Promise<BatchResponseWire | undefined>;
  /** absolute URL of an item, for error messages */
  resolve(url: string): string;
}

const key = (id: string): string => id.toLowerCase();

function invalid(message: string): PublisherError {
  return new PublisherError("InvalidBatch", message);
}

/** Splits into batches of ≤ 20, keeping each group of requests linked by `dependsOn` in one batch, in order. */
export function splitBatches(requests: readonly BatchRequestItem[]): BatchRequestItem[][] {
  const byId = new Map<string, BatchRequestItem>();
  for (const r of requests) {
    if (r.id === "") throw invalid("A batch request needs an id.");
    if (byId.has(key(r.id))) throw invalid(`Batch request id "${r.id}" is used twice (ids are case-insensitive).`);
    byId.set(key(r.id), r);
  }
  // Union-find over dependsOn links.
  const parent = new Map<string, string>([...byId.keys()].map((k) => [k, k]));
  const root = (k: string): string => {
    let r = k;
    while (parent.get(r) !== r) r = parent.get(r) ?? r;
    parent.set(k, r);
    return r;
  };
  for (const r of requests)
    for (const d of r.dependsOn ?? []) {
      if (!byId.has(key(d))) throw invalid(`Batch request "${r.id}" depends on unknown id "${d}".`);
      parent.set(root(key(r.id)), root(key(d)));
    }
  const groups = new Map<string, BatchRequestItem[]>();
  for (const r of requests) {
    const g = root(key(r.id));
    groups.set(g, [...(groups.get(g) ?? []), r]);
  }
  const batches: BatchRequestItem[][] = [];
  let current: BatchRequestItem[] = [];
  for (const group of groups.values()) {
    if (group.length > MAX_BATCH_SIZE)
      throw invalid(`${group.length} batch requests are linked by dependsOn; one batch holds ${MAX_BATCH_SIZE}.`);
    if (current.length + group.length > MAX_BATCH_SIZE) {
      batches.push(current);
      current = [];
    }
    current.push(...group);
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

function toWire(r: BatchRequestItem, pending: ReadonlySet<string>): Record<string, unknown> {
  const wire: Record<string, unknown> = { id: r.id, method: r.method, url: r.url };
  const headers: Record<string, string> = { ...r.headers };
  if (r.body !== undefined) {
    if (!Object.keys(headers).some((h) => h.toLowerCase() === "content-type"))
      headers["Content-Type"] = "application/json";
    wire["body"] = r.body;
  }
  if (Object.keys(headers).length > 0) wire["headers"] = headers;
  // On a retry, dependencies that already succeeded are not resent, so they leave dependsOn.
  const deps = (r.dependsOn ?? []).filter((d) => pending.has(key(d)));
  if (deps.length > 0) wire["dependsOn"] = deps;
  return wire;
}

const RETRY_STATUS = new Set([429, 503]);

export async function runBatch(requests: readonly BatchRequestItem[], o: RunBatchOptions): Promise<BatchItemResult[]> {
  const maxAttempts = o.maxAttempts ?? DEFAULT_RETRY_OPTIONS.maxAttempts;
  const maxTotalDelayMs = o.maxTotalDelayMs ?? DEFAULT_RETRY_OPTIONS.maxTotalDelayMs;
  const backoff = {
    baseDelayMs: o.baseDelayMs ?? DEFAULT_RETRY_OPTIONS.baseDelayMs,
    maxDelayMs: o.maxDelayMs ?? DEFAULT_RETRY_OPTIONS.maxDelayMs,
    random: o.random ?? Math.random,
  };
  const sleep = o.sleep ?? abortableSleep;
  const clock = o.clock ?? Date.now;
  const results = new Map<string, BatchItemResult>();

  for (const chunk of splitBatches(requests)) {
    let pending = chunk;
    let waited = 0;
    for (let attempt = 1; ; attempt++) {
      const pendingIds = new Set(pending.map((r) => key(r.id)));
      const replaySafe = pending.every((r) => r.method === "GET" || r.method === "HEAD");
      const answer = await o.send({ requests: pending.map((r) => toWire(r, pendingIds)) }, replaySafe, o.signal);
      const byId = new Map((answer?.responses ?? []).map((res) => [key(String(res.id)), res]));
      for (const r of pending) {
        const res = byId.get(key(r.id));
        if (res === undefined || typeof res.status !== "number")
          throw new PublisherError("BatchAnswerMissing", `The $batch answer has no response for "${r.id}".`);
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers ?? {})) headers[k.toLowerCase()] = String(v);
        const result: BatchItemResult = { id: r.id, status: res.status, headers, body: res.body };
        if (res.status >= 400)
          result.error = graphError({
            status: res.status,
            headers,
            body: res.body,
            method: r.method,
            url: o.resolve(r.url),
          });
        results.set(key(r.id), result);
      }
      // Retry throttled items, and the items that failed only because one of those did (424).
      const retry = new Set(
        pending.filter((r) => RETRY_STATUS.has(results.get(key(r.id))?.status ?? 0)).map((r) => key(r.id)),
      );
      for (let grew = true; grew;) {
        grew = false;
        for (const r of pending)
          if (
            !retry.has(key(r.id)) &&
            results.get(key(r.id))?.status === 424 &&
            (r.dependsOn ?? []).some((d) => retry.has(key(d)))
          ) {
            retry.add(key(r.id));
            grew = true;
          }
      }
      if (retry.size === 0 || attempt >= maxAttempts) break;
      const hints = [...retry].map((id) => parseRetryAfterMs(results.get(id)?.headers ?? {}, clock()));
      const known = hints.filter((h): h is number => h !== undefined);
      const wait = known.length > 0 ? Math.max(...known) : backoffDelay(attempt, backoff);
      if (waited + wait > maxTotalDelayMs) break;
      await sleep(wait, o.signal);
      waited += wait;
      pending = pending.filter((r) => retry.has(key(r.id)));
    }
  }
  return requests.map((r) => results.get(key(r.id)) as BatchItemResult);
}
