import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { loadOrCreatePki } from "./pki.js";

describe("pki", () => {
  it("makes a 10-year CA and a 127.0.0.1/localhost server certificate it signed", async () => {
    const p = await loadOrCreatePki();
    const ca = new X509Certificate(p.caCertPem);
    const srv = new X509Certificate(p.serverCertPem);
    assert.equal(ca.ca, true);
    assert.equal(srv.ca, false);
    assert.ok(Date.parse(ca.validTo) - Date.now() > 9 * 365 * 86_400_000);
    assert.equal(srv.checkIssued(ca), true);
    assert.equal(srv.verify(ca.publicKey), true);
    assert.equal(srv.checkIP("127.0.0.1"), "127.0.0.1");
    assert.equal(srv.checkHost("localhost"), "localhost");
    assert.equal(ca.publicKey.asymmetricKeyDetails?.modulusLength, 2048);
    assert.equal(p.caCertPath, undefined);
  });

  it("keeps its files in the state folder and reuses them on the next start", async () => {
    const dir = await mkdtemp(join(tmpdir(), "pki-"));
    try {
      const a = await loadOrCreatePki(dir);
      assert.equal(a.caCertPath, join(dir, "ca.pem"));
      assert.equal(await readFile(join(dir, "ca.pem"), "utf8"), a.caCertPem);
      assert.equal((await stat(join(dir, "server.key"))).mode & 0o077, 0);
      const b = await loadOrCreatePki(dir);
      assert.equal(b.caCertPem, a.caCertPem);
      assert.equal(b.signingKid, a.signingKid);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
