import { createInterface } from "node:readline/promises";
import { z } from "zod";
import { PublisherError } from "../../core/errors.js";
import type { Removal, RemovalResult } from "../../publish/remove.js";
import { removeApps } from "../../publish/remove.js";
import { removalReport } from "../../publish/removal-report.js";
import type { TargetInfo } from "../../publish/target.js";
import { defineCommand } from "../command.js";
import type { CommandContext } from "../command.js";
import { EXIT_CODES } from "../exit-codes.js";
import { argument, option } from "../options.js";
import { renderTable } from "../output.js";
import { withGraph } from "../session.js";
import { tenantOptions } from "../tenant-options.js";

/** What the removal changes, for people (the dry run's output and the confirmation's text). */
export function describeRemoval(r: Removal): string {
  return removalReport(r, true)
    .blocks.map((b) => (b.kind === "text" ? b.text : renderTable(b.rows)))
    .join("\n\n");
}

function printResult(ctx: CommandContext, result: RemovalResult & { target: TargetInfo }): void {
  if (ctx.output === "json") {
    ctx.stdout.write(JSON.stringify(result, null, 2) + "\n");
    return;
  }
  const { title } = removalReport(result.removal, result.dryRun);
  ctx.stdout.write(`${title}\n${describeRemoval(result.removal)}\n`);
}

/** Asks on the terminal; only "y" or "yes" goes on (end of input counts as no; Ctrl-C cancels). */
async function confirm(ctx: CommandContext, r: Removal): Promise<boolean> {
  const n = r.apps.length;
  ctx.stderr.write(`This removal will change the tenant as follows:\n${describeRemoval(r)}\n`);
  for (const w of r.warnings) ctx.stderr.write(`warning: ${w}\n`);
  const rl = createInterface({ input: ctx.stdin ?? process.stdin, output: ctx.stderr, terminal: false });
  try {
    const answer = await new Promise<string>((resolve, reject) => {
      rl.once("close", () => resolve(""));
      rl.question(`Delete ${n} app${n === 1 ? "" : "s"} as listed? Type "yes" to go on: `, { signal: ctx.signal }).then(
        resolve,
        reject,
      );
    });
    return /^(y|yes)$/i.test(answer.trim());
  } catch (e) {
    if (ctx.signal.aborted)
      throw new PublisherError("Cancelled", "Cancelled while asking for confirmation: nothing was removed.");
    throw e;
  } finally {
    rl.close();
  }
}

export default defineCommand({
  description: [
    "Before deleting, it removes what Intune would refuse the delete for, and what would be left behind: the",
    "supersedence and dependency links of other apps to the app and its own links, its place in Enrollment Status",
    "Page profiles, and its assignments; then it deletes the apps, newest first. Everything is read and planned",
    "first; the plan is shown, and on a terminal you confirm it. Reference: docs/cli.md, docs/lifecycle.md.",
  ].join("\n"),
  notes: [
    "A run that stops half-way says what it did; running it again finishes it.",
    `Exit codes: ${EXIT_CODES.ok} removed (or planned with --dry-run); ${EXIT_CODES.input} no such app;`,
    `${EXIT_CODES.usage} ambiguous name, an app not ours without --force, foreign links without --unlink-foreign, or no`,
    `terminal and no --yes; ${EXIT_CODES.cancelled} not confirmed; ${EXIT_CODES.permission} a missing permission; ${EXIT_CODES.graph} a Graph error.`,
  ].join("\n"),
  options: z.object({
    app: argument(z.string().min(1), {
      value: "ID|NAME",
      help:
        "an app id, a display name (case-insensitive) or a definition id; it must name exactly one app, or, with " +
        "--all-versions, a definition (its id, or the id or name of one of its apps) whose versions are all removed",
    }),
    allVersions: option(z.boolean().default(false), { help: "remove every version of the definition" }),
    dryRun: option(z.boolean().default(false), {
      help: "print what would change (apps, links, ESP profiles, assignments): nothing is written",
    }),
    yes: option(z.boolean().default(false), {
      help: "do not ask (scripts); without a terminal and without --yes nothing is removed (exit 64)",
    }),
    force: option(z.boolean().default(false), {
      help: "also remove an app intune-publisher did not publish (no ownership stamp)",
    }),
    unlinkForeign: option(z.boolean().default(false), {
      help:
        "also remove links that apps intune-publisher did not publish have to the app (else such links stop the " +
        "removal, naming them)",
    }),
    ...tenantOptions.shape,
  }),
  async run(ctx, o) {
    const dryRun = o.dryRun;
    const ask = !dryRun && !o.yes;
    // Refused before any call: a script must say --yes, a person answers the question.
    if (ask && (ctx.stdin ?? process.stdin).isTTY !== true)
      throw new PublisherError(
        "ConfirmationNeeded",
        "apps remove deletes apps and asks for a confirmation, but standard input is not a terminal. Nothing was removed.",
        { hint: "Pass --yes to remove without asking (scripts, CI), or --dry-run to see what would change." },
      );
    const result = await withGraph(ctx, o, dryRun ? "Planning a removal in" : "Removing apps from", async (s, t) => ({
      ...(await removeApps({
        graph: s.graph,
        app: o.app,
        allVersions: o.allVersions,
        force: o.force,
        unlinkForeign: o.unlinkForeign,
        dryRun,
        signal: ctx.signal,
        ...(ask ? { confirm: (r: Removal) => confirm(ctx, r) } : {}),
      })),
      target: t.info,
    }));
    if (!ask) for (const w of result.removal.warnings) ctx.stderr.write(`warning: ${w}\n`);
    printResult(ctx, result);
    return 0;
  },
});
