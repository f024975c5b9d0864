/**
 * msal-node's `system.networkClient` (docs/reference/entra-auth.md §5.4) over the shared HTTP transport
 * (src/clients/http/transport.ts: extra CA trust, proxy, never disabling verification). msal turns any thrown error
 * into a bare `network_error` and loses the TLS or connection cause (docs/reference/entra-errors.md §2.2), so the last
 * failure is kept here and `explainNetworkError` restates it with advice.
 */
import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from "@azure/msal-node";
import { adviceForNetworkError } from "../../core/config/advice.js";
import { PublisherError } from "../../core/errors.js";
import { NetworkError, PROXY_CODE } from "../http/errors.js";
import type { HttpMethod, HttpTransport } from "../http/types.js";

/**
 * A network or TLS failure restated with our advice (the Node code decides: untrusted CA, DNS, refused…). The
 * advice id (`tls.untrusted`, `net.dns`…, a troubleshooting heading) stands as `serviceCode`, which is what
 * `connect test --output json` prints as `code`.
 */
export function explainNetworkError(e: unknown, url: string): PublisherError | undefined {
  if (!(e instanceof NetworkError)) return undefined;
  // a proxy that refused the tunnel: its own message and hint already say which proxy and what it answered
  if (e.causeCode !== undefined && PROXY_CODE.test(e.causeCode))
    return new PublisherError("NetworkError", e.message, { hint: e.hint, cause: e, serviceCode: "net.proxy" });
  const advice = adviceForNetworkError(e.causeCode, new URL(url).host);
  return new PublisherError(advice.id.startsWith("tls.") ? "TlsUntrusted" : "NetworkError", advice.cause, {
    hint: advice.fix,
    cause: e,
    serviceCode: advice.id,
  });
}

/** The claims of a client assertion that say who presented it (none is secret); the assertion itself never leaves. */
export interface PresentedAssertion {
  issuer: string | undefined;
  subject: string | undefined;
  audience: string | undefined;
}

/** iss, sub and aud of the `client_assertion` in a token request's form body, decoded without checking the signature. */
export function presentedAssertion(body: string | undefined): PresentedAssertion | undefined {
  if (body === undefined) return undefined;
  const assertion = new URLSearchParams(body).get("client_assertion");
  const part = assertion?.split(".")[1];
  if (part === undefined) return undefined;
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
  } catch {
    return undefined;
  }
  if (typeof claims !== "object" || claims === null) return undefined;
  const c = claims as Record<string, unknown>;
  const text = (v: unknown): string | undefined =>
    typeof v === "string" ? v : Array.isArray(v) && v.every((x) => typeof x === "string") ? v.join(", ") : undefined;
  return { issuer: text(c["iss"]), subject: text(c["sub"]), audience: text(c["aud"]) };
}

export class MsalNetworkClient implements INetworkModule {
  /** the last transport failure, so a wrapped msal `network_error` can be explained */
  lastFailure: PublisherError | undefined;
  /** who the last client assertion sent said it was (a federated mismatch names it) */
  lastAssertion: PresentedAssertion | undefined;

  constructor(private readonly transport: HttpTransport) {}

  sendGetRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.send<T>("GET", url, options);
  }

  sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.send<T>("POST", url, options);
  }

  private async send<T>(method: HttpMethod, url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(options?.headers ?? {})) headers[k.toLowerCase()] = v;
    if (method === "POST") this.lastAssertion = presentedAssertion(options?.body);
    let r;
    try {
      r = await this.transport({
        method,
        url,
        headers,
        ...(options?.body === undefined ? {} : { body: options.body }),
      });
    } catch (e) {
      this.lastFailure = explainNetworkError(e, url) ?? (e instanceof PublisherError ? e : undefined);
      throw e;
    }
    let body: unknown;
    try {
      body = JSON.parse(r.bodyText || "{}");
    } catch {
      // msal's own client turns non-JSON error bodies into client_error / server_error (docs/reference/entra-auth.md
      // §5.4)
      body =
        r.status >= 400
          ? { error: r.status >= 500 ? "server_error" : "client_error", error_description: `HTTP ${r.status}` }
          : {};
    }
    return { headers: r.headers, body: body as T, status: r.status };
  }
}
