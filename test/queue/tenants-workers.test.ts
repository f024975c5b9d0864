// `sync --tenants all --queue` with two `worker` processes on a throwaway redis-server, against a running local
// tenant serving three tenants (the fleet seed): one job per tenant × product, every tenant gets each product once
// with its own group, each product version is packaged once for the fleet (shared store and build lock); a worker
// killed mid-upload leaves its job to the other, which finishes it without a duplicate app; two of three workers
// killed in turn mid-upload leave their jobs to the third; a tenant whose consent is revoked fails alone (exit 3).
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fleetSeed, fleetTenants } from "../../emulator/fleet-seed.js";
import { loadOrCreatePki } from "../../emulator/pki.js";
import type { LocalTenant } from "../../emulator/server.js";
import { startVendorHost } from "../../emulator/vendor/host.js";
import type { VendorHost } from "../../emulator/vendor/host.js";
import { emulatorHomeEnv, runCli, spawnCli, stopChild } from "../support/cli.js";
import type { CliChild } from "../support/cli.js";
import { useScratch } from "../support/scratch.js";
import { recordLocalTenant, startLocalTestTenant } from "../support/tenant.js";
import { product } from "../sync/support.js";
import { FLEET_SECRET, fleetTenantsYaml } from "../tenants/support.js";
import { startRedis } from "./redis-server.js";
import type { TestRedis } from "./redis-server.js";

const scratch = useScratch("ip-tenant-workers-");

interface RunDoc {
  tenants: { tenant: string; status: string; products: { id: string; action: string; status: string }[] }[];
  totals: { tenants: number; tenantsOk: number; created: number; newVersions: number; upToDate: number };
  packagings: number;
  packagesReused: number;
  failed: boolean;
}

describe("sync --tenants on Redis workers", () => {
  let home: string;
  let env: NodeJS.ProcessEnv;
  let lt: LocalTenant;
  let host: VendorHost;
  let redis: TestRedis;
  let store: string;
  const fleet = fleetTenants(3);
  const children: CliChild[] = [];
  const worker = async (): Promise<CliChild> => {
    const c = await spawnCli(
      [
        "worker",
        "--queue",
        redis.url,
        "--lock-duration",
        "2000",
        "--stalled-interval",
        "1000",
        "--package-store",
        store,
        "--no-log-file",
      ],
      env,
      await scratch(),
    );
    children.push(c);
    while (!/waiting for jobs/.test(c.stderr())) {
      if (c.proc.exitCode !== null) assert.fail(`worker ended: ${c.stderr()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return c;
  };
  /** each tenant's app names matching `pattern`, sorted */
  const appsByTenant = (pattern: RegExp): Record<string, string[]> => {
    const state = lt.admin.state();
    return Object.fromEntries(
      fleet.map((t) => [
        t.name,
        ((state[t.id]?.["mobileApps"] ?? []) as unknown as { displayName: string }[])
          .map((a) => a.displayName)
          .filter((n) => pattern.test(n))
          .sort(),
      ]),
    );
  };
  const sync = (subs: string, ...extra: string[]) =>
    runCli(
      [
        "sync",
        "--subscriptions",
        join(home, subs),
        "--tenants-file",
        join(home, "tenants.yaml"),
        "--tenants",
        "all",
        "--queue",
        redis.url,
        "--no-log-file",
        ...extra,
      ],
      env,
    );
  const bigProduct = (id: string) => ({
    ...product(id, "1.0"),
    versions: [
      {
        version: "1.0",
        installers: [
          {
            architecture: "x64" as const,
            type: "nullsoft" as const,
            content: { generate: { bytes: 3 * 1024 * 1024, seed: id } },
          },
        ],
      },
    ],
  });

  before(async () => {
    home = await scratch();
    store = join(home, "package-store");
    const stateDir = join(home, "emulator");
    env = await emulatorHomeEnv(home, stateDir);
    redis = await startRedis();
    lt = await startLocalTestTenant({ stateDir, seed: fleetSeed(3, FLEET_SECRET), vendor: false });
    host = await startVendorHost({
      seed: { products: [product("Fleet.Alpha", "1.0.0"), product("Fleet.Beta", "1.0.0")] },
      ca: await loadOrCreatePki(stateDir),
    });
    await recordLocalTenant(stateDir, lt);
    const assignments = "    assignments: [{ intent: required, group: Workstations }]\n";
    await writeFile(
      join(home, "subscriptions.yaml"),
      `source: ${host.origin}\nproducts:\n  - id: Fleet.Alpha\n${assignments}  - id: Fleet.Beta\n${assignments}`,
    );
    await writeFile(join(home, "tenants.yaml"), fleetTenantsYaml(fleet));
  });
  after(async () => {
    for (const c of children) await stopChild(c);
    await host.close();
    await lt.close();
    await redis.stop();
  });

  it("3 tenants × 2 products on 2 workers: each tenant gets each product once, packaged once per version", async () => {
    const a = await worker();
    const b = await worker();
    const r = await sync("subscriptions.yaml", "--output", "json");
    assert.equal(r.code, 0, `${r.stderr}\nworker a: ${a.stderr()}\nworker b: ${b.stderr()}`);
    const doc = JSON.parse(r.stdout) as RunDoc;
    assert.deepEqual(
      doc.tenants.map((t) => [t.tenant, t.status, t.products.map((p) => `${p.id} ${p.action} ${p.status}`)]),
      fleet.map((t) => [t.name, "ok", ["Fleet.Alpha create ok", "Fleet.Beta create ok"]]),
    );
    assert.equal(doc.totals.created, 6);
    assert.equal(doc.packagings, 2, "one package per product version for the whole fleet");
    assert.equal(doc.packagesReused, 4);
    assert.deepEqual(appsByTenant(/^(Alpha|Beta)$/), Object.fromEntries(fleet.map((t) => [t.name, ["Alpha", "Beta"]])));
    // each app assigned to the tenant's own group (the tenants file's mapping, applied by the workers)
    const state = lt.admin.state();
    for (const t of fleet) {
      const s = state[t.id] ?? {};
      const group = ((s["groups"] ?? []) as { id: string; displayName: string }[]).find(
        (g) => g.displayName === t.groups.workstations,
      );
      const targets = (
        (s["mobileAppAssignments"] ?? []) as unknown as { assignment: { target: { groupId?: string } } }[]
      ).map((x) => x.assignment.target.groupId);
      assert.deepEqual(targets, [group!.id, group!.id], t.name);
    }
    // both workers ran jobs; a job names its tenant, and the worker resolved it itself
    for (const w of [a, b]) assert.match(w.stderr(), /job \S+ Fleet\.(Alpha|Beta) \(tenant tenant0\d\): completed/);

    // the table, and a second run changes nothing
    const again = await sync("subscriptions.yaml");
    assert.equal(again.code, 0, again.stderr);
    for (const t of fleet) assert.match(again.stdout, new RegExp(`${t.name}\\s+\\S+\\s+ok\\s+0\\s+0\\s+0\\s+2\\s+0`));
    assert.match(again.stdout, /Total: 3 tenant\(s\), 3 ok, 0 failed; 6 product\(s\): 0 created.*6 up to date/);
    for (const w of [a, b]) {
      w.proc.kill("SIGTERM");
      assert.equal(await w.exited, 0, w.stderr());
    }
  });

  it("a worker killed mid-upload: the other finishes its job, every tenant complete, no duplicate app", async () => {
    for (const id of ["Kill.One", "Kill.Two"]) await host.admin.publish(bigProduct(id));
    await writeFile(join(home, "kill.yaml"), `source: ${host.origin}\nproducts:\n  - id: Kill.One\n  - id: Kill.Two\n`);
    const a = await worker();
    const b = await worker();
    const run = sync("kill.yaml", "--output", "json");
    while (!/tenant0\d: kill\.(one|two): upload /.test(a.stderr())) {
      if (a.proc.exitCode !== null) assert.fail(`worker ended: ${a.stderr()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    a.proc.kill("SIGKILL");
    await a.exited;
    const r = await run;
    assert.equal(r.code, 0, `${r.stderr}\nworker b: ${b.stderr()}`);
    const doc = JSON.parse(r.stdout) as RunDoc;
    assert.equal(doc.totals.tenantsOk, 3, r.stdout);
    for (const t of doc.tenants)
      assert.deepEqual(
        t.products.map((p) => [p.id, p.status]),
        [
          ["Kill.One", "ok"],
          ["Kill.Two", "ok"],
        ],
        t.tenant,
      );
    // the job A held when killed was run again by B (BullMQ's stalled-job check)
    const killed = [...a.stderr().matchAll(/job (\S+) (Kill\.\w+) \(tenant (\w+)\): (active|completed)/g)];
    const open = killed.filter((m) => m[4] === "active" && !killed.some((x) => x[1] === m[1] && x[4] === "completed"));
    assert.ok(open.length > 0, a.stderr());
    for (const m of open) assert.match(b.stderr(), new RegExp(`job ${m[1]} ${m[2]!.replace(".", "\\.")}.*: completed`));
    assert.deepEqual(appsByTenant(/^(One|Two)$/), Object.fromEntries(fleet.map((t) => [t.name, ["One", "Two"]])));
    b.proc.kill("SIGTERM");
    assert.equal(await b.exited, 0, b.stderr());
  });

  it("two workers killed in turn mid-upload: the third ends the run, every tenant complete, nothing duplicated", async () => {
    const ids = ["Twice.Red", "Twice.Green", "Twice.Blue"];
    for (const id of ids) await host.admin.publish(bigProduct(id));
    await writeFile(
      join(home, "twice.yaml"),
      `source: ${host.origin}\nproducts:\n${ids.map((id) => `  - id: ${id}\n`).join("")}`,
    );
    let ended = false; // the sync run has returned
    const uploading = /tenant0\d: twice\.(red|green|blue): upload /;
    /** waits until `w` prints an upload line after offset `from` of its stderr, then kills it */
    const killWhileUploading = async (w: CliChild, from: number): Promise<void> => {
      while (!uploading.test(w.stderr().slice(from))) {
        if (w.proc.exitCode !== null) assert.fail(`worker ended: ${w.stderr()}`);
        if (ended) assert.fail(`the run ended before the worker uploaded again: ${w.stderr()}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      w.proc.kill("SIGKILL");
      await w.exited;
    };
    const a = await worker();
    const b = await worker();
    const c = await worker();
    const run = sync("twice.yaml", "--output", "json").finally(() => (ended = true));
    await killWhileUploading(a, 0);
    // B's next upload after A's death: a job it took then (A's job taken over, or one of the queue)
    await killWhileUploading(b, b.stderr().length);
    const r = await run;
    const logs = `${r.stderr}\nworker a: ${a.stderr()}\nworker b: ${b.stderr()}\nworker c: ${c.stderr()}`;
    assert.equal(r.code, 0, logs);
    const doc = JSON.parse(r.stdout) as RunDoc;
    assert.equal(doc.totals.tenantsOk, 3, r.stdout);
    // a job taken over after its app was created finishes that app in place (reported as a new version)
    assert.equal(doc.totals.created + doc.totals.newVersions, 9, r.stdout);
    for (const t of doc.tenants)
      assert.deepEqual(
        t.products.map((p) => [p.id, p.status]),
        ids.map((id) => [id, "ok"]),
        t.tenant,
      );
    // every job a killed worker held unfinished was run to completion by another worker (BullMQ's stalled-job check)
    const jobs = (w: CliChild) => [
      ...w.stderr().matchAll(/job (\S+) (Twice\.\w+) \(tenant (\w+)\): (active|completed)/g),
    ];
    const unfinished = (w: CliChild) =>
      jobs(w)
        .filter((m) => m[4] === "active" && !jobs(w).some((x) => x[1] === m[1] && x[4] === "completed"))
        .map((m) => m[1]!);
    const heldA = unfinished(a);
    const heldB = unfinished(b);
    assert.ok(heldA.length > 0 && heldB.length > 0, logs);
    for (const id of [...heldA, ...heldB]) {
      const done = [a, b, c].filter((w) => jobs(w).some((m) => m[1] === id && m[4] === "completed"));
      assert.ok(done.length > 0, `job ${id} completed by another worker\n${logs}`);
    }
    // one app per product per tenant, at the current version, with its content committed: no orphan, no duplicate
    const state = lt.admin.state();
    for (const t of fleet) {
      const apps = ((state[t.id]?.["mobileApps"] ?? []) as unknown as Record<string, unknown>[]).filter((x) =>
        /^(Red|Green|Blue)$/.test(String(x["displayName"])),
      );
      assert.deepEqual(apps.map((x) => x["displayName"]).sort(), ["Blue", "Green", "Red"], t.name);
      for (const x of apps) {
        assert.equal(x["displayVersion"], "1.0", `${t.name} ${String(x["displayName"])}`);
        assert.ok(x["committedContentVersion"], `${t.name} ${String(x["displayName"])} has committed content`);
      }
    }
    // and a second run (on the surviving worker) finds everything up to date
    const again = await sync("twice.yaml");
    assert.equal(again.code, 0, `${again.stderr}\nworker c: ${c.stderr()}`);
    assert.match(again.stdout, /Total: 3 tenant\(s\), 3 ok, 0 failed; 9 product\(s\): 0 created.*9 up to date/);
    c.proc.kill("SIGTERM");
    assert.equal(await c.exited, 0, c.stderr());
  });

  it("a tenant with its consent revoked fails alone: the others get the new version, exit 3", async () => {
    await host.admin.publish(product("Fleet.Alpha", "1.1.0"));
    lt.admin.revokeConsent(fleet[1]!.id);
    const w = await worker();
    const r = await sync("subscriptions.yaml");
    assert.equal(r.code, 3, `${r.stderr}\nworker: ${w.stderr()}`);
    assert.match(r.stdout, /tenant01\s+\S+\s+ok\s+0\s+1\s+0\s+1\s+0/);
    assert.match(r.stdout, /tenant02\s+\S+\s+failed\s+0\s+0\s+0\s+0\s+0\s.*AADSTS700016/);
    assert.match(r.stdout, /tenant03\s+\S+\s+ok\s+0\s+1\s+0\s+1\s+0/);
    assert.match(r.stderr, /Sync failed for 1 of 3 tenant\(s\):\n\s+tenant02: .*AADSTS700016/);
    w.proc.kill("SIGTERM");
    assert.equal(await w.exited, 0, w.stderr());
  });
});
