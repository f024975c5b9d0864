import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { PUBLISHER_PERMISSIONS } from "../../emulator/seed.js";
import { REQUIRED_PERMISSIONS, requiredResourceAccess } from "../../src/core/config/permissions.js";
import { setupPlan } from "../../src/core/config/setup.js";
import type { ConnectionReport } from "../../src/publish/connect/test-connection.js";
import { assertNoSecrets, keyLines } from "../support/secrets.js";
import { localTenantFlags, startLocalTestTenant } from "../support/tenant.js";
import { runCli } from "../support/cli.js";

/** docs/reference/entra-auth.md §4.4, in that order. */
const ROLE_IDS = [
  "78145de6-330d-4800-a6ce-494ff2d33d07",
  "dc377aa6-52d8-4e23-b271-2a7ae04cedf3",
  "2f51be20-0bb4-4fed-bf7b-db946066c75e",
  "58ca0d9a-1575-47e1-a3cb-007ef2e4583b",
  "5ac13192-7ace-4fcf-b828-1a26f28068ee",
  "98830695-27a2-44f7-8c18-0c3ebc9698f6",
];

describe("connect setup", () => {
  it("requiredResourceAccess: Microsoft Graph and the six app-role ids as Roles", () => {
    assert.deepEqual(requiredResourceAccess(), [
      {
        resourceAppId: "00000003-0000-0000-c000-000000000000",
        resourceAccess: ROLE_IDS.map((id) => ({ id, type: "Role" })),
      },
    ]);
    assert.deepEqual(
      REQUIRED_PERMISSIONS.map((p) => p.name),
      [...PUBLISHER_PERMISSIONS],
      "the same six permissions as the local tenant's default seed",
    );
  });

  it("an Azure CLI script per cloud: cloud name, app, service principal, consent, credential", () => {
    const names = {
      global: "AzureCloud",
      usgov: "AzureUSGovernment",
      "usgov-dod": "AzureUSGovernment",
      china: "AzureChinaCloud",
    } as const;
    for (const [cloud, azName] of Object.entries(names)) {
      const plan = setupPlan({
        cloud: cloud as keyof typeof names,
        name: "Intune pub",
        tenant: "contoso.onmicrosoft.com",
        clientId: undefined,
        certificateFile: undefined,
        profile: "p",
      });
      const script = plan.azureCliScript ?? "";
      assert.match(script, new RegExp(`^az cloud set --name ${azName}$`, "m"));
      assert.match(script, /az ad app create --display-name 'Intune pub' --sign-in-audience AzureADMyOrg/);
      assert.match(script, /az ad sp create --id "\$APP_ID"/);
      assert.match(script, /az ad app permission admin-consent --id "\$APP_ID"/);
      assert.match(
        script,
        /--query password -o tsv \\\n {2}\| intune-publisher connect init --profile 'p' --cloud [a-z-]+ --tenant 'contoso\.onmicrosoft\.com' --client-id "\$APP_ID" --secret-stdin/,
      );
      for (const id of ROLE_IDS) assert.ok(script.includes(id), `${cloud}: ${id}`);
    }
    const cert = setupPlan({
      cloud: "global",
      name: "n",
      tenant: undefined,
      clientId: undefined,
      certificateFile: "/x/a b.cer",
      profile: "p",
    });
    assert.match(
      cert.azureCliScript ?? "",
      /az ad app credential reset --id "\$APP_ID" --append --cert @'\/x\/a b\.cer'/,
    );
    assert.doesNotMatch(cert.azureCliScript ?? "", /--secret-stdin/);
    assert.match(cert.azureCliScript ?? "", /TENANT="\$\{TENANT:\?/);
    assert.equal(
      setupPlan({
        cloud: "local",
        name: "n",
        tenant: undefined,
        clientId: undefined,
        certificateFile: undefined,
        profile: "p",
      }).azureCliScript,
      undefined,
    );
  });

  it("the admin-consent URL uses the cloud's authority host", () => {
    const us = setupPlan({
      cloud: "usgov-dod",
      name: "n",
      tenant: "t.onmicrosoft.us",
      clientId: "3d2b1a0f-9e8d-4c7b-a6f5-e4d3c2b1a098",
      certificateFile: undefined,
      profile: "p",
    });
    assert.match(
      us.adminConsentUrl ?? "",
      /^https:\/\/login\.microsoftonline\.us\/t\.onmicrosoft\.us\/adminconsent\?client_id=3d2b1a0f-9e8d-4c7b-a6f5-e4d3c2b1a098&/,
    );
  });

  it("--certificate writes a 0600 key + certificate and a public .cer that the tenant accepts for sign-in", async () => {
    const dir = await mkdtemp(join(tmpdir(), "connect-setup-"));
    try {
      const r = await runCli(["connect", "setup", "--certificate", "pub.pem", "--output", "json"], { HOME: dir });
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout) as {
        certificate: { keyAndCertificate: string; publicCertificate: string; thumbprintSha1: string };
        azureCliScript: string;
      };
      assert.equal(out.certificate.keyAndCertificate, join(dir, "pub.pem"));
      assert.equal(out.certificate.publicCertificate, join(dir, "pub.cer"));
      assert.equal((await stat(join(dir, "pub.pem"))).mode & 0o777, 0o600);
      const pem = await readFile(join(dir, "pub.pem"), "utf8");
      const cer = await readFile(join(dir, "pub.cer"), "utf8");
      assert.doesNotMatch(cer, /PRIVATE KEY/);
      assertNoSecrets(r, keyLines(pem));
      const x = new X509Certificate(cer);
      assert.equal(x.fingerprint.replace(/:/g, ""), out.certificate.thumbprintSha1);
      assert.match(out.azureCliScript, /--cert @'.*pub\.cer'/);

      // Never overwrites an existing key.
      const again = await runCli(["connect", "setup", "--certificate", "pub.pem"], { HOME: dir });
      assert.equal(again.code, 9);

      // The pair signs in: register the public certificate on an app of a local tenant.
      const clientId = "a2000000-0000-4000-8000-000000000001";
      const lt = await startLocalTestTenant({
        storage: false,
        seed: {
          tenants: [{ id: "0c0ffee0-2222-4333-8444-555566667777", domains: ["contoso.onmicrosoft.com"] }],
          appRegistrations: [
            { clientId, displayName: "p", certificates: [{ pem: cer }], roles: [...PUBLISHER_PERMISSIONS] },
          ],
        },
      });
      try {
        await writeFile(join(dir, "ca.pem"), lt.caCertPem);
        const t = await runCli(["connect", "test", ...localTenantFlags(lt, join(dir, "ca.pem")), "--output", "json"], {
          HOME: dir,
          XDG_CONFIG_HOME: join(dir, "xdg"),
          AZURE_TENANT_ID: "contoso.onmicrosoft.com",
          AZURE_CLIENT_ID: clientId,
          AZURE_CLIENT_CERTIFICATE_PATH: join(dir, "pub.pem"),
        });
        assertNoSecrets(t, keyLines(pem));
        assert.equal(t.code, 0, t.stderr);
        const report = JSON.parse(t.stdout) as ConnectionReport;
        assert.equal(report.token?.credentialType, "certificate");
        assert.equal(report.credential?.thumbprintSha1, out.certificate.thumbprintSha1);
      } finally {
        await lt.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("the table output prints the JSON, the script and the consent URL", async () => {
    const r = await runCli(
      [
        "connect",
        "setup",
        "--cloud",
        "china",
        "--tenant",
        "contoso.partner.onmschina.cn",
        "--client-id",
        "3d2b1a0f-9e8d-4c7b-a6f5-e4d3c2b1a098",
      ],
      { HOME: tmpdir() },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /"resourceAppId": "00000003-0000-0000-c000-000000000000"/);
    assert.match(r.stdout, /az cloud set --name AzureChinaCloud/);
    assert.match(r.stdout, /^https:\/\/login\.chinacloudapi\.cn\/contoso\.partner\.onmschina\.cn\/adminconsent\?/m);
  });
});
