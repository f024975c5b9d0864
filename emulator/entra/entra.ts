/**
 * Entra ID v2.0 endpoints for client credentials: token, OIDC discovery, JWKS.
 * Rules and texts: docs/reference/entra-auth.md §1 (request, claims, error shape), docs/reference/entra-errors.md §2.1
 * (AADSTS table), docs/reference/graph-conventions.md §7 (contract).
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Clock } from "../clock.js";
import type { AppEntry, Directory, TenantEntry } from "../directory.js";
import { readBody, sendJson } from "../http.js";
import { decodeJwt, signJwtRs256, verifyJwtSignature } from "../jwt.js";
import type { DecodedJwt } from "../jwt.js";
import type { Pki } from "../pki.js";

/** Graph's resource identifiers: the `aud` of its tokens and the accepted `scope` resources (§1.5). */
export const GRAPH_AUDIENCE = "https://graph.microsoft.com";
export const GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000";
const ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

export interface EntraOptions {
  directory: Directory;
  pki: Pki;
  clock: Clock;
  /** https://127.0.0.1:PORT, known once the server listens */
  origin: () => string;
  /** `expires_in` of issued tokens; keep > 300 or msal never caches (docs/reference/entra-auth.md §5.2) */
  tokenLifetimeSeconds: number;
  /** tolerated clock skew on assertion nbf/exp (not documented by Microsoft: §8) */
  assertionSkewSeconds: number;
}

export interface IssueTokenInput {
  tenantId: string;
  clientId: string;
  displayName: string;
  servicePrincipalId: string;
  roles: string[];
  /** "1" secret, "2" certificate (§1.5) */
  appidacr: "1" | "2";
  lifetimeSeconds?: number;
  /** override for negative tests */
  audience?: string;
  /** override for negative tests (default `https://sts.windows.net/{tid}/`) */
  issuer?: string;
  notBefore?: number;
}

type AssertionProblem = { error: string; code: number; text: string };

export class Entra {
  constructor(private readonly o: EntraOptions) {}

  /** Signs an app-only Graph token with the claims of §1.5 / §7 (`roles` omitted when none are consented). */
  issueAccessToken(t: IssueTokenInput): { token: string; expiresIn: number } {
    const now = Math.floor(this.o.clock.now() / 1000);
    const expiresIn = t.lifetimeSeconds ?? this.o.tokenLifetimeSeconds;
    const sts = `https://sts.windows.net/${t.tenantId}/`;
    const payload: Record<string, unknown> = {
      aud: t.audience ?? GRAPH_AUDIENCE,
      iss: t.issuer ?? sts,
      iat: now,
      nbf: t.notBefore ?? now,
      exp: now + expiresIn,
      app_displayname: t.displayName,
      appid: t.clientId,
      appidacr: t.appidacr,
      idp: sts,
      idtyp: "app",
      oid: t.servicePrincipalId,
      rh: randomUUID(),
      sub: t.servicePrincipalId,
      tid: t.tenantId,
      uti: Buffer.from(randomUUID().replace(/-/g, ""), "hex").toString("base64url"),
      ver: "1.0",
    };
    if (t.roles.length > 0) payload["roles"] = [...t.roles];
    const token = signJwtRs256(
      { typ: "JWT", x5t: this.o.pki.signingKid, kid: this.o.pki.signingKid },
      payload,
      this.o.pki.signingKey,
    );
    return { token, expiresIn };
  }

  /** Handles `/{tenant}/…` Entra routes; false when the path is not one of them. */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    const m =
      /^\/([^/]+)\/(oauth2\/v2\.0\/token|v2\.0\/\.well-known\/openid-configuration|discovery\/v2\.0\/keys)$/.exec(
        url.pathname,
      );
    if (!m) return false;
    const [, segment = "", route] = m;
    const correlationId =
      url.searchParams.get("client-request-id") ?? req.headers["client-request-id"]?.toString() ?? randomUUID();
    const lookup = this.o.directory.resolveTenant(segment);
    const tenantText = lookup.kind === "invalid" ? segment : decodeURIComponent(segment);
    if (lookup.kind === "invalid") {
      this.error(
        res,
        correlationId,
        "invalid_request",
        900023,
        `Specified tenant identifier '${tenantText}' is neither a valid DNS name, nor a valid external domain.`,
      );
      return true;
    }
    if (lookup.kind === "notFound") {
      this.error(
        res,
        correlationId,
        "invalid_tenant",
        90002,
        `Tenant '${tenantText}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`,
      );
      return true;
    }
    if (route === "oauth2/v2.0/token") {
      if (req.method !== "POST") return this.methodNotAllowed(res, correlationId);
      if (lookup.kind === "multiTenant") {
        this.error(
          res,
          correlationId,
          "invalid_request",
          9001023,
          "The grant type is not supported over the /common or /consumers endpoints. Please use the /organizations or tenant-specific endpoint.",
        );
        return true;
      }
      await this.token(req, res, lookup.tenant, segment, correlationId);
      return true;
    }
    if (req.method !== "GET") return this.methodNotAllowed(res, correlationId);
    if (lookup.kind === "multiTenant") {
      sendJson(res, 404, undefined);
      return true;
    }
    if (route === "discovery/v2.0/keys") sendJson(res, 200, this.jwks());
    else sendJson(res, 200, this.openIdConfiguration(lookup.tenant));
    return true;
  }

  /**
   * OIDC document; `issuer` on the emulator's own origin, as msal 7 validates it (docs/reference/entra-auth.md §5.7).
   */
  openIdConfiguration(tenant: TenantEntry): Record<string, unknown> {
    const base = `${this.o.origin()}/${tenant.id}`;
    return {
      token_endpoint: `${base}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ["client_secret_post", "private_key_jwt", "client_secret_basic"],
      jwks_uri: `${base}/discovery/v2.0/keys`,
      response_modes_supported: ["query", "fragment", "form_post"],
      subject_types_supported: ["pairwise"],
      id_token_signing_alg_values_supported: ["RS256"],
      response_types_supported: ["code", "id_token", "code id_token", "id_token token"],
      scopes_supported: ["openid", "profile", "email", "offline_access"],
      issuer: `${base}/v2.0`,
      request_uri_parameter_supported: false,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      tenant_region_scope: "NA",
      cloud_instance_name: "local",
    };
  }

  jwks(): { keys: Record<string, unknown>[] } {
    const jwk = this.o.pki.signingPublicKey.export({ format: "jwk" });
    return {
      keys: [{ kty: "RSA", use: "sig", kid: this.o.pki.signingKid, x5t: this.o.pki.signingKid, n: jwk.n, e: jwk.e }],
    };
  }

  private methodNotAllowed(res: ServerResponse, correlationId: string): true {
    this.error(
      res,
      correlationId,
      "invalid_request",
      900561,
      "The endpoint only accepts POST requests. Received a GET request.",
      405,
    );
    return true;
  }

  private async token(
    req: IncomingMessage,
    res: ServerResponse,
    tenant: TenantEntry,
    segment: string,
    correlationId: string,
  ): Promise<void> {
    const form = new URLSearchParams((await readBody(req, 1024 * 1024)).toString("utf8"));
    // client_secret_basic is allowed as well as the form field (§1.2, Microsoft's client-credentials doc).
    const basic = /^Basic\s+(.+)$/i.exec(req.headers.authorization ?? "");
    if (basic?.[1]) {
      const [id, secret] = Buffer.from(basic[1], "base64").toString("utf8").split(":", 2);
      if (id !== undefined && !form.has("client_id")) form.set("client_id", decodeURIComponent(id));
      if (secret !== undefined && !form.has("client_secret")) form.set("client_secret", decodeURIComponent(secret));
    }
    const err = (error: string, code: number, text: string): void => this.error(res, correlationId, error, code, text);
    for (const p of ["grant_type", "client_id"]) {
      if (!form.get(p))
        return err("invalid_request", 900144, `The request body must contain the following parameter: '${p}'.`);
    }
    const grantType = form.get("grant_type") ?? "";
    if (grantType !== "client_credentials") {
      return err("unsupported_grant_type", 70003, `The app requested an unsupported grant type '${grantType}'.`);
    }
    const scope = form.get("scope");
    if (!scope) {
      return err(
        "invalid_request",
        90014,
        "The required field 'scope' is missing from the credential. Ensure that you have all the necessary parameters for the login request.",
      );
    }
    const scopes = scope.trim().split(/\s+/);
    const first = scopes[0] ?? "";
    if (!first.endsWith("/.default")) {
      return err(
        "invalid_scope",
        1002012,
        `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
      );
    }
    if (scopes.length > 1) {
      return err(
        "invalid_scope",
        70011,
        `The provided value for the input parameter 'scope' is not valid. The scope ${scope} is not valid.`,
      );
    }
    const resource = first.slice(0, -"/.default".length).replace(/\/+$/, "");
    if (resource.toLowerCase() !== GRAPH_AUDIENCE && resource.toLowerCase() !== GRAPH_APP_ID) {
      return err(
        "invalid_resource",
        500011,
        `The resource principal named ${resource} was not found in the tenant named ${tenant.displayName}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
      );
    }
    const clientId = form.get("client_id") ?? "";
    const app = this.o.directory.app(tenant.id, clientId);
    if (!app) {
      return err(
        "unauthorized_client",
        700016,
        `Application with identifier '${clientId}' was not found in the directory '${tenant.displayName}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
      );
    }
    if (!app.registration.enabled) {
      return err(
        "unauthorized_client",
        7000112,
        `Application '${app.registration.clientId}'(${app.registration.displayName}) is disabled.`,
      );
    }
    const secret = form.get("client_secret");
    const assertion = form.get("client_assertion");
    let appidacr: "1" | "2";
    if (secret !== null) {
      const now = this.o.clock.now();
      const matching = app.registration.secrets.filter((s) => s.value === secret);
      if (matching.length === 0) {
        return err(
          "invalid_client",
          7000215,
          `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.registration.clientId}'.`,
        );
      }
      if (matching.every((s) => s.expiresOn !== undefined && Date.parse(s.expiresOn) <= now)) {
        return err(
          "invalid_client",
          7000222,
          `The provided client secret keys for app '${app.registration.clientId}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.`,
        );
      }
      appidacr = "1";
    } else if (assertion !== null) {
      if (form.get("client_assertion_type") !== ASSERTION_TYPE) {
        return err(
          "invalid_request",
          900144,
          "The request body must contain the following parameter: 'client_assertion_type'.",
        );
      }
      const problem = this.checkAssertion(assertion, app, tenant, segment);
      if (problem) return err(problem.error, problem.code, problem.text);
      appidacr = "2";
    } else {
      return err(
        "invalid_client",
        7000218,
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
      );
    }
    const { token, expiresIn } = this.issueAccessToken({
      tenantId: tenant.id,
      clientId: app.registration.clientId,
      displayName: app.registration.displayName,
      servicePrincipalId: app.servicePrincipalId,
      roles: app.registration.roles,
      appidacr,
    });
    sendJson(
      res,
      200,
      { token_type: "Bearer", expires_in: expiresIn, ext_expires_in: expiresIn, access_token: token },
      { "client-request-id": correlationId, "Cache-Control": "no-store, no-cache", Pragma: "no-cache" },
    );
  }

  /**
   * Client assertion checks (§1.3): RS256+x5t or PS256+x5t#S256 (x5c optional), key registered on the app and
   * valid now, signature, iss = sub = client_id, aud = this tenant's token endpoint, nbf/exp. `jti` reuse is allowed.
   */
  private checkAssertion(
    assertion: string,
    app: AppEntry,
    tenant: TenantEntry,
    segment: string,
  ): AssertionProblem | undefined {
    const clientId = app.registration.clientId;
    const jwt = decodeJwt(assertion);
    // AADSTS50027 (InvalidJwtToken, Entra's error-code reference); its HTTP status is not observed: §8.
    if (!jwt) return { error: "invalid_request", code: 50027, text: "JWT token is invalid or malformed." };
    // Issued by someone else than the app, and not naming one of its certificates: a federated assertion.
    if (jwt.payload["iss"] !== clientId && !this.namesRegisteredCertificate(jwt, app)) {
      return this.checkFederatedAssertion(jwt, app);
    }
    const alg = jwt.header["alg"];
    let thumb: string | undefined;
    let pick: (c: AppEntry["certificates"][number]) => boolean;
    if (alg === "RS256" && typeof jwt.header["x5t"] === "string") {
      thumb = Buffer.from(jwt.header["x5t"], "base64url").toString("hex").toUpperCase();
      pick = (c) => c.sha1 === thumb;
    } else if (alg === "PS256" && typeof jwt.header["x5t#S256"] === "string") {
      thumb = Buffer.from(jwt.header["x5t#S256"], "base64url").toString("hex").toUpperCase();
      pick = (c) => c.sha256 === thumb;
    } else {
      return {
        error: "invalid_request",
        code: 50027,
        text: `JWT token is invalid or malformed. The algorithm '${String(alg)}' needs the header ${alg === "PS256" ? "'x5t#S256'" : "'x5t'"}; supported: RS256 + x5t, PS256 + x5t#S256.`,
      };
    }
    const notFound = (reason: string): { error: string; code: number; text: string } => ({
      error: "invalid_client",
      code: 700027,
      text: `Client assertion contains an invalid signature. [Reason - ${reason}, Thumbprint of key used by client: '${thumb}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '${clientId}'. Review the documentation at https://docs.microsoft.com/en-us/graph/deployments#app-registration-and-token-service-root-endpoints to learn more.]`,
    });
    const cert = app.certificates.find(pick);
    if (!cert) return notFound("The key was not found.");
    const now = this.o.clock.now();
    if (
      (cert.notAfter !== undefined && now > cert.notAfter) ||
      (cert.notBefore !== undefined && now < cert.notBefore)
    ) {
      return notFound("The key used is expired.");
    }
    if (!cert.x509 || !verifyJwtSignature(jwt, cert.x509.publicKey)) {
      return notFound("The provided signature value did not match the expected signature value.");
    }
    const p = jwt.payload;
    if (p["iss"] !== clientId || p["sub"] !== clientId) {
      // AADSTS700021 InvalidClientAssertionApplicationId (Entra's error-code reference); status assumed from
      // invalid_client (§7).
      return {
        error: "invalid_client",
        code: 700021,
        text: "Client assertion application identifier doesn't match 'client_id' parameter. Review the documentation at https://docs.microsoft.com/en-us/azure/active-directory/develop/active-directory-certificate-credentials .",
      };
    }
    if (!this.isTokenEndpointOf(p["aud"], tenant, segment)) {
      return {
        error: "invalid_client",
        code: 50027,
        text: `JWT token is invalid or malformed. Unexpected audience '${String(p["aud"])}'.`,
      };
    }
    return this.checkTimeRange(p);
  }

  /** now within `nbf`..`exp` (± the skew), else AADSTS700024 (§2.1). */
  private checkTimeRange(p: Record<string, unknown>): AssertionProblem | undefined {
    const now = this.o.clock.now();
    const nbf = typeof p["nbf"] === "number" ? p["nbf"] : undefined;
    const exp = typeof p["exp"] === "number" ? p["exp"] : undefined;
    const skew = this.o.assertionSkewSeconds;
    const nowS = now / 1000;
    if (exp === undefined || (nbf !== undefined && nowS + skew < nbf) || nowS - skew >= exp) {
      const iso = (s: number | undefined): string =>
        s === undefined ? "(none)" : new Date(s * 1000).toISOString().replace(/\.\d{3}Z$/, ".0000000Z");
      return {
        error: "invalid_client",
        code: 700024,
        text: `Client assertion is not within its valid time range. Current time: ${new Date(now).toISOString().replace(/Z$/, "0000Z")}, assertion valid from ${iso(nbf)}, expiry time of assertion ${iso(exp)}. Review the documentation at https://docs.microsoft.com/en-us/azure/active-directory/develop/active-directory-certificate-credentials .`,
      };
    }
    return undefined;
  }

  /** The assertion's `x5t` / `x5t#S256` header names one of the app's certificates. */
  private namesRegisteredCertificate(jwt: DecodedJwt, app: AppEntry): boolean {
    const hex = (v: unknown): string | undefined =>
      typeof v === "string" ? Buffer.from(v, "base64url").toString("hex").toUpperCase() : undefined;
    const sha1 = hex(jwt.header["x5t"]);
    const sha256 = hex(jwt.header["x5t#S256"]);
    return app.certificates.some((c) => c.sha1 === sha1 || (c.sha256 !== "" && c.sha256 === sha256));
  }

  /**
   * Workload identity federation: a token from an external issuer (GitHub Actions OIDC, Kubernetes service
   * account, …) signs the app in when a federated credential on it has the same issuer and subject (exact,
   * case-sensitive) and lists its audience; then the signature (RS256, by the issuer's declared keys, `kid` when
   * given) and `nbf`/`exp`. AADSTS70021 (`invalid_request`, 400) and its text as Entra answered it
   * (Azure/azure-workload-identity#616); 700027 / 700024 as for certificates (§2.1).
   */
  private checkFederatedAssertion(jwt: DecodedJwt, app: AppEntry): AssertionProblem | undefined {
    const p = jwt.payload;
    const iss = typeof p["iss"] === "string" ? p["iss"] : "";
    const sub = typeof p["sub"] === "string" ? p["sub"] : "";
    const auds = Array.isArray(p["aud"]) ? p["aud"].map(String) : typeof p["aud"] === "string" ? [p["aud"]] : [];
    const record = app.federatedCredentials.find(
      (f) => f.issuer === iss && f.subject === sub && auds.some((a) => f.audiences.includes(a)),
    );
    if (!record) {
      return {
        error: "invalid_request",
        code: 70021,
        text: `No matching federated identity record found for presented assertion. Assertion Issuer: '${iss}'. Assertion Subject: '${sub}'. Assertion Audience: '${auds.join(",")}'. https://docs.microsoft.com/en-us/azure/active-directory/develop/workload-identity-federation`,
      };
    }
    if (jwt.header["alg"] !== "RS256") {
      return {
        error: "invalid_request",
        code: 50027,
        text: `JWT token is invalid or malformed. The algorithm '${String(jwt.header["alg"])}' is not supported for federated assertions; supported: RS256.`,
      };
    }
    const kid = typeof jwt.header["kid"] === "string" ? jwt.header["kid"] : undefined;
    const byKid = kid === undefined ? [] : record.keys.filter((k) => k.kid === kid);
    const candidates = byKid.length > 0 ? byKid : record.keys.filter((k) => k.kid === undefined || kid === undefined);
    const invalid = (reason: string): AssertionProblem => ({
      error: "invalid_client",
      code: 700027,
      text: `Client assertion contains an invalid signature. [Reason - ${reason}, Key ID used by the issuer: '${kid ?? ""}', Issuer: '${iss}'. Check the issuer's signing keys.]`,
    });
    if (candidates.length === 0) return invalid("The key was not found.");
    if (!candidates.some((k) => verifyJwtSignature(jwt, k.key))) {
      return invalid("The provided signature value did not match the expected signature value.");
    }
    return this.checkTimeRange(p);
  }

  /** `aud` must be a token endpoint of this tenant on this host (GUID or any of its domains; MSAL lowercases). */
  private isTokenEndpointOf(aud: unknown, tenant: TenantEntry, segment: string): boolean {
    if (typeof aud !== "string") return false;
    const m = /^(https:\/\/[^/]+)\/([^/]+)\/oauth2\/v2\.0\/token$/i.exec(aud);
    if (!m || m[1]?.toLowerCase() !== this.o.origin().toLowerCase()) return false;
    const t = m[2]?.toLowerCase() ?? "";
    return t === segment.toLowerCase() || t === tenant.id || tenant.domains.some((d) => d.toLowerCase() === t);
  }

  /** The AADSTS error body of §1.6; `invalid_client` answers 401, the rest 400 (§7). */
  private error(
    res: ServerResponse,
    correlationId: string,
    error: string,
    code: number,
    text: string,
    status?: number,
  ): void {
    const traceId = randomUUID();
    const timestamp = new Date(this.o.clock.now())
      .toISOString()
      .replace("T", " ")
      .replace(/\.\d{3}Z$/, "Z");
    sendJson(
      res,
      status ?? (error === "invalid_client" ? 401 : 400),
      {
        error,
        error_description: `AADSTS${code}: ${text}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${timestamp}`,
        error_codes: [code],
        timestamp,
        trace_id: traceId,
        correlation_id: correlationId,
        error_uri: `${this.o.origin()}/error?code=${code}`,
      },
      { "client-request-id": correlationId },
    );
  }
}
