/**
 * The transport for large downloads: one GET whose answer's body is handed over as a stream, on our own HTTP/1.1
 * reader, with the same rules as the main transport (transport.ts): TLS verification never off
 * (`rejectUnauthorized: true` whatever NODE_TLS_REJECT_UNAUTHORIZED says), an extra trusted CA parsed once into one SecureContext, HTTPS_PROXY /
 * HTTP_PROXY / NO_PROXY through proxy.ts (a CONNECT tunnel, as undici's ProxyAgent makes), an idle timeout, our
 * User-Agent.
 *
 * Not undici, measured (bench/README.md "download"): undici reads the socket with `socket.read()` (the whole buffer
 * concatenated) and copies each read into its WebAssembly parser's memory, which made a 256 MiB download use about
 * 20 % more CPU and 25-30 MiB more peak RSS than node:https, whose parser hands over views of the socket's chunks.
 * The CONNECT tunnel is a few lines of node:http; no library is needed for it.
 *
 * Not node:https either since 2026-12-04 (measured, bench/README.md "Where the CPU goes"): its parser and
 * IncomingMessage cost ≈ 0.8 CPU-s per GiB. The request and answer are read and written here (raw-get.ts) on the TLS
 * (or plain, or tunnelled) socket: one request per connection, strict bounded heads, Content-Length, chunked and
 * close-delimited bodies, the socket's chunks handed on as they come.
 */
import type { ClientRequest, IncomingMessage } from "node:http";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import type { RequestOptions } from "node:https";
import { connect as netConnect, isIP } from "node:net";
import type { Socket } from "node:net";
import type { Readable } from "node:stream";
import { connect as tlsConnect, createSecureContext, rootCertificates } from "node:tls";
import type { SecureContext } from "node:tls";
import { abortError, ProxyTunnelRefusedError, toNetworkError } from "./errors.js";
import { proxyFor } from "./proxy.js";
import { rawExchange, requestHead } from "./raw-get.js";
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

export function createStreamTransport(options: FetchTransportOptions = {}): StreamTransport {
  // Never Node's default for rejectUnauthorized (it reads NODE_TLS_REJECT_UNAUTHORIZED): always true.
  const secureContext =
    options.trustedCaPem === undefined
      ? undefined
      : createSecureContext({ ca: [...rootCertificates, options.trustedCaPem] });
  const idle = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const userAgent = options.userAgent ?? defaultUserAgent();
  const open = new Set<Socket>();

  /** The connection to the URL's host: direct or through a CONNECT tunnel, TLS inside for https (name checked). */
  const connectTo = async (url: URL, proxy: string | undefined): Promise<Socket> => {
    const host = bare(url.hostname);
    const secure = url.protocol === "https:";
    const port = url.port === "" ? (secure ? 443 : 80) : Number(url.port);
    const tunnel = proxy === undefined ? undefined : await openTunnel(new URL(proxy), host, port, secureContext);
    if (!secure) return tunnel ?? netConnect({ host, port });
    // `host` also names the certificate's expected identity (checkServerIdentity) when the socket is a tunnel.
    const tls = tlsConnect({
      ...(tunnel === undefined ? { port } : { socket: tunnel }),
      host,
      ...(isIP(host) === 0 ? { servername: host } : {}),
      rejectUnauthorized: true,
      ...(secureContext ? { secureContext } : {}),
      ALPNProtocols: ["http/1.1"],
    });
    // Destroying the TLS socket leaves the tunnel's socket open (a proxy would keep the tunnel): end it too.
    if (tunnel !== undefined) tls.once("close", () => tunnel.destroy());
    return tls;
  };

  const stream = async (request: HttpRequest): Promise<StreamedResponse> => {
    let url: URL;
    try {
      url = new URL(request.url);
      if (url.protocol !== "https:" && url.protocol !== "http:")
        throw new Error(`${url.protocol} URLs are not supported (only https: and http:)`);
    } catch (e) {
      throw toNetworkError(e, request);
    }
    // The proxy used, so that a refused tunnel is named (without its password) as on Graph calls.
    const proxy = options.proxy === undefined ? undefined : proxyFor(url, options.proxy);
    const signal = request.signal;
    if (signal?.aborted) throw abortError(signal);
    const headers: Record<string, string> = { host: url.host, "user-agent": userAgent };
    for (const [name, value] of Object.entries(request.headers)) headers[name.toLowerCase()] = value;
    headers.connection = "close";
    if (request.body !== undefined) headers["content-length"] = String(Buffer.byteLength(request.body));
    let head: string;
    try {
      head = requestHead(request.method, url, headers);
    } catch (e) {
      throw toNetworkError(e, request);
    }
    let socket: Socket | undefined;
    let onAbort: (() => void) | undefined;
    try {
      const connecting = connectTo(url, proxy);
      if (signal !== undefined) {
        const aborted = new Promise<never>((_, reject) => {
          onAbort = () => {
            if (socket === undefined)
              connecting.then(
                (late) => late.destroy(),
                () => undefined,
              );
            socket?.destroy(abortError(signal));
            reject(abortError(signal));
          };
          signal.addEventListener("abort", onAbort, { once: true });
        });
        aborted.catch(() => undefined);
        socket = await Promise.race([connecting, aborted]);
      } else socket = await connecting;
      const s = socket;
      open.add(s);
      s.once("close", () => {
        open.delete(s);
        if (onAbort !== undefined) signal?.removeEventListener("abort", onAbort);
      });
      // Idle, not total: the clock restarts with every chunk, so a slow but moving download is not cut.
      s.setTimeout(idle, () => s.destroy(Object.assign(new Error(`No data for ${idle} ms.`), { code: "ETIMEDOUT" })));
      const answer = await rawExchange(s, request.method, head, request.body);
      return { status: answer.status, headers: answer.headers, body: answer.body };
    } catch (e) {
      socket?.destroy();
      if (onAbort !== undefined && socket === undefined) signal?.removeEventListener("abort", onAbort);
      throw toNetworkError(e, request, proxy);
    }
  };

  return {
    stream,
    async close() {
      for (const socket of open) socket.destroy();
      open.clear();
    },
  };
}
