// The sync command through the real CLI entry (main), against a running local tenant found in its state folder and
// the vendor host served with the local tenant's CA; the long-running mode in a child process stopped by SIGTERM.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { readdir, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { loadOrCreatePki } from "../../emulator/pki.js";
import { startLocalTenant } from "../../emulator/server.js";
import type { LocalTenant } from "../../emulator/server.js";
import { startVendorHost } from "../../emulator/vendor/host.js";
import type { VendorHost } from "../../emulator/vendor/host.js";
import { SYNC_BUSY_EXIT_CODE, SYNC_CHANGES_EXIT_CODE } from "../../src/cli/commands/sync.js";
import { SyncHistory } from "../../src/publish/sync/history.js";
import { emulatorHomeEnv, runCli } from "../support/cli.js";
import { repoRoot } from "../support/paths.js";
import { useScratch } from "../support/scratch.js";
import { product } from "./support.js";
import { recordLocalTenant } from "../support/tenant.js";

const scratch = useScratch("ip-sync-cli-");

describe("sync command", () => {
  let home: string;
  let env: NodeJS.ProcessEnv;
  let lt: LocalTenant;
  let host: VendorHost;
  let subs: string;
  const cli = (...args: string[]) => runCli([...args, "--no-log-file"], env);

  before(async () => {
    home = await scratch();
    const stateDir = join(home, "emulator");
    env = await emulatorHomeEnv(home, stateDir);
    lt = await startLocalTenant({ stateDir, uploadDelays: { sasIssueMs: 20, renewalMs: 20, commitMs: 20 } });
    host = await startVendorHost({
      seed: { products: [product("Contoso.Tool", "1.0.0")] },
      ca: await loadOrCreatePki(stateDir),
    });
    await recordLocalTenant(stateDir, lt);
    subs = join(home, "subscriptions.yaml");
    await writeFile(subs, `source: ${host.origin}\nproducts:\n  - id: Contoso.Tool\n`);
  });
  after(async () => {
    await host.close();
    await lt.close();
  });

  it("a bad subscriptions file is reported with file:line:column, exit 9, before any tenant is used", async () => {
    const bad = join(home, "bad.yaml");
    await writeFile(bad, "products:\n  - id: Contoso.Tool\n    mode: updateOnly\n    enrollmentStatusPages: [All]\n");
    const r = await cli("sync", "--subscriptions", bad);
    assert.equal(r.code, 9, r.stderr);
    assert.match(r.stderr, /bad\.yaml:4:\d+: .*updateOnly app cannot be in an Enrollment Status Page/);
    assert.equal(r.stdout, "");
  });

  it("syncs, then a second run changes nothing (exit 0 with --detailed-exitcode); both runs are in the history", async () => {
    const first = await cli("sync", "--subscriptions", subs, "--detailed-exitcode");
    assert.equal(first.code, SYNC_CHANGES_EXIT_CODE, first.stderr);
    assert.match(first.stdout, /Contoso\.Tool\s+1\.0\.0\s+create\s+ok/);
    const second = await cli("sync", "--subscriptions", subs, "--detailed-exitcode", "--output", "json");
    assert.equal(second.code, 0, second.stderr);
    const doc = JSON.parse(second.stdout) as { products: { action: string }[]; changed: boolean };
    assert.equal(doc.products[0]!.action, "nothing");
    assert.equal(doc.changed, false);
    const h = SyncHistory.open(join(home, "state", "intune-publisher", "sync-history.db"));
    try {
      assert.deepEqual(
        h.runs().map((r) => [r.status, r.changed, r.trigger, r.tenantId]),
        [
          ["ok", 0, "manual", lt.tenantId],
          ["ok", 1, "manual", lt.tenantId],
        ],
      );
    } finally {
      h.close();
    }
  });

  it("a run while another sync holds the lock does nothing (exit 75); a lock left by a dead process is taken over", async () => {
    const lockFile = join(home, "state", "intune-publisher", "sync.lock");
    await host.admin.publish(product("Contoso.Tool", "1.1.0"));
    // A scheduled run in progress: the lock of a live process on this host.
    await writeFile(
      lockFile,
      JSON.stringify({ pid: process.pid, hostname: hostname(), startedAt: new Date().toISOString() }),
    );
    const busy = await cli("sync", "--subscriptions", subs);
    assert.equal(busy.code, SYNC_BUSY_EXIT_CODE, busy.stderr);
    assert.match(busy.stderr, new RegExp(`another sync is running \\(pid ${process.pid}`));
    assert.equal(busy.stdout, "");
    // Its process was killed (kill -9): the lock names a pid that no longer runs.
    const dead = spawn(process.execPath, ["-e", ""]);
    await once(dead, "exit");
    await writeFile(
      lockFile,
      JSON.stringify({ pid: dead.pid, hostname: hostname(), startedAt: new Date().toISOString() }),
    );
    const r = await cli("sync", "--subscriptions", subs);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Contoso\.Tool\s+1\.1\.0\s+new-version\s+ok/);
  });

  it("kill -9 in the middle of a sync, then a re-run finishes the job with no duplicate app", async () => {
    const ids = ["Kill.One", "Kill.Two", "Kill.Three"];
    for (const id of ids)
      await host.admin.publish({
        ...product(id, "1.0"),
        versions: [
          {
            version: "1.0",
            installers: [
              { architecture: "x64", type: "nullsoft", content: { generate: { bytes: 3 * 1024 * 1024, seed: id } } },
            ],
          },
        ],
      });
    const killSubs = join(home, "kill.yaml");
    await writeFile(killSubs, `source: ${host.origin}\nproducts:\n${ids.map((id) => `  - id: ${id}\n`).join("")}`);
    const child = spawn(
      process.execPath,
      [join(repoRoot(), "bin", "intune-publisher.js"), "sync", "--subscriptions", killSubs, "--no-log-file"],
      { env: { ...env, PATH: process.env["PATH"] }, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stderr = "";
    child.stdout.resume();
    const killed = await new Promise<boolean>((resolve) => {
      child.stderr.on("data", (c: Buffer) => {
        stderr += c.toString("utf8");
        if (/: upload /.test(stderr)) resolve(child.kill("SIGKILL"));
      });
      child.on("exit", () => resolve(false));
    });
    assert.ok(killed, `killed mid-sync (stderr: ${stderr.slice(0, 800)})`);
    await once(child, "exit");
    const r = await cli("sync", "--subscriptions", killSubs);
    assert.equal(r.code, 0, r.stderr);
    const apps = Object.values(lt.admin.state())
      .flatMap((t) => (t["mobileApps"] ?? []) as unknown as { displayName: string }[])
      .filter((a) => /^Three|^One|^Two/.test(a.displayName));
    assert.deepEqual(apps.map((a) => a.displayName).sort(), ["One", "Three", "Two"], "one app per product");
    const again = await cli("sync", "--subscriptions", killSubs, "--detailed-exitcode");
    assert.equal(again.code, 0, again.stderr);
  });

  it("SIGTERM in the middle of an upload (exit 130), then a re-run resumes that upload from its journal: no duplicate app", async () => {
    const id = "Term.Resume";
    const big = (version: string, seed: string) => ({
      ...product(id, version),
      versions: [
        {
          version,
          installers: [
            {
              architecture: "x64" as const,
              type: "nullsoft" as const,
              content: { generate: { bytes: 6 * 1024 * 1024, seed } },
            },
          ],
        },
      ],
    });
    await host.admin.publish(big("1.0", "v1"));
    const termSubs = join(home, "term.yaml");
    await writeFile(termSubs, `source: ${host.origin}\nproducts:\n  - id: ${id}\n`);
    const first = await cli("sync", "--subscriptions", termSubs);
    assert.equal(first.code, 0, first.stderr);
    await host.admin.publish(big("2.0", "v2"));
    // Block uploads answer slowly, so the run is surely inside the upload when the signal comes.
    lt.admin.addFault({ method: "PUT", path: ".*", delayMs: 1500, count: 1000 });
    const journal = join(home, "state", "intune-publisher", "uploads");
    const child = spawn(
      process.execPath,
      [join(repoRoot(), "bin", "intune-publisher.js"), "sync", "--subscriptions", termSubs, "--no-log-file"],
      { env: { ...env, PATH: process.env["PATH"] }, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stderr = "";
    child.stdout.resume();
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    // The journal exists once the upload has its content file: stop then.
    while ((await readdir(journal).catch(() => [] as string[])).every((f) => !f.endsWith(".upload.json"))) {
      if (child.exitCode !== null) assert.fail(`exited before the upload: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill("SIGTERM");
    const [code] = (await once(child, "exit")) as [number | null];
    lt.admin.clearFaults();
    assert.equal(code, 130, stderr);
    assert.ok(
      (await readdir(journal)).some((f) => f.endsWith(".upload.json")),
      "the journal is kept",
    );
    const r = await cli("sync", "--subscriptions", termSubs, "--output", "json");
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as {
      products: { action: string; status: string; upload?: { resumed: boolean } }[];
    };
    assert.equal(doc.products[0]!.action, "new-version");
    assert.equal(doc.products[0]!.status, "ok");
    assert.equal(doc.products[0]!.upload?.resumed, true, r.stderr);
    const apps = Object.values(lt.admin.state())
      .flatMap((t) => (t["mobileApps"] ?? []) as unknown as { displayName: string; displayVersion?: string }[])
      .filter((a) => a.displayName === "Resume");
    assert.deepEqual(
      apps.map((a) => a.displayVersion),
      ["2.0"],
      "one app, now at 2.0",
    );
  });

  it("--every runs on a schedule and stops cleanly on SIGTERM", async () => {
    const child = spawn(
      process.execPath,
      [
        join(repoRoot(), "bin", "intune-publisher.js"),
        "sync",
        "--subscriptions",
        subs,
        "--every",
        "1h",
        "--no-log-file",
      ],
      { env: { ...env, PATH: process.env["PATH"] }, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    child.stdout.resume();
    while (!/run finished|next run in/.test(stderr)) {
      if (child.exitCode !== null) assert.fail(`exited early: ${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill("SIGTERM");
    const [code] = (await once(child, "exit")) as [number | null];
    assert.match(stderr, /run finished \(exit 0\); next in 1h/);
    assert.match(stderr, /sync: stopped\./);
    assert.ok(code === 0 || code === 130, `exit ${code}: ${stderr}`);
  });
});
