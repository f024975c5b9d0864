/**
 * The transport for large downloads: one GET whose answer's body is handed over as a stream, on node:https / node:http
 * with the same rules as the main transport (transport.ts): TLS verification never off (`rejectUnauthorized: true`
 * whatever NODE_TLS_REJECT_UNAUTHORIZED says), an extra trusted CA parsed once into one SecureContext, HTTPS_PROXY /
 * HTTP_PROXY / NO_PROXY through proxy.ts (a CONNECT tunnel, as undici's ProxyAgent makes), an idle timeout, our
 * User-Agent.
 *
 * Not undici, measured (bench/README.md "download"): undici reads the socket with `socket.read()` (the whole buffer
 * concatenated) and copies each read into its WebAssembly parser's memory, which made a 256 MiB download use about
 * 20 % more CPU and 25-30 MiB more peak RSS than node:https, whose parser hands over views of the socket's chunks.
 * The CONNECT tunnel is a few lines of node:http; no library is needed for it.
 */
import type { Agent as HttpAgent, ClientRequest, IncomingMessage } from "node:http";
import { Agent as PlainAgent, request as httpRequest } from "node:http";
import { Agent as TlsAgent, request as httpsRequest } from "node:https";
import type { RequestOptions } from "node:https";
import { isIP } from "node:net";
import type { Socket } from "node:net";
import type { Duplex, Readable } from "node:stream";
import { connect as tlsConnect, createSecureContext, rootCertificates } from "node:tls";
import type { SecureContext } from "node:tls";
import { ProxyTunnelRefusedError, toNetworkError } from "./errors.js";
import { proxyFor } from "./proxy.js";
import type { FetchTransportOptions } from "./transport.js";
import type { HttpRequest } from "./types.js";
import { userAgent as defaultUserAgent } from "./user-agent.js";

/** An answer whose body is left unread: the caller reads `body` to its end or destroys it. */
export interface StreamedResponse {
  status: number;
  /** lower-case names */
  headers: Record<string, string>;
  body: Readable;
}

export interface StreamTransport {
  /**
   * Sends one request without following redirects. Errors before the answer are `NetworkError`s (or a cancelled
   * PublisherError); an error while reading `body` is node's: map it with `toNetworkError(err, request)`.
   */
  stream(request: HttpRequest): Promise<StreamedResponse>;
  /** closes pooled connections */
  close(): Promise<void>;
}

/** As transport.ts's DEFAULT_IDLE_TIMEOUT_MS (not imported: that module loads undici, which downloads do not use). */
const DEFAULT_IDLE_TIMEOUT_MS = 120_000;

const bare = (hostname: string): string => hostname.replace(/^\[|\]$/g, "");

/** Opens a CONNECT tunnel through `proxy` to host:port; resolves with the raw socket. */
function openTunnel(proxy: URL, host: string, port: number, secureContext: SecureContext | undefined): Promise<Socket> {
  const authority = `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
  const headers: Record<string, string> = { host: authority };
  if (proxy.username !== "" || proxy.password !== "") {
    const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
    headers["proxy-authorization"] = `Basic ${Buffer.from(credentials, "utf8").toString("base64")}`;
  }
  const options: RequestOptions = {
    host: bare(proxy.hostname),
    port: proxy.port === "" ? (proxy.protocol === "https:" ? 443 : 80) : Number(proxy.port),
    method: "CONNECT",
    path: authority,
    headers,
    agent: false,
  };
  return new Promise((resolve, reject) => {
    const req: ClientRequest =
      proxy.protocol === "https:"
        ? httpsRequest({ ...options, rejectUnauthorized: true, ...(secureContext ? { secureContext } : {}) })
        : httpRequest(options);
    req.once("connect", (res: IncomingMessage, socket: Socket, head: Buffer) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        reject(new ProxyTunnelRefusedError(res.statusCode ?? 0));
        return;
      }
      if (head.length > 0) socket.unshift(head);
      resolve(socket);
    });
    req.once("error", reject);
    req.end();
  });
}

/** Agents whose connections go through a CONNECT tunnel (TLS to the origin inside it for https). */
class TunnelTlsAgent extends TlsAgent {
  constructor(
    private readonly proxy: URL,
    private readonly secureContext: SecureContext | undefined,
  ) {
    super({ keepAlive: true, rejectUnauthorized: true, ...(secureContext ? { secureContext } : {}) });
  }

  override createConnection(
    options: RequestOptions,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    const host = bare(String(options.host ?? options.hostname ?? "localhost"));
    const port = Number(options.port ?? 443);
    openTunnel(this.proxy, host, port, this.secureContext).then(
      (socket) => {
        const tls = tlsConnect({
          socket,
          ...(isIP(host) === 0 ? { servername: host } : {}),
          rejectUnauthorized: true,
          ...(this.secureContext ? { secureContext: this.secureContext } : {}),
          ALPNProtocols: ["http/1.1"],
        });
        callback?.(null, tls);
      },
      (e: Error) => callback?.(e, undefined as unknown as Duplex),
    );
    return undefined;
  }
}

class TunnelPlainAgent extends PlainAgent {
  constructor(
    private readonly proxy: URL,
    private readonly secureContext: SecureContext | undefined,
  ) {
    super({ keepAlive: true });
  }

  override createConnection(
    options: RequestOptions,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    const host = bare(String(options.host ?? options.hostname ?? "localhost"));
    openTunnel(this.proxy, host, Number(options.port ?? 80), this.secureContext).then(
      (socket) => callback?.(null, socket),
      (e: Error) => callback?.(e, undefined as unknown as Duplex),
    );
    return undefined;
  }
}

export function createStreamTransport(options: FetchTransportOptions = {}): StreamTransport {
  // Never Node's default for rejectUnauthorized (it reads NODE_TLS_REJECT_UNAUTHORIZED): always true.
  const secureContext =
    options.trustedCaPem === undefined
      ? undefined
      : createSecureContext({ ca: [...rootCertificates, options.trustedCaPem] });
  const idle = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const userAgent = options.userAgent ?? defaultUserAgent();
  const direct = {
    https: new TlsAgent({ keepAlive: true, rejectUnauthorized: true, ...(secureContext ? { secureContext } : {}) }),
    http: new PlainAgent({ keepAlive: true }),
  };
  const tunnels = new Map<string, HttpAgent>();
  const agentFor = (url: URL): HttpAgent => {
    const proxy = options.proxy === undefined ? undefined : proxyFor(url, options.proxy);
    const secure = url.protocol === "https:";
    if (proxy === undefined) return secure ? direct.https : direct.http;
    const key = `${secure ? "s" : "p"} ${proxy}`;
    let agent = tunnels.get(key);
    if (agent === undefined) {
      agent = secure
        ? new TunnelTlsAgent(new URL(proxy), secureContext)
        : new TunnelPlainAgent(new URL(proxy), secureContext);
      tunnels.set(key, agent);
    }
    return agent;
  };

  const stream = (request: HttpRequest): Promise<StreamedResponse> =>
    new Promise<StreamedResponse>((resolve, reject) => {
      let url: URL;
      try {
        url = new URL(request.url);
      } catch (e) {
        reject(toNetworkError(e, request));
        return;
      }
      const send = url.protocol === "https:" ? httpsRequest : httpRequest;
      const req = send(url, {
        method: request.method,
        headers: { "user-agent": userAgent, ...request.headers },
        agent: agentFor(url),
        ...(request.signal ? { signal: request.signal } : {}),
        ...(url.protocol === "https:" ? { rejectUnauthorized: true, ...(secureContext ? { secureContext } : {}) } : {}),
      });
      // Idle, not total: the clock restarts with every chunk, so a slow but moving download is not cut.
      req.setTimeout(idle, () => {
        const e = Object.assign(new Error(`No data for ${idle} ms.`), { code: "ETIMEDOUT" });
        req.destroy(e);
      });
      req.once("response", (res: IncomingMessage) => {
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(res.headers)) {
          if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
        }
        resolve({ status: res.statusCode ?? 0, headers, body: res });
      });
      // The proxy used, so that a refused tunnel is named (without its password) as on Graph calls.
      const proxy = options.proxy === undefined ? undefined : proxyFor(url, options.proxy);
      req.on("error", (e) => reject(toNetworkError(e, request, proxy)));
      req.end(request.body ?? undefined);
    });

  return {
    stream,
    async close() {
      direct.https.destroy();
      direct.http.destroy();
      for (const agent of tunnels.values()) agent.destroy();
    },
  };
}
