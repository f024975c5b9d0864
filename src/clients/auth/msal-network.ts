/**
 * msal-node's `system.networkClient` (docs/reference/entra-auth.md §5.4) over the shared HTTP transport
 * (src/clients/http/transport.ts: extra CA trust, proxy, never disabling verification). msal turns any thrown error
 * into a bare `network_error` and loses the TLS or connection cause (docs/reference/entra-errors.md §2.2), so the last
 * failure is kept here and `explainNetworkError` restates it with advice.
 */
import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from "@azure/msal-node";
import { adviceForNetworkError } from "../../core/config/advice.js";
import { PublisherError } from "../../core/errors.js";
import { NetworkError } from "../http/errors.js";
import type { HttpMethod, HttpTransport } from "../http/types.js";

/**
 * A network or TLS failure restated with our advice (the Node code decides: untrusted CA, DNS, refused…). The
 * advice id (`tls.untrusted`, `net.dns`…, a troubleshooting heading) stands as `serviceCode`, which is what
 * `connect test --output json` prints as `code`.
 */
export function explainNetworkError(e: unknown, url: string): PublisherError | undefined {
  if (!(e instanceof NetworkError)) return undefined;
  const advice = adviceForNetworkError(e.causeCode, new URL(url).host);
  return new PublisherError(advice.id.startsWith("tls.") ? "TlsUntrusted" : "NetworkError", advice.cause, {
    hint: advice.fix,
    cause: e,
    serviceCode: advice.id,
  });
}

export class MsalNetworkClient implements INetworkModule {
  /** the last transport failure, so a wrapped msal `network_error` can be explained */
  lastFailure: PublisherError | undefined;

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
