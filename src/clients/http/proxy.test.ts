import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { bypassesProxy, proxyFor, proxySettingsFromEnv } from "./proxy.js";

describe("proxy settings", () => {
  it("reads HTTPS_PROXY / HTTP_PROXY / NO_PROXY, lower case first, ignoring blanks", () => {
    assert.deepEqual(
      proxySettingsFromEnv({ HTTPS_PROXY: "http://upper:3128", https_proxy: "http://lower:3128", NO_PROXY: " " }),
      { httpsProxy: "http://lower:3128" },
    );
    assert.deepEqual(proxySettingsFromEnv({ HTTP_PROXY: "http://p:1", NO_PROXY: ".corp" }), {
      httpProxy: "http://p:1",
      noProxy: ".corp",
    });
  });

  it("matches NO_PROXY entries: exact host, domain suffixes, host:port, and *", () => {
    const u = (s: string) => new URL(s);
    const list = "example.org, .contoso.com *.fabrikam.net  graph.test:8443";
    assert.equal(bypassesProxy(u("https://example.org/"), list), true);
    assert.equal(bypassesProxy(u("https://api.example.org/"), list), true);
    assert.equal(bypassesProxy(u("https://notexample.org/"), list), false);
    assert.equal(bypassesProxy(u("https://a.contoso.com/"), list), true);
    assert.equal(bypassesProxy(u("https://contoso.com/"), list), true);
    assert.equal(bypassesProxy(u("https://x.fabrikam.net/"), list), true);
    assert.equal(bypassesProxy(u("https://graph.test:8443/"), list), true);
    assert.equal(bypassesProxy(u("https://graph.test/"), list), false);
    assert.equal(bypassesProxy(u("https://graph.microsoft.com/"), "*"), true);
    assert.equal(bypassesProxy(u("https://graph.microsoft.com/"), undefined), false);
  });

  it("always reaches loopback directly", () => {
    assert.equal(bypassesProxy(new URL("https://127.0.0.1:8443/"), undefined), true);
    assert.equal(bypassesProxy(new URL("https://[::1]:8443/"), ""), true);
    assert.equal(bypassesProxy(new URL("http://localhost/"), ""), true);
  });

  it("picks HTTPS_PROXY for https URLs (HTTP_PROXY as fallback) and HTTP_PROXY for http", () => {
    const s = { httpsProxy: "http://s:1", httpProxy: "http://p:2", noProxy: "direct.test" };
    assert.equal(proxyFor(new URL("https://graph.microsoft.com/"), s), "http://s:1");
    assert.equal(proxyFor(new URL("http://plain.test/"), s), "http://p:2");
    assert.equal(proxyFor(new URL("https://graph.microsoft.com/"), { httpProxy: "http://p:2" }), "http://p:2");
    assert.equal(proxyFor(new URL("https://direct.test/"), s), undefined);
  });
});
