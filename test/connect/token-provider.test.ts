/**
 * The token provider with msal-node against the local tenant: cache, refresh ahead of expiry, forced refresh, the
 * pipeline adapter, and only the token POST on the wire (knownAuthorities + authorityMetadata: no discovery).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { PUBLISHER_PERMISSIONS } from "../../emulator/seed.js";
import type { LocalTenant } from "../../emulator/server.js";
import { startLocalTestTenant } from "../support/tenant.js";
import { resolveEndpoints } from "../../src/core/config/clouds.js";
import type { Settings } from "../../src/core/config/profile.js";
import { loadCredential } from "../../src/clients/auth/credentials.js";
import { createTokenProvider, decodeClaims, pipelineTokenProvider } from "../../src/clients/auth/token-provider.js";
import { GraphClient } from "../../src/clients/graph/client.js";
import { createHttpPipeline } from "../../src/clients/http/pipeline.js";
import { transportFor } from "../../src/publish/connect/config-store.js";
import type { ConnectTransport } from "../../src/publish/connect/config-store.js";

const TENANT = "0c0ffee0-aaaa-4bbb-8ccc-ddddeeeeffff";
const APP = "a1000000-0000-4000-8000-000000000001";
const SECRET = "token-provider-test-secret-value-0123456789";

describe("token provider (msal-node against the local tenant)", () => {
  let lt: LocalTenant;
  let transport: ConnectTransport;
  const calls: string[] = [];

  before(async () => {
    // 400 s: above msal's 300 s renewal offset, so its cache works, yet below a 600 s validity requirement.
    lt = await startLocalTestTenant({
      storage: false,
      tokenLifetimeSeconds: 400,
      seed: {
        tenants: [{ id: TENANT, domains: ["contoso.onmicrosoft.com"] }],
        appRegistrations: [
          { clientId: APP, displayName: "p", secrets: [{ value: SECRET }], roles: [...PUBLISHER_PERMISSIONS] },
        ],
      },
    });
    const settings: Settings = {
      profileName: undefined,
      clientId: APP,
      endpoints: resolveEndpoints({
        cloud: "local",
        tenant: "Contoso.onmicrosoft.com",
        authorityHost: lt.authorityHost,
        graphBaseUrl: lt.graphBaseUrl,
      }),
      credential: { type: "secret", from: "env", expiresOn: undefined },
      proxy: undefined,
      noProxy: undefined,
      caCertificatePath: undefined,
      sources: {},
    };
    transport = await transportFor(settings, {
      caPem: lt.caCertPem,
      onRequest: (m, u) => calls.push(`${m} ${new URL(u).pathname}`),
    });
  });

  after(async () => {
    await transport.close();
    await lt.close();
  });

  async function provider() {
    const endpoints = resolveEndpoints({
      cloud: "local",
      tenant: "Contoso.onmicrosoft.com",
      authorityHost: lt.authorityHost,
      graphBaseUrl: lt.graphBaseUrl,
    });
    const credential = await loadCredential(
      { type: "secret", from: "env", expiresOn: undefined },
      { env: { AZURE_CLIENT_SECRET: SECRET } },
    );
    return createTokenProvider({ clientId: APP, endpoints, credential, transport: transport.send });
  }

  it("caches, refreshes when the cached token would not last long enough, and on demand", async () => {
    calls.length = 0;
    const p = await provider();
    const before = Date.now();
    const a = await p.getToken();
    const after = Date.now();
    assert.equal(a.fromCache, false);
    assert.deepEqual(calls, ["POST /contoso.onmicrosoft.com/oauth2/v2.0/token"], "only the token POST, no discovery");
    assert.deepEqual(a.roles.slice().sort(), [...PUBLISHER_PERMISSIONS].sort());
    assert.equal(decodeClaims(a.token)["appid"], APP);
    // 400 s from when the token was issued, which is between the two readings of the clock whatever the load.
    const expires = a.expiresOn.getTime();
    assert.ok(expires >= before + 400_000 - 1_000 && expires <= after + 400_000 + 1_000, `expiresOn ${expires}`);

    const b = await p.getToken();
    assert.equal(b.fromCache, true);
    assert.equal(b.token, a.token);
    assert.equal(calls.length, 1);

    // A step that needs 10 minutes of validity gets a new token rather than the 400 s one.
    const c = await p.getToken({ minValiditySeconds: 600 });
    assert.equal(c.fromCache, false);
    assert.notEqual(c.token, a.token);
    assert.equal(calls.length, 2);

    const d = await p.getToken({ forceRefresh: true });
    assert.notEqual(d.token, c.token);
    assert.equal(calls.length, 3);
  });

  it("feeds the HTTP pipeline's bearer policy, so GraphClient calls carry a valid token", async () => {
    calls.length = 0;
    const p = await provider();
    const graph = new GraphClient({
      baseUrl: lt.graphBaseUrl,
      pipeline: createHttpPipeline({ transport: transport.send, tokenProvider: pipelineTokenProvider(p) }),
    });
    const groups = await graph.listAll<{ id: string }>("/groups");
    assert.ok(Array.isArray(groups));
    await graph.get("/deviceManagement/roleScopeTags");
    assert.deepEqual(calls, [
      "POST /contoso.onmicrosoft.com/oauth2/v2.0/token",
      "GET /beta/groups",
      "GET /beta/deviceManagement/roleScopeTags",
    ]);
  });

  it("a wrong secret is an AuthFailure with the AADSTS code, Entra's correlation id and the advice", async () => {
    const endpoints = resolveEndpoints({
      cloud: "local",
      tenant: TENANT,
      authorityHost: lt.authorityHost,
      graphBaseUrl: lt.graphBaseUrl,
    });
    const credential = await loadCredential(
      { type: "secret", from: "env", expiresOn: undefined },
      { env: { AZURE_CLIENT_SECRET: "wrong-secret-value" } },
    );
    const p = createTokenProvider({ clientId: APP, endpoints, credential, transport: transport.send });
    await assert.rejects(p.getToken(), (e: unknown) => {
      const f = e as {
        name: string;
        kind: string;
        aadsts: number;
        correlationId: string;
        traceId: string;
        hint: string;
        message: string;
      };
      assert.equal(f.name, "AuthFailure");
      assert.equal(f.kind, "auth");
      assert.equal(f.aadsts, 7000215);
      assert.match(f.correlationId, /^[0-9a-f-]{36}$/);
      assert.match(f.traceId, /^[0-9a-f-]{36}$/);
      assert.match(f.hint, /Value, not its Secret ID/);
      assert.ok(!f.message.includes("wrong-secret-value"));
      return true;
    });
  });
});
