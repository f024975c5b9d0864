// `emulator start` in a child process: start-up on a fresh folder, start-up failures that must end the process,
// and what later commands say about a state folder whose tenant is stopped or crashed.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { emulatorFacts, runCli, spawnCli, stopChild } from "../support/cli.js";
import type { CliChild } from "../support/cli.js";

/** `emulator start` and other commands in a child process with a home of its own. */
function spawnInHome(args: string[], home: string): Promise<CliChild> {
  return spawnCli([...args, "--no-log-file"], { HOME: home, XDG_STATE_HOME: join(home, "xs") }, home);
}

describe("emulator start in a child process", () => {
  it("--persist on a fresh folder starts and stops; afterwards commands say the tenant is stopped", async () => {
    const home = await mkdtemp(join(tmpdir(), "emu-child-"));
    const state = join(home, "new", "state");
    const child = await spawnInHome(["emulator", "start", "--state", state, "--persist", "--output", "json"], home);
    try {
      const f = await emulatorFacts(child);
      assert.ok((await stat(join(state, "blobs"))).isDirectory());
      child.proc.kill("SIGINT");
      assert.equal(await child.exited, 0, child.stderr());
      assert.doesNotMatch(child.stderr(), /internal error/);
      const env = { HOME: home, XDG_CONFIG_HOME: join(home, "cfg"), INTUNE_PUBLISHER_EMULATOR_STATE: state };
      for (const args of [
        ["apps", "list"],
        ["connect", "test", "--cloud", "local"],
      ]) {
        const r = await runCli([...args, "--no-log-file"], env);
        assert.equal(r.code, 8, r.stderr);
        assert.match(
          r.stderr,
          new RegExp(
            `error: The local tenant recorded in .*credentials\\.json \\(${f["authorityHost"]}\\) does not answer: no emulator holds its state folder`,
          ),
        );
        assert.match(
          r.stderr,
          /hint: Start it again with `intune-publisher emulator start --state .*` \(add --persist/,
        );
        assert.doesNotMatch(r.stderr, /Starting a local tenant in-process/);
      }
    } finally {
      await stopChild(child);
      await rm(home, { recursive: true, force: true });
    }
  });

  it("a crashed emulator's folder: commands name its dead pid; the next start takes the lock over", async () => {
    const home = await mkdtemp(join(tmpdir(), "emu-crash-"));
    const state = join(home, "state");
    const first = await spawnInHome(["emulator", "start", "--state", state, "--output", "json"], home);
    let second: CliChild | undefined;
    try {
      await emulatorFacts(first);
      const pid = first.proc.pid;
      first.proc.kill("SIGKILL");
      await first.exited;
      const r = await runCli(["connect", "test", "--cloud", "local", "--state", state, "--no-log-file"], {
        HOME: home,
        XDG_CONFIG_HOME: join(home, "cfg"),
      });
      assert.equal(r.code, 8, r.stderr);
      assert.match(r.stderr, new RegExp(`its emulator \\(pid ${pid}\\) is no longer running`));
      second = await spawnInHome(["emulator", "start", "--state", state, "--output", "json"], home);
      await emulatorFacts(second);
      assert.match(second.stderr(), new RegExp(`Taking over the lock of .*pid ${pid}\\) is no longer running`));
      second.proc.kill("SIGINT");
      assert.equal(await second.exited, 0, second.stderr());
    } finally {
      await stopChild(first);
      if (second) await stopChild(second);
      await rm(home, { recursive: true, force: true });
    }
  });

  it("a start-up failure exits non-zero by itself, with a message and no stack trace", async () => {
    const home = await mkdtemp(join(tmpdir(), "emu-fail-"));
    // A folder where Azurite's metadata database file must go: its store cannot be written.
    const blobs = join(home, "blobs");
    await mkdir(join(blobs, "__azurite_db_blob__.json"), { recursive: true });
    const child = await spawnInHome(["emulator", "start", "--state", join(home, "st"), "--blob-dir", blobs], home);
    try {
      assert.equal(await child.exited, 9, child.stderr());
      assert.match(child.stderr(), /error: Cannot keep blob storage in .*blobs: /);
      assert.match(child.stderr(), /hint: Give a folder this user may write \(--blob-dir\)/);
      assert.doesNotMatch(child.stderr(), /\n\s+at /, "no stack trace");
      // The lock is released: the folder can be used again.
      await assert.rejects(stat(join(home, "st", "emulator.lock")), { code: "ENOENT" });
    } finally {
      await stopChild(child);
      await rm(home, { recursive: true, force: true });
    }
  });
});
