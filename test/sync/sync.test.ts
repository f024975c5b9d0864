/**
 * sync end to end: the local tenant (emulator + Azurite) and the vendor host, real downloads, real packaging,
 * the real publish engine. Requests are counted at the vendor host (installer downloads) and at our Graph
 * transport (writes).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import { Downloader } from "../../src/catalog/download/downloader.js";
import type { DownloadEvent } from "../../src/catalog/download/downloader.js";
import { createStreamTransport } from "../../src/clients/http/stream-transport.js";
import { readStamp } from "../../src/core/app-definition/stamp.js";
import { useScratch } from "../support/scratch.js";
import { product, startSyncBed } from "./support.js";
import type { SyncBed } from "./support.js";
import { DUAL_ARCH_PRODUCT } from "../support/fixtures.js";

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
    const perApp = bed.tenant.calls
      .slice(writes)
      .filter((c) => c.method === "GET" && /mobileApps\/[0-9a-fA-F-]{36}/.test(new URL(c.url).pathname));
    assert.deepEqual(
      perApp.map((c) => new URL(c.url).pathname),
      [],
      "no app read one by one: the listing brings assignments and categories",
    );
  });

  it("a product whose first create failed (the answer lost after Intune created the app) is finished by the next sync; then nothing is written", async () => {
    await bed.host.admin.reset();
    const yaml = "products:\n  - id: Contoso.Tool\n  - id: Fabrikam.Keyed\n";
    await bed.run(yaml);
    await bed.host.admin.publish(product("Lost.Answer", "1.0"));
    const withLost = `${yaml}  - id: Lost.Answer\n`;
    bed.tenant.lt.admin.addFault({ method: "POST", path: "mobileApps$", dropResponse: true, count: 1 });
    const first = await bed.run(withLost);
    const lost = first.products.find((p) => p.id === "Lost.Answer")!;
    assert.equal(lost.status, "failed", JSON.stringify(lost));
    bed.tenant.lt.admin.clearFaults();
    const second = await bed.run(withLost);
    const finished = second.products.find((p) => p.id === "Lost.Answer")!;
    assert.equal(finished.status, "ok", JSON.stringify(finished));
    assert.deepEqual(appsOf(finished.definitionId!).length, 1, "the app Intune made is finished, not duplicated");
    const from = bed.tenant.calls.length;
    const third = await bed.run(withLost);
    assert.ok(
      third.products.every((p) => p.action === "nothing"),
      JSON.stringify(third.products),
    );
    assert.deepEqual(bed.tenant.graphWrites(from), [], "no Graph write");
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

  it("a vendor that replaced the file at the same URL: hash mismatch, that product fails; the tenant keeps version 1 assigned", async () => {
    await bed.host.admin.reset();
    const yaml = "products:\n  - id: Contoso.Tool\n    assignments: [{ intent: required, target: allDevices }]\n";
    const first = await bed.run(yaml);
    assert.equal(first.products[0]!.status, "ok", JSON.stringify(first.products[0]));
    const defId = first.products[0]!.definitionId!;
    const [v1] = appsOf(defId);
    const assignedBefore = bed.tenant.lt.admin.state();
    await bed.host.admin.publish(product("Contoso.Tool", "1.1.0"));
    // Same URL as the manifest says, other bytes (a new ETag): the manifest's InstallerSha256 no longer matches.
    bed.host.admin.addFault({ kind: "changed", product: "Contoso.Tool", version: "1.1.0", count: 10 });
    const from = bed.tenant.calls.length;
    const second = await bed.run(yaml);
    const p = second.products[0]!;
    assert.equal(p.status, "failed", JSON.stringify(p));
    assert.equal(p.error?.kind, "integrity");
    assert.equal(p.error?.step, "download");
    assert.match(p.reason, /download failed: .*(hash|SHA-256)/i);
    assert.deepEqual(bed.tenant.graphWrites(from), [], "nothing written to Graph");
    const after = appsOf(defId);
    assert.deepEqual(
      after.map((a) => [a.id, a.displayVersion]),
      [[v1!.id, "1.0.0"]],
      "version 1 is still the app",
    );
    assert.deepEqual(bed.tenant.lt.admin.state(), assignedBefore, "the tenant, assignments included, is unchanged");
  });

  it("--dry-run downloads no installer: the plan comes from the catalog's hash and the announced size", async () => {
    await bed.host.admin.reset();
    await bed.host.admin.publish(product("Northwind.Dry", "1.0"));
    const yaml = "products:\n  - id: Northwind.Dry\n";
    const gets = () => bed.host.admin.requests().filter((r) => r.url.startsWith("/dl/") && r.method === "GET");
    const size = bed.host.admin.installer("Northwind.Dry", "1.0").size;
    bed.host.admin.clearRequests();
    let from = bed.tenant.calls.length;
    const dry = await bed.run(yaml, { dryRun: true });
    assert.equal(dry.products[0]!.action, "create", JSON.stringify(dry.products[0]));
    assert.equal(dry.products[0]!.status, "planned");
    assert.match(dry.products[0]!.reason, /Will download the installer \(0\.0 MB\)/);
    assert.deepEqual(dry.willDownload, { count: 1, bytes: size, unknownSize: 0 });
    assert.deepEqual(gets(), [], "no installer downloaded");
    assert.deepEqual(bed.tenant.graphWrites(from), [], "nothing written");

    const real = await bed.run(yaml);
    assert.equal(real.products[0]!.status, "ok", JSON.stringify(real.products[0]));
    assert.equal(gets().length, 1);

    // A machine whose cache is empty (a fresh CI runner): still no download, and the tenant's app is seen as current.
    const stream = createStreamTransport({ trustedCaPem: bed.host.caCertPem });
    try {
      const downloader = new Downloader({ cacheDir: join(await scratch(), "empty-cache"), transport: stream });
      bed.host.admin.clearRequests();
      from = bed.tenant.calls.length;
      const fresh = await bed.run(yaml, { dryRun: true, downloader });
      assert.equal(fresh.products[0]!.action, "nothing", fresh.products[0]!.reason);
      assert.deepEqual(fresh.willDownload, { count: 0, bytes: 0, unknownSize: 0 });
      await bed.host.admin.publish(product("Northwind.Dry", "1.1"));
      const next = await bed.run(yaml, { dryRun: true, downloader });
      assert.equal(next.products[0]!.action, "new-version", next.products[0]!.reason);
      assert.equal(next.willDownload?.count, 1);
      assert.deepEqual(gets(), [], "no installer downloaded");
      assert.deepEqual(bed.tenant.graphWrites(from), [], "nothing written");
    } finally {
      await stream.close();
    }
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

  it("a product subscribed for two architectures: each download is labelled with the app it is for", async () => {
    await bed.host.admin.publish(DUAL_ARCH_PRODUCT);
    const events: DownloadEvent[] = [];
    const downloader = new Downloader({
      cacheDir: join(await scratch(), "dual-cache"),
      transport: createStreamTransport({ trustedCaPem: bed.host.caCertPem }),
      onProgress: (e) => events.push(e),
    });
    const r = await bed.run("products:\n  - id: Contoso.Dual\n  - id: Contoso.Dual\n    architecture: arm64\n", {
      downloader,
    });
    assert.deepEqual(
      r.products.map((p) => [p.status, p.definitionId]),
      [
        ["ok", "contoso.dual"],
        ["ok", "contoso.dual-arm64"],
      ],
      JSON.stringify(r.products),
    );
    const done = events.filter((e) => e.type === "done");
    assert.deepEqual(done.map((e) => e.label).sort(), ["contoso.dual", "contoso.dual-arm64"]);
    assert.equal(new Set(done.map((e) => e.url)).size, 2, "each app's own installer");
    assert.ok(
      events.every((e) => e.product === "Contoso.Dual" && e.label !== undefined),
      "every event names the product and its app",
    );
  });
});
