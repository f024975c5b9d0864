// A flaky tenant (however flaky the network, no duplicate or orphaned apps): the
// examples (three apps with assignments and an ESP profile) published again and again while the local tenant, by
// seeded random faults, answers Graph and blob storage calls 503 (storage also 500), drops connections before
// answering, and, worst of all, acts on a call and then drops the connection before its answer (the app is created, the commit is accepted, the
// assignment is made, but the client never hears of it). Each run may fail some apps; re-runs must converge:
// exactly one committed app per definition, nothing left over, and a plan with nothing to do.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { readStamp } from "../../src/core/app-definition/stamp.js";
import { itemHasChanges } from "../../src/core/plan/targeting.js";
import { describeFailure } from "../../src/publish/publish.js";
import type { PublishResult } from "../../src/publish/publish.js";
import { useScratch } from "../support/scratch.js";
import { copyExamples, load } from "../support/fixtures.js";
import { startPublishTenant } from "../support/tenant.js";
import type { PublishTenant } from "../support/tenant.js";

const scratch = useScratch("ip-chaos-");
const MANY = 1_000_000;

describe("publish on a flaky local tenant", () => {
  let t: PublishTenant;
  before(async () => {
    t = await startPublishTenant({ throttling: false });
  });
  after(async () => {
    await t.close();
  });

  const total: Record<string, number> = {};
  for (const base of [10, 20, 30, 40, 50]) {
    it(`converges under 503s, dropped connections and lost answers (seeds ${base}+): one committed app per definition, no leftovers`, async () => {
      t.lt.admin.reset();
      const ex = await copyExamples(await scratch());
      const defs = await load(ex.files);
      const fault = (name: string, f: Parameters<PublishTenant["lt"]["admin"]["addFault"]>[0]): [string, string] => [
        name,
        t.lt.admin.addFault({ count: MANY, ...f }),
      ];
      const faults = Object.fromEntries([
        // Transient: retried inside the pipeline (Retry-After 0), rarely exhausting the retries.
        fault("unavailable", { path: "^/beta/", status: 503, retryAfter: 0, probability: 0.08, seed: base + 1 }),
        fault("dropped", { method: "GET", path: "^/beta/", dropConnection: true, probability: 0.02, seed: base + 2 }),
        // Lost answers after the service acted: not safe to replay, so the step fails and a later run must notice.
        fault("created", {
          method: "POST",
          path: "/deviceAppManagement/mobileApps$",
          dropResponse: true,
          probability: 0.5,
          seed: base + 3,
        }),
        fault("contentVersion", {
          method: "POST",
          path: "/contentVersions$",
          dropResponse: true,
          probability: 0.4,
          seed: base + 4,
        }),
        fault("file", { method: "POST", path: "/files$", dropResponse: true, probability: 0.4, seed: base + 5 }),
        fault("committed", { method: "POST", path: "/commit$", dropResponse: true, probability: 0.4, seed: base + 6 }),
        fault("patched", {
          method: "PATCH",
          path: "^/beta/deviceAppManagement/mobileApps/[^/]+$",
          dropResponse: true,
          probability: 0.2,
          seed: base + 7,
        }),
        fault("assigned", { method: "POST", path: "/assign$", dropResponse: true, probability: 0.4, seed: base + 8 }),
        fault("esp", {
          method: "PATCH",
          path: "/deviceEnrollmentConfigurations/",
          dropResponse: true,
          probability: 0.2,
          seed: base + 9,
        }),
        // Blob storage (the client's SAS calls): Put Block and Put Block List are safe to repeat, so these are
        // retried inside the upload (500 by the engine's own resend).
        fault("storageBusy", {
          method: "PUT",
          path: "^/devstoreaccount1/",
          status: 503,
          retryAfter: 0,
          probability: 0.15,
          seed: base + 10,
        }),
        fault("storageDropped", {
          method: "PUT",
          path: "^/devstoreaccount1/",
          dropConnection: true,
          probability: 0.08,
          seed: base + 11,
        }),
        fault("storageLost", {
          method: "PUT",
          path: "^/devstoreaccount1/",
          dropResponse: true,
          probability: 0.1,
          seed: base + 12,
        }),
        fault("storageError", {
          method: "PUT",
          path: "^/devstoreaccount1/",
          status: 500,
          probability: 0.08,
          seed: base + 13,
        }),
      ]);

      const runs: { ok: number; failed: string[]; ms?: number }[] = [];
      let last: PublishResult | undefined;
      for (let run = 1; run <= 15; run++) {
        const t0 = performance.now();
        try {
          last = await t.publish(defs);
        } catch (e) {
          // A run-level read (the tenant's apps, the names to resolve) failed past its retries: try again.
          runs.push({ ok: 0, failed: [`run: ${(e as Error).message}`] });
          continue;
        }
        const failed = last.outcomes.filter((o) => o.status !== "ok");
        runs.push({
          ok: last.outcomes.length - failed.length,
          failed: failed.map((o) => describeFailure(o)),
          ms: Math.round(performance.now() - t0),
        });
        if (failed.length === 0) break;
      }
      const hits = Object.fromEntries(
        Object.entries(faults).map(([name, id]) => [
          name,
          MANY - (t.lt.admin.listFaults().find((f) => f.id === id)?.remaining ?? MANY),
        ]),
      );
      for (const [name, n] of Object.entries(hits)) total[name] = (total[name] ?? 0) + n;
      t.lt.admin.clearFaults();
      const story = JSON.stringify({ runs, hits }, null, 1);
      if (process.env["CHAOS_DEBUG"]) process.stderr.write(`${story}\n`);
      assert.equal(runs.at(-1)!.failed.length, 0, `no run succeeded in 15: ${story}`);
      assert.ok(runs.length > 1, `the first run already succeeded: ${story}`);

      // Exactly one app per definition, each committed, no app without our stamp, nothing half-made.
      const apps = t.apps();
      const ids = apps.map((a) => {
        const r = readStamp(String(a["notes"] ?? ""));
        return r.status === "valid" ? r.stamp.id : `${String(a["displayName"])} (stamp ${r.status})`;
      });
      assert.deepEqual([...ids].sort(), defs.map((d) => d.definition.id).sort(), `${apps.length} apps: ${story}`);
      for (const a of apps)
        assert.ok(typeof a["committedContentVersion"] === "string", `${String(a["displayName"])} is committed`);

      // The tenant is as declared: a dry run plans nothing, and a real run writes nothing.
      const plan = await t.publish(defs, { dryRun: true });
      assert.deepEqual(
        plan.plan.items.map((i) => [i.id, i.action, itemHasChanges(i)]),
        defs.map((d) => [d.definition.id, "nothing", false]),
        story,
      );
      const mark = t.calls.length;
      const again = await t.publish(defs);
      assert.ok(again.outcomes.every((o) => o.status === "ok"));
      assert.deepEqual(t.graphWrites(mark), [], `a re-run after convergence writes nothing: ${story}`);
    });
  }

  it("every kind of fault struck in some scenario (a test where nothing failed would prove nothing)", () => {
    for (const name of [
      "unavailable",
      "dropped",
      "created",
      "contentVersion",
      "file",
      "committed",
      "patched",
      "assigned",
      "esp",
      "storageBusy",
      "storageDropped",
      "storageLost",
      "storageError",
    ])
      assert.ok((total[name] ?? 0) > 0, `fault ${name} never struck: ${JSON.stringify(total)}`);
  });
});
