import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { PublisherError } from "../../core/errors.js";
import type { AccessToken, TokenProvider } from "./auth-policy.js";
import { createHttpPipeline } from "./pipeline.js";
import { inOrder, startScriptedServer } from "./testing/scripted-server.js";
import type { Reply, Script, ScriptedServer } from "./testing/scripted-server.js";
import { createFetchTransport } from "./transport.js";
import type { FetchTransport } from "./transport.js";

const NOW = Date.UTC(2026, 10, 26, 12, 0, 0);
const HOUR = 3_600_000;

function unauthorized(message: string): Reply {
  return {
    status: 401,
    headers: { "WWW-Authenticate": 'Bearer realm=""' },
    body: { error: { code: "InvalidAuthenticationToken", message, innerError: { "request-id": "r" } } },
  };
}
const EXPIRED = unauthorized("Lifetime validation failed, the token is expired.");
const ok: Reply = { status: 200, body: {} };

class FakeProvider implements TokenProvider {
  readonly calls: { forceRefresh: boolean }[] = [];
  constructor(private readonly expiresOn = NOW + HOUR) {}
  async getToken(_signal: AbortSignal | undefined, options?: { forceRefresh?: boolean }): Promise<AccessToken> {
    this.calls.push({ forceRefresh: options?.forceRefresh === true });
    await new Promise((r) => setImmediate(r));
    return { token: `t${this.calls.length}`, expiresOn: this.expiresOn };
  }
}

describe("bearer token policy", () => {
  let transport: FetchTransport;
  let server: ScriptedServer | undefined;
  before(() => {
    transport = createFetchTransport();
  });
  after(async () => {
    await server?.close();
    await transport.close();
  });

  async function setup(script: Script, provider: TokenProvider, clock: () => number = () => NOW) {
    await server?.close();
    server = await startScriptedServer(script);
    const pipeline = createHttpPipeline({ transport: transport.send, tokenProvider: provider, auth: { clock } });
    const origin = server.origin;
    return { send: () => pipeline.send({ method: "GET", url: `${origin}/beta/me` }), received: server.received };
  }
  const auths = (s: { received: { headers: Record<string, unknown> }[] }) =>
    s.received.map((r) => r.headers["authorization"]);

  it("sends the bearer token", async () => {
    const provider = new FakeProvider();
    const t = await setup(inOrder(ok), provider);
    await t.send();
    assert.deepEqual(auths(t), ["Bearer t1"]);
  });

  it("on 401 with an expired token, refreshes once (forced) and replays", async () => {
    const provider = new FakeProvider();
    const t = await setup(inOrder(EXPIRED, ok), provider);
    assert.equal((await t.send()).status, 200);
    assert.deepEqual(auths(t), ["Bearer t1", "Bearer t2"]);
    assert.deepEqual(provider.calls, [{ forceRefresh: false }, { forceRefresh: true }]);
  });

  it("refreshes only once: a second expired answer is returned", async () => {
    const provider = new FakeProvider();
    const t = await setup(inOrder(EXPIRED, EXPIRED, ok), provider);
    assert.equal((await t.send()).status, 401);
    assert.equal(t.received.length, 2);
  });

  it("does not refresh for other 401s (wrong audience)", async () => {
    const provider = new FakeProvider();
    const t = await setup(inOrder(unauthorized("Access token validation failure. Invalid audience."), ok), provider);
    assert.equal((await t.send()).status, 401);
    assert.equal(provider.calls.length, 1);
    assert.equal(t.received.length, 1);
  });

  it("reuses the token until 5 minutes before expiry, then asks again", async () => {
    let now = NOW;
    const provider = new FakeProvider(NOW + 10 * 60_000);
    const t = await setup(
      () => ok,
      provider,
      () => now,
    );
    await t.send();
    now += 4 * 60_000;
    await t.send();
    assert.equal(provider.calls.length, 1);
    now += 2 * 60_000; // 4 minutes left
    await t.send();
    assert.equal(provider.calls.length, 2);
    assert.deepEqual(auths(t), ["Bearer t1", "Bearer t1", "Bearer t2"]);
  });

  it("shares one token request among concurrent calls", async () => {
    const provider = new FakeProvider();
    const t = await setup(() => ok, provider);
    await Promise.all([t.send(), t.send(), t.send()]);
    assert.equal(provider.calls.length, 1);
  });

  it("refuses to send a token over plain HTTP to a non-loopback host", async () => {
    const provider = new FakeProvider();
    const pipeline = createHttpPipeline({ transport: transport.send, tokenProvider: provider });
    await assert.rejects(
      pipeline.send({ method: "GET", url: "http://graph.example.com/beta/me" }),
      (e: unknown) => e instanceof PublisherError && e.code === "InsecureTokenUrl",
    );
    assert.equal(provider.calls.length, 0);
  });
});
