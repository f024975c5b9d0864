import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { PUBLISHER_PERMISSIONS } from "../../emulator/seed.js";
import type { ConnectionReport } from "../../src/publish/connect/test-connection.js";
import { assertNoSecrets } from "../support/secrets.js";
import { emulatorFacts, runCli, spawnCli, stopChild, homeEnv } from "../support/cli.js";
import { recordLocalTenant, startLocalTestTenant } from "../support/tenant.js";

const TENANT = "0c0ffee0-3333-4444-8555-666677778888";
const APP = "a3000000-0000-4000-8000-000000000001";
const SECRET = "local-discovery-secret-0123456789abcdef";

describe("connect test --cloud local finds a running local tenant", () => {
  it("uses the one described in the emulator's state folder; refuses a record whose tenant is gone", async () => {
    const home = await mkdtemp(join(tmpdir(), "connect-local-"));
    const stateDir = join(home, "state", "intune-publisher", "emulator");
    await mkdir(stateDir, { recursive: true });
    const lt = await startLocalTestTenant({
      storage: false,
      stateDir,
      seed: {
        tenants: [{ id: TENANT, domains: ["fabrikam.onmicrosoft.com"] }],
        appRegistrations: [
          { clientId: APP, displayName: "p", secrets: [{ value: SECRET }], roles: [...PUBLISHER_PERMISSIONS] },
        ],
      },
    });
    const env = homeEnv(home);
    try {
      // What `emulator start` writes, plus the address fields this lookup needs.
      await writeFile(
        join(stateDir, "credentials.json"),
        JSON.stringify({
          tenantId: TENANT,
          clientId: APP,
          clientSecret: SECRET,
          authorityHost: lt.authorityHost,
          graphBaseUrl: lt.graphBaseUrl,
        }),
        { mode: 0o600 },
      );
      const r = await runCli(["connect", "test", "--cloud", "local", "--output", "json"], env);
      assertNoSecrets(r, [SECRET]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /^Testing the running local tenant/m);
      const report = JSON.parse(r.stdout) as ConnectionReport;
      assert.equal(report.settings["tenant"], TENANT);
      assert.equal(report.settings["authority"], `${lt.authorityHost}/${TENANT}`);
    } finally {
      await lt.close();
    }
    try {
      // The same file, but nothing listens any more: an error naming the fix, never a silent empty tenant.
      const stale = await runCli(["connect", "test", "--cloud", "local", "--output", "json"], env);
      assert.equal(stale.code, 8, stale.stderr);
      assert.equal(stale.stdout, "");
      assert.match(
        stale.stderr,
        /error: The local tenant recorded in .*credentials\.json \(https:\/\/127\.0\.0\.1:\d+\) does not answer/,
      );
      assert.match(
        stale.stderr,
        /hint: Start it again with `intune-publisher emulator start --state .*`.* or delete .*credentials\.json/,
      );
      assert.doesNotMatch(stale.stderr, /Starting a local tenant in-process/);
      // Once the record is removed, a fresh in-process tenant is tested.
      await rm(join(stateDir, "credentials.json"));
      const r = await runCli(["connect", "test", "--cloud", "local", "--output", "json"], env);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /^Starting a local tenant in-process/m);
      assert.notEqual((JSON.parse(r.stdout) as ConnectionReport).settings["tenant"], TENANT);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});

describe("a local tenant record naming a vendor host elsewhere", () => {
  it("is refused like any address that is not https on this machine", async () => {
    const home = await mkdtemp(join(tmpdir(), "connect-vendor-"));
    const stateDir = join(home, "state", "intune-publisher", "emulator");
    await mkdir(stateDir, { recursive: true });
    const lt = await startLocalTestTenant({ storage: false, vendor: false, stateDir });
    try {
      await recordLocalTenant(stateDir, lt, { vendorUrl: "https://downloads.example.com" });
      const env = homeEnv(home);
      const r = await runCli(["catalog", "search", "x"], env);
      assert.equal(r.code, 8, r.stderr);
      assert.match(
        r.stderr,
        /points vendorUrl at https:\/\/downloads\.example\.com, which is not an https address on this machine/,
      );
    } finally {
      await lt.close();
      await rm(home, { recursive: true, force: true });
    }
  });
});

describe("`emulator start` in another process, found by `connect test --cloud local`", () => {
  it("writes the address into credentials.json (0600); connect test uses that tenant (--state or env var)", async () => {
    const home = await mkdtemp(join(tmpdir(), "connect-emu-"));
    const stateDir = join(home, "emulator-state");
    const childEnv = { HOME: home, XDG_STATE_HOME: join(home, "xs") };
    const child = await spawnCli(["emulator", "start", "--state", stateDir, "--output", "json"], childEnv, home);
    try {
      const facts = await emulatorFacts(child);
      const credsPath = join(stateDir, "credentials.json");
      assert.equal((await stat(credsPath)).mode & 0o777, 0o600);
      const creds = JSON.parse(await readFile(credsPath, "utf8")) as Record<string, string>;
      assert.equal(creds["authorityHost"], facts["authorityHost"]);
      assert.equal(creds["graphBaseUrl"], facts["graphBaseUrl"]);
      assert.equal(creds["tokenAudience"], "https://graph.microsoft.com");
      const port = new URL(facts["authorityHost"] ?? "").port;
      assert.match(port, /^\d+$/);
      // The vendor download host runs too; its URL is recorded, so the catalog commands find it.
      assert.match(creds["vendorUrl"] ?? "", /^https:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(creds["vendorUrl"], facts["vendorUrl"]);
      const found = await runCli(["catalog", "search", "tinyapp", "--state", stateDir, "--output", "json"], {
        HOME: home,
        XDG_CONFIG_HOME: join(home, "config"),
        XDG_CACHE_HOME: join(home, "cache"),
      });
      assert.equal(found.code, 0, found.stderr);
      assert.ok(found.stderr.includes(`using the local tenant's vendor host ${creds["vendorUrl"]}`), found.stderr);
      assert.ok(
        (JSON.parse(found.stdout) as { id: string }[]).some((h) => h.id === "Contoso.TinyApp"),
        found.stdout,
      );

      // Nothing else configured: no profile, no AZURE_* variables, another default state folder.
      const env = { HOME: home, XDG_STATE_HOME: join(home, "elsewhere"), XDG_CONFIG_HOME: join(home, "config") };
      for (const [how, args, extraEnv] of [
        ["--state", ["--state", stateDir], {}],
        ["INTUNE_PUBLISHER_EMULATOR_STATE", [], { INTUNE_PUBLISHER_EMULATOR_STATE: stateDir }],
      ] as const) {
        const r = await runCli(["connect", "test", "--cloud", "local", ...args, "--output", "json"], {
          ...env,
          ...extraEnv,
        });
        assertNoSecrets(r, [creds["clientSecret"] ?? "missing-secret"]);
        assert.equal(r.code, 0, `${how}: ${r.stderr}`);
        assert.match(r.stderr, /^Testing the running local tenant \(.*credentials\.json\)\.$/m, how);
        assert.doesNotMatch(r.stderr, /Starting a local tenant in-process/, how);
        const report = JSON.parse(r.stdout) as ConnectionReport;
        assert.equal(report.settings["authority"], `https://127.0.0.1:${port}/${facts["tenantId"]}`, how);
        assert.equal(report.settings["graphBaseUrl"], facts["graphBaseUrl"], how);
        assert.equal(report.permissions.filter((p) => p.enabled && p.probe.status === "ok").length, 6, how);
      }
      child.proc.kill("SIGINT");
      assert.equal(await child.exited, 0, child.stderr());
      assert.match(child.stderr(), /Stopping the local tenant\./);
    } finally {
      await stopChild(child);
      await rm(home, { recursive: true, force: true });
    }
  });
});
