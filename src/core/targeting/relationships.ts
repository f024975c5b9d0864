/**
 * Supersedence and dependencies, pure (version retention; docs/reference/graph-win32-upload.md §2.13).
 *
 * `updateRelationships` replaces every outgoing link of an app, so a change is read-modify-write: the app's current
 * `child` rows (its own links; `parent` rows belong to the other app and are never written back) are kept, except
 * those this change replaces. Intune's limits are checked here, before any call: an app never links to itself, a
 * supersedence graph has at most 10 apps counting transitive links, a dependency graph at most 100 apps counting every
 * app connected through a shared dependency.
 */
import type { MobileAppRelationshipWire, MobileAppRelationshipWriteWire } from "../wire/graph.js";

export const SUPERSEDENCE_TYPE = "#microsoft.graph.mobileAppSupersedence";
export const DEPENDENCY_TYPE = "#microsoft.graph.mobileAppDependency";
/** §2.13 (Microsoft Learn): apps in one supersedence graph, counting transitive references. */
export const MAX_SUPERSEDENCE_NODES = 10;
/**
 * §2.13 (Microsoft Learn): "a maximum of 100 dependencies, which includes the dependencies of any included
 * dependencies, as well as the app itself"; Learn ("Add, assign, and monitor a Win32 app", Dependency limitations)
 * counts the whole graph: when an app is a dependency in several apps' graphs, "all apps from all the separate graphs
 * are summed" (each app once), e.g. 23 + 62 + 20 apps sharing one dependency make 103, over the limit. So: apps
 * connected by dependency links in either direction, at most 100.
 */
export const MAX_DEPENDENCY_NODES = 100;

/** A relationship row as `GET …/relationships` lists it. */
export type RelationshipRow = MobileAppRelationshipWire;

/** One link, as the planner thinks of it: `sourceId` supersedes or depends on `targetId`. */
export interface Link {
  kind: "supersedence" | "dependency";
  sourceId: string;
  targetId: string;
  type: string;
}

/** The outgoing links of `appId` among `rows` (its `child` rows). */
export function outgoingLinks(appId: string, rows: readonly RelationshipRow[]): Link[] {
  return rows
    .filter((r) => r.targetType === "child")
    .map((r) => ({
      kind: r["@odata.type"] === SUPERSEDENCE_TYPE ? ("supersedence" as const) : ("dependency" as const),
      sourceId: appId.toLowerCase(),
      targetId: r.targetId.toLowerCase(),
      type: (r["@odata.type"] === SUPERSEDENCE_TYPE ? r.supersedenceType : r.dependencyType) ?? "",
    }));
}

/** Every link a set of relationship listings shows (each app's rows, both directions), without duplicates. */
export function linksOf(listings: ReadonlyMap<string, readonly RelationshipRow[]>): Link[] {
  const out = new Map<string, Link>();
  for (const [appId, rows] of listings) {
    for (const r of rows) {
      const kind = r["@odata.type"] === SUPERSEDENCE_TYPE ? ("supersedence" as const) : ("dependency" as const);
      const child = r.targetType === "child";
      const sourceId = (child ? appId : r.targetId).toLowerCase();
      const targetId = (child ? r.targetId : appId).toLowerCase();
      const type = (kind === "supersedence" ? r.supersedenceType : r.dependencyType) ?? "";
      const key = `${kind}|${sourceId}|${targetId}`;
      if (!out.has(key) || child) out.set(key, { kind, sourceId, targetId, type });
    }
  }
  return [...out.values()];
}

export function toRelationshipWire(l: Link): MobileAppRelationshipWriteWire {
  return l.kind === "supersedence"
    ? { "@odata.type": SUPERSEDENCE_TYPE, supersedenceType: l.type as "update" | "replace", targetId: l.targetId }
    : { "@odata.type": DEPENDENCY_TYPE, dependencyType: l.type as "autoInstall" | "detect", targetId: l.targetId };
}

export interface RelationshipPlan {
  /** the app whose outgoing links are written */
  appId: string;
  add: Link[];
  remove: Link[];
  /** same target, other type */
  change: Link[];
  keep: Link[];
  /** the whole outgoing set to POST to `updateRelationships` */
  body: MobileAppRelationshipWriteWire[];
  changed: boolean;
}

/**
 * The new outgoing set of `appId`: its current links, with `set` links added or retyped (same target), the
 * `drop` targets removed, and (when `dependencies` is given) every dependency not in it removed: a definition that
 * lists dependencies declares the whole set.
 */
export function planOutgoing(
  appId: string,
  current: readonly Link[],
  change: { set?: readonly Link[]; drop?: ReadonlySet<string>; dependencies?: readonly Link[] },
): RelationshipPlan {
  const id = appId.toLowerCase();
  const want = new Map<string, Link>();
  for (const l of [...(change.set ?? []), ...(change.dependencies ?? [])])
    want.set(l.targetId.toLowerCase(), { ...l, sourceId: id, targetId: l.targetId.toLowerCase() });
  const plan: RelationshipPlan = { appId: id, add: [], remove: [], change: [], keep: [], body: [], changed: false };
  const next: Link[] = [];
  for (const l of current) {
    const w = want.get(l.targetId);
    if (w !== undefined) {
      if (w.kind !== l.kind || w.type !== l.type) plan.change.push(w);
      else plan.keep.push(l);
      next.push(w);
      want.delete(l.targetId);
    } else if (change.drop?.has(l.targetId) || (change.dependencies !== undefined && l.kind === "dependency"))
      plan.remove.push(l);
    else {
      plan.keep.push(l);
      next.push(l);
    }
  }
  for (const w of want.values()) {
    plan.add.push(w);
    next.push(w);
  }
  plan.body = next.map(toRelationshipWire);
  plan.changed = plan.add.length + plan.remove.length + plan.change.length > 0;
  return plan;
}

/**
 * `appId`'s links with its dependencies on `from` pointed at `to` and any other link to `from` dropped (a version
 * replaced or deleted); undefined when nothing changes.
 */
export function repointedLinks(
  appId: string,
  links: readonly Link[],
  from: string,
  to: string,
): MobileAppRelationshipWriteWire[] | undefined {
  const f = from.toLowerCase();
  const moved = links
    .filter((l) => l.kind === "dependency" && l.targetId === f)
    .map((l) => ({ ...l, targetId: to.toLowerCase() }));
  const plan = planOutgoing(appId, links, { set: moved, drop: new Set([f]) });
  return plan.changed ? plan.body : undefined;
}

/** The links without the supersedence links to `targetId` (lower-case); undefined when there is none. */
export function withoutSupersedenceOf(
  links: readonly Link[],
  targetId: string,
): MobileAppRelationshipWriteWire[] | undefined {
  const next = links.filter((l) => !(l.kind === "supersedence" && l.targetId === targetId));
  return next.length === links.length ? undefined : next.map(toRelationshipWire);
}

/** Replaces the outgoing links of `appId` in `links` with `next`. */
export function withOutgoing(links: readonly Link[], appId: string, next: readonly Link[]): Link[] {
  const id = appId.toLowerCase();
  return [...links.filter((l) => l.sourceId !== id), ...next];
}

/**
 * Intune's limits on a whole set of links (after the planned changes), for the apps in `check`: no self-link, no
 * cycle, supersedence graph ≤ 10 apps, dependency graph (connected through shared dependencies) ≤ 100 apps.
 * Returns human problems.
 */
export function relationshipProblems(
  links: readonly Link[],
  check: readonly string[],
  name: (appId: string) => string = (x) => x,
): string[] {
  const problems: string[] = [];
  for (const l of links) if (l.sourceId === l.targetId) problems.push(`${name(l.sourceId)} would ${verb(l)} itself.`);
  for (const appId of check.map((x) => x.toLowerCase())) {
    for (const kind of ["supersedence", "dependency"] as const) {
      const out = new Map<string, string[]>();
      for (const e of links.filter((x) => x.kind === kind))
        out.set(e.sourceId, [...(out.get(e.sourceId) ?? []), e.targetId]);
      const seen = new Set<string>();
      const stack = [...(out.get(appId) ?? [])];
      let cycle = false;
      while (stack.length > 0) {
        const n = stack.pop()!;
        if (n === appId) cycle = true;
        if (seen.has(n)) continue;
        seen.add(n);
        stack.push(...(out.get(n) ?? []));
      }
      if (cycle) problems.push(`The ${kind} links of ${name(appId)} would form a cycle.`);
    }
    const dependencies = dependencyGraphSize(links, appId);
    if (dependencies > MAX_DEPENDENCY_NODES)
      problems.push(
        `The dependency graph of ${name(appId)} would hold ${dependencies} apps (the app, its dependencies and every app connected to them through a shared dependency, each once); Intune allows ${MAX_DEPENDENCY_NODES}. Remove dependencies from this definition or from the apps that share them.`,
      );
    const size = supersedenceGraphSize(links, appId);
    if (size > MAX_SUPERSEDENCE_NODES)
      problems.push(
        `The supersedence graph of ${name(appId)} would hold ${size} apps; Intune allows ${MAX_SUPERSEDENCE_NODES} counting transitive links. Keep fewer previous versions (supersedence.keepPreviousVersions) or remove old supersedence links.`,
      );
  }
  return [...new Set(problems)];
}

/** Apps connected to `appId` by supersedence links in either direction, the app included. */
export function supersedenceGraphSize(links: readonly Link[], appId: string): number {
  return graphSize(links, appId, "supersedence");
}

/**
 * Apps connected to `appId` by dependency links in either direction, the app included: its dependencies (transitively)
 * and every app that depends on any of them, as Intune counts a dependency graph (MAX_DEPENDENCY_NODES).
 */
export function dependencyGraphSize(links: readonly Link[], appId: string): number {
  return graphSize(links, appId, "dependency");
}

function graphSize(links: readonly Link[], appId: string, kind: Link["kind"]): number {
  const adj = new Map<string, string[]>();
  for (const e of links.filter((x) => x.kind === kind)) {
    adj.set(e.sourceId, [...(adj.get(e.sourceId) ?? []), e.targetId]);
    adj.set(e.targetId, [...(adj.get(e.targetId) ?? []), e.sourceId]);
  }
  const comp = new Set([appId.toLowerCase()]);
  const queue = [appId.toLowerCase()];
  while (queue.length > 0)
    for (const m of adj.get(queue.pop()!) ?? [])
      if (!comp.has(m)) {
        comp.add(m);
        queue.push(m);
      }
  return comp.size;
}

function verb(l: Link): string {
  return l.kind === "supersedence" ? "supersede" : "depend on";
}

export function describeLink(l: Link, name: (appId: string) => string = (x) => x): string {
  return `${l.kind === "supersedence" ? `supersedes (${l.type})` : `depends on (${l.type})`} ${name(l.targetId)}`;
}
