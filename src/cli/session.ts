/** Shared command plumbing for the commands that call Graph: the request logger and a signed-in Graph session. */
import { RunLog, teeLogger } from "../clients/http/log-file.js";
import type { HttpLogger } from "../clients/http/types.js";
import { openGraphSession, resolveTarget } from "../publish/target.js";
import type { GraphSession, ResolvedTarget } from "../publish/target.js";
import type { CommandContext } from "./command.js";
import { targetInput } from "./tenant-options.js";
import type { TenantOptions } from "./tenant-options.js";

/** Every request and answer goes, redacted, to the run log (main.ts) and with --verbose to stderr. */
export function commandLogger(ctx: CommandContext): HttpLogger | undefined {
  return teeLogger(
    ctx.verbose
      ? {
          info: (line: string) => ctx.stderr.write(`log: ${line}\n`),
          warning: (line: string) => ctx.stderr.write(`log: warning: ${line}\n`),
        }
      : undefined,
    ctx.runLog,
  );
}

/** The run log file the history names for this command's runs: its path, or null with `--no-log-file`. */
export function runLogFile(ctx: CommandContext): string | null {
  return ctx.runLog instanceof RunLog ? ctx.runLog.path : null;
}

/**
 * Which tenant `target` is, for a line on stderr: the tenant and where its settings came from; for a local tenant
 * started in-process, that it starts from the default seed and is gone when the command ends.
 */
export function tenantWords(target: Pick<ResolvedTarget, "info" | "inProcess">): string {
  const i = target.info;
  if (target.inProcess)
    return `a local tenant started in-process for this command (tenant ${i.tenantId}; it starts from the default seed and is gone when the command ends: run \`intune-publisher emulator start\` to keep one)`;
  if (i.cloud === "local") return `the ${i.source} (tenant ${i.tenantId})`;
  return `tenant ${i.tenantId} (${i.cloud} cloud, ${i.source})`;
}

/**
 * Resolves the tenant (local when none is configured), says on stderr which one the command works on (`action`,
 * e.g. "Listing the apps of" + the tenant), signs in, runs `fn` with a Graph session, cleans up.
 */
export async function withGraph<T>(
  ctx: CommandContext,
  o: TenantOptions,
  action: string,
  fn: (session: GraphSession, target: ResolvedTarget, logger: HttpLogger | undefined) => Promise<T>,
): Promise<T> {
  const logger = commandLogger(ctx);
  // "Using the running local tenant (…)" is said by the action line instead.
  const target = await resolveTarget(
    targetInput(ctx, o, (line) => {
      if (!line.startsWith("Using the ")) ctx.stderr.write(`${line}\n`);
    }),
  );
  ctx.stderr.write(`${action} ${tenantWords(target)}.\n`);
  try {
    const session = await openGraphSession(target, {
      env: ctx.env,
      logger,
      secrets: ctx.secrets,
      onWarning: (line) => ctx.stderr.write(`warning: ${line}\n`),
    });
    try {
      return await fn(session, target, logger);
    } finally {
      await session.close();
    }
  } finally {
    await target.close();
  }
}
