/**
 * The HTTP pipeline's shapes: a request, a buffered response, and policies that wrap the next step
 * (docs/graph-client.md, "Policies, in order": one behaviour per policy, composed in a fixed order).
 */

export type HttpMethod = "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE";

export interface HttpRequest {
  method: HttpMethod;
  /** absolute URL */
  url: string;
  /** lower-case names */
  headers: Record<string, string>;
  body?: string | Uint8Array;
  /**
   * A body produced while it is sent (a block read from its file slice by slice), instead of `body`; only the main
   * transport (transport.ts) sends it. Each attempt calls `open()` again, so a retry re-reads it from the start.
   */
  streamedBody?: StreamedBody;
  signal?: AbortSignal;
  /**
   * The caller vouches that replaying this request is harmless, so a POST or PATCH may be retried after a
   * dropped connection or a 504 (GET, HEAD, PUT and DELETE always may: RFC 9110 §9.2.2).
   */
  replaySafe?: boolean;
  /**
   * Refuse an answer whose body is larger (a `ResponseTooLargeError`, before reading when Content-Length says so,
   * else as soon as the bytes read pass it); default: no limit (Graph's answers are bounded by Graph).
   */
  maxResponseBytes?: number;
}

/** A request body of known length (sent as Content-Length, never chunked), produced in pieces as it is sent. */
export interface StreamedBody {
  /** bytes in all; the pieces must add up to exactly this */
  length: number;
  /** A new pass from the first byte. An error it throws fails the request as is (not retried by the pipeline). */
  open(): AsyncIterable<Uint8Array>;
}

export interface HttpResponse {
  status: number;
  /** lower-case names */
  headers: Record<string, string>;
  /** the whole body, decoded as UTF-8 (Graph answers JSON) */
  bodyText: string;
  /** the request as last sent (after every policy) */
  request: HttpRequest;
}

/** The last step: sends one request on the wire. Throws `NetworkError` or a cancelled `PublisherError`. */
export type HttpTransport = (request: HttpRequest) => Promise<HttpResponse>;

export type SendRequest = (request: HttpRequest) => Promise<HttpResponse>;

export interface HttpPolicy {
  readonly name: string;
  send(request: HttpRequest, next: SendRequest): Promise<HttpResponse>;
}

/** One request or answer as the log policy saw it; every field is already redacted (see redact.ts). */
export interface HttpLogEvent {
  level: "info" | "warning";
  /** the line `info`/`warning` would get */
  message: string;
  method: HttpMethod;
  /** through `redactUrl` */
  url: string;
  /** absent on the request line and on failures */
  status?: number;
  /** Graph `request-id` (or storage/Entra `x-ms-request-id`) of the answer */
  requestId?: string;
  clientRequestId?: string;
  durationMs?: number;
  /** why no answer came (network failure kind, cancelled, …) */
  failure?: string;
}

/** Receives lines that are already redacted (see redact.ts). Off unless the composition root passes one. */
export interface HttpLogger {
  info(message: string): void;
  warning(message: string): void;
  /** when present, gets each request and answer as structured fields instead of an `info`/`warning` line */
  event?(event: HttpLogEvent): void;
}

/** Waits `ms`, rejecting with a cancelled `PublisherError` when `signal` aborts. Injected so tests don't wait. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** Milliseconds since the epoch. */
export type Clock = () => number;

export const IDEMPOTENT_METHODS: ReadonlySet<HttpMethod> = new Set(["GET", "HEAD", "PUT", "DELETE"]);

export function isReplaySafe(request: HttpRequest): boolean {
  return IDEMPOTENT_METHODS.has(request.method) || request.replaySafe === true;
}
