// Latency faults (`delayMs`): a call is served normally but late, without hiding other faults; an error fault with
// `delayMs` answers late.
import assert from "node:assert/strict";
import { request } from "node:https";
import { after, before, describe, it } from "node:test";
import { startLocalTenant } from "./server.js";
import type { LocalTenant } from "./server.js";
import { faultSchema } from "./seed.js";

describe("latency faults", () => {
  let lt: LocalTenant;
  before(async () => {
    lt = await startLocalTenant({ storage: false, throttling: false });
  });
  after(async () => {
    await lt.close();
  });

  const get = (path: string): Promise<{ status: number; ms: number }> =>
    new Promise((resolve, reject) => {
      const started = performance.now();
      const req = request(
        `${lt.graphBaseUrl}${path}`,
        { ca: lt.caCertPem, headers: { authorization: `Bearer ${lt.admin.issueToken()}` } },
        (res) => {
          res.resume();
          res.on("end", () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }));
        },
      );
      req.on("error", reject);
      req.end();
    });

  it("delays the next N matching answers, then answers at once again", async () => {
    await get("/groups"); // warm the connection path
    lt.admin.addFault({ path: "^/beta/groups$", delayMs: 200, count: 2 });
    const a = await get("/groups");
    const b = await get("/groups");
    const c = await get("/groups");
    assert.deepEqual([a.status, b.status, c.status], [200, 200, 200]);
    // At least the delay (load can only add to it); then the fault is used up, so the third call was not delayed
    // (said by the fault list, not by a stopwatch a loaded machine can slow down).
    assert.ok(a.ms >= 190 && b.ms >= 190, `${a.ms} ms, ${b.ms} ms`);
    assert.deepEqual(lt.admin.listFaults(), []);
  });

  it("a latency fault does not hide an error fault on the same call, and an error fault can be late", async () => {
    lt.admin.addFault({ path: "^/beta/groups$", delayMs: 150, count: 1 });
    lt.admin.addFault({ path: "^/beta/groups$", status: 503, count: 1 });
    const a = await get("/groups");
    assert.equal(a.status, 503);
    assert.ok(a.ms >= 140, `${a.ms} ms`);
    lt.admin.addFault({ path: "^/beta/groups$", status: 429, retryAfter: 1, delayMs: 150, count: 1 });
    const b = await get("/groups");
    assert.equal(b.status, 429);
    assert.ok(b.ms >= 140, `${b.ms} ms`);
    assert.equal((await get("/groups")).status, 200);
  });

  it("the seed schema takes delayMs (0 to 600 000)", () => {
    assert.equal(faultSchema.parse({ path: "^/beta/", delayMs: 100, count: 1000 }).delayMs, 100);
    assert.throws(() => faultSchema.parse({ path: "^/beta/", delayMs: -1 }));
    assert.throws(() => faultSchema.parse({ path: "^/beta/", delayMs: 600_001 }));
  });
});

describe("dropResponse and probability faults", () => {
  let lt: LocalTenant;
  before(async () => {
    lt = await startLocalTenant({ storage: false, throttling: false });
  });
  after(async () => {
    await lt.close();
  });

  const call = (method: string, path: string, body?: unknown): Promise<{ status: number } | { dropped: string }> =>
    new Promise((resolve) => {
      const req = request(
        `${lt.graphBaseUrl}${path}`,
        {
          method,
          ca: lt.caCertPem,
          agent: false,
          headers: { authorization: `Bearer ${lt.admin.issueToken()}`, "content-type": "application/json" },
        },
        (res) => {
          res.resume();
          res.on("end", () => resolve({ status: res.statusCode ?? 0 }));
        },
      );
      req.on("error", (e: NodeJS.ErrnoException) => resolve({ dropped: e.code ?? e.message }));
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
  const apps = (): unknown[] => Object.values(lt.admin.state()).flatMap((t) => (t["mobileApps"] ?? []) as unknown[]);
  const win32App = (name: string): Record<string, unknown> => ({
    "@odata.type": "#microsoft.graph.win32LobApp",
    displayName: name,
    publisher: "Contoso",
    fileName: "app.intunewin",
    setupFilePath: "install.cmd",
    installCommandLine: "install.cmd",
    uninstallCommandLine: "uninstall.cmd",
    installExperience: { runAsAccount: "system", deviceRestartBehavior: "suppress", maxRunTimeInMinutes: 60 },
    detectionRules: [
      {
        "@odata.type": "#microsoft.graph.win32LobAppRegistryDetection",
        check32BitOn64System: false,
        keyPath: "HKEY_LOCAL_MACHINE\\SOFTWARE\\Contoso",
        valueName: "Version",
        detectionType: "exists",
        operator: "notConfigured",
        detectionValue: null,
      },
    ],
  });

  it("dropResponse: the service acts (the app exists) but the client gets no answer", async () => {
    const before = apps().length;
    lt.admin.addFault({ method: "POST", path: "/mobileApps$", dropResponse: true });
    const r = await call("POST", "/deviceAppManagement/mobileApps", win32App("Dropped answer"));
    assert.ok("dropped" in r, `the answer was dropped, got ${JSON.stringify(r)}`);
    assert.equal(apps().length, before + 1, "the app was created all the same");
    const next = await call("POST", "/deviceAppManagement/mobileApps", win32App("Answered"));
    assert.deepEqual(next, { status: 201 });
    assert.equal(apps().length, before + 2);
  });

  it("probability with a seed: the same calls are hit on every run, about that share of them", async () => {
    const pattern = async (): Promise<number[]> => {
      lt.admin.clearFaults();
      lt.admin.addFault({ path: "^/beta/groups$", status: 503, probability: 0.3, seed: 42, count: 1000 });
      const hit: number[] = [];
      for (let i = 0; i < 200; i++) {
        const r = await call("GET", "/groups");
        if ("status" in r && r.status === 503) hit.push(i);
        else assert.deepEqual(r, { status: 200 });
      }
      lt.admin.clearFaults();
      return hit;
    };
    const first = await pattern();
    const second = await pattern();
    assert.deepEqual(second, first, "a seeded fault hits the same calls");
    assert.ok(first.length >= 40 && first.length <= 80, `${first.length} of 200 hit, expected about 60`);
  });

  it("the seed schema: probability in (0, 1]; dropResponse alone", () => {
    assert.equal(faultSchema.parse({ path: "^/beta/" }).probability, 1);
    assert.throws(() => faultSchema.parse({ path: "^/beta/", probability: 0 }));
    assert.throws(() => faultSchema.parse({ path: "^/beta/", probability: 1.5 }));
    assert.throws(() => faultSchema.parse({ path: "^/beta/", dropResponse: true, status: 503 }), /dropResponse/);
  });
});
