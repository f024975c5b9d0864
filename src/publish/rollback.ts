/**
 * `intune-publisher rollback APP [--to VERSION]` (issue 6 "Versions"): make a retained (superseded) version of a
 * definition the current one again. Moves the assignments and the Enrollment Status Page membership of the current
 * app to the target, and moves the "current" mark in the ownership stamps (the current app gets `rolledBack`, the
 * target the current app's record of targets and profiles). Relationships are left as they are: the newer app
 * still supersedes the older one, and with no assignments that has no effect.
 *
 * Everything is read and planned before the first write; `dryRun` stops there. Afterwards `publish` of the same
 * definition plans "nothing" (src/core/plan/plan.ts skips rolled-back apps and holds a definition equal to one),
 * and a new version supersedes the rolled-back-to app.
 *
 * Permissions: DeviceManagementApps.ReadWrite.All (apps, assignments, stamps);
 * DeviceManagementServiceConfig.ReadWrite.All (ESP profiles; without it, ESP is skipped when the stamp records no
 * membership); GroupMember.Read.All and DeviceManagementConfiguration.Read.All for labels only (ids otherwise).
 * Reference: docs/cli.md "rollback", docs/lifecycle.md.
 */
import type { GraphClient } from "../clients/graph/client.js";
import { GraphError } from "../clients/graph/errors.js";
import type { OwnershipStamp } from "../core/app-definition/stamp.js";
import { formatStamp, readStamp, stampNotes } from "../core/app-definition/stamp.js";
import { InternalError, isPublisherError, PublisherError } from "../core/errors.js";
import type { OwnedApp, TenantApp, TenantState } from "../core/plan/plan.js";
import { classifyTenantApps, currentApp } from "../core/plan/plan.js";
import type { EspChange, EspProfile } from "../core/targeting/esp.js";
import { nextSelectedApps } from "../core/targeting/esp.js";
import type { TargetNames } from "../core/targeting/assignments.js";
import {
  assignmentLabel,
  canonicalAssignment,
  GROUP_TARGET,
  EXCLUSION_TARGET,
  targetKey,
  writableAssignment,
} from "../core/targeting/assignments.js";
import type { RelationshipRow } from "../core/targeting/relationships.js";
import { DEPENDENCY_TYPE } from "../core/targeting/relationships.js";
import type { InstallIntent, MobileAppAssignmentWire, Win32LobAppWire } from "../core/wire/graph.js";
import { ODATA_TYPE } from "../core/wire/graph.js";
import { listWin32Apps, MOBILE_APPS } from "./publish.js";
import { ASSIGNMENT_FILTERS, ENROLLMENT_CONFIGURATIONS, versionsOf } from "./targeting.js";

type Sig = { signal?: AbortSignal };
const sig = (signal?: AbortSignal): Sig => (signal === undefined ? {} : { signal });
const appPath = (id: string): string => `${MOBILE_APPS}/${encodeURIComponent(id)}`;
const ESP_PERMISSION = "DeviceManagementServiceConfig.ReadWrite.All";

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

export interface VersionRef {
  appId: string;
  version: string;
}

/** One assignment of the move: added to / changed on / kept on the target, or removed from the current app. */
export interface RollbackAssignmentRow {
  appId: string;
  action: "add" | "change" | "keep" | "remove";
  intent: InstallIntent;
  /** `targetKey`: `group:<id>`, `exclude:<id>`, `allDevices`, `allUsers` */
  target: string;
  /** for people: `required: group Pilot devices (filter …, include)` */
  label: string;
}

/** A stamp the rollback rewrites, as it will read afterwards. */
export interface RollbackStampRow {
  appId: string;
  version: string;
  rolledBack: boolean;
  /** the assignment-target digests it records */
  targets: string[];
  /** the ESP-profile digests it records */
  esp: string[];
}

export interface RollbackPlan {
  definitionId: string;
  displayName: string;
  from: VersionRef;
  to: VersionRef;
  /** `to` already is the current version (a repeated `--to`): nothing moves */
  alreadyCurrent: boolean;
  assignments: RollbackAssignmentRow[];
  /** per profile: the current app's id removed, the target's added */
  esp: EspChange[];
  stamps: RollbackStampRow[];
  warnings: string[];
}

export interface RollbackResult {
  rollback: RollbackPlan;
  dryRun: boolean;
}

/** What the writes need besides the plan shown. */
interface Work {
  plan: RollbackPlan;
  current: OwnedApp;
  target: OwnedApp;
  /** the versions between the target and the current app, marked rolled back too so the target is current */
  passed: OwnedApp[];
  /** the target's `/assign` body, or undefined when it already holds exactly that set */
  targetBody?: MobileAppAssignmentWire[];
  clearCurrent: boolean;
}

// ---------------------------------------------------------------------------------------------------------------
// Ordering helpers (the same order as the planner's currentApp: newest created first, then app id)

const created = (o: OwnedApp): number => Date.parse(o.app.createdDateTime ?? "") || 0;
/** negative when `a` is newer than `b` */
const newerFirst = (a: OwnedApp, b: OwnedApp): number =>
  created(b) - created(a) || (a.app.id < b.app.id ? -1 : a.app.id > b.app.id ? 1 : 0);
const committed = (o: OwnedApp): boolean =>
  typeof o.app.committedContentVersion === "string" && o.app.committedContentVersion !== "";
const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

function describeVersions(all: readonly OwnedApp[], current: OwnedApp | undefined): string {
  return [...all]
    .sort(newerFirst)
    .map((o) => {
      const marks = [
        o === current ? "current" : "",
        o.stamp.rolledBack ? "rolled back" : "",
        committed(o) ? "" : "no committed content",
      ].filter(Boolean);
      return `${o.stamp.version} (app ${o.app.id}${o.app.createdDateTime ? `, created ${o.app.createdDateTime}` : ""}${marks.length ? `; ${marks.join(", ")}` : ""})`;
    })
    .join(", ");
}

// ---------------------------------------------------------------------------------------------------------------
// Finding the definition and the versions

/**
 * APP → definition id: a definition id, else the app id, else the display name of one of our stamped apps. `done`
 * completes "only apps intune-publisher published can be …" in the not-found message.
 */
export function resolveDefinitionId(
  tenant: TenantState,
  apps: readonly Win32LobAppWire[],
  query: string,
  done = "rolled back",
): string {
  const ids = [...new Set(tenant.owned.map((o) => o.stamp.id))].sort();
  if (ids.includes(query)) return query;
  const q = query.toLowerCase();
  const byApp = tenant.owned.filter((o) => o.app.id.toLowerCase() === q);
  if (byApp.length > 0) return byApp[0]!.stamp.id;
  const byName = [
    ...new Set(tenant.owned.filter((o) => (o.app.displayName ?? "").toLowerCase() === q).map((o) => o.stamp.id)),
  ];
  if (byName.length === 1) return byName[0]!;
  if (byName.length > 1)
    throw new PublisherError(
      "usage",
      "AmbiguousApp",
      `"${query}" is the name of apps of ${byName.length} definitions: ${byName.join(", ")}.`,
      { hint: "Give the definition id instead." },
    );
  const foreign = apps.find((a) => a.id.toLowerCase() === q || a.displayName.toLowerCase() === q);
  const why = foreign
    ? ` The app ${foreign.id} (${foreign.displayName}) has no valid intune-publisher ownership stamp: only apps intune-publisher published can be ${done}.`
    : "";
  throw new PublisherError(
    "input",
    "AppNotFound",
    `No app published by intune-publisher has the definition id, app id or name "${query}".${why} Definition ids in the tenant: ${ids.length > 0 ? ids.join(", ") : "none"}.`,
    { hint: "Run `intune-publisher apps list` to see the apps and their definition ids." },
  );
}

/** The current app and the one to roll back to (`to`: a stamp version or an app id; default the newest previous). */
export function selectVersions(
  tenant: TenantState,
  definitionId: string,
  to: string | undefined,
): { current: OwnedApp; target: OwnedApp } {
  const { current, others } = versionsOf(tenant, definitionId);
  if (current === undefined) throw new InternalError(`No app carries the definition id ${definitionId}.`);
  const all = [current, ...others];
  const listing = `Versions of ${definitionId}: ${describeVersions(all, current)}.`;
  let target: OwnedApp;
  if (to !== undefined) {
    const hits = all.filter((o) => o.stamp.version === to || same(o.app.id, to));
    if (hits.length === 0)
      throw new PublisherError("input", "VersionNotFound", `${definitionId} has no version "${to}". ${listing}`, {
        hint: "Give --to one of the versions listed (or an app id).",
      });
    if (hits.length > 1)
      throw new PublisherError(
        "usage",
        "AmbiguousVersion",
        `${hits.length} apps of ${definitionId} carry version "${to}": ${hits.map((o) => o.app.id).join(", ")}. ${listing}`,
        { hint: "Give the app id with --to instead." },
      );
    target = hits[0]!;
  } else {
    const previous = others
      .filter((o) => newerFirst(current, o) < 0 && !o.stamp.rolledBack && committed(o))
      .sort(newerFirst);
    if (previous.length === 0)
      throw new PublisherError(
        "input",
        "NothingToRollBack",
        `Nothing to roll back to: ${definitionId} ${current.stamp.version} (app ${current.app.id}) has no previous version with committed content that was not rolled back itself. ${listing}`,
        {
          hint: "Publish with updateStrategy supersede and supersedence.keepPreviousVersions ≥ 1 to keep previous versions; name one with --to.",
        },
      );
    target = previous[0]!;
  }
  if (target !== current && !committed(target))
    throw new PublisherError(
      "input",
      "NoContent",
      `${definitionId} ${target.stamp.version} (app ${target.app.id}) has no committed content: it cannot be rolled back to. ${listing}`,
    );
  return { current, target };
}

// ---------------------------------------------------------------------------------------------------------------
// Reading and planning

/** Group and filter names for labels, as far as the permissions allow (ids otherwise). */
export async function labelNames(
  graph: GraphClient,
  assignments: readonly MobileAppAssignmentWire[],
  signal?: AbortSignal,
): Promise<TargetNames> {
  const groups = new Map<string, string>();
  const filters = new Map<string, string>();
  const groupIds = new Set(
    assignments
      .filter((a) => a.target["@odata.type"] === GROUP_TARGET || a.target["@odata.type"] === EXCLUSION_TARGET)
      .map((a) => (a.target.groupId ?? "").toLowerCase())
      .filter((x) => x !== ""),
  );
  for (const id of groupIds) {
    try {
      const g = await graph.get<{ id: string; displayName: string }>(`/groups/${encodeURIComponent(id)}`, {
        query: { $select: "id,displayName" },
        ...sig(signal),
      });
      groups.set(id, g.displayName);
    } catch (e) {
      if (signal?.aborted) throw e;
    }
  }
  if (assignments.some((a) => (a.target.deviceAndAppManagementAssignmentFilterType ?? "none") !== "none")) {
    try {
      const list = await graph.listAll<{ id: string; displayName: string }>(ASSIGNMENT_FILTERS, sig(signal));
      for (const f of list) filters.set(f.id.toLowerCase(), f.displayName);
    } catch (e) {
      if (signal?.aborted) throw e;
    }
  }
  return { groups, filters };
}

/**
 * Every ESP profile; undefined when Graph refuses (403) and the caller may go without. `operation` names the command
 * in the permission error ("the rollback", "the removal").
 */
export async function readEspProfiles(
  graph: GraphClient,
  mayGoWithout: boolean,
  signal?: AbortSignal,
  operation = "the rollback",
): Promise<EspProfile[] | undefined> {
  try {
    return (await graph.listAll<EspProfile>(ENROLLMENT_CONFIGURATIONS, sig(signal))).filter(
      (c) => c["@odata.type"] === ODATA_TYPE.espConfiguration,
    );
  } catch (e) {
    if (!(e instanceof GraphError && e.status === 403)) throw e;
    if (mayGoWithout) return undefined;
    throw new PublisherError(
      "permission",
      "PermissionMissing",
      `Graph refused to list the Enrollment Status Page profiles (403${e.requestId ? `, request-id ${e.requestId}` : ""}), and the app's ownership stamp records ESP membership: the app registration needs ${ESP_PERMISSION} for ${operation}.`,
      {
        hint: `Grant ${ESP_PERMISSION} (application permission, admin consent) — \`intune-publisher connect setup\` prints the steps — and run ${operation} again. Nothing was changed.`,
        cause: e,
      },
    );
  }
}

/** Reads what the rollback moves and plans every write (no write here). */
async function planRollback(o: RollbackOptions): Promise<Work> {
  const { graph, signal } = o;
  const apps = await listWin32Apps(graph, signal);
  const tenant = classifyTenantApps(apps as unknown as TenantApp[]);
  const definitionId = resolveDefinitionId(tenant, apps, o.app);
  const mine = tenant.owned.filter((x) => x.stamp.id === definitionId);
  const { current, target } = selectVersions(tenant, definitionId, o.to);
  const warnings: string[] = [];
  const displayName = target.app.displayName ?? current.app.displayName ?? definitionId;
  const base = {
    definitionId,
    displayName,
    from: { appId: current.app.id, version: current.stamp.version },
    to: { appId: target.app.id, version: target.stamp.version },
  };

  if (current === target) {
    // A repeated `rollback --to V`: V is current already. Only a leftover rolled-back mark is removed.
    const stamps = changedStamps([[target, targetStamp(target.stamp)]]);
    return {
      plan: { ...base, alreadyCurrent: true, assignments: [], esp: [], stamps, warnings },
      current,
      target,
      passed: [],
      clearCurrent: false,
    };
  }

  // Versions newer than the target that are still live: marked rolled back too, or currentApp() would pick them.
  const passed = mine
    .filter((x) => x !== current && x !== target && !x.stamp.rolledBack && newerFirst(x, target) < 0)
    .sort(newerFirst);

  const list = (id: string) => graph.listAll<MobileAppAssignmentWire>(`${appPath(id)}/assignments`, sig(signal));
  const fromSet = await list(current.app.id);
  const toSet = await list(target.app.id);
  const names = await labelNames(graph, [...fromSet, ...toSet], signal);
  const row = (appId: string, action: RollbackAssignmentRow["action"], a: MobileAppAssignmentWire) => ({
    appId,
    action,
    intent: a.intent,
    target: targetKey(a.target),
    label: assignmentLabel(a, names),
  });

  // The target gets the current app's whole set; its own assignments on other targets are kept (a union, so
  // that a re-run after the current app was cleared never takes them away: see `applyRollback`).
  const assignments: RollbackAssignmentRow[] = [];
  const fromKeys = new Set(fromSet.map((a) => targetKey(a.target)));
  const toByKey = new Map(toSet.map((a) => [targetKey(a.target), a]));
  for (const a of fromSet) {
    const had = toByKey.get(targetKey(a.target));
    const action = had === undefined ? "add" : canonicalAssignment(had) === canonicalAssignment(a) ? "keep" : "change";
    assignments.push(row(target.app.id, action, a));
  }
  const kept = toSet.filter((a) => !fromKeys.has(targetKey(a.target)));
  for (const a of kept) assignments.push(row(target.app.id, "keep", a));
  for (const a of fromSet) assignments.push(row(current.app.id, "remove", a));
  const body = [...fromSet, ...kept].map(writableAssignment);
  const canon = (l: readonly MobileAppAssignmentWire[]) => JSON.stringify(l.map(canonicalAssignment).sort());
  const targetBody = canon(body) === canon(toSet) ? undefined : body;

  // ESP: every profile that lists the current app swaps it for the target.
  const recordsEsp = (current.stamp.esp ?? []).length > 0;
  const profiles = await readEspProfiles(graph, !recordsEsp, signal);
  const esp: EspChange[] = [];
  if (profiles === undefined)
    warnings.push(
      `Enrollment Status Page profiles were not checked: Graph refused to list them (403) and the stamp of ${current.app.id} records no ESP membership. If a profile lists ${current.app.id}, swap it for ${target.app.id} by hand, or grant ${ESP_PERMISSION} and run the rollback again.`,
    );
  for (const p of profiles ?? []) {
    const ids = p.selectedMobileAppIds ?? [];
    if (ids.some((x) => same(x, current.app.id)))
      esp.push({ profileId: p.id, displayName: p.displayName, add: [target.app.id], remove: [current.app.id] });
    for (const v of passed)
      if (ids.some((x) => same(x, v.app.id)))
        warnings.push(
          `The Enrollment Status Page profile "${p.displayName}" lists ${v.app.id} (${definitionId} ${v.stamp.version}), a version this rollback passes over; it is left there.`,
        );
  }

  for (const v of passed) {
    const held = await list(v.app.id);
    if (held.length > 0)
      warnings.push(
        `${definitionId} ${v.stamp.version} (app ${v.app.id}), a version this rollback passes over, keeps its ${held.length} assignment(s).`,
      );
  }
  // Other apps that depend on the current app still install it (a dependency is installed without an assignment).
  try {
    const rows = await graph.listAll<RelationshipRow>(`${appPath(current.app.id)}/relationships`, sig(signal));
    for (const r of rows.filter((x) => x.targetType === "parent" && x["@odata.type"] === DEPENDENCY_TYPE))
      warnings.push(
        `${r.targetDisplayName ?? r.targetId} (${r.targetId}) depends on ${current.app.id} (${definitionId} ${current.stamp.version}) and still installs it; publish that app again to point its dependency at the current version.`,
      );
  } catch (e) {
    if (signal?.aborted) throw e;
  }

  const stamps = changedStamps([
    [target, targetStamp(target.stamp, current.stamp)],
    ...passed.map((v): [OwnedApp, OwnershipStamp] => [v, { ...v.stamp, rolledBack: true }]),
    [current, rolledBackStamp(current.stamp)],
  ]);
  const plan: RollbackPlan = { ...base, alreadyCurrent: false, assignments, esp, stamps, warnings };
  if (currentAfter(mine, plan)?.app.id !== target.app.id)
    throw new InternalError(`After the rollback, ${target.app.id} would not be the current app of ${definitionId}.`);
  return {
    plan,
    current,
    target,
    passed,
    ...(targetBody === undefined ? {} : { targetBody }),
    clearCurrent: fromSet.length > 0,
  };
}

/** The target's stamp: the current app's record of targets and profiles, no `rolledBack`. */
function targetStamp(s: OwnershipStamp, from?: OwnershipStamp): OwnershipStamp {
  const targets = from ? from.targets : s.targets;
  const esp = from ? from.esp : s.esp;
  return {
    id: s.id,
    version: s.version,
    contentHash: s.contentHash,
    ...(targets && targets.length > 0 ? { targets } : {}),
    ...(esp && esp.length > 0 ? { esp } : {}),
  };
}

/** The current app's stamp afterwards: rolled back; its records moved to the target (it holds nothing now). */
function rolledBackStamp(s: OwnershipStamp): OwnershipStamp {
  return { id: s.id, version: s.version, contentHash: s.contentHash, rolledBack: true };
}

/** The stamps that change, as they will read. */
function changedStamps(next: readonly [OwnedApp, OwnershipStamp][]): RollbackStampRow[] {
  return next
    .filter(([o, s]) => formatStamp(o.stamp) !== formatStamp(s))
    .map(([o, s]) => ({
      appId: o.app.id,
      version: o.stamp.version,
      rolledBack: s.rolledBack === true,
      targets: [...(s.targets ?? [])].sort(),
      esp: [...(s.esp ?? [])].sort(),
    }));
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
async function applyRollback(graph: GraphClient, w: Work, signal?: AbortSignal): Promise<void> {
  const { plan, current, target } = w;
  let step = "assign the target";
  const done: string[] = [];
  try {
    if (w.targetBody !== undefined) {
      await graph.post(`${appPath(target.app.id)}/assign`, { mobileAppAssignments: w.targetBody }, sig(signal));
      done.push(`${target.app.id} assigned`);
    }
    for (const c of plan.esp) {
      step = `update the ESP profile "${c.displayName}"`;
      const path = `${ENROLLMENT_CONFIGURATIONS}/${encodeURIComponent(c.profileId)}`;
      const profile = await graph.get<EspProfile>(path, sig(signal));
      const before = [...(profile.selectedMobileAppIds ?? [])];
      if (!before.some((x) => same(x, current.app.id))) continue;
      const next = nextSelectedApps(before, c.add, c.remove);
      await graph.patch(path, { "@odata.type": profile["@odata.type"], selectedMobileAppIds: next }, sig(signal));
      done.push(`ESP profile "${c.displayName}" updated`);
    }
    if (w.clearCurrent) {
      step = "remove the assignments of the current app";
      await graph.post(`${appPath(current.app.id)}/assign`, { mobileAppAssignments: [] }, sig(signal));
      done.push(`${current.app.id} unassigned`);
    }
    step = "stamp the target";
    if (await restamp(graph, target, (s) => targetStamp(s, w.plan.alreadyCurrent ? undefined : current.stamp), signal))
      done.push(`${target.app.id} stamped current`);
    for (const v of w.passed) {
      step = `stamp ${v.app.id} rolled back`;
      if (await restamp(graph, v, (s) => ({ ...s, rolledBack: true }), signal))
        done.push(`${v.app.id} stamped rolled back`);
    }
    if (!w.plan.alreadyCurrent) {
      step = "stamp the current app rolled back";
      await restamp(graph, current, rolledBackStamp, signal);
    }
  } catch (e) {
    const err = isPublisherError(e)
      ? e
      : new PublisherError("internal", "Internal", e instanceof Error ? e.message : String(e), { cause: e });
    throw new PublisherError(
      err.kind,
      err.code,
      `Rollback of ${plan.definitionId} from ${plan.from.version} to ${plan.to.version} stopped at "${step}": ${err.message}${done.length > 0 ? ` Done before: ${done.join("; ")}.` : " Nothing was changed."}`,
      {
        hint: `Run \`intune-publisher rollback ${plan.definitionId} --to ${plan.to.appId}\` again to finish it (it goes on where this run stopped).${err.hint ? ` ${err.hint}` : ""}`,
        cause: e,
      },
    );
  }
}

/** Rewrites an app's stamp from its notes as they are now; false when nothing changes. */
async function restamp(
  graph: GraphClient,
  o: OwnedApp,
  next: (s: OwnershipStamp) => OwnershipStamp,
  signal?: AbortSignal,
): Promise<boolean> {
  const fresh = await graph.get<Win32LobAppWire>(appPath(o.app.id), { query: { $select: "id,notes" }, ...sig(signal) });
  const r = readStamp(fresh.notes);
  if (r.status !== "valid" || r.stamp.id !== o.stamp.id)
    throw new PublisherError(
      "graph",
      "StampChanged",
      `The ownership stamp of ${o.app.id} changed while the rollback ran (${r.status === "valid" ? `it now names ${r.stamp.id}` : r.status === "absent" ? "it was removed" : r.reason}).`,
    );
  const notes = stampNotes(fresh.notes, next(r.stamp));
  if (notes === (fresh.notes ?? "")) return false;
  await graph.patch(appPath(o.app.id), { "@odata.type": ODATA_TYPE.win32LobApp, notes }, sig(signal));
  return true;
}

// ---------------------------------------------------------------------------------------------------------------
// The use case

export async function rollback(o: RollbackOptions): Promise<RollbackResult> {
  const work = await planRollback(o);
  const dryRun = o.dryRun === true;
  if (!dryRun) await applyRollback(o.graph, work, o.signal);
  return { rollback: work.plan, dryRun };
}

/** The app currentApp() picks once the stamps of `plan` are written (the plan checks it is the target). */
export function currentAfter(mine: readonly OwnedApp[], plan: RollbackPlan): OwnedApp | undefined {
  const byId = new Map(plan.stamps.map((s) => [s.appId.toLowerCase(), s]));
  return currentApp(
    mine.map((x) => {
      const s = byId.get(x.app.id.toLowerCase());
      if (s === undefined) return x;
      const { rolledBack: _rb, ...rest } = x.stamp;
      return { app: x.app, stamp: s.rolledBack ? { ...rest, rolledBack: true } : rest };
    }),
  );
}
