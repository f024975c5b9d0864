import type { z } from "zod";
import type { SecretRegistry } from "../clients/http/redact.js";
import type { HttpLogger } from "../clients/http/types.js";

export type OutputFormat = "json" | "yaml" | "table" | "csv";

/** What a command may touch: streams, environment, and the abort signal. Wired in main.ts. */
export interface CommandContext {
  /**
   * main.ts gives both streams as `SafeOutput` (safe-output.ts): scrubbed of `secrets` and credential shapes, control
   * characters escaped; a progress line is drawn with `drawStatusLine`.
   */
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** where confirmations are read (process.stdin unless main was given another); a TTY means a person is there */
  stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  cwd: string;
  signal: AbortSignal;
  output: OutputFormat;
  verbose: boolean;
  /**
   * The per-run log file (`--log-file`, `--no-log-file`; src/clients/http/log-file.ts): give it to the HTTP
   * pipeline's log policy. Nothing is written until the first event. Absent with `--no-log-file`.
   */
  runLog?: HttpLogger;
  /**
   * The run's secret registry (always set by main.ts): hand it to whatever reads, builds or receives a secret
   * (credential loader, transport, token provider) so that stdout, stderr and the run log never show it.
   */
  secrets?: SecretRegistry;
}

/**
 * One command = one file = its help, its options and `run` (docs/DESIGN.md, CLI). `options` declares every flag and
 * argument once (options.ts: `option()`, `argument()`); main.ts derives parseArgs and the help from it, validates
 * with it and gives `run` what it returns. Its name and one-line summary are in commands/index.ts.
 */
export interface Command<O extends z.ZodObject = z.ZodObject> {
  /** what it does, printed before the options */
  description?: string;
  /** printed after the options (environment, defaults, exit codes) */
  notes?: string;
  options: O;
  run(ctx: CommandContext, options: z.output<O>): Promise<number>;
}

export function defineCommand<O extends z.ZodObject>(command: Command<O>): Command<O> {
  return command;
}
