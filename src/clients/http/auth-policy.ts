/**
 * Bearer tokens (docs/reference/entra-errors.md §2.3, docs/reference/graph-conventions.md §6.1). The provider
 * (msal-node behind it) is the only auth seam; this policy caches its token until shortly before expiry and, on a 401
 * `InvalidAuthenticationToken` that says the token expired, gets a fresh one once and replays the request.
 */
import { PublisherError } from "../../core/errors.js";
import type { Clock, HttpPolicy, HttpRequest, HttpResponse } from "./types.js";

export interface AccessToken {
  token: string;
  /** ms since the epoch */
  expiresOn: number;
}

export interface TokenProvider {
  /** `forceRefresh`: skip any cache (the last token was refused as expired). */
  getToken(signal: AbortSignal | undefined, options?: { forceRefresh?: boolean }): Promise<AccessToken>;
}

export interface BearerTokenPolicyOptions {
  clock?: Clock;
  /** a cached token is replaced this long before it expires; default 5 minutes */
  refreshMarginMs?: number;
}

const LOOPBACK = new Set(["127.0.0.1", "[::1]", "localhost"]);

/** Graph's messages for an expired or not-yet-valid token (§2.3). */
const EXPIRED_MESSAGE = /expired|lifetime validation/i;

function expiredTokenError(response: HttpResponse): boolean {
  if (response.status !== 401) return false;
  try {
    const body = JSON.parse(response.bodyText) as { error?: { code?: unknown; message?: unknown } };
    return (
      body.error?.code === "InvalidAuthenticationToken" &&
      typeof body.error.message === "string" &&
      EXPIRED_MESSAGE.test(body.error.message)
    );
  } catch {
    return false;
  }
}

export function bearerTokenPolicy(provider: TokenProvider, options: BearerTokenPolicyOptions = {}): HttpPolicy {
  const clock = options.clock ?? Date.now;
  const margin = options.refreshMarginMs ?? 5 * 60_000;
  let cached: AccessToken | undefined;
  let pending: Promise<AccessToken> | undefined;

  // One provider call at a time; concurrent requests share it.
  const fetchToken = (signal: AbortSignal | undefined, forceRefresh: boolean): Promise<AccessToken> => {
    pending ??= provider.getToken(signal, { forceRefresh }).then(
      (t) => {
        cached = t;
        pending = undefined;
        return t;
      },
      (err: unknown) => {
        pending = undefined;
        throw err;
      },
    );
    return pending;
  };
  const token = async (signal: AbortSignal | undefined): Promise<AccessToken> =>
    cached !== undefined && cached.expiresOn - margin > clock() ? cached : fetchToken(signal, false);
  const withToken = (request: HttpRequest, t: AccessToken): HttpRequest => ({
    ...request,
    headers: { ...request.headers, authorization: `Bearer ${t.token}` },
  });

  return {
    name: "bearerToken",
    async send(request, next) {
      const url = new URL(request.url);
      if (url.protocol !== "https:" && !LOOPBACK.has(url.hostname))
        throw new PublisherError("InsecureTokenUrl", `Refusing to send a token over plain HTTP to ${url.host}.`, {
          hint: "Use an https:// Graph URL.",
        });
      const sent = await token(request.signal);
      const response = await next(withToken(request, sent));
      if (!expiredTokenError(response)) return response;
      // Another request may already have replaced the refused token; force a refresh only if not.
      const fresh =
        cached !== undefined && cached.token !== sent.token ? cached : await fetchToken(request.signal, true);
      return next(withToken(request, fresh));
    },
  };
}
