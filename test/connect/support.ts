/**
 * Test support for the connect tests: runs the real CLI entry (`main`) with captured streams and an explicit
 * environment, and checks that no secret, private key or token reached stdout or stderr.
 */
import assert from "node:assert/strict";
import { createSign, randomUUID } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { connect as netConnect } from "node:net";
import { createServer } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { fileURLToPath } from "node:url";
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

/**
 * How to run the CLI entry in a child process: node + these args (from source under tsx, or the compiled file under
 * dist/), in `cwd`. Writes a two-line entry module into `dir`.
 */
export async function cliCommand(dir: string): Promise<{ args: string[]; cwd: string }> {
  const fromSource = import.meta.url.endsWith(".ts");
  const entry = join(dir, "entry.mjs");
  const mainUrl = new URL("../../src/cli/main.js", import.meta.url).href;
  await writeFile(
    entry,
    `import { main } from ${JSON.stringify(mainUrl)};\nprocess.exitCode = await main(process.argv.slice(2));\n`,
  );
  const cwd = fileURLToPath(new URL(fromSource ? "../../" : "../../../", import.meta.url));
  return { args: [...(fromSource ? ["--import", "tsx"] : []), entry], cwd };
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

/**
 * A token as an external OIDC issuer (GitHub Actions, a Kubernetes service account) writes one to the workload
 * identity token file: RS256 with `kid`, signed by the issuer's key, not by anything registered on the app.
 */
export function oidcToken(o: {
  privateKey: KeyObject;
  kid: string;
  issuer: string;
  subject: string;
  audience?: string;
  /** seconds from now; negative for an expired token */
  expiresIn?: number;
}): string {
  const now = Math.floor(Date.now() / 1000);
  const exp = now + (o.expiresIn ?? 600);
  const enc = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString("base64url");
  const input = `${enc({ alg: "RS256", typ: "JWT", kid: o.kid })}.${enc({
    iss: o.issuer,
    sub: o.subject,
    aud: o.audience ?? "api://AzureADTokenExchange",
    jti: randomUUID(),
    iat: Math.min(now, exp - 600),
    nbf: Math.min(now, exp - 600),
    exp,
    ref: "refs/heads/main",
  })}`;
  const sig = createSign("RSA-SHA256").update(input).sign(o.privateKey).toString("base64url");
  return `${input}.${sig}`;
}

/** Reads a run log: every line must be JSON with a time and a level, and nothing secret may be in it. */
export async function readCleanLog(path: string, secrets: string[]): Promise<Record<string, unknown>[]> {
  const text = await readFile(path, "utf8");
  assertNoSecrets({ code: 0, out: text, err: "" }, secrets);
  assert.doesNotMatch(text, /eyJ[A-Za-z0-9_-]{5,}/, "something token-like appeared in the log");
  assert.doesNotMatch(text, /-----BEGIN/, "PEM material appeared in the log");
  const lines = text.trimEnd().split("\n");
  return lines.map((l) => {
    const e = JSON.parse(l) as Record<string, unknown>;
    assert.match(String(e["time"]), /^\d{4}-\d\d-\d\dT/);
    assert.match(String(e["level"]), /^(info|warning|error)$/);
    return e;
  });
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
