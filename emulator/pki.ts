/**
 * The local tenant's PKI: a CA, a TLS server certificate for 127.0.0.1 + localhost signed by it, and the
 * token-signing key pair (HTTPS only; the CA is made on first start and kept in the state folder). Certificates
 * come from the project's one certificate helper, `src/platform/certificates.ts`.
 */
import { createHash, createPrivateKey, createPublicKey } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { chmod, mkdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { isPublisherError } from "../src/core/errors.js";
import { createTlsCertificates, newRsaKeyPair } from "../src/platform/certificates.js";
import { readBoundedText } from "../src/platform/fs.js";

export interface Pki {
  caCertPem: string;
  serverCertPem: string;
  serverKeyPem: string;
  signingKey: KeyObject;
  signingPublicKey: KeyObject;
  /** `kid` of the token-signing key (base64url SHA-1 of its SPKI, like Entra's x5t-style kids) */
  signingKid: string;
  /** where ca.pem was written, when a state folder was given */
  caCertPath?: string;
  /** private key files other users may read */
  warnings?: string[];
}

/** Each PKI file is one PEM object of a few KB. */
export const PKI_FILE_MAX_BYTES = 64 * 1024;

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readBoundedText({ path, what: "local tenant key or certificate", maxBytes: PKI_FILE_MAX_BYTES });
  } catch (e) {
    if (isPublisherError(e) && e.code === "FileNotFound") return undefined;
    throw e;
  }
}

/** A warning for each private key file other users may read (POSIX modes only). */
async function keyWarnings(paths: string[]): Promise<string[]> {
  if (process.platform === "win32") return [];
  const out: string[] = [];
  for (const p of paths) {
    const mode = (await stat(p)).mode & 0o777;
    if ((mode & 0o077) !== 0)
      out.push(
        `The local tenant's private key ${p} is readable by other users (mode ${mode.toString(8)}); run chmod 600 on it.`,
      );
  }
  return out;
}

/** Loads the PKI from `stateDir`, or creates it (and writes it there when a folder is given). */
export async function loadOrCreatePki(stateDir?: string): Promise<Pki> {
  if (stateDir !== undefined) {
    const [ca, cert, key, signing] = await Promise.all(
      ["ca.pem", "server.pem", "server.key", "token-signing.key"].map((f) => readIfExists(join(stateDir, f))),
    );
    if (ca && cert && key && signing) {
      const pki = assemble(ca, cert, key, signing, join(stateDir, "ca.pem"));
      pki.warnings = await keyWarnings([join(stateDir, "server.key"), join(stateDir, "token-signing.key")]);
      return pki;
    }
  }
  const [tls, signingKey] = await Promise.all([
    // The CA key is not kept: the server certificate lives ~2 years and a new state folder makes a new CA.
    createTlsCertificates({ caSubject: "intune-publisher local tenant CA", caValidDays: 3650, serverValidDays: 825 }),
    newRsaKeyPair(),
  ]);
  const { caCertPem, serverCertPem, serverKeyPem } = tls;
  if (stateDir === undefined) return assemble(caCertPem, serverCertPem, serverKeyPem, signingKey.privateKeyPem);
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  await writeFile(join(stateDir, "ca.pem"), caCertPem);
  await writeFile(join(stateDir, "server.pem"), serverCertPem);
  for (const [name, pem] of [
    ["server.key", serverKeyPem],
    ["token-signing.key", signingKey.privateKeyPem],
  ] as const) {
    // writeFile's mode applies only to a new file: a key left from an earlier start is tightened too.
    await writeFile(join(stateDir, name), pem, { mode: 0o600 });
    await chmod(join(stateDir, name), 0o600);
  }
  return assemble(caCertPem, serverCertPem, serverKeyPem, signingKey.privateKeyPem, join(stateDir, "ca.pem"));
}

/** SHA-1 of the key's SubjectPublicKeyInfo: the token-signing key's `kid` (base64url, like Entra's x5t-style kids). */
function keyId(k: KeyObject): Buffer {
  return createHash("sha1")
    .update(k.export({ type: "spki", format: "der" }))
    .digest();
}

function assemble(
  caCertPem: string,
  serverCertPem: string,
  serverKeyPem: string,
  signingPem: string,
  caCertPath?: string,
): Pki {
  const signingKey = createPrivateKey(signingPem);
  const signingPublicKey = createPublicKey(signingKey);
  const pki: Pki = {
    caCertPem,
    serverCertPem,
    serverKeyPem,
    signingKey,
    signingPublicKey,
    signingKid: keyId(signingPublicKey).toString("base64url"),
  };
  if (caCertPath !== undefined) pki.caCertPath = caCertPath;
  return pki;
}
