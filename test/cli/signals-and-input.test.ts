// The real CLI in a child process (bin/intune-publisher.js): input that used to hang it (named pipes) is refused
// at once, a signal ends a run even when it is stuck in a blocking read, and `npm start` still publishes the
// examples. Every child has a guard: it is killed if it outlives the test, and the test then fails.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { execFileSync } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, it } from "node:test";
import { EXIT_CODES } from "../../src/cli/exit-codes.js";
import { STOP_GRACE_MS } from "../../src/cli/main.js";
import { repoRoot } from "../support/paths.js";
import { useScratch } from "../support/scratch.js";

const scratch = useScratch("ip-cli-signals-");
const posix = process.platform !== "win32";
/** Far above what any of these runs needs; only reached when a child hangs (the failure these tests catch). */
const GUARD_MS = STOP_GRACE_MS + 50_000;

interface Child {
  /** stderr so far */
  err(): string;
  out(): string;
  /** Resolves when stderr contains `text`. */
  waitFor(text: string): Promise<void>;
  kill(signal: NodeJS.Signals): void;
  /** The exit: code or signal, and whether the guard had to kill it. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; guarded: boolean }>;
}

function run(args: string[], env: NodeJS.ProcessEnv, nodeArgs: string[] = [], guardMs = GUARD_MS): Child {
  const child = spawn(process.execPath, [...nodeArgs, ...args], { cwd: repoRoot(), env, stdio: "pipe" });
  let out = "";
  let err = "";
  const waiters: { text: string; resolve: () => void }[] = [];
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => {
    err += d.toString();
    for (const w of waiters.filter((x) => err.includes(x.text))) w.resolve();
  });
  let guarded = false;
  const guard = setTimeout(() => {
    guarded = true;
    child.kill("SIGKILL");
  }, guardMs);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; guarded: boolean }>((resolve) =>
    child.on("exit", (code, signal) => {
      clearTimeout(guard);
      for (const w of waiters) w.resolve();
      resolve({ code, signal, guarded });
    }),
  );
  return {
    err: () => err,
    out: () => out,
    waitFor: (text) =>
      err.includes(text) || child.exitCode !== null || child.signalCode !== null
        ? Promise.resolve()
        : new Promise((resolve) => waiters.push({ text, resolve })),
    kill: (signal) => child.kill(signal),
    exited,
  };
}

const bin = () => join(repoRoot(), "bin", "intune-publisher.js");

/** An environment with no tenant configured, nothing shared with the user's: the local tenant if any. */
function cleanEnv(home: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env["PATH"] ?? "",
    HOME: home,
    XDG_STATE_HOME: join(home, "state"),
    XDG_CONFIG_HOME: join(home, "config"),
    INTUNE_PUBLISHER_EMULATOR_STATE: join(home, "emulator"),
  };
}

const DEFINITION = `id: contoso-tool
displayName: Contoso Tool
publisher: Contoso
version: "1.0.0"
content:
  source: .
  setupFile: install.ps1
install:
  command: install.cmd
uninstall:
  command: uninstall.cmd
`;

describe("the CLI in a child process", { skip: !posix }, () => {
  it("refuses a named pipe as the definition, a script or the package at once (exit 9), instead of hanging", async () => {
    const home = await scratch();
    await writeFile(join(home, "install.ps1"), "exit 0\n");
    for (const f of ["app.yaml", "detect.ps1", "app.intunewin"]) execFileSync("mkfifo", [join(home, f)]);
    await writeFile(join(home, "script.yaml"), `${DEFINITION}detection:\n  - type: script\n    script: detect.ps1\n`);
    await writeFile(
      join(home, "package.yaml"),
      DEFINITION.replace("  source: .\n  setupFile: install.ps1\n", "  package: app.intunewin\n") +
        "detection:\n  - type: registry\n    keyPath: HKLM\\SOFTWARE\\Contoso\n",
    );
    const cases: [string, RegExp][] = [
      ["app.yaml", /^error: The app definition .*app\.yaml is a named pipe \(FIFO\), not a regular file\.$/m],
      ["script.yaml", /script\.yaml:14:13: detection\[0\]\.script: The detection script .*detect\.ps1 is a named pipe/],
      ["package.yaml", /package\.yaml:6:12: content\.package: The package .*app\.intunewin is a named pipe/],
    ];
    for (const [file, message] of cases) {
      const child = run([bin(), "publish", join(home, file), "--dry-run", "--no-log-file"], cleanEnv(home));
      const end = await child.exited;
      assert.equal(end.guarded, false, `${file} hung:\n${child.err()}`);
      assert.equal(end.code, EXIT_CODES.input, child.err());
      assert.match(child.err(), message);
      assert.doesNotMatch(child.err(), /local tenant|\n\s+at /, "refused before any tenant, without a stack trace");
    }
  });

  describe("signals", () => {
    /** A publish run stuck in a blocking read (test/cli/block-thread-pool.ts), ready for signals. */
    async function stuckRun(): Promise<Child> {
      const home = await scratch();
      const fifo = join(home, "nobody-writes");
      execFileSync("mkfifo", [fifo]);
      await writeFile(join(home, "install.ps1"), "exit 0\n");
      await writeFile(
        join(home, "app.yaml"),
        `${DEFINITION}detection:\n  - type: registry\n    keyPath: HKLM\\SOFTWARE\\Contoso\n`,
      );
      const preload = pathToFileURL(join(repoRoot(), "dist", "test", "cli", "block-thread-pool.js")).href;
      const child = run(
        [bin(), "publish", join(home, "app.yaml"), "--dry-run", "--no-log-file"],
        { ...cleanEnv(home), UV_THREADPOOL_SIZE: "1", BLOCK_FIFO: fifo },
        ["--import", preload],
      );
      await child.waitFor("ready\n");
      assert.equal(child.err(), "ready\n", "the run is stuck before it reports anything");
      return child;
    }

    it("the first SIGTERM ends a run stuck in a blocking read within the grace period, by SIGTERM", async () => {
      const child = await stuckRun();
      child.kill("SIGTERM");
      const end = await child.exited;
      assert.equal(end.guarded, false, `the run outlived the grace period:\n${child.err()}`);
      assert.equal(end.signal, "SIGTERM", child.err());
      assert.match(child.err(), /^SIGTERM: stopping \(a second SIGTERM ends the run at once\)\.$/m);
      assert.match(child.err(), /^error: the run did not stop within 10 s of SIGTERM: ending it\.$/m);
    });

    it("a second signal ends it at once", async () => {
      const child = await stuckRun();
      child.kill("SIGINT");
      await child.waitFor("stopping");
      child.kill("SIGINT");
      const end = await child.exited;
      assert.equal(end.guarded, false, child.err());
      assert.equal(end.signal, "SIGINT", child.err());
      assert.match(child.err(), /^SIGINT: stopping \(a second Ctrl-C ends the run at once\)\.$/m);
      assert.match(child.err(), /^error: SIGINT again: ending at once\.$/m);
    });
  });

  it("npm start (node scripts/start.mjs) publishes the examples, then catalog products from the vendor host, to a local tenant and exits 0; a second run has nothing to do", async () => {
    const home = await scratch();
    // Packaging, uploads and an in-process local tenant: minutes on a loaded machine at worst.
    const child = run([join(repoRoot(), "scripts", "start.mjs"), "--no-log-file"], cleanEnv(home), [], 600_000);
    const end = await child.exited;
    assert.equal(end.guarded, false, child.err());
    assert.equal(end.code, 0, child.err());
    assert.match(child.out(), /Summary: 3 to create, .*3 app\(s\) changed\./);
    assert.match(child.out(), /northwind-printers/);
    // The catalog part: search, show, import and publish from the same local tenant's vendor host.
    assert.match(child.out(), /== Catalog: search the local tenant's vendor host \(https:\/\/127\.0\.0\.1:\d+\)/);
    assert.match(child.out(), /Install command\s+"Fabrikam\.Sketch-5\.2\.0-x64\.exe" \/SP- \/VERYSILENT/);
    // among them a zip with a nested MSI and a fixed-URL catalog entry (its version read from the downloaded MSI)
    assert.match(child.out(), /== Catalog: import Contoso\.FixedUrlApp from a catalog entry with a fixed URL/);
    for (const app of ["contoso.fixedurlapp", "contoso.notes", "contoso.tinyapp", "contoso.ziptool", "fabrikam.sketch"])
      assert.match(child.out(), new RegExp(`^${app.replace(".", "\\.")}\\s+\\S+\\s+create\\s+done`, "m"));
    assert.match(child.err(), /Contoso\.TinyApp: downloaded, 9\.5 KiB, SHA-256 verified\./);

    // The second run finds the demo tenant as the first left it: nothing to do, in both parts. A configured tenant
    // in the environment is never used.
    const again = run(
      [join(repoRoot(), "scripts", "start.mjs"), "--no-log-file"],
      {
        ...cleanEnv(home),
        AZURE_TENANT_ID: "contoso.onmicrosoft.com",
        AZURE_CLIENT_ID: "11111111-2222-3333-4444-555555555555",
        AZURE_CLIENT_SECRET: "not-a-real-secret-value",
        AZURE_AUTHORITY_HOST: "https://login.invalid",
      },
      [],
      600_000,
    );
    const second = await again.exited;
    assert.equal(second.guarded, false, again.err());
    assert.equal(second.code, 0, again.err());
    const summaries = again.out().match(/^Summary: .*$/gm) ?? [];
    assert.deepEqual(
      summaries.map((l) => /Nothing to do\.$/.test(l) && /0 to create, 0 new version\(s\), 0 to update/.test(l)),
      [true, true],
      again.out(),
    );
    assert.doesNotMatch(again.out(), /\bcreate\s+done/);
    assert.doesNotMatch(again.err(), /login\.invalid/);
  });
});
