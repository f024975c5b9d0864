/**
 * The wire: undici's `request` on an Agent that trusts an extra CA, or a ProxyAgent per proxy URL. TLS
 * verification is never turned off, whatever NODE_TLS_REJECT_UNAUTHORIZED says (`rejectUnauthorized: true` on the
 * origin and the proxy connections alike). Not `fetch`: it copies every body through a web stream, which made 8 MiB
 * block uploads a third as fast as node:https (bench/README.md, "Upload and publish").
 *
 * Two costs that showed in CPU profiles of block uploads (bench/README.md, "Upload and publish"), both paid on the
 * main thread:
 * - the trust store is parsed once per transport into one `SecureContext`, not once per connection: `ca` given to
 *   `tls.connect` is Node's ~140 roots plus the extra CA, re-parsed for every new socket (tens of ms each);
 * - a large body is written in `BODY_SLICE` slices, each once the socket has drained, with its Content-Length
 *   (never chunked: Azure refuses that). Handed to the socket whole, an 8 MiB block was copied once more (header and
 *   body gathered into one buffer) and encrypted in one go, and several blocks in flight then held tens of MiB of
 *   ciphertext waiting for the socket: 8 blocks in flight were slower than 4.
 * A streamed body (`HttpRequest.streamedBody`, a block read from its file while it is sent) goes the same way: each
 * piece cut into `BODY_SLICE` views, Content-Length from its declared length; each attempt opens it anew.
 *
 * TLS suites are Node's defaults. Offering TLS_AES_128_GCM_SHA256 first was measured (bench/README.md, "Upload,
 * 2026-12-04 08:55") and not adopted: Node's TLS servers (the local tenant's storage among them) honour their own
 * order by default and choose TLS_AES_256_GCM_SHA384 whatever the client offers, and where the client's order did
 * apply, the server's CPU for 512 MiB received was the same with either suite (AES-GCM with AES-NI is ≈ 0.15 s per
 * 512 MiB either way, against 4–8 s of the storage server's work).
 */
import { createSecureContext, rootCertificates } from "node:tls";
import { Agent, ProxyAgent } from "undici";
import type { Dispatcher } from "undici";
import { PublisherError } from "../../core/errors.js";
import { ResponseTooLargeError, toNetworkError } from "./errors.js";
import { proxyFor } from "./proxy.js";
import type { ProxySettings } from "./proxy.js";
import type { HttpRequest, HttpResponse, HttpTransport, StreamedBody } from "./types.js";
import { userAgent as defaultUserAgent } from "./user-agent.js";

/** Bodies larger than this are written in slices of this size (the size of a file stream's chunks). */
export const BODY_SLICE = 64 * 1024;

export interface FetchTransportOptions {
  /**
   * PEM of CA certificates to trust in addition to Node's bundled roots (the local tenant's ca.pem, a TLS-inspecting
   * proxy's CA). When given, NODE_EXTRA_CA_CERTS no longer applies to these connections.
   */
  trustedCaPem?: string;
  proxy?: ProxySettings;
  /** sent on requests that set none; default `userAgent()` */
  userAgent?: string;
  /**
   * ms without progress before a request is given up as dropped (`NetworkError` "dropped": it may have been
   * acted on, so only replay-safe requests are retried): waiting for the answer's headers (the clock restarts with
   * every body slice written, so a slow upload is not cut) and between chunks of the answer's body. Default
   * `DEFAULT_IDLE_TIMEOUT_MS`; undici's own default is 300 s.
   */
  idleTimeoutMs?: number;
}

/** Above Graph's own gateway timeout (about 100 s, then 504), well below undici's 300 s. */
export const DEFAULT_IDLE_TIMEOUT_MS = 120_000;

export interface FetchTransport {
  send: HttpTransport;
  /** closes pooled connections */
  close(): Promise<void>;
}

/** `body` as consecutive views of at most `size` bytes (no copy). */
export function* bodySlices(body: Uint8Array, size = BODY_SLICE): Generator<Uint8Array, void, undefined> {
  for (let at = 0; at < body.length; at += size) yield body.subarray(at, Math.min(at + size, body.length));
}

/** A streamed body's pieces, each cut into views of at most `size` bytes as above. */
export async function* streamedSlices(
  body: StreamedBody,
  size = BODY_SLICE,
): AsyncGenerator<Uint8Array, void, undefined> {
  for await (const piece of body.open()) yield* bodySlices(piece, size);
}

export function createFetchTransport(options: FetchTransportOptions = {}): FetchTransport {
  // `rejectUnauthorized` is set, not left to its default: Node's default reads NODE_TLS_REJECT_UNAUTHORIZED, and "0"
  // there would turn certificate checks off for every connection. Verification is never off.
  const tls = {
    rejectUnauthorized: true,
    ...(options.trustedCaPem === undefined
      ? {}
      : { secureContext: createSecureContext({ ca: [...rootCertificates, options.trustedCaPem] }) }),
  };
  const idle = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const timeouts = { headersTimeout: idle, bodyTimeout: idle };
  const direct = new Agent({ connect: tls, ...timeouts });
  const userAgent = options.userAgent ?? defaultUserAgent();
  const proxies = new Map<string, ProxyAgent>();
  const dispatcherFor = (url: URL): Dispatcher => {
    const proxy = options.proxy === undefined ? undefined : proxyFor(url, options.proxy);
    if (proxy === undefined) return direct;
    let agent = proxies.get(proxy);
    if (agent === undefined) {
      agent = new ProxyAgent({ uri: proxy, requestTls: tls, proxyTls: tls, ...timeouts });
      proxies.set(proxy, agent);
    }
    return agent;
  };

  const send = async (request: HttpRequest): Promise<HttpResponse> => {
    try {
      const url = new URL(request.url);
      const streamed = request.streamedBody;
      const sliced = typeof request.body !== "string" && request.body !== undefined && request.body.length > BODY_SLICE;
      const sent: Record<string, string> = { "user-agent": userAgent, ...request.headers };
      if (streamed !== undefined) sent["content-length"] = String(streamed.length);
      else if (sliced) sent["content-length"] = String(request.body!.length);
      // `request` never follows redirects: a token never goes to another host.
      const res = await dispatcherFor(url).request({
        origin: url.origin,
        path: url.pathname + url.search,
        method: request.method as Dispatcher.HttpMethod,
        headers: sent,
        // undici takes any iterable body at run time (writeIterable, waiting for 'drain'); its types name only Readable.
        body:
          streamed !== undefined
            ? (streamedSlices(streamed) as unknown as Dispatcher.DispatchOptions["body"])
            : sliced
              ? (bodySlices(request.body as Uint8Array) as unknown as Dispatcher.DispatchOptions["body"])
              : (request.body ?? null),
        signal: request.signal ?? null,
      });
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(res.headers)) {
        if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
      }
      const limit = request.maxResponseBytes;
      if (limit === undefined) return { status: res.statusCode, headers, bodyText: await res.body.text(), request };
      // Destroying the body makes undici emit an abort error: it is expected, not an uncaught exception.
      res.body.on("error", () => undefined);
      const declared = Number(headers["content-length"]);
      if (Number.isFinite(declared) && declared > limit) {
        res.body.destroy();
        throw new ResponseTooLargeError(url.host, limit, declared);
      }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > limit) {
          res.body.destroy();
          throw new ResponseTooLargeError(url.host, limit);
        }
        chunks.push(chunk);
      }
      return { status: res.statusCode, headers, bodyText: Buffer.concat(chunks, size).toString("utf8"), request };
    } catch (err) {
      if (err instanceof ResponseTooLargeError) throw err;
      // A streamed body's own failure (e.g. its file ended early): the caller's error, not the network's.
      if (err instanceof PublisherError && request.signal?.aborted !== true) throw err;
      const proxy = options.proxy === undefined ? undefined : proxyFor(new URL(request.url), options.proxy);
      throw toNetworkError(err, request, proxy);
    }
  };

  return {
    send,
    async close() {
      await Promise.all([direct.close(), ...[...proxies.values()].map((p) => p.close())]);
    },
  };
}
