/**
 * The targeting part of the publish plan (issue 6), pure: for each plan item, the assignments, relationships, ESP
 * membership and retention deletions that make the tenant match the definition, with problems found before any
 * call (Intune's relationship limits, dependencies that cannot be resolved).
 *
 * An app this run creates (create, supersede) has no id yet: the plan names it `new:<definition id>` and the
 * use case puts the real id in when it exists (`NEW_APP_PREFIX`).
 */
import type { AppDefinition } from "../app-definition/schema.js";
import { supersedenceOf } from "../app-definition/schema.js";
import type { EspChange, EspProfile } from "../targeting/esp.js";
import { planEsp } from "../targeting/esp.js";
import type { AssignmentPlan, AssignmentRow, TargetNames } from "../targeting/assignments.js";
import { assignmentLabel, carriedAssignments, planAssignments, targetKey } from "../targeting/assignments.js";
import type { Link, RelationshipPlan, RelationshipRow } from "../targeting/relationships.js";
import {
  DEPENDENCY_TYPE,
  linksOf,
  MAX_SUPERSEDENCE_NODES,
  outgoingLinks,
  planOutgoing,
  relationshipProblems,
  supersedenceGraphSize,
  withOutgoing,
} from "../targeting/relationships.js";
import type { MobileAppAssignmentWire } from "../wire/graph.js";
import type { OwnedApp, Plan, PlanItem, TenantState } from "./plan.js";
import { newestFirst } from "./plan.js";

export const NEW_APP_PREFIX = "new:";
export const newAppRef = (definitionId: string): string => `${NEW_APP_PREFIX}${definitionId}`;
export const isNewAppRef = (id: string): boolean => id.startsWith(NEW_APP_PREFIX);

/** A dependency as the use case resolved it: another definition (by id), or an existing app (by name or id). */
export type ResolvedDependency =
  | { ref: string; type: "autoInstall" | "detect"; definitionId: string }
  | { ref: string; type: "autoInstall" | "detect"; appId: string; displayName: string };

/** One definition's targeting, with names resolved to the tenant's ids. */
export interface DesiredTargeting {
  definitionId: string;
  definition: AppDefinition;
  /** the assignment bodies (definition order; the targeting file's first) */
  assignments: MobileAppAssignmentWire[];
  /** ESP profile ids the definition names; undefined = not managed */
  espProfileIds?: ReadonlySet<string>;
  /** undefined = dependencies not managed */
  dependencies?: ResolvedDependency[];
}

/** What the use case read from the tenant for targeting. */
export interface TargetingFacts {
  /** current assignments, by app id (lower-case), for the apps the plan targets */
  assignments: ReadonlyMap<string, readonly MobileAppAssignmentWire[]>;
  /** `GET …/relationships` rows by app id (lower-case): the plan's apps, their supersedence graphs, deletions */
  relationships: ReadonlyMap<string, readonly RelationshipRow[]>;
  /** every Enrollment Status Page profile; undefined when no definition manages ESP and no profile was read */
  espProfiles?: readonly EspProfile[];
  names: TargetNames;
}

export interface RetentionDeletion {
  appId: string;
  version: string;
  createdDateTime?: string;
}

export interface ItemTargeting {
  /** the app targeted after this run: the existing id, or `new:<id>` */
  appId: string;
  assignments: AssignmentPlan;
  /** supersede with carry-over move: the previous version's assignments are removed */
  previousAssignments?: { appId: string; remove: AssignmentRow[] };
  /** carry-over copy or move: assignments of the previous version added to the new app (in `assignments.add`) */
  carried: number;
  relationships?: RelationshipPlan;
  esp: EspChange[];
  retention: RetentionDeletion[];
  /** versions retention would delete but cannot (another app, not ours, links to them) */
  retentionBlocked: { appId: string; version: string; reason: string }[];
  /**
   * Kept versions taken out of the supersedence graph (their supersedence links removed, the apps kept) because
   * with them the graph would pass Intune's 10 apps: the oldest kept versions go first.
   */
  detach: (RetentionDeletion & { siblings: string[] })[];
  /**
   * Our apps (outside this run's managed dependencies) that depend on the version this run supersedes: their
   * dependency is pointed at the new version, so dependencies follow the newest published version.
   */
  dependents: string[];
  /** display names of the apps this item's lines mention (ids as keys, lower-case), for people */
  appNames: Record<string, string>;
  /** the stamp records these after the run */
  stamp: { targets: string[]; esp: string[] };
  /** found before any call: the item is not applied */
  problems: string[];
  /** true when anything here writes to the tenant */
  changed: boolean;
}

/** The final app id of each definition after this run (existing id or `new:<id>`). */
export function finalAppIds(plan: Plan): Map<string, string> {
  const m = new Map<string, string>();
  for (const i of plan.items) {
    const creates = i.action === "create" || (i.action === "new-version" && i.strategy === "supersede");
    m.set(i.id, creates ? newAppRef(i.id) : (i.appId ?? newAppRef(i.id)));
  }
  return m;
}

/** Adds `targeting` to every item of the plan. */
export function planTargeting(
  plan: Plan,
  desired: readonly DesiredTargeting[],
  tenant: TenantState,
  facts: TargetingFacts,
): void {
  const finals = finalAppIds(plan);
  const ownedById = new Map(tenant.owned.map((o) => [o.app.id.toLowerCase(), o]));
  const allListings = new Map(facts.relationships);
  const name = (id: string): string => {
    if (isNewAppRef(id)) return `the new app of ${id.slice(NEW_APP_PREFIX.length)}`;
    const o = ownedById.get(id.toLowerCase());
    return o ? `${o.app.displayName ?? id} ${o.stamp.version} (${id})` : (facts.names.apps?.get(id) ?? id);
  };
  const managesDependencies = new Set(
    desired
      .filter((x) => x.dependencies !== undefined && plan.items.some((i) => i.id === x.definitionId))
      .map((x) => x.definitionId),
  );
  const planned: Planned[] = [];
  for (const item of plan.items) {
    const d = desired.find((x) => x.definitionId === item.id);
    if (d === undefined) continue;
    const p = planItem(item, d, tenant, facts, finals, allListings, ownedById, managesDependencies);
    item.targeting = p.targeting;
    planned.push(p);
  }
  // Intune's limits on the links as they will be after the whole run: every item's planned links together, so
  // two definitions that would link to each other (a cycle) or grow one supersedence graph are seen here.
  const deleted = new Set(planned.flatMap((p) => [...p.deleted]));
  let links = linksOf(allListings).filter((l) => !deleted.has(l.sourceId) && !deleted.has(l.targetId));
  for (const p of planned) links = withOutgoing(links, p.targeting.appId, p.outgoing);
  // keepPreviousVersions may keep more versions than one supersedence graph holds (10 apps with the new one):
  // the oldest kept versions leave the graph (their supersedence links to other versions go; the apps stay, e.g.
  // for rollback).
  for (const p of planned) {
    const id = p.targeting.appId.toLowerCase();
    const candidates = [...p.versions].reverse().filter((o) => o.app.id.toLowerCase() !== p.previous);
    while (supersedenceGraphSize(links, id) > MAX_SUPERSEDENCE_NODES && candidates.length > 0) {
      const o = candidates.shift()!;
      const v = o.app.id.toLowerCase();
      // Only links between versions of this definition are removed: links to other apps are someone's decision.
      const siblings = new Set([
        id,
        ...tenant.owned.filter((x) => x.stamp.id === o.stamp.id).map((x) => x.app.id.toLowerCase()),
      ]);
      const ours = (x: string) => siblings.has(x);
      const mine = (l: Link) =>
        l.kind === "supersedence" && ((l.sourceId === v && ours(l.targetId)) || (l.targetId === v && ours(l.sourceId)));
      if (!links.some(mine)) continue;
      links = links.filter((l) => !mine(l));
      p.targeting.detach.push({ appId: o.app.id, version: o.stamp.version, siblings: [...siblings] });
      p.targeting.changed = true;
    }
  }
  for (const p of planned) {
    const t = p.targeting;
    const ids = [
      t.appId,
      ...(t.relationships ? [...t.relationships.add, ...t.relationships.change, ...t.relationships.remove] : []).map(
        (l) => l.targetId,
      ),
      ...t.esp.flatMap((e) => [...e.add, ...e.remove]),
      ...t.retention.map((r) => r.appId),
      ...t.detach.map((r) => r.appId),
      ...t.dependents,
      ...(t.previousAssignments ? [t.previousAssignments.appId] : []),
    ];
    for (const x of ids) t.appNames[x.toLowerCase()] = name(x);
  }
  for (const p of planned) {
    const id = p.targeting.appId.toLowerCase();
    const own = links.filter((l) => l.sourceId !== l.targetId || l.sourceId === id);
    p.targeting.problems.push(
      ...relationshipProblems(own, [id], name).filter((x) => !p.targeting.problems.includes(x)),
    );
  }
}

interface Planned {
  targeting: ItemTargeting;
  /** the app's outgoing links after this run */
  outgoing: Link[];
  /** app ids (lower-case) retention deletes */
  deleted: ReadonlySet<string>;
  /** the definition's other versions that stay, in keeping order (the first ones are kept longest) */
  versions: OwnedApp[];
  /** the version this run supersedes (lower-case) */
  previous: string | undefined;
}

function planItem(
  item: PlanItem,
  d: DesiredTargeting,
  tenant: TenantState,
  facts: TargetingFacts,
  finals: ReadonlyMap<string, string>,
  listings: ReadonlyMap<string, readonly RelationshipRow[]>,
  ownedById: ReadonlyMap<string, OwnedApp>,
  managesDependencies: ReadonlySet<string>,
): Planned {
  const def = d.definition;
  const appId = finals.get(item.id)!;
  const creates = isNewAppRef(appId);
  const sup = supersedenceOf(def);
  const problems: string[] = [];
  const previous = item.supersedes; // supersede: the app the new one succeeds
  const currentOwned = item.appId === undefined ? undefined : ownedById.get(item.appId.toLowerCase());

  // Assignments
  const current = creates ? [] : (facts.assignments.get(appId.toLowerCase()) ?? []);
  const managed = creates ? undefined : currentOwned?.stamp.targets;
  let assignments = planAssignments(d.assignments, current, managed, def.pruneAssignments, facts.names);
  let carried = 0;
  let previousAssignments: ItemTargeting["previousAssignments"];
  if (previous !== undefined) {
    const prevList = facts.assignments.get(previous.toLowerCase()) ?? [];
    if (sup.assignments !== "leave") {
      const extra = carriedAssignments(d.assignments, prevList, currentOwned?.stamp.targets);
      carried = extra.length;
      assignments = {
        ...assignments,
        add: [
          ...assignments.add,
          ...extra.map((a) => ({
            intent: a.intent,
            key: targetKey(a.target),
            label: `${assignmentLabel(a, facts.names)} (from the previous version)`,
          })),
        ],
        body: [...assignments.body, ...extra],
        changed: assignments.changed || extra.length > 0,
      };
    }
    if (sup.assignments === "move" && prevList.length > 0)
      previousAssignments = {
        appId: previous,
        remove: prevList.map((a) => ({
          intent: a.intent,
          key: targetKey(a.target),
          label: assignmentLabel(a, facts.names),
        })),
      };
  }

  // Retention (supersede only): the definition's versions after this run, beyond the ones kept. Kept first: the
  // version this run supersedes, then the others newest first; rolled-back versions go before any other.
  const versions = tenant.owned
    .filter((o) => o.stamp.id === item.id && o.app.id.toLowerCase() !== appId.toLowerCase())
    .sort(
      (a, b) =>
        Number(b.app.id.toLowerCase() === previous?.toLowerCase()) -
          Number(a.app.id.toLowerCase() === previous?.toLowerCase()) ||
        Number(a.stamp.rolledBack ?? false) - Number(b.stamp.rolledBack ?? false) ||
        newestFirst(a, b),
    );
  const retention: RetentionDeletion[] = [];
  const retentionBlocked: ItemTargeting["retentionBlocked"] = [];
  if (def.updateStrategy === "supersede") {
    for (const o of versions.slice(sup.keepPreviousVersions)) {
      const parents = (listings.get(o.app.id.toLowerCase()) ?? []).filter((r) => r.targetType === "parent");
      const foreign = parents.filter((r) => {
        const p = ownedById.get(r.targetId.toLowerCase());
        return p === undefined;
      });
      if (foreign.length > 0)
        retentionBlocked.push({
          appId: o.app.id,
          version: o.stamp.version,
          reason: `${foreign.map((r) => r.targetDisplayName ?? r.targetId).join(", ")} (not made by intune-publisher) link to it; remove those links to let it go`,
        });
      else
        retention.push({
          appId: o.app.id,
          version: o.stamp.version,
          ...(o.app.createdDateTime ? { createdDateTime: o.app.createdDateTime } : {}),
        });
    }
  }
  const deleted = new Set(retention.map((r) => r.appId.toLowerCase()));

  // Relationships of the targeted app: supersedence of the previous version, the declared dependencies.
  const currentLinks = creates ? [] : outgoingLinks(appId, listings.get(appId.toLowerCase()) ?? []);
  const set: Link[] = [];
  if (previous !== undefined && !deleted.has(previous.toLowerCase()))
    set.push({ kind: "supersedence", sourceId: appId, targetId: previous.toLowerCase(), type: sup.type });
  let dependencies: Link[] | undefined;
  if (d.dependencies !== undefined) {
    dependencies = [];
    for (const dep of d.dependencies) {
      const target = "definitionId" in dep ? finals.get(dep.definitionId) : dep.appId;
      if (target === undefined) {
        const owned = tenant.owned.filter((o) => o.stamp.id === ("definitionId" in dep ? dep.definitionId : ""));
        const cur = owned.filter((o) => !o.stamp.rolledBack).sort(newestFirst)[0] ?? owned.sort(newestFirst)[0];
        if (cur === undefined) {
          problems.push(`The dependency "${dep.ref}" has no app in the tenant yet; publish it first.`);
          continue;
        }
        dependencies.push({ kind: "dependency", sourceId: appId, targetId: cur.app.id.toLowerCase(), type: dep.type });
      } else dependencies.push({ kind: "dependency", sourceId: appId, targetId: target.toLowerCase(), type: dep.type });
    }
  } else if (previous !== undefined) {
    // Not managed: the new version keeps the dependencies the previous one had.
    const prevDeps = outgoingLinks(previous, listings.get(previous.toLowerCase()) ?? []).filter(
      (l) => l.kind === "dependency" && !deleted.has(l.targetId),
    );
    set.push(...prevDeps.map((l) => ({ ...l, sourceId: appId })));
  }
  const rel = planOutgoing(appId, currentLinks, {
    set,
    drop: deleted,
    ...(dependencies === undefined ? {} : { dependencies }),
  });

  const outgoing = [...rel.keep, ...rel.add, ...rel.change.map((l) => ({ ...l, sourceId: appId.toLowerCase() }))];

  // Our other apps that depend on the superseded version follow it to the new one (definitions of this run that
  // list their dependencies do that themselves).
  const dependents =
    previous === undefined
      ? []
      : (listings.get(previous.toLowerCase()) ?? [])
          .filter((r) => r.targetType === "parent" && r["@odata.type"] === DEPENDENCY_TYPE)
          .map((r) => r.targetId.toLowerCase())
          .filter((id) => {
            const o = ownedById.get(id);
            return o !== undefined && !managesDependencies.has(o.stamp.id) && id !== appId.toLowerCase();
          });

  // ESP membership.
  const replaced = [...(previous !== undefined ? [previous] : []), ...retention.map((r) => r.appId)];
  const others = versions.map((o) => o.app.id).filter((id) => !deleted.has(id.toLowerCase()));
  const esp =
    facts.espProfiles === undefined
      ? { changes: [], managed: [...(currentOwned?.stamp.esp ?? [])] }
      : planEsp({
          profiles: facts.espProfiles,
          desired: d.espProfileIds,
          managed: creates ? (previous !== undefined ? currentOwned?.stamp.esp : undefined) : currentOwned?.stamp.esp,
          appId,
          otherVersionIds: others,
          replacedIds: replaced,
        });

  const changed =
    assignments.changed ||
    previousAssignments !== undefined ||
    rel.changed ||
    esp.changes.length > 0 ||
    dependents.length > 0 ||
    retention.length > 0;
  const targeting: ItemTargeting = {
    appId,
    assignments,
    ...(previousAssignments === undefined ? {} : { previousAssignments }),
    carried,
    ...(rel.changed || rel.keep.length > 0 ? { relationships: rel } : {}),
    esp: esp.changes,
    retention,
    retentionBlocked,
    detach: [],
    dependents,
    appNames: {},
    stamp: { targets: assignments.managed, esp: esp.managed },
    problems,
    changed,
  };
  return {
    targeting,
    outgoing,
    deleted,
    versions: versions.filter((o) => !deleted.has(o.app.id.toLowerCase())),
    previous: previous?.toLowerCase(),
  };
}

/** True when the item writes anything (its action, or its targeting). */
export function itemHasChanges(item: PlanItem): boolean {
  return item.action !== "nothing" || (item.targeting?.changed ?? false) || stampChanges(item);
}

/** True when the stamp's recorded targets or profiles differ from what the plan leaves (a notes PATCH). */
export function stampChanges(item: PlanItem): boolean {
  const t = item.targeting;
  // A new app is created with the stamp it needs; an existing one gets a notes PATCH when its record changes.
  if (t === undefined || item.current === undefined || isNewAppRef(t.appId)) return false;
  const same = (a: readonly string[] | undefined, b: readonly string[]) =>
    JSON.stringify([...(a ?? [])].sort()) === JSON.stringify([...b].sort());
  return !same(item.current.targets, t.stamp.targets) || !same(item.current.esp, t.stamp.esp);
}
