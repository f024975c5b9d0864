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
    assert.ok(a.ms >= 190 && b.ms >= 190, `${a.ms} ms, ${b.ms} ms`);
    assert.ok(c.ms < 150, `${c.ms} ms after the fault ran out`);
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
