/**
 * The stream transport's own HTTP/1.1 reader against a local server that answers raw bytes: hostile heads give
 * errors that name the problem, bodies are framed by Content-Length, chunked coding or the connection's close.
 */
import assert from "node:assert/strict";
import { createServer } from "node:net";
import type { AddressInfo, Server, Socket } from "node:net";
import { Duplex } from "node:stream";
import type { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { NetworkError } from "./errors.js";
import { rawExchange, RAW_HEAD_LIMITS } from "./raw-get.js";
import { createStreamTransport } from "./stream-transport.js";

const read = async (body: Readable): Promise<string> => {
  let text = "";
  for await (const c of body) text += (c as Buffer).toString("latin1");
  return text;
};

describe("raw HTTP/1.1 reader", () => {
  let server: Server;
  let port: number;
  /** what the server answers, by path; a function gets the socket to write (and close) itself */
  const answers = new Map<string, string | ((s: Socket) => void)>();
  const heads: string[] = [];

  before(async () => {
    server = createServer((s) => {
      let got = "";
      s.on("data", (d: Buffer) => {
        got += d.toString("latin1");
        const end = got.indexOf("\r\n\r\n");
        if (end < 0) return;
        heads.push(got.slice(0, end));
        const path = got.split(" ")[1] ?? "";
        const answer = answers.get(path);
        if (typeof answer === "function") answer(s);
        else s.end(answer ?? "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n", "latin1");
      });
      s.on("error", () => undefined);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  const transport = createStreamTransport({ userAgent: "ua/raw" });
  after(() => transport.close());
  const get = (path: string, headers: Record<string, string> = {}, method: "GET" | "HEAD" = "GET") =>
    transport.stream({ method, url: `http://127.0.0.1:${port}${path}`, headers });
  const refused = async (path: string, message: RegExp, failure: "other" | "dropped" = "other"): Promise<void> => {
    await assert.rejects(get(path), (e: unknown) => {
      assert.ok(e instanceof NetworkError, String(e));
      assert.equal(e.failure, failure);
      assert.match(e.message, message);
      return true;
    });
  };

  it("sends our request head (user agent, connection: close) and reads a Content-Length body, ignoring bytes past it", async () => {
    answers.set("/ok?q=1", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\nx-a: 2\r\n\r\nhelloEXTRA");
    heads.length = 0;
    const res = await get("/ok?q=1", { "X-Custom": "v" });
    assert.equal(res.status, 200);
    assert.equal(res.headers["x-a"], "1, 2");
    assert.equal(await read(res.body), "hello");
    const sent = heads[0]?.split("\r\n") ?? [];
    assert.equal(sent[0], "GET /ok?q=1 HTTP/1.1");
    assert.ok(sent.includes(`host: 127.0.0.1:${port}`), heads[0]);
    assert.ok(sent.includes("user-agent: ua/raw"), heads[0]);
    assert.ok(sent.includes("connection: close"), heads[0]);
    assert.ok(sent.includes("x-custom: v"), heads[0]);
  });

  it("keeps headers named like an object's own properties as ordinary headers", async () => {
    answers.set(
      "/proto",
      "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConstructor: c\r\n__proto__: p\r\ntoString: t\r\n\r\n",
    );
    const res = await get("/proto");
    assert.equal(res.headers["constructor"], "c");
    assert.equal(res.headers["tostring"], "t");
    assert.ok(Object.hasOwn(res.headers, "__proto__"));
    assert.equal(Object.getOwnPropertyDescriptor(res.headers, "__proto__")?.value, "p");
    assert.equal(Object.getPrototypeOf(res.headers), Object.prototype);
    await read(res.body);
  });

  it("reads a chunked body (extensions and trailers skipped) and a body delimited by the connection's close", async () => {
    answers.set(
      "/chunked",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;name=x\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nX-Trailer: t\r\n\r\n",
    );
    answers.set("/close", "HTTP/1.0 200 OK\r\n\r\nuntil the end");
    assert.equal(await read((await get("/chunked")).body), "hello world");
    assert.equal(await read((await get("/close")).body), "until the end");
  });

  it("skips 1xx interim answers, and reads no body for HEAD, 204 and 304", async () => {
    answers.set(
      "/interim",
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    );
    const res = await get("/interim");
    assert.equal(res.status, 200);
    assert.equal(res.headers.link, undefined);
    assert.equal(await read(res.body), "ok");
    answers.set("/head", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n");
    const head = await get("/head", {}, "HEAD");
    assert.equal(head.headers["content-length"], "100");
    assert.equal(await read(head.body), "");
    answers.set("/nc", 'HTTP/1.1 304 Not Modified\r\nETag: "e"\r\n\r\n');
    assert.equal(await read((await get("/nc")).body), "");
  });

  it("refuses malformed heads with an error that names the problem", async () => {
    answers.set("/status", "HTTP/2 200 OK\r\n\r\n");
    await refused("/status", /status line "HTTP\/2 200 OK" is not "HTTP\/1\.x NNN reason"/);
    answers.set("/colon", "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n");
    await refused("/colon", /header line "no colon here" has no name and colon/);
    answers.set("/fold", "HTTP/1.1 200 OK\r\nX-A: 1\r\n  folded\r\n\r\n");
    await refused("/fold", /obsolete line folding/);
    answers.set("/cl", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!");
    await refused("/cl", /Content-Length "5, 6" is not one number/);
    answers.set("/both", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    await refused("/both", /both Transfer-Encoding and Content-Length/);
    answers.set("/gzip", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n");
    await refused("/gzip", /Transfer-Encoding "gzip, chunked" is not supported/);
    answers.set("/switch", "HTTP/1.1 101 Switching Protocols\r\n\r\n");
    await refused("/switch", /switches protocols \(101\)/);
    const many = Array.from({ length: RAW_HEAD_LIMITS.maxHeaderLines + 1 }, (_, i) => `X-${i}: v\r\n`).join("");
    answers.set("/many", `HTTP/1.1 200 OK\r\n${many}\r\n`);
    await refused("/many", /more than 100 header lines/);
    answers.set("/huge", (s) => {
      s.write("HTTP/1.1 200 OK\r\n");
      for (let i = 0; i < 70; i++) s.write(`X-Pad: ${"a".repeat(1020)}\r\n`);
    });
    await refused("/huge", /head is larger than 65536 bytes/);
  });

  it("reports a connection closed mid-head or mid-body as dropped, and a bad chunked body as malformed", async () => {
    answers.set("/midhead", "HTTP/1.1 200 OK\r\nContent-Le");
    await refused("/midhead", /dropped/, "dropped");
    answers.set("/short", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
    const res = await get("/short");
    await assert.rejects(read(res.body), /closed before the answer's body was complete/);
    for (const [path, body, message] of [
      ["/c-hex", "zz\r\nhello\r\n0\r\n\r\n", /does not start with a hex number/],
      ["/c-long", "00000000000000001\r\nh\r\n0\r\n\r\n", /more than 16 hex digits/],
      ["/c-size", "3\r\nhello\r\n0\r\n\r\n", /not followed by CRLF \(wrong chunk size\)/],
      ["/c-lf", "5\nhello\r\n0\r\n\r\n", /followed by something else than an extension or CRLF/],
      ["/c-cut", "5\r\nhel", /closed before the answer's body was complete/],
    ] as const) {
      answers.set(path, `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${body}`);
      const r = await get(path);
      await assert.rejects(read(r.body), message, path);
    }
  });

  it("stops waiting for the head when the signal aborts, or when the transport is closed", async () => {
    answers.set("/silent", () => undefined);
    const controller = new AbortController();
    const pending = transport.stream({
      method: "GET",
      url: `http://127.0.0.1:${port}/silent`,
      headers: {},
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 20);
    await assert.rejects(pending, (e: unknown) => e instanceof Error && "code" in e && e.code === "Cancelled");
    const other = createStreamTransport();
    // closed once the request arrived: the connection is open then
    answers.set("/close-me", () => void other.close());
    const waiting = other.stream({ method: "GET", url: `http://127.0.0.1:${port}/close-me`, headers: {} });
    await assert.rejects(waiting, (e: unknown) => e instanceof NetworkError && e.failure === "dropped");
  });

  it("refuses a request header with a line break before connecting", async () => {
    heads.length = 0;
    await assert.rejects(
      get("/ok?q=1", { "x-evil": "a\r\nx-injected: 1" }),
      (e: unknown) => e instanceof NetworkError && /line break or control character/.test(e.message),
    );
    assert.equal(heads.length, 0);
  });

  it("decodes a chunked body split at every byte boundary, and a head split anywhere", async () => {
    const wire = Buffer.from(
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
        "a;x=1\r\n0123456789\r\n3\r\nabc\r\n0\r\nT: 1\r\n\r\n",
      "latin1",
    );
    for (let k = 1; k < wire.length; k++) {
      const socket = new Duplex({ read() {}, write: (_c, _e, cb) => cb() });
      const answer = rawExchange(socket, "GET", "GET / HTTP/1.1\r\n\r\n", undefined);
      socket.push(wire.subarray(0, k));
      socket.push(wire.subarray(k));
      const res = await answer;
      assert.equal(res.status, 200, `split at ${k}`);
      assert.equal(await read(res.body), "0123456789abc", `split at ${k}`);
    }
    // byte by byte
    const socket = new Duplex({ read() {}, write: (_c, _e, cb) => cb() });
    const answer = rawExchange(socket, "GET", "GET / HTTP/1.1\r\n\r\n", undefined);
    for (let i = 0; i < wire.length; i++) socket.push(wire.subarray(i, i + 1));
    assert.equal(await read((await answer).body), "0123456789abc");
  });
});
