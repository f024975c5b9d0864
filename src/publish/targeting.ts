/**
 * Targeting and lifecycle in the publish use case (issue 6): resolve the names definitions use (groups, filters,
 * ESP profiles, dependencies) through Graph, read what the plan compares (assignments, relationships, profiles),
 * and apply the targeting part of the plan once every app's content is published:
 *
 *   per app: `POST …/assign` (the whole set) → clear the previous version (carry-over move) →
 *   `updateRelationships` (read-modify-write) → all ESP profiles (one PATCH each, read just before) →
 *   per app: retention deletions (unlink, unassign, delete) → the stamp's record of targets and profiles.
 *
 * Permissions: GroupMember.Read.All (groups), DeviceManagementConfiguration.Read.All (filters),
 * DeviceManagementServiceConfig.ReadWrite.All (ESP), DeviceManagementApps.ReadWrite.All (the rest).
 * Reference: docs/lifecycle.md, docs/app-definitions.md "Targeting".
 */
import type { LoadedAppDefinition } from "../definitions/load.js";
import type { GraphClient } from "../clients/graph/client.js";
import { GraphError } from "../clients/graph/errors.js";
import type { DefinitionProblem } from "../core/app-definition/errors.js";
import { AppDefinitionError } from "../core/app-definition/errors.js";
import { isGuid } from "../core/app-definition/targeting-schema.js";
import { stampNotes, readStamp } from "../core/app-definition/stamp.js";
import { PublisherError } from "../core/errors.js";
import type { OwnedApp, Plan, PlanItem, TenantState } from "../core/plan/plan.js";
import { currentApp, newestFirst } from "../core/plan/plan.js";
import type { DesiredTargeting, ResolvedDependency, TargetingFacts } from "../core/plan/targeting.js";
import { isNewAppRef, NEW_APP_PREFIX, stampChanges } from "../core/plan/targeting.js";
import type { EspProfile } from "../core/targeting/esp.js";
import { nextSelectedApps } from "../core/targeting/esp.js";
import type { ResolvedAssignment, TargetNames } from "../core/targeting/assignments.js";
import { targetKey, toAssignmentWire } from "../core/targeting/assignments.js";
import type { Link, RelationshipRow } from "../core/targeting/relationships.js";
import {
  DEPENDENCY_TYPE,
  MAX_DEPENDENCY_NODES,
  MAX_SUPERSEDENCE_NODES,
  outgoingLinks,
  planOutgoing,
  toRelationshipWire,
} from "../core/targeting/relationships.js";
import type { MobileAppAssignmentWire, MobileAppRelationshipWriteWire, Win32LobAppWire } from "../core/wire/graph.js";
import { ODATA_TYPE } from "../core/wire/graph.js";

const MOBILE_APPS = "/deviceAppManagement/mobileApps";
export const ENROLLMENT_CONFIGURATIONS = "/deviceManagement/deviceEnrollmentConfigurations";
export const ASSIGNMENT_FILTERS = "/deviceManagement/assignmentFilters";
const ESP_TYPE = ODATA_TYPE.espConfiguration;

type Sig = { signal?: AbortSignal };
const sig = (signal?: AbortSignal): Sig => (signal === undefined ? {} : { signal });
const app = (id: string): string => `${MOBILE_APPS}/${encodeURIComponent(id)}`;
const odataString = (s: string): string => `'${s.replaceAll("'", "''")}'`;

interface Group {
  id: string;
  displayName: string;
}

interface Filter {
  id: string;
  displayName: string;
  platform?: string;
}

/** A 403 on a read the definitions need, turned into the permission and the fix. */
export function permissionError(e: unknown, what: string, permission: string, field: string): unknown {
  if (e instanceof GraphError && e.status === 403) {
    return new PublisherError(
      "permission",
      "PermissionMissing",
      `Graph refused to list ${what} (403${e.requestId ? `, request-id ${e.requestId}` : ""}): the app registration needs ${permission} to resolve ${field}.`,
      {
        hint: `Grant ${permission} (application permission, admin consent) — \`intune-publisher connect setup\` prints the steps — or remove ${field} from the definitions.`,
        cause: e,
      },
    );
  }
  return e;
}

// ---------------------------------------------------------------------------------------------------------------
// Resolving names

export interface ResolvedTargeting {
  desired: DesiredTargeting[];
  names: TargetNames;
  espProfiles?: EspProfile[];
}

/** Groups by display name or id (a missing or ambiguous name lists candidates); positioned problems. */
async function resolveGroups(
  graph: GraphClient,
  refs: readonly string[],
  signal?: AbortSignal,
): Promise<Map<string, Group | string>> {
  const out = new Map<string, Group | string>();
  for (const ref of refs) {
    if (out.has(ref.toLowerCase())) continue;
    let result: Group | string;
    try {
      if (isGuid(ref)) {
        try {
          const g = await graph.get<Group>(`/groups/${ref}`, { query: { $select: "id,displayName" }, ...sig(signal) });
          result = { id: g.id, displayName: g.displayName };
        } catch (e) {
          if (!(e instanceof GraphError) || e.status !== 404) throw e;
          result = await byName(graph, ref, signal);
          if (typeof result === "string") result = `No group has the id ${ref} (and none is named so).`;
        }
      } else result = await byName(graph, ref, signal);
    } catch (e) {
      throw permissionError(e, "groups", "GroupMember.Read.All", "assignment groups");
    }
    out.set(ref.toLowerCase(), result);
  }
  return out;
}

async function byName(graph: GraphClient, name: string, signal?: AbortSignal): Promise<Group | string> {
  const exact = await graph.listAll<Group>("/groups", {
    query: { $filter: `displayName eq ${odataString(name)}`, $select: "id,displayName", $top: 999 },
    ...sig(signal),
  });
  // Graph compares case-insensitively; an exact-case match wins over others.
  const same = exact.filter((g) => g.displayName === name);
  const hits = same.length === 1 ? same : exact;
  if (hits.length === 1) return { id: hits[0]!.id, displayName: hits[0]!.displayName };
  if (hits.length > 1)
    return `${hits.length} groups are named "${name}": ${hits.map((g) => `${g.displayName} (${g.id})`).join(", ")}. Use the group's object id instead.`;
  const stem = name.trim().slice(0, Math.max(3, Math.min(name.trim().length, 12)));
  const similar = await graph.listAll<Group>("/groups", {
    query: { $filter: `startswith(displayName,${odataString(stem.slice(0, 3))})`, $select: "id,displayName", $top: 10 },
    ...sig(signal),
  });
  const list = similar
    .slice(0, 10)
    .map((g) => `"${g.displayName}"`)
    .join(", ");
  return `No group is named "${name}"${list ? `; groups with similar names: ${list}` : ""}.`;
}

/** Every definition's targeting with the tenant's ids; every unresolvable name is a positioned problem. */
export async function resolveTargeting(
  graph: GraphClient,
  defs: readonly LoadedAppDefinition[],
  tenant: TenantState,
  win32Apps: readonly Win32LobAppWire[],
  signal?: AbortSignal,
): Promise<ResolvedTargeting> {
  const problems: DefinitionProblem[] = [];
  const all = defs.flatMap((d) => d.assignments);

  const groups = await resolveGroups(
    graph,
    all.flatMap((a) => (a.assignment.group === undefined ? [] : [a.assignment.group])),
    signal,
  );
  let filters: Filter[] = [];
  if (all.some((a) => a.assignment.filter !== undefined)) {
    try {
      filters = await graph.listAll<Filter>(ASSIGNMENT_FILTERS, sig(signal));
    } catch (e) {
      throw permissionError(e, "assignment filters", "DeviceManagementConfiguration.Read.All", "assignment filters");
    }
  }
  const wantsEsp = defs.some((d) => d.definition.enrollmentStatusPages !== undefined);
  const mayTouchEsp = wantsEsp || defs.some((d) => d.definition.updateStrategy === "supersede");
  let espProfiles: EspProfile[] | undefined;
  if (mayTouchEsp) {
    try {
      espProfiles = (await graph.listAll<EspProfile>(ENROLLMENT_CONFIGURATIONS, sig(signal))).filter(
        (c) => c["@odata.type"] === ESP_TYPE,
      );
    } catch (e) {
      // Only a definition that names profiles needs them; a supersede without them leaves ESP alone.
      if (wantsEsp)
        throw permissionError(
          e,
          "Enrollment Status Page profiles",
          "DeviceManagementServiceConfig.ReadWrite.All",
          "enrollmentStatusPages",
        );
      if (!(e instanceof GraphError && e.status === 403)) throw e;
    }
  }

  const names: TargetNames = {
    groups: new Map(
      [...groups.values()].flatMap((g) => (typeof g === "string" ? [] : [[g.id.toLowerCase(), g.displayName]])),
    ),
    filters: new Map(filters.map((f) => [f.id.toLowerCase(), f.displayName])),
    apps: new Map(win32Apps.map((a) => [a.id.toLowerCase(), a.displayName])),
  };
  const runIds = new Set(defs.map((d) => d.definition.id));
  const ownerOf = new Map(tenant.owned.map((o) => [o.app.id.toLowerCase(), o.stamp.id]));
  const desired: DesiredTargeting[] = [];
  for (const d of defs) {
    const assignments: MobileAppAssignmentWire[] = [];
    // One group written twice (by name and by id, or two names Graph matches alike): one target for Intune.
    const seenTargets = new Map<string, { n: number; ref: string }>();
    for (const [n, la] of d.assignments.entries()) {
      const a = la.assignment;
      const r: ResolvedAssignment = { definition: a };
      if (a.group !== undefined) {
        const g = groups.get(a.group.toLowerCase());
        if (typeof g === "string" || g === undefined) {
          problems.push(la.problem(["group"], g ?? `The group "${a.group}" was not found.`));
          continue;
        }
        r.group = g;
        const key = targetKey(toAssignmentWire(r).target);
        const first = seenTargets.get(key);
        if (first !== undefined) {
          problems.push(
            la.problem(
              ["group"],
              `"${a.group}" is the group ${g.displayName} (${g.id}), already assigned by assignment ${first.n + 1} ("${first.ref}"); Intune takes one assignment per target and app.`,
            ),
          );
          continue;
        }
        seenTargets.set(key, { n, ref: a.group });
      }
      if (a.filter !== undefined) {
        const hits = filters.filter((f) => f.displayName.toLowerCase() === a.filter!.toLowerCase());
        const windows = filters.filter((f) => (f.platform ?? "windows10AndLater") === "windows10AndLater");
        if (hits.length === 0) {
          problems.push(
            la.problem(
              ["filter"],
              `The tenant has no assignment filter named "${a.filter}" (Windows filters: ${windows.map((f) => `"${f.displayName}"`).join(", ") || "none"}).`,
            ),
          );
          continue;
        }
        if (hits.length > 1) {
          problems.push(
            la.problem(
              ["filter"],
              `${hits.length} assignment filters are named "${a.filter}" (${hits.map((f) => f.id).join(", ")}); rename one in Intune.`,
            ),
          );
          continue;
        }
        const f = hits[0]!;
        if ((f.platform ?? "windows10AndLater") !== "windows10AndLater") {
          problems.push(
            la.problem(
              ["filter"],
              `The assignment filter "${f.displayName}" is for ${f.platform}; a Win32 app takes a Windows 10 and later filter.`,
            ),
          );
          continue;
        }
        r.filter = { id: f.id, displayName: f.displayName };
      }
      assignments.push(toAssignmentWire(r));
    }

    let espProfileIds: Set<string> | undefined;
    const wanted = d.definition.enrollmentStatusPages;
    if (wanted !== undefined) {
      espProfileIds = new Set();
      wanted.forEach((n, i) => {
        const hits = (espProfiles ?? []).filter((p) => p.displayName.toLowerCase() === n.toLowerCase());
        if (hits.length === 1) espProfileIds!.add(hits[0]!.id);
        else
          problems.push(
            d.problem(
              ["enrollmentStatusPages", i],
              hits.length === 0
                ? `The tenant has no Enrollment Status Page profile named "${n}" (it has: ${(espProfiles ?? []).map((p) => `"${p.displayName}"`).join(", ") || "none"}).`
                : `${hits.length} Enrollment Status Page profiles are named "${n}" (${hits.map((p) => p.id).join(", ")}); rename one in Intune.`,
            ),
          );
      });
    }

    let dependencies: ResolvedDependency[] | undefined;
    if (d.definition.dependencies !== undefined) {
      dependencies = [];
      d.definition.dependencies.forEach((dep, i) => {
        const ref = dep.app;
        if (runIds.has(ref) || tenant.owned.some((o) => o.stamp.id === ref)) {
          dependencies!.push({ ref, type: dep.type, definitionId: ref });
          return;
        }
        const byId = win32Apps.filter((a) => a.id.toLowerCase() === ref.toLowerCase());
        const named = win32Apps.filter((a) => a.displayName.toLowerCase() === ref.toLowerCase());
        // A name the versions of one of our definitions share (or a definition of this run has, its app not made
        // yet) means that definition: the dependency then follows its newest version. An app id pins that app.
        const definitions = new Set([
          ...named.map((a) => ownerOf.get(a.id.toLowerCase()) ?? ""),
          ...defs
            .filter((x) => x.definition.displayName.toLowerCase() === ref.toLowerCase())
            .map((x) => x.definition.id),
        ]);
        if (byId.length === 0 && definitions.size === 1 && !definitions.has("")) {
          dependencies!.push({ ref, type: dep.type, definitionId: [...definitions][0]! });
          return;
        }
        const hits = byId.length > 0 ? byId : named;
        if (hits.length === 1) {
          dependencies!.push({ ref, type: dep.type, appId: hits[0]!.id, displayName: hits[0]!.displayName });
          return;
        }
        // One entry per name (versions of one app share it), at most ten.
        const similar = [
          ...new Set(
            win32Apps
              .filter((a) => a.displayName.toLowerCase().includes(ref.toLowerCase().slice(0, 4)))
              .map((a) => a.displayName),
          ),
        ]
          .slice(0, 10)
          .map((displayName) => ({ displayName }));
        problems.push(
          d.problem(
            ["dependencies", i, "app"],
            hits.length > 1
              ? `${hits.length} Win32 apps are named "${ref}": ${hits.map((a) => `${a.displayName} ${a.displayVersion ?? ""} (${a.id})`).join(", ")}. Use the app's id or a definition id.`
              : `No definition id or Win32 app is named "${ref}"${similar.length ? `; similar apps: ${similar.map((a) => `"${a.displayName}"`).join(", ")}` : ""}.`,
          ),
        );
      });
    }
    desired.push({
      definitionId: d.definition.id,
      definition: d.definition,
      assignments,
      ...(espProfileIds === undefined ? {} : { espProfileIds }),
      ...(dependencies === undefined ? {} : { dependencies }),
    });
  }
  if (problems.length > 0) {
    // A shared targeting file's problem comes once, however many definitions use the file.
    const seen = new Set<string>();
    throw new AppDefinitionError(
      problems.filter((p) => {
        const key = `${p.file ?? ""}:${p.line ?? ""}:${p.column ?? ""}:${p.path.join(".")}:${p.message}`;
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      }),
    );
  }
  return { desired, names, ...(espProfiles === undefined ? {} : { espProfiles }) };
}

// ---------------------------------------------------------------------------------------------------------------
// Reading what the plan compares

/** Assignments and relationships of the plan's apps, their other versions and their supersedence graphs. */
export async function readTargetingFacts(
  graph: GraphClient,
  plan: Plan,
  tenant: TenantState,
  resolved: ResolvedTargeting,
  signal?: AbortSignal,
): Promise<TargetingFacts> {
  const assignments = new Map<string, MobileAppAssignmentWire[]>();
  const relationships = new Map<string, RelationshipRow[]>();
  const readAssignments = async (id: string) => {
    if (assignments.has(id.toLowerCase())) return;
    assignments.set(
      id.toLowerCase(),
      await graph.listAll<MobileAppAssignmentWire>(`${app(id)}/assignments`, sig(signal)),
    );
  };
  const readRelationships = async (id: string) => {
    if (relationships.has(id.toLowerCase())) return relationships.get(id.toLowerCase())!;
    const rows = await graph.listAll<RelationshipRow>(`${app(id)}/relationships`, sig(signal));
    relationships.set(id.toLowerCase(), rows);
    return rows;
  };
  for (const item of plan.items) {
    if (item.appId !== undefined) await readAssignments(item.appId);
    const versions = tenant.owned.filter((o) => o.stamp.id === item.id);
    const supersedes =
      resolved.desired.find((d) => d.definitionId === item.id)?.definition.updateStrategy === "supersede";
    // The supersedence graph around the app (bounded: past the limit the plan refuses anyway).
    const queue = [
      ...(item.appId === undefined ? [] : [item.appId]),
      ...(supersedes ? versions.map((o) => o.app.id) : []),
    ];
    const seen = new Set<string>();
    while (queue.length > 0 && seen.size <= MAX_SUPERSEDENCE_NODES + 1) {
      const id = queue.shift()!.toLowerCase();
      if (seen.has(id)) continue;
      seen.add(id);
      const rows = await readRelationships(id);
      for (const r of rows) if (r["@odata.type"] !== DEPENDENCY_TYPE) queue.push(r.targetId);
    }
    // The dependency graph around the app and the apps it depends on, in both directions (Intune counts every app
    // connected through a shared dependency; bounded: past the limit the plan refuses), so the limit and a cycle
    // through links made outside this run (A → B → C → A) are seen before any write.
    const deps = resolved.desired.find((d) => d.definitionId === item.id)?.dependencies ?? [];
    const depQueue = [
      ...(item.appId === undefined ? [] : [item.appId]),
      ...deps.flatMap((dep) =>
        "appId" in dep ? [dep.appId] : tenant.owned.filter((o) => o.stamp.id === dep.definitionId).map((o) => o.app.id),
      ),
    ];
    const depSeen = new Set<string>();
    while (depQueue.length > 0 && depSeen.size <= MAX_DEPENDENCY_NODES) {
      const id = depQueue.shift()!.toLowerCase();
      if (depSeen.has(id)) continue;
      depSeen.add(id);
      const rows = await readRelationships(id);
      for (const r of rows) if (r["@odata.type"] === DEPENDENCY_TYPE) depQueue.push(r.targetId);
    }
  }
  return {
    assignments,
    relationships,
    names: resolved.names,
    ...(resolved.espProfiles === undefined ? {} : { espProfiles: resolved.espProfiles }),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Applying

export type TargetingStep = "assign" | "relationships" | "esp" | "retention" | "stamp";

export interface TargetingOutcome {
  assigned?: number;
  previousCleared?: string;
  relationships?: string[];
  esp?: string[];
  deleted?: string[];
  /** our apps whose dependency now names the new version */
  dependents?: string[];
  /** kept versions taken out of the supersedence graph */
  detached?: string[];
  stamp?: boolean;
}

export class TargetingStepError extends Error {
  constructor(
    readonly step: TargetingStep,
    override readonly cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

interface ApplyItem {
  item: PlanItem;
  /** the app that holds the definition now */
  appId: string;
  outcome: TargetingOutcome;
  failed?: TargetingStepError;
}

/**
 * Applies the targeting of every item whose content step succeeded. `finalIds` maps each definition id to the app
 * that holds it after the content step. Failures are per item (the others go on).
 */
export async function applyTargeting(
  graph: GraphClient,
  plan: Plan,
  finalIds: ReadonlyMap<string, string>,
  signal?: AbortSignal,
): Promise<Map<string, { outcome: TargetingOutcome; error?: TargetingStepError }>> {
  // A placeholder for an app this run was to create. When that definition failed, its links point at the version
  // it still has (the app the new one was to supersede); with none, the step fails saying so (never `new:…` to Graph).
  const stillCurrent = new Map(plan.items.flatMap((i) => (i.supersedes === undefined ? [] : [[i.id, i.supersedes]])));
  const real = (id: string): string => {
    if (!isNewAppRef(id)) return id;
    const def = id.slice(NEW_APP_PREFIX.length);
    const found = finalIds.get(def) ?? stillCurrent.get(def);
    if (found === undefined)
      throw new PublisherError(
        "graph",
        "LinkedAppNotPublished",
        `The app of ${def} was not published in this run (it failed), so the link to it is not written.`,
        { hint: `Fix ${def} and publish again: the link is made then.` },
      );
    return found;
  };
  const items: ApplyItem[] = plan.items
    .filter((i) => i.targeting !== undefined && finalIds.has(i.id) && i.targeting.problems.length === 0)
    .map((item) => ({ item, appId: finalIds.get(item.id)!, outcome: {} }));

  const step = async (a: ApplyItem, s: TargetingStep, fn: () => Promise<void>) => {
    if (a.failed) return;
    try {
      await fn();
    } catch (e) {
      a.failed = new TargetingStepError(s, e);
    }
  };

  for (const a of items) {
    const t = a.item.targeting!;
    await step(a, "assign", async () => {
      const created = isNewAppRef(t.appId);
      if (t.assignments.changed || (created && t.assignments.body.length > 0)) {
        await graph.post(`${app(a.appId)}/assign`, { mobileAppAssignments: t.assignments.body }, sig(signal));
        a.outcome.assigned = t.assignments.body.length;
      }
      if (t.previousAssignments !== undefined) {
        await graph.post(`${app(t.previousAssignments.appId)}/assign`, { mobileAppAssignments: [] }, sig(signal));
        a.outcome.previousCleared = t.previousAssignments.appId;
      }
    });
    await step(a, "relationships", async () => {
      // Room first: kept versions leave the supersedence graph before the new link makes it grow.
      for (const kept of t.detach) {
        await detachVersion(
          graph,
          kept.appId,
          new Set([...kept.siblings.map(real), a.appId].map((x) => x.toLowerCase())),
          signal,
        );
        (a.outcome.detached ??= []).push(kept.appId);
      }
      const r = t.relationships;
      if (r !== undefined && r.changed) {
        const body = r.body.map((x) => ({ ...x, targetId: real(x.targetId) }));
        await graph.post(`${app(a.appId)}/updateRelationships`, { relationships: body }, sig(signal));
        a.outcome.relationships = [...r.add, ...r.change].map((l) => `${l.kind} ${real(l.targetId)}`);
      }
      // Our apps that depended on the superseded version now depend on the new one.
      const previous = a.item.supersedes;
      if (previous === undefined) return;
      for (const dependent of t.dependents)
        if (await rewriteLinks(graph, dependent, (links) => repointed(dependent, links, previous, a.appId), signal))
          (a.outcome.dependents ??= []).push(dependent);
    });
  }

  // ESP: every item's changes to one profile in one PATCH, on the profile as it is now.
  const perProfile = new Map<string, { add: string[]; remove: string[]; items: ApplyItem[] }>();
  for (const a of items) {
    if (a.failed) continue;
    for (const c of a.item.targeting!.esp) {
      const p = perProfile.get(c.profileId) ?? { add: [], remove: [], items: [] };
      p.add.push(...c.add.map(real));
      p.remove.push(...c.remove.map(real));
      p.items.push(a);
      perProfile.set(c.profileId, p);
    }
  }
  for (const [profileId, c] of perProfile) {
    try {
      const path = `${ENROLLMENT_CONFIGURATIONS}/${encodeURIComponent(profileId)}`;
      const profile = await graph.get<EspProfile>(path, sig(signal));
      const before = [...(profile.selectedMobileAppIds ?? [])];
      const next = nextSelectedApps(before, c.add, c.remove);
      if (JSON.stringify(next) !== JSON.stringify(before)) {
        await graph.patch(path, { "@odata.type": profile["@odata.type"], selectedMobileAppIds: next }, sig(signal));
        for (const a of c.items) (a.outcome.esp ??= []).push(profile.displayName);
      }
    } catch (e) {
      for (const a of c.items) a.failed ??= new TargetingStepError("esp", e);
    }
  }

  for (const a of items) {
    const t = a.item.targeting!;
    await step(a, "retention", async () => {
      for (const victim of t.retention) {
        await deleteVersion(graph, victim.appId, a.appId, signal);
        (a.outcome.deleted ??= []).push(victim.appId);
      }
    });
    await step(a, "stamp", async () => {
      if (!stampChanges(a.item)) return;
      const current = await graph.get<Win32LobAppWire>(app(a.appId), {
        query: { $select: "id,notes" },
        ...sig(signal),
      });
      const r = readStamp(current.notes);
      if (r.status !== "valid") return;
      const next = { ...r.stamp, targets: t.stamp.targets, esp: t.stamp.esp };
      const notes = stampNotes(current.notes, next);
      if (notes !== (current.notes ?? "")) {
        await graph.patch(app(a.appId), { "@odata.type": ODATA_TYPE.win32LobApp, notes }, sig(signal));
        a.outcome.stamp = true;
      }
    });
  }
  return new Map(items.map((a) => [a.item.id, { outcome: a.outcome, ...(a.failed ? { error: a.failed } : {}) }]));
}

/**
 * Read-modify-write of one app's outgoing links: `change` gets them as Graph has them now and answers the whole
 * new set, or undefined for no change. True when something was written.
 */
export async function rewriteLinks(
  graph: GraphClient,
  appId: string,
  change: (links: Link[]) => MobileAppRelationshipWriteWire[] | undefined,
  signal?: AbortSignal,
): Promise<boolean> {
  const rows = await graph.listAll<RelationshipRow>(`${app(appId)}/relationships`, sig(signal));
  const next = change(outgoingLinks(appId, rows));
  if (next === undefined) return false;
  await graph.post(`${app(appId)}/updateRelationships`, { relationships: next }, sig(signal));
  return true;
}

/** `appId`'s links with its dependencies on `from` pointed at `to` and any other link to `from` dropped. */
function repointed(
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

/**
 * Deletes one previous version: the links other apps have to it go first (ours only: the plan refused versions
 * that foreign apps link to; a dependency is pointed at the definition's current app instead), then its own
 * links, its assignments, and the app. Reads each app's relationships just before writing them.
 */
export async function deleteVersion(
  graph: GraphClient,
  victimId: string,
  currentId: string,
  signal?: AbortSignal,
): Promise<void> {
  const rows = await graph.listAll<RelationshipRow>(`${app(victimId)}/relationships`, sig(signal));
  for (const parent of rows.filter((r) => r.targetType === "parent"))
    await rewriteLinks(
      graph,
      parent.targetId,
      (links) => repointed(parent.targetId, links, victimId, currentId),
      signal,
    );
  if (rows.some((r) => r.targetType === "child"))
    await graph.post(`${app(victimId)}/updateRelationships`, { relationships: [] }, sig(signal));
  await graph.post(`${app(victimId)}/assign`, { mobileAppAssignments: [] }, sig(signal));
  await graph.delete(app(victimId), sig(signal));
}

/**
 * Takes a kept version out of its supersedence graph: the supersedence links between it and the definition's
 * other versions (`siblings`) go; links to other apps, its dependencies and the app stay. Read-modify-write.
 */
export async function detachVersion(
  graph: GraphClient,
  versionId: string,
  siblings: ReadonlySet<string>,
  signal?: AbortSignal,
): Promise<void> {
  const v = versionId.toLowerCase();
  const rows = await graph.listAll<RelationshipRow>(`${app(versionId)}/relationships`, sig(signal));
  const supersedence = (r: RelationshipRow) => r["@odata.type"] !== DEPENDENCY_TYPE;
  for (const parent of rows.filter(
    (r) => r.targetType === "parent" && supersedence(r) && siblings.has(r.targetId.toLowerCase()),
  ))
    await rewriteLinks(
      graph,
      parent.targetId,
      (links) => {
        const next = links.filter((l) => !(l.kind === "supersedence" && l.targetId === v));
        return next.length === links.length ? undefined : next.map(toRelationshipWire);
      },
      signal,
    );
  const own = outgoingLinks(versionId, rows);
  const keep = own.filter((l) => l.kind !== "supersedence" || !siblings.has(l.targetId));
  if (keep.length !== own.length)
    await graph.post(
      `${app(versionId)}/updateRelationships`,
      { relationships: keep.map(toRelationshipWire) },
      sig(signal),
    );
}

/** The current app of a definition among owned apps (rollback, apps show). */
export function versionsOf(tenant: TenantState, id: string): { current?: OwnedApp; others: OwnedApp[] } {
  const mine = tenant.owned.filter((o) => o.stamp.id === id);
  const current = currentApp(mine);
  const others = mine.filter((o) => o !== current).sort(newestFirst);
  return { ...(current === undefined ? {} : { current }), others };
}
