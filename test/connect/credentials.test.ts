import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createPrivateKey, generateKeyPairSync } from "node:crypto";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { createSelfSignedCertificate } from "../../src/platform/certificates.js";
import { loadCredential } from "../../src/clients/auth/credentials.js";
import type { CredentialSource } from "../../src/core/config/profile.js";
import { PublisherError } from "../../src/core/errors.js";

const run = promisify(execFile);

function cert(path: string, o: Partial<Extract<CredentialSource, { type: "certificate" }>> = {}): CredentialSource {
  return {
    type: "certificate",
    path,
    keyPath: undefined,
    password: { from: "none" },
    sendCertificateChain: false,
    ...o,
  };
}

async function rejectsConfig(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(
    p,
    (e: unknown) => e instanceof PublisherError && e.kind === "config" && pattern.test(e.message),
  );
}

describe("credential loading", () => {
  let dir: string;
  let pair: Awaited<ReturnType<typeof createSelfSignedCertificate>>;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "connect-cred-"));
    pair = await createSelfSignedCertificate({ subject: "cred" });
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("PEM with an encrypted key: the password decrypts it in memory; a wrong one says so", async () => {
    const encrypted = createPrivateKey(pair.keyPem)
      .export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: "k3y-pass" })
      .toString();
    const path = join(dir, "enc.pem");
    await writeFile(path, pair.certPem + encrypted);
    const c = await loadCredential(cert(path, { password: { from: "env" } }), {
      env: { AZURE_CLIENT_CERTIFICATE_PASSWORD: "k3y-pass" },
    });
    assert.equal(c.certificate?.thumbprintSha1, pair.thumbprintSha1.toUpperCase());
    assert.ok("clientCertificate" in c.msal && c.msal.clientCertificate.privateKey.includes("BEGIN PRIVATE KEY"));
    assert.equal(c.msal.clientCertificate.thumbprintSha256, pair.thumbprintSha256.toUpperCase());
    assert.ok(!c.description.includes("PRIVATE"));
    await rejectsConfig(
      loadCredential(cert(path, { password: { from: "env" } }), { env: { AZURE_CLIENT_CERTIFICATE_PASSWORD: "nope" } }),
      /wrong or missing password/,
    );
  });

  it("a separate key file; a key that is not the certificate's; a PEM without a key", async () => {
    await writeFile(join(dir, "c.crt"), pair.certPem);
    await writeFile(join(dir, "c.key"), pair.keyPem);
    const ok = await loadCredential(cert(join(dir, "c.crt"), { keyPath: join(dir, "c.key") }), { env: {} });
    assert.equal(ok.certificate?.format, "pem");
    const other = generateKeyPairSync("rsa", { modulusLength: 2048 })
      .privateKey.export({ type: "pkcs8", format: "pem" })
      .toString();
    await writeFile(join(dir, "other.key"), other);
    await rejectsConfig(
      loadCredential(cert(join(dir, "c.crt"), { keyPath: join(dir, "other.key") }), { env: {} }),
      /does not belong to the certificate/,
    );
    await rejectsConfig(loadCredential(cert(join(dir, "c.crt")), { env: {} }), /No private key was found/);
    await rejectsConfig(
      loadCredential(cert(join(dir, "missing.pem")), { env: {} }),
      /Cannot read the certificate .*ENOENT/,
    );
  });

  it("refuses a non-RSA (EC) certificate, as Entra requires RSA", async () => {
    await run("openssl", [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-keyout",
      join(dir, "ec.key"),
      "-out",
      join(dir, "ec.crt"),
      "-days",
      "2",
      "-subj",
      "/CN=ec",
    ]);
    await rejectsConfig(
      loadCredential(cert(join(dir, "ec.crt"), { keyPath: join(dir, "ec.key") }), { env: {} }),
      /not RSA/,
    );
  });

  it("a secret file: trailing newline dropped, a group/world-readable file warned about, an empty one refused", async () => {
    const path = join(dir, "s.secret");
    await writeFile(path, "abc~def.ghi_jkl-mno\n", { mode: 0o644 });
    await chmod(path, 0o644);
    const c = await loadCredential({ type: "secret", from: "file", path, expiresOn: "2030-01-01" }, { env: {} });
    assert.deepEqual(c.msal, { clientSecret: "abc~def.ghi_jkl-mno" });
    assert.equal(c.expiresOn?.toISOString(), "2030-01-01T00:00:00.000Z");
    assert.match(c.warnings[0] ?? "", /readable by other users .*chmod 600/);
    assert.ok(!c.warnings.join().includes("abc~def"));
    await chmod(path, 0o600);
    assert.deepEqual(
      (await loadCredential({ type: "secret", from: "file", path, expiresOn: undefined }, { env: {} })).warnings,
      [],
    );
    await writeFile(path, "\n");
    await rejectsConfig(
      loadCredential({ type: "secret", from: "file", path, expiresOn: undefined }, { env: {} }),
      /secret is empty/,
    );
  });

  it("warns when others may read a certificate file with its key, a key file or a password file", async () => {
    const both = join(dir, "both.pem");
    await writeFile(both, pair.certPem + pair.keyPem, { mode: 0o644 });
    await chmod(both, 0o644);
    const loose = await loadCredential(cert(both), { env: {}, platform: "linux" });
    assert.deepEqual(loose.warnings.length, 1);
    assert.match(
      loose.warnings[0] ?? "",
      /certificate file \(with its private key\) .*both\.pem is readable by other users \(mode 644\); run chmod 600/,
    );
    await chmod(both, 0o600);
    assert.deepEqual((await loadCredential(cert(both), { env: {}, platform: "linux" })).warnings, []);

    // A certificate alone is public; its separate key and a password file are not.
    const crt = join(dir, "public.crt");
    const key = join(dir, "loose.key");
    const pw = join(dir, "loose.pw");
    await writeFile(crt, pair.certPem, { mode: 0o644 });
    await writeFile(key, pair.keyPem, { mode: 0o640 });
    await writeFile(pw, "unused\n", { mode: 0o604 });
    await chmod(crt, 0o644);
    await chmod(key, 0o640);
    await chmod(pw, 0o604);
    const sep = await loadCredential(cert(crt, { keyPath: key, password: { from: "file", path: pw } }), {
      env: {},
      platform: "linux",
    });
    assert.equal(sep.warnings.length, 2);
    assert.match(
      sep.warnings.join("\n"),
      /certificate password file .*loose\.pw is readable by other users \(mode 604\)/,
    );
    assert.match(sep.warnings.join("\n"), /private key file .*loose\.key is readable by other users \(mode 640\)/);
    assert.ok(!sep.warnings.join().includes("public.crt"));
  });

  it("a federated token file is re-read at each sign-in (rotation), and an empty one is refused", async () => {
    const path = join(dir, "token");
    await writeFile(path, "first.token.value\n");
    const c = await loadCredential({ type: "federated", tokenFile: path }, { env: {} });
    assert.ok("clientAssertion" in c.msal);
    assert.equal(await c.msal.clientAssertion(), "first.token.value");
    await writeFile(path, "rotated.token.value");
    assert.equal(await c.msal.clientAssertion(), "rotated.token.value");
    await writeFile(path, "");
    await rejectsConfig(loadCredential({ type: "federated", tokenFile: path }, { env: {} }), /is empty/);
  });
});
