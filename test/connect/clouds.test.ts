// Sections (§) cited here are those of docs/reference/clouds.md and docs/reference/entra-auth.md.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  adminConsentUrl,
  authorityMetadataFor,
  CLOUD_NAMES,
  cloudForAuthorityHost,
  resolveEndpoints,
} from "../../src/core/config/clouds.js";
import { PublisherError } from "../../src/core/errors.js";

const TENANT = "contoso.onmicrosoft.com";

/** Expected values from docs/reference/clouds.md §3 (table) and the preset list. */
const EXPECTED = {
  global: ["https://login.microsoftonline.com", "https://graph.microsoft.com", "https://graph.microsoft.com/beta"],
  usgov: ["https://login.microsoftonline.us", "https://graph.microsoft.us", "https://graph.microsoft.us/beta"],
  "usgov-dod": [
    "https://login.microsoftonline.us",
    "https://dod-graph.microsoft.us",
    "https://dod-graph.microsoft.us/beta",
  ],
  china: [
    "https://login.chinacloudapi.cn",
    "https://microsoftgraph.chinacloudapi.cn",
    "https://microsoftgraph.chinacloudapi.cn/beta",
  ],
} as const;

function configError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof PublisherError && e.kind === "config" && pattern.test(e.message));
}

describe("cloud presets: URL composition", () => {
  for (const [cloud, [host, audience, graph]] of Object.entries(EXPECTED)) {
    it(`${cloud}: authority, token endpoint, scope and Graph base URL`, () => {
      const ep = resolveEndpoints({ cloud: cloud as keyof typeof EXPECTED, tenant: TENANT });
      assert.equal(ep.authorityHost, host);
      assert.equal(ep.authority, `${host}/${TENANT}`);
      assert.equal(ep.tokenEndpoint, `${host}/${TENANT}/oauth2/v2.0/token`);
      assert.equal(ep.openIdConfigurationUrl, `${host}/${TENANT}/v2.0/.well-known/openid-configuration`);
      assert.equal(ep.tokenAudience, audience);
      assert.equal(ep.scope, `${audience}/.default`);
      assert.equal(ep.graphBaseUrl, graph);
      assert.equal(ep.authorityHostName, new URL(host).host);
      assert.equal(ep.wellKnownAuthority, true);
    });
  }

  it("DoD shares GCC High's authority but not its Graph host", () => {
    const high = resolveEndpoints({ cloud: "usgov", tenant: TENANT });
    const dod = resolveEndpoints({ cloud: "usgov-dod", tenant: TENANT });
    assert.equal(high.authorityHost, dod.authorityHost);
    assert.notEqual(high.graphBaseUrl, dod.graphBaseUrl);
  });

  it("each of the three URLs can be overridden independently", () => {
    const a = resolveEndpoints({ cloud: "global", tenant: TENANT, authorityHost: "https://login.example.net/" });
    assert.equal(a.authority, `https://login.example.net/${TENANT}`);
    assert.equal(a.tokenAudience, "https://graph.microsoft.com");
    assert.equal(a.graphBaseUrl, "https://graph.microsoft.com/beta");
    assert.equal(a.wellKnownAuthority, false);
    const b = resolveEndpoints({ cloud: "usgov", tenant: TENANT, tokenAudience: "https://graph.example/" });
    assert.equal(b.scope, "https://graph.example/.default");
    assert.equal(b.authorityHost, "https://login.microsoftonline.us");
    assert.equal(b.graphBaseUrl, "https://graph.microsoft.us/beta");
    const c = resolveEndpoints({ cloud: "china", tenant: TENANT, graphBaseUrl: "https://graph.example/v1.0/" });
    assert.equal(c.graphBaseUrl, "https://graph.example/v1.0");
    assert.equal(c.scope, "https://microsoftgraph.chinacloudapi.cn/.default");
  });

  it("custom needs all three URLs; local needs the authority host and Graph URL and defaults the audience", () => {
    configError(() => resolveEndpoints({ cloud: "custom", tenant: TENANT }), /authority host/);
    configError(
      () => resolveEndpoints({ cloud: "custom", tenant: TENANT, authorityHost: "https://a.example" }),
      /token audience/,
    );
    const custom = resolveEndpoints({
      cloud: "custom",
      tenant: TENANT,
      authorityHost: "a.example:8443",
      tokenAudience: "https://g.example",
      graphBaseUrl: "https://g.example/beta",
    });
    assert.equal(custom.authority, `https://a.example:8443/${TENANT}`);
    assert.equal(custom.authorityHostName, "a.example:8443");
    configError(() => resolveEndpoints({ cloud: "local", tenant: TENANT }), /authority host/);
    const local = resolveEndpoints({
      cloud: "local",
      tenant: TENANT,
      authorityHost: "https://127.0.0.1:8443",
      graphBaseUrl: "https://127.0.0.1:8443/beta",
    });
    assert.equal(local.scope, "https://graph.microsoft.com/.default");
    assert.equal(local.authorityHostName, "127.0.0.1:8443");
    assert.equal(local.wellKnownAuthority, false);
  });

  it("rejects http, paths on the authority host, multi-tenant aliases and malformed tenants", () => {
    configError(() => resolveEndpoints({ cloud: "global", tenant: TENANT, authorityHost: "http://login.x" }), /https/);
    configError(
      () => resolveEndpoints({ cloud: "global", tenant: TENANT, authorityHost: "https://login.x/tenant" }),
      /without a path/,
    );
    configError(() => resolveEndpoints({ cloud: "global", tenant: TENANT, graphBaseUrl: "http://g.x/beta" }), /https/);
    for (const t of ["common", "Organizations", "consumers"]) {
      configError(() => resolveEndpoints({ cloud: "global", tenant: t }), /multi-tenant/);
    }
    configError(() => resolveEndpoints({ cloud: "global", tenant: "not a tenant!" }), /neither a GUID/);
    configError(() => resolveEndpoints({ cloud: "global", tenant: " " }), /No tenant/);
    assert.equal(
      resolveEndpoints({ cloud: "global", tenant: "7F3C2A1E-5B4D-4C6E-9F8A-0B1C2D3E4F50" }).tenant,
      "7F3C2A1E-5B4D-4C6E-9F8A-0B1C2D3E4F50",
    );
  });

  it("authority metadata keeps the {tenant} placeholder for msal and names the four required endpoints", () => {
    const m = JSON.parse(authorityMetadataFor("https://127.0.0.1:9")) as Record<string, string>;
    assert.deepEqual(m, {
      token_endpoint: "https://127.0.0.1:9/{tenant}/oauth2/v2.0/token",
      authorization_endpoint: "https://127.0.0.1:9/{tenant}/oauth2/v2.0/authorize",
      issuer: "https://127.0.0.1:9/{tenant}/v2.0",
      jwks_uri: "https://127.0.0.1:9/{tenant}/discovery/v2.0/keys",
    });
  });

  it("admin-consent URL per cloud (§4.3)", () => {
    const u = new URL(
      adminConsentUrl(resolveEndpoints({ cloud: "usgov", tenant: TENANT }), "3d2b1a0f-9e8d-4c7b-a6f5-e4d3c2b1a098"),
    );
    assert.equal(u.origin + u.pathname, `https://login.microsoftonline.us/${TENANT}/adminconsent`);
    assert.equal(u.searchParams.get("client_id"), "3d2b1a0f-9e8d-4c7b-a6f5-e4d3c2b1a098");
    assert.equal(u.searchParams.get("redirect_uri"), "https://localhost");
  });

  it("derives the cloud from an authority host (AZURE_AUTHORITY_HOST)", () => {
    assert.equal(cloudForAuthorityHost("https://login.microsoftonline.com"), "global");
    assert.equal(cloudForAuthorityHost("https://login.microsoftonline.us/"), "usgov");
    assert.equal(cloudForAuthorityHost("login.chinacloudapi.cn"), "china");
    assert.equal(cloudForAuthorityHost("https://login.partner.microsoftonline.cn"), "china");
    assert.equal(cloudForAuthorityHost("https://127.0.0.1:8443"), "custom");
    assert.deepEqual([...CLOUD_NAMES], ["global", "usgov", "usgov-dod", "china", "custom", "local"]);
  });
});
