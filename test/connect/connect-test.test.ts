/**
 * `connect test` end to end: the real CLI entry, msal-node and our transport against the local tenant
 * (emulator/server.ts) over HTTPS, trusting its CA explicitly. Every run's stdout and stderr are scanned for the
 * secret, the private key and any token.
 */
import { EXIT_CODES } from "../../src/cli/exit-codes.js";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { generateKeyPairSync, X509Certificate } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { createSelfSignedCertificate } from "../../src/platform/certificates.js";
import { PUBLISHER_PERMISSIONS } from "../../emulator/seed.js";
import type { LocalTenant } from "../../emulator/server.js";
import type { ConnectionReport } from "../../src/publish/connect/test-connection.js";
import { startConnectProxy } from "../support/proxy.js";
import { assertNoSecrets, keyLines, oidcToken, readCleanLog } from "../support/secrets.js";
import { localTenantFlags, startLocalTestTenant } from "../support/tenant.js";
import { runCli } from "../support/cli.js";

const run = promisify(execFile);
const TENANT = "0c0ffee0-1111-4222-8333-444455556666";
const APP = "a0000000-0000-4000-8000-000000000001";
const EXPIRED_SECRET_APP = "a0000000-0000-4000-8000-000000000002";
const DISABLED_APP = "a0000000-0000-4000-8000-000000000003";
const NO_ROLES_APP = "a0000000-0000-4000-8000-000000000004";
const ONE_MISSING_APP = "a0000000-0000-4000-8000-000000000005";
const SECRET = "Xq7~abcdefGHIJKLmnop.qrstUVWX_yz0123456-";
const PFX_PASSWORD = "pfx-pass-Word-1234";
const DAY = 86_400_000;
/** A test "OIDC issuer" (GitHub Actions' name; its key is made here) and the subject the app trusts. */
const OIDC_ISSUER = "https://token.actions.githubusercontent.com";
const OIDC_SUBJECT = "repo:contoso/intune-apps:ref:refs/heads/main";
const OIDC_KID = "test-issuer-key-1";

type Cert = Awaited<ReturnType<typeof createSelfSignedCertificate>>;

describe("connect test against the local tenant", () => {
  let lt: LocalTenant;
  let dir: string;
  let caPath: string;
  let good: Cert;
  let expired: Cert;
  let soon: Cert;
  let issuerKey: KeyObject;
  const realFetch = globalThis.fetch;
  const secrets = (): string[] => [SECRET, PFX_PASSWORD, ...keyLines(good.keyPem), ...keyLines(soon.keyPem)];

  before(async () => {
    // msal must use our network client: any use of the global fetch fails the test loudly.
    globalThis.fetch = (() => Promise.reject(new Error("global fetch used"))) as typeof fetch;
    dir = await mkdtemp(join(tmpdir(), "connect-test-"));
    [good, expired, soon] = await Promise.all([
      createSelfSignedCertificate({ subject: "publisher" }),
      createSelfSignedCertificate({
        subject: "expired",
        notBefore: new Date(Date.now() - 40 * DAY),
        notAfter: new Date(Date.now() - DAY),
      }),
      createSelfSignedCertificate({ subject: "soon", notAfter: new Date(Date.now() + 10 * DAY) }),
    ]);
    const issuer = generateKeyPairSync("rsa", { modulusLength: 2048 });
    issuerKey = issuer.privateKey;
    lt = await startLocalTestTenant({
      storage: false,
      seed: {
        tenants: [{ id: TENANT, domains: ["contoso.onmicrosoft.com"] }],
        appRegistrations: [
          {
            clientId: APP,
            displayName: "publisher",
            secrets: [{ value: SECRET }],
            certificates: [{ pem: good.certPem }, { pem: expired.certPem }, { pem: soon.certPem }],
            // The issuer's public key as its jwks_uri would serve it; nothing of it is registered as a certificate.
            federatedCredentials: [
              {
                name: "github-main",
                issuer: OIDC_ISSUER,
                subject: OIDC_SUBJECT,
                audiences: ["api://AzureADTokenExchange"],
                jwks: {
                  keys: [
                    {
                      ...(issuer.publicKey.export({ format: "jwk" }) as { kty: "RSA"; n: string; e: string }),
                      kid: OIDC_KID,
                    },
                  ],
                },
              },
            ],
            roles: [...PUBLISHER_PERMISSIONS],
          },
          {
            clientId: EXPIRED_SECRET_APP,
            displayName: "old secret",
            secrets: [{ value: SECRET, expiresOn: "2020-01-01T00:00:00Z" }],
            roles: [...PUBLISHER_PERMISSIONS],
          },
          { clientId: DISABLED_APP, displayName: "off", enabled: false, secrets: [{ value: SECRET }] },
          { clientId: NO_ROLES_APP, displayName: "no consent", secrets: [{ value: SECRET }] },
          {
            clientId: ONE_MISSING_APP,
            displayName: "no groups",
            secrets: [{ value: SECRET }],
            roles: PUBLISHER_PERMISSIONS.filter((p) => p !== "GroupMember.Read.All"),
          },
        ],
        groups: [{ id: "5a8e1f3c-1d2b-4e6f-8a9b-0c1d2e3f4a5b", displayName: "Pilot" }],
      },
    });
    caPath = join(dir, "ca.pem");
    await writeFile(caPath, lt.caCertPem);
    await writeFile(join(dir, "good.pem"), good.certPem + good.keyPem);
    await writeFile(join(dir, "good.key"), good.keyPem);
    await writeFile(join(dir, "good.crt"), good.certPem);
    await writeFile(join(dir, "expired.pem"), expired.certPem + expired.keyPem);
    await writeFile(join(dir, "soon.pem"), soon.certPem + soon.keyPem);
    // The PFX is made by OpenSSL (an independent implementation), with its default AES-256/PBKDF2 encryption.
    await run("openssl", [
      "pkcs12",
      "-export",
      "-in",
      join(dir, "good.crt"),
      "-inkey",
      join(dir, "good.key"),
      "-out",
      join(dir, "good.pfx"),
      "-passout",
      `pass:${PFX_PASSWORD}`,
    ]);
  });

  after(async () => {
    globalThis.fetch = realFetch;
    await lt.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** An environment with no profile: tenant, client and credential from @azure/identity's variables. */
  function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    return { HOME: dir, XDG_CONFIG_HOME: join(dir, "xdg"), AZURE_TENANT_ID: TENANT, AZURE_CLIENT_ID: APP, ...extra };
  }
  const local = (): string[] => ["connect", "test", ...localTenantFlags(lt, caPath), "--output", "json"];

  async function test(
    e: NodeJS.ProcessEnv,
    args = local(),
  ): Promise<{ code: number; report: ConnectionReport; stderr: string; stdout: string }> {
    const r = await runCli(args, e);
    assertNoSecrets(r, secrets());
    return { code: r.code, report: JSON.parse(r.stdout) as ConnectionReport, stderr: r.stderr, stdout: r.stdout };
  }

  function assertAllGood(report: ConnectionReport): void {
    assert.equal(report.ok, true);
    assert.equal(report.result, "ok");
    assert.deepEqual(
      report.permissions.map((p) => [p.permission, p.enabled, p.probe.status, p.probe.httpStatus]),
      PUBLISHER_PERMISSIONS.map((p) => [p, true, "ok", 200]),
    );
    for (const p of report.permissions) assert.match(p.probe.requestId ?? "", /^[0-9a-f-]{36}$/);
    assert.deepEqual(report.token?.roles.slice().sort(), [...PUBLISHER_PERMISSIONS].sort());
    assert.equal(report.token?.tenantId, TENANT);
  }

  it("client secret: all six permissions enabled, probes pass, exit 0", async () => {
    const r = await test(env({ AZURE_CLIENT_SECRET: SECRET }));
    assert.equal(r.code, 0, r.stderr);
    assertAllGood(r.report);
    assert.equal(r.report.token?.credentialType, "secret");
    assert.equal(r.report.sources["credential"], "env AZURE_CLIENT_SECRET");
    assert.deepEqual(
      r.report.steps.map((s) => [s.name, s.status]),
      [
        ["Resolve settings", "ok"],
        ["Load credential", "ok"],
        ["Reach the authority", "ok"],
        ["Get a token", "ok"],
        ["Read roles", "ok"],
        ["Live probes", "ok"],
        ["Credential expiry", "ok"],
      ],
    );
  });

  it("the table output shows each permission with ✓ and the request-id of its probe", async () => {
    const args = local().slice(0, -2);
    const r = await runCli(args, env({ AZURE_CLIENT_SECRET: SECRET }));
    assertNoSecrets(r, secrets());
    assert.equal(r.code, 0, r.stderr);
    for (const p of PUBLISHER_PERMISSIONS)
      assert.match(r.stdout, new RegExp(`^${p.replace(/\./g, "\\.")} .* ✓ .*request-id [0-9a-f-]{36}`, "m"));
    assert.match(r.stdout, /Connection test passed\./);
  });

  it("--verbose logs every request and answer, redacted: no secret, assertion, token or key in the log", async () => {
    for (const credential of [
      { AZURE_CLIENT_SECRET: SECRET },
      { AZURE_CLIENT_CERTIFICATE_PATH: join(dir, "good.pem") },
    ]) {
      const r = await runCli([...local(), "--verbose"], env(credential));
      assertNoSecrets(r, secrets());
      assert.equal(r.code, 0, r.stderr);
      assert.match(
        r.stderr,
        /^log: --> GET https:\/\/127\.0\.0\.1:\d+\/0c0ffee0-[^ ]+\/v2\.0\/\.well-known\/openid-configuration/m,
      );
      assert.match(r.stderr, /^log: --> POST https:\/\/127\.0\.0\.1:\d+\/0c0ffee0-[^ ]+\/oauth2\/v2\.0\/token/m);
      assert.match(r.stderr, /^log: <-- 200 POST .*\/oauth2\/v2\.0\/token/m);
      assert.match(r.stderr, /^log: --> GET .*\/beta\/groups\?.*"authorization":"REDACTED"/m);
      assert.match(r.stderr, /^log: <-- 200 GET .*\/beta\/deviceManagement\/detectedApps/m);
    }
  });

  it("certificate (PEM with key): thumbprint and notAfter reported, token says certificate", async () => {
    const r = await test(env({ AZURE_CLIENT_CERTIFICATE_PATH: join(dir, "good.pem") }));
    assert.equal(r.code, 0, r.stderr);
    assertAllGood(r.report);
    const x = new X509Certificate(good.certPem);
    assert.equal(r.report.credential?.thumbprintSha1, x.fingerprint.replace(/:/g, ""));
    assert.equal(r.report.credential?.thumbprintSha256, x.fingerprint256.replace(/:/g, ""));
    assert.equal(r.report.credential?.expiresOn, new Date(x.validTo).toISOString());
    assert.equal(r.report.token?.credentialType, "certificate");
  });

  it("certificate (PFX made by OpenSSL, password from AZURE_CLIENT_CERTIFICATE_PASSWORD)", async () => {
    const r = await test(
      env({ AZURE_CLIENT_CERTIFICATE_PATH: join(dir, "good.pfx"), AZURE_CLIENT_CERTIFICATE_PASSWORD: PFX_PASSWORD }),
    );
    assert.equal(r.code, 0, r.stderr);
    assertAllGood(r.report);
    assert.equal(r.report.credential?.thumbprintSha1, new X509Certificate(good.certPem).fingerprint.replace(/:/g, ""));
  });

  it("a wrong PFX password is a configuration error (exit 8) that says so", async () => {
    const r = await test(
      env({
        AZURE_CLIENT_CERTIFICATE_PATH: join(dir, "good.pfx"),
        AZURE_CLIENT_CERTIFICATE_PASSWORD: "wrong-password",
      }),
    );
    assert.equal(r.code, 8);
    assert.match(r.stderr, /PFX password .* is wrong or missing/);
  });

  it("federated token file signed by an external OIDC issuer (a federated credential): secretless sign-in", async () => {
    const tokenFile = join(dir, "federated-token");
    await writeFile(
      tokenFile,
      oidcToken({ privateKey: issuerKey, kid: OIDC_KID, issuer: OIDC_ISSUER, subject: OIDC_SUBJECT }),
    );
    const r = await test(env({ AZURE_FEDERATED_TOKEN_FILE: tokenFile }));
    assert.equal(r.code, 0, r.stderr);
    assertAllGood(r.report);
    assert.equal(r.report.credential?.type, "federated");
    assert.equal(r.report.token?.credentialType, "certificate", "appidacr 2: a client assertion");
  });

  it("federated token for another subject: exit 3, AADSTS70021 with the federated-credential advice", async () => {
    const tokenFile = join(dir, "federated-token-other-branch");
    await writeFile(
      tokenFile,
      oidcToken({
        privateKey: issuerKey,
        kid: OIDC_KID,
        issuer: OIDC_ISSUER,
        subject: "repo:contoso/intune-apps:ref:refs/heads/feature",
      }),
    );
    const r = await test(env({ AZURE_FEDERATED_TOKEN_FILE: tokenFile }));
    assert.equal(r.code, 3);
    assert.equal(r.report.problem?.code, "AADSTS70021");
    assert.match(r.stderr, /^error: .*AADSTS70021.*No federated credential .* matches .*correlation id [0-9a-f-]{36}/m);
    assert.match(r.stderr, /^hint: .*In the app registration \(Certificates & secrets > Federated credentials\)/m);
    // What the token presented, which is what the federated credential must hold; never the token itself.
    const presented =
      "issuer 'https://token.actions.githubusercontent.com', subject 'repo:contoso/intune-apps:ref:refs/heads/feature', audience 'api://AzureADTokenExchange'";
    assert.ok(/^error: .*/m.exec(r.stderr)?.[0].includes(`The token presented ${presented}.`), r.stderr);
    assert.ok(
      /^hint: .*/m.exec(r.stderr)?.[0].includes(`Add a federated credential with exactly ${presented}`),
      r.stderr,
    );
    assert.ok(r.report.problem?.message.includes(presented), JSON.stringify(r.report.problem));
    assert.doesNotMatch(r.stdout + r.stderr, /eyJ[A-Za-z0-9_-]{10,}/, "the assertion itself is never shown");
  });

  it("federated token signed by another key: AADSTS700027; expired: AADSTS700024", async () => {
    const tokenFile = join(dir, "federated-token-bad");
    const stranger = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
    await writeFile(
      tokenFile,
      oidcToken({ privateKey: stranger, kid: OIDC_KID, issuer: OIDC_ISSUER, subject: OIDC_SUBJECT }),
    );
    let r = await test(env({ AZURE_FEDERATED_TOKEN_FILE: tokenFile }));
    assert.equal(r.code, 3);
    assert.equal(r.report.problem?.code, "AADSTS700027");
    await writeFile(
      tokenFile,
      oidcToken({ privateKey: issuerKey, kid: OIDC_KID, issuer: OIDC_ISSUER, subject: OIDC_SUBJECT, expiresIn: -3600 }),
    );
    r = await test(env({ AZURE_FEDERATED_TOKEN_FILE: tokenFile }));
    assert.equal(r.code, 3);
    assert.equal(r.report.problem?.code, "AADSTS700024");
    assert.match(r.stderr, /hint: Fix the system clock/);
  });

  it("--log-file: one JSON line per event with request ids; no secret, key, PFX password or token in it", async () => {
    const logDir = await mkdtemp(join(tmpdir(), "connect-log-"));
    try {
      const tokenFile = join(dir, "federated-token-log");
      await writeFile(
        tokenFile,
        oidcToken({ privateKey: issuerKey, kid: OIDC_KID, issuer: OIDC_ISSUER, subject: OIDC_SUBJECT }),
      );
      const runs: [string, NodeJS.ProcessEnv][] = [
        ["secret", { AZURE_CLIENT_SECRET: SECRET }],
        ["pem", { AZURE_CLIENT_CERTIFICATE_PATH: join(dir, "good.pem") }],
        [
          "pfx",
          { AZURE_CLIENT_CERTIFICATE_PATH: join(dir, "good.pfx"), AZURE_CLIENT_CERTIFICATE_PASSWORD: PFX_PASSWORD },
        ],
        ["federated", { AZURE_FEDERATED_TOKEN_FILE: tokenFile }],
      ];
      const federatedToken = (await readFile(tokenFile, "utf8")).trim();
      for (const [name, credential] of runs) {
        const logFile = join(logDir, `${name}.jsonl`);
        const r = await runCli([...local(), "--log-file", logFile], env(credential));
        assertNoSecrets(r, secrets());
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, new RegExp(`^Log file: ${logFile.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}$`, "m"));
        assert.equal((await stat(logFile)).mode & 0o777, 0o600);
        const events = await readCleanLog(logFile, [...secrets(), federatedToken.slice(-40)]);
        assert.match(String(events[0]?.["message"]), /^intune-publisher \S+ connect test$/);
        assert.deepEqual(events.at(-1)?.["exitCode"], 0);
        const token = events.find((e) => e["method"] === "POST" && e["status"] === 200);
        assert.match(String(token?.["url"]), /\/oauth2\/v2\.0\/token(\?client-request-id=[0-9a-f-]{36})?$/);
        assert.match(String(token?.["clientRequestId"]), /^[0-9a-f-]{36}$/);
        assert.equal(typeof token?.["durationMs"], "number");
        const probes = events.filter((e) => e["method"] === "GET" && String(e["url"]).includes("/beta/"));
        const answered = probes.filter((e) => e["status"] === 200);
        assert.equal(answered.length, 6, "one answer per probe");
        for (const e of answered) {
          assert.match(String(e["requestId"]), /^[0-9a-f-]{36}$/);
          assert.match(String(e["clientRequestId"]), /^[0-9a-f-]{36}$/);
        }
        // The probe's request-id in the report is the one in the log (what a support case needs).
        const report = JSON.parse(r.stdout) as ConnectionReport;
        for (const p of report.permissions)
          assert.ok(
            answered.some((e) => e["requestId"] === p.probe.requestId),
            p.permission,
          );
        assert.ok(
          probes.some((e) => /"authorization":"REDACTED"/.test(String(e["message"]))),
          "the bearer header is logged as REDACTED",
        );
      }
    } finally {
      await rm(logDir, { recursive: true, force: true });
    }
  });

  it("a failed run records the error in its log and names the log in the hint", async () => {
    const logFile = join(dir, "failed-run.jsonl");
    const r = await runCli(
      [...local(), "--log-file", logFile],
      env({ AZURE_CLIENT_SECRET: "not-the-secret-value-at-all" }),
    );
    assertNoSecrets(r, [...secrets(), "not-the-secret-value-at-all"]);
    assert.equal(r.code, 3);
    assert.match(
      r.stderr,
      /^hint: Paste the secret's Value.* The log of this run \(for a support case\): .*failed-run\.jsonl$/m,
    );
    const events = await readCleanLog(logFile, [...secrets(), "not-the-secret-value-at-all"]);
    const refused = events.find((e) => e["method"] === "POST" && e["status"] === 401);
    assert.match(String(refused?.["clientRequestId"]), /^[0-9a-f-]{36}$/);
    assert.match(String(refused?.["message"]), /AADSTS7000215/, "Entra's error fields are kept");
    const last = events.at(-1);
    assert.equal(last?.["level"], "error");
    assert.equal(last?.["code"], "AADSTS7000215");
    assert.equal(last?.["errorCode"], "SignInRefused");
    assert.equal(last?.["exitCode"], 3);
  });

  it("--no-log-file writes no log and prints no log path", async () => {
    const home = await mkdtemp(join(tmpdir(), "connect-nolog-"));
    try {
      const r = await runCli([...local(), "--no-log-file"], {
        ...env({ AZURE_CLIENT_SECRET: SECRET }),
        XDG_STATE_HOME: join(home, "state"),
      });
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stderr, /Log file/);
      await assert.rejects(stat(join(home, "state")), { code: "ENOENT" });
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });

  it("wrong secret: exit 3, AADSTS7000215 with the Value-not-ID advice", async () => {
    const r = await test(env({ AZURE_CLIENT_SECRET: "not-the-secret-value-at-all" }));
    assert.equal(r.code, 3);
    assert.equal(r.report.problem?.code, "AADSTS7000215");
    assert.match(r.stderr, /^error: .*AADSTS7000215.*secret is wrong.*correlation id [0-9a-f-]{36}/m);
    assert.match(r.stderr, /^hint: Paste the secret's Value, not its Secret ID/m);
    assert.deepEqual(r.report.steps.at(3), {
      name: "Get a token",
      status: "failed",
      detail: r.report.problem?.message,
    });
    assert.equal(r.report.steps.at(4)?.status, "skipped");
  });

  it("expired secret: exit 3, AADSTS7000222", async () => {
    const r = await test(env({ AZURE_CLIENT_ID: EXPIRED_SECRET_APP, AZURE_CLIENT_SECRET: SECRET }));
    assert.equal(r.code, 3);
    assert.equal(r.report.problem?.code, "AADSTS7000222");
    assert.match(r.stderr, /secret has expired/);
  });

  it("unknown tenant: fails at the authority with AADSTS90002, exit 3", async () => {
    const r = await test(env({ AZURE_TENANT_ID: "fabrikam.onmicrosoft.com", AZURE_CLIENT_SECRET: SECRET }));
    assert.equal(r.code, 3);
    assert.equal(r.report.problem?.code, "AADSTS90002");
    assert.equal(r.report.steps.find((s) => s.name === "Reach the authority")?.status, "failed");
    assert.match(r.stderr, /hint: .*tenant's overview page.*cloud/);
  });

  it("unknown app: exit 3, AADSTS700016", async () => {
    const r = await test(env({ AZURE_CLIENT_ID: "b0000000-0000-4000-8000-00000000000f", AZURE_CLIENT_SECRET: SECRET }));
    assert.equal(r.code, 3);
    assert.equal(r.report.problem?.code, "AADSTS700016");
  });

  it("disabled app: exit 3, AADSTS7000112 with the command that enables it", async () => {
    const r = await test(env({ AZURE_CLIENT_ID: DISABLED_APP, AZURE_CLIENT_SECRET: SECRET }));
    assert.equal(r.code, 3);
    assert.equal(r.report.problem?.code, "AADSTS7000112");
    assert.match(r.stderr, /accountEnabled=true/);
  });

  it("no admin consent: the token has no roles, every row ✗, probes 403, exit 4", async () => {
    const r = await test(env({ AZURE_CLIENT_ID: NO_ROLES_APP, AZURE_CLIENT_SECRET: SECRET }));
    assert.equal(r.code, 4);
    assert.equal(r.report.problem?.code, "roles.none");
    assert.deepEqual(r.report.token?.roles, []);
    assert.ok(
      r.report.permissions.every((p) => !p.enabled && p.probe.status === "failed" && p.probe.httpStatus === 403),
    );
    assert.deepEqual(r.report.missingPermissions, [...PUBLISHER_PERMISSIONS]);
    assert.match(r.stderr, /admin consent.*Global Administrator or Privileged Role Administrator/);
  });

  it("one permission missing: its row ✗ (probe 403), the others ✓, exit 4 naming it", async () => {
    const r = await test(env({ AZURE_CLIENT_ID: ONE_MISSING_APP, AZURE_CLIENT_SECRET: SECRET }));
    assert.equal(r.code, 4);
    assert.deepEqual(r.report.missingPermissions, ["GroupMember.Read.All"]);
    const row = r.report.permissions.find((p) => p.permission === "GroupMember.Read.All");
    assert.equal(row?.enabled, false);
    assert.equal(row?.probe.httpStatus, 403);
    assert.ok(r.report.permissions.filter((p) => p !== row).every((p) => p.enabled && p.probe.status === "ok"));
    assert.match(r.stderr, /^error: The app lacks the permission GroupMember\.Read\.All\./m);
    const table = await runCli(
      local().slice(0, -2),
      env({ AZURE_CLIENT_ID: ONE_MISSING_APP, AZURE_CLIENT_SECRET: SECRET }),
    );
    assert.match(table.stdout, /^GroupMember\.Read\.All .* ✗ +✗ list one group \(HTTP 403/m);
  });

  it("expired certificate: exit 3 (AADSTS700027) and the expiry is reported", async () => {
    const r = await test(env({ AZURE_CLIENT_CERTIFICATE_PATH: join(dir, "expired.pem") }));
    assert.equal(r.code, 3);
    assert.equal(r.report.problem?.code, "AADSTS700027");
    assert.ok((r.report.credential?.daysLeft ?? 0) < 0);
    assert.match(r.stderr, /^warning: The certificate expired on /m);
  });

  it("soon-expiring certificate: passes (exit 0) with a warning under 30 days", async () => {
    const r = await test(env({ AZURE_CLIENT_CERTIFICATE_PATH: join(dir, "soon.pem") }));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.report.steps.at(-1)?.status, "warning");
    assert.match(r.stderr, /^warning: The certificate expires in 9 days/m);
    assert.equal(r.report.credential?.daysLeft, 9);
  });

  it("TLS to an endpoint whose CA is not trusted fails with exit 7 and a clear message", async () => {
    const args = local().filter((a, i, all) => a !== "--ca-certificate" && all[i - 1] !== "--ca-certificate");
    const r = await test(env({ AZURE_CLIENT_SECRET: SECRET }), args);
    assert.equal(r.code, 7);
    assert.equal(r.report.problem?.code, "tls.untrusted");
    assert.equal(r.report.steps.find((s) => s.name === "Reach the authority")?.status, "failed");
    assert.match(
      r.stderr,
      /^error: The TLS certificate of 127\.0\.0\.1:\d+ is not trusted \((UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)\)/m,
    );
    assert.match(r.stderr, /hint: .*--ca-certificate.*Never turn verification off/);
  });

  it("a refused connection is a network failure, exit 7", async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", () => r()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const args = local();
    args[args.indexOf("--authority-host") + 1] = `https://127.0.0.1:${port}`;
    const r = await test(env({ AZURE_CLIENT_SECRET: SECRET }), args);
    assert.equal(r.code, 7);
    assert.match(r.stderr, new RegExp(`Could not connect to 127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)`));
  });

  it("honours HTTPS_PROXY: the authority is reached through the proxy (CONNECT host:443)", async () => {
    const proxy = await startConnectProxy();
    try {
      const args = local();
      args[args.indexOf("--authority-host") + 1] = "https://login.intune-publisher.invalid";
      const r = await test(env({ AZURE_CLIENT_SECRET: SECRET, HTTPS_PROXY: proxy.url }), args);
      assert.equal(r.code, 7);
      assert.deepEqual(proxy.targets, ["login.intune-publisher.invalid:443"]);
      assert.equal(r.report.settings["proxy"], proxy.url);
      assert.equal(r.report.steps.find((s) => s.name === "Reach the authority")?.status, "failed");
    } finally {
      await proxy.close();
    }
  });

  it("honours NO_PROXY: a listed host is reached directly (DNS fails for .invalid), the proxy sees nothing", async () => {
    const proxy = await startConnectProxy();
    try {
      const args = local();
      args[args.indexOf("--authority-host") + 1] = "https://login.intune-publisher.invalid";
      const r = await test(env({ AZURE_CLIENT_SECRET: SECRET, HTTPS_PROXY: proxy.url, NO_PROXY: ".invalid" }), args);
      assert.equal(r.code, 7);
      assert.deepEqual(proxy.targets, []);
      assert.match(r.stderr, /login\.intune-publisher\.invalid could not be resolved \((ENOTFOUND|EAI_AGAIN)\)/);
    } finally {
      await proxy.close();
    }
  });

  it("loopback (the local tenant) is never proxied; proxy credentials in the URL are not shown", async () => {
    const proxy = await startConnectProxy();
    try {
      const withUser = proxy.url.replace("http://", "http://user:proxy-Passw0rd-xyz@");
      const r = await runCli(local(), env({ AZURE_CLIENT_SECRET: SECRET, HTTPS_PROXY: withUser }));
      assertNoSecrets(r, [...secrets(), "proxy-Passw0rd-xyz"]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(proxy.targets, []);
      assert.match(
        (JSON.parse(r.stdout) as ConnectionReport).settings["proxy"] ?? "",
        /^http:\/\/REDACTED@127\.0\.0\.1:\d+$/,
      );
    } finally {
      await proxy.close();
    }
  });

  it("configuration errors exit 8: unknown profile, nothing configured, unknown cloud", async () => {
    const none = { HOME: dir, XDG_CONFIG_HOME: join(dir, "empty-xdg") };
    let r = await runCli(["connect", "test", "--profile", "nope"], none);
    assert.equal(r.code, 8);
    assert.match(r.stderr, /There is no profile "nope"/);
    r = await runCli(["connect", "test"], none);
    assert.equal(r.code, 8);
    assert.match(r.stderr, /No tenant or client ID is configured/);
    assert.match(r.stderr, /hint: .*connect init/);
    r = await runCli(["connect", "test", "--cloud", "mars"], env({ AZURE_CLIENT_SECRET: SECRET }));
    assert.equal(r.code, 8);
  });

  it("with no configuration at all, `connect test --cloud local` starts a local tenant in-process and exits 0", async () => {
    const r = await runCli(["connect", "test", "--cloud", "local", "--output", "json"], {
      HOME: dir,
      XDG_CONFIG_HOME: join(dir, "nothing-here"),
    });
    assert.doesNotMatch(r.stdout + r.stderr, /eyJ[A-Za-z0-9_-]{5,}\.eyJ/);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as ConnectionReport;
    assert.equal(report.ok, true);
    assert.equal(report.settings["cloud"], "local");
    assert.equal(report.permissions.filter((p) => p.enabled && p.probe.status === "ok").length, 6);
  });

  it("connect init writes a profile and a 0600 secret file (not in the profile); connect test uses it", async () => {
    const xdg = join(dir, "init-xdg");
    const base = { HOME: dir, XDG_CONFIG_HOME: xdg };
    const init = await runCli(
      [
        "connect",
        "init",
        "--profile",
        "lab",
        "--cloud",
        "local",
        "--tenant",
        "contoso.onmicrosoft.com",
        "--client-id",
        APP,
        "--authority-host",
        lt.authorityHost,
        "--graph-base-url",
        lt.graphBaseUrl,
        "--ca-certificate",
        caPath,
        "--secret-env",
        "--secret-expires-on",
        new Date(Date.now() + 20 * DAY).toISOString(),
        "--output",
        "json",
      ],
      { ...base, AZURE_CLIENT_SECRET: SECRET },
    );
    assertNoSecrets(init, secrets());
    assert.equal(init.code, 0, init.stderr);
    const written = JSON.parse(init.stdout) as { configFile: string; secretFile: string };
    assert.equal(written.configFile, join(xdg, "intune-publisher", "config.yaml"));
    const config = await readFile(written.configFile, "utf8");
    assert.ok(!config.includes(SECRET), "the secret must not be in the profiles file");
    assert.match(config, /defaultProfile: lab/);
    assert.equal(await readFile(written.secretFile, "utf8"), `${SECRET}\n`);
    assert.equal((await stat(written.secretFile)).mode & 0o777, 0o600);

    // No AZURE_* variables: everything comes from the profile (the default one).
    const r = await runCli(["connect", "test", "--output", "json"], base);
    assertNoSecrets(r, secrets());
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as ConnectionReport;
    assert.equal(report.settings["profile"], "lab");
    assert.equal(report.sources["clientId"], "profile");
    assert.equal(report.settings["tenant"], "contoso.onmicrosoft.com");
    assert.match(r.stderr, /^warning: The client secret expires in 19 days/m);
  });

  it("connect init refuses a secret on a non-terminal without a credential flag (usage, exit 2)", async () => {
    const r = await runCli(["connect", "init", "--tenant", "contoso.onmicrosoft.com", "--client-id", APP], {
      HOME: dir,
      XDG_CONFIG_HOME: join(dir, "refuse-xdg"),
    });
    assert.equal(r.code, EXIT_CODES.usage);
    assert.match(r.stderr, /No credential given/);
  });
});
