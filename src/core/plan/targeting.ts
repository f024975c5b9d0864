/**
 * The targeting part of the publish plan, pure: for each plan item, the assignments, relationships, ESP
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
import { assignmentLabel, assignmentRow, carriedAssignments, planAssignments } from "../targeting/assignments.js";
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
    const creates = i.action === "create" || i.strategy === "supersede";
    m.set(i.id, creates ? newAppRef(i.id) : i.appId);
  }
  return m;
}

/** What planning every item shares: the inputs and what is derived from them once. */
interface PlanContext {
  tenant: TenantState;
  facts: TargetingFacts;
  /** each definition's final app id (`finalAppIds`) */
  finals: ReadonlyMap<string, string>;
  /** our apps by lower-case id */
  ownedById: ReadonlyMap<string, OwnedApp>;
  /** definitions of this run that declare their dependencies (they re-point their own) */
  managesDependencies: ReadonlySet<string>;
  /** `GET …/relationships` rows by lower-case app id */
  rows(appId: string): readonly RelationshipRow[];
  /** an app for people: `the new app of x`, `Name 1.0.0 (id)` or its display name */
  name(appId: string): string;
}

/** Adds `targeting` to every item of the plan. */
export function planTargeting(
  plan: Plan,
  desired: readonly DesiredTargeting[],
  tenant: TenantState,
  facts: TargetingFacts,
): void {
  const ownedById = new Map(tenant.owned.map((o) => [o.app.id.toLowerCase(), o]));
  const byDefinition = new Map(desired.map((d) => [d.definitionId, d]));
  const ctx: PlanContext = {
    tenant,
    facts,
    finals: finalAppIds(plan),
    ownedById,
    managesDependencies: new Set(
      plan.items.filter((i) => byDefinition.get(i.id)?.dependencies !== undefined).map((i) => i.id),
    ),
    rows: (appId) => facts.relationships.get(appId.toLowerCase()) ?? [],
    name: (id) => {
      if (isNewAppRef(id)) return `the new app of ${id.slice(NEW_APP_PREFIX.length)}`;
      const o = ownedById.get(id.toLowerCase());
      return o ? `${o.app.displayName ?? id} ${o.stamp.version} (${id})` : (facts.names.apps?.get(id) ?? id);
    },
  };
  const planned: Planned[] = [];
  for (const item of plan.items) {
    const d = byDefinition.get(item.id);
    if (d === undefined) continue;
    const p = planItem(item, d, ctx);
    item.targeting = p.targeting;
    planned.push(p);
  }
  // Intune's limits on the links as they will be after the whole run: every item's planned links together, so
  // two definitions that would link to each other (a cycle) or grow one supersedence graph are seen here.
  const deleted = new Set(planned.flatMap((p) => [...p.deleted]));
  let links = linksOf(facts.relationships).filter((l) => !deleted.has(l.sourceId) && !deleted.has(l.targetId));
  for (const p of planned) links = withOutgoing(links, p.targeting.appId, p.outgoing);
  for (const p of planned) links = detachOldest(p, links, tenant);
  for (const p of planned) nameApps(p.targeting, ctx.name);
  for (const p of planned) {
    const id = p.targeting.appId.toLowerCase();
    const own = links.filter((l) => l.sourceId !== l.targetId || l.sourceId === id);
    p.targeting.problems.push(
      ...relationshipProblems(own, [id], ctx.name).filter((x) => !p.targeting.problems.includes(x)),
    );
  }
}

/**
 * keepPreviousVersions may keep more versions than one supersedence graph holds (10 apps with the new one): the
 * oldest kept versions leave the graph (their supersedence links to other versions go; the apps stay, e.g. for
 * rollback). Returns the links without the ones removed.
 */
function detachOldest(p: Planned, links: Link[], tenant: TenantState): Link[] {
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
  return links;
}

/** The display names of every app the item's lines mention. */
function nameApps(t: ItemTargeting, name: (id: string) => string): void {
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

/** One item: who it is about, then each part of its targeting. */
interface ItemScope {
  item: PlanItem;
  d: DesiredTargeting;
  /** the app targeted after this run */
  appId: string;
  /** the app is made by this run */
  creates: boolean;
  /** supersede: the app the new one succeeds */
  previous: string | undefined;
  /** the current app, when ours */
  currentOwned: OwnedApp | undefined;
}

function planItem(item: PlanItem, d: DesiredTargeting, ctx: PlanContext): Planned {
  const appId = ctx.finals.get(item.id)!;
  const s: ItemScope = {
    item,
    d,
    appId,
    creates: isNewAppRef(appId),
    previous: item.supersedes,
    currentOwned: item.appId === undefined ? undefined : ctx.ownedById.get(item.appId.toLowerCase()),
  };
  const problems: string[] = [];
  const a = planItemAssignments(s, ctx);
  const versions = keptOrder(s, ctx.tenant);
  const r = planRetention(s, versions, ctx);
  const deleted = new Set(r.retention.map((x) => x.appId.toLowerCase()));
  const rel = planItemLinks(s, deleted, ctx, problems);
  const dependents = planDependents(s, ctx);
  const esp = planItemEsp(s, versions, r.retention, deleted, ctx);

  const changed =
    a.assignments.changed ||
    a.previousAssignments !== undefined ||
    rel.changed ||
    esp.changes.length > 0 ||
    dependents.length > 0 ||
    r.retention.length > 0;
  const targeting: ItemTargeting = {
    appId,
    assignments: a.assignments,
    ...(a.previousAssignments === undefined ? {} : { previousAssignments: a.previousAssignments }),
    carried: a.carried,
    ...(rel.changed || rel.keep.length > 0 ? { relationships: rel } : {}),
    esp: esp.changes,
    retention: r.retention,
    retentionBlocked: r.blocked,
    detach: [],
    dependents,
    appNames: {},
    stamp: { targets: a.assignments.managed, esp: esp.managed },
    problems,
    changed,
  };
  return {
    targeting,
    outgoing: [...rel.keep, ...rel.add, ...rel.change.map((l) => ({ ...l, sourceId: appId.toLowerCase() }))],
    deleted,
    versions: versions.filter((o) => !deleted.has(o.app.id.toLowerCase())),
    previous: s.previous?.toLowerCase(),
  };
}

/** The definition's assignments on its app, plus what a supersede carries over from the previous version. */
function planItemAssignments(
  s: ItemScope,
  ctx: PlanContext,
): Pick<ItemTargeting, "assignments" | "previousAssignments" | "carried"> {
  const { d, previous, currentOwned } = s;
  const names = ctx.facts.names;
  const sup = supersedenceOf(d.definition);
  const current = s.creates ? [] : (ctx.facts.assignments.get(s.appId.toLowerCase()) ?? []);
  const managed = s.creates ? undefined : currentOwned?.stamp.targets;
  let assignments = planAssignments(d.assignments, current, managed, d.definition.pruneAssignments, names);
  if (previous === undefined) return { assignments, carried: 0 };
  const prevList = ctx.facts.assignments.get(previous.toLowerCase()) ?? [];
  let carried = 0;
  if (sup.assignments !== "leave") {
    const extra = carriedAssignments(d.assignments, prevList, currentOwned?.stamp.targets);
    carried = extra.length;
    assignments = {
      ...assignments,
      add: [
        ...assignments.add,
        ...extra.map((a) => ({
          ...assignmentRow(a, names),
          label: `${assignmentLabel(a, names)} (from the previous version)`,
        })),
      ],
      body: [...assignments.body, ...extra],
      changed: assignments.changed || extra.length > 0,
    };
  }
  const move = sup.assignments === "move" && prevList.length > 0;
  return {
    assignments,
    carried,
    ...(move ? { previousAssignments: { appId: previous, remove: prevList.map((a) => assignmentRow(a, names)) } } : {}),
  };
}

/**
 * The definition's versions after this run (the targeted app left out), in keeping order: the version this run
 * supersedes, then the others newest first; rolled-back versions go before any other.
 */
function keptOrder(s: ItemScope, tenant: TenantState): OwnedApp[] {
  const prev = s.previous?.toLowerCase();
  return tenant.owned
    .filter((o) => o.stamp.id === s.item.id && o.app.id.toLowerCase() !== s.appId.toLowerCase())
    .sort(
      (a, b) =>
        Number(b.app.id.toLowerCase() === prev) - Number(a.app.id.toLowerCase() === prev) ||
        Number(a.stamp.rolledBack ?? false) - Number(b.stamp.rolledBack ?? false) ||
        newestFirst(a, b),
    );
}

/** Retention (supersede only): the versions beyond the ones kept are deleted, unless a foreign app links to one. */
function planRetention(
  s: ItemScope,
  versions: readonly OwnedApp[],
  ctx: PlanContext,
): { retention: RetentionDeletion[]; blocked: ItemTargeting["retentionBlocked"] } {
  const retention: RetentionDeletion[] = [];
  const blocked: ItemTargeting["retentionBlocked"] = [];
  if (s.d.definition.updateStrategy !== "supersede") return { retention, blocked };
  for (const o of versions.slice(supersedenceOf(s.d.definition).keepPreviousVersions)) {
    const foreign = ctx
      .rows(o.app.id)
      .filter((r) => r.targetType === "parent" && !ctx.ownedById.has(r.targetId.toLowerCase()));
    if (foreign.length > 0)
      blocked.push({
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
  return { retention, blocked };
}

/** The targeted app's outgoing links: supersedence of the previous version, the declared dependencies. */
function planItemLinks(
  s: ItemScope,
  deleted: ReadonlySet<string>,
  ctx: PlanContext,
  problems: string[],
): RelationshipPlan {
  const { appId, previous, d } = s;
  const currentLinks = s.creates ? [] : outgoingLinks(appId, ctx.rows(appId));
  const set: Link[] = [];
  if (previous !== undefined && !deleted.has(previous.toLowerCase()))
    set.push({
      kind: "supersedence",
      sourceId: appId,
      targetId: previous.toLowerCase(),
      type: supersedenceOf(d.definition).type,
    });
  let dependencies: Link[] | undefined;
  if (d.dependencies !== undefined) {
    dependencies = [];
    for (const dep of d.dependencies) {
      const target = dependencyTarget(dep, ctx);
      if (target === undefined)
        problems.push(`The dependency "${dep.ref}" has no app in the tenant yet; publish it first.`);
      else dependencies.push({ kind: "dependency", sourceId: appId, targetId: target.toLowerCase(), type: dep.type });
    }
  } else if (previous !== undefined) {
    // Not managed: the new version keeps the dependencies the previous one had.
    const prevDeps = outgoingLinks(previous, ctx.rows(previous)).filter(
      (l) => l.kind === "dependency" && !deleted.has(l.targetId),
    );
    set.push(...prevDeps.map((l) => ({ ...l, sourceId: appId })));
  }
  return planOutgoing(appId, currentLinks, {
    set,
    drop: deleted,
    ...(dependencies === undefined ? {} : { dependencies }),
  });
}

/**
 * The app a dependency points at: an app id, the final app of a definition of this run, else the current version
 * of one of our definitions (its newest not rolled back); undefined when the definition has no app yet.
 */
function dependencyTarget(dep: ResolvedDependency, ctx: PlanContext): string | undefined {
  if (!("definitionId" in dep)) return dep.appId;
  const final = ctx.finals.get(dep.definitionId);
  if (final !== undefined) return final;
  const owned = ctx.tenant.owned.filter((o) => o.stamp.id === dep.definitionId);
  const cur = owned.filter((o) => !o.stamp.rolledBack).sort(newestFirst)[0] ?? owned.sort(newestFirst)[0];
  return cur?.app.id;
}

/**
 * Our other apps that depend on the superseded version follow it to the new one (definitions of this run that
 * list their dependencies do that themselves).
 */
function planDependents(s: ItemScope, ctx: PlanContext): string[] {
  if (s.previous === undefined) return [];
  const self = s.appId.toLowerCase();
  return ctx
    .rows(s.previous)
    .filter((r) => r.targetType === "parent" && r["@odata.type"] === DEPENDENCY_TYPE)
    .map((r) => r.targetId.toLowerCase())
    .filter((id) => {
      const o = ctx.ownedById.get(id);
      return o !== undefined && !ctx.managesDependencies.has(o.stamp.id) && id !== self;
    });
}

/** ESP membership: the profiles the definition names, and the swap of replaced versions everywhere. */
function planItemEsp(
  s: ItemScope,
  versions: readonly OwnedApp[],
  retention: readonly RetentionDeletion[],
  deleted: ReadonlySet<string>,
  ctx: PlanContext,
): { changes: EspChange[]; managed: string[] } {
  const recorded = s.currentOwned?.stamp.esp;
  if (ctx.facts.espProfiles === undefined) return { changes: [], managed: [...(recorded ?? [])] };
  return planEsp({
    profiles: ctx.facts.espProfiles,
    desired: s.d.espProfileIds,
    managed: s.creates ? (s.previous !== undefined ? recorded : undefined) : recorded,
    appId: s.appId,
    otherVersionIds: versions.map((o) => o.app.id).filter((id) => !deleted.has(id.toLowerCase())),
    replacedIds: [...(s.previous !== undefined ? [s.previous] : []), ...retention.map((r) => r.appId)],
  });
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
