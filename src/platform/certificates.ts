/**
 * X.509 certificates: the local tenant's CA and TLS server certificate, test certificate authorities, and
 * self-signed client certificates for app registrations. One helper for all of them: RSA keys come from Node's
 * crypto, the certificate is assembled with node-forge (Node cannot build certificates) and its to-be-signed part
 * is signed by Node's crypto (native speed, and private keys stay KeyObjects).
 */
import { generateKeyPair, randomBytes, sign, X509Certificate } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { promisify } from "node:util";
import forge from "node-forge";

const generateKeyPairAsync = promisify(generateKeyPair);
const DAY_MS = 86_400_000;

export interface RsaKeyPair {
  publicKey: KeyObject;
  privateKey: KeyObject;
  /** PKCS#8 PEM; keep it private */
  privateKeyPem: string;
}

/** A fresh RSA key pair (2048 bits), generated off the event loop. */
export async function newRsaKeyPair(): Promise<RsaKeyPair> {
  const { publicKey, privateKey } = await generateKeyPairAsync("rsa", { modulusLength: 2048 });
  return { publicKey, privateKey, privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString() };
}

/**
 * What a certificate is for: a CA (basicConstraints CA, keyCertSign and cRLSign), or an end entity (digital
 * signature and key encipherment) with its extended key usages.
 */
export type CertificateUse = { ca: true } | { ca: false; extendedKeyUsage: readonly ("serverAuth" | "clientAuth")[] };

export interface CertificateRequest {
  /** the subject's common name */
  subject: string;
  publicKey: KeyObject;
  /** who signs it; absent = self-signed (`signingKey` must then be the private key of `publicKey`) */
  issuer?: { subject: string; publicKey: KeyObject };
  signingKey: KeyObject;
  notBefore: Date;
  notAfter: Date;
  use: CertificateUse;
  /** subjectAltName entries */
  dnsNames?: readonly string[];
  /** subjectAltName entries (IPv4) */
  ipAddresses?: readonly string[];
}

/** node-forge signs with its own (JavaScript) RSA; this part of its API lets the signature come from Node instead. */
type ForgePki = typeof forge.pki & { getTBSCertificate(cert: forge.pki.Certificate): forge.asn1.Asn1 };

const toForgeKey = (k: KeyObject): forge.pki.rsa.PublicKey =>
  forge.pki.publicKeyFromPem(k.export({ type: "spki", format: "pem" }).toString());

/** SHA-1 of the RSAPublicKey, as node-forge computes a subject key identifier (RFC 5280 §4.2.1.2 method 1). */
const keyIdentifier = (k: forge.pki.rsa.PublicKey): string =>
  forge.pki.getPublicKeyFingerprint(k, { type: "RSAPublicKey", encoding: "binary" });

/** Builds an X.509 v3 certificate signed with sha256WithRSAEncryption; returns its PEM. */
export function createCertificate(req: CertificateRequest): string {
  const cert = forge.pki.createCertificate();
  cert.publicKey = toForgeKey(req.publicKey);
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f; // positive
  cert.serialNumber = serial.toString("hex");
  cert.validity.notBefore = req.notBefore;
  cert.validity.notAfter = req.notAfter;
  cert.setSubject([{ name: "commonName", value: req.subject }]);
  cert.setIssuer([{ name: "commonName", value: req.issuer?.subject ?? req.subject }]);
  const issuerKey = req.issuer === undefined ? cert.publicKey : toForgeKey(req.issuer.publicKey);
  const extensions: object[] = [
    { name: "basicConstraints", critical: true, cA: req.use.ca },
    req.use.ca
      ? { name: "keyUsage", critical: true, keyCertSign: true, cRLSign: true }
      : { name: "keyUsage", critical: true, digitalSignature: true, keyEncipherment: true },
    { name: "subjectKeyIdentifier" },
    { name: "authorityKeyIdentifier", keyIdentifier: keyIdentifier(issuerKey) },
  ];
  if (!req.use.ca && req.use.extendedKeyUsage.length > 0) {
    extensions.push({ name: "extKeyUsage", ...Object.fromEntries(req.use.extendedKeyUsage.map((u) => [u, true])) });
  }
  const altNames = [
    ...(req.dnsNames ?? []).map((value) => ({ type: 2, value })),
    ...(req.ipAddresses ?? []).map((ip) => ({ type: 7, ip })),
  ];
  if (altNames.length > 0) extensions.push({ name: "subjectAltName", altNames });
  cert.setExtensions(extensions);
  // The steps of forge's own cert.sign, with the signature made by Node's crypto.
  cert.signatureOid = cert.siginfo.algorithmOid = forge.pki.oids["sha256WithRSAEncryption"] ?? "1.2.840.113549.1.1.11";
  cert.tbsCertificate = (forge.pki as ForgePki).getTBSCertificate(cert);
  const tbs = Buffer.from(forge.asn1.toDer(cert.tbsCertificate).getBytes(), "binary");
  cert.signature = sign("sha256", tbs, req.signingKey).toString("binary");
  return forge.pki.certificateToPem(cert);
}

/** Uppercase hex fingerprints, as Entra ID shows thumbprints. */
export function thumbprints(certPem: string): { sha1: string; sha256: string } {
  const x = new X509Certificate(certPem);
  return { sha1: x.fingerprint.replace(/:/g, ""), sha256: x.fingerprint256.replace(/:/g, "") };
}

export interface SelfSignedCertificate {
  certPem: string;
  /** PKCS#8 PEM; keep it private */
  keyPem: string;
  thumbprintSha1: string;
  thumbprintSha256: string;
  notAfter: Date;
}

/**
 * A self-signed RSA certificate with a new key, e.g. an app registration's client certificate. Validity: from
 * `notBefore` (default a day ago) to `notAfter` (default a year later).
 */
export async function createSelfSignedCertificate(opts: {
  subject: string;
  notBefore?: Date;
  notAfter?: Date;
  /** default: client and server authentication */
  extendedKeyUsage?: readonly ("serverAuth" | "clientAuth")[];
}): Promise<SelfSignedCertificate> {
  const key = await newRsaKeyPair();
  const notBefore = opts.notBefore ?? new Date(Date.now() - DAY_MS);
  const notAfter = opts.notAfter ?? new Date(notBefore.getTime() + 365 * DAY_MS);
  const certPem = createCertificate({
    subject: opts.subject,
    publicKey: key.publicKey,
    signingKey: key.privateKey,
    notBefore,
    notAfter,
    use: { ca: false, extendedKeyUsage: opts.extendedKeyUsage ?? ["serverAuth", "clientAuth"] },
  });
  const t = thumbprints(certPem);
  return {
    certPem,
    keyPem: key.privateKeyPem,
    thumbprintSha1: t.sha1,
    thumbprintSha256: t.sha256,
    notAfter: new Date(new X509Certificate(certPem).validTo),
  };
}

export interface TlsCertificates {
  caCertPem: string;
  serverCertPem: string;
  serverKeyPem: string;
}

/**
 * A CA and a TLS server certificate it signs, for the loopback names by default (`127.0.0.1`, `localhost`). The
 * CA's private key is not returned: nothing else is ever signed with it.
 */
export async function createTlsCertificates(
  opts: {
    caSubject?: string;
    serverSubject?: string;
    dnsNames?: readonly string[];
    ipAddresses?: readonly string[];
    caValidDays?: number;
    serverValidDays?: number;
  } = {},
): Promise<TlsCertificates> {
  const [caKey, serverKey] = await Promise.all([newRsaKeyPair(), newRsaKeyPair()]);
  const caSubject = opts.caSubject ?? "intune-publisher test CA";
  const now = Date.now();
  const notBefore = new Date(now - DAY_MS);
  const days = (n: number): Date => new Date(now + n * DAY_MS);
  const caCertPem = createCertificate({
    subject: caSubject,
    publicKey: caKey.publicKey,
    signingKey: caKey.privateKey,
    notBefore,
    notAfter: days(opts.caValidDays ?? 2),
    use: { ca: true },
  });
  const serverCertPem = createCertificate({
    subject: opts.serverSubject ?? "127.0.0.1",
    publicKey: serverKey.publicKey,
    issuer: { subject: caSubject, publicKey: caKey.publicKey },
    signingKey: caKey.privateKey,
    notBefore,
    notAfter: days(opts.serverValidDays ?? 2),
    use: { ca: false, extendedKeyUsage: ["serverAuth", "clientAuth"] },
    dnsNames: opts.dnsNames ?? ["localhost"],
    ipAddresses: opts.ipAddresses ?? ["127.0.0.1"],
  });
  return { caCertPem, serverCertPem, serverKeyPem: serverKey.privateKeyPem };
}
