/**
 * A small policy pipeline around the transport (docs/graph-client.md, "Policies, in order": azure-sdk's shape, a fixed
 * ordered list instead of phases). The order of `createHttpPipeline`: request id -> retry -> bearer token -> log ->
 * transport, so each retry gets a valid token and is logged, and all attempts share one client-request-id.
 */
import { bearerTokenPolicy } from "./auth-policy.js";
import type { BearerTokenPolicyOptions, TokenProvider } from "./auth-policy.js";
import { logPolicy } from "./log-policy.js";
import type { LogPolicyOptions } from "./log-policy.js";
import { requestIdPolicy } from "./request-id-policy.js";
import { retryPolicy } from "./retry-policy.js";
import type { RetryOptions } from "./retry-policy.js";
import type {
  HttpMethod,
  HttpPolicy,
  HttpRequest,
  HttpResponse,
  HttpTransport,
  SendRequest,
  StreamedBody,
} from "./types.js";

export interface HttpRequestInit {
  method: HttpMethod;
  url: string;
  /** any case; sent lower-cased */
  headers?: Readonly<Record<string, string>>;
  body?: string | Uint8Array;
  /** see `HttpRequest.streamedBody` */
  streamedBody?: StreamedBody;
  signal?: AbortSignal;
  /** see `HttpRequest.replaySafe` */
  replaySafe?: boolean;
  /** see `HttpRequest.maxResponseBytes` */
  maxResponseBytes?: number;
}

export class HttpPipeline {
  private readonly run: SendRequest;

  /** `policies` run outermost first; the transport is last. */
  constructor(transport: HttpTransport, policies: readonly HttpPolicy[]) {
    this.run = policies.reduceRight<SendRequest>((next, policy) => (req) => policy.send(req, next), transport);
  }

  send(init: HttpRequestInit): Promise<HttpResponse> {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(init.headers ?? {})) headers[k.toLowerCase()] = v;
    const request: HttpRequest = { method: init.method, url: init.url, headers };
    if (init.body !== undefined) request.body = init.body;
    if (init.streamedBody !== undefined) request.streamedBody = init.streamedBody;
    if (init.signal !== undefined) request.signal = init.signal;
    if (init.replaySafe !== undefined) request.replaySafe = init.replaySafe;
    if (init.maxResponseBytes !== undefined) request.maxResponseBytes = init.maxResponseBytes;
    return this.run(request);
  }
}

export interface CreateHttpPipelineOptions {
  transport: HttpTransport;
  /** absent: no Authorization header (e.g. SAS URLs) */
  tokenProvider?: TokenProvider;
  auth?: BearerTokenPolicyOptions;
  retry?: RetryOptions;
  /** absent: nothing is logged; its logger also gets the retry warnings unless `retry.logger` is set */
  log?: LogPolicyOptions;
  newRequestId?: () => string;
  /** run after the retry policy, so once per attempt (e.g. the workers' per-tenant write limit) */
  policies?: readonly HttpPolicy[];
}

export function createHttpPipeline(options: CreateHttpPipelineOptions): HttpPipeline {
  const retry: RetryOptions = { logger: options.log?.logger, ...options.retry };
  const policies: HttpPolicy[] = [
    requestIdPolicy(options.newRequestId),
    retryPolicy(retry),
    ...(options.policies ?? []),
  ];
  if (options.tokenProvider !== undefined) policies.push(bearerTokenPolicy(options.tokenProvider, options.auth));
  if (options.log !== undefined) policies.push(logPolicy(options.log));
  return new HttpPipeline(options.transport, policies);
}
