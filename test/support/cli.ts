/**
 * The CLI in tests: in-process through the real entry (`main`), or in a child process. The environment is always the
 * caller's, never this process's: no AZURE_* variable, HOME or proxy of the machine running the tests leaks in.
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { fileURLToPath } from "node:url";
import { main } from "../../src/cli/main.js";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI in-process with captured streams (stderr is not a TTY, so no progress bar), with exactly `env` as its
 * environment, in `cwd` (default: env.HOME, else this process's folder).
 */
export async function runCli(args: string[], env: NodeJS.ProcessEnv, cwd?: string): Promise<CliResult> {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = "";
  let stderr = "";
  out.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
  err.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
  const code = await main(args, { stdout: out, stderr: err, env, cwd: cwd ?? env["HOME"] ?? process.cwd() });
  return { code, stdout, stderr };
}

/** An environment with a home of its own: HOME, and the config and state folders under it; then `extra`. */
export function homeEnv(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { HOME: home, XDG_CONFIG_HOME: join(home, "config"), XDG_STATE_HOME: join(home, "state"), ...extra };
}

/** homeEnv with a cache folder and a local tenant whose state lives in `stateDir` (created). */
export async function emulatorHomeEnv(
  home: string,
  stateDir: string,
  extra: NodeJS.ProcessEnv = {},
): Promise<NodeJS.ProcessEnv> {
  await mkdir(stateDir, { recursive: true });
  return homeEnv(home, { XDG_CACHE_HOME: join(home, "cache"), INTUNE_PUBLISHER_EMULATOR_STATE: stateDir, ...extra });
}

/**
 * How to run the CLI entry in a child process: node + these args (from source under tsx, or the compiled file under
 * dist/), in `cwd`. Writes a two-line entry module into `dir`.
 */
export async function cliCommand(dir: string): Promise<{ args: string[]; cwd: string }> {
  const fromSource = import.meta.url.endsWith(".ts");
  const entry = join(dir, "entry.mjs");
  const mainUrl = new URL("../../src/cli/main.js", import.meta.url).href;
  await writeFile(
    entry,
    `import { main } from ${JSON.stringify(mainUrl)};\nprocess.exitCode = await main(process.argv.slice(2));\n`,
  );
  const cwd = fileURLToPath(new URL(fromSource ? "../../" : "../../../", import.meta.url));
  return { args: [...(fromSource ? ["--import", "tsx"] : []), entry], cwd };
}

export interface CliChild {
  proc: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
}

/** A safety net, not a timing assertion: a child that hangs is killed and the test fails instead of hanging. */
const HANG_MS = 90_000;

/** Starts the CLI in a child process with exactly `env` (PATH added), its entry module written into `dir`. */
export async function spawnCli(args: string[], env: NodeJS.ProcessEnv, dir: string): Promise<CliChild> {
  const cli = await cliCommand(dir);
  const proc = spawn(process.execPath, [...cli.args, ...args], {
    cwd: cli.cwd,
    env: { PATH: process.env["PATH"], ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  proc.stdout?.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
  proc.stderr?.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
  const exited = new Promise<number | null>((r) => proc.once("exit", (code) => r(code)));
  const timer = setTimeout(() => proc.kill("SIGKILL"), HANG_MS);
  void exited.then(() => clearTimeout(timer));
  return { proc, stdout: () => stdout, stderr: () => stderr, exited };
}

/** The JSON an `emulator start --output json` child prints once it serves (fails if it ends first). */
export async function emulatorFacts(c: CliChild): Promise<Record<string, string>> {
  for (;;) {
    if (c.proc.exitCode !== null || c.proc.signalCode !== null)
      throw new Error(`emulator start ended (${c.proc.exitCode ?? c.proc.signalCode}): ${c.stderr()}`);
    try {
      return JSON.parse(c.stdout()) as Record<string, string>;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Kills a child that still runs and waits for it. */
export async function stopChild(c: CliChild): Promise<void> {
  if (c.proc.exitCode === null && c.proc.signalCode === null) {
    c.proc.kill("SIGKILL");
    await c.exited;
  }
}
