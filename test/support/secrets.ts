/**
 * Secrets in tests: checks that no secret, private key or token reached the CLI's output or a run log; tokens as an
 * external OIDC issuer writes them.
 */
import assert from "node:assert/strict";
import { createSign, randomUUID } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { CliResult } from "./cli.js";

/** Any JWT (header.payload.signature, both parts JSON objects). */
const JWT = /eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+/;

/** Asserts none of `secrets` (nor any JWT, nor a line of PEM key material) appears in the output. */
export function assertNoSecrets(r: CliResult, secrets: string[]): void {
  const all = r.stdout + r.stderr;
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
  assertNoSecrets({ code: 0, stdout: text, stderr: "" }, secrets);
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
