import { z } from "zod";
import { rollback } from "../../publish/rollback.js";
import type { RollbackResult } from "../../publish/rollback.js";
import { rollbackReport } from "../../publish/rollback-report.js";
import type { ReportBlock } from "../../publish/rollback-report.js";
import { defineCommand } from "../command.js";
import type { CommandContext } from "../command.js";
import { EXIT_CODES } from "../exit-codes.js";
import { argument, option } from "../options.js";
import { renderTable } from "../output.js";
import { withGraph } from "../session.js";
import { tenantOptions } from "../tenant-options.js";

function printResult(ctx: CommandContext, r: RollbackResult): void {
  const { title, blocks } = rollbackReport(r);
  const render = (b: ReportBlock): string => (b.kind === "text" ? b.text : renderTable(b.rows));
  const [versions, ...rest] = blocks;
  const lines = [title, render(versions!), ...rest.flatMap((b) => ["", render(b)])];
  ctx.stdout.write(lines.join("\n") + "\n");
}

export default defineCommand({
  description: [
    "Makes a retained version (kept by updateStrategy supersede) the current one again: the target app gets the",
    "current app's whole assignment set (its own assignments on other targets are kept), the current app is",
    "unassigned, every Enrollment Status Page profile listing the current app lists the target instead (other apps",
    "of the profile are kept), and the ownership stamps record the move (the current app is marked rolled back).",
    "Relationships are not changed. Afterwards `publish` of the same definition has nothing to do; a new version",
    "supersedes the rolled-back-to app. Reference: docs/cli.md, docs/lifecycle.md.",
  ].join("\n"),
  notes: [
    "A run that stops half-way says what it did; running it again with --to finishes the move.",
    `Exit codes: ${EXIT_CODES.ok} done; ${EXIT_CODES.input} unknown app or version, or nothing to roll back to;`,
    `${EXIT_CODES.usage} an ambiguous name or version; ${EXIT_CODES.permission} a missing permission; ${EXIT_CODES.graph} a Graph error;`,
    "others as in docs/cli.md.",
  ].join("\n"),
  options: z.object({
    app: argument(z.string().min(1), {
      value: "APP",
      help: "a definition id, or the app id or display name of an app intune-publisher published",
    }),
    to: option(z.string().min(1).optional(), {
      value: "VERSION",
      help:
        "the version to roll back to (the stamp's version, or an app id); default: the newest previous version " +
        "that was not rolled back itself",
    }),
    dryRun: option(z.boolean().default(false), { help: "print what would move: nothing is written" }),
    ...tenantOptions.shape,
  }),
  async run(ctx, o) {
    const { result, target } = await withGraph(
      ctx,
      o,
      o.dryRun ? "Planning a rollback in" : "Rolling back in",
      async (s, t) => ({
        result: await rollback({
          graph: s.graph,
          app: o.app,
          ...(o.to === undefined ? {} : { to: o.to }),
          dryRun: o.dryRun,
          signal: ctx.signal,
        }),
        target: t.info,
      }),
    );
    for (const w of result.rollback.warnings) ctx.stderr.write(`warning: ${w}\n`);
    if (ctx.output === "json") ctx.stdout.write(JSON.stringify({ ...result, target }, null, 2) + "\n");
    else printResult(ctx, result);
    return 0;
  },
});
