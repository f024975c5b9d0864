/**
 * The part every run across tenants shares (docs/tenants.md): tenants a few at a time, each tenant's result with
 * its name, id and tags, and a tenant's failure kept as its result (never stopping the others). `sync`, `publish`,
 * `inventory` and `connect test` run their own work per tenant through `eachTenant`.
 */
import { tenantConnection } from "../../core/config/tenants.js";
import type { TenantEntry, TenantsFile } from "../../core/config/tenants.js";
import { isPublisherError } from "../../core/errors.js";
import type { ErrorKind } from "../../core/errors.js";
import type { ErrorCode } from "../../core/error-codes.js";

/** A tenant's failure as a whole (sign-in refused, a configuration problem, …). */
export interface TenantError {
  kind: ErrorKind;
  /** the service's code when it gave one (AADSTS700016), else ours */
  code: string;
  errorCode: ErrorCode;
  message: string;
  hint?: string;
}

/** Which tenant a result is about. */
export interface TenantHeader {
  tenant: string;
  displayName?: string;
  tenantId?: string;
  tags: Record<string, string>;
}

/** One tenant's result of a command's work. */
export interface TenantOutcome<T> extends TenantHeader {
  status: "ok" | "failed";
  error?: TenantError;
  /** what the command's work returned (absent when the tenant failed as a whole) */
  value?: T;
  durationMs: number;
}

export function tenantError(e: unknown): TenantError {
  return {
    kind: isPublisherError(e) ? e.kind : "internal",
    code: isPublisherError(e) ? (e.serviceCode ?? e.code) : "Internal",
    errorCode: isPublisherError(e) ? e.code : "Internal",
    message: e instanceof Error ? e.message : String(e),
    ...(isPublisherError(e) && e.hint !== undefined ? { hint: e.hint } : {}),
  };
}

export function tenantHeader(file: TenantsFile, t: TenantEntry): TenantHeader {
  const conn = tenantConnection(file, t);
  return {
    tenant: t.name,
    ...(t.displayName === undefined ? {} : { displayName: t.displayName }),
    ...(conn.tenant === undefined ? {} : { tenantId: conn.tenant }),
    tags: t.tags,
  };
}

/**
 * Runs `work` for every tenant, `concurrency` at a time, results in the tenants' order. `work` says whether the
 * tenant's result is a failure (e.g. a product failed); a throw fails that tenant alone.
 */
export async function eachTenant<T>(
  o: {
    file: TenantsFile;
    tenants: readonly TenantEntry[];
    concurrency: number;
    clock?: () => number;
    onTenant?: (r: TenantOutcome<T>) => void;
  },
  work: (t: TenantEntry) => Promise<{ value: T; failed: boolean }>,
): Promise<TenantOutcome<T>[]> {
  const clock = o.clock ?? Date.now;
  const results = new Array<TenantOutcome<T>>(o.tenants.length);
  await pool(o.tenants.length, o.concurrency, async (i) => {
    const t = o.tenants[i]!;
    const started = clock();
    let r: TenantOutcome<T>;
    try {
      const { value, failed } = await work(t);
      r = { ...tenantHeader(o.file, t), status: failed ? "failed" : "ok", value, durationMs: clock() - started };
    } catch (e) {
      r = { ...tenantHeader(o.file, t), status: "failed", error: tenantError(e), durationMs: clock() - started };
    }
    o.onTenant?.(r);
    results[i] = r;
  });
  return results;
}

/** Runs `count` jobs, at most `limit` at once; every job runs. */
export async function pool(count: number, limit: number, job: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) await job(next++);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, count)) }, worker));
}
