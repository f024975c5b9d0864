import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PageIterator } from "@microsoft/microsoft-graph-client";
import type { PageCollection } from "@microsoft/microsoft-graph-client";
import { testSeed } from "../testing/seed.js";
import { startLocalTenant } from "../server.js";
import { tenantGraphClient } from "../testing/graph-client.js";
import { GeneratedInventory } from "./inventory.js";

describe("generated inventory", () => {
  it("is deterministic, and ids map back to their rows", () => {
    const a = new GeneratedInventory({ devices: 1000, appsPerDevice: 5, seed: 3 });
    const b = new GeneratedInventory({ devices: 1000, appsPerDevice: 5, seed: 3 });
    const c = new GeneratedInventory({ devices: 1000, appsPerDevice: 5, seed: 4 });
    assert.deepEqual(a.detectedApp(4321), b.detectedApp(4321));
    assert.notDeepEqual(a.detectedApp(4321), c.detectedApp(4321));
    assert.equal(a.detectedAppCount, 5000);
    const id = a.detectedAppId(4321);
    assert.match(id, /^[0-9a-f]{44}$/);
    assert.equal(a.detectedAppIndex(id), 4321);
    assert.equal(a.detectedAppIndex(id.replace(/.$/, "1")), undefined, "a forged id is not found");
    assert.equal(a.deviceIndex(a.deviceId(999)), 999);
    assert.match(a.deviceId(999), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}$/);
    const devs = a.devicesOfApp(4321);
    assert.equal(devs.count(), a.detectedApp(4321)["deviceCount"]);
    const ids = new Set(Array.from({ length: devs.count() }, (_, i) => devs.at(i).id));
    assert.equal(ids.size, devs.count(), "devices of one app are distinct");
  });

  // Memory while paging (flat, whatever the row count) is measured by bench/emulator.ts, not asserted here: a
  // process's RSS depends on the load of the machine and on when the collector runs.
  it("pages 2,000,000 detected-app rows through the Graph client's PageIterator, each row once, in order", async () => {
    const lt = await startLocalTenant({
      storage: false,
      throttling: false,
      seed: testSeed({
        tenantId: "66666666-2222-4333-8444-555555555555",
        roles: ["DeviceManagementManagedDevices.Read.All"],
        detectedApps: { devices: 100_000, appsPerDevice: 20, seed: 1 },
      }),
    });
    try {
      const c = tenantGraphClient(lt);
      const first = (await c
        .api("/deviceManagement/detectedApps")
        .select("id,displayName,version")
        .top(1000)
        .count(true)
        .get()) as PageCollection & { "@odata.count": number };
      assert.equal(first["@odata.count"], 2_000_000);
      const inv = new GeneratedInventory({ devices: 100_000, appsPerDevice: 20, seed: 1 });
      let rows = 0;
      let lastId = "";
      let outOfPlace = 0;
      await new PageIterator(c, first, (row: { id: string }) => {
        // Every 997th row is the generator's row of that index (all of them would double the test's time).
        if (rows % 997 === 0 && inv.detectedAppIndex(row.id) !== rows) outOfPlace++;
        rows++;
        lastId = row.id;
        return true;
      }).iterate();
      assert.equal(outOfPlace, 0);
      assert.equal(rows, 2_000_000);
      assert.equal(lastId, inv.detectedAppId(1_999_999));
    } finally {
      await lt.close();
    }
  });
});
