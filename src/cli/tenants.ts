/**
 * Runs across tenants from the command line (docs/tenants.md): the `--tenants`, `--tenants-file` and
 * `--tenant-concurrency` options, the tenants they select, and how each tenant is reached — its profile, cloud,
 * tenant id and client id as flags over the command's own tenant options; tenants on the local cloud share one
 * local tenant (the running one, else one started in this process for the whole run).
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { z } from "zod";
import { DEFAULT_TENANTS_FILE, selectTenants, tenantConnection } from "../core/config/tenants.js";
import type { TenantEntry } from "../core/config/tenants.js";
import type { Settings } from "../core/config/profile.js";
import { PublisherError } from "../core/errors.js";
import type { ErrorCode } from "../core/error-codes.js";
import { loadSettings, pathsFor } from "../publish/connect/config-store.js";
import type { LocalTarget, StartedLocalTenant } from "../publish/connect/local-tenant.js";
import { loadTenants, loadTenantsSection } from "../publish/tenants/file.js";
import type { LoadedTenants } from "../publish/tenants/file.js";
import { DEFAULT_TENANT_CONCURRENCY } from "../publish/tenants/run.js";
import type { TenantSession } from "../publish/tenants/run.js";
import { localConnection, localTarget, openGraphSession, wantsLocalTenant } from "../publish/target.js";
import type { HttpPolicy } from "../clients/http/types.js";
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
 * a value naming nothing is a usage error, and so are both a section and a tenants file.
 */
export async function selectedTenants(
  ctx: CommandContext,
  o: TenantsOptions & { config?: string | undefined },
): Promise<{ file: LoadedTenants; tenants: TenantEntry[] }> {
  const configFile = pathsFor({
    env: ctx.env,
    configFile: o.config === undefined ? undefined : resolve(ctx.cwd, o.config),
  }).file;
  const section = await loadTenantsSection(configFile);
  let file: LoadedTenants;
  if (section !== undefined) {
    const tenantsFile = resolve(ctx.cwd, o.tenantsFile ?? DEFAULT_TENANTS_FILE);
    if (o.tenantsFile !== undefined || existsSync(tenantsFile))
      throw new PublisherError(
        "TenantsTwoSources",
        `Two lists of tenants: the tenants file ${tenantsFile}${o.tenantsFile === undefined ? " (the default)" : ""} and the tenants: section of ${configFile}.`,
        {
          hint: "Keep one: remove the tenants: section from the configuration file, or remove (or rename) the tenants file and do not give --tenants-file (docs/tenants.md).",
        },
      );
    file = section;
  } else file = await loadTenants(o.tenantsFile ?? DEFAULT_TENANTS_FILE, ctx.cwd);
  const { tenants, unknown } = selectTenants(file.value, o.tenants);
  if (unknown.length > 0)
    throw new PublisherError(
      "Usage",
      `--tenants ${unknown.join(", ")}: no tenant of ${file.file} has that name or tag.`,
      {
        hint: `Give all, a tag as key=value (e.g. ring=pilot) or a name: ${file.value.tenants
          .slice(0, 10)
          .map((t) => t.name)
          .join(", ")}${file.value.tenants.length > 10 ? ", …" : ""}.`,
      },
    );
  return { file, tenants };
}

/** How one tenant is reached: its settings, and the secret and CA of a local tenant. */
export interface TenantTarget {
  settings: Settings;
  secretValue: string | undefined;
  caPem: string | undefined;
  /** the local tenant started in this process for the run (uploads then keep no resume journal) */
  inProcess: boolean;
}

/** Resolves tenants to targets; the local tenant is found (or started) once and shared. `close` stops it. */
export class TenantTargets {
  private local: Promise<{ target: LocalTarget; started: StartedLocalTenant | undefined }> | undefined;

  constructor(
    private readonly ctx: CommandContext,
    private readonly o: TenantOptions,
    private readonly file: LoadedTenants,
  ) {}

  async resolve(t: TenantEntry): Promise<TenantTarget> {
    const flags = { ...this.o, ...tenantConnection(this.file.value, t) };
    if (wantsLocalTenant(flags, this.ctx.env)) {
      const input = targetInput(this.ctx, this.o);
      this.local ??= localTarget(input.launcher, input.stateDir, input.onNote);
      const lt = await this.local;
      const c = localConnection(lt.target, flags, this.ctx.env);
      return { settings: c.settings, secretValue: c.secretValue, caPem: c.caPem, inProcess: lt.started !== undefined };
    }
    const configFile = this.o.config === undefined ? undefined : resolve(this.ctx.cwd, this.o.config);
    const settings = await loadSettings({ env: this.ctx.env, configFile }, flags);
    return { settings, secretValue: undefined, caPem: undefined, inProcess: false };
  }

  /** The first tenant that resolves (its network settings serve the run's catalog and downloads). */
  async first(tenants: readonly TenantEntry[]): Promise<TenantTarget> {
    let firstError: unknown;
    for (const t of tenants) {
      try {
        return await this.resolve(t);
      } catch (e) {
        firstError ??= e;
      }
    }
    throw firstError;
  }

  /** Signs in to a tenant: its own Graph client and upload transport (a refused sign-in throws). */
  async connect(t: TenantEntry, policies?: readonly HttpPolicy[]): Promise<TenantSession> {
    const target = await this.resolve(t);
    const session = await openGraphSession(target, {
      env: this.ctx.env,
      logger: commandLogger(this.ctx),
      secrets: this.ctx.secrets,
      onWarning: (line) => this.ctx.stderr.write(`warning: ${t.name}: ${line}\n`),
      ...(policies === undefined ? {} : { policies }),
    });
    try {
      await session.signIn();
    } catch (e) {
      await session.close();
      throw e;
    }
    return { graph: session.graph, storageTransport: session.transport.send, close: () => session.close() };
  }

  /** Whether the run uses a local tenant started in this process. */
  async inProcess(): Promise<boolean> {
    return this.local === undefined ? false : (await this.local).started !== undefined;
  }

  async close(): Promise<void> {
    const l = await this.local?.catch(() => undefined);
    await l?.started?.close();
  }
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
