/**
 * Microsoft Graph over the HTTP pipeline (docs/reference/graph-conventions.md §6): JSON in and out, errors as
 * `GraphError`, `@odata.nextLink` paging and `$batch`. Relative paths resolve against the version root (`…/beta`).
 */
import type { GraphCollectionWire } from "../../core/wire/graph.js";
import { PublisherError } from "../../core/errors.js";
import type { HttpPipeline } from "../http/pipeline.js";
import { encodeQueryKey, redactUrl } from "../http/redact.js";
import type { HttpMethod, HttpResponse } from "../http/types.js";
import { runBatch } from "./batch.js";
import type { BatchItemResult, BatchOptions, BatchRequestItem } from "./batch.js";
import { graphError } from "./errors.js";

export type QueryValue = string | number | boolean;

export interface GraphRequestOptions {
  signal?: AbortSignal;
  /** sent on every page of a list too (e.g. `ConsistencyLevel`, §6.2) */
  headers?: Readonly<Record<string, string>>;
  /** `$select`, `$filter`, `$top`, …; added to the path's own query */
  query?: Readonly<Record<string, QueryValue | undefined>>;
  /** see `HttpRequest.replaySafe`; `patch` defaults to true */
  replaySafe?: boolean;
}

export interface GraphClientOptions {
  pipeline: HttpPipeline;
  /** the version root, e.g. https://graph.microsoft.com/beta or the local tenant's https://127.0.0.1:PORT/beta */
  baseUrl: string;
  /** item-level retries of `batch` */
  batch?: BatchOptions;
}

export class GraphClient {
  readonly baseUrl: string;
  private readonly origin: string;
  private readonly pipeline: HttpPipeline;
  private readonly batchOptions: BatchOptions;

  constructor(options: GraphClientOptions) {
    const base = new URL(options.baseUrl);
    this.baseUrl = base.href.replace(/\/+$/, "");
    this.origin = base.origin;
    this.pipeline = options.pipeline;
    this.batchOptions = options.batch ?? {};
  }

  get<T>(path: string, options?: GraphRequestOptions): Promise<T> {
    return this.json<T>("GET", path, undefined, options);
  }

  /** The parsed answer, or undefined for an empty one (204, actions such as `commit`). */
  post<T = undefined>(path: string, body: unknown, options?: GraphRequestOptions): Promise<T> {
    return this.json<T>("POST", path, body, options);
  }

  /** Graph PATCH sets the given properties, so replaying it is harmless: replay-safe unless told otherwise. */
  patch<T = undefined>(path: string, body: unknown, options?: GraphRequestOptions): Promise<T> {
    return this.json<T>("PATCH", path, body, { ...options, replaySafe: options?.replaySafe ?? true });
  }

  async delete(path: string, options?: GraphRequestOptions): Promise<void> {
    await this.json("DELETE", path, undefined, options);
  }

  /** Every page of a collection, following `@odata.nextLink` exactly as given (§6.2); pages may be empty. */
  async *pages<T>(path: string, options?: GraphRequestOptions): AsyncGenerator<GraphCollectionWire<T>> {
    let url = this.resolve(path, options?.query);
    const seen = new Set<string>();
    for (;;) {
      seen.add(url);
      const page = await this.json<GraphCollectionWire<T>>("GET", url, undefined, { ...options, query: undefined });
      if (!Array.isArray(page?.value))
        throw new PublisherError("NotACollection", `GET ${redactUrl(url)} did not return a collection.`);
      yield page;
      const next = page["@odata.nextLink"];
      if (next === undefined || next === null) return;
      url = this.checkNextLink(next, url);
      if (seen.has(url))
        throw new PublisherError("NextLinkLoop", `Paging of ${redactUrl(path)} returned a link it already gave.`);
    }
  }

  /** Every item of a collection, page by page. */
  async *list<T>(path: string, options?: GraphRequestOptions): AsyncGenerator<T> {
    for await (const page of this.pages<T>(path, options)) yield* page.value;
  }

  async listAll<T>(path: string, options?: GraphRequestOptions): Promise<T[]> {
    const all: T[] = [];
    for await (const item of this.list<T>(path, options)) all.push(item);
    return all;
  }

  /**
   * JSON batching (§6.3): any number of requests, sent 20 at a time (a `dependsOn` group stays together),
   * items answered 429/503 retried after their Retry-After. Results come back in the order given.
   */
  batch(requests: readonly BatchRequestItem[], options: { signal?: AbortSignal } = {}): Promise<BatchItemResult[]> {
    return runBatch(requests, {
      ...this.batchOptions,
      signal: options.signal,
      send: (body, replaySafe, signal) => this.json("POST", "/$batch", body, { signal, replaySafe }),
      resolve: (url) => this.resolve(url),
    });
  }

  /** The absolute URL for a path (relative to the version root) or a same-host absolute URL. */
  resolve(path: string, query?: GraphRequestOptions["query"]): string {
    let url: string;
    if (/^https?:\/\//i.test(path)) {
      if (new URL(path).origin !== this.origin)
        throw new PublisherError("ForeignHost", `Refusing to send a Graph request to ${redactUrl(path)}.`);
      url = path;
    } else {
      url = `${this.baseUrl}${path.startsWith("/") ? "" : "/"}${path}`;
    }
    const params = Object.entries(query ?? {})
      .filter((e): e is [string, QueryValue] => e[1] !== undefined)
      .map(([k, v]) => `${encodeQueryKey(k)}=${encodeURIComponent(String(v))}`);
    return params.length === 0 ? url : `${url}${url.includes("?") ? "&" : "?"}${params.join("&")}`;
  }

  private checkNextLink(next: unknown, current: string): string {
    let url: URL | undefined;
    try {
      url = typeof next === "string" ? new URL(next) : undefined;
    } catch {
      url = undefined;
    }
    if (url === undefined || url.origin !== this.origin)
      throw new PublisherError(
        "ForeignNextLink",
        `Paging of ${redactUrl(current)} returned a next link to another host or no absolute URL: ${typeof next === "string" ? redactUrl(next) : typeof next}.`,
      );
    return url.href;
  }

  private async json<T>(method: HttpMethod, path: string, body: unknown, options?: GraphRequestOptions): Promise<T> {
    const url = this.resolve(path, options?.query);
    const headers: Record<string, string> = { accept: "application/json", ...options?.headers };
    if (body !== undefined) headers["content-type"] = "application/json";
    const response = await this.pipeline.send({
      method,
      url,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: options?.signal,
      replaySafe: options?.replaySafe,
    });
    const parsed = parseBody(response);
    if (response.status >= 200 && response.status < 300) return parsed as T;
    throw graphError({
      status: response.status,
      headers: response.headers,
      body: parsed,
      method,
      url,
      clientRequestId: response.request.headers["client-request-id"],
    });
  }
}

function parseBody(response: HttpResponse): unknown {
  if (response.bodyText === "") return undefined;
  try {
    return JSON.parse(response.bodyText) as unknown;
  } catch {
    if (response.status >= 200 && response.status < 300)
      throw new PublisherError(
        "InvalidJson",
        `${response.request.method} ${redactUrl(response.request.url)} answered ${response.status} with a body that is not JSON.`,
      );
    return response.bodyText;
  }
}
