import assert from "node:assert/strict";
import { createPrivateKey } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { ConfidentialClientApplication, ServerError } from "@azure/msal-node";
import { createSelfSignedCertificate } from "../../src/platform/certificates.js";
import { PUBLISHER_PERMISSIONS } from "../seed.js";
import type { SeedInput } from "../seed.js";
import { startLocalTenant } from "../server.js";
import type { LocalTenant } from "../server.js";
import { decodeJwt, signJwtPs256 } from "../jwt.js";
import { CallLog, httpsRequest, TrustingNetworkClient } from "../testing/clients.js";

const TENANT = "11111111-2222-4333-8444-555555555555";
const APP = "aaaaaaaa-0000-4000-8000-000000000001";
const NO_ROLES_APP = "aaaaaaaa-0000-4000-8000-000000000002";
const DISABLED_APP = "aaaaaaaa-0000-4000-8000-000000000003";
const EXPIRED_APP = "aaaaaaaa-0000-4000-8000-000000000004";
const SECRET = "s3cr+t&=value~with.odd_chars-";
const SCOPE = "https://graph.microsoft.com/.default";

type Cert = Awaited<ReturnType<typeof createSelfSignedCertificate>>;

describe("Entra token endpoint (msal-node 7, real client)", () => {
  let lt: LocalTenant;
  let cert: Cert;
  let otherCert: Cert;
  let expiredCert: Cert;
  const log = new CallLog();
  const realFetch = globalThis.fetch;

  before(async () => {
    // Any fetch msal might make on its own (instance discovery) must fail loudly, not reach the Internet.
    globalThis.fetch = ((input: string | URL | Request) => {
      log.check("FETCH", typeof input === "string" ? input : input instanceof URL ? input.href : input.url);
      return Promise.reject(new Error("global fetch must not be used in these tests"));
    }) as typeof fetch;
    [cert, otherCert, expiredCert] = await Promise.all([
      createSelfSignedCertificate({ subject: "publisher-client" }),
      createSelfSignedCertificate({ subject: "unregistered" }),
      createSelfSignedCertificate({
        subject: "expired",
        notBefore: new Date(Date.now() - 10 * 86_400_000),
        notAfter: new Date(Date.now() - 86_400_000),
      }),
    ]);
    const seed: SeedInput = {
      tenants: [{ id: TENANT, domains: ["contoso.onmicrosoft.com", "Fabrikam.example"] }],
      appRegistrations: [
        {
          clientId: APP,
          displayName: "publisher",
          secrets: [{ value: SECRET }],
          certificates: [{ pem: cert.certPem }, { pem: expiredCert.certPem }],
          roles: [...PUBLISHER_PERMISSIONS],
        },
        { clientId: NO_ROLES_APP, displayName: "no roles", secrets: [{ value: SECRET }] },
        { clientId: DISABLED_APP, displayName: "off", enabled: false, secrets: [{ value: SECRET }] },
        { clientId: EXPIRED_APP, displayName: "old", secrets: [{ value: SECRET, expiresOn: "2020-01-01T00:00:00Z" }] },
      ],
    };
    lt = await startLocalTenant({ seed, storage: false });
  });

  after(async () => {
    globalThis.fetch = realFetch;
    await lt.close();
  });

  function cca(opts: {
    clientId?: string;
    secret?: string;
    tenant?: string;
    certificate?: { thumbprint?: string; thumbprintSha256?: string; privateKey: string; x5c?: string };
  }): ConfidentialClientApplication {
    const tenant = opts.tenant ?? TENANT;
    const authority = `${lt.authorityHost}/${tenant}`;
    return new ConfidentialClientApplication({
      auth: {
        clientId: opts.clientId ?? APP,
        authority,
        knownAuthorities: [lt.host],
        // docs/reference/entra-auth.md §5.4: with knownAuthorities + authorityMetadata msal makes no discovery call.
        authorityMetadata: JSON.stringify({
          token_endpoint: `${authority}/oauth2/v2.0/token`,
          authorization_endpoint: `${authority}/oauth2/v2.0/authorize`,
          issuer: `${authority}/v2.0`,
          jwks_uri: `${authority}/discovery/v2.0/keys`,
        }),
        ...(opts.certificate ? { clientCertificate: opts.certificate } : { clientSecret: opts.secret ?? SECRET }),
      },
      system: { networkClient: new TrustingNetworkClient(lt.caCertPem, log) },
    });
  }

  async function aadError(app: ConfidentialClientApplication): Promise<ServerError> {
    try {
      await app.acquireTokenByClientCredential({ scopes: [SCOPE], skipCache: true });
    } catch (e) {
      assert.ok(e instanceof ServerError, `expected ServerError, got ${String(e)}`);
      return e;
    }
    assert.fail("expected the token request to fail");
  }

  it("issues a signed app-only token for a client secret, with every consented role and the §1.5 claims", async () => {
    const before = log.calls.length;
    const r = await cca({}).acquireTokenByClientCredential({ scopes: [SCOPE] });
    assert.ok(r);
    const jwt = decodeJwt(r.accessToken);
    assert.ok(jwt);
    assert.equal(jwt.header["alg"], "RS256");
    const p = jwt.payload;
    assert.equal(p["aud"], "https://graph.microsoft.com");
    assert.equal(p["tid"], TENANT);
    assert.equal(p["appid"], APP);
    assert.equal(p["appidacr"], "1");
    assert.equal(p["idtyp"], "app");
    assert.equal(p["ver"], "1.0");
    assert.equal(p["iss"], `https://sts.windows.net/${TENANT}/`);
    assert.deepEqual([...(p["roles"] as string[])].sort(), [...PUBLISHER_PERMISSIONS].sort());
    assert.equal(typeof p["exp"], "number");
    assert.equal((p["exp"] as number) - (p["iat"] as number), 3599);
    const calls = log.calls.slice(before);
    assert.equal(calls.length, 1, JSON.stringify(calls));
    assert.match(
      calls[0]?.url ?? "",
      /^https:\/\/127\.0\.0\.1:\d+\/11111111-2222-4333-8444-555555555555\/oauth2\/v2\.0\/token\?client-request-id=/,
    );
  });

  it("verifies the token signature against the JWKS it publishes", async () => {
    const r = await cca({}).acquireTokenByClientCredential({ scopes: [SCOPE], skipCache: true });
    const keys = await httpsRequest(lt.caCertPem, log, "GET", `${lt.authority}/discovery/v2.0/keys`);
    const jwk = (JSON.parse(keys.text) as { keys: { kid: string; n: string; e: string }[] }).keys[0];
    assert.ok(jwk && r);
    const { createPublicKey, verify } = await import("node:crypto");
    const [h, p, s] = r.accessToken.split(".");
    const key = createPublicKey({ key: { kty: "RSA", n: jwk.n, e: jwk.e }, format: "jwk" });
    assert.equal(verify("sha256", Buffer.from(`${h}.${p}`), key, Buffer.from(s ?? "", "base64url")), true);
    assert.equal(decodeJwt(r.accessToken)?.header["kid"], jwk.kid);
  });

  it("omits roles when none are consented", async () => {
    const r = await cca({ clientId: NO_ROLES_APP }).acquireTokenByClientCredential({ scopes: [SCOPE] });
    assert.ok(r);
    assert.equal("roles" in (decodeJwt(r.accessToken)?.payload ?? {}), false);
  });

  it("matches the tenant by domain, case-insensitively", async () => {
    const r = await cca({ tenant: "FABRIKAM.example" }).acquireTokenByClientCredential({ scopes: [SCOPE] });
    assert.equal(decodeJwt(r?.accessToken ?? "")?.payload["tid"], TENANT);
  });

  it("accepts a certificate assertion with PS256 + x5t#S256 (thumbprintSha256) and marks appidacr 2", async () => {
    const r = await cca({
      certificate: { thumbprintSha256: cert.thumbprintSha256, privateKey: cert.keyPem },
    }).acquireTokenByClientCredential({ scopes: [SCOPE] });
    assert.equal(decodeJwt(r?.accessToken ?? "")?.payload["appidacr"], "2");
  });

  it("accepts a certificate assertion with RS256 + x5t (SHA-1 thumbprint) and an x5c chain", async () => {
    const r = await cca({
      certificate: { thumbprint: cert.thumbprintSha1, privateKey: cert.keyPem, x5c: cert.certPem },
    }).acquireTokenByClientCredential({ scopes: [SCOPE] });
    assert.equal(decodeJwt(r?.accessToken ?? "")?.payload["appid"], APP);
  });

  it("accepts a reused assertion (same jti), as Entra does", async () => {
    const app = cca({ certificate: { thumbprintSha256: cert.thumbprintSha256, privateKey: cert.keyPem } });
    const a = await app.acquireTokenByClientCredential({ scopes: [SCOPE], skipCache: true });
    const b = await app.acquireTokenByClientCredential({ scopes: [SCOPE], skipCache: true });
    assert.ok(a && b);
    assert.notEqual(a.accessToken, b.accessToken);
  });

  it("7000215 for a wrong secret (401 invalid_client)", async () => {
    const e = await aadError(cca({ secret: "wrong" }));
    assert.equal(e.errorCode, "invalid_client");
    assert.equal(String(e.errorNo), "7000215");
    assert.equal(e.status, 401);
    assert.match(e.errorMessage, /AADSTS7000215: Invalid client secret provided/);
  });

  it("7000222 for an expired secret", async () => {
    const e = await aadError(cca({ clientId: EXPIRED_APP }));
    assert.equal(e.errorCode, "invalid_client");
    assert.equal(String(e.errorNo), "7000222");
  });

  it("700016 for an unknown app (400 unauthorized_client)", async () => {
    const e = await aadError(cca({ clientId: "bbbbbbbb-0000-4000-8000-000000000009" }));
    assert.equal(e.errorCode, "unauthorized_client");
    assert.equal(String(e.errorNo), "700016");
    assert.equal(e.status, 400);
  });

  it("90002 for an unknown tenant (400 invalid_tenant)", async () => {
    const e = await aadError(cca({ tenant: "99999999-2222-4333-8444-555555555555" }));
    assert.equal(e.errorCode, "invalid_tenant");
    assert.equal(String(e.errorNo), "90002");
    assert.equal(e.status, 400);
  });

  it("7000112 for a disabled app", async () => {
    const e = await aadError(cca({ clientId: DISABLED_APP }));
    assert.equal(e.errorCode, "unauthorized_client");
    assert.equal(String(e.errorNo), "7000112");
    assert.match(e.errorMessage, /Application 'aaaaaaaa-0000-4000-8000-000000000003'\(off\) is disabled\./);
  });

  it("700027 for an assertion signed by an unregistered certificate", async () => {
    const e = await aadError(
      cca({ certificate: { thumbprintSha256: otherCert.thumbprintSha256, privateKey: otherCert.keyPem } }),
    );
    assert.equal(e.errorCode, "invalid_client");
    assert.equal(String(e.errorNo), "700027");
    assert.match(e.errorMessage, /The key was not found/);
  });

  it("700027 when the thumbprint is registered but the signature is from another key", async () => {
    const e = await aadError(
      cca({ certificate: { thumbprintSha256: cert.thumbprintSha256, privateKey: otherCert.keyPem } }),
    );
    assert.equal(String(e.errorNo), "700027");
    assert.match(e.errorMessage, /did not match the expected signature/);
  });

  it("700027 when the registered certificate has expired", async () => {
    const e = await aadError(
      cca({ certificate: { thumbprintSha256: expiredCert.thumbprintSha256, privateKey: expiredCert.keyPem } }),
    );
    assert.equal(String(e.errorNo), "700027");
    assert.match(e.errorMessage, /expired/);
  });

  describe("raw form posts (cases msal-node cannot produce)", () => {
    const post = async (tenant: string, form: Record<string, string>) => {
      const r = await httpsRequest(
        lt.caCertPem,
        log,
        "POST",
        `${lt.authorityHost}/${tenant}/oauth2/v2.0/token`,
        { "content-type": "application/x-www-form-urlencoded" },
        new URLSearchParams(form).toString(),
      );
      return {
        status: r.status,
        body: JSON.parse(r.text) as {
          error: string;
          error_codes: number[];
          error_description: string;
          trace_id: string;
          correlation_id: string;
          timestamp: string;
        },
      };
    };
    const base = { client_id: APP, scope: SCOPE, grant_type: "client_credentials" };

    it("the error body has the §1.6 shape", async () => {
      const { body } = await post(TENANT, { ...base, client_secret: "x" });
      assert.deepEqual(Object.keys(body).sort(), [
        "correlation_id",
        "error",
        "error_codes",
        "error_description",
        "error_uri",
        "timestamp",
        "trace_id",
      ]);
      assert.match(
        body.error_description,
        /^AADSTS7000215: .*\r\nTrace ID: [0-9a-f-]{36}\r\nCorrelation ID: [0-9a-f-]{36}\r\nTimestamp: \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/s,
      );
      assert.match(body.timestamp, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
    });

    it("900023 for a tenant that is neither a GUID nor a DNS name", async () => {
      const { status, body } = await post("not_a%20tenant", { ...base, client_secret: SECRET });
      assert.equal(status, 400);
      assert.equal(body.error, "invalid_request");
      assert.deepEqual(body.error_codes, [900023]);
    });

    it("900023 also for a tenant segment that is not even valid percent-encoding", async () => {
      const { status, body } = await post("%E0%A4%A", { ...base, client_secret: SECRET });
      assert.equal(status, 400);
      assert.deepEqual(body.error_codes, [900023]);
    });

    it("1002012 for a scope without /.default", async () => {
      const { status, body } = await post(TENANT, {
        ...base,
        scope: "https://graph.microsoft.com/DeviceManagementApps.ReadWrite.All",
        client_secret: SECRET,
      });
      assert.equal(status, 400);
      assert.equal(body.error, "invalid_scope");
      assert.deepEqual(body.error_codes, [1002012]);
    });

    it("7000218 without any credential", async () => {
      const { status, body } = await post(TENANT, base);
      assert.equal(status, 401);
      assert.equal(body.error, "invalid_client");
      assert.deepEqual(body.error_codes, [7000218]);
    });

    it("900144 without client_id or grant_type", async () => {
      const a = await post(TENANT, { scope: SCOPE, grant_type: "client_credentials", client_secret: SECRET });
      assert.deepEqual(a.body.error_codes, [900144]);
      assert.match(a.body.error_description, /'client_id'/);
      const b = await post(TENANT, { client_id: APP, scope: SCOPE, client_secret: SECRET });
      assert.deepEqual(b.body.error_codes, [900144]);
      assert.match(b.body.error_description, /'grant_type'/);
    });

    it("accepts the secret in an HTTP Basic header", async () => {
      const r = await httpsRequest(
        lt.caCertPem,
        log,
        "POST",
        `${lt.authority}/oauth2/v2.0/token`,
        {
          "content-type": "application/x-www-form-urlencoded",
          authorization: `Basic ${Buffer.from(`${APP}:${encodeURIComponent(SECRET)}`).toString("base64")}`,
        },
        new URLSearchParams({ scope: SCOPE, grant_type: "client_credentials" }).toString(),
      );
      assert.equal(r.status, 200, r.text);
    });

    /** Posts a PS256 certificate assertion by `cert`, for `aud` (default: this tenant's token endpoint), valid from `nbf` seconds on for 600 s. */
    const postAssertion = (opts: { aud?: string; nbf: number }) => {
      const assertion = signJwtPs256(
        { typ: "JWT", "x5t#S256": Buffer.from(cert.thumbprintSha256, "hex").toString("base64url") },
        {
          aud: opts.aud ?? `${lt.authority}/oauth2/v2.0/token`,
          iss: APP,
          sub: APP,
          jti: "j",
          nbf: opts.nbf,
          exp: opts.nbf + 600,
          iat: opts.nbf,
        },
        createPrivateKey(cert.keyPem),
      );
      return post(TENANT, {
        ...base,
        client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        client_assertion: assertion,
      });
    };

    it("700024 for an assertion outside its nbf..exp window", async () => {
      const { status, body } = await postAssertion({ nbf: Math.floor(Date.now() / 1000) - 7200 });
      assert.equal(status, 401);
      assert.deepEqual(body.error_codes, [700024]);
      assert.match(body.error_description, /Client assertion is not within its valid time range/);
    });

    it("rejects an assertion whose aud is another host's token endpoint", async () => {
      const { status, body } = await postAssertion({
        aud: `https://login.microsoftonline.com/${TENANT}/oauth2/v2.0/token`,
        nbf: Math.floor(Date.now() / 1000),
      });
      assert.equal(status, 401);
      assert.deepEqual(body.error_codes, [50027]);
    });

    it("serves the OIDC document with the issuer on its own origin", async () => {
      const r = await httpsRequest(
        lt.caCertPem,
        log,
        "GET",
        `${lt.authorityHost}/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration`,
      );
      const doc = JSON.parse(r.text) as Record<string, string>;
      assert.equal(doc["issuer"], `${lt.authority}/v2.0`);
      assert.equal(doc["token_endpoint"], `${lt.authority}/oauth2/v2.0/token`);
    });
  });

  it("works through OIDC discovery too when authorityMetadata is not given", async () => {
    const callLog = new CallLog();
    const app = new ConfidentialClientApplication({
      auth: {
        clientId: APP,
        authority: `${lt.authorityHost}/Contoso.OnMicrosoft.com`,
        knownAuthorities: [lt.host],
        clientSecret: SECRET,
      },
      system: { networkClient: new TrustingNetworkClient(lt.caCertPem, callLog) },
    });
    const r = await app.acquireTokenByClientCredential({ scopes: [SCOPE] });
    assert.ok(r?.accessToken);
    assert.deepEqual(
      callLog.calls.map((c) => `${c.method} ${new URL(c.url).pathname}`),
      [
        "GET /contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration",
        "POST /contoso.onmicrosoft.com/oauth2/v2.0/token",
      ],
    );
  });

  it("a fault on the token endpoint answers in the AADSTS shape; msal reports temporarily_unavailable 429", async () => {
    lt.admin.addFault({ method: "POST", path: "/oauth2/v2\\.0/token$", status: 429, retryAfter: 30, count: 1 });
    const e = await aadError(cca({}));
    assert.equal(e.errorCode, "temporarily_unavailable");
    assert.equal(e.status, 429);
    assert.equal(String(e.errorNo), "90055");
  });

  it("never called any host but 127.0.0.1", () => {
    assert.ok(log.calls.length > 10);
    assert.deepEqual(
      log.calls.filter((c) => new URL(c.url).hostname !== "127.0.0.1"),
      [],
    );
  });
});
