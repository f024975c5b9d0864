/**
 * Targeting and lifecycle in the publish use case: read what resolving the names definitions use needs (groups,
 * filters, ESP profiles; src/core/plan/resolve.ts decides), read what the plan compares (assignments, relationships,
 * profiles), and apply the targeting part of the plan once every app's content is published:
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
import { GraphError } from "../clients/graph/errors.js";
import type { IntuneApi } from "../clients/graph/intune.js";
import { isGuid } from "../core/app-definition/targeting-schema.js";
import { stampNotes, readStamp } from "../core/app-definition/stamp.js";
import { PublisherError } from "../core/errors.js";
import type { Plan, PlanItem, TenantState } from "../core/plan/plan.js";
import type { GroupLookup, ResolvedTargeting } from "../core/plan/resolve.js";
import {
  espNeed,
  groupRefs,
  matchByName,
  needsFilters,
  resolveTargeting,
  similarNameWords,
} from "../core/plan/resolve.js";
import type { TargetingFacts } from "../core/plan/targeting.js";
import type { GroupWire } from "../core/wire/graph.js";
import { isNewAppRef, NEW_APP_PREFIX, stampChanges } from "../core/plan/targeting.js";
import { ESP_PERMISSION, nextSelectedApps } from "../core/targeting/esp.js";
import type { RelationshipRow } from "../core/targeting/relationships.js";
import {
  DEPENDENCY_TYPE,
  MAX_DEPENDENCY_NODES,
  MAX_SUPERSEDENCE_NODES,
  outgoingLinks,
  repointedLinks,
  toRelationshipWire,
  withoutSupersedenceOf,
} from "../core/targeting/relationships.js";
import type {
  AssignmentFilterWire,
  EspProfileWire,
  MobileAppAssignmentWire,
  Win32LobAppWire,
} from "../core/wire/graph.js";
import { ODATA_TYPE } from "../core/wire/graph.js";
import { permissionError, relationshipReader, rewriteEspApps, rewriteLinks, unlessForbidden } from "./tenant.js";

// ---------------------------------------------------------------------------------------------------------------
// Resolving names

export interface TargetingRead extends ResolvedTargeting {
  /** the ESP profiles, when read */
  espProfiles?: EspProfileWire[];
}

/**
 * Groups whose names share words with `ref`, for suggestions: one page of Graph's `$search` (a word-prefix match,
 * so "Pilot" finds "Intune - Pilot devices"; `suggestNames` ranks them). A directory that refuses the advanced
 * query (400) gets the older `startswith` listing of the first word's start instead.
 */
async function similarGroups(api: IntuneApi, ref: string, signal?: AbortSignal): Promise<GroupWire[]> {
  const words = similarNameWords(ref);
  try {
    return await api.searchGroupsByWords(words, SIMILAR_GROUPS_READ, signal);
  } catch (e) {
    if (!(e instanceof GraphError) || e.status !== 400) throw e;
    return api.listGroupsStartingWith(ref.trim().slice(0, 3), SIMILAR_GROUPS_READ, signal);
  }
}

/** Groups read for suggestions per missing name: one page (docs/limits.md). */
const SIMILAR_GROUPS_READ = 100;

/** What Graph knows of one group reference: by id (a GUID), else by name, else names that start alike. */
async function lookupGroup(api: IntuneApi, ref: string, signal?: AbortSignal): Promise<GroupLookup> {
  if (isGuid(ref)) {
    try {
      return { ref, byId: await api.getGroup(ref, signal) };
    } catch (e) {
      if (!(e instanceof GraphError) || e.status !== 404) throw e;
    }
    return { ref, byId: null, named: await api.listGroupsNamed(ref, signal) };
  }
  const named = await api.listGroupsNamed(ref, signal);
  if (matchByName(named, ref).length > 0) return { ref, named };
  return { ref, named, similar: await similarGroups(api, ref, signal) };
}

/**
 * Reads what the definitions' names need (groups, filters, ESP profiles) and resolves them (pure, in core): every
 * definition's targeting with the tenant's ids; every unresolvable name is a positioned problem.
 */
export async function readTargeting(
  api: IntuneApi,
  defs: readonly LoadedAppDefinition[],
  tenant: TenantState,
  win32Apps: readonly Win32LobAppWire[],
  signal?: AbortSignal,
): Promise<TargetingRead> {
  const groups = new Map<string, GroupLookup>();
  try {
    for (const ref of groupRefs(defs))
      if (!groups.has(ref.toLowerCase())) groups.set(ref.toLowerCase(), await lookupGroup(api, ref, signal));
  } catch (e) {
    throw permissionError(e, "groups", "GroupMember.Read.All", "assignment groups");
  }
  let filters: AssignmentFilterWire[] = [];
  if (needsFilters(defs)) {
    try {
      filters = await api.listAssignmentFilters(signal);
    } catch (e) {
      throw permissionError(e, "assignment filters", "DeviceManagementConfiguration.Read.All", "assignment filters");
    }
  }
  let espProfiles: EspProfileWire[] | undefined;
  const esp = espNeed(defs);
  if (esp === "required") {
    try {
      espProfiles = await api.listEspProfiles(signal);
    } catch (e) {
      throw permissionError(e, "Enrollment Status Page profiles", ESP_PERMISSION, "enrollmentStatusPages");
    }
  } else if (esp === "optional") {
    // Only a definition that names profiles needs them; a supersede without them leaves ESP alone.
    espProfiles = await unlessForbidden(() => api.listEspProfiles(signal));
  }
  const resolved = resolveTargeting({
    definitions: defs,
    tenant,
    win32Apps,
    groups,
    filters,
    ...(espProfiles === undefined ? {} : { espProfiles }),
  });
  return { ...resolved, ...(espProfiles === undefined ? {} : { espProfiles }) };
}

// ---------------------------------------------------------------------------------------------------------------
// Reading what the plan compares

/**
 * Assignments and relationships of the plan's apps, their other versions and their supersedence graphs. `listed`
 * (the run's listing, `$expand=assignments`) answers assignments without a read; an app whose relationship counts
 * are 0 has no relationship to read when no listed app has a dependency (dependencies link Win32 apps only, so an
 * incoming one would show as a count on a listed app).
 */
export async function readTargetingFacts(
  api: IntuneApi,
  plan: Plan,
  tenant: TenantState,
  resolved: TargetingRead,
  signal?: AbortSignal,
  listed: readonly Win32LobAppWire[] = [],
): Promise<TargetingFacts> {
  const assignments = new Map<string, MobileAppAssignmentWire[]>();
  const relationships = relationshipReader(api, signal);
  for (const a of listed) if (Array.isArray(a.assignments)) assignments.set(a.id.toLowerCase(), a.assignments);
  if (listed.length > 0 && listed.every((a) => a.dependentAppCount === 0))
    for (const a of listed)
      if (a.supersededAppCount === 0 && a.supersedingAppCount === 0) relationships.known.set(a.id.toLowerCase(), []);
  const readAssignments = async (id: string) => {
    if (assignments.has(id.toLowerCase())) return;
    assignments.set(id.toLowerCase(), await api.listAssignments(id, signal));
  };
  // Breadth-first over the links `follow` accepts, from `start`, until `limit` apps were read.
  const walk = async (start: readonly string[], follow: (r: RelationshipRow) => boolean, limit: number) => {
    const queue = [...start];
    const seen = new Set<string>();
    while (queue.length > 0 && seen.size <= limit) {
      const id = queue.shift()!.toLowerCase();
      if (seen.has(id)) continue;
      seen.add(id);
      for (const r of await relationships.read(id)) if (follow(r)) queue.push(r.targetId);
    }
  };
  for (const item of plan.items) {
    if (item.appId !== undefined) await readAssignments(item.appId);
    const own = item.appId === undefined ? [] : [item.appId];
    const desired = resolved.desired.find((d) => d.definitionId === item.id);
    const versions = tenant.owned.filter((o) => o.stamp.id === item.id).map((o) => o.app.id);
    // The supersedence graph around the app (bounded: past the limit the plan refuses anyway).
    const supersedes = desired?.definition.updateStrategy === "supersede";
    await walk(
      [...own, ...(supersedes ? versions : [])],
      (r) => r["@odata.type"] !== DEPENDENCY_TYPE,
      MAX_SUPERSEDENCE_NODES + 1,
    );
    // The dependency graph around the app and the apps it depends on, in both directions (Intune counts every app
    // connected through a shared dependency; bounded: past the limit the plan refuses), so the limit and a cycle
    // through links made outside this run (A → B → C → A) are seen before any write.
    const deps = (desired?.dependencies ?? []).flatMap((dep) =>
      "appId" in dep ? [dep.appId] : tenant.owned.filter((o) => o.stamp.id === dep.definitionId).map((o) => o.app.id),
    );
    await walk([...own, ...deps], (r) => r["@odata.type"] === DEPENDENCY_TYPE, MAX_DEPENDENCY_NODES);
  }
  return {
    assignments,
    relationships: relationships.known,
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
  api: IntuneApi,
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
        await api.assign(a.appId, t.assignments.body, signal);
        a.outcome.assigned = t.assignments.body.length;
      }
      if (t.previousAssignments !== undefined) {
        await api.assign(t.previousAssignments.appId, [], signal);
        a.outcome.previousCleared = t.previousAssignments.appId;
      }
    });
    await step(a, "relationships", async () => {
      // Room first: kept versions leave the supersedence graph before the new link makes it grow.
      for (const kept of t.detach) {
        await detachVersion(
          api,
          kept.appId,
          new Set([...kept.siblings.map(real), a.appId].map((x) => x.toLowerCase())),
          signal,
        );
        (a.outcome.detached ??= []).push(kept.appId);
      }
      const r = t.relationships;
      if (r !== undefined && r.changed) {
        const body = r.body.map((x) => ({ ...x, targetId: real(x.targetId) }));
        await api.updateRelationships(a.appId, body, signal);
        a.outcome.relationships = [...r.add, ...r.change].map((l) => `${l.kind} ${real(l.targetId)}`);
      }
      // Our apps that depended on the superseded version now depend on the new one.
      const previous = a.item.supersedes;
      if (previous === undefined) return;
      for (const dependent of t.dependents)
        if (await rewriteLinks(api, dependent, (links) => repointedLinks(dependent, links, previous, a.appId), signal))
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
      const profile = await rewriteEspApps(api, profileId, (ids) => nextSelectedApps(ids, c.add, c.remove), signal);
      if (profile !== undefined) for (const a of c.items) (a.outcome.esp ??= []).push(profile.displayName);
    } catch (e) {
      for (const a of c.items) a.failed ??= new TargetingStepError("esp", e);
    }
  }

  for (const a of items) {
    const t = a.item.targeting!;
    await step(a, "retention", async () => {
      for (const victim of t.retention) {
        await deleteVersion(api, victim.appId, a.appId, signal);
        (a.outcome.deleted ??= []).push(victim.appId);
      }
    });
    await step(a, "stamp", async () => {
      if (!stampChanges(a.item)) return;
      const current = await api.getAppNotes(a.appId, signal);
      const r = readStamp(current.notes);
      if (r.status !== "valid") return;
      const next = { ...r.stamp, targets: t.stamp.targets, esp: t.stamp.esp };
      const notes = stampNotes(current.notes, next);
      if (notes !== (current.notes ?? "")) {
        await api.patchApp(a.appId, { "@odata.type": ODATA_TYPE.win32LobApp, notes }, signal);
        a.outcome.stamp = true;
      }
    });
  }
  return new Map(items.map((a) => [a.item.id, { outcome: a.outcome, ...(a.failed ? { error: a.failed } : {}) }]));
}

/**
 * Deletes one previous version: the links other apps have to it go first (ours only: the plan refused versions
 * that foreign apps link to; a dependency is pointed at the definition's current app instead), then its own
 * links, its assignments, and the app. Reads each app's relationships just before writing them.
 */
export async function deleteVersion(
  api: IntuneApi,
  victimId: string,
  currentId: string,
  signal?: AbortSignal,
): Promise<void> {
  const rows = await api.listRelationships(victimId, signal);
  for (const parent of rows.filter((r) => r.targetType === "parent"))
    await rewriteLinks(
      api,
      parent.targetId,
      (links) => repointedLinks(parent.targetId, links, victimId, currentId),
      signal,
    );
  if (rows.some((r) => r.targetType === "child")) await api.updateRelationships(victimId, [], signal);
  await api.assign(victimId, [], signal);
  await api.deleteApp(victimId, signal);
}

/**
 * Takes a kept version out of its supersedence graph: the supersedence links between it and the definition's
 * other versions (`siblings`) go; links to other apps, its dependencies and the app stay. Read-modify-write.
 */
export async function detachVersion(
  api: IntuneApi,
  versionId: string,
  siblings: ReadonlySet<string>,
  signal?: AbortSignal,
): Promise<void> {
  const v = versionId.toLowerCase();
  const rows = await api.listRelationships(versionId, signal);
  const supersedence = (r: (typeof rows)[number]) => r["@odata.type"] !== DEPENDENCY_TYPE;
  for (const parent of rows.filter(
    (r) => r.targetType === "parent" && supersedence(r) && siblings.has(r.targetId.toLowerCase()),
  ))
    await rewriteLinks(api, parent.targetId, (links) => withoutSupersedenceOf(links, v), signal);
  const own = outgoingLinks(versionId, rows);
  const keep = own.filter((l) => l.kind !== "supersedence" || !siblings.has(l.targetId));
  if (keep.length !== own.length) await api.updateRelationships(versionId, keep.map(toRelationshipWire), signal);
}
