/**
 * The wire: undici's `request` on an Agent that trusts an extra CA, or a ProxyAgent per proxy URL. TLS
 * verification is never turned off. Not `fetch`: it copies every body through a web stream, which made 8 MiB
 * block uploads a third as fast as node:https (bench/README.md, "Upload and publish").
 */
import { createSecureContext, rootCertificates } from "node:tls";
import { Agent, ProxyAgent } from "undici";
import type { Dispatcher } from "undici";
import { toNetworkError } from "./errors.js";
import { proxyFor } from "./proxy.js";
import type { ProxySettings } from "./proxy.js";
import type { HttpRequest, HttpResponse, HttpTransport } from "./types.js";

export interface FetchTransportOptions {
  /**
   * PEM of CA certificates to trust in addition to Node's bundled roots (the local tenant's ca.pem, a TLS-inspecting
   * proxy's CA). When given, NODE_EXTRA_CA_CERTS no longer applies to these connections.
   */
  trustedCaPem?: string;
  proxy?: ProxySettings;
}

export interface FetchTransport {
  send: HttpTransport;
  /** closes pooled connections */
  close(): Promise<void>;
}

export function createFetchTransport(options: FetchTransportOptions = {}): FetchTransport {
  const EXP_CTX = process.env["EXP_CTX"] === "1";
  const EXP_CHUNK = Number(process.env["EXP_CHUNK"] ?? "0");
  const tls =
    options.trustedCaPem === undefined
      ? {}
      : EXP_CTX
        ? { secureContext: createSecureContext({ ca: [...rootCertificates, options.trustedCaPem] }) }
        : { ca: [...rootCertificates, options.trustedCaPem] };
  const direct = new Agent({ connect: tls });
  const proxies = new Map<string, ProxyAgent>();
  const dispatcherFor = (url: URL): Dispatcher => {
    const proxy = options.proxy === undefined ? undefined : proxyFor(url, options.proxy);
    if (proxy === undefined) return direct;
    let agent = proxies.get(proxy);
    if (agent === undefined) {
      agent = new ProxyAgent({ uri: proxy, requestTls: tls, proxyTls: tls });
      proxies.set(proxy, agent);
    }
    return agent;
  };

  const send = async (request: HttpRequest): Promise<HttpResponse> => {
    try {
      const url = new URL(request.url);
      // `request` never follows redirects: a token never goes to another host.
      const res = await dispatcherFor(url).request({
        origin: url.origin,
        path: url.pathname + url.search,
        method: request.method as Dispatcher.HttpMethod,
        headers:
          EXP_CHUNK > 0 && request.body instanceof Uint8Array && request.body.length > EXP_CHUNK
            ? { ...request.headers, "content-length": String(request.body.length) }
            : request.headers,
        body: (EXP_CHUNK > 0 && request.body instanceof Uint8Array && request.body.length > EXP_CHUNK
            ? slices(request.body, EXP_CHUNK)
            : (request.body ?? null)) as Dispatcher.RequestOptions["body"],
        signal: request.signal ?? null,
      });
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(res.headers)) {
        if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
      }
      return { status: res.statusCode, headers, bodyText: await res.body.text(), request };
    } catch (err) {
      throw toNetworkError(err, request);
    }
  };

  return {
    send,
    async close() {
      await Promise.all([direct.close(), ...[...proxies.values()].map((p) => p.close())]);
    },
  };
}

function* slices(body: Uint8Array, size: number): Generator<Uint8Array> {
  for (let i = 0; i < body.length; i += size) yield body.subarray(i, Math.min(i + size, body.length));
}
