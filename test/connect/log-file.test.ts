/**
 * The per-run log file (src/clients/http/log-file.ts): where it goes by default, rotation (the newest 20 run logs
 * are kept, other files untouched), no file for a run that never calls Graph or Entra, and the second-net scrub.
 */
import { EXIT_CODES } from "../../src/cli/exit-codes.js";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  DEFAULT_KEEP_RUN_LOGS,
  defaultLogDir,
  RunLog,
  rotateRunLogs,
  runLogFileName,
  scrub,
  teeLogger,
} from "../../src/clients/http/log-file.js";
import { readCleanLog } from "../support/secrets.js";
import { runCli, homeEnv } from "../support/cli.js";

describe("run log file", () => {
  it("the default folder follows XDG_STATE_HOME (or ~/.local/state) and %LOCALAPPDATA% on Windows", () => {
    assert.equal(defaultLogDir({ XDG_STATE_HOME: "/s" }, "linux"), "/s/intune-publisher/logs");
    assert.equal(defaultLogDir({}, "linux", "/home/u"), "/home/u/.local/state/intune-publisher/logs");
    assert.equal(
      defaultLogDir({ LOCALAPPDATA: "C:\\Users\\u\\AppData\\Local" }, "win32"),
      "C:\\Users\\u\\AppData\\Local\\intune-publisher\\logs",
    );
    assert.equal(runLogFileName(Date.UTC(2026, 10, 26, 15, 4, 5, 123), 42), "run-20261126T150405.123Z-42.jsonl");
  });

  it("rotation through the CLI: a `connect test` run keeps the newest 20 run logs and leaves other files", async () => {
    const home = await mkdtemp(join(tmpdir(), "runlog-rotate-"));
    try {
      const logs = join(home, "state", "intune-publisher", "logs");
      await mkdir(logs, { recursive: true });
      const old: string[] = [];
      for (let i = 0; i < 25; i++) {
        const name = runLogFileName(Date.UTC(2025, 0, 1, 0, 0, i), 1000 + i);
        old.push(name);
        await writeFile(join(logs, name), "{}\n");
      }
      await writeFile(join(logs, "notes.txt"), "mine\n");
      const env = homeEnv(home);
      const r = await runCli(["connect", "test", "--cloud", "local", "--output", "json"], env);
      assert.equal(r.code, 0, r.stderr);
      const path = /^Log file: (.*)$/m.exec(r.stderr)?.[1] ?? "";
      assert.equal(join(path, ".."), logs);
      assert.equal((await stat(path)).mode & 0o777, 0o600);
      const after = (await readdir(logs)).sort();
      const runLogs = after.filter((n) => n.startsWith("run-"));
      assert.equal(runLogs.length, DEFAULT_KEEP_RUN_LOGS);
      assert.deepEqual(runLogs, [...old.slice(25 - (DEFAULT_KEEP_RUN_LOGS - 1)), path.split("/").at(-1)].sort());
      assert.ok(after.includes("notes.txt"), "files that are not run logs are never deleted");
      const events = await readCleanLog(path, []);
      assert.ok(events.some((e) => e["status"] === 200 && typeof e["requestId"] === "string"));
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });

  it("a run that never calls Graph or Entra creates no log; a usage error neither", async () => {
    const home = await mkdtemp(join(tmpdir(), "runlog-none-"));
    try {
      const env = { HOME: home, XDG_STATE_HOME: join(home, "state") };
      const r = await runCli(["connect", "setup", "--output", "json"], env);
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stderr, /Log file/);
      const u = await runCli(["connect", "test", "--no-such-flag"], env);
      assert.equal(u.code, EXIT_CODES.usage);
      await assert.rejects(stat(join(home, "state", "intune-publisher", "logs")), { code: "ENOENT" });
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });

  it("RunLog: lazy, 0600 even over an existing file, JSON lines, scrubbed; rotateRunLogs keeps N", async () => {
    const dir = await mkdtemp(join(tmpdir(), "runlog-unit-"));
    try {
      const path = join(dir, "explicit.jsonl");
      await writeFile(path, "old content\n", { mode: 0o644 });
      const log = new RunLog({ path, command: "publish", version: "9.9.9", clock: () => Date.UTC(2026, 0, 1) });
      assert.equal(log.written, false);
      assert.equal(await readFile(path, "utf8"), "old content\n", "nothing happens before the first event");
      const jwt = `eyJhbGciOiJSUzI1NiJ9.${Buffer.from('{"roles":[]}').toString("base64url")}.c2lnbmF0dXJl`;
      const tee = teeLogger(log, { info: () => undefined, warning: () => undefined });
      tee?.warning(`retrying with Bearer abcdefghijklmnop and ${jwt}`);
      log.event({
        level: "info",
        message: "<-- 200 GET https://graph.microsoft.com/beta/groups",
        method: "GET",
        url: "https://graph.microsoft.com/beta/groups",
        status: 200,
        requestId: "rid-1",
        clientRequestId: "crid-1",
        durationMs: 12,
      });
      log.record("info", "key -----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY----- done");
      log.close();
      assert.equal(log.written, true);
      assert.equal((await stat(path)).mode & 0o777, 0o600);
      const lines = (await readFile(path, "utf8"))
        .trimEnd()
        .split("\n")
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.deepEqual(lines[0], {
        time: "2026-01-01T00:00:00.000Z",
        level: "info",
        message: "intune-publisher 9.9.9 publish",
        pid: process.pid,
      });
      assert.equal(lines[1]?.["message"], "retrying with Bearer REDACTED and REDACTED");
      assert.deepEqual(lines[2], {
        time: "2026-01-01T00:00:00.000Z",
        level: "info",
        message: "<-- 200 GET https://graph.microsoft.com/beta/groups",
        method: "GET",
        url: "https://graph.microsoft.com/beta/groups",
        status: 200,
        requestId: "rid-1",
        clientRequestId: "crid-1",
        durationMs: 12,
      });
      assert.equal(lines[3]?.["message"], "key REDACTED done");
      assert.equal(scrub("nothing secret"), "nothing secret");

      const made = new RunLog({ dir: join(dir, "made", "logs"), pid: 7 });
      made.info("x");
      made.close();
      assert.match(made.path, /\/made\/logs\/run-\d{8}T\d{6}\.\d{3}Z-7\.jsonl$/);
      assert.equal((await stat(join(dir, "made", "logs"))).mode & 0o777, 0o700, "a folder it creates is private");

      const rot = join(dir, "rot");
      await mkdir(rot);
      for (let i = 0; i < 5; i++) await writeFile(join(rot, runLogFileName(Date.UTC(2026, 0, 1, 0, i), 1)), "");
      assert.equal(rotateRunLogs(rot, 3).length, 2);
      assert.deepEqual(
        (await readdir(rot)).sort(),
        [0, 1, 2].map((i) => runLogFileName(Date.UTC(2026, 0, 1, 0, i + 2), 1)),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("an unwritable log location warns once and the run goes on", async () => {
    const dir = await mkdtemp(join(tmpdir(), "runlog-bad-"));
    try {
      await writeFile(join(dir, "file"), "");
      const warnings: string[] = [];
      const log = new RunLog({ path: join(dir, "file", "sub", "x.jsonl"), onError: (m) => warnings.push(m) });
      log.info("one");
      log.info("two");
      assert.equal(warnings.length, 1);
      assert.match(warnings[0] ?? "", /Cannot write the log file/);
      assert.equal(log.written, false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
