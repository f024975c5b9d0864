import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { PUBLISHER_PERMISSIONS } from "../../emulator/seed.js";
import { startLocalTenant } from "../../emulator/server.js";
import type { ConnectionReport } from "../../src/publish/connect/test-connection.js";
import { assertNoSecrets, cliCommand, runCli } from "./support.js";

const TENANT = "0c0ffee0-3333-4444-8555-666677778888";
const APP = "a3000000-0000-4000-8000-000000000001";
const SECRET = "local-discovery-secret-0123456789abcdef";

describe("connect test --cloud local finds a running local tenant", () => {
  it("uses the one described in the emulator's state folder; refuses a record whose tenant is gone", async () => {
    const home = await mkdtemp(join(tmpdir(), "connect-local-"));
    const stateDir = join(home, "state", "intune-publisher", "emulator");
    await mkdir(stateDir, { recursive: true });
    const lt = await startLocalTenant({
      storage: false,
      stateDir,
      seed: {
        tenants: [{ id: TENANT, domains: ["fabrikam.onmicrosoft.com"] }],
        appRegistrations: [
          { clientId: APP, displayName: "p", secrets: [{ value: SECRET }], roles: [...PUBLISHER_PERMISSIONS] },
        ],
      },
    });
    const env = { HOME: home, XDG_STATE_HOME: join(home, "state"), XDG_CONFIG_HOME: join(home, "config") };
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
      assert.equal(r.code, 0, r.err);
      assert.match(r.err, /^Testing the running local tenant/m);
      const report = JSON.parse(r.out) as ConnectionReport;
      assert.equal(report.settings["tenant"], TENANT);
      assert.equal(report.settings["authority"], `${lt.authorityHost}/${TENANT}`);
    } finally {
      await lt.close();
    }
    try {
      // The same file, but nothing listens any more: an error naming the fix, never a silent empty tenant.
      const stale = await runCli(["connect", "test", "--cloud", "local", "--output", "json"], env);
      assert.equal(stale.code, 8, stale.err);
      assert.equal(stale.out, "");
      assert.match(
        stale.err,
        /error: The local tenant recorded in .*credentials\.json \(https:\/\/127\.0\.0\.1:\d+\) does not answer/,
      );
      assert.match(
        stale.err,
        /hint: Start it again with `intune-publisher emulator start --state .*`.* or delete .*credentials\.json/,
      );
      assert.doesNotMatch(stale.err, /Starting a local tenant in-process/);
      // Once the record is removed, a fresh in-process tenant is tested.
      await rm(join(stateDir, "credentials.json"));
      const r = await runCli(["connect", "test", "--cloud", "local", "--output", "json"], env);
      assert.equal(r.code, 0, r.err);
      assert.match(r.err, /^Starting a local tenant in-process/m);
      assert.notEqual((JSON.parse(r.out) as ConnectionReport).settings["tenant"], TENANT);
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
    const lt = await startLocalTenant({ storage: false, vendor: false, stateDir });
    try {
      await writeFile(
        join(stateDir, "credentials.json"),
        JSON.stringify({
          tenantId: lt.tenantId,
          clientId: lt.clientId,
          clientSecret: lt.clientSecret,
          authorityHost: lt.authorityHost,
          graphBaseUrl: lt.graphBaseUrl,
          vendorUrl: "https://downloads.example.com",
        }),
        { mode: 0o600 },
      );
      const env = { HOME: home, XDG_STATE_HOME: join(home, "state"), XDG_CONFIG_HOME: join(home, "config") };
      const r = await runCli(["catalog", "search", "x"], env);
      assert.equal(r.code, 8, r.err);
      assert.match(
        r.err,
        /points vendorUrl at https:\/\/downloads\.example\.com, which is not an https address on this machine/,
      );
    } finally {
      await lt.close();
      await rm(home, { recursive: true, force: true });
    }
  });
});

async function spawnCli(args: string[], env: NodeJS.ProcessEnv, dir: string): Promise<ChildProcess> {
  const cli = await cliCommand(dir);
  return spawn(process.execPath, [...cli.args, ...args], { cwd: cli.cwd, env, stdio: ["ignore", "pipe", "pipe"] });
}

describe("`emulator start` in another process, found by `connect test --cloud local`", () => {
  it("writes the address into credentials.json (0600); connect test uses that tenant (--state or env var)", async () => {
    const home = await mkdtemp(join(tmpdir(), "connect-emu-"));
    const stateDir = join(home, "emulator-state");
    const childEnv: NodeJS.ProcessEnv = { PATH: process.env["PATH"], HOME: home, XDG_STATE_HOME: join(home, "xs") };
    const child = await spawnCli(["emulator", "start", "--state", stateDir, "--output", "json"], childEnv, home);
    let out = "";
    let err = "";
    child.stdout?.on("data", (d: Buffer) => (out += d.toString("utf8")));
    child.stderr?.on("data", (d: Buffer) => (err += d.toString("utf8")));
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    try {
      let facts: Record<string, string> | undefined;
      const deadline = Date.now() + 60_000;
      while (facts === undefined) {
        if (child.exitCode !== null) assert.fail(`emulator start exited (${child.exitCode}): ${err}`);
        if (Date.now() > deadline) assert.fail(`emulator start printed nothing in time: ${err}`);
        try {
          facts = JSON.parse(out) as Record<string, string>;
        } catch {
          await new Promise((r) => setTimeout(r, 50));
        }
      }
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
      assert.equal(found.code, 0, found.err);
      assert.ok(found.err.includes(`using the local tenant's vendor host ${creds["vendorUrl"]}`), found.err);
      assert.ok(
        (JSON.parse(found.out) as { id: string }[]).some((h) => h.id === "Contoso.TinyApp"),
        found.out,
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
        assert.equal(r.code, 0, `${how}: ${r.err}`);
        assert.match(r.err, /^Testing the running local tenant \(.*credentials\.json\)\.$/m, how);
        assert.doesNotMatch(r.err, /Starting a local tenant in-process/, how);
        const report = JSON.parse(r.out) as ConnectionReport;
        assert.equal(report.settings["authority"], `https://127.0.0.1:${port}/${facts["tenantId"]}`, how);
        assert.equal(report.settings["graphBaseUrl"], facts["graphBaseUrl"], how);
        assert.equal(report.permissions.filter((p) => p.enabled && p.probe.status === "ok").length, 6, how);
      }
      child.kill("SIGINT");
      assert.equal(await exited, 0, err);
      assert.match(err, /Stopping the local tenant\./);
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGKILL");
        await exited;
      }
      await rm(home, { recursive: true, force: true });
    }
  });
});
