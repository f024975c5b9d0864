/** Errors raised below the Graph layer: the request never got a complete answer. */
import { STATUS_CODES } from "node:http";
import { PublisherError } from "../../core/errors.js";
import type { HttpRequest } from "./types.js";

/**
 * - `connect`: no connection was made, so nothing was sent (refused, connect timeout, DNS retry): safe to retry.
 * - `dropped`: the connection broke after the request may have reached the server (ECONNRESET, socket hang up).
 * - `tls`: the server's certificate is not trusted; never retried.
 * - `other`: anything else.
 */
export type NetworkFailure = "connect" | "dropped" | "tls" | "other";

export class NetworkError extends PublisherError {
  readonly failure: NetworkFailure;
  /** the system or undici code found in the cause chain, e.g. ECONNRESET */
  readonly causeCode: string | undefined;
  readonly clientRequestId: string | undefined;

  constructor(
    failure: NetworkFailure,
    message: string,
    options: { cause?: unknown; causeCode?: string; clientRequestId?: string; hint?: string },
  ) {
    super(failure === "tls" ? "TlsUntrusted" : "NetworkError", message, {
      cause: options.cause,
      hint: options.hint,
    });
    this.name = "NetworkError";
    this.failure = failure;
    this.causeCode = options.causeCode;
    this.clientRequestId = options.clientRequestId;
  }
}

/** An answer larger than the request's `maxResponseBytes`: refused without reading (or keeping) the rest. */
export class ResponseTooLargeError extends PublisherError {
  constructor(host: string, limit: number, declared?: number) {
    super(
      "ResponseTooLarge",
      declared === undefined
        ? `The answer from ${host} is larger than the limit of ${limit} bytes: refused.`
        : `The answer from ${host} is ${declared} bytes, over the limit of ${limit} bytes: refused.`,
      {
        hint: "Check the URL: it should name a small document (a manifest, an index, a feed). The limits are in docs/limits.md.",
      },
    );
    this.name = "ResponseTooLargeError";
  }
}

const CONNECT_CODES = new Set(["ECONNREFUSED", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "UND_ERR_CONNECT_TIMEOUT"]);
/** Sent (or maybe sent) but no complete answer; the undici timeouts are the transport's idle timeout (120 s). */
const DROPPED_CODES = new Set([
  "ECONNRESET",
  "EPIPE",
  "ECONNABORTED",
  "ETIMEDOUT",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
]);
const TLS_CODE = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS|ERR_SSL/;

/** Codes and messages along an error's cause chain (AggregateError members included). */
function causes(err: unknown, depth = 0): { code?: string; message: string }[] {
  if (!(err instanceof Error) || depth > 8) return [];
  const own = { code: (err as NodeJS.ErrnoException).code, message: err.message };
  const nested = err instanceof AggregateError ? err.errors.flatMap((e) => causes(e, depth + 1)) : [];
  return [own, ...nested, ...causes(err.cause, depth + 1)];
}

/** The cancelled (or, for `AbortSignal.timeout`, timeout) error for an aborted signal. */
export function abortError(signal: AbortSignal | undefined): PublisherError {
  const reason: unknown = signal?.reason;
  if (reason instanceof PublisherError) return reason;
  if (reason instanceof Error && reason.name === "TimeoutError")
    return new PublisherError("Timeout", "The operation timed out.", { cause: reason });
  return new PublisherError("Cancelled", "The operation was cancelled.", { cause: reason });
}

/** A proxy URL as it may be shown: scheme, user and host, never the password (or anything after the host). */
export function proxyLabel(proxy: string): string {
  try {
    const u = new URL(proxy);
    return `${u.protocol}//${u.username === "" ? "" : `${u.username}@`}${u.host}`;
  } catch {
    return "(the proxy)";
  }
}

/** What the stream transport's CONNECT tunnel raises when the proxy answers anything but 200. */
export class ProxyTunnelRefusedError extends Error {
  constructor(readonly status: number) {
    super(`Proxy response (${status}) !== 200 when HTTP Tunneling`);
    this.name = "ProxyTunnelRefusedError";
  }
}

/** The causeCode of a tunnel the proxy refused: `PROXY_` + its status (PROXY_407, PROXY_502…). */
export const PROXY_CODE = /^PROXY_\d{3}$/;

/** Maps what fetch threw into a cancelled error or a classified `NetworkError`; `proxy`: the proxy the request used. */
export function toNetworkError(err: unknown, request: HttpRequest, proxy?: string): PublisherError {
  if (request.signal?.aborted) return abortError(request.signal);
  const chain = causes(err);
  const codes = chain.map((c) => c.code).filter((c): c is string => c !== undefined);
  const host = new URL(request.url).host;
  const clientRequestId = request.headers["client-request-id"];
  // undici's ProxyAgent (and ProxyTunnelRefusedError): "Proxy response (407) !== 200 when HTTP Tunneling"
  const refused = chain.map((c) => /Proxy response \((\d{3})\)/.exec(c.message)?.[1]).find((s) => s !== undefined);
  if (refused !== undefined) {
    const status = Number(refused);
    const label = proxy === undefined ? "The proxy" : `The proxy ${proxyLabel(proxy)}`;
    const reason = STATUS_CODES[status];
    // a refusal (407, 403) is not retried; a 5xx may be the proxy's passing trouble
    return new NetworkError(
      status >= 500 ? "connect" : "other",
      `${label} answered ${status}${reason === undefined ? "" : ` ${reason}`} to the tunnel for ${host}: nothing reached ${host}.`,
      {
        cause: err,
        causeCode: `PROXY_${status}`,
        clientRequestId,
        hint:
          status === 407
            ? "The proxy wants a user name and password: put them in the proxy URL (HTTPS_PROXY=http://USER:PASSWORD@host:port, or `connect init --proxy`, which keeps the password in a 0600 file). Only Basic authentication is sent; for NTLM or Kerberos, run a local relay such as cntlm or px and point HTTPS_PROXY at it. See docs/troubleshooting.md#netproxy."
            : `The proxy could not or would not open a connection to ${host}: ask its administrator to allow ${host}, or check NO_PROXY and HTTPS_PROXY. See docs/troubleshooting.md#netproxy.`,
      },
    );
  }
  const tls = codes.find((c) => TLS_CODE.test(c));
  if (tls !== undefined)
    return new NetworkError("tls", `The TLS certificate of ${host} is not trusted (${tls}).`, {
      cause: err,
      causeCode: tls,
      clientRequestId,
      hint: "For the local tenant, pass its CA certificate (ca.pem); verification is never turned off.",
    });
  const connect = codes.find((c) => CONNECT_CODES.has(c));
  if (connect !== undefined)
    return new NetworkError("connect", `Could not connect to ${host} (${connect}).`, {
      cause: err,
      causeCode: connect,
      clientRequestId,
    });
  const dropped =
    codes.find((c) => DROPPED_CODES.has(c)) ??
    (chain.some((c) => /socket hang up|other side closed|terminated/i.test(c.message)) ? "ECONNRESET" : undefined);
  if (dropped !== undefined)
    return new NetworkError("dropped", `The connection to ${host} was dropped (${dropped}).`, {
      cause: err,
      causeCode: dropped,
      clientRequestId,
    });
  return new NetworkError("other", `The request to ${host} failed: ${chain.at(-1)?.message ?? String(err)}.`, {
    cause: err,
    causeCode: codes.at(-1),
    clientRequestId,
  });
}
