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
    assert.deepEqual(a.detectedApp(40), b.detectedApp(40));
    assert.notDeepEqual(a.detectedApp(40), c.detectedApp(40));
    assert.equal(a.rawRowCount, 5000);
    const id = a.detectedAppId(40);
    assert.match(id, /^[0-9a-f]{44}$/);
    assert.equal(a.detectedAppIndex(id), 40);
    assert.equal(a.detectedAppIndex(id.replace(/.$/, "1")), undefined, "a forged id is not found");
    assert.equal(a.deviceIndex(a.deviceId(999)), 999);
    assert.match(a.deviceId(999), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}$/);
    const devs = a.devicesOfApp(40);
    assert.equal(devs.count(), a.detectedApp(40)["deviceCount"]);
    const ids = new Set(Array.from({ length: devs.count() }, (_, i) => devs.at(i).id));
    assert.equal(ids.size, devs.count(), "devices of one app are distinct");
  });

  it("agrees with itself: the aggregate's device counts and device lists are the per-device rows, counted", () => {
    const inv = new GeneratedInventory({ devices: 997, appsPerDevice: 7, seed: 5 });
    const counts = new Map<number, number>();
    const devicesOf = new Map<number, Set<number>>();
    let rows = 0;
    for (const r of inv.rawRows()) {
      rows++;
      counts.set(r.app, (counts.get(r.app) ?? 0) + 1);
      const s = devicesOf.get(r.app) ?? new Set<number>();
      s.add(r.device);
      devicesOf.set(r.app, s);
    }
    assert.equal(rows, 997 * 7);
    assert.equal(counts.size, inv.detectedAppCount, "every aggregate row has devices, and only those");
    for (let i = 0; i < inv.detectedAppCount; i++) {
      assert.equal(inv.detectedApp(i).deviceCount, counts.get(i), `app ${i}`);
      const listed = inv.devicesOfApp(i);
      const ids = new Set(Array.from({ length: listed.count() }, (_, s) => listed.at(s).id));
      assert.deepEqual(ids, new Set([...(devicesOf.get(i) ?? [])].map((d) => inv.deviceId(d))), `devices of app ${i}`);
    }
    const products = Array.from({ length: 7 }, (_, k) => inv.productOfApp(inv.appOf(3, k)));
    assert.equal(new Set(products).size, 7, "a device has one product per slot, all distinct");
  });

  // Memory while paging (flat, whatever the row count) is measured by bench/emulator.ts, not asserted here: a
  // process's RSS depends on the load of the machine and on when the collector runs.
  it("pages the detected apps of 100,000 devices × 20 apps (2,000,000 installs) through the Graph client's PageIterator, each row once, in order", async () => {
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
        .select("id,displayName,version,deviceCount")
        .top(1000)
        .count(true)
        .get()) as PageCollection & { "@odata.count": number };
      const inv = new GeneratedInventory({ devices: 100_000, appsPerDevice: 20, seed: 1 });
      assert.equal(first["@odata.count"], inv.detectedAppCount);
      assert.ok(inv.detectedAppCount > 20_000, `${inv.detectedAppCount} rows: several pages`);
      let installs = 0;
      let rows = 0;
      let lastId = "";
      let outOfPlace = 0;
      await new PageIterator(c, first, (row: { id: string; deviceCount: number }) => {
        installs += row.deviceCount;
        // Every 997th row is the generator's row of that index (all of them would double the test's time).
        if (rows % 997 === 0 && inv.detectedAppIndex(row.id) !== rows) outOfPlace++;
        rows++;
        lastId = row.id;
        return true;
      }).iterate();
      assert.equal(outOfPlace, 0);
      assert.equal(rows, inv.detectedAppCount);
      assert.equal(installs, 2_000_000, "the device counts add up to the per-device rows");
      assert.equal(lastId, inv.detectedAppId(inv.detectedAppCount - 1));
    } finally {
      await lt.close();
    }
  });
});
