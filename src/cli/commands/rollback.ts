import { z } from "zod";
import { rollback } from "../../publish/rollback.js";
import type { RollbackResult } from "../../publish/rollback.js";
import { defineCommand } from "../command.js";
import type { CommandContext } from "../command.js";
import { EXIT_CODES } from "../exit-codes.js";
import { renderTable } from "../output.js";
import { settingsFlags, settingsSchema } from "./connect-test.js";
import { withGraph } from "./publish.js";

const ACTION_TEXT = { add: "add", change: "change", keep: "keep", remove: "remove" } as const;

function printResult(ctx: CommandContext, r: RollbackResult): void {
  const p = r.rollback;
  const title = `Rollback of ${p.definitionId} (${p.displayName})${r.dryRun ? " — dry run: nothing was changed" : ""}`;
  const lines = [
    title,
    renderTable([
      ["From", p.from.version, `app ${p.from.appId}`],
      ["To", p.to.version, `app ${p.to.appId}`],
    ]),
  ];
  if (p.alreadyCurrent) {
    lines.push(
      "",
      `${p.to.version} is already the current version of ${p.definitionId}: ${p.stamps.length > 0 ? "only its stamp is updated" : "nothing to do"}.`,
    );
  } else {
    const version = (appId: string) => (appId === p.to.appId ? p.to.version : p.from.version);
    lines.push(
      "",
      p.assignments.length === 0
        ? "Assignments: none to move."
        : renderTable([
            ["Assignments", "App id", "Version", "Change"],
            ...p.assignments.map((a) => [a.label, a.appId, version(a.appId), ACTION_TEXT[a.action]]),
          ]),
      "",
      p.esp.length === 0
        ? "Enrollment Status Page profiles: none list the current app."
        : renderTable([
            ["Enrollment Status Page profile", "Change"],
            ...p.esp.map((c) => [c.displayName, `${c.remove.join(", ")} → ${c.add.join(", ")}`]),
          ]),
    );
  }
  if (p.stamps.length > 0)
    lines.push(
      "",
      renderTable([
        ["Ownership stamp", "Version", "After"],
        ...p.stamps.map((s) => [
          s.appId,
          s.version,
          s.rolledBack
            ? "rolled back"
            : `current; records ${s.targets.length} assignment target(s), ${s.esp.length} ESP profile(s)`,
        ]),
      ]),
    );
  if (!p.alreadyCurrent)
    lines.push(
      "",
      `Relationships are left as they are (${p.from.version} may still supersede ${p.to.version}; without assignments that has no effect).`,
    );
  ctx.stdout.write(lines.join("\n") + "\n");
}

export default defineCommand({
  name: "rollback",
  summary: "Move an app's assignments and ESP membership back to a retained previous version",
  usage: "rollback APP [--to VERSION] [--dry-run] [--profile P] [--cloud C] [--output json]",
  details: [
    "APP: a definition id, or the app id or display name of an app intune-publisher published.",
    "Makes a retained version (kept by updateStrategy supersede) the current one again: the target app gets the",
    "current app's whole assignment set (its own assignments on other targets are kept), the current app is",
    "unassigned, every Enrollment Status Page profile listing the current app lists the target instead (other apps",
    "of the profile are kept), and the ownership stamps record the move (the current app is marked rolled back).",
    "Relationships are not changed. Afterwards `publish` of the same definition has nothing to do; a new version",
    "supersedes the rolled-back-to app. Reference: docs/cli.md, docs/lifecycle.md.",
    "",
    "Options:",
    "      --to VERSION   the version to roll back to (the stamp's version, or an app id); default: the newest",
    "                     previous version that was not rolled back itself",
    "      --dry-run      print what would move: nothing is written",
    "  -p, --profile NAME, --config FILE, --cloud C, --tenant T, --client-id ID, …   as for `connect test`",
    "      --state DIR    the emulator state folder to look in for a running local tenant",
    "",
    "A run that stops half-way says what it did; running it again with --to finishes the move.",
    `Exit codes: ${EXIT_CODES.ok} done; ${EXIT_CODES.input} unknown app or version, or nothing to roll back to;`,
    `${EXIT_CODES.usage} an ambiguous name or version; ${EXIT_CODES.permission} a missing permission; ${EXIT_CODES.graph} a Graph error;`,
    "others as in docs/cli.md.",
  ].join("\n"),
  flags: { ...settingsFlags, to: { type: "string" }, "dry-run": { type: "boolean" } },
  positionals: ["app"],
  schema: settingsSchema.extend({
    app: z.string().min(1),
    to: z.string().min(1).optional(),
    "dry-run": z.boolean().optional(),
  }),
  async run(ctx, o) {
    const { result, target } = await withGraph(ctx, o, async (s, t) => ({
      result: await rollback({
        graph: s.graph,
        app: o.app,
        ...(o.to === undefined ? {} : { to: o.to }),
        dryRun: o["dry-run"] === true,
        signal: ctx.signal,
      }),
      target: t.info,
    }));
    for (const w of result.rollback.warnings) ctx.stderr.write(`warning: ${w}\n`);
    if (ctx.output === "json") ctx.stdout.write(JSON.stringify({ ...result, target }, null, 2) + "\n");
    else printResult(ctx, result);
    return 0;
  },
});
