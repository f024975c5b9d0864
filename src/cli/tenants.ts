/**
 * Runs across tenants from the command line (docs/tenants.md): the `--tenants`, `--tenants-file` and
 * `--tenant-concurrency` options, the tenants they select and their targets over the command's own tenant options
 * (the use cases: src/publish/tenants/select.ts and targets.ts, shared with the console).
 */
import { resolve } from "node:path";
import { z } from "zod";
import { DEFAULT_TENANTS_FILE } from "../core/config/tenants.js";
import type { TenantEntry } from "../core/config/tenants.js";
import { PublisherError } from "../core/errors.js";
import type { ErrorCode } from "../core/error-codes.js";
import { pathsFor } from "../publish/connect/config-store.js";
import type { LoadedTenants } from "../publish/tenants/file.js";
import { DEFAULT_TENANT_CONCURRENCY } from "../publish/tenants/run.js";
import { loadConfiguredTenants, pickTenants } from "../publish/tenants/select.js";
import { TenantTargets } from "../publish/tenants/targets.js";
import { commandLogger } from "./session.js";
import type { CommandContext } from "./command.js";
import { option } from "./options.js";
import { targetInput } from "./tenant-options.js";
import type { TenantOptions } from "./tenant-options.js";

const group = "Tenants (MSP mode: one run across the tenants of a tenants file; docs/tenants.md)";

export const tenantsOptions = z.object({
  tenants: option(z.array(z.string().min(1, "must not be empty")).default([]), {
    value: "all|TAG|NAME",
    group,
    help: "run across tenants: all, a tag (ring=pilot) or a tenant's name (repeatable, or comma-separated)",
  }),
  tenantsFile: option(z.string().min(1).optional(), {
    value: "FILE",
    group,
    help: `the tenants file (default: the configuration file's tenants: section, else ./${DEFAULT_TENANTS_FILE})`,
  }),
  tenantConcurrency: option(
    z
      .string()
      .regex(/^[1-9]\d{0,2}$/, "must be a whole number from 1 to 999")
      .transform(Number)
      .default(DEFAULT_TENANT_CONCURRENCY),
    { value: "N", group, help: `tenants run at once (default ${DEFAULT_TENANT_CONCURRENCY})` },
  ),
});

export type TenantsOptions = z.output<typeof tenantsOptions>;

/**
 * The tenants (the configuration file's `tenants:` section, else the tenants file) and those `--tenants` selects;
 * a value naming nothing is a usage error, and so are both a section and a tenants file (src/publish/tenants/select.ts).
 */
export async function selectedTenants(
  ctx: CommandContext,
  o: TenantsOptions & { config?: string | undefined },
): Promise<{ file: LoadedTenants; tenants: TenantEntry[] }> {
  const configFile = pathsFor({
    env: ctx.env,
    configFile: o.config === undefined ? undefined : resolve(ctx.cwd, o.config),
  }).file;
  const file = (await loadConfiguredTenants({ configFile, tenantsFile: o.tenantsFile, cwd: ctx.cwd }))!;
  return { file, tenants: pickTenants(file, o.tenants) };
}

/** The tenants' targets over the command's tenant options (src/publish/tenants/targets.ts). */
export function tenantTargets(ctx: CommandContext, o: TenantOptions, file: LoadedTenants): TenantTargets {
  return new TenantTargets(
    {
      base: targetInput(ctx, o),
      logger: commandLogger(ctx),
      secrets: ctx.secrets,
      onWarning: (tenant, line) => ctx.stderr.write(`warning: ${tenant}: ${line}\n`),
    },
    file,
  );
}

/** A tenant's line in a failure message: its own error, or what failed inside it. */
export interface FailedTenant {
  tenant: string;
  errorCode: ErrorCode;
  line: string;
  hint?: string | undefined;
}

/**
 * The error of a run across tenants when tenants failed: the first failed tenant's code (so its exit code), every
 * failed tenant named in the message. Undefined when none failed.
 */
/** The columns of the per-tenant table that `sync --tenants` and `publish --tenants` print. */
export const TENANT_RUN_COLUMNS = [
  "Tenant",
  "Tenant id",
  "Result",
  "Created",
  "New version",
  "Metadata",
  "Up to date",
  "Failed",
  "Time",
  "Problem",
];

export function tenantsFailure(
  what: string,
  total: number,
  failed: readonly FailedTenant[],
): PublisherError | undefined {
  if (failed.length === 0) return undefined;
  const first = failed[0]!;
  return new PublisherError(
    first.errorCode,
    `${what} failed for ${failed.length} of ${total} tenant(s):\n${failed.map((t) => `  ${t.tenant}: ${t.line}`).join("\n")}`,
    {
      hint:
        first.hint ??
        "The other tenants were done. Fix the cause shown (docs/tenants.md) and run again with --tenants naming the failed ones.",
    },
  );
}

/** The first line of a message (table cells). */
export function firstLine(text: string): string {
  return text.split("\n")[0]!;
}
