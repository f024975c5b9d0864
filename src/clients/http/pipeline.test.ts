import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createHttpPipeline, HttpPipeline } from "./pipeline.js";
import { inOrder, recordingSleep, startScriptedServer } from "./testing/scripted-server.js";
import type { ScriptedServer } from "./testing/scripted-server.js";
import { createFetchTransport } from "./transport.js";
import type { FetchTransport } from "./transport.js";
import type { HttpLogger, HttpPolicy } from "./types.js";

const TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.c2VjcmV0LXBheWxvYWQ.c2lnbmF0dXJl";
const SIG = "Zm9vYmFyc2lnbmF0dXJl";
const KEY = "c3VwZXItc2VjcmV0LWtleQ==";

function captureLogger(): HttpLogger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, info: (m) => lines.push(m), warning: (m) => lines.push(m) };
}

describe("HttpPipeline", () => {
  it("runs policies outermost first, the transport last", async () => {
    const order: string[] = [];
    const tag = (name: string): HttpPolicy => ({
      name,
      send: (req, next) => {
        order.push(name);
        return next({ ...req, headers: { ...req.headers, [`x-${name}`]: "1" } });
      },
    });
    const pipeline = new HttpPipeline(
      async (request) => {
        order.push("transport");
        return { status: 204, headers: {}, bodyText: "", request };
      },
      [tag("a"), tag("b")],
    );
    const res = await pipeline.send({ method: "GET", url: "https://h/x", headers: { Accept: "application/json" } });
    assert.deepEqual(order, ["a", "b", "transport"]);
    assert.deepEqual(res.request.headers, { accept: "application/json", "x-a": "1", "x-b": "1" });
  });
});

describe("createHttpPipeline against a local server", () => {
  let transport: FetchTransport;
  let server: ScriptedServer;
  before(async () => {
    transport = createFetchTransport();
    server = await startScriptedServer(
      inOrder(
        {
          status: 429,
          headers: { "Retry-After": "3", "request-id": "req-1" },
          body: { error: { code: "TooManyRequests" } },
        },
        {
          status: 200,
          headers: { "request-id": "req-2", "set-cookie": "session=abc" },
          body: {
            id: "f1",
            uploadState: "azureStorageUriRequestSuccess",
            azureStorageUri: `https://blob/c?sig=${SIG}`,
          },
        },
      ),
    );
  });
  after(async () => {
    await server.close();
    await transport.close();
  });

  it("sends one client-request-id across retries and logs nothing secret", async () => {
    const logger = captureLogger();
    const recorder = recordingSleep();
    const ids = ["11111111-1111-4111-8111-111111111111"];
    const pipeline = createHttpPipeline({
      transport: transport.send,
      tokenProvider: { getToken: async () => ({ token: TOKEN, expiresOn: Date.now() + 3_600_000 }) },
      retry: { sleep: recorder.sleep },
      log: { logger },
      newRequestId: () => ids.shift() ?? "second-id",
    });
    const res = await pipeline.send({
      method: "POST",
      url: `${server.origin}/beta/files/f1/commit?sig=${SIG}&$select=id`,
      headers: { "Content-Type": "application/json", Cookie: "a=b" },
      body: JSON.stringify({ fileEncryptionInfo: { encryptionKey: KEY, macKey: KEY, mac: KEY } }),
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers["request-id"], "req-2");
    assert.deepEqual(
      server.received.map((r) => r.headers["client-request-id"]),
      ["11111111-1111-4111-8111-111111111111", "11111111-1111-4111-8111-111111111111"],
    );
    assert.deepEqual(recorder.waits, [3000]);

    const log = logger.lines.join("\n");
    for (const secret of [TOKEN, "c2VjcmV0LXBheWxvYWQ", SIG, KEY, "session=abc", "a=b"])
      assert.ok(!log.includes(secret), `log leaked ${secret}:\n${log}`);
    // What it does show: ids, statuses, the retry, allowed fields.
    assert.match(log, /11111111-1111-4111-8111-111111111111/);
    assert.match(log, /<-- 429 POST .*\/beta\/files\/f1\/commit\?sig=REDACTED&\$select=id/);
    assert.match(log, /"request-id":"req-1"/);
    assert.match(log, /HTTP 429; retry 1 of 5 in 3000 ms/);
    assert.match(log, /"authorization":"REDACTED"/);
    assert.match(log, /"fileEncryptionInfo":"REDACTED"/);
    assert.match(log, /"uploadState":"azureStorageUriRequestSuccess"/);
    assert.equal(logger.lines.filter((l) => l.startsWith("-->")).length, 2);
  });
});
