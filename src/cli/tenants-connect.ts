/**
 * `connect test --tenants …` (docs/tenants.md): the connection test in every tenant selected, a few at a time
 * (src/publish/tenants/connect.ts, shared with the console's tenants overview), and one table of tenants × the six permissions (✓ granted and answering, ✗ not, - not reached) with each failed
 * tenant's short cause; JSON too. One tenant's failure never stops the others.
 */
import { REQUIRED_PERMISSIONS } from "../core/config/permissions.js";
import { testTenants } from "../publish/tenants/connect.js";
import type { PermissionMark, TenantConnection } from "../publish/tenants/connect.js";
import type { CommandContext } from "./command.js";
import { renderTable } from "./output.js";
import { commandLogger } from "./session.js";
import type { TenantOptions } from "./tenant-options.js";
import { firstLine, selectedTenants, tenantTargets, tenantsFailure } from "./tenants.js";
import type { TenantsOptions } from "./tenants.js";

type Mark = PermissionMark;

/** A permission's column heading: `DeviceManagementApps.ReadWrite.All` → `Apps.ReadWrite`. */
function shortName(permission: string): string {
  return permission.replace(/^DeviceManagement/, "").replace(/\.All$/, "");
}

/** A cause that fits a table cell: the service's code and the message's first sentence. */
function shortCause(p: { code: string; message: string }): string {
  const sentence = firstLine(p.message).replace(/^(.{0,100}?[.:])\s.*$/, "$1");
  const text = sentence.includes(p.code) ? sentence : `${p.code}: ${sentence}`;
  return text.length > 110 ? `${text.slice(0, 109)}…` : text;
}

export async function connectTestAcrossTenants(
  ctx: CommandContext,
  o: TenantOptions & TenantsOptions,
): Promise<number> {
  const { file, tenants } = await selectedTenants(ctx, o);
  const targets = tenantTargets(ctx, o, file);
  const logger = commandLogger(ctx);
  let results: TenantConnection[];
  try {
    results = await testTenants({
      file,
      tenants,
      concurrency: o.tenantConcurrency,
      targets,
      env: ctx.env,
      signal: ctx.signal,
      secrets: ctx.secrets,
      logger,
    });
  } finally {
    await targets.close();
  }
  const failed = results.filter((r) => !r.ok);
  if (ctx.output === "json")
    ctx.stdout.write(
      JSON.stringify(
        {
          permissions: REQUIRED_PERMISSIONS.map((p) => p.name),
          tenants: results,
          totals: { tenants: results.length, ok: results.length - failed.length, failed: failed.length },
          ok: failed.length === 0,
        },
        null,
        2,
      ) + "\n",
    );
  else {
    const cell: Record<Mark, string> = { ok: "✓", missing: "✗", "not-tested": "-" };
    ctx.stdout.write(
      [
        "Connection test across tenants",
        renderTable([
          ["Tenant", "Tenant id", ...REQUIRED_PERMISSIONS.map((p) => shortName(p.name)), "Result"],
          ...results.map((r) => [
            r.tenant,
            r.tenantId ?? "-",
            ...REQUIRED_PERMISSIONS.map((p) => cell[r.permissions[p.name]!]),
            r.ok ? "ok" : `✗ ${r.problem === undefined ? "failed" : shortCause(r.problem)}`,
          ]),
        ]),
        "",
        `Total: ${results.length} tenant(s), ${results.length - failed.length} passed, ${failed.length} failed. Columns: the permissions without their DeviceManagement prefix and .All suffix (✓ granted and answering, ✗ not, - not reached).`,
      ].join("\n") + "\n",
    );
  }
  for (const r of results) for (const w of r.warnings) ctx.stderr.write(`warning: ${r.tenant}: ${w}\n`);
  const error = tenantsFailure(
    "The connection test",
    results.length,
    failed.map((r) => ({
      tenant: r.tenant,
      errorCode: r.problem?.errorCode ?? "Internal",
      line: r.problem === undefined ? "failed" : firstLine(r.problem.message),
      hint: r.problem?.fix,
    })),
  );
  if (error) throw error;
  return 0;
}
