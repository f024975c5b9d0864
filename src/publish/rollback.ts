/**
 * `intune-publisher rollback APP [--to VERSION]` (version retention): make a retained (superseded) version of a
 * definition the current one again. Moves the assignments and the Enrollment Status Page membership of the current
 * app to the target, and moves the "current" mark in the ownership stamps (the current app gets `rolledBack`, the
 * target the current app's record of targets and profiles). Relationships are left as they are: the newer app
 * still supersedes the older one, and with no assignments that has no effect.
 *
 * Everything is read, then planned (pure: src/core/plan/rollback.ts), before the first write; `dryRun` stops there.
 * Afterwards `publish` of the same
 * definition plans "nothing" (src/core/plan/plan.ts skips rolled-back apps and holds a definition equal to one),
 * and a new version supersedes the rolled-back-to app.
 *
 * Permissions: DeviceManagementApps.ReadWrite.All (apps, assignments, stamps);
 * DeviceManagementServiceConfig.ReadWrite.All (ESP profiles; without it, ESP is skipped when the stamp records no
 * membership); GroupMember.Read.All and DeviceManagementConfiguration.Read.All for labels only (ids otherwise).
 * Reference: docs/cli.md "rollback", docs/lifecycle.md.
 */
import type { GraphClient } from "../clients/graph/client.js";
import { IntuneApi } from "../clients/graph/intune.js";
import type { OwnershipStamp } from "../core/app-definition/stamp.js";
import { readStamp, stampNotes } from "../core/app-definition/stamp.js";
import { isPublisherError, PublisherError } from "../core/errors.js";
import type { OwnedApp, TenantApp } from "../core/plan/plan.js";
import { resolveDefinitionId } from "../core/plan/find.js";
import { classifyTenantApps } from "../core/plan/plan.js";
import type { RollbackPlan, RollbackWork } from "../core/plan/rollback.js";
import {
  passedVersions,
  planRollback,
  rolledBackStamp,
  same,
  selectVersions,
  targetStamp,
} from "../core/plan/rollback.js";
import { nextSelectedApps } from "../core/targeting/esp.js";
import type { MobileAppAssignmentWire } from "../core/wire/graph.js";
import { ODATA_TYPE } from "../core/wire/graph.js";
import { labelNames, readEspProfiles, rewriteEspApps } from "./tenant.js";

export type { RollbackAssignmentRow, RollbackPlan, RollbackStampRow, VersionRef } from "../core/plan/rollback.js";

export interface RollbackOptions {
  graph: GraphClient;
  /** a definition id, or the app id or display name of one of our stamped apps */
  app: string;
  /** the version to roll back to (the stamp's version, or an app id); default: the newest previous version */
  to?: string;
  /** plan only: nothing is written */
  dryRun?: boolean;
  signal?: AbortSignal;
}

export interface RollbackResult {
  rollback: RollbackPlan;
  dryRun: boolean;
}

// ---------------------------------------------------------------------------------------------------------------
// Reading

/** Reads what the rollback moves (the versions, their assignments, ESP profiles, dependents) and plans it. */
async function readAndPlan(api: IntuneApi, o: RollbackOptions): Promise<RollbackWork> {
  const { signal } = o;
  const apps = await api.listWin32Apps(signal);
  const tenant = classifyTenantApps(apps as unknown as TenantApp[]);
  const definitionId = resolveDefinitionId(tenant, apps, o.app);
  const mine = tenant.owned.filter((x) => x.stamp.id === definitionId);
  const { current, target } = selectVersions(tenant, definitionId, o.to);
  const facts = { definitionId, mine, current, target };
  if (current === target)
    return planRollback({
      ...facts,
      assignments: new Map(),
      names: {},
      espProfiles: [],
      currentRelationships: [],
    });

  const assignments = new Map<string, MobileAppAssignmentWire[]>();
  const read = async (x: OwnedApp) => {
    const list = await api.listAssignments(x.app.id, signal);
    assignments.set(x.app.id.toLowerCase(), list);
    return list;
  };
  const names = await labelNames(api, [...(await read(current)), ...(await read(target))], signal);
  const recordsEsp = (current.stamp.esp ?? []).length > 0;
  const espProfiles = await readEspProfiles(api, !recordsEsp, signal);
  for (const v of passedVersions(mine, current, target)) await read(v);
  // For a warning only: when they cannot be read, it is left out (a cancelled run still stops).
  let currentRelationships;
  try {
    currentRelationships = await api.listRelationships(current.app.id, signal);
  } catch (e) {
    if (signal?.aborted) throw e;
  }
  return planRollback({ ...facts, assignments, names, espProfiles, currentRelationships });
}

// ---------------------------------------------------------------------------------------------------------------
// Writing

/**
 * The writes, in an order chosen so that a failure half-way leaves a state the same command finishes (re-run
 * `rollback APP --to <target version>`; the error says so):
 *
 *   1. target `/assign`: the current app's set ∪ the target's own assignments on other targets
 *   2. each ESP profile listing the current app: current id → target id (GET just before, PATCH the full list)
 *   3. current `/assign` with `[]`
 *   4. target stamp: the current app's records of targets and profiles; `rolledBack` removed
 *   5. versions passed over: `rolledBack`
 *   6. current stamp: `rolledBack`, records dropped — the commit point
 *
 * Until step 6 the stamps still make the current app current (currentApp() picks the newest live app, and the
 * target is older), so a re-run finds the same "from" and "to" and every step is idempotent: (1) is a union, so
 * after (3) emptied the current app the target keeps everything and no `/assign` is sent; (2) only touches
 * profiles that still list the current app; (3) and the stamps are skipped when already done; the records
 * written in (4) are read from the current app's stamp, which only (6) changes. Rolling *forward* (the target is
 * a newer, rolled-back version) commits at (4) instead: the target becomes the newest live app; (6) then only
 * marks an older app. Between (1) and (3) both apps are assigned (the newer one supersedes), which is the state
 * the rollback leaves anyway after (3). A `publish` run before the commit point sees the old current app without
 * assignments and assigns it again: the rollback, run again, is what finishes the move.
 */
async function applyRollback(api: IntuneApi, w: RollbackWork, signal?: AbortSignal): Promise<void> {
  const { plan, current, target } = w;
  let step = "assign the target";
  const done: string[] = [];
  try {
    if (w.targetBody !== undefined) {
      await api.assign(target.app.id, w.targetBody, signal);
      done.push(`${target.app.id} assigned`);
    }
    for (const c of plan.esp) {
      step = `update the ESP profile "${c.displayName}"`;
      const swap = (ids: string[]) =>
        ids.some((x) => same(x, current.app.id)) ? nextSelectedApps(ids, c.add, c.remove) : undefined;
      if (await rewriteEspApps(api, c.profileId, swap, signal)) done.push(`ESP profile "${c.displayName}" updated`);
    }
    if (w.clearCurrent) {
      step = "remove the assignments of the current app";
      await api.assign(current.app.id, [], signal);
      done.push(`${current.app.id} unassigned`);
    }
    step = "stamp the target";
    if (await restamp(api, target, (s) => targetStamp(s, w.plan.alreadyCurrent ? undefined : current.stamp), signal))
      done.push(`${target.app.id} stamped current`);
    for (const v of w.passed) {
      step = `stamp ${v.app.id} rolled back`;
      if (await restamp(api, v, (s) => ({ ...s, rolledBack: true }), signal))
        done.push(`${v.app.id} stamped rolled back`);
    }
    if (!w.plan.alreadyCurrent) {
      step = "stamp the current app rolled back";
      await restamp(api, current, rolledBackStamp, signal);
    }
  } catch (e) {
    const err = isPublisherError(e)
      ? e
      : new PublisherError("Internal", e instanceof Error ? e.message : String(e), { cause: e });
    throw new PublisherError(
      err.code,
      `Rollback of ${plan.definitionId} from ${plan.from.version} to ${plan.to.version} stopped at "${step}": ${err.message}${done.length > 0 ? ` Done before: ${done.join("; ")}.` : " Nothing was changed."}`,
      {
        hint: `Run \`intune-publisher rollback ${plan.definitionId} --to ${plan.to.appId}\` again to finish it (it goes on where this run stopped).${err.hint ? ` ${err.hint}` : ""}`,
        cause: e,
        serviceCode: err.serviceCode,
      },
    );
  }
}

/** Rewrites an app's stamp from its notes as they are now; false when nothing changes. */
async function restamp(
  api: IntuneApi,
  o: OwnedApp,
  next: (s: OwnershipStamp) => OwnershipStamp,
  signal?: AbortSignal,
): Promise<boolean> {
  const fresh = await api.getAppNotes(o.app.id, signal);
  const r = readStamp(fresh.notes);
  if (r.status !== "valid" || r.stamp.id !== o.stamp.id)
    throw new PublisherError(
      "StampChanged",
      `The ownership stamp of ${o.app.id} changed while the rollback ran (${r.status === "valid" ? `it now names ${r.stamp.id}` : r.status === "absent" ? "it was removed" : r.reason}).`,
    );
  const notes = stampNotes(fresh.notes, next(r.stamp));
  if (notes === (fresh.notes ?? "")) return false;
  await api.patchApp(o.app.id, { "@odata.type": ODATA_TYPE.win32LobApp, notes }, signal);
  return true;
}

// ---------------------------------------------------------------------------------------------------------------
// The use case

export async function rollback(o: RollbackOptions): Promise<RollbackResult> {
  const api = new IntuneApi(o.graph);
  const work = await readAndPlan(api, o);
  const dryRun = o.dryRun === true;
  if (!dryRun) await applyRollback(api, work, o.signal);
  return { rollback: work.plan, dryRun };
}
