// Sections (§) cited here are those of docs/reference/graph-conventions.md.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ManualClock } from "../clock.js";
import { testSeed } from "../testing/seed.js";
import { startLocalTenant } from "../server.js";
import { CallLog, httpsRequest } from "../testing/clients.js";
import { areaOf, Throttle } from "./throttle.js";

describe("Intune throttling (§6.5)", () => {
  it("maps paths to areas; directory resources are not Intune-throttled", () => {
    assert.equal(areaOf("/deviceAppManagement/mobileApps")?.name, "applications");
    assert.equal(areaOf("/deviceManagement/detectedApps/x/managedDevices")?.name, "devices");
    assert.equal(areaOf("/deviceManagement/deviceEnrollmentConfigurations/x")?.name, "enrollment");
    assert.equal(areaOf("/groups"), undefined);
  });

  it("per app: 1000 requests / 100 writes per 20 s in Applications, 2000 in Devices; the window slides", () => {
    const clock = new ManualClock(0);
    const t = new Throttle(clock);
    for (let i = 0; i < 100; i++) assert.equal(t.check("t", "a", "POST", "/deviceAppManagement/mobileApps"), undefined);
    assert.equal(t.check("t", "a", "POST", "/deviceAppManagement/mobileApps"), 20);
    assert.equal(
      t.check("t", "b", "POST", "/deviceAppManagement/mobileApps"),
      undefined,
      "another app has its own window",
    );
    for (let i = 0; i < 900; i++) assert.equal(t.check("t", "a", "GET", "/deviceAppManagement/mobileApps"), undefined);
    assert.equal(t.check("t", "a", "GET", "/deviceAppManagement/mobileApps"), 20);
    clock.advance(15_000);
    assert.equal(t.check("t", "a", "GET", "/deviceAppManagement/mobileApps"), 5);
    clock.advance(5_000);
    assert.equal(t.check("t", "a", "POST", "/deviceAppManagement/mobileApps"), undefined);
    for (let i = 0; i < 2000; i++)
      assert.equal(t.check("t", "a", "GET", "/deviceManagement/managedDevices"), undefined);
    assert.equal(t.check("t", "a", "GET", "/deviceManagement/managedDevices"), 20);
  });

  it("tenant-wide: 200 writes per 20 s across apps", () => {
    const t = new Throttle(new ManualClock(0));
    for (let i = 0; i < 200; i++)
      assert.equal(t.check("t", `app${i % 4}`, "PATCH", "/deviceManagement/roleScopeTags/1"), undefined);
    assert.ok(t.check("t", "app9", "PATCH", "/deviceManagement/roleScopeTags/1") !== undefined);
  });

  it("answers 429 TooManyRequests with Retry-After over HTTPS", async () => {
    const clock = new ManualClock();
    const lt = await startLocalTenant({
      clock,
      storage: false,
      seed: testSeed({
        tenantId: "55555555-2222-4333-8444-555555555555",
        roles: ["DeviceManagementServiceConfig.ReadWrite.All"],
        espProfiles: [{ id: "esp", displayName: "e" }],
      }),
    });
    try {
      const token = lt.admin.issueToken();
      const log = new CallLog();
      const patch = () =>
        httpsRequest(
          lt.caCertPem,
          log,
          "PATCH",
          `${lt.graphBaseUrl}/deviceManagement/deviceEnrollmentConfigurations/esp`,
          { authorization: `Bearer ${token}`, "content-type": "application/json" },
          JSON.stringify({
            "@odata.type": "#microsoft.graph.windows10EnrollmentCompletionPageConfiguration",
            priority: 1,
          }),
        );
      for (let i = 0; i < 100; i++) assert.equal((await patch()).status, 204);
      const r = await patch();
      assert.equal(r.status, 429);
      assert.equal(r.headers["retry-after"], "20");
      assert.equal((JSON.parse(r.text) as { error: { code: string } }).error.code, "TooManyRequests");
      clock.advance(20_000);
      assert.equal((await patch()).status, 204);
    } finally {
      await lt.close();
    }
  });
});
