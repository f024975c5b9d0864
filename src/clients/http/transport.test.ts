import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { join } from "node:path";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import { createTlsCertificates } from "../../platform/certificates.js";
import type { TlsCertificates } from "../../platform/certificates.js";
import { repoRoot } from "../../../test/support/paths.js";
import { PublisherError } from "../../core/errors.js";
import { NetworkError, ResponseTooLargeError } from "./errors.js";
import { createHttpPipeline } from "./pipeline.js";
import { inOrder, startScriptedServer } from "./testing/scripted-server.js";
import type { ScriptedServer } from "./testing/scripted-server.js";
import { BODY_SLICE, bodySlices, createFetchTransport } from "./transport.js";
import type { HttpRequest } from "./types.js";

const get = (url: string): HttpRequest => ({ method: "GET", url, headers: { accept: "application/json" } });

describe("fetch transport: TLS trust", () => {
  let pki: TlsCertificates;
  let server: ScriptedServer;
  before(async () => {
    pki = await createTlsCertificates();
    server = await startScriptedServer(() => ({ status: 200, body: { ok: true } }), {
      cert: pki.serverCertPem,
      key: pki.serverKeyPem,
    });
  });
  after(() => server.close());

  it("refuses a server whose CA is not trusted, with a hint", async () => {
    const transport = createFetchTransport();
    try {
      await assert.rejects(
        transport.send(get(`${server.origin}/beta`)),
        (e: unknown) => e instanceof NetworkError && e.failure === "tls" && e.code === "TlsUntrusted" && !!e.hint,
      );
    } finally {
      await transport.close();
    }
  });

  it("trusts the extra CA it is given", async () => {
    const transport = createFetchTransport({ trustedCaPem: pki.caCertPem });
    try {
      const res = await transport.send(get(`${server.origin}/beta`));
      assert.equal(res.status, 200);
      assert.deepEqual(JSON.parse(res.bodyText), { ok: true });
    } finally {
      await transport.close();
    }
  });
});

describe("fetch transport: idle timeout", () => {
  it("gives up on a server that never answers as a dropped connection, and a GET is then retried", async () => {
    const sockets = new Set<Socket>();
    let requests = 0;
    const server = createServer(() => void requests++); // reads the request, never answers
    server.on("connection", (s) => sockets.add(s));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const transport = createFetchTransport({ idleTimeoutMs: 200 });
    try {
      const started = performance.now();
      await assert.rejects(
        transport.send(get(`${origin}/hang`)),
        (e: unknown) => e instanceof NetworkError && e.failure === "dropped" && /HEADERS_TIMEOUT/.test(e.message),
      );
      // Not before the idle timeout (load can only make it later, so there is no upper bound here).
      const ms = performance.now() - started;
      assert.ok(ms >= 190, `gave up after ${Math.round(ms)} ms`);
      // Through the pipeline: a GET is safe to replay, so it is tried again (and times out again).
      const pipeline = createHttpPipeline({
        transport: transport.send,
        retry: { maxAttempts: 2, sleep: async () => undefined },
      });
      await assert.rejects(pipeline.send({ method: "GET", url: `${origin}/hang` }), NetworkError);
      assert.equal(requests, 3);
    } finally {
      await transport.close();
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    }
  });
});

describe("fetch transport: User-Agent", () => {
  it("names the tool, its version, Node and the platform; a caller's own User-Agent is kept", async () => {
    const server = await startScriptedServer(() => ({ status: 200, body: {} }));
    const transport = createFetchTransport();
    try {
      await transport.send(get(`${server.origin}/a`));
      await transport.send({ ...get(`${server.origin}/b`), headers: { "user-agent": "custom/1" } });
      const pkg = JSON.parse(await readFile(join(repoRoot(), "package.json"), "utf8")) as { version: string };
      assert.equal(
        server.received[0]!.headers["user-agent"],
        `intune-publisher/${pkg.version} Node.js/${process.versions.node} (${process.platform}; ${process.arch})`,
      );
      assert.equal(server.received[1]!.headers["user-agent"], "custom/1");
    } finally {
      await transport.close();
      await server.close();
    }
  });
});

describe("fetch transport: proxy", () => {
  let target: ScriptedServer;
  let proxy: ReturnType<typeof createServer>;
  let proxyUrl: string;
  const tunnels: string[] = [];
  before(async () => {
    target = await startScriptedServer(() => ({ status: 200, body: { via: "target" } }));
    const targetPort = new URL(target.origin).port;
    // A CONNECT proxy that records the requested authority and tunnels to the local target.
    proxy = createServer();
    proxy.on("connect", (req, socket, head) => {
      tunnels.push(req.url ?? "");
      const upstream = connect(Number(targetPort), "127.0.0.1", () => {
        socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
        upstream.write(head);
        upstream.pipe(socket).pipe(upstream);
      });
      upstream.on("error", () => socket.destroy());
      socket.on("error", () => upstream.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
    proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  });
  after(async () => {
    proxy.closeAllConnections();
    await new Promise((r) => proxy.close(r));
    await target.close();
  });

  it("tunnels through HTTP_PROXY, except for NO_PROXY hosts", async () => {
    const port = new URL(target.origin).port;
    const transport = createFetchTransport({ proxy: { httpProxy: proxyUrl, noProxy: "direct.invalid" } });
    try {
      const res = await transport.send(get(`http://graph.invalid:${port}/beta`));
      assert.equal(res.status, 200);
      assert.deepEqual(tunnels, [`graph.invalid:${port}`]);
      // Not proxied: the name does not resolve, so the connection fails without reaching the proxy.
      await assert.rejects(transport.send(get(`http://direct.invalid:${port}/beta`)), NetworkError);
      assert.equal(tunnels.length, 1);
    } finally {
      await transport.close();
    }
  });
});

describe("fetch transport: failures", () => {
  it("classifies a dropped connection and keeps the client-request-id", async () => {
    const server = await startScriptedServer(inOrder("drop"));
    const transport = createFetchTransport();
    try {
      const request = get(`${server.origin}/x`);
      request.headers["client-request-id"] = "cid-1";
      await assert.rejects(
        transport.send(request),
        (e: unknown) =>
          e instanceof NetworkError && e.failure === "dropped" && e.clientRequestId === "cid-1" && e.kind === "network",
      );
    } finally {
      await transport.close();
      await server.close();
    }
  });

  it("returns a redirect instead of following it", async () => {
    const server = await startScriptedServer(
      inOrder({ status: 302, headers: { location: "https://elsewhere.test/" } }),
    );
    const transport = createFetchTransport();
    try {
      const res = await transport.send(get(`${server.origin}/x`));
      assert.equal(res.status, 302);
      assert.equal(server.received.length, 1);
    } finally {
      await transport.close();
      await server.close();
    }
  });
});

describe("fetch transport: large bodies", () => {
  it("cuts a body into views of BODY_SLICE bytes, in order, without copying", () => {
    const body = new Uint8Array(2 * BODY_SLICE + 5).map((_, i) => i % 251);
    const parts = [...bodySlices(body)];
    assert.deepEqual(
      parts.map((p) => p.length),
      [BODY_SLICE, BODY_SLICE, 5],
    );
    assert.ok(parts.every((p) => p.buffer === body.buffer));
    assert.deepEqual(Buffer.concat(parts), Buffer.from(body));
    assert.deepEqual([...bodySlices(new Uint8Array(0))], []);
  });

  it("sends a large body whole, with its Content-Length and not chunked, as often as it is sent", async () => {
    const pki = await createTlsCertificates();
    const server = await startScriptedServer(() => ({ status: 201 }), {
      cert: pki.serverCertPem,
      key: pki.serverKeyPem,
    });
    const transport = createFetchTransport({ trustedCaPem: pki.caCertPem });
    try {
      // ASCII, so the scripted server's UTF-8 view of the body is byte for byte.
      const body = Buffer.alloc(16 * BODY_SLICE + 3, "abcdefghijklmnopqrstuvwxyz0123456789");
      const request: HttpRequest = { method: "PUT", url: `${server.origin}/blob?comp=block`, headers: {}, body };
      for (let i = 0; i < 2; i++) assert.equal((await transport.send(request)).status, 201);
      assert.equal(server.received.length, 2);
      for (const r of server.received) {
        assert.equal(r.headers["content-length"], String(body.length));
        assert.equal(r.headers["transfer-encoding"], undefined);
        assert.equal(r.body, body.toString("latin1"));
      }
    } finally {
      await transport.close();
      await server.close();
    }
  });
});

describe("fetch transport: streamed bodies", () => {
  it("sends a streamed body with its Content-Length, not chunked, opening it anew for each attempt", async () => {
    const pki = await createTlsCertificates();
    const server = await startScriptedServer(inOrder({ status: 503 }, { status: 201 }), {
      cert: pki.serverCertPem,
      key: pki.serverKeyPem,
    });
    const transport = createFetchTransport({ trustedCaPem: pki.caCertPem });
    try {
      const piece = Buffer.alloc(3 * BODY_SLICE + 7, "0123456789abcdefghijklmnopqrstuvwxyz");
      let opened = 0;
      const streamedBody = {
        length: 2 * piece.length,
        async *open() {
          opened++;
          yield piece;
          yield piece;
        },
      };
      const pipeline = createHttpPipeline({ transport: transport.send, retry: { sleep: async () => undefined } });
      const res = await pipeline.send({ method: "PUT", url: `${server.origin}/blob?comp=block`, streamedBody });
      assert.equal(res.status, 201);
      assert.equal(opened, 2, "the retry opened the body again");
      assert.equal(server.received.length, 2);
      for (const r of server.received) {
        assert.equal(r.headers["content-length"], String(2 * piece.length));
        assert.equal(r.headers["transfer-encoding"], undefined);
        assert.equal(r.body, piece.toString("latin1").repeat(2));
      }
    } finally {
      await transport.close();
      await server.close();
    }
  });

  it("fails with the body's own error, once, when the body cannot be produced (not a network failure)", async () => {
    const server = await startScriptedServer(() => ({ status: 201 }));
    const transport = createFetchTransport();
    try {
      let opened = 0;
      const streamedBody = {
        length: 4 * BODY_SLICE,
        async *open() {
          opened++;
          yield Buffer.alloc(BODY_SLICE);
          throw new PublisherError("PayloadSizeMismatch", "The content ended at byte 65536 of 262144.");
        },
      };
      const pipeline = createHttpPipeline({ transport: transport.send, retry: { sleep: async () => undefined } });
      await assert.rejects(
        pipeline.send({ method: "PUT", url: `${server.origin}/blob?comp=block`, streamedBody }),
        (e: unknown) => e instanceof PublisherError && !(e instanceof NetworkError) && e.code === "PayloadSizeMismatch",
      );
      assert.equal(opened, 1, "not retried");
    } finally {
      await transport.close();
      await server.close();
    }
  });
});

describe("fetch transport: bounded answers", () => {
  it("refuses an answer over maxResponseBytes, by its Content-Length or by the bytes read, and keeps smaller ones", async () => {
    // A server that declares its length, and one that streams chunks without declaring it.
    const declared = await startScriptedServer(() => ({
      status: 200,
      headers: { "content-length": "5000" },
      body: "x".repeat(5000),
    }));
    const chunked = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      for (let i = 0; i < 10; i++) res.write("y".repeat(1000));
      res.end();
    });
    await new Promise<void>((r) => chunked.listen(0, "127.0.0.1", r));
    const chunkedOrigin = `http://127.0.0.1:${(chunked.address() as AddressInfo).port}`;
    const transport = createFetchTransport();
    try {
      await assert.rejects(
        transport.send({ ...get(`${declared.origin}/big`), maxResponseBytes: 4096 }),
        (e: unknown) =>
          e instanceof ResponseTooLargeError &&
          e.kind === "input" &&
          /5000 bytes, over the limit of 4096/.test(e.message),
      );
      await assert.rejects(
        transport.send({ ...get(`${chunkedOrigin}/big`), maxResponseBytes: 4096 }),
        (e: unknown) => e instanceof ResponseTooLargeError && /larger than the limit of 4096 bytes/.test(e.message),
      );
      const ok = await transport.send({ ...get(`${chunkedOrigin}/big`), maxResponseBytes: 10_000 });
      assert.equal(ok.bodyText, "y".repeat(10_000));
      // Through the pipeline: refused once, never retried.
      const pipeline = createHttpPipeline({ transport: transport.send, retry: { sleep: async () => undefined } });
      await assert.rejects(
        pipeline.send({ method: "GET", url: `${declared.origin}/big`, maxResponseBytes: 100 }),
        ResponseTooLargeError,
      );
      assert.equal(declared.received.length, 2);
    } finally {
      await transport.close();
      await declared.close();
      chunked.closeAllConnections();
      await new Promise((r) => chunked.close(r));
    }
  });
});
