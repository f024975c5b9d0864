/**
 * One tenant's trouble stays its own: a tenant whose consent was revoked fails alone with Entra ID's explanation
 * (AADSTS700016) while the others finish; a throttled tenant gets Intune's 429s alone, waits them out and finishes.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { useScratch } from "../support/scratch.js";
import { product } from "../sync/support.js";
import { fleetTenantsYaml, startTenantsBed } from "./support.js";
import type { TenantsBed } from "./support.js";

const SUBS = "products:\n  - id: Iso.Tool\n    assignments: [{ intent: available, group: Workstations }]\n";

describe("tenants fail or slow alone", () => {
  const scratch = useScratch("ip-tenants-iso-");
  let bed: TenantsBed;
  before(async () => {
    bed = await startTenantsBed(await scratch(), 6, { products: [product("Iso.Tool", "1.0")] });
  });
  after(async () => bed.close());

  const appsOf = (tenantId: string): unknown[] => (bed.lt.admin.state()[tenantId]?.["mobileApps"] ?? []) as unknown[];

  it("a tenant with a revoked consent fails with the AADSTS explanation; the others are published", async () => {
    const revoked = bed.fleet[2]!;
    bed.lt.admin.revokeConsent(revoked.id);
    try {
      const r = await bed.run(fleetTenantsYaml(bed.fleet), SUBS);
      const bad = r.tenants.find((t) => t.tenant === revoked.name)!;
      assert.equal(bad.status, "failed");
      assert.equal(bad.error?.code, "AADSTS700016");
      assert.match(bad.error?.message ?? "", /AADSTS700016.*not found in this tenant/);
      assert.match(bad.error?.hint ?? "", /admin consent/, "the fix: consent in this tenant");
      assert.deepEqual(appsOf(revoked.id), [], "nothing written to the revoked tenant");
      for (const t of r.tenants.filter((x) => x.tenant !== revoked.name)) {
        assert.equal(t.status, "ok", `${t.tenant}: ${JSON.stringify(t.error ?? t.products)}`);
        assert.deepEqual(
          t.products.map((p) => [p.id, p.action, p.status]),
          [["Iso.Tool", "create", "ok"]],
        );
      }
      assert.equal(r.totals.tenantsFailed, 1);
      assert.equal(r.failed, true);
      assert.equal(r.packagings, 1);
    } finally {
      bed.lt.admin.reset();
    }
  });

  it("a throttled tenant gets the 429s alone, honours Retry-After and finishes like the others", async () => {
    const slow = bed.fleet[4]!;
    bed.lt.admin.addFault({
      tenant: slow.id,
      path: "^/beta/deviceAppManagement/mobileApps",
      status: 429,
      retryAfter: 1,
      count: 3,
    });
    bed.statuses.clear();
    const r = await bed.run(fleetTenantsYaml(bed.fleet), SUBS);
    const throttled = (name: string): number => (bed.statuses.get(name) ?? []).filter((s) => s === 429).length;
    assert.equal(throttled(slow.name), 3, "the throttled tenant got the three 429s");
    for (const t of bed.fleet.filter((x) => x !== slow)) assert.equal(throttled(t.name), 0, `${t.name}: no 429`);
    assert.equal(r.failed, false, JSON.stringify(r.tenants.filter((t) => t.status === "failed")));
    assert.deepEqual(bed.lt.admin.listFaults(), [], "all three 429s were answered");
    for (const t of bed.fleet) assert.equal(appsOf(t.id).length, 1, `${t.name}: its app`);
    assert.deepEqual(
      r.tenants.map((t) => [t.tenant, t.products[0]?.action]),
      bed.fleet.map((t) => [t.name, "create"]),
    );
  });
});
