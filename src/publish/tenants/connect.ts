/**
 * The connection test across tenants (`connect test --tenants …`, the console's tenants overview): every tenant a few
 * at a time, each tenant's six permissions (granted and answering, not, not reached), its credential's expiry and
 * its first problem with the cause and fix. One tenant's failure never stops the others.
 */
import { REQUIRED_PERMISSIONS } from "../../core/config/permissions.js";
import type { TenantEntry } from "../../core/config/tenants.js";
import type { SecretRegistry } from "../../clients/http/redact.js";
import type { HttpLogger } from "../../clients/http/types.js";
import type { ConnectionReport, PermissionRow, Problem } from "../connect/test-connection.js";
import { testResolvedTarget } from "../connect/test-target.js";
import { eachTenant } from "./each.js";
import type { TenantOutcome } from "./each.js";
import type { LoadedTenants } from "./file.js";
import type { TenantTargets } from "./targets.js";

export type PermissionMark = "ok" | "missing" | "not-tested";

export interface TenantConnection {
  tenant: string;
  displayName?: string;
  tenantId?: string;
  tags: Record<string, string>;
  ok: boolean;
  /** permission name → granted and its probe answered (ok), not (missing), or not reached (not-tested) */
  permissions: Record<string, PermissionMark>;
  /** the credential's expiry when the test loaded it (ISO 8601; a secret's only when recorded) */
  credentialExpiresOn?: string;
  /** the first problem: the sign-in refused, a permission missing, the tenant's settings, … */
  problem?: Pick<Problem, "kind" | "code" | "errorCode" | "message" | "fix">;
  warnings: string[];
  durationMs: number;
}

function mark(row: PermissionRow | undefined): PermissionMark {
  if (row === undefined) return "not-tested";
  return row.enabled && row.probe.status !== "failed" ? "ok" : "missing";
}

export function connectionOf(o: TenantOutcome<ConnectionReport>): TenantConnection {
  const { value: report, error, status: _status, ...header } = o;
  const problem = error
    ? { kind: error.kind, code: error.code, errorCode: error.errorCode, message: error.message, fix: error.hint }
    : report?.problem;
  const expiresOn = report?.credential?.expiresOn;
  return {
    ...header,
    ok: o.status === "ok",
    permissions: Object.fromEntries(
      REQUIRED_PERMISSIONS.map((p) => [p.name, mark(report?.permissions.find((r) => r.permission === p.name))]),
    ),
    ...(expiresOn === undefined ? {} : { credentialExpiresOn: expiresOn }),
    ...(problem === undefined
      ? {}
      : {
          problem: {
            kind: problem.kind,
            code: problem.code,
            errorCode: problem.errorCode,
            message: problem.message,
            fix: problem.fix,
          },
        }),
    warnings: report?.warnings ?? [],
  };
}

/** Tests the connection of every tenant of `tenants`, `concurrency` at a time; `onTenant` hears each as it ends. */
export async function testTenants(o: {
  file: LoadedTenants;
  tenants: readonly TenantEntry[];
  concurrency: number;
  targets: TenantTargets;
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal | undefined;
  secrets?: SecretRegistry | undefined;
  logger?: HttpLogger | undefined;
  onTenant?: (r: TenantConnection) => void;
}): Promise<TenantConnection[]> {
  const outcomes = await eachTenant<ConnectionReport>(
    {
      file: o.file.value,
      tenants: o.tenants,
      concurrency: o.concurrency,
      ...(o.onTenant === undefined ? {} : { onTenant: (r) => o.onTenant!(connectionOf(r)) }),
    },
    async (t) => {
      const target = await o.targets.resolve(t);
      const report = await testResolvedTarget(target, {
        env: o.env,
        signal: o.signal,
        secrets: o.secrets,
        logger: o.logger,
      });
      return { value: report, failed: !report.ok };
    },
  );
  return outcomes.map(connectionOf);
}
