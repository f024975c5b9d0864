/** GraphClient against the local tenant (emulator/): real HTTPS with its CA, real tokens, real paging and faults. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { defaultSeed } from "../../../emulator/seed.js";
import { startLocalTenant } from "../../../emulator/server.js";
import type { LocalTenant } from "../../../emulator/server.js";
import { createHttpPipeline } from "../http/pipeline.js";
import { recordingSleep } from "../http/testing/scripted-server.js";
import { createFetchTransport } from "../http/transport.js";
import type { FetchTransport } from "../http/transport.js";
import { GraphClient } from "./client.js";
import { GraphError } from "./errors.js";

describe("GraphClient on the local tenant", () => {
  let lt: LocalTenant;
  let transport: FetchTransport;
  let client: GraphClient;
  const waits = recordingSleep();

  before(async () => {
    const seed = { ...defaultSeed(), detectedApps: { devices: 3, appsPerDevice: 2, seed: 7 } };
    lt = await startLocalTenant({ seed, pageSize: 2, storage: false, throttling: false });
    transport = createFetchTransport({ trustedCaPem: lt.caCertPem });
    const pipeline = createHttpPipeline({
      transport: transport.send,
      tokenProvider: { getToken: async () => ({ token: lt.admin.issueToken(), expiresOn: Date.now() + 3_600_000 }) },
      retry: { sleep: waits.sleep },
    });
    client = new GraphClient({ pipeline, baseUrl: lt.graphBaseUrl });
  });
  after(async () => {
    await transport.close();
    await lt.close();
  });

  it("lists a collection across pages of 2", async () => {
    const direct = await client.get<{ value: unknown[]; "@odata.nextLink"?: string }>("/deviceManagement/detectedApps");
    assert.equal(direct.value.length, 2);
    assert.ok(direct["@odata.nextLink"]?.startsWith(lt.graphBaseUrl));
    const all = await client.listAll<{ id: string }>("/deviceManagement/detectedApps");
    assert.ok(all.length > 2, `expected more than one page, got ${all.length} items`);
    assert.equal(new Set(all.map((a) => a.id)).size, all.length);
  });

  it("retries a 429 fault after its Retry-After", async () => {
    lt.admin.addFault({ method: "GET", path: "^/beta/groups$", status: 429, retryAfter: 3, count: 1 });
    const before = waits.waits.length;
    const groups = await client.listAll<{ displayName: string }>("/groups");
    assert.deepEqual(
      groups.map((g) => g.displayName),
      ["Intune - Pilot devices", "Intune - All Windows devices"],
    );
    assert.deepEqual(waits.waits.slice(before), [3000]);
  });

  it("reads a 404 as a GraphError with the tenant's request ids", async () => {
    await assert.rejects(client.get("/groups/00000000-0000-0000-0000-000000000000"), (e: unknown) => {
      assert.ok(e instanceof GraphError, String(e));
      assert.equal(e.status, 404);
      assert.ok(e.requestId, "request-id");
      assert.ok(e.clientRequestId, "client-request-id");
      return true;
    });
  });

  it("batches GETs", async () => {
    const results = await client.batch([
      { id: "1", method: "GET", url: "/groups" },
      { id: "2", method: "GET", url: "/deviceManagement/detectedApps" },
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      [200, 200],
    );
  });
});
