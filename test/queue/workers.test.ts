// `sync --queue` with `worker` processes on a throwaway redis-server (with a password), against a running local
// tenant and the vendor host: the same results as an in-process sync; a worker killed (SIGKILL) mid-upload leaves
// its job to the other worker, which finishes it without a duplicate app; no secret is in Redis or the output.
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { loadOrCreatePki } from "../../emulator/pki.js";
import { startLocalTenant } from "../../emulator/server.js";
import type { LocalTenant } from "../../emulator/server.js";
import { startVendorHost } from "../../emulator/vendor/host.js";
import type { VendorHost } from "../../emulator/vendor/host.js";
import { emulatorHomeEnv, runCli, spawnCli, stopChild } from "../support/cli.js";
import type { CliChild } from "../support/cli.js";
import { useScratch } from "../support/scratch.js";
import { recordLocalTenant } from "../support/tenant.js";
import { product } from "../sync/support.js";
import { startRedis } from "./redis-server.js";
import type { TestRedis } from "./redis-server.js";

const PASSWORD = "redis-pass-5d2e8c1f9a7b";
const scratch = useScratch("ip-workers-");

describe("workers on Redis", () => {
  let home: string;
  let env: NodeJS.ProcessEnv;
  let lt: LocalTenant;
  let host: VendorHost;
  let redis: TestRedis;
  const children: CliChild[] = [];
  const outputs: string[] = [];
  const cli = async (...args: string[]) => {
    const r = await runCli([...args, "--no-log-file"], env);
    outputs.push(r.stdout, r.stderr);
    return r;
  };
  const worker = async (...extra: string[]): Promise<CliChild> => {
    const c = await spawnCli(
      [
        "worker",
        "--queue",
        redis.url,
        "--lock-duration",
        "2000",
        "--stalled-interval",
        "1000",
        "--no-log-file",
        ...extra,
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
  const apps = (pattern: RegExp): string[] =>
    Object.values(lt.admin.state())
      .flatMap((t) => (t["mobileApps"] ?? []) as unknown as { displayName: string }[])
      .map((a) => a.displayName)
      .filter((n) => pattern.test(n))
      .sort();

  before(async () => {
    home = await scratch();
    const stateDir = join(home, "emulator");
    env = await emulatorHomeEnv(home, stateDir, { INTUNE_PUBLISHER_QUEUE_PASSWORD: PASSWORD });
    redis = await startRedis(["--requirepass", PASSWORD]);
    lt = await startLocalTenant({ stateDir, uploadDelays: { sasIssueMs: 20, renewalMs: 20, commitMs: 20 } });
    host = await startVendorHost({
      seed: { products: ["Queue.Alpha", "Queue.Beta", "Queue.Gamma"].map((id) => product(id, "1.0.0")) },
      ca: await loadOrCreatePki(stateDir),
    });
    await recordLocalTenant(stateDir, lt);
  });
  after(async () => {
    for (const c of children) await stopChild(c);
    await host.close();
    await lt.close();
    await redis.stop();
  });

  it("sync --queue gives the results of an in-process sync", async () => {
    const subs = join(home, "subscriptions.yaml");
    await writeFile(
      subs,
      `source: ${host.origin}\nproducts:\n${["Queue.Alpha", "Queue.Beta", "Queue.Gamma"].map((id) => `  - id: ${id}\n`).join("")}`,
    );
    const w = await worker("--concurrency", "2");
    const first = await cli("sync", "--subscriptions", subs, "--queue", redis.url);
    assert.equal(first.code, 0, first.stderr);
    for (const id of ["Alpha", "Beta", "Gamma"])
      assert.match(first.stdout, new RegExp(`Queue\\.${id}\\s+1\\.0\\.0\\s+create\\s+ok`));
    assert.match(first.stdout, /Summary: 3 product\(s\): 3 created/);
    assert.deepEqual(apps(/^(Alpha|Beta|Gamma)$/), ["Alpha", "Beta", "Gamma"]);
    // new versions of two: the plan through the queue and in-process are the same
    await host.admin.publish(product("Queue.Alpha", "1.1.0"));
    await host.admin.publish(product("Queue.Gamma", "2.0.0"));
    const strip = (stdout: string) =>
      (JSON.parse(stdout) as { products: Record<string, unknown>[] }).products.map(
        ({ durationMs: _d, fromCache: _f, ...p }) => p,
      );
    const queued = await cli("sync", "--subscriptions", subs, "--queue", redis.url, "--dry-run", "--output", "json");
    const local = await cli("sync", "--subscriptions", subs, "--dry-run", "--output", "json");
    assert.equal(queued.code, 0, queued.stderr);
    assert.equal(local.code, 0, local.stderr);
    assert.deepEqual(strip(queued.stdout), strip(local.stdout));
    assert.deepEqual(
      strip(queued.stdout).map((p) => [p["id"], p["action"]]),
      [
        ["Queue.Alpha", "new-version"],
        ["Queue.Beta", "nothing"],
        ["Queue.Gamma", "new-version"],
      ],
    );
    w.proc.kill("SIGTERM");
    assert.equal(await w.exited, 0, w.stderr());
    assert.match(w.stderr(), /worker: stopped\./);
  });

  it("a worker killed mid-upload: the other worker takes its job over, no duplicate app", async () => {
    const ids = ["Stall.One", "Stall.Two"];
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
    const subs = join(home, "stall.yaml");
    await writeFile(subs, `source: ${host.origin}\nproducts:\n${ids.map((id) => `  - id: ${id}\n`).join("")}`);
    const a = await worker("--concurrency", "2");
    const run = cli("sync", "--subscriptions", subs, "--queue", redis.url);
    while (!/stall\.(one|two): upload /.test(a.stderr())) {
      if (a.proc.exitCode !== null) assert.fail(`worker ended: ${a.stderr()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    a.proc.kill("SIGKILL");
    await a.exited;
    const b = await worker();
    const r = await run;
    assert.equal(r.code, 0, `${r.stderr}\nworker b: ${b.stderr()}`);
    // a job A started is finished in place on the app A created (ownership stamp), never created twice
    assert.match(r.stdout, /Stall\.One\s+1\.0\s+(create|new-version)\s+ok/);
    assert.match(r.stdout, /Stall\.Two\s+1\.0\s+(create|new-version)\s+ok/);
    assert.match(b.stderr(), /Stall\.(One|Two).*: completed/);
    // the job A had was run again by B after A's lock expired (BullMQ's stalled-job check)
    const killedJob = /job (\S+) (Stall\.\w+).*: active/.exec(a.stderr());
    assert.ok(killedJob, a.stderr());
    assert.match(b.stderr(), new RegExp(`job ${killedJob[1]} ${killedJob[2]!.replace(".", "\\.")}.*: completed`));
    assert.deepEqual(apps(/^(One|Two)$/), ["One", "Two"], "one app per product");
    b.proc.kill("SIGTERM");
    assert.equal(await b.exited, 0, b.stderr());
  });

  it("no secret is in Redis, in a job or in any output", async () => {
    const secrets = [lt.clientSecret!, PASSWORD];
    let cursor = "0";
    const dump: string[] = [];
    do {
      const [next, keys] = await redis.client.scan(cursor, "COUNT", 1000);
      cursor = next;
      for (const key of keys) {
        const type = await redis.client.type(key);
        dump.push(key);
        if (type === "hash") dump.push(JSON.stringify(await redis.client.hgetall(key)));
        else if (type === "list") dump.push(JSON.stringify(await redis.client.lrange(key, 0, -1)));
        else if (type === "zset") dump.push(JSON.stringify(await redis.client.zrange(key, 0, -1)));
        else if (type === "set") dump.push(JSON.stringify(await redis.client.smembers(key)));
        else if (type === "string") dump.push((await redis.client.get(key)) ?? "");
        else if (type === "stream") dump.push(JSON.stringify(await redis.client.xrange(key, "-", "+")));
      }
    } while (cursor !== "0");
    const text = dump.join("\n");
    assert.match(text, /\\"productId\\":\\"Stall\.One\\"/, "the jobs were inspected");
    assert.match(text, /\\"path\\":\\"[^"\\]+stall\.yaml\\",\\"sha256\\":\\"[0-9a-f]{64}\\"/);
    for (const s of secrets) {
      assert.equal(text.includes(s), false, "a secret in Redis");
      for (const o of [...outputs, ...children.map((c) => c.stdout() + c.stderr())])
        assert.equal(o.includes(s), false, "a secret in the output");
    }
  });
});
