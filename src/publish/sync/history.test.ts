import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import Database from "better-sqlite3";
import { isPublisherError } from "../../core/errors.js";
import { useScratch } from "../../../test/support/scratch.js";
import { HISTORY_SCHEMA_VERSION, recordPublishRun, SyncHistory } from "./history.js";
import type { PublishResult } from "../publish.js";
import type { SyncResult } from "./sync.js";

const result = (n: number, failed = false): SyncResult => ({
  dryRun: false,
  startedAt: `2026-12-03T10:00:0${n % 10}.000Z`,
  finishedAt: `2026-12-03T10:00:0${n % 10}.500Z`,
  failed,
  changed: true,
  products: [
    {
      id: "Contoso.Tool",
      architecture: "x64",
      scope: "machine",
      definitionId: "contoso.tool",
      version: `1.${n}`,
      action: "new-version",
      status: "ok",
      reason: "new version",
      appId: "app-1",
      durationMs: 12.4,
    },
    {
      id: "Contoso.Bad",
      architecture: "x64",
      scope: "machine",
      action: "failed",
      status: failed ? "failed" : "ok",
      reason: "download failed: hash mismatch",
      error: {
        kind: "integrity",
        code: "HashMismatch",
        errorCode: "HashMismatch",
        message: "hash mismatch",
        step: "download",
      },
      durationMs: 3,
    },
  ],
});

/**
 * A history file as an older version wrote it: the version 1 tables, `runsColumns` more on `runs` (the columns that
 * version had added), one run, and its `user_version`.
 */
function legacyHistory(file: string, runsColumns: string, version: number): void {
  const db = new Database(file);
  db.exec(`CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL, dry_run INTEGER NOT NULL, status TEXT NOT NULL, products INTEGER NOT NULL,
    changed INTEGER NOT NULL, failed INTEGER NOT NULL, trigger TEXT NOT NULL${runsColumns});
    CREATE TABLE run_products (run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
      product_id TEXT NOT NULL, definition_id TEXT, version TEXT, action TEXT NOT NULL, status TEXT NOT NULL,
      reason TEXT NOT NULL, app_id TEXT, error_code TEXT, duration_ms INTEGER NOT NULL);
    INSERT INTO runs (started_at, finished_at, dry_run, status, products, changed, failed, trigger)
      VALUES ('2026-12-01T00:00:00.000Z', '2026-12-01T00:00:01.000Z', 0, 'ok', 0, 0, 0, 'manual');
    PRAGMA user_version = ${version};`);
  db.close();
}

describe("sync history (SQLite)", () => {
  const scratch = useScratch("ip-history-");

  it("records runs and their products, reads them back newest first, and survives reopening", async () => {
    const file = join(await scratch(), "state", "sync-history.db");
    const h = SyncHistory.open(file);
    const first = h.record(result(1), "manual");
    const second = h.record(result(2, true), "schedule");
    h.close();
    const again = SyncHistory.open(file);
    const runs = again.runs();
    assert.deepEqual(
      runs.map((r) => [r.id, r.status, r.trigger, r.changed, r.failed]),
      [
        [second, "failed", "schedule", 1, 1],
        [first, "ok", "manual", 1, 0],
      ],
    );
    const products = again.products(second);
    assert.equal(products.length, 2);
    assert.equal(products[0]!.version, "1.2");
    assert.equal(products[1]!.errorCode, "HashMismatch");
    assert.equal(products[0]!.durationMs, 12);
    again.close();
  });

  it("refuses a history written by a newer schema version, with the fix", async () => {
    const file = join(await scratch(), "h.db");
    const db = new Database(file);
    db.pragma(`user_version = ${HISTORY_SCHEMA_VERSION + 1}`);
    db.close();
    assert.throws(
      () => SyncHistory.open(file),
      (e: unknown) => isPublisherError(e) && e.code === "HistoryTooNew" && /Update intune-publisher/.test(e.hint ?? ""),
    );
  });

  it("records a run across tenants once per tenant, with its name; a version 1 file gains the column", async () => {
    const file = join(await scratch(), "v1.db");
    // a history written before runs across tenants were recorded
    legacyHistory(file, "", 1);
    const h = SyncHistory.open(file);
    h.record(result(3), "manual", false, { name: "contoso", failed: false });
    h.record({ ...result(3), products: [] }, "manual", false, { name: "fabrikam", failed: true });
    assert.deepEqual(
      h.runs().map((r) => [r.tenant, r.status, r.products]),
      [
        ["fabrikam", "failed", 0],
        ["contoso", "ok", 2],
        [null, "ok", 0],
      ],
    );
    h.close();
  });

  it("records the Entra tenant id of a run on one tenant; a version 3 file gains the column", async () => {
    const file = join(await scratch(), "v3.db");
    legacyHistory(file, ", tenant TEXT, kind TEXT NOT NULL DEFAULT 'sync', log_file TEXT, exit_code INTEGER", 3);
    const h = SyncHistory.open(file);
    h.record(result(3), "console", false, undefined, {
      kind: "sync",
      tenantId: "11111111-2222-3333-4444-555555555555",
    });
    assert.deepEqual(
      h.runs().map((r) => [r.trigger, r.tenant, r.tenantId]),
      [
        ["console", null, "11111111-2222-3333-4444-555555555555"],
        ["manual", null, null],
      ],
    );
    h.close();
    const db = new Database(file, { readonly: true });
    assert.equal(db.pragma("user_version", { simple: true }), HISTORY_SCHEMA_VERSION);
    db.close();
  });

  it("records publish runs beside sync runs: kind, log file or none kept, exit code; a version 2 file gains them", async () => {
    const dir = await scratch();
    const file = join(dir, "sync-history.db");
    legacyHistory(file, ", tenant TEXT", 2);
    const item = (id: string, action: "create" | "nothing") => ({
      id,
      version: "1.0",
      action,
      reasons: [`${id} reason`],
    });
    const published = {
      dryRun: false,
      plan: { items: [item("contoso-notes", "create"), item("fabrikam-agent", "nothing")] },
      outcomes: [
        { id: "contoso-notes", action: "create", status: "ok", appId: "app-9" },
        {
          id: "fabrikam-agent",
          action: "nothing",
          status: "failed",
          error: { kind: "graph", code: "Throttled", errorCode: "GraphError", message: "throttled", step: "targeting" },
        },
      ],
    } as unknown as PublishResult;
    const times = { startedAt: "2026-12-02T00:00:00.000Z", finishedAt: "2026-12-02T00:00:02.000Z" };
    const a = recordPublishRun(dir, published, {
      ...times,
      trigger: "manual",
      cancelled: false,
      logFile: "/logs/run-a.jsonl",
      exitCode: 5,
    });
    const b = recordPublishRun(dir, published, { ...times, trigger: "console", cancelled: false, logFile: null });
    assert.equal(
      recordPublishRun(
        dir,
        { ...published, dryRun: true },
        { ...times, trigger: "manual", cancelled: false, logFile: null },
      ),
      undefined,
      "a dry run is not recorded",
    );
    const h = SyncHistory.open(file);
    assert.deepEqual(
      h.runs().map((r) => [r.id, r.kind, r.trigger, r.status, r.products, r.changed, r.failed, r.logFile, r.exitCode]),
      [
        [b, "publish", "console", "failed", 2, 1, 1, null, undefined],
        [a, "publish", "manual", "failed", 2, 1, 1, "/logs/run-a.jsonl", 5],
        [1, "sync", "manual", "ok", 0, 0, 0, undefined, undefined],
      ],
    );
    assert.deepEqual(
      h.products(a!).map((p) => [p.productId, p.action, p.status, p.reason, p.appId, p.errorCode, p.durationMs]),
      [
        ["contoso-notes", "create", "ok", "contoso-notes reason", "app-9", null, 1000],
        ["fabrikam-agent", "nothing", "failed", "throttled", null, "Throttled", 1000],
      ],
    );
    h.close();
  });
});
