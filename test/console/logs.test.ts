// Run logs through the console's API (no browser): the CLI's publish runs recorded in the run history beside sync
// runs, with their log file — or the fact that none was kept (--no-log-file) — and Show log streaming that file's
// lines; Diagnostics opening a run log of the log folder by name only (a path or an unknown name refused); a log of a
// few MiB streamed whole, and cut with a note naming the file past the bound of one answer.
import assert from "node:assert/strict";
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { LocalTenant } from "../../emulator/server.js";
import { defaultLogDir } from "../../src/clients/http/log-file.js";
import { SecretRegistry } from "../../src/clients/http/redact.js";
import type { HistoryResponse } from "../../src/console/api.js";
import { streamLogs } from "../../src/console/log-stream.js";
import { startConsole } from "../../src/console/server.js";
import type { RunningConsole } from "../../src/console/server.js";
import { localTenantLauncher } from "../../src/publish/connect/local-tenant-launcher.js";
import { homeEnv, runCli } from "../support/cli.js";
import { copyExamples } from "../support/fixtures.js";
import { useScratch } from "../support/scratch.js";
import { recordLocalTenant, startLocalTestTenant } from "../support/tenant.js";

interface Answer {
  status: number;
  type: string;
  body: string;
}

function get(url: string, cookie?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: cookie === undefined ? {} : { Cookie: cookie } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, type: String(res.headers["content-type"]), body }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** A run log line as the run log writes them (time first). */
const line = (time: Date, text: string): string => JSON.stringify({ time: time.toISOString(), message: text });

const scratch = useScratch("console-logs-");

describe("console: run logs", () => {
  let lt: LocalTenant;
  let c: RunningConsole;
  let home: string;
  let env: NodeJS.ProcessEnv;
  let file: string;
  let cookie: string;
  const secrets = new SecretRegistry();
  const api = (path: string) => get(`${c.origin}${path}`, cookie);

  before(async () => {
    home = await scratch();
    lt = await startLocalTestTenant();
    await recordLocalTenant(join(home, "emulator"), lt);
    env = homeEnv(home, { INTUNE_PUBLISHER_EMULATOR_STATE: join(home, "emulator") });
    file = (await copyExamples(home)).files.find((f) => f.includes("contoso-notes"))!;
    c = await startConsole({
      port: 0,
      env,
      cwd: home,
      stateDir: join(home, "emulator"),
      launcher: localTenantLauncher,
      secrets,
    });
    const signIn = await new Promise<string>((resolve, reject) =>
      request(c.url, (res) => {
        res.resume();
        resolve(String(res.headers["set-cookie"]).split(";")[0]!);
      })
        .on("error", reject)
        .end(),
    );
    cookie = signIn;
  });
  after(async () => {
    await c?.close();
    await lt?.close();
  });

  const history = async (): Promise<HistoryResponse> => JSON.parse((await api("/api/sync/history")).body);

  it("records a CLI publish in the run history (kind, exit code, log file); Show log streams its file's lines", async () => {
    const r = await runCli(["publish", file], env);
    assert.equal(r.code, 0, r.stderr);
    const path = /^Log file: (.*)$/m.exec(r.stderr)?.[1] ?? "";
    assert.ok(path !== "", r.stderr);
    const run = (await history()).runs[0]!;
    assert.deepEqual(
      [run.kind, run.trigger, run.status, run.exitCode, run.logKept, run.products, run.changed, run.failed],
      ["publish", "manual", "ok", 0, true, 1, 1, 0],
    );
    assert.deepEqual(
      run.results.map((x) => [x.product, x.action, x.status]),
      [["contoso-notes", "create", "ok"]],
    );
    const log = await api(`/api/sync/log?run=${run.id}`);
    assert.equal(log.status, 200, log.body);
    assert.match(log.type, /^text\/plain/);
    const lines = log.body.split("\n").filter((l) => l !== "");
    assert.ok(lines.filter((l) => l.startsWith("{")).length > 3, log.body.slice(0, 500));
    assert.match(log.body, /deviceAppManagement\/mobileApps/);
    assert.equal(lines.at(-1), `# from ${path}`);
    assert.ok(lt.clientSecret !== undefined && !log.body.includes(lt.clientSecret));
  });

  it("records a publish made with --no-log-file as keeping no log: Show log says so instead of nothing", async () => {
    const r = await runCli(["publish", file, "--no-log-file"], env);
    assert.equal(r.code, 0, r.stderr);
    const run = (await history()).runs[0]!;
    assert.deepEqual([run.kind, run.logKept, run.changed], ["publish", false, 0]);
    const log = await api(`/api/sync/log?run=${run.id}`);
    assert.equal(log.status, 200);
    assert.equal(log.body, "# this run was made with --no-log-file: no log was kept\n");
    const missing = await api("/api/sync/log?run=999999");
    assert.equal(missing.status, 400);
    assert.match(missing.body, /"ConsoleRequestInvalid".*no run 999999/);
  });

  it("opens a run log of the log folder by name, scrubbed again; a path or an unknown name is refused", async () => {
    const dir = defaultLogDir(env);
    await mkdir(join(dir, "a-folder"), { recursive: true });
    const secret = "s3cr3t-typed-in-the-console-form";
    secrets.add(secret);
    const jwt = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";
    await writeFile(
      join(dir, "run-opened.jsonl"),
      `${line(new Date(), `secret ${secret}`)}\n${line(new Date(), `Authorization: Bearer ${jwt}`)}\n`,
    );
    await writeFile(join(home, "outside.jsonl"), `${line(new Date(), "outside the log folder")}\n`);
    await symlink(join(home, "outside.jsonl"), join(dir, "link.jsonl"));

    const ok = await api("/api/diagnostics/log?name=run-opened.jsonl");
    assert.equal(ok.status, 200, ok.body);
    assert.match(ok.type, /^text\/plain/);
    const lines = ok.body.split("\n");
    assert.equal(lines.length, 4, ok.body);
    assert.match(lines[0]!, /"message":"secret \[?REDACTED/);
    assert.ok(!ok.body.includes(secret), "a secret the console knows is scrubbed again");
    assert.ok(!ok.body.includes(jwt), "a token's shape is scrubbed again");
    assert.equal(lines[2], `# from ${join(dir, "run-opened.jsonl")}`);

    for (const name of ["../outside.jsonl", "a/b.jsonl", join(home, "outside.jsonl"), ".hidden", ""]) {
      const r = await api(`/api/diagnostics/log?name=${encodeURIComponent(name)}`);
      assert.equal(r.status, 400, name);
      assert.match(r.body, /"code":"ConsoleRequestInvalid".*not the name of a run log.*no path/, name);
    }
    for (const name of ["run-gone.jsonl", "link.jsonl", "a-folder"]) {
      const r = await api(`/api/diagnostics/log?name=${encodeURIComponent(name)}`);
      assert.equal(r.status, 404, name);
      assert.match(r.body, /"code":"NotFound".*no run log/, name);
      assert.doesNotMatch(r.body, /outside the log folder/);
    }
    const diagnostics = JSON.parse((await api("/api/diagnostics")).body) as { logs: { name: string }[] };
    assert.ok(diagnostics.logs.some((l) => l.name === "run-opened.jsonl"));
  });

  it("streams a log of a few MiB whole, line by line; past the bound the answer ends naming the file", async () => {
    const dir = defaultLogDir(env);
    const big = join(dir, "run-big.jsonl");
    const t0 = new Date();
    const pad = "x".repeat(80);
    const count = 40_000;
    const text = Array.from({ length: count }, (_, i) => line(t0, `line ${i} ${pad}`)).join("\n") + "\n";
    assert.ok(text.length > 4 * 1024 * 1024);
    await writeFile(big, text);

    const whole = await api("/api/diagnostics/log?name=run-big.jsonl");
    assert.equal(whole.status, 200);
    const lines = whole.body.split("\n").filter((l) => l.startsWith("{"));
    assert.equal(lines.length, count);
    assert.match(lines[0]!, /"line 0 x/);
    assert.match(lines[count - 1]!, new RegExp(`"line ${count - 1} x`));
    assert.doesNotMatch(whole.body, /# truncated/);

    // The same code with a bound of 1 MiB per answer, on a real HTTP connection.
    const server = createServer((_req, res) => void streamLogs(res, [{ path: big }], (l) => l, 1024 * 1024));
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    try {
      const cut = await get(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      const sent = cut.body.split("\n").filter((l) => l.startsWith("{"));
      assert.ok(sent.length > 1000 && sent.length < count, String(sent.length));
      assert.ok(Buffer.byteLength(sent.join("\n")) <= 1024 * 1024);
      assert.match(sent.at(-1)!, new RegExp(`"line ${sent.length - 1} x`), "whole lines, in order");
      assert.deepEqual(cut.body.split("\n").slice(-3), [
        `# from ${big}`,
        `# truncated: at most 1 MiB of log are shown; open the file ${big} for the rest`,
        "",
      ]);
    } finally {
      await new Promise((done) => server.close(done));
    }
  });
});
