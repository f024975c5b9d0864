/**
 * The wire: undici's fetch (the same code as Node's global fetch, pinned so we can pass a dispatcher) with an
 * Agent that trusts an extra CA, and a ProxyAgent per proxy URL. TLS verification is never turned off.
 */
import { rootCertificates } from "node:tls";
import { Agent, fetch, ProxyAgent } from "undici";
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
  const tls = options.trustedCaPem === undefined ? {} : { ca: [...rootCertificates, options.trustedCaPem] };
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
      const res = await fetch(request.url, {
        method: request.method,
        headers: request.headers,
        body: request.body ?? null,
        signal: request.signal ?? null,
        dispatcher: dispatcherFor(new URL(request.url)),
        // A redirect is returned, not followed, so a token never goes to another host.
        redirect: "manual",
      });
      const headers: Record<string, string> = {};
      res.headers.forEach((value, name) => (headers[name] = value));
      return { status: res.status, headers, bodyText: await res.text(), request };
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
