/**
 * A self-signed RSA certificate for app-registration certificate auth (`connect setup --certificate`). The key is
 * made by Node's crypto (fast, OpenSSL) and the certificate built and signed with node-forge (Node cannot build
 * certificates).
 */
import { generateKeyPair, randomBytes, X509Certificate } from "node:crypto";
import { promisify } from "node:util";
import forge from "node-forge";

const generateKeyPairAsync = promisify(generateKeyPair);

export interface SelfSignedCertificate {
  certPem: string;
  /** PKCS#8 PEM; keep it private */
  keyPem: string;
  thumbprintSha1: string;
  notAfter: Date;
}

export async function createSelfSignedCertificate(opts: {
  subject: string;
  days?: number;
  now?: Date;
}): Promise<SelfSignedCertificate> {
  const { privateKey } = await generateKeyPairAsync("rsa", { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  const fkey = forge.pki.privateKeyFromPem(privateKey.export({ type: "pkcs1", format: "pem" }).toString());
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(fkey.n, fkey.e);
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f;
  cert.serialNumber = serial.toString("hex");
  const now = opts.now ?? new Date();
  cert.validity.notBefore = new Date(now.getTime() - 5 * 60_000);
  cert.validity.notAfter = new Date(now.getTime() + (opts.days ?? 365) * 86_400_000);
  const attrs = [{ name: "commonName", value: opts.subject }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.setExtensions([
    { name: "basicConstraints", cA: false },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
    { name: "extKeyUsage", clientAuth: true },
  ]);
  cert.sign(fkey, forge.md.sha256.create());
  const certPem = forge.pki.certificateToPem(cert);
  const x = new X509Certificate(certPem);
  return {
    certPem,
    keyPem,
    thumbprintSha1: x.fingerprint.replace(/:/g, ""),
    notAfter: new Date(x.validTo),
  };
}
