import { parseArgs } from "node:util";
import { resolve } from "node:path";
import { defaultLogDir, RunLog } from "../clients/http/log-file.js";
import { SecretRegistry } from "../clients/http/redact.js";
import { packageVersion } from "../clients/http/user-agent.js";
import { isPublisherError, PublisherError } from "../core/errors.js";
import type { Command, CommandContext, OutputFormat } from "./command.js";
import { COMMANDS } from "./commands/index.js";
import { EXIT_CODES } from "./exit-codes.js";
import { SafeOutput } from "./safe-output.js";

const GLOBAL_FLAGS = {
  output: { type: "string", short: "o" },
  help: { type: "boolean", short: "h" },
  verbose: { type: "boolean" },
  "log-file": { type: "string" },
  "no-log-file": { type: "boolean" },
} as const;

function topHelp(): string {
  const names = Object.keys(COMMANDS);
  const width = Math.max(...names.map((n) => n.length));
  return [
    "intune-publisher: package, publish and keep Win32 apps in Microsoft Intune.",
    "",
    "Usage: intune-publisher <command> [options]",
    "",
    "Commands:",
    ...names.map((n) => `  ${n.padEnd(width)}  ${COMMANDS[n]?.summary ?? ""}`),
    "",
    "Global options:",
    "  -o, --output json|table  data format on stdout (default: table)",
    "  -h, --help               help for any command",
    "      --verbose            more detail on stderr",
    "      --log-file PATH      where commands that call Graph or Entra ID log (default: a run log in the",
    "                           user's state folder, intune-publisher/logs; the last 20 are kept)",
    "      --no-log-file        no log file",
    "      --version            print the version",
    "",
    "Run `intune-publisher <command> --help` for a command's options. Exit codes: docs/cli.md.",
  ].join("\n");
}

function commandHelp(cmd: Command): string {
  const lines = [cmd.summary, "", `Usage: intune-publisher ${cmd.usage}`];
  if (cmd.details) lines.push("", cmd.details);
  lines.push("", "Global options: --output json|table, --help, --verbose, --log-file PATH, --no-log-file");
  return lines.join("\n");
}

class UsageError extends PublisherError {
  constructor(message: string, hint?: string) {
    super("usage", "Usage", message, hint === undefined ? {} : { hint });
  }
}

/** Finds the longest command name matching the leading arguments. */
function findCommand(argv: string[]): { name: string; rest: string[] } | undefined {
  for (let n = Math.min(argv.length, 3); n >= 1; n--) {
    const name = argv.slice(0, n).join(" ");
    if (COMMANDS[name]) return { name, rest: argv.slice(n) };
  }
  return undefined;
}

export interface MainIo {
  stdout?: NodeJS.WritableStream;
  stderr?: CommandContext["stderr"];
  stdin?: CommandContext["stdin"];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** Runs the CLI and returns the exit code. The only place that maps errors to exit codes and hints. */
export async function main(argv: string[], io: MainIo = {}): Promise<number> {
  // Everything printed is scrubbed of the run's secrets and has its control characters escaped (safe-output.ts).
  const secrets = new SecretRegistry();
  const stdout = new SafeOutput(io.stdout ?? process.stdout, secrets);
  const stderr = new SafeOutput(io.stderr ?? process.stderr, secrets);
  const controller = new AbortController();
  let runLog: RunLog | undefined;
  const onSignal = (signal: NodeJS.Signals): void => stopOnSignal(signal, controller, stderr);
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    if (argv.length === 0 || (argv.length === 1 && (argv[0] === "--help" || argv[0] === "-h"))) {
      stdout.write(topHelp() + "\n");
      return argv.length === 0 ? EXIT_CODES.usage : EXIT_CODES.ok;
    }
    if (argv[0] === "--version" || argv[0] === "-v") {
      stdout.write(packageVersion() + "\n");
      return EXIT_CODES.ok;
    }
    const found = findCommand(argv);
    if (!found) {
      throw new UsageError(`Unknown command "${argv[0]}".`, "Run `intune-publisher --help` to list the commands.");
    }
    const command = await COMMANDS[found.name]!.load();
    let parsed;
    try {
      parsed = parseArgs({
        args: found.rest,
        options: { ...GLOBAL_FLAGS, ...command.flags },
        allowPositionals: true,
        strict: true,
      });
    } catch (e) {
      throw new UsageError(
        `${(e as Error).message.replace(/\. To specify.*$/s, "")}.`,
        `Run \`intune-publisher ${found.name} --help\`.`,
      );
    }
    const {
      output,
      help,
      verbose,
      "log-file": logFile,
      "no-log-file": noLogFile,
      ...values
    } = parsed.values as Record<string, unknown>;
    if (help) {
      stdout.write(commandHelp(command) + "\n");
      return EXIT_CODES.ok;
    }
    if (output !== undefined && output !== "json" && output !== "table") {
      throw new UsageError(`--output must be json or table, not "${String(output)}".`);
    }
    const names = command.positionals ?? [];
    if (command.rest === undefined && parsed.positionals.length > names.length) {
      throw new UsageError(
        `Unexpected argument "${parsed.positionals[names.length]}".`,
        `Run \`intune-publisher ${found.name} --help\`.`,
      );
    }
    const input: Record<string, unknown> = { ...values };
    names.forEach((n, i) => {
      if (parsed.positionals[i] !== undefined) input[n] = parsed.positionals[i];
    });
    if (command.rest !== undefined) input[command.rest] = parsed.positionals.slice(names.length);
    const result = command.schema.safeParse(input);
    if (!result.success) {
      const issue = result.error.issues[0]!;
      const field =
        command.rest !== undefined && issue.path[0] === command.rest
          ? `Argument ${names.length + Number(issue.path[1] ?? 0) + 1}`
          : issue.path.length
            ? `--${String(issue.path[0])}`
            : "options";
      const what = issue.code === "invalid_type" && issue.input === undefined ? "is required" : issue.message;
      throw new UsageError(`${field} ${what}.`, `Run \`intune-publisher ${found.name} --help\`.`);
    }
    const env = io.env ?? process.env;
    const cwd = io.cwd ?? process.cwd();
    if (noLogFile !== true) {
      runLog = new RunLog({
        ...(typeof logFile === "string" && logFile !== ""
          ? { path: resolve(cwd, logFile) }
          : { dir: defaultLogDir(env) }),
        command: found.name,
        version: packageVersion(),
        onError: (m) => stderr.write(`warning: ${m}\n`),
        secrets,
      });
    }
    const ctx: CommandContext = {
      stdout,
      stderr,
      stdin: io.stdin ?? process.stdin,
      env,
      cwd,
      signal: controller.signal,
      output: (output as OutputFormat | undefined) ?? "table",
      verbose: verbose === true,
      ...(runLog === undefined ? {} : { runLog }),
      secrets,
    };
    const code = await command.run(ctx, result.data);
    if (runLog?.written) {
      runLog.record("info", "finished", { exitCode: code });
      stderr.write(`Log file: ${runLog.path}\n`);
    }
    return code;
  } catch (e) {
    return reportError(stderr, e, runLog);
  } finally {
    runLog?.close();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

/** After the first SIGINT or SIGTERM, the run has this long to stop by itself (docs/cli.md#signals). */
export const STOP_GRACE_MS = 10_000;

/**
 * The first signal aborts the run (every command stops at its next await of the signal and exits 130); a second
 * signal, or a run still going STOP_GRACE_MS later (stuck in something that ignores the abort, such as a blocked
 * read), ends the process by that signal at once.
 */
function stopOnSignal(signal: NodeJS.Signals, controller: AbortController, stderr: NodeJS.WritableStream): void {
  if (controller.signal.aborted) {
    endBySignal(signal, stderr, `${signal} again: ending at once.`);
    return;
  }
  const again = signal === "SIGINT" ? "Ctrl-C" : signal;
  stderr.write(`${signal}: stopping (a second ${again} ends the run at once).\n`);
  controller.abort(new PublisherError("cancelled", "Cancelled", `Cancelled by ${signal}.`));
  // Unref'd: a run that stops in time exits as usual; one that stays alive is ended.
  setTimeout(
    () => endBySignal(signal, stderr, `the run did not stop within ${STOP_GRACE_MS / 1000} s of ${signal}: ending it.`),
    STOP_GRACE_MS,
  ).unref();
}

/**
 * Ends the process by `signal` with its default action (the shell sees 128 + its number: 130 for SIGINT, 143 for
 * SIGTERM). process.exit() is not enough: it waits for the thread pool, which a blocked read holds forever.
 */
function endBySignal(signal: NodeJS.Signals, stderr: NodeJS.WritableStream, message: string): void {
  stderr.write(`error: ${message}\n`);
  process.removeAllListeners("SIGINT");
  process.removeAllListeners("SIGTERM");
  process.kill(process.pid, signal);
}

function reportError(stderr: NodeJS.WritableStream, e: unknown, runLog: RunLog | undefined): number {
  // The run log (when this run wrote one) records the error and is named in the hint, for a support case.
  const logged = runLog?.written === true ? runLog : undefined;
  const logHint = logged ? `The log of this run (for a support case): ${logged.path}` : undefined;
  if (isPublisherError(e)) {
    logged?.record("error", e.message, { code: e.code, kind: e.kind, exitCode: EXIT_CODES[e.kind] });
    stderr.write(`error: ${e.message}\n`);
    const hint = [e.hint, logHint].filter(Boolean).join(" ");
    if (hint) stderr.write(`hint: ${hint}\n`);
    if (e.kind === "internal" && e.cause instanceof Error) stderr.write(`${e.cause.stack ?? e.cause.message}\n`);
    return EXIT_CODES[e.kind];
  }
  const err = e instanceof Error ? e : new Error(String(e));
  logged?.record("error", `internal error: ${err.message}`, { exitCode: EXIT_CODES.internal });
  stderr.write(`error: internal error (a bug in intune-publisher): ${err.message}\n`);
  if (err.stack) stderr.write(err.stack + "\n");
  stderr.write(`hint: please report it with the command you ran.${logHint ? ` ${logHint}` : ""}\n`);
  return EXIT_CODES.internal;
}
