import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { z } from "zod";
import { loadAppDefinitions } from "../../definitions/load.js";
import { defaultLogDir } from "../../clients/http/log-file.js";
import { PublisherError } from "../../core/errors.js";
import { changeText } from "../../core/plan/changes.js";
import type { PlanItem } from "../../core/plan/plan.js";
import { isNewAppRef, itemHasChanges, NEW_APP_PREFIX } from "../../core/plan/targeting.js";
import { describeLink } from "../../core/targeting/relationships.js";
import { problemError } from "../../publish/connect/test-connection.js";
import { testResolvedTarget } from "../../publish/connect/test-target.js";
import type { ConnectionReport } from "../../publish/connect/test-connection.js";
import { describeFailure, publish, publishError } from "../../publish/publish.js";
import type { AppOutcome, PublishEvent, PublishResult } from "../../publish/publish.js";
import type { TargetInfo } from "../../publish/target.js";
import { defineCommand } from "../command.js";
import type { CommandContext } from "../command.js";
import { connectionTables } from "../connection-report.js";
import { argument, option } from "../options.js";
import { renderTable } from "../output.js";
import { fitStatus, formatBytes, knownColumns, LineThrottle, progressText, RateMeter } from "../progress.js";
import { clearStatusLine, drawStatusLine } from "../safe-output.js";
import { runLogFile, withGraph } from "../session.js";
import { EXIT_CODES } from "../exit-codes.js";
import { recordPublishRun } from "../../publish/sync/history.js";
import { homeFolder, userStateDir } from "../../core/config/dirs.js";
import { tenantOptions } from "../tenant-options.js";
import { tenantsOptions } from "../tenants.js";
import { publishAcrossTenants } from "../tenants-publish.js";

/** `--detailed-exitcode`: success, and the plan had changes (made, or with --dry-run to make). */
export const CHANGES_EXIT_CODE = 2;

const ACTION_TEXT: Record<PlanItem["action"], string> = {
  create: "create",
  "update-metadata": "update metadata",
  "new-version": "new version",
  nothing: "nothing",
};

function actionText(i: { action: PlanItem["action"]; strategy?: string | undefined }): string {
  return i.action === "new-version" ? `new version (${i.strategy})` : ACTION_TEXT[i.action];
}

function outcomeText(o: AppOutcome | undefined, dryRun: boolean): string {
  if (dryRun || o === undefined) return "planned";
  if (o.status === "ok") return o.action === "nothing" ? "up to date" : "done";
  return o.compensation?.deleted ? "failed (new app deleted)" : o.compensation ? "failed (app left)" : "failed";
}

/** The JSON document: which tenant, the plan without PATCH bodies (icons and scripts are large), outcomes, its apps. */
function jsonOf(r: PublishResult, connection: ConnectionReport | undefined, target: TargetInfo): unknown {
  return {
    target,
    dryRun: r.dryRun,
    ...(connection === undefined ? {} : { connection }),
    plan: r.plan.items.map(({ patch: _patch, ...rest }) => rest),
    warnings: r.plan.warnings,
    untouched: r.plan.untouched,
    outcomes: r.outcomes,
    tenant: r.tenant,
  };
}

/**
 * The app the row is about: for a create or supersede the new app (its id once made, "new" before), else the app
 * updated in place.
 */
function appIdText(i: PlanItem, o: AppOutcome | undefined): string {
  const fresh = i.action === "create" || i.strategy === "supersede";
  if (!fresh) return o?.appId ?? i.appId ?? "-";
  if (o === undefined) return "new";
  return o.status === "ok" && o.appId !== undefined ? o.appId : "-";
}

function printConnection(ctx: CommandContext, report: ConnectionReport): void {
  ctx.stdout.write(["Connection test", ...connectionTables(report)].join("\n") + "\n\n");
}

function printResult(ctx: CommandContext, r: PublishResult, source: string): void {
  const rows = r.plan.items.map((i, n) => {
    const o = r.outcomes[n];
    return [
      i.id,
      i.version,
      actionText(i),
      outcomeText(o, r.dryRun),
      appIdText(i, o),
      [...i.reasons, ...(i.otherApps.length > 0 ? [`also carrying this id: ${i.otherApps.join(", ")}`] : [])].join(
        "; ",
      ),
    ];
  });
  const lines = [
    r.dryRun ? "Plan (dry run: nothing was changed)" : "Publish",
    renderTable([["App", "Version", "Action", "Result", "App id", "Reasons"], ...rows]),
    "",
    `The tenant (${source}) holds:`,
  ];
  lines.push(
    r.tenant.length === 0
      ? "  none of these apps"
      : renderTable([
          ["App", "App id", "Version", "State", "Content version", "Current"],
          ...r.tenant.map((a) => [
            a.id,
            a.appId,
            a.version,
            a.publishingState,
            a.committedContentVersion ?? "-",
            a.current ? "yes" : "no (kept)",
          ]),
        ]),
  );
  const changes = r.plan.items.filter((i) => (i.changes?.length ?? 0) > 0);
  if (changes.length > 0)
    lines.push(
      "",
      "Changed properties (tenant → definition)",
      ...changes.flatMap((i) => [`  ${i.id}`, ...(i.changes ?? []).map((c) => `    ${changeText(c)}`)]),
    );
  const targeting = targetingLines(r);
  if (targeting.length > 0) lines.push("", "Targeting", ...targeting);
  lines.push("", summaryLine(r));
  const untouched = r.plan.untouched;
  lines.push(
    "",
    `Not touched: ${untouched.foreign} app(s) without the intune-publisher stamp${untouched.invalidStamps.length > 0 ? `, ${untouched.invalidStamps.length} with an unreadable stamp` : ""}.`,
  );
  ctx.stdout.write(lines.join("\n") + "\n");
}

/** Per app with targeting changes: assignments, relationships, ESP, retention, problems (one line each). */
function targetingLines(r: PublishResult): string[] {
  const out: string[] = [];
  for (const i of r.plan.items) {
    const t = i.targeting;
    if (t === undefined) continue;
    const name = (id: string): string =>
      t.appNames[id.toLowerCase()] ?? (isNewAppRef(id) ? `the new app of ${id.slice(NEW_APP_PREFIX.length)}` : id);
    const rows: string[] = [];
    const a = t.assignments;
    const asg = [
      ...a.add.map((x) => `+ ${x.label}`),
      ...a.change.map((x) => `~ ${x.label}`),
      ...a.remove.map((x) => `- ${x.label}`),
    ];
    if (asg.length > 0) rows.push(`assignments: ${asg.join("; ")}`);
    if (a.keptForeign.length > 0 && (a.changed || asg.length > 0))
      rows.push(`kept (made outside intune-publisher): ${a.keptForeign.map((x) => x.label).join("; ")}`);
    if (t.previousAssignments)
      rows.push(
        `previous version ${name(t.previousAssignments.appId)}: assignments removed (${t.previousAssignments.remove.map((x) => x.label).join("; ")})`,
      );
    const rel = t.relationships;
    if (rel?.changed)
      rows.push(
        `relationships: ${[
          ...rel.add.map((l) => `+ ${describeLink(l, name)}`),
          ...rel.change.map((l) => `~ ${describeLink(l, name)}`),
          ...rel.remove.map((l) => `- ${describeLink(l, name)}`),
          ...(rel.keep.length > 0 ? [`${rel.keep.length} kept`] : []),
        ].join("; ")}`,
      );
    for (const e of t.esp)
      rows.push(
        `ESP "${e.displayName}": ${[...e.add.map((x) => `+ ${name(x)}`), ...e.remove.map((x) => `- ${name(x)}`)].join(", ")}`,
      );
    for (const d of t.detach)
      rows.push(
        `supersedence graph: take version ${d.version} (${d.appId}) out of it (kept; Intune's limit is 10 apps)`,
      );
    if (t.dependents.length > 0)
      rows.push(`dependents: ${t.dependents.map(name).join(", ")} will depend on the new version`);
    for (const d of t.retention) rows.push(`retention: delete version ${d.version} (${d.appId})`);
    for (const b of t.retentionBlocked) rows.push(`retention: keep version ${b.version} (${b.appId}): ${b.reason}`);
    for (const p of t.problems) rows.push(`refused: ${p}`);
    if (rows.length > 0) out.push(`  ${i.id} (${name(t.appId)})`, ...rows.map((x) => `    ${x}`));
  }
  return out;
}

/** Assignments an item removes: its app's, and the previous version's when a supersede moves them. */
function removedAssignments(i: PlanItem): number {
  return (i.targeting?.assignments.remove.length ?? 0) + (i.targeting?.previousAssignments?.remove.length ?? 0);
}

/** One line: how many apps per action, and the targeting changes in all. */
function summaryLine(r: PublishResult): string {
  const n = (f: (i: PlanItem) => boolean) => r.plan.items.filter(f).length;
  const sum = (f: (i: PlanItem) => number) => r.plan.items.reduce((s, i) => s + f(i), 0);
  const parts = [
    `${n((i) => i.action === "create")} to create`,
    `${n((i) => i.action === "new-version")} new version(s)`,
    `${n((i) => i.action === "update-metadata")} to update`,
    `${n((i) => i.action === "nothing")} up to date`,
    `assignments +${sum((i) => i.targeting?.assignments.add.length ?? 0)} ~${sum((i) => i.targeting?.assignments.change.length ?? 0)} -${sum(removedAssignments)}`,
    `relationship changes ${sum((i) => (i.targeting?.relationships?.changed ? 1 : 0))}`,
    `ESP profile changes ${sum((i) => i.targeting?.esp.length ?? 0)}`,
    `versions to delete ${sum((i) => i.targeting?.retention.length ?? 0)}`,
  ];
  const refused = n((i) => (i.targeting?.problems.length ?? 0) > 0);
  // A real run counts what it did: an app that failed or was refused changed nothing it reports as done.
  const pending = r.dryRun
    ? n(itemHasChanges)
    : r.plan.items.filter((i, k) => r.outcomes[k]?.status === "ok" && itemHasChanges(i)).length;
  return `${r.dryRun ? "Plan" : "Summary"}: ${parts.join(", ")}${refused > 0 ? `; ${refused} refused` : ""}. ${
    pending === 0 ? "Nothing to do." : `${pending} app(s) ${r.dryRun ? "with changes pending" : "changed"}.`
  }`;
}

/**
 * Step lines on stderr; progress of packaging and uploads with rate and time left: on a terminal, one status line
 * for every app at work (cut to the terminal's width when it is known); elsewhere a line per app every 10 % or 30 s.
 */
function progressReporter(ctx: CommandContext): { onEvent: (e: PublishEvent) => void; finish(): void } {
  const tty = ctx.stderr.isTTY === true;
  const bars = new Map<string, string>();
  /** per app and phase ("packaging", "uploading"): its rate meter and, off a terminal, its line throttle */
  const meters = new Map<string, { meter: RateMeter; throttle: LineThrottle }>();
  let drawn = false;
  let last = 0;
  const clear = (): void => {
    if (drawn) clearStatusLine(ctx.stderr);
    drawn = false;
  };
  const draw = (force = false): void => {
    if (!tty || bars.size === 0) return;
    const now = Date.now();
    if (!force && now - last < 100) return;
    last = now;
    const text = [...bars].map(([id, s]) => `${id} ${s}`).join(" | ");
    drawStatusLine(ctx.stderr, fitStatus(text, knownColumns(ctx.stderr)));
    drawn = true;
  };
  const line = (text: string): void => {
    clear();
    ctx.stderr.write(`${text}\n`);
    draw(true);
  };
  const progress = (id: string, phase: string, done: number, total: number): void => {
    const key = `${id}\u0000${phase}`;
    let m = meters.get(key);
    if (m === undefined) meters.set(key, (m = { meter: new RateMeter(), throttle: new LineThrottle() }));
    const text = `${phase} ${progressText(done, total, m.meter.sample(done, total))}`;
    if (tty) {
      bars.set(id, text);
      draw();
    } else if (m.throttle.due(done, total)) ctx.stderr.write(`${id}: ${text}\n`);
  };
  return {
    onEvent(e) {
      switch (e.type) {
        case "step":
          line(`${e.id}: ${e.detail}`);
          break;
        case "package":
          progress(e.id, "packaging", e.bytesRead, e.totalBytes);
          break;
        case "upload": {
          const u = e.event;
          if (u.type === "bytes") progress(e.id, "uploading", u.bytesDone, u.totalBytes);
          else if (u.type === "stage" && (u.stage === "commit" || u.stage === "patch" || u.stage === "verify")) {
            bars.set(e.id, u.stage === "commit" ? "committing" : "finishing");
            draw();
          } else if (u.type === "renewed") line(`${e.id}: upload URL renewed (${u.reason})`);
          else if (u.type === "resumed")
            line(
              `${e.id}: resuming an earlier upload (${u.blocksPresent} of ${u.blockCount} blocks already stored${u.source === "journal" ? ", as the journal recorded: storage refused to list them" : ""})`,
            );
          else if (u.type === "restarted") line(`${e.id}: starting the upload afresh (${u.reason})`);
          break;
        }
        case "done": {
          bars.delete(e.id);
          const o = e.outcome;
          if (o.action === "nothing") break;
          if (o.status === "ok") {
            const up = o.upload
              ? `, ${formatBytes(o.upload.bytesSent)} in ${o.upload.blocksSent} block(s), content version ${o.contentVersionId}`
              : "";
            line(`${o.id}: done (app ${o.appId}${up})`);
          } else line(describeFailure(o));
          break;
        }
      }
    },
    finish: clear,
  };
}

export default defineCommand({
  description: [
    "Reads the definitions (all problems reported with file:line:column before any call), reads the tenant's",
    "win32LobApps, finds ours by the ownership stamp in their notes, and plans per app: create, update metadata",
    "(PATCH only what differs), new version (in-place: new content on the same app; supersede: a new app, the old",
    "one superseded) or nothing, then the targeting: assignments, relationships, ESP profiles, retention. Then",
    "applies it, a few apps at a time: packages source folders, creates apps, uploads and commits the content,",
    "PATCHes; then assigns, links, updates ESP profiles and deletes versions past retention. A re-run with nothing",
    "changed makes no change in the tenant. If a step fails after an app was created, that app is deleted again",
    "(or the error says what was left). Reference: docs/publishing.md, docs/lifecycle.md.",
  ].join("\n"),
  notes: [
    "With nothing at all configured (no profiles file, no AZURE_* variable, no tenant/client/cloud flag), or with",
    "--cloud local, publish uses a running local tenant (`emulator start`), else starts one in-process for the run;",
    "a partial configuration is an error (exit 11). Reference: docs/publishing.md, docs/clouds.md.",
    `Exit codes: 0 done, 9 bad definition, 5 Graph/storage error, 6 timeout, 7 network, 11 incomplete configuration, ${CHANGES_EXIT_CODE} changes`,
    "(with --detailed-exitcode); others as in docs/cli.md.",
    "With --tenants all|TAG|NAME: the definitions published to every tenant of a tenants file, each with its",
    "overrides, each package built once (docs/tenants.md); exit code the first failed tenant's.",
  ].join("\n"),
  options: z.object({
    files: argument(z.array(z.string().min(1, "must not be empty")).default([]), {
      value: "APP.yaml…",
      help: "the app definition files (YAML or JSON)",
    }),
    dryRun: option(z.boolean().default(false), {
      help: "print the plan only (apps, assignments, relationships, ESP, retention): nothing is packaged or written",
    }),
    detailedExitcode: option(z.boolean().default(false), {
      help: `exit ${CHANGES_EXIT_CODE} (not 0) when the plan has changes (made, or to make with --dry-run)`,
    }),
    testConnection: option(z.boolean().default(false), {
      help: "run the connection test first and print its table",
    }),
    concurrency: option(
      z
        .string()
        .regex(/^[1-9]\d*$/, "must be a whole number from 1")
        .transform(Number)
        .optional(),
      { value: "N", help: "apps published at once (default 8)" },
    ),
    allowPath: option(z.array(z.string().min(1, "must not be empty")).default([]), {
      value: "DIR",
      help:
        "a folder whose files definitions may name, besides each definition's own folder (repeatable; scripts, " +
        "icon, targeting file, content: docs/app-definitions.md#paths)",
    }),
    ...tenantOptions.shape,
    ...tenantsOptions.shape,
  }),
  async run(ctx, o) {
    if (o.files.length === 0)
      throw new PublisherError("Usage", "Name at least one app definition file.", {
        hint: "Run `intune-publisher publish APP.yaml…`; examples are in examples/apps/.",
      });
    // Every definition problem is reported before anything starts (exit 9).
    const definitions = await loadAppDefinitions(o.files, { cwd: ctx.cwd, allowPaths: o.allowPath });
    if (o.tenants.length > 0) {
      if (o.testConnection)
        throw new PublisherError("Usage", "--test-connection cannot be used with --tenants.", {
          hint: "Run `intune-publisher connect test --tenants …` first: one table of tenants × permissions.",
        });
      return publishAcrossTenants(ctx, o, definitions, CHANGES_EXIT_CODE);
    }
    return withGraph(ctx, o, o.dryRun ? "Planning against" : "Publishing to", async (session, target, logger) => {
      let connection: ConnectionReport | undefined;
      if (o.testConnection) {
        const report = await testResolvedTarget(target, {
          env: ctx.env,
          signal: ctx.signal,
          secrets: ctx.secrets,
          logger,
        });
        connection = report;
        if (ctx.output === "table") printConnection(ctx, report);
        if (report.problem) throw problemError(report.problem);
      }
      const progress = progressReporter(ctx);
      let result: PublishResult;
      const startedAt = new Date().toISOString();
      try {
        result = await publish({
          graph: session.graph,
          definitions,
          dryRun: o.dryRun,
          signal: ctx.signal,
          onEvent: progress.onEvent,
          upload: { storage: { transport: session.transport.send, ...(logger === undefined ? {} : { logger }) } },
          ...(o.concurrency === undefined ? {} : { concurrency: o.concurrency }),
          // A resume journal only makes sense for a tenant that outlives this process.
          ...(!target.inProcess ? { journalDir: join(dirname(defaultLogDir(ctx.env)), "uploads") } : {}),
        });
      } finally {
        progress.finish();
      }
      const failure = publishError(result);
      const changes = result.plan.items.some(itemHasChanges);
      const exitCode = failure ? EXIT_CODES[failure.kind] : o.detailedExitcode && changes ? CHANGES_EXIT_CODE : 0;
      // the run history `sync` keeps (docs/sync.md "History"): a publish run is recorded there too
      recordPublishRun(
        userStateDir(ctx.env, process.platform, homeFolder(ctx.env, process.platform, homedir)),
        result,
        {
          startedAt,
          finishedAt: new Date().toISOString(),
          trigger: "manual",
          cancelled: ctx.signal.aborted,
          logFile: runLogFile(ctx),
          exitCode,
          tenantId: target.info.tenantId,
        },
      );
      for (const w of result.plan.warnings) ctx.stderr.write(`warning: ${w}\n`);
      if (ctx.output === "json")
        ctx.stdout.write(JSON.stringify(jsonOf(result, connection, target.info), null, 2) + "\n");
      else printResult(ctx, result, target.source);
      if (failure) throw failure;
      const refused = result.plan.items.filter((i) => (i.targeting?.problems.length ?? 0) > 0);
      if (result.dryRun && refused.length > 0)
        throw new PublisherError(
          "PlanRefused",
          `The plan refuses ${refused.map((i) => `${i.id} (${i.targeting!.problems.join(" ")})`).join("; ")}`,
          { hint: "Fix the cause shown; nothing was written." },
        );
      return exitCode;
    });
  },
});
