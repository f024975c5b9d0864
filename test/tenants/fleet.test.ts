/**
 * One run across 50 tenants of the local tenant (the fleet seed): each product published once per tenant, with the
 * tenant's own group; each product version downloaded once and packaged once for all 50.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { useScratch } from "../support/scratch.js";
import { product } from "../sync/support.js";
import { fleetTenantsYaml, startTenantsBed } from "./support.js";
import type { TenantsBed } from "./support.js";

const TENANTS = 50;
const PRODUCTS = ["Fleet.Editor", "Fleet.Archiver"];

describe(`sync across ${TENANTS} tenants`, () => {
  const scratch = useScratch("ip-tenants50-");
  let bed: TenantsBed;
  before(async () => {
    bed = await startTenantsBed(await scratch(), TENANTS, { products: PRODUCTS.map((id) => product(id, "1.0")) });
  });
  after(async () => bed.close());

  it("publishes each product once per tenant, assigned to the tenant's own group, packaged once per version", async () => {
    const subs = `products:\n${PRODUCTS.map((id) => `  - id: ${id}\n    assignments: [{ intent: required, group: Workstations }]\n`).join("")}`;
    const r = await bed.run(fleetTenantsYaml(bed.fleet), subs);
    assert.equal(r.failed, false, JSON.stringify(r.tenants.filter((t) => t.status === "failed")).slice(0, 2000));
    assert.equal(r.totals.tenants, TENANTS);
    assert.equal(r.totals.created, TENANTS * PRODUCTS.length);
    assert.equal(r.packagings, PRODUCTS.length, "one package per product version, whatever the number of tenants");
    assert.equal(r.packagesReused, (TENANTS - 1) * PRODUCTS.length);
    const downloads = bed.host.admin.requests().filter((x) => x.url.startsWith("/dl/"));
    assert.equal(downloads.length, PRODUCTS.length, "each installer downloaded once");

    const state = bed.lt.admin.state();
    for (const t of bed.fleet) {
      const s = state[t.id] ?? {};
      const apps = (s["mobileApps"] ?? []) as { id: string; displayName: string }[];
      assert.equal(apps.length, PRODUCTS.length, `${t.name}: one app per product`);
      const group = ((s["groups"] ?? []) as { id: string; displayName: string }[]).find(
        (g) => g.displayName === t.groups.workstations,
      );
      assert.ok(group, `${t.name} has its own group`);
      const assignments = (s["mobileAppAssignments"] ?? []) as unknown as {
        appId: string;
        assignment: { target: { groupId?: string } };
      }[];
      for (const app of apps)
        assert.deepEqual(
          assignments.filter((a) => a.appId === app.id.toLowerCase()).map((a) => a.assignment.target.groupId),
          [group.id],
          `${t.name}: ${app.displayName} assigned to ${t.groups.workstations} only`,
        );
    }
  });

  it("a second run changes nothing, packages nothing and downloads nothing", async () => {
    bed.host.admin.clearRequests();
    const subs = `products:\n${PRODUCTS.map((id) => `  - id: ${id}\n    assignments: [{ intent: required, group: Workstations }]\n`).join("")}`;
    const r = await bed.run(fleetTenantsYaml(bed.fleet), subs);
    assert.equal(r.failed, false);
    assert.equal(r.totals.upToDate, TENANTS * PRODUCTS.length);
    assert.equal(r.packagings, 0);
    assert.equal(bed.host.admin.requests().filter((x) => x.url.startsWith("/dl/")).length, 0);
  });
});
