import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { NetworkError } from "./errors.js";
import { logPolicy } from "./log-policy.js";
import type { HttpLogEvent, HttpRequest, HttpResponse } from "./types.js";

function capture() {
  const lines: string[] = [];
  return { lines, logger: { info: (m: string) => lines.push(`I ${m}`), warning: (m: string) => lines.push(`W ${m}`) } };
}

const request: HttpRequest = {
  method: "PUT",
  url: "https://acct.blob.core.windows.net/c/b?comp=block&blockid=AAAA&sig=SECRETSIG&se=2026-01-01",
  headers: { authorization: "Bearer SECRETTOKEN", "x-ms-blob-type": "BlockBlob", "content-length": "4" },
  body: new Uint8Array([1, 2, 3, 4]),
};

describe("logPolicy", () => {
  it("logs request and response lines through the allow-lists, with elapsed time", async () => {
    const c = capture();
    let now = 1000;
    const policy = logPolicy({ logger: c.logger, clock: () => now });
    await policy.send(request, async (req): Promise<HttpResponse> => {
      now += 42;
      return {
        status: 201,
        headers: { "request-id": "rid", "x-ms-request-server-encrypted": "true" },
        bodyText: "",
        request: req,
      };
    });
    assert.deepEqual(c.lines, [
      'I --> PUT https://acct.blob.core.windows.net/c/b?comp=block&blockid=AAAA&sig=REDACTED&se=REDACTED headers={"authorization":"REDACTED","x-ms-blob-type":"REDACTED","content-length":"4"} body=<4 bytes>',
      'I <-- 201 PUT https://acct.blob.core.windows.net/c/b?comp=block&blockid=AAAA&sig=REDACTED&se=REDACTED (42 ms) headers={"request-id":"rid","x-ms-request-server-encrypted":"REDACTED"}',
    ]);
  });

  it("honours a wider allow-list given by the caller, and logs failures as warnings", async () => {
    const c = capture();
    const policy = logPolicy({ logger: c.logger, allowedHeaders: ["x-ms-blob-type"], clock: () => 0 });
    const failure = new NetworkError("dropped", "dropped", { causeCode: "ECONNRESET" });
    await assert.rejects(
      policy.send(request, () => Promise.reject(failure)),
      (e) => e === failure,
    );
    assert.match(c.lines[0] ?? "", /"x-ms-blob-type":"BlockBlob"/);
    assert.match(c.lines[0] ?? "", /"authorization":"REDACTED"/);
    assert.match(c.lines[1] ?? "", /^W <-- dropped ECONNRESET PUT .*sig=REDACTED/);
    assert.ok(!c.lines.join("\n").includes("SECRET"));
  });

  it("gives a logger with `event` structured fields (redacted URL, status, ids, duration) instead of lines", async () => {
    const events: HttpLogEvent[] = [];
    const lines: string[] = [];
    let now = 0;
    const policy = logPolicy({
      logger: { info: (m) => lines.push(m), warning: (m) => lines.push(m), event: (e) => events.push(e) },
      clock: () => now,
    });
    await policy.send({ ...request, headers: { ...request.headers, "client-request-id": "crid" } }, async (req) => {
      now += 7;
      return { status: 201, headers: { "x-ms-request-id": "srv-id" }, bodyText: "", request: req };
    });
    assert.deepEqual(lines, []);
    const url = "https://acct.blob.core.windows.net/c/b?comp=block&blockid=AAAA&sig=REDACTED&se=REDACTED";
    assert.deepEqual(
      events.map(({ message, ...rest }) => ({ ...rest, message: message.slice(0, 4) })),
      [
        { level: "info", method: "PUT", url, clientRequestId: "crid", message: "--> " },
        {
          level: "info",
          method: "PUT",
          url,
          status: 201,
          requestId: "srv-id",
          clientRequestId: "crid",
          durationMs: 7,
          message: "<-- ",
        },
      ],
    );
    assert.ok(!JSON.stringify(events).includes("SECRET"));
  });
});
