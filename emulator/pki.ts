/**
 * The local tenant's PKI: a CA, a TLS server certificate for 127.0.0.1 + localhost signed by it, and the
 * token-signing key pair (DESIGN.md §2: HTTPS only, CA generated on first start and kept in the state folder).
 * Node's crypto signs but cannot build certificates, so this file has a minimal DER encoder for X.509 v3.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPair,
  randomBytes,
  sign,
  X509Certificate,
} from "node:crypto";
import type { KeyObject } from "node:crypto";
import { chmod, mkdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { isPublisherError } from "../src/core/errors.js";
import { readBoundedText } from "../src/platform/fs.js";

const generateKeyPairAsync = promisify(generateKeyPair);

// ---- DER ----
function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
function tlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), len(content.length), content]);
}
const seq = (...items: Buffer[]): Buffer => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]): Buffer => tlv(0x31, Buffer.concat(items));
const octets = (b: Buffer): Buffer => tlv(0x04, b);
const bool = (v: boolean): Buffer => tlv(0x01, Buffer.from([v ? 0xff : 0]));
const utf8 = (s: string): Buffer => tlv(0x0c, Buffer.from(s, "utf8"));
const explicit = (n: number, content: Buffer): Buffer => tlv(0xa0 + n, content);
function integer(b: Buffer): Buffer {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  const v = b.subarray(i);
  return tlv(0x02, (v[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), v]) : v);
}
function bitString(b: Buffer): Buffer {
  return tlv(0x03, Buffer.concat([Buffer.from([0]), b]));
}
function oid(dotted: string): Buffer {
  const parts = dotted.split(".").map(Number);
  const out: number[] = [40 * (parts[0] ?? 0) + (parts[1] ?? 0)];
  for (const p of parts.slice(2)) {
    const stack: number[] = [p & 0x7f];
    for (let v = Math.floor(p / 128); v > 0; v = Math.floor(v / 128)) stack.unshift(0x80 | (v & 0x7f));
    out.push(...stack);
  }
  return tlv(0x06, Buffer.from(out));
}
function time(d: Date): Buffer {
  const iso = d.toISOString().replace(/[-:T]/g, "").slice(0, 14) + "Z"; // YYYYMMDDHHMMSSZ
  // RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050.
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(iso.slice(2))) : tlv(0x18, Buffer.from(iso));
}
const name = (cn: string): Buffer => seq(set(seq(oid("2.5.4.3"), utf8(cn))));
const SHA256_RSA = seq(oid("1.2.840.113549.1.1.11"), Buffer.from([0x05, 0x00]));

export interface CertificateRequest {
  subjectCn: string;
  issuerCn: string;
  publicKey: KeyObject;
  signingKey: KeyObject;
  /** public key of the issuer, for the authority key identifier */
  issuerPublicKey: KeyObject;
  notBefore: Date;
  notAfter: Date;
  isCa: boolean;
  /** subjectAltName entries */
  dnsNames?: string[];
  ipAddresses?: string[];
}

function keyId(k: KeyObject): Buffer {
  return createHash("sha1")
    .update(k.export({ type: "spki", format: "der" }))
    .digest();
}

/** Builds and signs an X.509 v3 certificate (sha256WithRSAEncryption); returns PEM. */
export function createCertificate(req: CertificateRequest): string {
  const exts: Buffer[] = [
    seq(oid("2.5.29.19"), bool(true), octets(req.isCa ? seq(bool(true)) : seq())),
    // keyUsage: CA = keyCertSign|cRLSign; leaf = digitalSignature|keyEncipherment
    seq(
      oid("2.5.29.15"),
      bool(true),
      octets(req.isCa ? tlv(0x03, Buffer.from([0x01, 0x06])) : tlv(0x03, Buffer.from([0x05, 0xa0]))),
    ),
    seq(oid("2.5.29.14"), octets(octets(keyId(req.publicKey)))),
    seq(oid("2.5.29.35"), octets(seq(tlv(0x80, keyId(req.issuerPublicKey))))),
  ];
  if (!req.isCa) exts.push(seq(oid("2.5.29.37"), octets(seq(oid("1.3.6.1.5.5.7.3.1"), oid("1.3.6.1.5.5.7.3.2")))));
  const san = [
    ...(req.dnsNames ?? []).map((d) => tlv(0x82, Buffer.from(d, "ascii"))),
    ...(req.ipAddresses ?? []).map((ip) => tlv(0x87, Buffer.from(ip.split(".").map(Number)))),
  ];
  if (san.length > 0) exts.push(seq(oid("2.5.29.17"), octets(seq(...san))));
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f;
  const tbs = seq(
    explicit(0, integer(Buffer.from([2]))),
    integer(serial),
    SHA256_RSA,
    name(req.issuerCn),
    seq(time(req.notBefore), time(req.notAfter)),
    name(req.subjectCn),
    req.publicKey.export({ type: "spki", format: "der" }),
    explicit(3, seq(...exts)),
  );
  const signature = sign("sha256", tbs, req.signingKey);
  const der = seq(tbs, SHA256_RSA, bitString(signature));
  return `-----BEGIN CERTIFICATE-----\n${der.toString("base64").replace(/.{64}/g, "$&\n")}\n-----END CERTIFICATE-----\n`.replace(
    "\n\n",
    "\n",
  );
}

export interface KeyPairPem {
  publicKey: KeyObject;
  privateKey: KeyObject;
  privateKeyPem: string;
}

export async function newRsaKey(): Promise<KeyPairPem> {
  const { publicKey, privateKey } = await generateKeyPairAsync("rsa", { modulusLength: 2048 });
  return { publicKey, privateKey, privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString() };
}

const DAY_MS = 86_400_000;

/** A self-signed certificate, e.g. an app registration's client certificate in tests. */
export async function createSelfSignedCertificate(opts: {
  subjectCn: string;
  notBefore?: Date;
  notAfter?: Date;
}): Promise<{ certPem: string; keyPem: string; thumbprintSha1: string; thumbprintSha256: string }> {
  const k = await newRsaKey();
  const notBefore = opts.notBefore ?? new Date(Date.now() - DAY_MS);
  const certPem = createCertificate({
    subjectCn: opts.subjectCn,
    issuerCn: opts.subjectCn,
    publicKey: k.publicKey,
    signingKey: k.privateKey,
    issuerPublicKey: k.publicKey,
    notBefore,
    notAfter: opts.notAfter ?? new Date(notBefore.getTime() + 365 * DAY_MS),
    isCa: false,
  });
  const x = new X509Certificate(certPem);
  return {
    certPem,
    keyPem: k.privateKeyPem,
    thumbprintSha1: x.fingerprint.replace(/:/g, ""),
    thumbprintSha256: x.fingerprint256.replace(/:/g, ""),
  };
}

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
  const [caKey, serverKey, signingKey] = await Promise.all([newRsaKey(), newRsaKey(), newRsaKey()]);
  const now = Date.now();
  const caCertPem = createCertificate({
    subjectCn: "intune-publisher local tenant CA",
    issuerCn: "intune-publisher local tenant CA",
    publicKey: caKey.publicKey,
    signingKey: caKey.privateKey,
    issuerPublicKey: caKey.publicKey,
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + 3650 * DAY_MS),
    isCa: true,
  });
  const serverCertPem = createCertificate({
    subjectCn: "127.0.0.1",
    issuerCn: "intune-publisher local tenant CA",
    publicKey: serverKey.publicKey,
    signingKey: caKey.privateKey,
    issuerPublicKey: caKey.publicKey,
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + 825 * DAY_MS),
    isCa: false,
    dnsNames: ["localhost"],
    ipAddresses: ["127.0.0.1"],
  });
  if (stateDir === undefined)
    return assemble(caCertPem, serverCertPem, serverKey.privateKeyPem, signingKey.privateKeyPem);
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  await writeFile(join(stateDir, "ca.pem"), caCertPem);
  await writeFile(join(stateDir, "server.pem"), serverCertPem);
  for (const [name, pem] of [
    ["server.key", serverKey.privateKeyPem],
    ["token-signing.key", signingKey.privateKeyPem],
  ] as const) {
    // writeFile's mode applies only to a new file: a key left from an earlier start is tightened too.
    await writeFile(join(stateDir, name), pem, { mode: 0o600 });
    await chmod(join(stateDir, name), 0o600);
  }
  // The CA key is not kept: the server certificate lives ~2 years and a new state folder makes a new CA.
  return assemble(
    caCertPem,
    serverCertPem,
    serverKey.privateKeyPem,
    signingKey.privateKeyPem,
    join(stateDir, "ca.pem"),
  );
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
