import { parseArgs } from "node:util";
import { resolve } from "node:path";
import { z } from "zod";
import { defaultLogDir, RunLog } from "../clients/http/log-file.js";
import { SecretRegistry } from "../clients/http/redact.js";
import { packageVersion } from "../clients/http/user-agent.js";
import { isPublisherError, PublisherError, reportedCode } from "../core/errors.js";
import type { Command, CommandContext } from "./command.js";
import { COMMANDS, loadCommand } from "./commands/index.js";
import { EXIT_CODES } from "./exit-codes.js";
import { commandHelp, groupCommands, groupHelp, PROGRAM, suggestCommand, topHelp } from "./help.js";
import { argumentSpecs, option, optionSpecs, parseArgsOptions, specsOf } from "./options.js";
import type { Spec } from "./options.js";
import { SafeOutput } from "./safe-output.js";

const group = "Global options";

/** The options every command takes. */
export const globalOptions = z.object({
  output: option(
    z
      .enum(["json", "yaml", "table", "csv"], {
        error: (i) => `must be json, yaml, table or csv, not "${String(i.input)}"`,
      })
      .default("table"),
    {
      short: "o",
      value: "json|yaml|table|csv",
      group,
      help: "data format on stdout (default: table; yaml and csv where a command offers them)",
    },
  ),
  help: option(z.boolean().default(false), { short: "h", group, help: "help for any command" }),
  verbose: option(z.boolean().default(false), { group, help: "more detail on stderr" }),
  logFile: option(z.string().optional(), {
    value: "PATH",
    group,
    help:
      "where commands that call Graph or Entra ID log (default: a run log in the user's state folder, " +
      "intune-publisher/logs; the last 20 are kept)",
  }),
  noLogFile: option(z.boolean().default(false), { group, help: "no log file" }),
});
const GLOBAL_SPECS = specsOf(globalOptions);

class UsageError extends PublisherError {
  constructor(message: string, hint?: string) {
    super("Usage", message, hint === undefined ? {} : { hint });
  }
}

/** Finds the longest command name matching the leading arguments. */
function findCommand(argv: string[]): { name: string; rest: string[] } | undefined {
  for (let n = Math.min(argv.length, 3); n >= 1; n--) {
    const name = argv.slice(0, n).join(" ");
    if (Object.hasOwn(COMMANDS, name)) return { name, rest: argv.slice(n) };
  }
  return undefined;
}

/** An unknown command: what was probably meant, and (inside a group) the group's commands. */
function unknownCommand(argv: string[]): UsageError {
  const [first = "", second = ""] = argv;
  const members = groupCommands(first);
  const suggestion = suggestCommand(argv);
  const hint = [
    suggestion !== undefined && suggestion !== first ? `Did you mean \`${PROGRAM} ${suggestion}\`?` : undefined,
    members.length > 0 ? `The ${first} commands: ${members.join(", ")}.` : undefined,
    `Run \`${PROGRAM} --help\` to list the commands.`,
  ];
  const what = members.length > 0 ? `${first} ${second}` : first;
  return new UsageError(`Unknown command "${what}".`, hint.filter(Boolean).join(" "));
}

/** A schema issue as a sentence about the flag or argument it concerns. */
function issueText(issue: z.core.$ZodIssue, specs: Spec[]): string {
  const key = String(issue.path[0] ?? "");
  const spec = specs.find((s) => s.key === key);
  const field =
    spec === undefined
      ? "options"
      : spec.kind === "option"
        ? `--${spec.flag}`
        : `Argument ${argumentSpecs(specs).indexOf(spec) + 1 + (spec.rest ? Number(issue.path[1] ?? 0) : 0)}`;
  const what = issue.code === "invalid_type" && issue.input === undefined ? "is required" : issue.message;
  return `${field} ${what}.`;
}

/** The parsed flags and arguments as the schema's input (camelCase keys). */
function inputOf(
  specs: Spec[],
  values: Record<string, unknown>,
  positionals: string[],
  name: string,
): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  for (const o of optionSpecs(specs)) if (values[o.flag] !== undefined) input[o.key] = values[o.flag];
  const args = argumentSpecs(specs);
  args.forEach((a, i) => {
    if (a.rest) input[a.key] = positionals.slice(i);
    else if (positionals[i] !== undefined) input[a.key] = positionals[i];
  });
  if (!args.some((a) => a.rest) && positionals.length > args.length)
    throw new UsageError(`Unexpected argument "${positionals[args.length]}".`, `Run \`${PROGRAM} ${name} --help\`.`);
  return input;
}

function parse<O extends z.ZodObject>(schema: O, specs: Spec[], input: unknown, name: string): z.output<O> {
  const result = schema.safeParse(input);
  if (!result.success)
    throw new UsageError(issueText(result.error.issues[0]!, specs), `Run \`${PROGRAM} ${name} --help\`.`);
  return result.data;
}

/** Parses a command's arguments: global options, then the command's own, both from their declarations. */
function parseCommandLine(
  name: string,
  command: Command,
  args: string[],
): { globals: z.output<typeof globalOptions>; options: z.output<z.ZodObject> } {
  const specs = specsOf(command.options);
  const clash = optionSpecs(specs).find((s) => GLOBAL_SPECS.some((g) => g.key === s.key));
  if (clash) throw new Error(`The command ${name} declares the global option --${clash.flag}.`);
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: { ...parseArgsOptions(GLOBAL_SPECS), ...parseArgsOptions(specs) },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    throw new UsageError(
      `${(e as Error).message.replace(/\. To specify.*$/s, "")}.`,
      `Run \`${PROGRAM} ${name} --help\`.`,
    );
  }
  const values: Record<string, unknown> = parsed.values;
  if (values["help"] === true) return { globals: { ...globalOptions.parse({}), help: true }, options: {} };
  const globals = parse(globalOptions, GLOBAL_SPECS, inputOf(GLOBAL_SPECS, values, [], name), name);
  const options = parse(command.options, specs, inputOf(specs, values, parsed.positionals, name), name);
  return { globals, options };
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
  const isHelp = (a: string | undefined): boolean => a === "--help" || a === "-h";
  try {
    if (argv.length === 0 || (argv.length === 1 && isHelp(argv[0]))) {
      stdout.write(topHelp(GLOBAL_SPECS) + "\n");
      return argv.length === 0 ? EXIT_CODES.usage : EXIT_CODES.ok;
    }
    if (argv[0] === "--version" || argv[0] === "-v") {
      stdout.write(packageVersion() + "\n");
      return EXIT_CODES.ok;
    }
    const found = findCommand(argv);
    if (!found) {
      // A group alone (`apps`, `apps --help`) lists its commands.
      if (groupCommands(argv[0]!).length > 0 && (argv[1] === undefined || argv[1].startsWith("-"))) {
        stdout.write(groupHelp(argv[0]!) + "\n");
        return argv.slice(1).some(isHelp) ? EXIT_CODES.ok : EXIT_CODES.usage;
      }
      throw unknownCommand(argv);
    }
    const command = await loadCommand(found.name);
    const { globals, options } = parseCommandLine(found.name, command, found.rest);
    if (globals.help) {
      stdout.write(commandHelp(found.name, command, GLOBAL_SPECS) + "\n");
      return EXIT_CODES.ok;
    }
    const env = io.env ?? process.env;
    const cwd = io.cwd ?? process.cwd();
    if (!globals.noLogFile) {
      runLog = new RunLog({
        ...(globals.logFile !== undefined && globals.logFile !== ""
          ? { path: resolve(cwd, globals.logFile) }
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
      output: globals.output,
      verbose: globals.verbose,
      ...(runLog === undefined ? {} : { runLog }),
      secrets,
    };
    const code = await command.run(ctx, options);
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
  controller.abort(new PublisherError("Cancelled", `Cancelled by ${signal}.`));
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
    logged?.record("error", e.message, {
      code: reportedCode(e),
      errorCode: e.code,
      kind: e.kind,
      exitCode: EXIT_CODES[e.kind],
    });
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
