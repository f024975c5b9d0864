// `emulator start` in a child process: start-up on a fresh folder, start-up failures that must end the process,
// and what later commands say about a state folder whose tenant is stopped or crashed.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdir, mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { cliCommand, runCli } from "./support.js";

/** A safety net, not a timing assertion: a child that hangs is killed and the test fails instead of hanging. */
const HANG_MS = 90_000;

interface Child {
  proc: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<number | null>;
}

async function spawnCli(args: string[], home: string): Promise<Child> {
  const cli = await cliCommand(home);
  const proc = spawn(process.execPath, [...cli.args, ...args, "--no-log-file"], {
    cwd: cli.cwd,
    env: { PATH: process.env["PATH"], HOME: home, XDG_STATE_HOME: join(home, "xs") },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  proc.stdout?.on("data", (d: Buffer) => (out += d.toString("utf8")));
  proc.stderr?.on("data", (d: Buffer) => (err += d.toString("utf8")));
  const exited = new Promise<number | null>((r) => proc.once("exit", (code) => r(code)));
  const timer = setTimeout(() => proc.kill("SIGKILL"), HANG_MS);
  void exited.then(() => clearTimeout(timer));
  return { proc, out: () => out, err: () => err, exited };
}

async function facts(c: Child): Promise<Record<string, string>> {
  for (;;) {
    if (c.proc.exitCode !== null || c.proc.signalCode !== null)
      assert.fail(`emulator start ended (${c.proc.exitCode ?? c.proc.signalCode}): ${c.err()}`);
    try {
      return JSON.parse(c.out()) as Record<string, string>;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

async function stopped(c: Child): Promise<void> {
  if (c.proc.exitCode === null && c.proc.signalCode === null) {
    c.proc.kill("SIGKILL");
    await c.exited;
  }
}

describe("emulator start in a child process", () => {
  it("--persist on a fresh folder starts and stops; afterwards commands say the tenant is stopped", async () => {
    const home = await mkdtemp(join(tmpdir(), "emu-child-"));
    const state = join(home, "new", "state");
    const child = await spawnCli(["emulator", "start", "--state", state, "--persist", "--output", "json"], home);
    try {
      const f = await facts(child);
      assert.ok((await stat(join(state, "blobs"))).isDirectory());
      child.proc.kill("SIGINT");
      assert.equal(await child.exited, 0, child.err());
      assert.doesNotMatch(child.err(), /internal error/);
      const env = { HOME: home, XDG_CONFIG_HOME: join(home, "cfg"), INTUNE_PUBLISHER_EMULATOR_STATE: state };
      for (const args of [
        ["apps", "list"],
        ["connect", "test", "--cloud", "local"],
      ]) {
        const r = await runCli([...args, "--no-log-file"], env);
        assert.equal(r.code, 8, r.err);
        assert.match(
          r.err,
          new RegExp(
            `error: The local tenant recorded in .*credentials\\.json \\(${f["authorityHost"]}\\) does not answer: no emulator holds its state folder`,
          ),
        );
        assert.match(r.err, /hint: Start it again with `intune-publisher emulator start --state .*` \(add --persist/);
        assert.doesNotMatch(r.err, /Starting a local tenant in-process/);
      }
    } finally {
      await stopped(child);
      await rm(home, { recursive: true, force: true });
    }
  });

  it("a crashed emulator's folder: commands name its dead pid; the next start takes the lock over", async () => {
    const home = await mkdtemp(join(tmpdir(), "emu-crash-"));
    const state = join(home, "state");
    const first = await spawnCli(["emulator", "start", "--state", state, "--output", "json"], home);
    let second: Child | undefined;
    try {
      await facts(first);
      const pid = first.proc.pid;
      first.proc.kill("SIGKILL");
      await first.exited;
      const r = await runCli(["connect", "test", "--cloud", "local", "--state", state, "--no-log-file"], {
        HOME: home,
        XDG_CONFIG_HOME: join(home, "cfg"),
      });
      assert.equal(r.code, 8, r.err);
      assert.match(r.err, new RegExp(`its emulator \\(pid ${pid}\\) is no longer running`));
      second = await spawnCli(["emulator", "start", "--state", state, "--output", "json"], home);
      await facts(second);
      assert.match(second.err(), new RegExp(`Taking over the lock of .*pid ${pid}\\) is no longer running`));
      second.proc.kill("SIGINT");
      assert.equal(await second.exited, 0, second.err());
    } finally {
      await stopped(first);
      if (second) await stopped(second);
      await rm(home, { recursive: true, force: true });
    }
  });

  it("a start-up failure exits non-zero by itself, with a message and no stack trace", async () => {
    const home = await mkdtemp(join(tmpdir(), "emu-fail-"));
    // A folder where Azurite's metadata database file must go: its store cannot be written.
    const blobs = join(home, "blobs");
    await mkdir(join(blobs, "__azurite_db_blob__.json"), { recursive: true });
    const child = await spawnCli(["emulator", "start", "--state", join(home, "st"), "--blob-dir", blobs], home);
    try {
      assert.equal(await child.exited, 9, child.err());
      assert.match(child.err(), /error: Cannot keep blob storage in .*blobs: /);
      assert.match(child.err(), /hint: Give a folder this user may write \(--blob-dir\)/);
      assert.doesNotMatch(child.err(), /\n\s+at /, "no stack trace");
      // The lock is released: the folder can be used again.
      await assert.rejects(stat(join(home, "st", "emulator.lock")), { code: "ENOENT" });
    } finally {
      await stopped(child);
      await rm(home, { recursive: true, force: true });
    }
  });
});
