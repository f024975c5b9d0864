/**
 * App-only Graph tokens through @azure/msal-node (docs/reference/entra-auth.md §5.6): one ConfidentialClientApplication
 * per profile, msal's in-memory cache, and a refresh ahead of expiry so that a long upload can ask for a token that
 * stays valid for as long as its next step needs. For hosts msal does not know (custom, local) it gets
 * `knownAuthorities` + `authorityMetadata`, so the only request is the token POST (§5.4).
 *
 * Errors become `AuthFailure` (AADSTS code → advice, Entra's correlation/trace ids kept), a `network` error
 * (with the TLS/connection cause msal hides), or a `config` error.
 */
import { AuthError as MsalAuthError, ConfidentialClientApplication, ServerError } from "@azure/msal-node";
import type { Configuration } from "@azure/msal-node";
import { aadstsCodeOf, adviceForAadsts } from "../../core/config/advice.js";
import type { Advice } from "../../core/config/advice.js";
import { authorityMetadataFor } from "../../core/config/clouds.js";
import type { Endpoints } from "../../core/config/clouds.js";
import { PublisherError } from "../../core/errors.js";
import type { ErrorKind } from "../../core/errors.js";
import type { CodeOfKind } from "../../core/error-codes.js";
import type { LoadedCredential } from "./credentials.js";
import type { TokenProvider as PipelineTokenProvider } from "../http/auth-policy.js";
import { logPolicy } from "../http/log-policy.js";
import { HttpPipeline } from "../http/pipeline.js";
import type { SecretRegistry } from "../http/redact.js";
import type { HttpLogger, HttpTransport } from "../http/types.js";
import { MsalNetworkClient } from "./msal-network.js";
import type { PresentedAssertion } from "./msal-network.js";

export interface AccessToken {
  /** the bearer token: never log or print it */
  token: string;
  expiresOn: Date;
  /** decoded `roles` claim (display and diagnosis only: §4.2) */
  roles: string[];
  /** decoded payload claims other than the signature; for display (tid, appid, appidacr, aud, exp) */
  claims: Record<string, unknown>;
  fromCache: boolean;
}

export interface GetTokenOptions {
  /** the token must stay valid this long; a cached one closer to expiry is replaced (default 300 s, msal's offset) */
  minValiditySeconds?: number;
  /** skip the cache (e.g. right after admin consent: §4.3) */
  forceRefresh?: boolean;
}

export interface TokenProvider {
  getToken(options?: GetTokenOptions): Promise<AccessToken>;
}

/** Our code for a refused sign-in, by the kind the advice gives (so the exit code stays the advice's). */
export const SIGN_IN_CODE: { readonly [K in ErrorKind]?: CodeOfKind<K> } = {
  auth: "SignInRefused",
  config: "SignInSettingsRejected",
  permission: "SignInConsentMissing",
  internal: "SignInRequestInvalid",
};

/** Entra refused to issue a token; carries the AADSTS code (`serviceCode`) and the ids a support case needs. */
export class AuthFailure extends PublisherError {
  readonly aadsts: number | undefined;
  readonly advice: Advice;
  readonly correlationId: string | undefined;
  readonly traceId: string | undefined;
  readonly timestamp: string | undefined;
  readonly errorCode: string;

  constructor(o: {
    advice: Advice;
    aadsts: number | undefined;
    errorCode: string;
    correlationId?: string | undefined;
    traceId?: string | undefined;
    timestamp?: string | undefined;
    cause?: unknown;
  }) {
    const serviceCode = o.aadsts === undefined ? o.errorCode || "unknown" : `AADSTS${o.aadsts}`;
    super(
      SIGN_IN_CODE[o.advice.kind] ?? "SignInRefused",
      `Entra ID refused to issue a token (${serviceCode}): ${o.advice.cause}`,
      {
        hint: o.advice.fix,
        cause: o.cause,
        serviceCode,
      },
    );
    this.name = "AuthFailure";
    this.aadsts = o.aadsts;
    this.advice = o.advice;
    this.correlationId = o.correlationId;
    this.traceId = o.traceId;
    this.timestamp = o.timestamp;
    this.errorCode = o.errorCode;
  }
}

/** base64url-decodes a JWT payload for display; the signature is not (and must not be) checked by a client (§1.5). */
export function decodeClaims(token: string): Record<string, unknown> {
  const part = token.split(".")[1];
  if (part === undefined) return {};
  try {
    const v = JSON.parse(Buffer.from(part, "base64url").toString("utf8")) as unknown;
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export interface TokenProviderOptions {
  clientId: string;
  endpoints: Endpoints;
  credential: LoadedCredential;
  /** the shared HTTP transport (CA trust, proxy) */
  transport: HttpTransport;
  /**
   * every token request and answer goes, redacted, through the log policy to it (as Graph calls do), so a sign-in
   * failure is in the run log with its AADSTS code; off when absent
   */
  logger?: HttpLogger | undefined;
  /** the run's registry: each access token received is added to it */
  secrets?: SecretRegistry | undefined;
}

export function createTokenProvider(o: TokenProviderOptions): TokenProvider {
  const { endpoints } = o;
  const auth: Configuration["auth"] = {
    clientId: o.clientId,
    authority: endpoints.authority,
    ...o.credential.msal,
  };
  if (!endpoints.wellKnownAuthority) {
    auth.knownAuthorities = [endpoints.authorityHostName];
    auth.authorityMetadata = authorityMetadataFor(endpoints.authorityHost);
  }
  const logged = o.logger === undefined ? undefined : new HttpPipeline(o.transport, [logPolicy({ logger: o.logger })]);
  const network = new MsalNetworkClient(logged === undefined ? o.transport : (request) => logged.send(request));
  const cca = new ConfidentialClientApplication({ auth, system: { networkClient: network } });
  const scopes = [endpoints.scope];

  async function acquire(skipCache: boolean): Promise<AccessToken> {
    network.lastFailure = undefined;
    let result;
    try {
      result = await cca.acquireTokenByClientCredential({ scopes, skipCache });
    } catch (e) {
      throw translateMsalError(e, network.lastFailure, network.lastAssertion);
    }
    if (!result?.accessToken) {
      throw new PublisherError("Internal", "msal returned no access token and no error.");
    }
    o.secrets?.add(result.accessToken);
    const claims = decodeClaims(result.accessToken);
    const roles = Array.isArray(claims["roles"])
      ? claims["roles"].filter((r): r is string => typeof r === "string")
      : [];
    return {
      token: result.accessToken,
      expiresOn: result.expiresOn ?? new Date(Number(claims["exp"] ?? 0) * 1000),
      roles,
      claims,
      fromCache: result.fromCache,
    };
  }

  return {
    async getToken(options = {}) {
      const minValidity = options.minValiditySeconds ?? 300;
      const t = await acquire(options.forceRefresh === true);
      if (t.expiresOn.getTime() - Date.now() >= minValidity * 1000 || !t.fromCache) return t;
      return acquire(true);
    },
  };
}

/** AADSTS codes for a federated token no federated credential matches. */
const FEDERATED_MISMATCH = new Set([70021, 700211, 700213]);

/** The advice with the issuer, subject and audience the token presented: what the federated credential must hold. */
function withPresented(advice: Advice, p: PresentedAssertion | undefined): Advice {
  if (p === undefined) return advice;
  const shown = `issuer '${p.issuer ?? "(none)"}', subject '${p.subject ?? "(none)"}', audience '${p.audience ?? "(none)"}'`;
  return {
    ...advice,
    cause: `${advice.cause} The token presented ${shown}.`,
    fix: `Add a federated credential with exactly ${shown} (or fix the workflow that writes the token). ${advice.fix}`,
  };
}

/**
 * msal error → our typed error (docs/reference/entra-errors.md §2.2: classify on errorNo, fall back to /AADSTS(\d+)/).
 */
export function translateMsalError(
  e: unknown,
  lastFailure: PublisherError | undefined,
  presented?: PresentedAssertion,
): PublisherError {
  if (lastFailure !== undefined && !(e instanceof ServerError)) return lastFailure;
  if (e instanceof ServerError) {
    const text = `${e.errorMessage ?? ""} ${e.message ?? ""}`;
    const code = aadstsCodeOf(e.errorNo, text);
    if (code === undefined) {
      // e.g. a locally repeated throttled request (§2.2): no code, no status
      return new AuthFailure({
        advice: {
          id: `msal.${e.errorCode || "server"}`,
          kind: "auth",
          cause: `Entra ID answered ${e.errorCode || "an error"}${e.status ? ` (HTTP ${e.status})` : ""}.`,
          fix:
            e.status !== undefined && (e.status === 429 || e.status >= 500)
              ? "Wait a minute and try again."
              : "Check the profile and try again.",
        },
        aadsts: undefined,
        errorCode: e.errorCode,
        correlationId: e.correlationId,
        cause: e,
      });
    }
    const traceId = /Trace ID: ([0-9a-f-]{36})/i.exec(text)?.[1];
    const timestamp = /Timestamp: ([0-9][0-9-]+ [0-9:.]+Z)/.exec(text)?.[1];
    return new AuthFailure({
      advice: FEDERATED_MISMATCH.has(code) ? withPresented(adviceForAadsts(code), presented) : adviceForAadsts(code),
      aadsts: code,
      errorCode: e.errorCode,
      correlationId: e.correlationId || undefined,
      traceId,
      timestamp,
      cause: e,
    });
  }
  if (e instanceof MsalAuthError) {
    if (e.errorCode === "network_error" || e.errorCode === "endpoints_resolution_error") {
      if (lastFailure) return lastFailure;
      return new PublisherError("NetworkFailure", `Cannot reach Entra ID (${e.errorCode}).`, {
        hint: "Check the network, the proxy settings (HTTPS_PROXY / NO_PROXY) and the authority host.",
        cause: e,
      });
    }
    if (e.name === "ClientConfigurationError" || /authority|tenant|credential|certificate/i.test(e.errorCode)) {
      return new PublisherError("InvalidConfiguration", `msal rejected the configuration: ${e.errorCode}.`, {
        hint: "Check the authority host (https only), the tenant (not common/organizations) and the credential.",
        cause: e,
      });
    }
    return new PublisherError("SignInFailed", `Sign-in failed: ${e.errorCode}.`, {
      hint: "Run `intune-publisher connect test --output json` for details.",
      cause: e,
      serviceCode: e.errorCode || "AuthError",
    });
  }
  if (e instanceof PublisherError) return e;
  return new PublisherError("Internal", `Unexpected sign-in failure: ${(e as Error)?.message ?? String(e)}`, {
    cause: e,
  });
}

/** Our provider as the HTTP pipeline's bearer-token source (src/clients/http/auth-policy.ts). */
export function pipelineTokenProvider(provider: TokenProvider): PipelineTokenProvider {
  return {
    async getToken(_signal, options) {
      const t = await provider.getToken({ forceRefresh: options?.forceRefresh === true });
      return { token: t.token, expiresOn: t.expiresOn.getTime() };
    },
  };
}
