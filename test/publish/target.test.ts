// Which tenant the publish commands use (src/publish/target.ts): the local tenant only with --cloud local or when
// nothing at all is configured; anything partial is an error (exit 11) and nothing is published. Run through the
// real CLI entry against a running local tenant recorded in its state folder, as `emulator start` leaves it.
import assert from "node:assert/strict";
import { chmod, mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { LocalTenant } from "../../emulator/server.js";
import { defaultLogDir } from "../../src/clients/http/log-file.js";
import { EXIT_CODES } from "../../src/cli/exit-codes.js";
import { runCli, homeEnv } from "../support/cli.js";
import { defaultEmulatorStateDir } from "../../src/publish/connect/local-tenant.js";
import { useScratch } from "../support/scratch.js";
import { copyExamples } from "../support/fixtures.js";
import { recordLocalTenant, startLocalTestTenant } from "../support/tenant.js";

const scratch = useScratch("ip-target-");

describe("which tenant: never one the user did not mean", () => {
  let lt: LocalTenant;
  let home: string;
  let stateDir: string;
  let base: NodeJS.ProcessEnv;
  let file: string;
  const apps = (): unknown[] => Object.values(lt.admin.state()).flatMap((t) => t["mobileApps"] ?? []);

  before(async () => {
    home = await scratch();
    stateDir = join(home, "emulator");
    lt = await startLocalTestTenant();
    await recordLocalTenant(stateDir, lt);
    // No profile, no AZURE_* variable; the running local tenant is recorded in the state folder.
    base = homeEnv(home, { INTUNE_PUBLISHER_EMULATOR_STATE: stateDir });
    const ex = await copyExamples(await scratch());
    file = ex.files.find((f) => f.endsWith("contoso-notes.yaml"))!;
  });
  after(async () => {
    await lt.close();
  });

  it("AZURE_CLIENT_ID and AZURE_CLIENT_SECRET without AZURE_TENANT_ID: exit 11 naming AZURE_TENANT_ID, nothing published", async () => {
    // Even the running local tenant's own client and secret: a mis-wired CI job must fail, not pass.
    const r = await runCli(["publish", file, "--no-log-file"], {
      ...base,
      AZURE_CLIENT_ID: lt.clientId,
      AZURE_CLIENT_SECRET: lt.clientSecret,
    });
    assert.equal(r.code, 11, r.stderr);
    assert.equal(EXIT_CODES.incompleteConfig, 11);
    assert.match(
      r.stderr,
      /error: The configuration is incomplete: no tenant is set; given: AZURE_CLIENT_ID, AZURE_CLIENT_SECRET\./,
    );
    assert.match(r.stderr, /hint: Set AZURE_TENANT_ID/);
    assert.doesNotMatch(r.stderr, /local tenant\./);
    assert.ok(!r.stderr.includes(lt.clientSecret ?? "no secret"));
    assert.equal(r.stdout, "");
    assert.deepEqual(apps(), []);
  });

  it("AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET set but empty (a CI system's missing secrets): exit 11", async () => {
    const r = await runCli(["publish", file, "--no-log-file"], {
      ...base,
      AZURE_TENANT_ID: "",
      AZURE_CLIENT_ID: "",
      AZURE_CLIENT_SECRET: "",
    });
    assert.equal(r.code, 11, r.stderr);
    assert.match(r.stderr, /no tenant or client ID is set; given: AZURE_TENANT_ID \(set but empty\)/);
    assert.match(r.stderr, /how CI passes a missing secret/);
    assert.deepEqual(apps(), []);
  });

  it("--config naming a file that does not exist: exit 11 for publish and connect test, nothing published", async () => {
    const missing = join(home, "no-such-config.yaml");
    const r = await runCli(["publish", file, "--config", missing, "--no-log-file"], base);
    assert.equal(r.code, 11, r.stderr);
    assert.match(r.stderr, /error: The configuration file .*no-such-config\.yaml \(--config\) does not exist\./);
    const t = await runCli(["connect", "test", "--config", "no-such-config.yaml", "--no-log-file"], base, home);
    assert.equal(t.code, 11, t.stderr);
    assert.match(t.stderr, new RegExp(`${join(home, "no-such-config.yaml").replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
    assert.deepEqual(apps(), []);
  });

  it("a profiles file without profiles, or a --cloud flag alone, is partial configuration (exit 11)", async () => {
    const cfg = join(home, "cfg-empty");
    await mkdir(join(cfg, "intune-publisher"), { recursive: true });
    await writeFile(join(cfg, "intune-publisher", "config.yaml"), "profiles: {}\n");
    const r = await runCli(["publish", file, "--no-log-file"], { ...base, XDG_CONFIG_HOME: cfg });
    assert.equal(r.code, 11, r.stderr);
    assert.match(r.stderr, /given: the profiles file .*config\.yaml \(no profiles\)/);
    const c = await runCli(["publish", file, "--cloud", "global", "--no-log-file"], base);
    assert.equal(c.code, 11, c.stderr);
    assert.match(c.stderr, /given: --cloud/);
    assert.deepEqual(apps(), []);
  });

  it("nothing configured at all: the running local tenant, and the JSON says which tenant (no secret)", async () => {
    const r = await runCli(["publish", file, "--dry-run", "--output", "json", "--no-log-file"], base);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /No tenant is configured/);
    const doc = JSON.parse(r.stdout) as { target: Record<string, string> };
    assert.deepEqual(doc.target, {
      cloud: "local",
      tenantId: lt.tenantId,
      clientId: lt.clientId,
      authorityHost: lt.authorityHost,
      graphBaseUrl: lt.graphBaseUrl,
      source: `running local tenant (${join(stateDir, "credentials.json")})`,
    });
    assert.ok(!r.stdout.includes(lt.clientSecret ?? "no secret"));
    // No record in the state folder: an in-process tenant, named as such.
    const fresh = await runCli(["apps", "list", "--output", "json", "--no-log-file"], {
      ...base,
      INTUNE_PUBLISHER_EMULATOR_STATE: join(home, "empty-state"),
    });
    assert.equal(fresh.code, 0, fresh.stderr);
    const listed = JSON.parse(fresh.stdout) as { target: { cloud: string; source: string } };
    assert.deepEqual([listed.target.cloud, listed.target.source], ["local", "in-process local tenant"]);
  });

  it("--cloud local: AZURE_CLIENT_SECRET beats the discovered secret (a wrong one is a sign-in error, exit 3)", async () => {
    const wrong = await runCli(["apps", "list", "--cloud", "local", "--no-log-file"], {
      ...base,
      AZURE_CLIENT_SECRET: "wrong-secret-0123456789",
    });
    assert.equal(wrong.code, EXIT_CODES.auth, wrong.stderr);
    assert.match(wrong.stderr, /AADSTS7000215/);
    const right = await runCli(["apps", "list", "--cloud", "local", "--output", "json", "--no-log-file"], {
      ...base,
      AZURE_CLIENT_SECRET: lt.clientSecret,
    });
    assert.equal(right.code, 0, right.stderr);
    // --tenant beats the discovered tenant too: an unknown one is refused by the tenant's sign-in.
    const tenant = await runCli(
      ["apps", "list", "--cloud", "local", "--tenant", "00000000-0000-4000-8000-000000000000", "--no-log-file"],
      base,
    );
    assert.equal(tenant.code, EXIT_CODES.auth, tenant.stderr);
    assert.match(tenant.stderr, /AADSTS90002/);
  });

  it("a planted credentials.json naming a host that is not this machine is refused; nothing is contacted", async () => {
    for (const [authorityHost, graphBaseUrl] of [
      ["https://login.attacker.invalid", "https://graph.attacker.invalid/beta"],
      [lt.authorityHost, "https://graph.attacker.invalid/beta"],
      [lt.authorityHost.replace("https:", "http:"), lt.graphBaseUrl],
    ]) {
      const planted = join(await scratch(), "state");
      await recordLocalTenant(planted, lt, { authorityHost, graphBaseUrl });
      const r = await runCli(["publish", file, "--no-log-file"], { ...base, INTUNE_PUBLISHER_EMULATOR_STATE: planted });
      assert.equal(r.code, EXIT_CODES.config, r.stderr);
      assert.match(
        r.stderr,
        /error: The local tenant record .*credentials\.json points \w+ at .*, which is not an https address on this machine\./,
      );
      assert.match(r.stderr, /only https loopback addresses \(127\.0\.0\.0\/8, ::1, localhost\)/);
    }
    assert.deepEqual(apps(), []);
  });

  it('XDG_STATE_HOME="" is unset: the default state folder under HOME is used, never the current folder', async () => {
    assert.equal(
      defaultEmulatorStateDir({ XDG_STATE_HOME: "" }, "linux", "/home/u"),
      "/home/u/.local/state/intune-publisher/emulator",
    );
    assert.equal(
      defaultEmulatorStateDir({ XDG_STATE_HOME: "rel/state", INTUNE_PUBLISHER_EMULATOR_STATE: "" }, "linux", "/home/u"),
      "/home/u/.local/state/intune-publisher/emulator",
    );
    assert.equal(
      defaultEmulatorStateDir({ LOCALAPPDATA: "" }, "win32", "C:\\Users\\u"),
      "C:\\Users\\u\\AppData\\Local\\intune-publisher\\emulator",
    );
    assert.equal(
      defaultLogDir({ XDG_STATE_HOME: "", HOME: "" }, "linux", "/home/u"),
      "/home/u/.local/state/intune-publisher/logs",
    );

    const h = await scratch();
    const cwd = join(h, "work");
    await mkdir(cwd);
    const defaultState = join(h, ".local", "state", "intune-publisher", "emulator");
    await recordLocalTenant(defaultState, lt);
    // A record others may read is used, with a warning (it holds the client secret).
    await chmod(join(defaultState, "credentials.json"), 0o644);
    const r = await runCli(
      ["apps", "list", "--output", "json"],
      { HOME: h, XDG_STATE_HOME: "", XDG_CONFIG_HOME: join(h, "cfg") },
      cwd,
    );
    assert.equal(r.code, 0, r.stderr);
    const listed = JSON.parse(r.stdout) as { target: { source: string } };
    assert.equal(
      listed.target.source,
      `running local tenant (${join(h, ".local", "state", "intune-publisher", "emulator", "credentials.json")})`,
    );
    assert.match(
      r.stderr,
      /warning: .*credentials\.json holds the local tenant's client secret and is readable by other users \(mode 644\)/,
    );
    assert.equal((await readdir(join(h, ".local", "state", "intune-publisher", "logs"))).length, 1);
    assert.deepEqual(await readdir(cwd), []);
  });
});
