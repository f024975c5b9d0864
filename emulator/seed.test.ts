import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { PublisherError } from "../src/core/errors.js";
import { repoRoot } from "../test/support/paths.js";
import { defaultSeed, loadSeedFile, parseSeed, PUBLISHER_PERMISSIONS } from "./seed.js";

describe("seed", () => {
  it("the default seed has one tenant and one app registration with a secret and all six permissions", () => {
    const s = defaultSeed();
    assert.equal(s.tenants.length, 1);
    assert.deepEqual(s.tenants[0]?.domains, ["contoso.onmicrosoft.com"]);
    assert.equal(s.appRegistrations.length, 1);
    assert.equal(s.appRegistrations[0]?.secrets[0]?.value.length, 40);
    assert.notEqual(defaultSeed().appRegistrations[0]?.secrets[0]?.value, s.appRegistrations[0]?.secrets[0]?.value);
    assert.deepEqual(s.appRegistrations[0]?.roles, [...PUBLISHER_PERMISSIONS]);
    assert.equal(PUBLISHER_PERMISSIONS.length, 6);
  });

  it("loads examples/seed.yaml", async () => {
    const s = await loadSeedFile(join(repoRoot(), "examples", "seed.yaml"));
    assert.equal(s.appRegistrations.length, 3);
    assert.equal(s.appRegistrations[2]?.enabled, false);
    assert.ok(Array.isArray(s.detectedApps));
    assert.equal(s.faults[0]?.status, 429);
  });

  it("assignment filters: platform defaults to windows10AndLater, must be a Graph platform literal; the example has a non-Windows one", async () => {
    const s = await loadSeedFile(join(repoRoot(), "examples", "seed.yaml"));
    assert.ok(s.assignmentFilters.some((f) => f.platform === "windows10AndLater"));
    assert.ok(s.assignmentFilters.some((f) => f.platform === "iOS"));
    const tenants = [{ id: "7f3c2a1e-5b4d-4c6e-9f8a-0b1c2d3e4f50", domains: ["c.example"] }];
    const id = "8d1b4c6f-4a5e-4b92-8dce-3f4a5b6c7d8e";
    assert.equal(
      parseSeed({ tenants, assignmentFilters: [{ id, displayName: "f" }] }).assignmentFilters[0]?.platform,
      "windows10AndLater",
    );
    assert.throws(
      () => parseSeed({ tenants, assignmentFilters: [{ id, displayName: "f", platform: "Windows10AndLater" }] }),
      /assignmentFilters\.0\.platform/,
    );
  });

  it("loads JSON too, and names the path of each problem", async () => {
    const dir = await mkdtemp(join(tmpdir(), "seed-"));
    try {
      const p = join(dir, "s.json");
      await writeFile(p, JSON.stringify({ tenants: [{ id: "not-a-guid", domains: [] }], extra: 1 }));
      await assert.rejects(loadSeedFile(p), (e: unknown) => {
        assert.ok(e instanceof PublisherError);
        assert.equal(e.code, "InvalidSeed");
        assert.match(e.message, /tenants\.0\.id: must be a GUID/);
        assert.match(e.message, /tenants\.0\.domains/);
        assert.match(e.message, /extra/);
        return true;
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("refuses an app registration in an undeclared tenant, and a certificate with neither pem nor thumbprint", () => {
    const base = { tenants: [{ id: "11111111-2222-4333-8444-555555555555", domains: ["a.example"] }] };
    assert.throws(
      () =>
        parseSeed({
          ...base,
          appRegistrations: [
            {
              clientId: "aaaaaaaa-0000-4000-8000-000000000001",
              displayName: "x",
              tenantId: "99999999-2222-4333-8444-555555555555",
            },
          ],
        }),
      /names a tenant the seed does not declare/,
    );
    assert.throws(
      () =>
        parseSeed({
          ...base,
          appRegistrations: [
            { clientId: "aaaaaaaa-0000-4000-8000-000000000001", displayName: "x", certificates: [{}] },
          ],
        }),
      /needs `pem` or `thumbprint`/,
    );
  });

  it("accepts generator parameters for detected apps", () => {
    const s = parseSeed({
      tenants: [{ id: "11111111-2222-4333-8444-555555555555", domains: ["a.example"] }],
      detectedApps: { devices: 100000, appsPerDevice: 20 },
    });
    assert.deepEqual(s.detectedApps, { devices: 100000, appsPerDevice: 20, seed: 1 });
  });

  it("accepts extra app categories, refusing a name or id already taken (built-in ones included)", () => {
    const tenants = [{ id: "11111111-2222-4333-8444-555555555555", domains: ["a.example"] }];
    const s = parseSeed({ tenants, mobileAppCategories: [{ displayName: "Printers" }, { displayName: "Education" }] });
    assert.deepEqual(s.mobileAppCategories, [{ displayName: "Printers" }, { displayName: "Education" }]);
    assert.deepEqual(parseSeed({ tenants }).mobileAppCategories, []);
    for (const mobileAppCategories of [
      [{ displayName: "business" }],
      [{ id: "2b73ae71-12c8-49be-b462-3dae769ccd9d", displayName: "Biz" }], // the built-in Business id
      [{ displayName: "Printers" }, { displayName: "PRINTERS" }],
      [
        { id: "c0000000-0000-4000-8000-0000000000c1", displayName: "A" },
        { id: "C0000000-0000-4000-8000-0000000000C1", displayName: "B" },
      ],
    ]) {
      assert.throws(
        () => parseSeed({ tenants, mobileAppCategories }),
        (e: unknown) => e instanceof PublisherError && /mobileAppCategories\.\d: The category/.test(e.message),
      );
    }
    assert.throws(
      () => parseSeed({ tenants, mobileAppCategories: [{ id: "nope", displayName: "X" }] }),
      PublisherError,
    );
  });
});
