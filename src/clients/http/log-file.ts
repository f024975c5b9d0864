/**
 * The per-run log file (docs/cli.md, "Log file": one per run, rotated, redacted, with Graph request ids for
 * support cases). An `HttpLogger` that writes one JSON line per event: the log policy's structured exchanges (method,
 * redacted URL, status, request-id, client-request-id, duration) and any other line given to `info`/`warning`.
 *
 * - Nothing is written, and no file is created, until the first event: commands that never talk to Graph or Entra
 *   leave no log.
 * - Everything reaching it is already redacted by the allow-list utilities (redact.ts, through the log policy);
 *   as a second net, every secret the run registered (`secrets`) and anything shaped like a JWT, a bearer
 *   credential, a PEM block, a SAS signature or a secret form field is replaced before it is written.
 * - The file is created with mode 0600 (its folder 0700); in the default folder only the newest `keep` run logs
 *   (`run-<time>-<pid>.jsonl`) are kept.
 * - Writes are synchronous appends, so a crash or Ctrl-C loses nothing already logged; a failure to write turns the
 *   log off (reported once through `onError`) instead of failing the run.
 */
import { closeSync, fchmodSync, mkdirSync, openSync, readdirSync, rmSync, writeSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, posix, win32 } from "node:path";
import { homeFolder, userStateDir } from "../../core/config/dirs.js";
import { scrubShapes } from "./redact.js";
import type { SecretRegistry } from "./redact.js";
import type { HttpLogEvent, HttpLogger } from "./types.js";

/** How many run logs the default folder keeps. */
export const DEFAULT_KEEP_RUN_LOGS = 20;

const RUN_LOG_NAME = /^run-\d{8}T\d{6}\.\d{3}Z-\d+(?:-\d+)?\.jsonl$/;

/** The user's log folder: `$XDG_STATE_HOME/intune-publisher/logs` (`~/.local/state/…`), `%LOCALAPPDATA%\…\logs`. */
export function defaultLogDir(
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform = process.platform,
  home = homeFolder(env, platform, homedir),
): string {
  return (platform === "win32" ? win32 : posix).join(userStateDir(env, platform, home), "logs");
}

/** `run-20261126T150405.123Z-4242.jsonl`: sorts by time, one per process. */
export function runLogFileName(nowMs: number, pid: number): string {
  const t = new Date(nowMs).toISOString().replace(/[-:]/g, "");
  return `run-${t}-${pid}.jsonl`;
}

/** Deletes all but the newest `keep` run logs in `dir` (other files are left alone). Returns the deleted names. */
export function rotateRunLogs(dir: string, keep: number): string[] {
  const logs = readdirSync(dir)
    .filter((n) => RUN_LOG_NAME.test(n))
    .sort();
  const old = logs.slice(0, Math.max(0, logs.length - keep));
  for (const n of old) rmSync(join(dir, n), { force: true });
  return old;
}

/**
 * The second net when no registry is given: tokens, bearer/basic credentials, PEM blocks, SAS signatures and secret
 * form fields never reach the file, whatever the caller sent (redact.ts `scrubShapes`).
 */
export function scrub(text: string): string {
  return scrubShapes(text);
}

export interface RunLogOptions {
  /** an explicit file (`--log-file`): written as given (replaced if it exists), never rotated */
  path?: string;
  /** the folder for `run-….jsonl` files when `path` is absent (default: `defaultLogDir(process.env)`) */
  dir?: string;
  /** run logs kept in `dir` (default 20) */
  keep?: number;
  /** written in the first line, e.g. "connect test" (never the arguments: they may hold a proxy password) */
  command?: string;
  version?: string;
  clock?: () => number;
  pid?: number;
  /** told once when the log cannot be written (the run goes on without it) */
  onError?: (message: string) => void;
  /** the run's secrets: every string is scrubbed of them (and of credential shapes) before it is written */
  secrets?: SecretRegistry;
}

type Level = "info" | "warning" | "error";

export class RunLog implements HttpLogger {
  /** the file's path (decided at construction; it exists once `written` is true) */
  readonly path: string;
  private fd: number | undefined;
  private failed = false;
  /** the file was created by this run (later opens append) */
  private opened = false;
  private readonly clock: () => number;
  private readonly rotateIn: string | undefined;

  constructor(private readonly o: RunLogOptions = {}) {
    this.clock = o.clock ?? Date.now;
    if (o.path !== undefined) {
      this.path = o.path;
      this.rotateIn = undefined;
    } else {
      const dir = o.dir ?? defaultLogDir(process.env);
      this.path = join(dir, runLogFileName(this.clock(), o.pid ?? process.pid));
      this.rotateIn = dir;
    }
  }

  /** true once this run created the file */
  get written(): boolean {
    return this.opened;
  }

  info(message: string): void {
    this.write({ level: "info", message });
  }

  warning(message: string): void {
    this.write({ level: "warning", message });
  }

  event(e: HttpLogEvent): void {
    this.write({ ...e });
  }

  /** Any other record (e.g. the run's outcome); only string, number and boolean fields are kept. */
  record(level: Level, message: string, fields: Record<string, string | number | boolean | undefined> = {}): void {
    this.write({ level, message, ...fields });
  }

  /** Closes the file (a later event would reopen it for appending). */
  close(): void {
    if (this.fd === undefined) return;
    try {
      closeSync(this.fd);
    } catch {
      // already closed
    }
    this.fd = undefined;
  }

  private open(): number | undefined {
    if (this.fd !== undefined) return this.fd;
    if (this.failed) return undefined;
    try {
      mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
      const reopen = this.opened;
      const fd = openSync(this.path, reopen ? "a" : "w", 0o600);
      // An existing file keeps its mode on open: make it private too.
      fchmodSync(fd, 0o600);
      this.fd = fd;
      if (!reopen) {
        this.opened = true;
        if (this.rotateIn !== undefined) rotateRunLogs(this.rotateIn, this.o.keep ?? DEFAULT_KEEP_RUN_LOGS);
        this.line({
          level: "info",
          message: `intune-publisher${this.o.version ? ` ${this.o.version}` : ""}${this.o.command ? ` ${this.o.command}` : ""}`,
          pid: this.o.pid ?? process.pid,
        });
      }
      return fd;
    } catch (e) {
      this.failed = true;
      this.fd = undefined;
      this.o.onError?.(`Cannot write the log file ${this.path}: ${(e as Error).message}`);
      return undefined;
    }
  }

  private write(fields: Record<string, unknown>): void {
    if (this.open() === undefined) return;
    this.line(fields);
  }

  private line(fields: Record<string, unknown>): void {
    if (this.fd === undefined) return;
    const out: Record<string, unknown> = { time: new Date(this.clock()).toISOString() };
    for (const [k, v] of Object.entries(fields)) {
      if (v === undefined) continue;
      out[k] = typeof v === "string" ? (this.o.secrets?.scrub(v) ?? scrubShapes(v)) : v;
    }
    try {
      writeSync(this.fd, JSON.stringify(out) + "\n");
    } catch (e) {
      this.close();
      this.failed = true;
      this.o.onError?.(`Cannot write the log file ${this.path}: ${(e as Error).message}`);
    }
  }
}

/** One logger feeding several (stderr for `--verbose`, the run log, …); undefined when none is given. */
export function teeLogger(...loggers: (HttpLogger | undefined)[]): HttpLogger | undefined {
  const all = loggers.filter((l): l is HttpLogger => l !== undefined);
  if (all.length === 0) return undefined;
  if (all.length === 1) return all[0];
  return {
    info: (m) => all.forEach((l) => l.info(m)),
    warning: (m) => all.forEach((l) => l.warning(m)),
    event: (e) =>
      all.forEach((l) => {
        if (l.event) l.event(e);
        else if (e.level === "warning") l.warning(e.message);
        else l.info(e.message);
      }),
  };
}
