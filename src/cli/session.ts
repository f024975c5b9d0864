/** Shared command plumbing for the commands that call Graph: the request logger and a signed-in Graph session. */
import { teeLogger } from "../clients/http/log-file.js";
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

/** Resolves the tenant (local when none is configured), signs in, runs `fn` with a Graph session, cleans up. */
export async function withGraph<T>(
  ctx: CommandContext,
  o: TenantOptions,
  fn: (session: GraphSession, target: ResolvedTarget, logger: HttpLogger | undefined) => Promise<T>,
): Promise<T> {
  const logger = commandLogger(ctx);
  const target = await resolveTarget(targetInput(ctx, o));
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
