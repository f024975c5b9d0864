import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { LocalTenant } from "../../emulator/server.js";
import { PUBLISHER_PERMISSIONS } from "../../emulator/seed.js";
import { REQUIRED_PERMISSIONS, requiredResourceAccess } from "../../src/core/config/permissions.js";
import { setupPlan } from "../../src/core/config/setup.js";
import type { ConnectionReport } from "../../src/publish/connect/test-connection.js";
import { assertNoSecrets, keyLines } from "../support/secrets.js";
import { localTenantFlags, startLocalTestTenant } from "../support/tenant.js";
import { homeEnv, runCli } from "../support/cli.js";

/**
 * Runs a generated setup script with bash as written. Stand-ins on PATH: `az` (records its arguments; answers the app
 * id and, for a secret, `secretValue`) and `intune-publisher` (the CLI under test, pointed at the local tenant in place
 * of `--cloud global`, the only change).
 */
async function runScript(
  script: string,
  dir: string,
  lt: LocalTenant,
  o: { appId: string; secretValue?: string },
): Promise<{ code: number | null; output: string; azCalls: string[] }> {
  const bin = join(dir, "bin");
  await mkdir(bin, { recursive: true });
  const caPath = join(dir, "ca.pem");
  await writeFile(caPath, lt.caCertPem);
  await writeFile(
    join(bin, "az"),
    [
      "#!/usr/bin/env bash",
      `printf '%s\\n' "$*" >> ${JSON.stringify(join(dir, "az-calls"))}`,
      `if [ "$1 $2 $3" = "ad app create" ]; then echo ${o.appId}; fi`,
      `if [ "$1 $2 $3 $4" = "ad app credential reset" ] && [[ "$*" == *"--query password"* ]]; then echo '${o.secretValue ?? ""}'; fi`,
      "exit 0",
      "",
    ].join("\n"),
  );
  const mainUrl = new URL("../../src/cli/main.js", import.meta.url).href;
  const local = JSON.stringify(localTenantFlags(lt, caPath));
  await writeFile(
    join(bin, "intune-publisher"),
    [
      `#!${process.execPath}`,
      "const a = process.argv.slice(2);",
      'const i = a.indexOf("--cloud");',
      `if (i >= 0 && a[i + 1] === "global") a.splice(i, 2, ...${local});`,
      `import(${JSON.stringify(mainUrl)}).then(async (m) => { process.exitCode = await m.main(a); });`,
      "",
    ].join("\n"),
  );
  await chmod(join(bin, "az"), 0o755);
  await chmod(join(bin, "intune-publisher"), 0o755);
  await writeFile(join(dir, "setup.sh"), script);
  const child = spawn("bash", [join(dir, "setup.sh")], {
    cwd: dir,
    env: homeEnv(dir, { PATH: `${bin}:/usr/bin:/bin` }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (d: Buffer) => (output += d.toString("utf8")));
  child.stderr.on("data", (d: Buffer) => (output += d.toString("utf8")));
  const code = await new Promise<number | null>((r) => child.once("exit", (c) => r(c)));
  const azCalls = (await readFile(join(dir, "az-calls"), "utf8").catch(() => "")).split("\n").filter(Boolean);
  return { code, output, azCalls };
}

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
        /--end-date "\$EXPIRES" --query password -o tsv \\\n {2}\| intune_publisher connect init --profile 'p' --cloud [a-z-]+ --tenant 'contoso\.onmicrosoft\.com' --client-id "\$APP_ID" --secret-stdin --secret-expires-on "\$EXPIRES"/,
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
  it("--certificate: the script creates the profile with the .pem and runs as written to a passing connect test", async () => {
    const dir = await mkdtemp(join(tmpdir(), "connect-setup-run-"));
    try {
      const r = await runCli(
        ["connect", "setup", "--certificate", "pub.pem", "--tenant", "contoso.onmicrosoft.com", "--profile", "lab"],
        homeEnv(dir),
        dir,
      );
      assert.equal(r.code, 0, r.stderr);
      const script = /^#!\/usr\/bin\/env bash\n[\s\S]*?^intune_publisher connect test .*$/m.exec(r.stdout)?.[0] ?? "";
      const init = `intune_publisher connect init --profile 'lab' --cloud global --tenant 'contoso.onmicrosoft.com' --client-id "$APP_ID" --certificate '${join(dir, "pub.pem")}'`;
      assert.ok(script.split("\n").includes(init), script);
      assert.doesNotMatch(script, /echo "Next:/, "the profile is created, not only described");
      assert.ok(script.indexOf(init) < script.indexOf("intune_publisher connect test --profile 'lab'"));
      assert.match(script, /command -v intune-publisher .* npx --no-install intune-publisher/);
      assert.match(script, /npm install -g intune-publisher/, "says how to install when the command is missing");

      const appId = "a2000000-0000-4000-8000-000000000002";
      const cer = await readFile(join(dir, "pub.cer"), "utf8");
      const lt = await startLocalTestTenant({
        storage: false,
        seed: {
          tenants: [{ id: "0c0ffee0-2222-4333-8444-555566667777", domains: ["contoso.onmicrosoft.com"] }],
          appRegistrations: [
            { clientId: appId, displayName: "p", certificates: [{ pem: cer }], roles: [...PUBLISHER_PERMISSIONS] },
          ],
        },
      });
      try {
        const run = await runScript(script + "\n", dir, lt, { appId });
        assert.equal(run.code, 0, run.output);
        assert.ok(run.azCalls.some((c) => c.startsWith(`ad app credential reset --id ${appId} --append --cert @`)));
        assert.match(run.output, /Client ID: a2000000-0000-4000-8000-000000000002/);
        const config = await readFile(join(dir, "config", "intune-publisher", "config.yaml"), "utf8");
        assert.match(config, /type: certificate/);
        assert.ok(config.includes(join(dir, "pub.pem")), config);
        assertNoSecrets(
          { code: 0, stdout: run.output, stderr: "" },
          keyLines(await readFile(join(dir, "pub.pem"), "utf8")),
        );
      } finally {
        await lt.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("secret: the script records the one-year secret's expiry in the profile, so connect test knows it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "connect-setup-secret-"));
    const secret = "Setup~secretVALUE.0123456789_abcdefghijklm";
    try {
      const plan = setupPlan({
        cloud: "global",
        name: "n",
        tenant: "contoso.onmicrosoft.com",
        clientId: undefined,
        certificateFile: undefined,
        profile: "lab",
      });
      const appId = "a2000000-0000-4000-8000-000000000003";
      const lt = await startLocalTestTenant({
        storage: false,
        seed: {
          tenants: [{ id: "0c0ffee0-2222-4333-8444-555566667777", domains: ["contoso.onmicrosoft.com"] }],
          appRegistrations: [
            { clientId: appId, displayName: "p", secrets: [{ value: secret }], roles: [...PUBLISHER_PERMISSIONS] },
          ],
        },
      });
      try {
        const run = await runScript(plan.azureCliScript ?? "", dir, lt, { appId, secretValue: secret });
        assert.equal(run.code, 0, run.output);
        assert.ok(!run.output.includes(secret), "the secret is never printed");
        const reset = run.azCalls.find((c) => c.startsWith("ad app credential reset")) ?? "";
        const endDate = /--end-date (\d{4}-\d{2}-\d{2})/.exec(reset)?.[1] ?? "";
        const config = await readFile(join(dir, "config", "intune-publisher", "config.yaml"), "utf8");
        assert.match(config, new RegExp(`expiresOn: "?${endDate}"?`), config);
        const daysAhead = (Date.parse(endDate) - Date.now()) / 86_400_000;
        assert.ok(daysAhead > 363 && daysAhead < 367, endDate);

        const t = await runCli(["connect", "test", "--profile", "lab", "--output", "json"], homeEnv(dir), dir);
        assert.equal(t.code, 0, t.stderr);
        const report = JSON.parse(t.stdout) as ConnectionReport;
        assert.equal(report.credential?.expiresOn?.slice(0, 10), endDate);
        assert.ok(!report.steps.some((s) => /unknown/.test(s.detail ?? "")), JSON.stringify(report.steps));
      } finally {
        await lt.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
