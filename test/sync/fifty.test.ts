/**
 * 50 subscribed products, 5 of which get a new version: the second sync downloads those 5 installers only and
 * touches only their apps in the tenant.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { useScratch } from "../support/scratch.js";
import { product, startSyncBed } from "./support.js";
import type { SyncBed } from "./support.js";

const IDS = Array.from({ length: 50 }, (_, i) => `Fleet.Product${String(i).padStart(2, "0")}`);
const NEW = new Set([IDS[3]!, IDS[11]!, IDS[20]!, IDS[37]!, IDS[49]!]);

describe("sync of 50 products where 5 have new versions", () => {
  const scratch = useScratch("ip-sync50-");
  let bed: SyncBed;
  before(async () => {
    bed = await startSyncBed(await scratch(), { products: IDS.map((id) => product(id, "1.0")) });
  });
  after(async () => bed.close());

  it("only those 5 are downloaded and touched", async () => {
    const yaml = `products:\n${IDS.map((id) => `  - id: ${id}\n`).join("")}`;
    const first = await bed.run(yaml);
    assert.equal(first.products.filter((p) => p.action === "create" && p.status === "ok").length, 50);
    for (const id of NEW) await bed.host.admin.publish(product(id, "1.1"));
    bed.host.admin.clearRequests();
    const from = bed.tenant.calls.length;
    const second = await bed.run(yaml);
    const changed = second.products.filter((p) => p.action !== "nothing");
    assert.deepEqual(
      changed.map((p) => [p.id, p.action, p.status]),
      [...NEW].map((id) => [id, "new-version", "ok"]),
    );
    const downloads = bed.host.admin.requests().filter((r) => r.url.startsWith("/dl/"));
    assert.equal(downloads.length, 5, "the 5 new installers only");
    const newAppIds = new Set(changed.map((p) => p.appId));
    // Every Graph write names one app; count them per app.
    const perApp = new Map<string, number>();
    for (const c of bed.tenant.graphWrites(from)) {
      const app = /mobileApps\/([0-9a-f-]{36})/.exec(c.url)?.[1];
      assert.ok(app !== undefined, `a write outside the apps: ${c.method} ${c.url}`);
      perApp.set(app, (perApp.get(app) ?? 0) + 1);
    }
    assert.deepEqual([...perApp.keys()].sort(), [...newAppIds].sort(), "Graph writes only to the 5 apps");
    const counts = [...perApp.values()];
    assert.ok(
      counts.every((n) => n === counts[0] && n > 0),
      `each of the 5 gets the same in-place update: ${JSON.stringify([...perApp])}`,
    );
    const first45 = second.products.filter((p) => !NEW.has(p.id));
    assert.ok(
      first45.every((p) => p.action === "nothing" && p.fromCache === true),
      "the other 45: nothing, from the cache",
    );
  });
});
