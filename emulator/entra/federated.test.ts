/**
 * Workload identity federation at the local tenant's token endpoint: an app registration's federated credentials
 * (seed `federatedCredentials`) accept a `client_assertion` issued and signed by an external OIDC issuer. The
 * sign-in itself is made by @azure/msal-node (its `clientAssertion` option), the failures by raw form posts.
 */
import assert from "node:assert/strict";
import { createSign, generateKeyPairSync, randomUUID } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { ConfidentialClientApplication } from "@azure/msal-node";
import { decodeJwt } from "../jwt.js";
import { parseSeed, PUBLISHER_PERMISSIONS } from "../seed.js";
import { startLocalTenant } from "../server.js";
import type { LocalTenant } from "../server.js";
import { CallLog, httpsRequest, TrustingNetworkClient } from "../testing/clients.js";

const TENANT = "22222222-3333-4444-8555-666666666666";
const APP = "bbbbbbbb-0000-4000-8000-000000000001";
const SCOPE = "https://graph.microsoft.com/.default";
const GITHUB = "https://token.actions.githubusercontent.com";
const K8S = "https://oidc.prod-aks.azure.com/00000000-0000-0000-0000-000000000000/";
const SUBJECT = "repo:contoso/intune-apps:environment:production";
const SA = "system:serviceaccount:publisher:intune-publisher";
const EXCHANGE = "api://AzureADTokenExchange";

function token(
  key: KeyObject,
  claims: Record<string, unknown>,
  header: Record<string, unknown> = { kid: "gh-2" },
  alg = "RS256",
): string {
  const now = Math.floor(Date.now() / 1000);
  const enc = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString("base64url");
  const input = `${enc({ typ: "JWT", alg, ...header })}.${enc({
    iss: GITHUB,
    sub: SUBJECT,
    aud: EXCHANGE,
    jti: randomUUID(),
    nbf: now,
    iat: now,
    exp: now + 300,
    ...claims,
  })}`;
  return `${input}.${createSign("RSA-SHA256").update(input).sign(key).toString("base64url")}`;
}

describe("federated identity credentials (workload identity federation)", () => {
  let lt: LocalTenant;
  const log = new CallLog();
  const gh1 = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const gh2 = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const k8s = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const stranger = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const jwk = (k: KeyObject, kid: string) => ({
    ...(k.export({ format: "jwk" }) as { kty: "RSA"; n: string; e: string }),
    kid,
    use: "sig",
  });

  before(async () => {
    lt = await startLocalTenant({
      storage: false,
      seed: {
        tenants: [{ id: TENANT, domains: ["contoso.onmicrosoft.com"] }],
        appRegistrations: [
          {
            clientId: APP,
            displayName: "publisher (secretless)",
            federatedCredentials: [
              // GitHub publishes two keys; the assertion's kid picks one.
              {
                name: "github-production",
                issuer: GITHUB,
                subject: SUBJECT,
                jwks: { keys: [jwk(gh1.publicKey, "gh-1"), jwk(gh2.publicKey, "gh-2")] },
              },
              {
                name: "aks",
                issuer: K8S,
                subject: SA,
                audiences: [EXCHANGE],
                publicKeyPem: k8s.publicKey.export({ format: "pem", type: "spki" }).toString(),
              },
            ],
            roles: [...PUBLISHER_PERMISSIONS],
          },
        ],
      },
    });
  });

  after(async () => {
    await lt.close();
  });

  const post = async (assertion: string) => {
    const r = await httpsRequest(
      lt.caCertPem,
      log,
      "POST",
      `${lt.authority}/oauth2/v2.0/token`,
      { "content-type": "application/x-www-form-urlencoded" },
      new URLSearchParams({
        client_id: APP,
        scope: SCOPE,
        grant_type: "client_credentials",
        client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        client_assertion: assertion,
      }).toString(),
    );
    return {
      status: r.status,
      body: JSON.parse(r.text) as { error?: string; error_codes?: number[]; error_description?: string },
    };
  };

  it("msal-node signs in with a GitHub-style token (kid picks the key); the Graph token says appidacr 2", async () => {
    const app = new ConfidentialClientApplication({
      auth: {
        clientId: APP,
        authority: lt.authority,
        knownAuthorities: [lt.host],
        authorityMetadata: lt.authorityMetadata,
        clientAssertion: async () => token(gh2.privateKey, {}),
      },
      system: { networkClient: new TrustingNetworkClient(lt.caCertPem, log) },
    });
    const r = await app.acquireTokenByClientCredential({ scopes: [SCOPE] });
    const claims = decodeJwt(r?.accessToken ?? "")?.payload;
    assert.equal(claims?.["appid"], APP);
    assert.equal(claims?.["appidacr"], "2");
    assert.deepEqual(claims?.["roles"], [...PUBLISHER_PERMISSIONS]);
  });

  it("a Kubernetes service-account token verified with a declared PEM key; aud may be an array", async () => {
    const r = await post(token(k8s.privateKey, { iss: K8S, sub: SA, aud: [EXCHANGE] }, {}));
    assert.equal(r.status, 200, JSON.stringify(r.body));
  });

  for (const [what, claims] of [
    ["another subject", { sub: "repo:contoso/intune-apps:ref:refs/heads/main" }],
    ["the subject in another case (matching is case-sensitive)", { sub: SUBJECT.toUpperCase() }],
    ["another issuer", { iss: "https://token.actions.githubusercontent.com/contoso" }],
    ["another audience", { aud: "api://something-else" }],
  ] as const) {
    it(`${what}: 400 invalid_request AADSTS70021 naming what was presented`, async () => {
      const t = token(gh1.privateKey, claims, { kid: "gh-1" });
      const r = await post(t);
      assert.equal(r.status, 400);
      assert.equal(r.body.error, "invalid_request");
      assert.deepEqual(r.body.error_codes, [70021]);
      const p = decodeJwt(t)?.payload ?? {};
      assert.ok(
        r.body.error_description?.startsWith(
          `AADSTS70021: No matching federated identity record found for presented assertion. Assertion Issuer: '${String(p["iss"])}'. Assertion Subject: '${String(p["sub"])}'. Assertion Audience: '${String(p["aud"])}'.`,
        ),
        r.body.error_description,
      );
    });
  }

  it("signed by another key: 401 invalid_client AADSTS700027; an unknown kid too", async () => {
    let r = await post(token(stranger.privateKey, {}, { kid: "gh-1" }));
    assert.equal(r.status, 401);
    assert.equal(r.body.error, "invalid_client");
    assert.deepEqual(r.body.error_codes, [700027]);
    assert.match(r.body.error_description ?? "", /did not match the expected signature value/);
    r = await post(token(gh1.privateKey, {}, { kid: "gh-9" }));
    assert.deepEqual(r.body.error_codes, [700027]);
    assert.match(r.body.error_description ?? "", /The key was not found/);
  });

  it("expired or not yet valid (beyond the 300 s skew): 401 invalid_client AADSTS700024", async () => {
    const now = Math.floor(Date.now() / 1000);
    for (const claims of [
      { nbf: now - 3600, iat: now - 3600, exp: now - 1200 },
      { nbf: now + 1200, iat: now, exp: now + 1800 },
    ]) {
      const r = await post(token(gh1.privateKey, claims, { kid: "gh-1" }));
      assert.equal(r.status, 401);
      assert.deepEqual(r.body.error_codes, [700024]);
      assert.match(r.body.error_description ?? "", /Client assertion is not within its valid time range/);
    }
  });

  it("an algorithm other than RS256: AADSTS50027", async () => {
    const r = await post(token(gh1.privateKey, {}, { kid: "gh-1" }, "PS256"));
    assert.deepEqual(r.body.error_codes, [50027]);
  });

  it("the seed refuses a federated credential without keys, and defaults the audience", () => {
    const tenants = [{ id: TENANT, domains: ["contoso.onmicrosoft.com"] }];
    assert.throws(
      () =>
        parseSeed({
          tenants,
          appRegistrations: [
            { clientId: APP, displayName: "x", federatedCredentials: [{ issuer: GITHUB, subject: SUBJECT }] },
          ],
        }),
      /appRegistrations\.0\.federatedCredentials\.0: A federated credential needs `jwks` or `publicKeyPem`/,
    );
    const s = parseSeed({
      tenants,
      appRegistrations: [
        {
          clientId: APP,
          displayName: "x",
          federatedCredentials: [{ issuer: GITHUB, subject: SUBJECT, publicKeyPem: "-----BEGIN PUBLIC KEY-----" }],
        },
      ],
    });
    assert.deepEqual(s.appRegistrations[0]?.federatedCredentials[0]?.audiences, [EXCHANGE]);
  });
});
