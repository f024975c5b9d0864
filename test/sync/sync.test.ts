/**
 * sync end to end: the local tenant (emulator + Azurite) and the vendor host, real downloads, real packaging,
 * the real publish engine. Requests are counted at the vendor host (installer downloads) and at our Graph
 * transport (writes).
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { readStamp } from "../../src/core/app-definition/stamp.js";
import { useScratch } from "../support/scratch.js";
import { product, startSyncBed } from "./support.js";
import type { SyncBed } from "./support.js";

type App = Record<string, unknown> & { id: string; notes?: string; displayVersion?: string };

describe("sync against the local tenant and the vendor host", () => {
  const scratch = useScratch("ip-sync-");
  let bed: SyncBed;

  before(async () => {
    bed = await startSyncBed(await scratch(), {
      products: [
        product("Contoso.Tool", "1.0.0"),
        product("Contoso.Other", "3.1"),
        product("Fabrikam.Keyed", "5.0", { ProductCode: "Fabrikam Keyed" }),
      ],
    });
  });
  after(async () => bed.close());
  beforeEach(() => bed.host.admin.clearFaults());

  /** Our apps of one definition id in the emulator's store, by version. */
  const appsOf = (defId: string): App[] =>
    (bed.tenant.apps() as App[]).filter((a) => {
      const s = readStamp(a.notes ?? "");
      return s.status === "valid" && s.stamp.id === defId;
    });

  it("creates version 1, publishes version 2 in place when the vendor has it, then does nothing (no download, no Graph write)", async () => {
    const yaml = "products:\n  - id: Contoso.Tool\n    assignments: [{ intent: available, target: allUsers }]\n";
    const first = await bed.run(yaml);
    assert.equal(first.products[0]!.action, "create", JSON.stringify(first.products[0]));
    assert.equal(first.products[0]!.status, "ok");
    const defId = first.products[0]!.definitionId!;
    const [v1] = appsOf(defId);
    assert.equal(v1?.displayVersion, "1.0.0");

    await bed.host.admin.publish(product("Contoso.Tool", "2.0.0"));
    const second = await bed.run(yaml);
    assert.equal(second.products[0]!.action, "new-version");
    assert.equal(second.products[0]!.version, "2.0.0");
    const apps = appsOf(defId);
    assert.equal(apps.length, 1, "in place: one app");
    assert.equal(apps[0]!.id, v1.id);
    assert.equal(apps[0]!.displayVersion, "2.0.0");

    bed.host.admin.clearRequests();
    const writes = bed.tenant.calls.length;
    const third = await bed.run(yaml);
    assert.equal(third.products[0]!.action, "nothing", third.products[0]!.reason);
    assert.equal(third.changed, false);
    assert.equal(bed.installerRequests(), 0, "nothing downloaded");
    assert.deepEqual(
      bed.host.admin.requests().map((r) => [r.url, r.status]),
      [["/index.v2.json", 304]],
      "the index once, asked with its ETag (304: the kept copy is used); resolved manifests are not read again",
    );
    assert.deepEqual(bed.tenant.graphWrites(writes), [], "nothing written to Graph");
  });

  it("supersede keeps N versions and moves the assignments to the new app", async () => {
    await bed.host.admin.reset();
    const yaml = [
      "products:",
      "  - id: Contoso.Other",
      "    strategy: supersede",
      "    keep: 1",
      "    assignments: [{ intent: required, target: allDevices }]",
      "",
    ].join("\n");
    const first = await bed.run(yaml);
    assert.equal(first.products[0]!.status, "ok", JSON.stringify(first.products[0]));
    const defId = first.products[0]!.definitionId!;
    await bed.host.admin.publish(product("Contoso.Other", "3.2"));
    const second = await bed.run(yaml);
    assert.equal(second.products[0]!.action, "new-version", JSON.stringify(second.products[0]));
    const apps = appsOf(defId);
    assert.deepEqual(apps.map((a) => a.displayVersion).sort(), ["3.1", "3.2"]);
    await bed.host.admin.publish(product("Contoso.Other", "3.3"));
    await bed.run(yaml);
    assert.deepEqual(
      appsOf(defId)
        .map((a) => a.displayVersion)
        .sort(),
      ["3.2", "3.3"],
      "keep: 1 deletes the oldest",
    );
  });

  it("a new installer whose hash does not match fails that product with the reason; the tenant keeps version 1, the others go on", async () => {
    await bed.host.admin.reset();
    const yaml = "products:\n  - id: Contoso.Tool\n  - id: Fabrikam.Keyed\n";
    const first = await bed.run(yaml);
    assert.ok(
      first.products.every((p) => p.status === "ok"),
      JSON.stringify(first.products),
    );
    const defId = first.products[0]!.definitionId!;
    const before = appsOf(defId);
    await bed.host.admin.publish(product("Contoso.Tool", "1.1.0"));
    await bed.host.admin.publish(product("Fabrikam.Keyed", "5.1", { ProductCode: "Fabrikam Keyed" }));
    bed.host.admin.addFault({ kind: "wrongBytes", product: "Contoso.Tool", version: "1.1.0" });
    const second = await bed.run(yaml);
    const tool = second.products.find((p) => p.id === "Contoso.Tool")!;
    assert.equal(tool.status, "failed");
    assert.equal(tool.error?.kind, "integrity");
    assert.match(tool.reason, /download failed/);
    assert.equal(second.failed, true);
    const keyed = second.products.find((p) => p.id === "Fabrikam.Keyed")!;
    assert.equal(keyed.action, "new-version", "the other product is published");
    assert.deepEqual(appsOf(defId), before, "the tenant still holds version 1 as before");
  });

  it("a pin holds the product at its version; overrides reach the app", async () => {
    await bed.host.admin.reset();
    await bed.host.admin.publish(product("Contoso.Tool", "2.0.0"));
    const yaml = [
      "products:",
      "  - id: Contoso.Tool",
      "    architecture: x64",
      '    pin: "1.0.0"',
      "    displayName: Contoso Tool (pinned)",
      "    overrides:",
      '      install: { command: "Contoso.Tool-1.0.0-x64.exe /S /NOICONS" }',
      "",
    ].join("\n");
    const r = await bed.run(yaml, { dryRun: false });
    const p = r.products[0]!;
    assert.equal(p.version, "1.0.0");
    assert.equal(p.newest, "2.0.0");
    assert.match(p.reason, /Pinned at 1\.0\.0 \(newest 2\.0\.0\)/);
    const app = appsOf(p.definitionId!)[0]!;
    assert.equal(app.displayVersion, "1.0.0");
    assert.equal(app["installCommandLine"], "Contoso.Tool-1.0.0-x64.exe /S /NOICONS");
    assert.equal(app["displayName"], "Contoso Tool (pinned)");
  });

  it("updateOnly: registry requirements on the Uninstall key when known, else a generated requirement script", async () => {
    await bed.host.admin.reset();
    await bed.host.admin.publish({
      ...product("Fabrikam.Keyed", "5.2"),
      versions: [
        {
          version: "5.2",
          installers: [
            {
              architecture: "x86",
              type: "nullsoft",
              content: { text: "keyed x86\n" },
              fields: { ProductCode: "Fabrikam Keyed" },
            },
          ],
        },
      ],
    });
    const yaml = [
      "products:",
      "  - id: Fabrikam.Keyed",
      "    architecture: x86",
      "    mode: updateOnly",
      "  - id: Contoso.Other",
      "    mode: updateOnly",
      "",
    ].join("\n");
    const r = await bed.run(yaml);
    assert.ok(
      r.products.every((p) => p.status === "ok"),
      JSON.stringify(r.products),
    );
    const keyed = appsOf(r.products[0]!.definitionId!)[0]!;
    const rules = keyed["requirementRules"] as Record<string, unknown>[];
    const reg = rules.filter((x) => x["@odata.type"] === "#microsoft.graph.win32LobAppRegistryRequirement");
    assert.equal(reg.length, 2, JSON.stringify(rules));
    assert.ok(reg.every((x) => String(x["keyPath"]).endsWith("\\Uninstall\\Fabrikam Keyed")));
    const version = reg.find((x) => x["valueName"] === "DisplayVersion")!;
    assert.equal(version["operator"], "lessThan");
    assert.equal(version["detectionValue"], "5.2");
    const other = appsOf(r.products[1]!.definitionId!).find((a) => a.displayVersion === "3.1")!;
    assert.ok(other, JSON.stringify(r.products[1]));
    const script = (other["requirementRules"] as Record<string, unknown>[]).find(
      (x) => x["@odata.type"] === "#microsoft.graph.win32LobAppPowerShellScriptRequirement",
    );
    assert.ok(script, "a requirement script");
    const body = Buffer.from(String(script["scriptContent"]), "base64").toString("utf8");
    assert.match(body, /DisplayVersion below '3\.1'/);
  });
});
