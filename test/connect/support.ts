/**
 * Test support for the connect tests: runs the real CLI entry (`main`) with captured streams and an explicit
 * environment, and checks that no secret, private key or token reached stdout or stderr.
 */
import assert from "node:assert/strict";
import { createSign, randomUUID, X509Certificate } from "node:crypto";
import { connect as netConnect } from "node:net";
import { createServer } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { PassThrough } from "node:stream";
import { main } from "../../src/cli/main.js";

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

export async function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (d: Buffer) => (out += d.toString("utf8")));
  stderr.on("data", (d: Buffer) => (err += d.toString("utf8")));
  const code = await main(args, { stdout, stderr, env, cwd: env["HOME"] ?? process.cwd() });
  return { code, out, err };
}

/** Any JWT (header.payload.signature, both parts JSON objects). */
const JWT = /eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+/;

/** Asserts none of `secrets` (nor any JWT, nor a line of PEM key material) appears in the output. */
export function assertNoSecrets(r: CliResult, secrets: string[]): void {
  const all = r.out + r.err;
  for (const s of secrets) {
    assert.ok(s.length >= 8, "a secret to look for must be long enough to be meaningful");
    assert.ok(!all.includes(s), `a secret value appeared in the output: ${s.slice(0, 4)}…`);
  }
  assert.doesNotMatch(all, JWT, "a token appeared in the output");
  assert.doesNotMatch(all, /PRIVATE KEY/, "private key material appeared in the output");
}

/** The base64 body lines of a PEM key, to scan for. */
export function keyLines(pem: string): string[] {
  return pem
    .split("\n")
    .filter((l) => /^[A-Za-z0-9+/=]{60,}$/.test(l))
    .slice(0, 3);
}

/** A client assertion (RS256 + x5t) as a workload-identity token file would carry one to the local tenant. */
export function clientAssertion(o: { certPem: string; keyPem: string; clientId: string; audience: string }): string {
  const x5t = Buffer.from(new X509Certificate(o.certPem).fingerprint.replace(/:/g, ""), "hex").toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  const enc = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString("base64url");
  const input = `${enc({ alg: "RS256", typ: "JWT", x5t })}.${enc({
    aud: o.audience,
    iss: o.clientId,
    sub: o.clientId,
    jti: randomUUID(),
    nbf: now,
    iat: now,
    exp: now + 600,
  })}`;
  const sig = createSign("RSA-SHA256").update(input).sign(o.keyPem).toString("base64url");
  return `${input}.${sig}`;
}

/**
 * A minimal HTTP CONNECT forward proxy that records the targets asked for. Hosts under `.invalid` (RFC 6761) are
 * answered 502 (nothing leaves the machine); anything else is tunnelled.
 */
export async function startConnectProxy(): Promise<{ url: string; targets: string[]; close: () => Promise<void> }> {
  const targets: string[] = [];
  const server: Server = createServer((_req, res) => {
    res.statusCode = 405;
    res.end();
  });
  server.on("connect", (req, client, head) => {
    const target = req.url ?? "";
    targets.push(target);
    const [host, port] = target.split(":");
    if (host?.endsWith(".invalid")) {
      client.end("HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n");
      return;
    }
    const upstream = netConnect(Number(port), host ?? "127.0.0.1", () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    targets,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
