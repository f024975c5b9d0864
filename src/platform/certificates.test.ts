import assert from "node:assert/strict";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { createServer, request } from "node:https";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { createSelfSignedCertificate, createTlsCertificates } from "./certificates.js";

const SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
const CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";

/** GET / over TLS trusting the CA only, naming the server `host`; the status, or the TLS error. */
async function handshake(tls: { caCertPem: string; serverCertPem: string; serverKeyPem: string }, host: string) {
  const server = createServer({ cert: tls.serverCertPem, key: tls.serverKeyPem }, (_req, res) => res.end("ok"));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  try {
    return await new Promise<number | undefined>((resolve, reject) => {
      const req = request(
        { host: "127.0.0.1", servername: host === "127.0.0.1" ? undefined : host, port, ca: tls.caCertPem },
        (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode));
        },
      );
      req.on("error", reject);
      req.end();
    });
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

describe("certificates", () => {
  it("a CA and a server certificate it signed, which Node's TLS accepts for 127.0.0.1 and localhost", async () => {
    const tls = await createTlsCertificates({ caSubject: "test CA", caValidDays: 30, serverValidDays: 10 });
    const ca = new X509Certificate(tls.caCertPem);
    const server = new X509Certificate(tls.serverCertPem);
    assert.equal(ca.ca, true);
    assert.equal(ca.subject, "CN=test CA");
    assert.equal(server.ca, false);
    assert.equal(server.subject, "CN=127.0.0.1");
    assert.equal(server.issuer, "CN=test CA");
    assert.equal(server.checkIssued(ca), true);
    assert.equal(server.verify(ca.publicKey), true);
    assert.equal(server.checkIP("127.0.0.1"), "127.0.0.1");
    assert.equal(server.checkHost("localhost"), "localhost");
    assert.equal(server.checkHost("example.com"), undefined);
    assert.ok(server.keyUsage?.includes(SERVER_AUTH));
    assert.equal(server.checkPrivateKey(createPrivateKey(tls.serverKeyPem)), true);
    const days = (x: X509Certificate): number => (Date.parse(x.validTo) - Date.now()) / 86_400_000;
    assert.ok(days(ca) > 29 && days(ca) <= 30, String(days(ca)));
    assert.ok(days(server) > 9 && days(server) <= 10, String(days(server)));
    assert.equal(await handshake(tls, "127.0.0.1"), 200);
    assert.equal(await handshake(tls, "localhost"), 200);
  });

  it("a server certificate from another CA is refused", async () => {
    const [a, b] = await Promise.all([createTlsCertificates(), createTlsCertificates()]);
    await assert.rejects(
      handshake({ ...a, caCertPem: b.caCertPem }, "127.0.0.1"),
      /self-signed|unable to verify|certificate/i,
    );
  });

  it("a self-signed certificate: its key, its thumbprints, the validity and usages asked for", async () => {
    const notBefore = new Date(Date.UTC(2025, 0, 1));
    const notAfter = new Date(Date.UTC(2051, 0, 1)); // past 2049: GeneralizedTime
    const c = await createSelfSignedCertificate({ subject: "publisher", notBefore, notAfter });
    const x = new X509Certificate(c.certPem);
    assert.equal(x.subject, "CN=publisher");
    assert.equal(x.issuer, "CN=publisher");
    assert.equal(x.verify(x.publicKey), true);
    assert.equal(x.checkPrivateKey(createPrivateKey(c.keyPem)), true);
    assert.match(c.keyPem, /^-----BEGIN PRIVATE KEY-----/);
    assert.equal(c.thumbprintSha1, x.fingerprint.replace(/:/g, ""));
    assert.equal(c.thumbprintSha256, x.fingerprint256.replace(/:/g, ""));
    assert.equal(Date.parse(x.validFrom), notBefore.getTime());
    assert.equal(Date.parse(x.validTo), notAfter.getTime());
    assert.equal(c.notAfter.getTime(), notAfter.getTime());
    assert.deepEqual([...(x.keyUsage ?? [])].sort(), [SERVER_AUTH, CLIENT_AUTH].sort());
    assert.equal(x.publicKey.asymmetricKeyDetails?.modulusLength, 2048);

    const client = new X509Certificate(
      (await createSelfSignedCertificate({ subject: "client", extendedKeyUsage: ["clientAuth"] })).certPem,
    );
    assert.deepEqual(client.keyUsage, [CLIENT_AUTH]);
    assert.equal(client.ca, false);
  });
});
