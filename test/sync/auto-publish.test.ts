// Auto-publish through the real CLI entry against a running local tenant whose inventory (detectedApps) the test
// changes between runs: a product crossing the threshold is published in the section's mode (both: an application
// and an update-only app), an excluded one is not, one whose count falls stays, and --dry-run writes nothing.
import assert from "node:assert/strict";
import { access, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { loadOrCreatePki } from "../../emulator/pki.js";
import { defaultSeed } from "../../emulator/seed.js";
import { startLocalTenant } from "../../emulator/server.js";
import type { LocalTenant } from "../../emulator/server.js";
import { MemoryStore } from "../../emulator/store.js";
import type { Entity } from "../../emulator/store.js";
import { startVendorHost } from "../../emulator/vendor/host.js";
import type { VendorHost } from "../../emulator/vendor/host.js";
import { readStamp } from "../../src/core/app-definition/stamp.js";
import { emulatorHomeEnv, runCli } from "../support/cli.js";
import { useScratch } from "../support/scratch.js";
import { recordLocalTenant } from "../support/tenant.js";
import { product } from "./support.js";

const scratch = useScratch("ip-auto-publish-");
const DEVICES = ["a", "b", "c", "d"].map((x) => `d0000000-0000-4000-8000-00000000000${x}`);

interface App {
  displayName: string;
  notes?: string;
  requirementRules?: { "@odata.type": string }[];
}
interface Result {
  products: {
    id: string;
    definitionId?: string;
    action: string;
    status: string;
    reason: string;
    auto?: { mode: string; devices: number; countFell: boolean };
  }[];
}

describe("sync: auto-publish from the inventory", () => {
  let home: string;
  let env: NodeJS.ProcessEnv;
  let lt: LocalTenant;
  let host: VendorHost;
  let subs: string;
  const store = new MemoryStore();
  const cli = (...args: string[]) => runCli(["sync", "--subscriptions", subs, "--no-log-file", ...args], env);
  const detected = (id: string, displayName: string, publisher: string, deviceIds: string[]) => ({
    id,
    displayName,
    version: "0.9",
    publisher,
    platform: "windows",
    sizeInByte: 0,
    deviceIds,
  });
  /** The tenant's inventory now shows `name` on these devices (detectedApps are read-only in Graph). */
  const setDevices = (id: string, deviceIds: string[]): void => {
    const c = store.collection<Entity & Record<string, unknown>>(lt.tenantId, "detectedApps");
    const a = c.get(id);
    assert.ok(a, id);
    c.put({ ...a, deviceIds, deviceCount: deviceIds.length });
  };
  const apps = (): App[] => Object.values(lt.admin.state()).flatMap((t) => (t["mobileApps"] ?? []) as unknown as App[]);
  const appOf = (defId: string): App | undefined =>
    apps().find((a) => {
      const s = readStamp(a.notes ?? "");
      return s.status === "valid" && s.stamp.id === defId;
    });
  const recordFile = () => join(home, "state", "intune-publisher", "sync", "auto-published", `${lt.tenantId}.json`);
  const isScript = (r: { "@odata.type": string }) =>
    r["@odata.type"] === "#microsoft.graph.win32LobAppPowerShellScriptRequirement";

  before(async () => {
    home = await scratch();
    const stateDir = join(home, "emulator");
    env = await emulatorHomeEnv(home, stateDir);
    lt = await startLocalTenant({
      stateDir,
      store,
      uploadDelays: { sasIssueMs: 20, renewalMs: 20, commitMs: 20 },
      seed: {
        ...defaultSeed(),
        managedDevices: DEVICES.map((id, i) => ({ id, deviceName: `PC-${i}`, operatingSystem: "Windows" })),
        detectedApps: [
          detected("tool", "Tool", "Contoso", DEVICES.slice(0, 3)),
          detected("editor", "Editor", "Fabrikam", DEVICES.slice(0, 3)),
          detected("viewer", "Viewer", "Northwind", DEVICES.slice(0, 1)),
        ],
      },
    });
    host = await startVendorHost({
      seed: {
        products: [
          product("Contoso.Tool", "1.0.0"),
          product("Fabrikam.Editor", "2.0"),
          product("Northwind.Viewer", "3.0"),
        ],
      },
      ca: await loadOrCreatePki(stateDir),
    });
    await recordLocalTenant(stateDir, lt);
    subs = join(home, "subscriptions.yaml");
    await writeFile(
      subs,
      [
        `source: ${host.origin}`,
        "products: []",
        "autoPublish:",
        "  minDevices: 2",
        "  mode: both",
        "  exclude: [Fabrikam.*]",
        "",
      ].join("\n"),
    );
  });
  after(async () => {
    await host.close();
    await lt.close();
  });

  it("--dry-run lists what would be auto-published, with the device count, and writes nothing", async () => {
    const r = await cli("--dry-run");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Contoso\.Tool\s+1\.0\.0\s+create\s+planned\s.*auto \(application\): seen on 3 devices ≥ 2/);
    assert.match(r.stdout, /Contoso\.Tool\s+1\.0\.0\s+create\s+planned\s.*auto \(updateOnly\): seen on 3 devices ≥ 2/);
    assert.doesNotMatch(r.stdout, /Fabrikam|Northwind/, "excluded, and below the threshold");
    assert.match(r.stderr, /auto-publish: 2 app\(s\) on ≥ 2 devices/);
    assert.equal(apps().length, 0, "nothing written to the tenant");
    await assert.rejects(access(recordFile()), "no record written");
  });

  it("publishes a product over the threshold in mode both (an application and an update-only app), not the excluded one", async () => {
    const r = await cli("--output", "json");
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as Result;
    assert.deepEqual(
      doc.products.map((p) => [p.id, p.definitionId, p.action, p.status, p.auto?.mode, p.auto?.devices]),
      [
        ["Contoso.Tool", "contoso.tool", "create", "ok", "application", 3],
        ["Contoso.Tool", "contoso.tool-updates", "create", "ok", "updateOnly", 3],
      ],
    );
    const application = appOf("contoso.tool");
    const updateOnly = appOf("contoso.tool-updates");
    assert.ok(application && updateOnly, JSON.stringify(apps().map((a) => a.displayName)));
    assert.ok(!(application.requirementRules ?? []).some(isScript), "the application applies to any device");
    assert.ok((updateOnly.requirementRules ?? []).some(isScript), "the update-only app needs an older version");
    assert.equal(updateOnly.displayName, `${application.displayName} (update only)`);
    assert.ok(!apps().some((a) => /Editor|Viewer/.test(a.displayName)), "excluded and below threshold: not published");
    const record = JSON.parse(await readFile(recordFile(), "utf8")) as {
      products: { id: string; mode: string; devices: number; reason: string }[];
    };
    assert.deepEqual(
      record.products.map((p) => [p.id, p.mode, p.devices, p.reason]),
      [
        ["Contoso.Tool", "application", 3, "auto: seen on 3 devices ≥ 2"],
        ["Contoso.Tool", "updateOnly", 3, "auto: seen on 3 devices ≥ 2"],
      ],
    );
  });

  it("when the count falls the product stays (the plan says so); a product that now crosses the threshold is added", async () => {
    setDevices("tool", DEVICES.slice(0, 1));
    setDevices("viewer", DEVICES.slice(0, 2));
    const before = apps().length;
    const r = await cli("--inventory-max-age", "0", "--output", "json");
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as Result;
    const tool = doc.products.filter((p) => p.id === "Contoso.Tool");
    assert.deepEqual(
      tool.map((p) => [p.action, p.status, p.auto?.devices, p.auto?.countFell]),
      [
        ["nothing", "ok", 1, true],
        ["nothing", "ok", 1, true],
      ],
    );
    assert.match(tool[0]!.reason, /seen on 1 devices < 2, down from 3 \(count fell: stays published/);
    const viewer = doc.products.filter((p) => p.id === "Northwind.Viewer");
    assert.deepEqual(
      viewer.map((p) => [p.action, p.status, p.auto?.mode]),
      [
        ["create", "ok", "application"],
        ["create", "ok", "updateOnly"],
      ],
    );
    assert.equal(apps().length, before + 2, "nothing removed, the viewer's two apps added");
    assert.ok(appOf("contoso.tool") && appOf("contoso.tool-updates"));
  });

  it("an inventory that cannot be read stops the run before anything is published; the record is left as it was", async () => {
    setDevices("editor", DEVICES);
    await writeFile(subs, (await readFile(subs, "utf8")).replace("  exclude: [Fabrikam.*]\n", ""));
    const record = await readFile(recordFile(), "utf8");
    const before = apps().length;
    lt.admin.addFault({ method: "GET", path: "/deviceManagement/detectedApps", status: 403, count: 10 });
    try {
      const r = await cli("--inventory-max-age", "0");
      assert.equal(r.code, 4, r.stderr);
      assert.match(r.stderr, /detectedApps|permission|denied/i);
      assert.equal(r.stdout, "", "no plan shown");
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    } finally {
      lt.admin.clearFaults();
    }
    assert.equal(apps().length, before, "nothing published");
    assert.equal(await readFile(recordFile(), "utf8"), record);
  });
});
