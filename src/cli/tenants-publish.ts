/**
 * `publish APP.yaml… --tenants …` (docs/tenants.md): the definitions published to every tenant selected, a few
 * tenants at a time, each with its overrides (group and ESP names mapped, scope tags, excluded definitions left
 * out); each package is built once per content and uploaded to every tenant (the run's shared packages). One
 * tenant's failure never stops the others; a table per tenant and the totals, JSON too.
 */
import { homedir } from "node:os";
import { join } from "node:path";
import { homeFolder, userStateDir } from "../core/config/dirs.js";
import type { TenantEntry } from "../core/config/tenants.js";
import type { LoadedAppDefinition } from "../definitions/load.js";
import { publish } from "../publish/publish.js";
import type { AppOutcome, PublishResult } from "../publish/publish.js";
import { eachTenant } from "../publish/tenants/each.js";
import type { TenantOutcome } from "../publish/tenants/each.js";
import { tenantAdjust, tenantNames } from "../publish/tenants/overrides.js";
import { SharedPackages } from "../publish/tenants/packages.js";
import type { CommandContext } from "./command.js";
import { renderTable } from "./output.js";
import type { TenantOptions } from "./tenant-options.js";
import { firstLine, selectedTenants, TENANT_RUN_COLUMNS, tenantTargets, tenantsFailure } from "./tenants.js";
import type { TenantsOptions } from "./tenants.js";

/** The definitions one tenant gets: its excluded ids left out, its overrides applied. */
export function tenantDefinitions(defs: readonly LoadedAppDefinition[], t: TenantEntry): LoadedAppDefinition[] {
  const excluded = new Set((t.exclude ?? []).map((x) => x.toLowerCase()));
  const adjust = tenantAdjust(t);
  return defs
    .filter((d) => !excluded.has(d.definition.id.toLowerCase()))
    .map((d) => ({
      ...d,
      definition: tenantNames(structuredClone(d.definition), t),
      assignments: d.assignments.map((x) => ({ ...x, assignment: adjust.assignment(x.assignment) })),
    }));
}

interface TenantApps {
  apps: { id: string; version: string; action: string; status: string; appId: string | null; error?: string }[];
  changed: boolean;
}

function appsOf(r: PublishResult): TenantApps {
  const outcome = (i: number): AppOutcome | undefined => r.outcomes[i];
  return {
    apps: r.plan.items.map((item, i) => {
      const o = outcome(i);
      return {
        id: item.id,
        version: item.version,
        action: item.action,
        status: r.dryRun ? "planned" : (o?.status ?? "not-run"),
        appId: o?.appId ?? item.appId ?? null,
        ...(o?.error === undefined ? {} : { error: firstLine(o.error.message) }),
      };
    }),
    changed: r.plan.items.some((i) => i.action !== "nothing"),
  };
}

export async function publishAcrossTenants(
  ctx: CommandContext,
  o: TenantOptions & TenantsOptions & { dryRun: boolean; detailedExitcode: boolean; concurrency?: number | undefined },
  definitions: readonly LoadedAppDefinition[],
  changesExitCode: number,
): Promise<number> {
  const { file, tenants } = await selectedTenants(ctx, o);
  const targets = tenantTargets(ctx, o, file);
  const stateDir = userStateDir(ctx.env, process.platform, homeFolder(ctx.env, process.platform, homedir));
  const packages = new SharedPackages(join(stateDir, "tenants", "packages", String(process.pid)));
  const startedAt = new Date().toISOString();
  let outcomes: TenantOutcome<TenantApps>[];
  try {
    outcomes = await eachTenant(
      {
        file: file.value,
        tenants,
        concurrency: o.tenantConcurrency,
        onTenant: (r) =>
          ctx.stderr.write(
            `${r.tenant}: ${r.status === "ok" ? "done" : `failed: ${r.error === undefined ? "apps failed" : firstLine(r.error.message)}`}\n`,
          ),
      },
      async (t) => {
        const defs = tenantDefinitions(definitions, t);
        if (defs.length === 0) return { value: { apps: [], changed: false }, failed: false };
        const session = await targets.connect(t);
        try {
          const target = await targets.resolve(t);
          const r = await publish({
            graph: session.graph,
            definitions: defs,
            dryRun: o.dryRun,
            signal: ctx.signal,
            packages,
            upload: { storage: { transport: session.storageTransport } },
            ...(o.concurrency === undefined ? {} : { concurrency: o.concurrency }),
            // A resume journal only makes sense for tenants that outlive this process.
            ...(target.inProcess ? {} : { journalDir: join(stateDir, "tenants", "uploads", t.name) }),
            onEvent: (e) => {
              if (e.type === "step") ctx.stderr.write(`${t.name}: ${e.id}: ${e.detail}\n`);
            },
          });
          for (const w of r.plan.warnings) ctx.stderr.write(`warning: ${t.name}: ${w}\n`);
          return { value: appsOf(r), failed: r.outcomes.some((x) => x.status === "failed") };
        } finally {
          await session.close();
        }
      },
    );
  } finally {
    await packages.close();
    await targets.close();
  }
  const count = (t: TenantOutcome<TenantApps>, f: (a: TenantApps["apps"][number]) => boolean): number =>
    t.value?.apps.filter(f).length ?? 0;
  const done = (a: TenantApps["apps"][number]): boolean => a.status !== "failed";
  const rows = outcomes.map((t) => ({
    tenant: t,
    created: count(t, (a) => a.action === "create" && done(a)),
    newVersions: count(t, (a) => a.action === "new-version" && done(a)),
    updated: count(t, (a) => a.action === "update-metadata" && done(a)),
    upToDate: count(t, (a) => a.action === "nothing"),
    failed: count(t, (a) => a.status === "failed"),
  }));
  const sum = (k: "created" | "newVersions" | "updated" | "upToDate" | "failed"): number =>
    rows.reduce((s, r) => s + r[k], 0);
  const failedTenants = outcomes.filter((t) => t.status === "failed");
  const changed = outcomes.some((t) => t.value?.changed === true);
  const totals = {
    tenants: outcomes.length,
    tenantsOk: outcomes.length - failedTenants.length,
    tenantsFailed: failedTenants.length,
    apps: outcomes.reduce((s, t) => s + (t.value?.apps.length ?? 0), 0),
    created: sum("created"),
    newVersions: sum("newVersions"),
    metadataUpdates: sum("updated"),
    upToDate: sum("upToDate"),
    failed: sum("failed"),
  };
  const problem = (t: TenantOutcome<TenantApps>): string =>
    t.error !== undefined
      ? firstLine(t.error.message)
      : (t.value?.apps ?? [])
          .filter((a) => a.status === "failed")
          .map((a) => `${a.id}: ${a.error ?? "failed"}`)
          .join("; ");
  if (ctx.output === "json")
    ctx.stdout.write(
      JSON.stringify(
        {
          dryRun: o.dryRun,
          startedAt,
          finishedAt: new Date().toISOString(),
          tenants: outcomes.map(({ value, ...t }) => ({
            ...t,
            apps: value?.apps ?? [],
            changed: value?.changed ?? false,
          })),
          totals,
          packagings: packages.packagings,
          packagesReused: packages.reused,
          failed: failedTenants.length > 0,
          changed,
        },
        null,
        2,
      ) + "\n",
    );
  else
    ctx.stdout.write(
      [
        o.dryRun ? "Publish plan across tenants (dry run: nothing was changed)" : "Publish across tenants",
        renderTable([
          TENANT_RUN_COLUMNS,
          ...rows.map((r) => [
            r.tenant.tenant,
            r.tenant.tenantId ?? "-",
            r.tenant.status,
            String(r.created),
            String(r.newVersions),
            String(r.updated),
            String(r.upToDate),
            String(r.failed),
            `${(r.tenant.durationMs / 1000).toFixed(1)} s`,
            problem(r.tenant),
          ]),
        ]),
        "",
        `Total: ${totals.tenants} tenant(s), ${totals.tenantsOk} ok, ${totals.tenantsFailed} failed; ${totals.apps} app(s): ${totals.created} created, ${totals.newVersions} new version(s), ${totals.metadataUpdates} metadata update(s), ${totals.upToDate} up to date, ${totals.failed} failed; ${packages.packagings} package(s) built, ${packages.reused} reused for other tenants.`,
      ].join("\n") + "\n",
    );
  const error = tenantsFailure(
    "Publishing",
    outcomes.length,
    failedTenants.map((t) => ({
      tenant: t.tenant,
      errorCode: t.error?.errorCode ?? "Internal",
      line: problem(t),
      hint: t.error?.hint,
    })),
  );
  if (error) throw error;
  return o.detailedExitcode && changed ? changesExitCode : 0;
}
