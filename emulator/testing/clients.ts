/**
 * Test support: HTTP clients that trust the local tenant's CA explicitly (no NODE_EXTRA_CA_CERTS, never
 * rejectUnauthorized: false) and record every URL they are asked for, so tests can prove nothing leaves 127.0.0.1.
 */
import { request } from "node:https";
import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from "@azure/msal-node";

export interface RecordedCall {
  method: string;
  url: string;
}

/** Refuses any host but 127.0.0.1 (throws before connecting) and records each call. */
export class CallLog {
  readonly calls: RecordedCall[] = [];
  check(method: string, url: string): void {
    this.calls.push({ method, url });
    const host = new URL(url).hostname;
    if (host !== "127.0.0.1")
      throw new Error(`Blocked a request to ${host}: tests may only call 127.0.0.1 (${method} ${url}).`);
  }
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
}

/** One HTTPS request trusting `ca` only. */
export function httpsRequest(
  ca: string,
  log: CallLog,
  method: string,
  url: string,
  headers: Record<string, string> = {},
  body?: string | Buffer,
): Promise<RawResponse> {
  log.check(method, url);
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, ca }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const flat: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) {
          if (v !== undefined) flat[k] = Array.isArray(v) ? v.join(", ") : v;
        }
        resolve({ status: res.statusCode ?? 0, headers: flat, text: Buffer.concat(chunks).toString("utf8") });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/**
 * msal-node `system.networkClient` (docs/reference/entra-auth.md §5.4): trusts `ca`, returns 4xx/5xx JSON without
 * throwing.
 */
export class TrustingNetworkClient implements INetworkModule {
  constructor(
    private readonly ca: string,
    readonly log: CallLog = new CallLog(),
  ) {}

  sendGetRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.send<T>("GET", url, options);
  }

  sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.send<T>("POST", url, options);
  }

  private async send<T>(method: string, url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    const r = await httpsRequest(this.ca, this.log, method, url, options?.headers ?? {}, options?.body);
    return { headers: r.headers, body: JSON.parse(r.text || "{}") as T, status: r.status };
  }
}

/**
 * A `fetch` for clients that take one (the Graph JS client): trusts `ca` only, records calls, refuses other hosts.
 * Implemented over node:https so no global dispatcher or environment variable is touched.
 */
export function trustingFetch(ca: string, log: CallLog = new CallLog()): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const method = init?.method ?? (input instanceof Request ? input.method : "GET");
    const headers: Record<string, string> = {};
    new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined)).forEach((v, k) => {
      headers[k] = v;
    });
    let body: string | Buffer | undefined;
    if (typeof init?.body === "string") body = init.body;
    else if (init?.body instanceof ArrayBuffer || ArrayBuffer.isView(init?.body))
      body = Buffer.from(init.body as ArrayBuffer);
    else if (init?.body !== undefined && init.body !== null)
      body = Buffer.from(await new Response(init.body).arrayBuffer());
    if (body !== undefined) headers["content-length"] = String(Buffer.byteLength(body));
    const r = await httpsRequest(ca, log, method, url, headers, body);
    const nullBody = r.status === 204 || r.status === 304;
    return new Response(nullBody ? null : r.text, { status: r.status, headers: r.headers });
  }) as typeof fetch;
}
