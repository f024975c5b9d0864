/**
 * How each tenant of a run is reached (docs/tenants.md): its profile, cloud, tenant id and client id as flags over
 * the caller's own (the CLI's tenant options; none for the console); tenants on the local cloud share one local
 * tenant (the running one, else one started in this process for the whole run). The CLI's runs across tenants and
 * the console's tenants pages resolve tenants here.
 */
import { tenantConnection } from "../../core/config/tenants.js";
import type { TenantEntry } from "../../core/config/tenants.js";
import type { Settings } from "../../core/config/profile.js";
import type { SecretRegistry } from "../../clients/http/redact.js";
import type { HttpLogger, HttpPolicy } from "../../clients/http/types.js";
import { loadSettings } from "../connect/config-store.js";
import type { LocalTarget, StartedLocalTenant } from "../connect/local-tenant.js";
import { localConnection, localTarget, openGraphSession, wantsLocalTenant } from "../target.js";
import type { TargetInput } from "../target.js";
import type { LoadedTenants } from "./file.js";
import type { TenantSession } from "./run.js";

/** How one tenant is reached: its settings, and the secret and CA of a local tenant. */
export interface TenantTarget {
  settings: Settings;
  secretValue: string | undefined;
  caPem: string | undefined;
  /** the local tenant started in this process for the run (uploads then keep no resume journal) */
  inProcess: boolean;
}

export interface TenantTargetsOptions {
  /** the caller's target: its flags are the base every tenant's own connection overrides */
  base: TargetInput;
  logger?: HttpLogger | undefined;
  secrets?: SecretRegistry | undefined;
  /** a warning of a tenant's session */
  onWarning?: (tenant: string, line: string) => void;
}

/** Resolves tenants to targets; the local tenant is found (or started) once and shared. `close` stops it. */
export class TenantTargets {
  private local: Promise<{ target: LocalTarget; started: StartedLocalTenant | undefined }> | undefined;

  constructor(
    private readonly o: TenantTargetsOptions,
    private readonly file: LoadedTenants,
  ) {}

  /** The flags a tenant resolves with: the caller's, its own connection over them. */
  flagsOf(t: TenantEntry): TargetInput["flags"] {
    return { ...this.o.base.flags, ...tenantConnection(this.file.value, t) };
  }

  async resolve(t: TenantEntry): Promise<TenantTarget> {
    const flags = this.flagsOf(t);
    const base = this.o.base;
    if (wantsLocalTenant(flags, base.env)) {
      this.local ??= localTarget(base.launcher, base.stateDir, base.onNote);
      const lt = await this.local;
      const c = localConnection(lt.target, flags, base.env);
      return { settings: c.settings, secretValue: c.secretValue, caPem: c.caPem, inProcess: lt.started !== undefined };
    }
    const settings = await loadSettings({ env: base.env, configFile: base.configFile }, flags);
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
      env: this.o.base.env,
      logger: this.o.logger,
      secrets: this.o.secrets,
      onWarning: (line) => this.o.onWarning?.(t.name, line),
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
