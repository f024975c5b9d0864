/**
 * The rollback plan, pure: make a retained (superseded) version of a definition the current one again. From the
 * definition's versions and what was read about them (assignments, ESP profiles, who depends on the current app):
 * the target gets the current app's whole assignment set (its own assignments on other targets kept), every ESP
 * profile listing the current app lists the target instead, and the stamps move the "current" mark (the current app
 * gets `rolledBack`, the target the current app's record of targets and profiles). src/publish/rollback.ts reads
 * and writes. Reference: docs/lifecycle.md.
 */
import type { OwnershipStamp } from "../app-definition/stamp.js";
import { formatStamp } from "../app-definition/stamp.js";
import { InternalError, PublisherError } from "../errors.js";
import type { TargetNames } from "../targeting/assignments.js";
import { assignmentLabel, canonicalAssignment, targetKey, writableAssignment } from "../targeting/assignments.js";
import type { EspChange, EspProfile } from "../targeting/esp.js";
import { ESP_PERMISSION } from "../targeting/esp.js";
import type { RelationshipRow } from "../targeting/relationships.js";
import { DEPENDENCY_TYPE } from "../targeting/relationships.js";
import type { InstallIntent, MobileAppAssignmentWire } from "../wire/graph.js";
import type { OwnedApp, TenantState } from "./plan.js";
import { committed, currentApp, newestFirst, versionsOf } from "./plan.js";

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

/** What the writes need besides the plan shown. */
export interface RollbackWork {
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
// Finding the definition and the versions (ordered as the planner's currentApp: newest created first, then app id)

export const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

function describeVersions(all: readonly OwnedApp[], current: OwnedApp | undefined): string {
  return [...all]
    .sort(newestFirst)
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
      throw new PublisherError("VersionNotFound", `${definitionId} has no version "${to}". ${listing}`, {
        hint: "Give --to one of the versions listed (or an app id).",
      });
    if (hits.length > 1)
      throw new PublisherError(
        "AmbiguousVersion",
        `${hits.length} apps of ${definitionId} carry version "${to}": ${hits.map((o) => o.app.id).join(", ")}. ${listing}`,
        { hint: "Give the app id with --to instead." },
      );
    target = hits[0]!;
  } else {
    const previous = others
      .filter((o) => newestFirst(current, o) < 0 && !o.stamp.rolledBack && committed(o))
      .sort(newestFirst);
    if (previous.length === 0)
      throw new PublisherError(
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
      "NoContent",
      `${definitionId} ${target.stamp.version} (app ${target.app.id}) has no committed content: it cannot be rolled back to. ${listing}`,
    );
  return { current, target };
}

// ---------------------------------------------------------------------------------------------------------------
// Planning

/** The versions between the target and the current app that are still live: marked rolled back too, newest first. */
export function passedVersions(mine: readonly OwnedApp[], current: OwnedApp, target: OwnedApp): OwnedApp[] {
  return mine
    .filter((x) => x !== current && x !== target && !x.stamp.rolledBack && newestFirst(x, target) < 0)
    .sort(newestFirst);
}

/** What the rollback planner needs: the versions chosen, and what was read about them. */
export interface RollbackFacts {
  definitionId: string;
  /** every version of the definition */
  mine: readonly OwnedApp[];
  current: OwnedApp;
  target: OwnedApp;
  /** assignments by lower-case app id: the current app, the target and the versions passed over */
  assignments: ReadonlyMap<string, readonly MobileAppAssignmentWire[]>;
  names: TargetNames;
  /** undefined when Graph refused to list them and the current app's stamp records no membership */
  espProfiles: readonly EspProfile[] | undefined;
  /** the current app's relationships; undefined when they could not be read */
  currentRelationships: readonly RelationshipRow[] | undefined;
}

/** Plans every write of the rollback. */
export function planRollback(f: RollbackFacts): RollbackWork {
  const { definitionId, mine, current, target } = f;
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
  const passed = passedVersions(mine, current, target);
  const held = (o: OwnedApp) => f.assignments.get(o.app.id.toLowerCase()) ?? [];
  const fromSet = held(current);
  const toSet = held(target);
  const row = (appId: string, action: RollbackAssignmentRow["action"], a: MobileAppAssignmentWire) => ({
    appId,
    action,
    intent: a.intent,
    target: targetKey(a.target),
    label: assignmentLabel(a, f.names),
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
  const esp: EspChange[] = [];
  if (f.espProfiles === undefined)
    warnings.push(
      `Enrollment Status Page profiles were not checked: Graph refused to list them (403) and the stamp of ${current.app.id} records no ESP membership. If a profile lists ${current.app.id}, swap it for ${target.app.id} by hand, or grant ${ESP_PERMISSION} and run the rollback again.`,
    );
  for (const p of f.espProfiles ?? []) {
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
    const n = held(v).length;
    if (n > 0)
      warnings.push(
        `${definitionId} ${v.stamp.version} (app ${v.app.id}), a version this rollback passes over, keeps its ${n} assignment(s).`,
      );
  }
  // Other apps that depend on the current app still install it (a dependency is installed without an assignment).
  for (const r of (f.currentRelationships ?? []).filter(
    (x) => x.targetType === "parent" && x["@odata.type"] === DEPENDENCY_TYPE,
  ))
    warnings.push(
      `${r.targetDisplayName ?? r.targetId} (${r.targetId}) depends on ${current.app.id} (${definitionId} ${current.stamp.version}) and still installs it; publish that app again to point its dependency at the current version.`,
    );

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
export function targetStamp(s: OwnershipStamp, from?: OwnershipStamp): OwnershipStamp {
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
export function rolledBackStamp(s: OwnershipStamp): OwnershipStamp {
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
