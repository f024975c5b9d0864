import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { testSeed } from "./testing/seed.js";
import { startLocalTenant } from "./server.js";
import { JsonFileStore, MemoryStore } from "./store.js";
import { CallLog, httpsRequest } from "./testing/clients.js";

describe("store", () => {
  it("memory: per tenant and collection, ids case-insensitive", async () => {
    const s = new MemoryStore();
    assert.equal(s.isEmpty(), true);
    s.collection<{ id: string; v: number }>("T1", "apps").put({ id: "ABC", v: 1 });
    assert.equal(s.collection<{ id: string; v: number }>("t1", "apps").get("abc")?.v, 1);
    assert.equal(s.collection("t2", "apps").get("abc"), undefined);
    assert.equal(s.isEmpty(), false);
    assert.equal(s.collection("t1", "apps").delete("Abc"), true);
    assert.equal(s.isEmpty(), true);
    await s.flush();
  });

  it("file: saves after changes and reloads", async () => {
    const dir = await mkdtemp(join(tmpdir(), "store-"));
    try {
      const path = join(dir, "state.json");
      const a = await JsonFileStore.open(path);
      a.collection("t", "apps").put({ id: "x" });
      await a.flush();
      assert.match(await readFile(path, "utf8"), /"t\/apps"/);
      const b = await JsonFileStore.open(path);
      assert.deepEqual(b.collection("t", "apps").list(), [{ id: "x" }]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("startLocalTenant({ persist }) keeps apps across restarts, with the same CA and signing key", async () => {
    const dir = await mkdtemp(join(tmpdir(), "persist-"));
    try {
      const seed = testSeed({
        tenantId: "77777777-2222-4333-8444-555555555555",
        roles: ["DeviceManagementApps.ReadWrite.All", "DeviceManagementServiceConfig.ReadWrite.All"],
        espProfiles: [{ id: "esp", displayName: "before" }],
      });
      const log = new CallLog();
      const first = await startLocalTenant({ seed, stateDir: dir, persist: true, storage: false });
      const token = first.admin.issueToken();
      const patched = await httpsRequest(
        first.caCertPem,
        log,
        "PATCH",
        `${first.graphBaseUrl}/deviceManagement/deviceEnrollmentConfigurations/esp`,
        { authorization: `Bearer ${token}`, "content-type": "application/json" },
        JSON.stringify({
          "@odata.type": "#microsoft.graph.windows10EnrollmentCompletionPageConfiguration",
          displayName: "after",
        }),
      );
      assert.equal(patched.status, 204);
      await first.close();
      const second = await startLocalTenant({ seed, stateDir: dir, persist: true, storage: false });
      try {
        assert.equal(second.caCertPem, first.caCertPem);
        // A token from the first run still verifies: the signing key was kept too.
        const r = await httpsRequest(
          second.caCertPem,
          log,
          "GET",
          `${second.graphBaseUrl}/deviceManagement/deviceEnrollmentConfigurations/esp`,
          { authorization: `Bearer ${token}` },
        );
        assert.equal(r.status, 200, r.text);
        assert.equal((JSON.parse(r.text) as { displayName: string }).displayName, "after");
      } finally {
        await second.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
