import assert from "node:assert/strict";
import { after, afterEach, describe, it } from "node:test";
import { PublisherError } from "../../core/errors.js";
import { createHttpPipeline } from "../http/pipeline.js";
import { inOrder, recordingSleep, startScriptedServer } from "../http/testing/scripted-server.js";
import type { ReceivedRequest, Reply, Script, ScriptedServer } from "../http/testing/scripted-server.js";
import { createFetchTransport } from "../http/transport.js";
import type { BatchRequestItem } from "./batch.js";
import { splitBatches } from "./batch.js";
import { GraphClient } from "./client.js";
import { GraphError } from "./errors.js";

const transport = createFetchTransport();
after(() => transport.close());

let server: ScriptedServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** A GraphClient on a scripted server; `script` gets the server origin to build absolute nextLinks. */
async function setup(script: (origin: string) => Script) {
  let origin = "";
  const s = await startScriptedServer((req, i) => script(origin)(req, i));
  origin = s.origin;
  server = s;
  const http = recordingSleep();
  const batch = recordingSleep();
  const pipeline = createHttpPipeline({
    transport: transport.send,
    tokenProvider: { getToken: async () => ({ token: "tok", expiresOn: Date.now() + 3_600_000 }) },
    retry: { sleep: http.sleep, random: () => 0.5 },
  });
  const client = new GraphClient({
    pipeline,
    baseUrl: `${origin}/beta/`,
    batch: { sleep: batch.sleep, random: () => 0.5 },
  });
  return { client, received: s.received, httpWaits: http.waits, batchWaits: batch.waits, origin };
}

const json = (body: unknown, status = 200, headers: Record<string, string> = {}): Reply => ({ status, headers, body });

describe("GraphClient requests", () => {
  it("GETs JSON with query options, bearer token and ids", async () => {
    const t = await setup(() => inOrder(json({ id: "a1" })));
    const app = await t.client.get<{ id: string }>("/deviceAppManagement/mobileApps/a1", {
      query: { $select: "id,displayName", $top: 5, skip: undefined },
      headers: { ConsistencyLevel: "eventual" },
    });
    assert.deepEqual(app, { id: "a1" });
    const r = t.received[0]!;
    assert.equal(r.method, "GET");
    assert.equal(r.url, "/beta/deviceAppManagement/mobileApps/a1?$select=id%2CdisplayName&$top=5");
    assert.equal(r.headers["authorization"], "Bearer tok");
    assert.equal(r.headers["accept"], "application/json");
    assert.equal(r.headers["consistencylevel"], "eventual");
    assert.match(String(r.headers["client-request-id"]), /^[0-9a-f-]{36}$/);
  });

  it("POSTs and PATCHes JSON bodies; empty answers give undefined", async () => {
    const t = await setup(() => inOrder(json({ id: "new" }, 201), { status: 204 }, { status: 204 }));
    assert.deepEqual(await t.client.post("/deviceAppManagement/mobileApps", { displayName: "x" }), { id: "new" });
    assert.equal(await t.client.patch("/deviceAppManagement/mobileApps/new", { notes: "n" }), undefined);
    await t.client.delete("/deviceAppManagement/mobileApps/new");
    assert.deepEqual(
      t.received.map((r) => [r.method, r.headers["content-type"], r.body]),
      [
        ["POST", "application/json", '{"displayName":"x"}'],
        ["PATCH", "application/json", '{"notes":"n"}'],
        ["DELETE", undefined, ""],
      ],
    );
  });

  it("replays a PATCH after a dropped connection, but not a POST", async () => {
    const t = await setup(() => inOrder("drop", { status: 204 }, "drop"));
    await t.client.patch("/deviceAppManagement/mobileApps/a", { notes: "n" });
    await assert.rejects(t.client.post("/deviceAppManagement/mobileApps", {}), { kind: "network" });
    assert.deepEqual(
      t.received.map((r) => r.method),
      ["PATCH", "PATCH", "POST"],
    );
  });

  it("turns a Graph error body into a GraphError with the ids", async () => {
    const t = await setup(() =>
      inOrder(
        json(
          {
            error: {
              code: "ResourceNotFound",
              message: "Resource not found.",
              innerError: { date: "2026-11-26T12:00:00", "request-id": "rid-9", "client-request-id": "x" },
            },
          },
          404,
          { "request-id": "rid-9" },
        ),
      ),
    );
    await assert.rejects(t.client.get("/deviceAppManagement/mobileApps/none"), (e: unknown) => {
      assert.ok(e instanceof GraphError);
      assert.equal(e.kind, "graph");
      assert.equal(e.status, 404);
      assert.equal(e.graphCode, "ResourceNotFound");
      assert.equal(e.requestId, "rid-9");
      // no client-request-id header in the answer: the body's innerError is used
      assert.equal(e.clientRequestId, "x");
      assert.equal(e.date, "2026-11-26T12:00:00");
      return true;
    });
  });

  it("keeps the client-request-id we sent when the answer has none", async () => {
    const t = await setup(() => inOrder({ status: 500, body: "oops" }));
    await assert.rejects(t.client.get("/x"), (e: unknown) => {
      assert.ok(e instanceof GraphError);
      assert.equal(e.clientRequestId, t.received[0]!.headers["client-request-id"]);
      assert.equal(e.serviceCode, "Http500");
      return true;
    });
  });

  it("gives kind permission for an Intune 403 with the inner Message", async () => {
    const message = JSON.stringify({
      _version: 3,
      Message:
        "Application is not authorized to perform this operation. Application must have one of the following scopes: DeviceManagementApps.ReadWrite.All - Operation ID (for customer support): 0",
    });
    const t = await setup(() => inOrder(json({ error: { code: "Forbidden", message } }, 403)));
    await assert.rejects(t.client.post("/deviceAppManagement/mobileApps", {}), (e: unknown) => {
      assert.ok(e instanceof GraphError);
      assert.equal(e.kind, "permission");
      assert.match(e.innerMessage ?? "", /^Application is not authorized/);
      assert.deepEqual(e.requiredScopes, ["DeviceManagementApps.ReadWrite.All"]);
      return true;
    });
  });

  it("refuses an absolute URL on another host before sending", async () => {
    const t = await setup(() => inOrder(json({})));
    await assert.rejects(t.client.get("https://evil.example/beta/x"), { code: "ForeignHost" });
    assert.equal(t.received.length, 0);
  });
});

describe("GraphClient paging", () => {
  const pages = (origin: string): Script => {
    return (req: ReceivedRequest) => {
      const token = new URL(req.url, origin).searchParams.get("$skiptoken");
      if (token === null)
        return json({ value: [{ id: "1" }, { id: "2" }], "@odata.nextLink": `${origin}/beta/items?$skiptoken=p2` });
      if (token === "p2") return json({ value: [], "@odata.nextLink": `${origin}/beta/items?$skiptoken=p3` });
      return json({ value: [{ id: "3" }] });
    };
  };

  it("follows @odata.nextLink across 3 pages (one empty), resending headers", async () => {
    const t = await setup(pages);
    const items = await t.client.listAll<{ id: string }>("/items", {
      query: { $select: "id" },
      headers: { ConsistencyLevel: "eventual" },
    });
    assert.deepEqual(
      items.map((i) => i.id),
      ["1", "2", "3"],
    );
    assert.deepEqual(
      t.received.map((r) => r.url),
      ["/beta/items?$select=id", "/beta/items?$skiptoken=p2", "/beta/items?$skiptoken=p3"],
    );
    assert.ok(t.received.every((r) => r.headers["consistencylevel"] === "eventual"));
  });

  it("stops early when the caller stops iterating", async () => {
    const t = await setup(pages);
    for await (const item of t.client.list<{ id: string }>("/items")) {
      assert.equal(item.id, "1");
      break;
    }
    assert.equal(t.received.length, 1);
  });

  it("refuses a nextLink to another host", async () => {
    const t = await setup(() =>
      inOrder(json({ value: [{ id: "1" }], "@odata.nextLink": "https://evil.example/beta/items?$skiptoken=x" })),
    );
    await assert.rejects(
      t.client.listAll("/items"),
      (e: unknown) => e instanceof PublisherError && e.code === "ForeignNextLink",
    );
    assert.equal(t.received.length, 1);
  });

  it("refuses a nextLink that loops", async () => {
    const t = await setup(
      (origin) => () => json({ value: [], "@odata.nextLink": `${origin}/beta/items?$skiptoken=same` }),
    );
    await assert.rejects(t.client.listAll("/items"), { code: "NextLinkLoop" });
    assert.equal(t.received.length, 2);
  });
});

interface WireBatch {
  requests: {
    id: string;
    method: string;
    url: string;
    dependsOn?: string[];
    headers?: Record<string, string>;
    body?: unknown;
  }[];
}

describe("GraphClient batch", () => {
  it("retries only the item answered 429, after its Retry-After, and returns results in order", async () => {
    const t = await setup(() => (req, i) => {
      const { requests } = JSON.parse(req.body) as WireBatch;
      return json({
        // answered out of order, as Graph may
        responses: requests
          .map((r) =>
            i === 0 && r.id === "b"
              ? {
                  id: r.id,
                  status: 429,
                  headers: { "Retry-After": "4" },
                  body: { error: { code: "TooManyRequests", message: "" } },
                }
              : { id: r.id, status: 200, headers: { "Content-Type": "application/json" }, body: { id: r.id, try: i } },
          )
          .reverse(),
      });
    });
    const results = await t.client.batch([
      { id: "a", method: "GET", url: "/deviceAppManagement/mobileApps/a" },
      { id: "b", method: "GET", url: "/deviceAppManagement/mobileApps/b" },
      { id: "c", method: "GET", url: "/deviceAppManagement/mobileApps/c" },
    ]);
    assert.deepEqual(
      results.map((r) => [r.id, r.status, (r.body as { try: number }).try]),
      [
        ["a", 200, 0],
        ["b", 200, 1],
        ["c", 200, 0],
      ],
    );
    assert.deepEqual(t.batchWaits, [4000]);
    assert.equal(t.received.length, 2);
    assert.equal(t.received[0]!.url, "/beta/$batch");
    assert.deepEqual(
      (JSON.parse(t.received[1]!.body) as WireBatch).requests.map((r) => r.id),
      ["b"],
    );
  });

  it("resends a 424 dependent with its throttled dependency, dropping dependencies that succeeded", async () => {
    const t = await setup(() => (req, i) => {
      const { requests } = JSON.parse(req.body) as WireBatch;
      const status = (id: string): number => (i > 0 ? 200 : id === "b" ? 429 : id === "c" ? 424 : 200);
      return json({ responses: requests.map((r) => ({ id: r.id, status: status(r.id), headers: {}, body: {} })) });
    });
    const results = await t.client.batch([
      { id: "a", method: "POST", url: "/x", body: { n: 1 } },
      { id: "b", method: "GET", url: "/y", dependsOn: ["a"] },
      { id: "c", method: "GET", url: "/z", dependsOn: ["a", "b"] },
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      [200, 200, 200],
    );
    const first = (JSON.parse(t.received[0]!.body) as WireBatch).requests;
    assert.deepEqual(first[0]!.headers, { "Content-Type": "application/json" });
    const second = (JSON.parse(t.received[1]!.body) as WireBatch).requests;
    assert.deepEqual(
      second.map((r) => [r.id, r.dependsOn]),
      [
        ["b", undefined],
        ["c", ["b"]],
      ],
    );
    // no hint: exponential backoff, first step 1000 ms with jitter 0.5
    assert.deepEqual(t.batchWaits, [750]);
  });

  it("reports failed items as GraphErrors without throwing", async () => {
    const t = await setup(() =>
      inOrder(
        json({
          responses: [
            {
              id: "1",
              status: 404,
              headers: { "request-id": "r404" },
              body: { error: { code: "ResourceNotFound", message: "gone" } },
            },
          ],
        }),
      ),
    );
    const [r] = await t.client.batch([{ id: "1", method: "GET", url: "/deviceAppManagement/mobileApps/gone" }]);
    assert.equal(r!.status, 404);
    assert.ok(r!.error instanceof GraphError);
    assert.equal(r!.error.requestId, "r404");
    assert.match(r!.error.message, /GET http:\/\/127\.0\.0\.1:\d+\/beta\/deviceAppManagement\/mobileApps\/gone/);
  });

  it("sends 45 requests as batches of 20, 20 and 5", async () => {
    const t = await setup(
      () => (req) =>
        json({
          responses: (JSON.parse(req.body) as WireBatch).requests.map((r) => ({ id: r.id, status: 200, body: {} })),
        }),
    );
    const many = Array.from({ length: 45 }, (_, i): BatchRequestItem => ({
      id: `r${i}`,
      method: "GET",
      url: `/x/${i}`,
    }));
    const results = await t.client.batch(many);
    assert.equal(results.length, 45);
    assert.deepEqual(
      t.received.map((r) => (JSON.parse(r.body) as WireBatch).requests.length),
      [20, 20, 5],
    );
  });
});

describe("splitBatches", () => {
  const item = (id: string, dependsOn?: string[]): BatchRequestItem => ({ id, method: "GET", url: "/x", dependsOn });

  it("keeps a dependsOn group in one batch", () => {
    const items = [
      ...Array.from({ length: 18 }, (_, i) => item(`a${i}`)),
      item("p"),
      item("q", ["P"]),
      item("r", ["q"]),
    ];
    const batches = splitBatches(items);
    assert.deepEqual(
      batches.map((b) => b.length),
      [18, 3],
    );
    assert.deepEqual(
      batches[1]!.map((r) => r.id),
      ["p", "q", "r"],
    );
  });

  it("rejects duplicate ids (case-insensitive), unknown dependencies and groups over 20", () => {
    assert.throws(() => splitBatches([item("A"), item("a")]), /used twice/);
    assert.throws(() => splitBatches([item("a", ["zz"])]), /unknown id "zz"/);
    const chain = Array.from({ length: 21 }, (_, i) => item(`c${i}`, i === 0 ? undefined : [`c${i - 1}`]));
    assert.throws(() => splitBatches(chain), /21 batch requests are linked/);
  });
});
