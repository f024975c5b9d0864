/**
 * What `apps remove` changes, pure (safe removal): from the apps to remove and the facts read about them
 * (relationships of both sides, assignments, ESP profiles), every write, in an order Intune accepts and a re-run
 * finishes:
 *
 *   1. relationships: other apps' links to a removed app, then the removed apps' own links (Intune refuses to delete
 *      an app that is superseded or in a dependency, docs/reference/graph-win32-upload.md §2.13);
 *   2. Enrollment Status Page profiles: the removed ids taken out of `selectedMobileAppIds`;
 *   3. assignments: cleared;
 *   4. the apps deleted, newest first.
 *
 * Each step reads before it writes and skips what is already done, so a run stopped anywhere is finished by the
 * next. Links that apps without our ownership stamp (foreign apps) have to a removed app are not ours to change:
 * they block the removal unless `unlinkForeign` says to remove them too.
 */
import type { OwnershipStamp } from "../app-definition/stamp.js";
import type { EspChange, EspProfile } from "../targeting/esp.js";
import type { Link, RelationshipRow } from "../targeting/relationships.js";
import { DEPENDENCY_TYPE, outgoingLinks, planOutgoing } from "../targeting/relationships.js";
import type { MobileAppRelationshipWriteWire } from "../wire/graph.js";
import type { OwnedApp } from "./plan.js";
import { currentApp, newestFirst } from "./plan.js";

/** A win32LobApp as the removal plan needs it. */
export interface RemovalApp {
  id: string;
  displayName: string;
  displayVersion?: string | null;
  createdDateTime?: string;
  committedContentVersion?: string | null;
  /** its intune-publisher stamp, when valid */
  stamp?: OwnershipStamp;
}

export interface RemovalFacts {
  /** the apps to remove */
  targets: readonly RemovalApp[];
  /** every win32LobApp of the tenant, by lower-case id (names, stamps, the other versions of a definition) */
  apps: ReadonlyMap<string, RemovalApp>;
  /** `GET …/relationships` of each target and of each app linking to one, by lower-case id */
  relationships: ReadonlyMap<string, readonly RelationshipRow[]>;
  /** each target's assignments as labels (`required: group Pilot devices`), by lower-case id */
  assignments: ReadonlyMap<string, readonly string[]>;
  /** the ESP profiles; undefined when they could not be read */
  espProfiles: readonly EspProfile[] | undefined;
  /** remove foreign apps' links to a removed app too (else they block the removal) */
  unlinkForeign: boolean;
}

export interface RemovalAppRow {
  appId: string;
  displayName: string;
  displayVersion: string;
  /** from the stamp, when the app is ours */
  definitionId?: string;
  version?: string;
}

/** One app whose outgoing links change. */
export interface RemovalLinkRow {
  appId: string;
  displayName: string;
  /** `removed`: an app this removal deletes; `ours`: another app intune-publisher published; `foreign`: one it did not */
  owner: "removed" | "ours" | "foreign";
  /** the links that go */
  remove: Link[];
  /** the same, in words (`supersedes (update) Contoso Notes 2.4.1 (<id>)`) */
  text: string[];
  /** its whole outgoing set afterwards (`updateRelationships`) */
  body: MobileAppRelationshipWriteWire[];
}

export interface RemovalAssignmentRow {
  appId: string;
  labels: string[];
}

export interface RemovalPlan {
  /** the apps deleted, in deletion order */
  apps: RemovalAppRow[];
  /** in write order: other apps' links first, then the removed apps' own */
  relationships: RemovalLinkRow[];
  /** ESP profiles that list a removed app: `remove` holds those ids (`add` is empty) */
  esp: EspChange[];
  /** the assignments cleared */
  assignments: RemovalAssignmentRow[];
  /** foreign apps' links to a removed app, left because `unlinkForeign` was not given: they block the removal */
  blocked: RemovalLinkRow[];
  warnings: string[];
}

const lower = (s: string): string => s.toLowerCase();

/** `Contoso Notes 2.4.1 (<id>)`, or the id alone for an app the facts do not name. */
export function appLabel(apps: ReadonlyMap<string, RemovalApp>, id: string): string {
  const a = apps.get(lower(id));
  if (a === undefined) return id;
  return `${a.displayName}${a.displayVersion ? ` ${a.displayVersion}` : ""} (${a.id})`;
}

/** `supersedes (update) Contoso Notes 2.4.1 (<id>)` / `depends on (autoInstall) …`. */
export function linkText(apps: ReadonlyMap<string, RemovalApp>, l: Link): string {
  return `${l.kind === "supersedence" ? `supersedes (${l.type})` : `depends on (${l.type})`} ${appLabel(apps, l.targetId)}`;
}

export function planRemoval(f: RemovalFacts): RemovalPlan {
  const removed = new Set(f.targets.map((t) => lower(t.id)));
  const warnings: string[] = [];
  const rowsOf = (id: string): readonly RelationshipRow[] => f.relationships.get(lower(id)) ?? [];
  const app = (id: string): RemovalApp | undefined => f.apps.get(lower(id));

  // Apps outside the removal that link to a removed app (their `child` rows appear as `parent` rows here).
  const linking = new Set<string>();
  for (const t of f.targets)
    for (const r of rowsOf(t.id))
      if (r.targetType === "parent" && !removed.has(lower(r.targetId))) linking.add(lower(r.targetId));

  const others: RemovalLinkRow[] = [];
  for (const id of [...linking].sort()) {
    // The app's own listing when it was read, else what the removed apps' rows say about it.
    const own = f.relationships.has(id)
      ? outgoingLinks(id, rowsOf(id))
      : f.targets.flatMap((t) =>
          rowsOf(t.id)
            .filter((r) => r.targetType === "parent" && lower(r.targetId) === id)
            .map((r) => ({
              kind: r["@odata.type"] === DEPENDENCY_TYPE ? ("dependency" as const) : ("supersedence" as const),
              sourceId: id,
              targetId: lower(t.id),
              type: (r["@odata.type"] === DEPENDENCY_TYPE ? r.dependencyType : r.supersedenceType) ?? "",
            })),
        );
    const p = planOutgoing(id, own, { drop: removed });
    if (!p.changed) continue;
    const a = app(id);
    others.push({
      appId: a?.id ?? id,
      displayName: a?.displayName ?? id,
      owner: a?.stamp !== undefined ? "ours" : "foreign",
      remove: p.remove,
      text: p.remove.map((l) => linkText(f.apps, l)),
      body: p.body,
    });
  }
  const blocked = f.unlinkForeign ? [] : others.filter((o) => o.owner === "foreign");
  const relationships: RemovalLinkRow[] = [
    ...others.filter((o) => o.owner === "ours"),
    ...(f.unlinkForeign ? others.filter((o) => o.owner === "foreign") : []),
  ];
  for (const t of f.targets) {
    const own = outgoingLinks(t.id, rowsOf(t.id));
    if (own.length > 0)
      relationships.push({
        appId: t.id,
        displayName: t.displayName,
        owner: "removed",
        remove: own,
        text: own.map((l) => linkText(f.apps, l)),
        body: [],
      });
  }
  for (const o of others)
    for (const l of o.remove.filter((x) => x.kind === "dependency"))
      warnings.push(
        `${appLabel(f.apps, o.appId)} depends on ${appLabel(f.apps, l.targetId)}: the dependency is removed with the app, so it no longer installs it.${o.owner === "ours" ? " Publish its definition again to give it the dependency it should have." : ""}`,
      );

  const esp: EspChange[] = [];
  for (const p of f.espProfiles ?? []) {
    const hit = (p.selectedMobileAppIds ?? []).filter((x) => removed.has(lower(x)));
    if (hit.length > 0) esp.push({ profileId: p.id, displayName: p.displayName, add: [], remove: hit });
  }
  if (f.espProfiles === undefined)
    warnings.push(
      "Enrollment Status Page profiles were not checked (Graph refused to list them, 403, and no removed app's stamp records ESP membership): if a profile lists a removed app, take it out in Intune.",
    );

  const assignments = f.targets.flatMap((t) => {
    const labels = [...(f.assignments.get(lower(t.id)) ?? [])];
    return labels.length > 0 ? [{ appId: t.id, labels }] : [];
  });

  // Newest first, as the planner orders versions; with the links gone any order is accepted.
  const owned = (a: RemovalApp): OwnedApp => ({
    app: {
      id: a.id,
      displayName: a.displayName,
      ...(a.createdDateTime === undefined ? {} : { createdDateTime: a.createdDateTime }),
      committedContentVersion: a.committedContentVersion ?? null,
    },
    stamp: a.stamp ?? { id: "", version: "", contentHash: "" },
  });
  const ordered = [...f.targets].sort((a, b) => newestFirst(owned(a), owned(b)));
  const apps = ordered.map((a) => ({
    appId: a.id,
    displayName: a.displayName,
    displayVersion: a.displayVersion ?? "",
    ...(a.stamp === undefined ? {} : { definitionId: a.stamp.id, version: a.stamp.version }),
  }));

  // A definition that keeps other versions: say which one publish updates from now on.
  for (const def of [...new Set(f.targets.flatMap((t) => (t.stamp === undefined ? [] : [t.stamp.id])))].sort()) {
    const left = [...f.apps.values()].filter((a) => a.stamp?.id === def && !removed.has(lower(a.id)));
    const next = currentApp(left.map(owned));
    if (next !== undefined)
      warnings.push(
        `${def} keeps ${left.length} other version(s); ${next.stamp.version} (${next.app.id}) becomes the version \`publish\` updates. Remove them all with --all-versions.`,
      );
  }
  return { apps, relationships, esp, assignments, blocked, warnings };
}
