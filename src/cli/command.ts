import type { ParseArgsConfig } from "node:util";
import type { z } from "zod";
import type { SecretRegistry } from "../clients/http/redact.js";
import type { HttpLogger } from "../clients/http/types.js";

export type OutputFormat = "json" | "table";

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
 * One command = one file = an options schema + `run` (docs/DESIGN.md, house rule 1).
 * `flags` feeds node:util parseArgs; `schema` validates and types the parsed values.
 */
export interface Command<S extends z.ZodType = z.ZodType> {
  name: string;
  summary: string;
  usage: string;
  /** Extra help text after the usage line. */
  details?: string;
  flags: NonNullable<ParseArgsConfig["options"]>;
  /** Positional argument names, in order, mapped into the schema input. */
  positionals?: string[];
  /** The name under which the positionals after `positionals` go into the schema input, as an array (any number). */
  rest?: string;
  schema: S;
  run(ctx: CommandContext, options: z.infer<S>): Promise<number>;
}

export function defineCommand<S extends z.ZodType>(command: Command<S>): Command<S> {
  return command;
}
