// sync --tenants through the real CLI entry, against a running local tenant serving three tenants (the fleet seed),
// one of which has its consent revoked: the others are synced, the table and JSON say so, the exit code is the
// failed tenant's (3, sign-in refused).
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fleetSeed, fleetTenants } from "../../emulator/fleet-seed.js";
import { loadOrCreatePki } from "../../emulator/pki.js";
import type { LocalTenant } from "../../emulator/server.js";
import { startVendorHost } from "../../emulator/vendor/host.js";
import type { VendorHost } from "../../emulator/vendor/host.js";
import { emulatorHomeEnv, runCli } from "../support/cli.js";
import { repoRoot } from "../support/paths.js";
import { SyncHistory } from "../../src/publish/sync/history.js";
import { useScratch } from "../support/scratch.js";
import { recordLocalTenant, startLocalTestTenant } from "../support/tenant.js";
import { product } from "../sync/support.js";
import { FLEET_SECRET, fleetTenantsYaml, writeFleetTool } from "./support.js";

const scratch = useScratch("ip-tenants-cli-");

describe("sync, connect test, publish and inventory with --tenants", () => {
  let env: NodeJS.ProcessEnv;
  let lt: LocalTenant;
  let host: VendorHost;
  let home: string;
  const fleet = fleetTenants(3);

  before(async () => {
    home = await scratch();
    const stateDir = join(home, "emulator");
    env = await emulatorHomeEnv(home, stateDir);
    // three devices, spread by the fleet seed: A in tenant01, B in tenant02, C in tenant03
    const [A, B, C] = ["a", "b", "c"].map((x) => `d0000000-0000-4000-8000-00000000000${x}`) as [string, string, string];
    const app = (id: string, displayName: string, version: string, publisher: string, deviceIds: string[]) => ({
      ...{ id, displayName, version, publisher, platform: "windows", sizeInByte: 0, deviceIds },
    });
    lt = await startLocalTestTenant({
      stateDir,
      seed: fleetSeed(3, FLEET_SECRET, {
        managedDevices: [A, B, C].map((id, i) => ({ id, deviceName: `PC-${i}`, operatingSystem: "Windows" })),
        detectedApps: [
          app("a1", "WinSCP 5.17.10", "5.17.10", "Martin Prikryl", [A, B, C]),
          app("a2", "VLC media player", "3.0.20", "VideoLAN", [A]),
        ],
      }),
      vendor: false,
    });
    host = await startVendorHost({
      seed: { products: [product("Cli.Tool", "1.0.0")] },
      ca: await loadOrCreatePki(stateDir),
    });
    await recordLocalTenant(stateDir, lt);
    await writeFile(
      join(home, "subscriptions.yaml"),
      `source: ${host.origin}\nproducts:\n  - id: Cli.Tool\n    assignments: [{ intent: available, group: Workstations }]\n`,
    );
    await writeFile(join(home, "tenants.yaml"), fleetTenantsYaml(fleet));
    lt.admin.revokeConsent(fleet[1]!.id);
  });
  after(async () => {
    await host.close();
    await lt.close();
  });

  it("a revoked tenant fails alone: the others are synced, exit 3, a row per tenant and the totals", async () => {
    const args = [
      "sync",
      "--subscriptions",
      join(home, "subscriptions.yaml"),
      "--tenants-file",
      join(home, "tenants.yaml"),
    ];
    const r = await runCli([...args, "--tenants", "all", "--no-log-file"], env);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stdout, /tenant01\s+\S+\s+ok\s+1\s+0\s+0\s+0\s+0/);
    assert.match(r.stdout, /tenant02\s+\S+\s+failed\s+0\s+0\s+0\s+0\s+0\s.*AADSTS700016/);
    assert.match(r.stdout, /tenant03\s+\S+\s+ok\s+1/);
    assert.match(
      r.stdout,
      /Total: 3 tenant\(s\), 2 ok, 1 failed; 2 product\(s\): 2 created.*1 package\(s\) built, 1 reused/,
    );
    assert.match(r.stderr, /Sync failed for 1 of 3 tenant\(s\):\n\s+tenant02: .*AADSTS700016/);
    assert.match(r.stderr, /admin consent/);
    // recorded in the sync history once per tenant, with its name (the console's history shows them)
    const h = SyncHistory.open(join(home, "state", "intune-publisher", "sync-history.db"));
    try {
      assert.deepEqual(
        h
          .runs()
          .map((x) => [x.tenant, x.status, x.products])
          .sort(),
        [
          ["tenant01", "ok", 1],
          ["tenant02", "failed", 0],
          ["tenant03", "ok", 1],
        ],
      );
    } finally {
      h.close();
    }

    const json = await runCli([...args, "--tenants", "ring=pilot", "--output", "json", "--no-log-file"], env);
    assert.equal(json.code, 3, json.stderr);
    const doc = JSON.parse(json.stdout) as {
      tenants: { tenant: string; status: string; products: { action: string }[] }[];
      totals: { upToDate: number; tenantsFailed: number };
      packagings: number;
    };
    assert.deepEqual(
      doc.tenants.map((t) => [t.tenant, t.status, t.products.map((p) => p.action)]),
      [
        ["tenant01", "ok", ["nothing"]],
        ["tenant02", "failed", []],
        ["tenant03", "ok", ["nothing"]],
      ],
    );
    assert.equal(doc.packagings, 0);
    assert.equal(doc.totals.tenantsFailed, 1);
  });

  it("connect test --tenants all: a table of tenants × permissions, the revoked tenant's cause, JSON, exit 3", async () => {
    const args = ["connect", "test", "--tenants-file", join(home, "tenants.yaml"), "--tenants", "all", "--no-log-file"];
    const r = await runCli(args, env);
    assert.equal(r.code, 3, r.stderr);
    assert.match(
      r.stdout,
      /Tenant\s+Tenant id\s+Apps\.ReadWrite\s+Configuration\.Read\s+ManagedDevices\.Read\s+RBAC\.Read/,
    );
    assert.match(r.stdout, new RegExp(`tenant01\\s+${fleet[0]!.id}\\s+(✓\\s+){6}ok`));
    assert.match(r.stdout, new RegExp(`tenant02\\s+${fleet[1]!.id}\\s+(-\\s+){6}✗ .*AADSTS700016`));
    assert.match(r.stdout, /tenant03\s+\S+\s+(✓\s+){6}ok/);
    assert.match(r.stdout, /Total: 3 tenant\(s\), 2 passed, 1 failed/);
    assert.match(r.stderr, /The connection test failed for 1 of 3 tenant\(s\):\n\s+tenant02: .*AADSTS700016/);

    const json = await runCli([...args, "--output", "json"], env);
    assert.equal(json.code, 3, json.stderr);
    const doc = JSON.parse(json.stdout) as {
      permissions: string[];
      tenants: { tenant: string; ok: boolean; permissions: Record<string, string>; problem?: { code: string } }[];
      totals: { tenants: number; ok: number; failed: number };
    };
    assert.equal(doc.permissions.length, 6);
    assert.deepEqual(
      doc.tenants.map((t) => [t.tenant, t.ok, [...new Set(Object.values(t.permissions))]]),
      [
        ["tenant01", true, ["ok"]],
        ["tenant02", false, ["not-tested"]],
        ["tenant03", true, ["ok"]],
      ],
    );
    assert.match(doc.tenants[1]!.problem!.code, /AADSTS700016/);
    assert.deepEqual(doc.totals, { tenants: 3, ok: 2, failed: 1 });
  });

  it("publish --tenants: each tenant gets the app with its own group, one package for all, the revoked one fails alone", async () => {
    const dir = join(home, "apps");
    // a logical group: only each tenant's mapping names a group the tenant has
    await writeFleetTool(dir, ["assignments: [{ intent: available, group: Workstations }]"]);
    const args = ["publish", join(dir, "fleet-tool.yaml"), "--tenants-file", join(home, "tenants.yaml")];
    const r = await runCli([...args, "--tenants", "all", "--no-log-file"], env);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stdout, /tenant01\s+\S+\s+ok\s+1\s+0\s+0\s+0\s+0/);
    assert.match(r.stdout, /tenant02\s+\S+\s+failed\s+0\s+0\s+0\s+0\s+0\s.*AADSTS700016/);
    assert.match(r.stdout, /tenant03\s+\S+\s+ok\s+1\s+0\s+0\s+0\s+0/);
    assert.match(
      r.stdout,
      /Total: 3 tenant\(s\), 2 ok, 1 failed; 2 app\(s\): 2 created.*1 package\(s\) built, 1 reused/,
    );
    assert.match(r.stderr, /Publishing failed for 1 of 3 tenant\(s\):\n\s+tenant02: .*AADSTS700016/);

    const json = await runCli([...args, "--tenants", "tenant01,tenant03", "--output", "json", "--no-log-file"], env);
    assert.equal(json.code, 0, json.stderr);
    const doc = JSON.parse(json.stdout) as {
      tenants: { tenant: string; status: string; apps: { id: string; action: string; appId: string }[] }[];
      totals: { upToDate: number; tenantsFailed: number };
      packagings: number;
    };
    assert.deepEqual(
      doc.tenants.map((t) => [t.tenant, t.status, t.apps.map((a) => [a.id, a.action])]),
      [
        ["tenant01", "ok", [["fleet-tool", "nothing"]]],
        ["tenant03", "ok", [["fleet-tool", "nothing"]]],
      ],
    );
    assert.notEqual(doc.tenants[0]!.apps[0]!.appId, doc.tenants[1]!.apps[0]!.appId);
    assert.equal(doc.packagings, 0);
  });

  it("inventory --tenants: product counts per tenant and a total view, the revoked tenant fails alone", async () => {
    const catalog = join(repoRoot(), "test", "fixtures", "winget", "pkgs");
    const args = ["inventory", "--catalog", catalog, "--tenants-file", join(home, "tenants.yaml"), "--tenants", "all"];
    const r = await runCli([...args, "--no-log-file"], env);
    assert.equal(r.code, 3, r.stderr);
    // the fleet seed spreads the devices: the tenants' inventories differ
    assert.match(r.stdout, /tenant01\s+\S+\s+ok\s+1\s+2\s+2\s+/);
    assert.match(r.stdout, /tenant02\s+\S+\s+failed\s+-\s+-\s+-\s+-\s+-\s+.*AADSTS700016/);
    assert.match(r.stdout, /tenant03\s+\S+\s+ok\s+1\s+1\s+1\s+1\s+/);
    assert.match(r.stdout, /All tenants\n.*\n.*WinSCP.*\s+Martin Prikryl\s+WinSCP\.WinSCP\s+2\s+2\s+2\n/);
    assert.match(r.stdout, /Total: 3 tenant\(s\), 2 read, 1 failed; 2 product\(s\) on 2 device\(s\)\./);
    assert.match(r.stderr, /Reading the inventory failed for 1 of 3 tenant\(s\):\n\s+tenant02: .*AADSTS700016/);

    const json = await runCli([...args, "--output", "json", "--no-log-file"], env);
    assert.equal(json.code, 3, json.stderr);
    const doc = JSON.parse(json.stdout) as {
      tenants: { tenant: string; status: string; inventory?: { cached: boolean }; products?: { name: string }[] }[];
      total: { products: { name: string; tenants: string[]; devices: number }[] };
    };
    assert.deepEqual(
      doc.tenants.map((t) => [t.tenant, t.status, t.inventory?.cached, t.products?.length]),
      [
        ["tenant01", "ok", true, 2],
        ["tenant02", "failed", undefined, undefined],
        ["tenant03", "ok", true, 1],
      ],
    );
    const winscp = doc.total.products.find((p) => p.name.startsWith("WinSCP"));
    assert.deepEqual([winscp?.tenants, winscp?.devices], [["tenant01", "tenant03"], 2]);
  });
});
