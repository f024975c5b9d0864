/**
 * The streaming transport on real sockets: TLS checks that NODE_TLS_REJECT_UNAUTHORIZED=0 cannot turn off, CONNECT
 * tunnels through a proxy (https and http targets, credentials, a refusing proxy, NO_PROXY), the idle timeout.
 */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { createServer as createTlsServer } from "node:https";
import { connect as netConnect } from "node:net";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { after, before, describe, it } from "node:test";
import { createTlsCertificates } from "../../platform/certificates.js";
import { NetworkError } from "./errors.js";
import { createStreamTransport } from "./stream-transport.js";
import type { StreamTransport } from "./stream-transport.js";

/** A CA and a server certificate for vendor.invalid, localhost and 127.0.0.1. */
function pki(): ReturnType<typeof createTlsCertificates> {
  return createTlsCertificates({
    caSubject: "stream transport test CA",
    serverSubject: "vendor.invalid",
    dnsNames: ["vendor.invalid", "localhost"],
    caValidDays: 1,
    serverValidDays: 1,
  });
}

const read = async (body: NodeJS.ReadableStream): Promise<string> => {
  let text = "";
  for await (const c of body) text += (c as Buffer).toString();
  return text;
};
const get = (url: string, headers: Record<string, string> = {}) => ({ method: "GET" as const, url, headers });
const listen = async (server: Server): Promise<number> => {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return (server.address() as AddressInfo).port;
};
const close = (server: Server): Promise<void> => {
  server.closeAllConnections();
  return new Promise((r) => server.close(() => r()));
};

describe("stream transport", () => {
  let certs: Awaited<ReturnType<typeof pki>>;
  let tlsServer: Server;
  let plainServer: Server;
  let tlsPort: number;
  let plainPort: number;
  let proxy: Server;
  let proxyPort: number;
  const tunnels: { authority: string; auth: string | undefined }[] = [];
  let refuseWith: number | undefined;

  before(async () => {
    certs = await pki();
    const answer = (req: IncomingMessage, res: ServerResponse): void => {
      if (req.url === "/stall") {
        res.writeHead(200, { "Content-Length": "100" });
        res.write("only part");
        return; // never ends: the idle timeout must
      }
      if (req.url === "/silent") return; // never answers
      res.end(`hello from ${req.headers.host} ua=${req.headers["user-agent"]}`);
    };
    tlsServer = createTlsServer({ cert: certs.serverCertPem, key: certs.serverKeyPem }, answer);
    plainServer = createServer(answer);
    tlsPort = await listen(tlsServer);
    plainPort = await listen(plainServer);
    // A CONNECT proxy that records what it was asked for and tunnels to 127.0.0.1 whatever the name.
    proxy = createServer();
    proxy.on("connect", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      tunnels.push({ authority: req.url ?? "", auth: req.headers["proxy-authorization"] });
      if (refuseWith !== undefined) {
        socket.end(`HTTP/1.1 ${refuseWith} Refused\r\n\r\n`);
        return;
      }
      const port = Number((req.url ?? "").split(":").at(-1));
      const upstream = netConnect(port, "127.0.0.1", () => {
        socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
        upstream.write(head);
        upstream.pipe(socket).pipe(upstream);
      });
      // As a proxy does: the tunnel closes when the origin closes (answers are `connection: close`).
      upstream.on("close", () => socket.destroy());
      upstream.on("error", () => socket.destroy());
      socket.on("error", () => upstream.destroy());
    });
    proxyPort = await listen(proxy);
  });
  after(async () => {
    await Promise.all([close(tlsServer), close(plainServer), close(proxy)]);
  });

  const using = async <T>(t: StreamTransport, f: (t: StreamTransport) => Promise<T>): Promise<T> => {
    try {
      return await f(t);
    } finally {
      await t.close();
    }
  };

  it("trusts the CA it is given, and refuses an untrusted certificate even with NODE_TLS_REJECT_UNAUTHORIZED=0", async () => {
    await using(createStreamTransport({ trustedCaPem: certs.caCertPem, userAgent: "ua/1" }), async (t) => {
      const res = await t.stream(get(`https://127.0.0.1:${tlsPort}/`));
      assert.equal(res.status, 200);
      assert.equal(await read(res.body), `hello from 127.0.0.1:${tlsPort} ua=ua/1`);
    });
    const saved = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0";
    try {
      await using(createStreamTransport(), (t) =>
        assert.rejects(
          t.stream(get(`https://127.0.0.1:${tlsPort}/`)),
          (e: unknown) => e instanceof NetworkError && e.failure === "tls",
        ),
      );
    } finally {
      if (saved === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
      else process.env.NODE_TLS_REJECT_UNAUTHORIZED = saved;
    }
  });

  it("refuses a trusted certificate that does not name the host (through a tunnel, where only TLS checks the name)", async () => {
    // The server's certificate names vendor.invalid, localhost and 127.0.0.1: the proxy tunnels any name to it.
    const proxyUrl = `http://127.0.0.1:${proxyPort}`;
    const settings = { httpsProxy: proxyUrl, httpProxy: proxyUrl, noProxy: "" };
    refuseWith = undefined;
    await using(createStreamTransport({ trustedCaPem: certs.caCertPem, proxy: settings }), async (t) => {
      const good = await t.stream(get(`https://vendor.invalid:${tlsPort}/`));
      assert.equal(good.status, 200);
      await read(good.body);
      await assert.rejects(
        t.stream(get(`https://other.invalid:${tlsPort}/`)),
        (e: unknown) => e instanceof NetworkError && e.failure === "tls",
      );
    });
  });

  it("tunnels https and http through the proxy with its credentials, except NO_PROXY hosts", async () => {
    tunnels.length = 0;
    refuseWith = undefined;
    const proxyUrl = `http://user:p%40ss@127.0.0.1:${proxyPort}`;
    const settings = { httpsProxy: proxyUrl, httpProxy: proxyUrl, noProxy: "direct.invalid" };
    await using(
      createStreamTransport({ trustedCaPem: certs.caCertPem, proxy: settings, userAgent: "ua/1" }),
      async (t) => {
        // vendor.invalid resolves nowhere: only the tunnel (to 127.0.0.1) reaches it, and TLS checks the name.
        const secure = await t.stream(get(`https://vendor.invalid:${tlsPort}/a`));
        assert.equal(await read(secure.body), `hello from vendor.invalid:${tlsPort} ua=ua/1`);
        const plain = await t.stream(get(`http://vendor.invalid:${plainPort}/b`));
        assert.equal(await read(plain.body), `hello from vendor.invalid:${plainPort} ua=ua/1`);
        assert.deepEqual(
          tunnels.map((x) => x.authority),
          [`vendor.invalid:${tlsPort}`, `vendor.invalid:${plainPort}`],
        );
        const basic = `Basic ${Buffer.from("user:p@ss").toString("base64")}`;
        assert.ok(tunnels.every((x) => x.auth === basic));
        // Not proxied: the name does not resolve, so the connection fails without reaching the proxy.
        await assert.rejects(t.stream(get(`http://direct.invalid:${plainPort}/`)), NetworkError);
        assert.equal(tunnels.length, 2);
      },
    );
  });

  it("reports a proxy that refuses the tunnel", async () => {
    refuseWith = 407;
    try {
      await using(createStreamTransport({ proxy: { httpsProxy: `http://127.0.0.1:${proxyPort}` } }), async (t) => {
        await assert.rejects(
          t.stream(get(`https://vendor.invalid:${tlsPort}/`)),
          (e: unknown) =>
            e instanceof NetworkError &&
            e.causeCode === "PROXY_407" &&
            /The proxy http:\/\/127\.0\.0\.1:\d+ answered 407 .* to the tunnel for vendor\.invalid/.test(e.message),
        );
      });
    } finally {
      refuseWith = undefined;
    }
  });

  it("gives up on a server that stops sending (idle timeout), before or during the body", async () => {
    await using(createStreamTransport({ idleTimeoutMs: 300 }), async (t) => {
      await assert.rejects(
        t.stream(get(`http://127.0.0.1:${plainPort}/silent`)),
        (e: unknown) => e instanceof NetworkError && e.failure === "dropped",
      );
      const res = await t.stream(get(`http://127.0.0.1:${plainPort}/stall`));
      assert.equal(res.status, 200);
      await assert.rejects(read(res.body));
    });
  });
});
