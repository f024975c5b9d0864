/**
 * The sync run history (docs/sync.md "History"; why SQLite: docs/DESIGN.md): one row per run, one per product of
 * each run, in a SQLite file through better-sqlite3. A small typed repository: record a run, list the latest runs,
 * read one run's products. The schema carries a version (PRAGMA user_version); a file written by a newer version is
 * refused rather than misread. Nothing secret is stored (ids, versions, actions, reasons, durations).
 */
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import Database from "better-sqlite3";
import { PublisherError } from "../../core/errors.js";
import type { AppOutcome, PublishResult } from "../publish.js";
import type { ProductResult, SyncResult } from "./sync.js";

export const HISTORY_SCHEMA_VERSION = 4;
/** Runs kept; older runs (and their products) are deleted when a run is recorded (limits.md). */
export const HISTORY_MAX_RUNS = 1000;

export interface RunRecord {
  id: number;
  startedAt: string;
  finishedAt: string;
  dryRun: boolean;
  /** ok, failed (some product failed), cancelled */
  status: string;
  products: number;
  changed: number;
  failed: number;
  trigger: string;
  /** the tenant of a run across tenants (its name in the tenants file); null for a run on one tenant */
  tenant: string | null;
  /** the Entra tenant id the run worked on, when recorded (runs on one tenant: the profile's or the local tenant's) */
  tenantId: string | null;
  /** what ran: `sync` (subscriptions) or `publish` (app definitions) */
  kind: RunKind;
  /**
   * The run log the run wrote to: its path; null when the run kept none (`--no-log-file`); undefined when not
   * recorded (runs recorded before schema version 3: their log is looked up in the log folder by time).
   */
  logFile: string | null | undefined;
  /** the command's exit code; undefined when not recorded */
  exitCode: number | undefined;
}

export type RunKind = "sync" | "publish";

/** How a run is recorded besides its results: what ran, its log file (null: none kept), its exit code. */
export interface RunExtra {
  kind?: RunKind;
  logFile?: string | null;
  exitCode?: number;
  /** the Entra tenant id of the run's target */
  tenantId?: string;
}

export interface ProductRecord {
  runId: number;
  productId: string;
  definitionId: string | null;
  version: string | null;
  action: string;
  status: string;
  reason: string;
  appId: string | null;
  errorCode: string | null;
  durationMs: number;
}

/** The history file under the state folder: `<XDG_STATE_HOME or ~/.local/state>/intune-publisher/sync-history.db`. */
export function defaultHistoryFile(stateDir: string): string {
  return join(stateDir, "sync-history.db");
}

export class SyncHistory {
  private readonly db: Database.Database;

  private constructor(db: Database.Database) {
    this.db = db;
  }

  static open(file: string): SyncHistory {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    let db: Database.Database;
    try {
      db = new Database(file, { timeout: 10_000 });
    } catch (e) {
      throw new PublisherError("HistoryUnreadable", `Cannot open the sync history ${file}: ${String(e)}`, {
        hint: "Check the file's permissions, or move it away: the history is only a record.",
      });
    }
    try {
      db.pragma("journal_mode = WAL");
      const version = db.pragma("user_version", { simple: true }) as number;
      if (version > HISTORY_SCHEMA_VERSION)
        throw new PublisherError(
          "HistoryTooNew",
          `The sync history ${file} has schema version ${version}; this intune-publisher knows ${HISTORY_SCHEMA_VERSION}.`,
          { hint: "Update intune-publisher, or move the file away to start a new history." },
        );
      if (version < 1) migrateToV1(db);
      if (version < 2) migrateToV2(db);
      if (version < 3) migrateToV3(db);
      if (version < 4) migrateToV4(db);
      db.pragma("foreign_keys = ON");
    } catch (e) {
      db.close();
      if (e instanceof PublisherError) throw e;
      throw new PublisherError("HistoryUnreadable", `The sync history ${file} is not readable: ${String(e)}`, {
        hint: "Move the file away: the history is only a record, a new one is started.",
      });
    }
    return new SyncHistory(db);
  }

  /**
   * Records a run and its products; returns the run's id. A run across tenants is recorded once per tenant, with
   * the tenant's name (`failed`: the tenant failed as a whole, e.g. its sign-in was refused).
   */
  record(
    result: Pick<SyncResult, "products" | "startedAt" | "finishedAt" | "dryRun">,
    trigger: string,
    cancelled = false,
    tenant?: { name: string; failed: boolean },
    extra: RunExtra = {},
  ): number {
    const tx = this.db.transaction(() => {
      const counts = {
        products: result.products.length,
        changed: result.products.filter((p) => ["create", "new-version", "update-metadata"].includes(p.action)).length,
        failed: result.products.filter((p) => p.status === "failed").length,
      };
      const run = this.db
        .prepare(
          `INSERT INTO runs (started_at, finished_at, dry_run, status, products, changed, failed, trigger, tenant,
             kind, log_file, exit_code, tenant_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          result.startedAt,
          result.finishedAt,
          result.dryRun ? 1 : 0,
          cancelled ? "cancelled" : counts.failed > 0 || tenant?.failed === true ? "failed" : "ok",
          counts.products,
          counts.changed,
          counts.failed,
          trigger,
          tenant?.name ?? null,
          extra.kind ?? "sync",
          // "" records "no log kept"; NULL "not recorded"
          extra.logFile === undefined ? null : (extra.logFile ?? ""),
          extra.exitCode ?? null,
          extra.tenantId ?? null,
        );
      const runId = Number(run.lastInsertRowid);
      const insert = this.db.prepare(
        `INSERT INTO run_products (run_id, product_id, definition_id, version, action, status, reason, app_id,
           error_code, duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      for (const p of result.products) insert.run(runId, ...productRow(p));
      this.db
        .prepare(`DELETE FROM runs WHERE id NOT IN (SELECT id FROM runs ORDER BY id DESC LIMIT ?)`)
        .run(HISTORY_MAX_RUNS);
      return runId;
    });
    return tx();
  }

  /** The latest runs, newest first. */
  runs(limit = 20): RunRecord[] {
    return (
      this.db
        .prepare(
          `SELECT id, started_at, finished_at, dry_run, status, products, changed, failed, trigger, tenant, kind,
             log_file, exit_code, tenant_id FROM runs ORDER BY id DESC LIMIT ?`,
        )
        .all(limit) as Record<string, unknown>[]
    ).map((r) => ({
      id: Number(r["id"]),
      startedAt: String(r["started_at"]),
      finishedAt: String(r["finished_at"]),
      dryRun: r["dry_run"] === 1,
      status: String(r["status"]),
      products: Number(r["products"]),
      changed: Number(r["changed"]),
      failed: Number(r["failed"]),
      trigger: String(r["trigger"]),
      tenant: (r["tenant"] as string | null) ?? null,
      tenantId: (r["tenant_id"] as string | null) ?? null,
      kind: r["kind"] === "publish" ? "publish" : "sync",
      logFile: r["log_file"] === null ? undefined : r["log_file"] === "" ? null : String(r["log_file"]),
      exitCode: r["exit_code"] === null ? undefined : Number(r["exit_code"]),
    }));
  }

  /** One of the latest `limit` runs, by id. */
  run(id: number, limit: number): RunRecord | undefined {
    return this.runs(limit).find((r) => r.id === id);
  }

  /** One run's products, in the order they were recorded. */
  products(runId: number): ProductRecord[] {
    return (
      this.db
        .prepare(
          `SELECT run_id, product_id, definition_id, version, action, status, reason, app_id, error_code, duration_ms
           FROM run_products WHERE run_id = ? ORDER BY rowid`,
        )
        .all(runId) as Record<string, unknown>[]
    ).map((r) => ({
      runId: Number(r["run_id"]),
      productId: String(r["product_id"]),
      definitionId: (r["definition_id"] as string | null) ?? null,
      version: (r["version"] as string | null) ?? null,
      action: String(r["action"]),
      status: String(r["status"]),
      reason: String(r["reason"]),
      appId: (r["app_id"] as string | null) ?? null,
      errorCode: (r["error_code"] as string | null) ?? null,
      durationMs: Number(r["duration_ms"]),
    }));
  }

  close(): void {
    this.db.close();
  }
}

/**
 * A `publish` run as the history records it: one row per app definition (its id as the product), with the action
 * and result `publish` printed. Counted like a sync's: create, new version and metadata updates are changes.
 */
export function publishRunResult(
  r: Pick<PublishResult, "plan" | "outcomes" | "dryRun">,
  startedAt: string,
  finishedAt: string,
): Pick<SyncResult, "products" | "startedAt" | "finishedAt" | "dryRun"> {
  const durationMs = Math.max(0, Date.parse(finishedAt) - Date.parse(startedAt));
  return {
    startedAt,
    finishedAt,
    dryRun: r.dryRun,
    products: r.plan.items.map((i, n): ProductResult => {
      const o: AppOutcome | undefined = r.outcomes[n];
      return {
        id: i.id,
        architecture: "",
        scope: "",
        definitionId: i.id,
        version: i.version,
        action: i.action,
        // an app the run never reached (cancelled) is recorded as skipped
        status: o === undefined ? "skipped" : o.status,
        reason: o?.error?.message ?? i.reasons.join("; "),
        ...((o?.appId ?? i.appId) ? { appId: o?.appId ?? i.appId } : {}),
        ...(o?.error === undefined ? {} : { error: o.error }),
        durationMs: r.outcomes.length > 0 ? durationMs / r.outcomes.length : 0,
      };
    }),
  };
}

/**
 * Records a `publish` run (CLI or console) in the run history of `stateDir`, as `sync` records its runs: the same
 * file and table, kind `publish`. A dry run is not recorded (as with `sync`).
 */
export function recordPublishRun(
  stateDir: string,
  result: Pick<PublishResult, "plan" | "outcomes" | "dryRun">,
  o: {
    startedAt: string;
    finishedAt: string;
    trigger: string;
    cancelled: boolean;
    logFile: string | null | undefined;
    exitCode?: number;
    tenantId?: string;
  },
): number | undefined {
  if (result.dryRun) return undefined;
  const history = SyncHistory.open(defaultHistoryFile(stateDir));
  try {
    return history.record(publishRunResult(result, o.startedAt, o.finishedAt), o.trigger, o.cancelled, undefined, {
      kind: "publish",
      logFile: o.logFile,
      ...(o.exitCode === undefined ? {} : { exitCode: o.exitCode }),
      ...(o.tenantId === undefined ? {} : { tenantId: o.tenantId }),
    });
  } finally {
    history.close();
  }
}

function productRow(p: ProductResult): (string | number | null)[] {
  return [
    p.id,
    p.definitionId ?? null,
    p.version ?? null,
    p.action,
    p.status,
    p.reason,
    p.appId ?? null,
    p.error?.code ?? null,
    Math.round(p.durationMs),
  ];
}

function migrateToV1(db: Database.Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS runs (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      started_at TEXT NOT NULL,
      finished_at TEXT NOT NULL,
      dry_run INTEGER NOT NULL,
      status TEXT NOT NULL,
      products INTEGER NOT NULL,
      changed INTEGER NOT NULL,
      failed INTEGER NOT NULL,
      trigger TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS run_products (
      run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
      product_id TEXT NOT NULL,
      definition_id TEXT,
      version TEXT,
      action TEXT NOT NULL,
      status TEXT NOT NULL,
      reason TEXT NOT NULL,
      app_id TEXT,
      error_code TEXT,
      duration_ms INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS run_products_run ON run_products(run_id);
    PRAGMA user_version = 1;
  `);
}

/** Version 4: the Entra tenant id of the run's target (a run on one tenant is then found by the tenants overview). */
function migrateToV4(db: Database.Database): void {
  db.exec(`
    ALTER TABLE runs ADD COLUMN tenant_id TEXT;
    PRAGMA user_version = 4;
  `);
}

/** Version 3: what ran (sync or publish), its run log (NULL: not recorded, "": none kept) and exit code. */
function migrateToV3(db: Database.Database): void {
  db.exec(`
    ALTER TABLE runs ADD COLUMN kind TEXT NOT NULL DEFAULT 'sync';
    ALTER TABLE runs ADD COLUMN log_file TEXT;
    ALTER TABLE runs ADD COLUMN exit_code INTEGER;
    PRAGMA user_version = 3;
  `);
}

/** Version 2: the tenant of a run across tenants (runs of one tenant keep null). */
function migrateToV2(db: Database.Database): void {
  db.exec(`
    ALTER TABLE runs ADD COLUMN tenant TEXT;
    PRAGMA user_version = 2;
  `);
}
