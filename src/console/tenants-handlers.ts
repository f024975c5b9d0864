/**
 * The console's tenants switcher and overview (docs/console.md "Tenants"): the tenants of the tenants file (or the
 * configuration's `tenants:` section, read as `--tenants` reads it: src/publish/tenants/select.ts), the one the pages
 * work on (kept by the server, never in the URL or the browser), and "Test all" — `connect test --tenants all`'s use
 * case (src/publish/tenants/connect.ts), each tenant's result streamed as it ends, with the apps we published there.
 */
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { REQUIRED_PERMISSIONS } from "../core/config/permissions.js";
import { userCacheDir } from "../core/config/dirs.js";
import { tenantConnection } from "../core/config/tenants.js";
import type { TenantEntry } from "../core/config/tenants.js";
import { PublisherError } from "../core/errors.js";
import { inventoryCacheFile, readCachedInventory } from "../inventory/read.js";
import { listApps } from "../publish/apps.js";
import { pathsFor } from "../publish/connect/config-store.js";
import { defaultHistoryFile, SyncHistory } from "../publish/sync/history.js";
import { testResolvedTarget } from "../publish/connect/test-target.js";
import type { ConnectionReport } from "../publish/connect/test-connection.js";
import { testTenants } from "../publish/tenants/connect.js";
import { pool } from "../publish/tenants/each.js";
import { DEFAULT_TENANT_CONCURRENCY } from "../publish/tenants/run.js";
import type { LoadedTenants } from "../publish/tenants/file.js";
import { loadConfiguredTenants } from "../publish/tenants/select.js";
import { TenantTargets } from "../publish/tenants/targets.js";
import type { TargetInput } from "../publish/target.js";
import type { ApplyResponse, TenantsOverviewResponse, TenantsResponse, TenantTestMessage, TenantView } from "./api.js";
import type { HandlerContext } from "./handler-common.js";
import type { PublishRuns } from "./runs.js";

/** Sync runs read from the history to find each tenant's last one. */
const HISTORY_RUNS_READ = 5000;

export class TenantsHandlers {
  /** the tenant the pages work on (its name); null: the profile */
  private current: string | null = null;
  private readonly controllers = new Set<AbortController>();

  constructor(
    private readonly c: HandlerContext,
    private readonly runs: PublishRuns,
    /** the user state folder (sync history) */
    private readonly userState: () => string,
    /** the local tenant's target input with no flags (the CLI without tenant options) */
    private readonly baseInput: () => TargetInput,
  ) {}

  /** The tenants configured; undefined when there are none. */
  async file(): Promise<LoadedTenants | undefined> {
    const configFile = pathsFor({ env: this.c.env, configFile: this.c.configFile }).file;
    return loadConfiguredTenants({ configFile, cwd: this.c.cwd }, { optional: true });
  }

  /** The tenant chosen (its name); null: the profile. */
  chosen(): string | null {
    return this.current;
  }

  /** Back to the profile (a profile chosen or saved on the Connection page). */
  clear(): void {
    this.current = null;
  }

  /** The tenant chosen and the flags it resolves with (as `--tenants NAME` does); undefined: the profile. */
  async selected(): Promise<{ entry: TenantEntry; flags: TargetInput["flags"] } | undefined> {
    if (this.current === null) return undefined;
    const file = await this.file();
    const entry = file?.value.tenants.find((t) => t.name === this.current);
    if (file === undefined || entry === undefined)
      throw new PublisherError(
        "ConsoleRequestInvalid",
        `The tenant ${this.current} chosen on the Tenants page is no longer in the tenants file.`,
        { hint: "Choose a tenant again on the Tenants page." },
      );
    return { entry, flags: tenantConnection(file.value, entry) };
  }

  private view(file: LoadedTenants, t: TenantEntry): TenantView {
    return {
      name: t.name,
      displayName: t.displayName,
      tenantId: tenantConnection(file.value, t).tenant,
      tags: t.tags,
    };
  }

  async list(): Promise<TenantsResponse> {
    const file = await this.file();
    return {
      file: file?.file,
      current: this.current,
      tenants: file === undefined ? [] : file.value.tenants.map((t) => this.view(file, t)),
    };
  }

  async select(name: string | null): Promise<TenantsResponse> {
    if (name !== null) {
      const file = await this.file();
      const entry = file?.value.tenants.find((t) => t.name.toLowerCase() === name.toLowerCase());
      if (entry === undefined)
        throw new PublisherError(
          "ConsoleRequestInvalid",
          `tenant: ${name} is not a tenant of ${file?.file ?? "the tenants file (there is none)"}.`,
          { hint: "Choose one of the tenants listed." },
        );
      this.current = entry.name;
    } else this.current = null;
    return this.list();
  }

  /** Per tenant: its last sync run (the history's tenant column) and its cached inventory. */
  async overview(): Promise<TenantsOverviewResponse> {
    const file = await this.file();
    const last = new Map<string, { startedAt: string; status: string; changed: number; failed: number }>();
    const historyFile = defaultHistoryFile(this.userState());
    if (file !== undefined && existsSync(historyFile)) {
      const h = SyncHistory.open(historyFile);
      try {
        // newest first: a run across tenants is keyed by the tenant's name; a run on one tenant (the profile, from
        // the CLI or the console) by its Entra tenant id, matched below to the rows that resolve to that id
        for (const r of h.runs(HISTORY_RUNS_READ)) {
          if (r.dryRun || r.kind !== "sync") continue;
          const key = r.tenant !== null ? r.tenant.toLowerCase() : r.tenantId !== null ? `id:${r.tenantId}` : undefined;
          if (key !== undefined && !last.has(key))
            last.set(key, { startedAt: r.startedAt, status: r.status, changed: r.changed, failed: r.failed });
        }
      } finally {
        h.close();
      }
    }
    const cacheRoot = userCacheDir(this.c.env, process.platform, homedir());
    const tenants: TenantsOverviewResponse["tenants"] = [];
    for (const t of file?.value.tenants ?? []) {
      const view = this.view(file!, t);
      const inv =
        view.tenantId === undefined
          ? undefined
          : await readCachedInventory(inventoryCacheFile(cacheRoot, view.tenantId), view.tenantId);
      tenants.push({
        ...view,
        lastSync: newest(
          last.get(t.name.toLowerCase()),
          view.tenantId === undefined ? undefined : last.get(`id:${view.tenantId}`),
        ),
        inventory:
          inv === undefined ? undefined : { readAt: inv.readAt, devices: inv.devices, products: inv.apps.length },
      });
    }
    return {
      file: file?.file,
      current: this.current,
      permissions: REQUIRED_PERMISSIONS.map((p) => p.name),
      tenants,
    };
  }

  /** Our current apps in a tenant (`apps list`'s rows that carry our stamp, the current version of each). */
  private async ourApps(targets: TenantTargets, t: TenantEntry, signal: AbortSignal): Promise<number> {
    const session = await targets.connect(t);
    try {
      return (await listApps(session.graph, signal)).filter((a) => a.status === "current").length;
    } finally {
      await session.close();
    }
  }

  close(): void {
    for (const a of this.controllers) a.abort();
  }

  /**
   * The Connection page's Test of one tenant (`connect test --tenants NAME`): its target resolved as "Test all"
   * resolves it (the profile it names, its tenant id and overrides), the full report the page shows for a profile.
   */
  async test(name: string, signal: AbortSignal): Promise<ConnectionReport> {
    const file = await this.file();
    const entry = file?.value.tenants.find((t) => t.name.toLowerCase() === name.toLowerCase());
    if (file === undefined || entry === undefined)
      throw new PublisherError(
        "ConsoleRequestInvalid",
        `tenant: ${name} is not a tenant of ${file?.file ?? "the tenants file (there is none)"}.`,
        { hint: "Choose a tenant again on the Tenants page." },
      );
    const targets = this.targets(file);
    try {
      const target = await targets.resolve(entry);
      return await testResolvedTarget(target, {
        env: this.c.env,
        signal,
        secrets: this.c.secrets,
        logger: this.c.logger,
      });
    } finally {
      await targets.close();
    }
  }

  /** The tenants' targets: the local tenant's input without flags as the base, as `--tenants` resolves them. */
  private targets(file: LoadedTenants): TenantTargets {
    return new TenantTargets(
      {
        base: this.baseInput(),
        logger: this.c.logger,
        secrets: this.c.secrets,
        onWarning: (tenant, line) => this.c.onNote?.(`warning: ${tenant}: ${line}`),
      },
      file,
    );
  }

  /** "Test all": `connect test --tenants all`, each tenant's result (and our apps there) sent as it ends. */
  async testAll(): Promise<ApplyResponse> {
    const file = await this.file();
    if (file === undefined)
      throw new PublisherError("ConsoleRequestInvalid", "No tenants are configured.", {
        hint: "Write a tenants file (./tenants.yaml) or a tenants: section in the configuration file (docs/tenants.md).",
      });
    const targets = this.targets(file);
    const controller = new AbortController();
    this.controllers.add(controller);
    const run = this.runs.startMessages(
      async (emit) => {
        const send = (m: TenantTestMessage) => emit(m);
        let ok = 0;
        try {
          // a few tenants at once, as `connect test --tenants all`; each result sent as soon as it is known
          await pool(file.value.tenants.length, DEFAULT_TENANT_CONCURRENCY, async (i) => {
            const t = file.value.tenants[i]!;
            const [result] = await testTenants({
              file,
              tenants: [t],
              concurrency: 1,
              targets,
              env: this.c.env,
              signal: controller.signal,
              secrets: this.c.secrets,
              logger: this.c.logger,
            });
            let ourApps: number | undefined;
            if (result!.ok) {
              ok++;
              ourApps = await this.ourApps(targets, t, controller.signal).catch(() => undefined);
            }
            send({ type: "tenant", result: { ...result!, ourApps } });
          });
        } finally {
          await targets.close();
          this.controllers.delete(controller);
        }
        const total = file.value.tenants.length;
        return { type: "end", ok, failed: total - ok, error: undefined } satisfies TenantTestMessage;
      },
      (message) => ({ type: "end", ok: 0, failed: 0, error: message }) satisfies TenantTestMessage,
      (text) => this.c.secrets.scrub(text),
    );
    return { run };
  }
}

/** The later of two runs (by start time); either may be missing. */
function newest<T extends { startedAt: string }>(a: T | undefined, b: T | undefined): T | undefined {
  if (a === undefined || b === undefined) return a ?? b;
  return Date.parse(b.startedAt) > Date.parse(a.startedAt) ? b : a;
}
