/**
 * App relationships (beta only): `updateRelationships` replaces an app's supersedence and dependency links,
 * `relationships` lists the links from and to it; the apps' relationship counts, the graph limits and the rules
 * for deleting a linked app. Source: docs/reference/graph-win32-upload.md §2.13, §2.14 and §4 item 24.
 */
import { ODATA_TYPE } from "../../../src/core/wire/graph.js";
import { badRequest, modelValidation } from "../errors.js";
import { unknownPropertyMessage } from "../model/win32LobApp.js";
import { APPS_READ, APPS_WRITE } from "../permissions.js";
import type { RelationshipRecord, TenantState } from "../repositories.js";
import { route } from "../routing.js";
import type { Route } from "../routing.js";
import type { GraphRequest, GraphResponse } from "../types.js";
import { checkActionParameters, requestedValue } from "./assignments.js";
import { Handler } from "./handler.js";
import { APP_BASE, isObject } from "./mobile-apps.js";

/** §2.13 limits. */
export const MAX_SUPERSEDENCE_NODES = 10;
export const MAX_DEPENDENCY_NODES = 100;

const API = "microsoft.management.services.api.";

/** Properties of mobileAppRelationship and its two types (current beta metadata); the read-only ones are ignored. */
const RELATIONSHIP_PROPERTIES = [
  "@odata.type",
  "id",
  "targetId",
  "targetDisplayName",
  "targetDisplayVersion",
  "targetPublisher",
  "targetPublisherDisplayName",
  "sourceId",
  "sourceDisplayName",
  "sourceDisplayVersion",
  "sourcePublisherDisplayName",
  "targetType",
];
const SUPERSEDENCE_PROPERTIES = [
  ...RELATIONSHIP_PROPERTIES,
  "supersedenceType",
  "supersededAppCount",
  "supersedingAppCount",
];
const DEPENDENCY_PROPERTIES = [...RELATIONSHIP_PROPERTIES, "dependencyType", "dependentAppCount", "dependsOnAppCount"];
/** mobileAppSupersedenceType and mobileAppDependencyType, with the evolvable-enum sentinel current metadata has. */
const SUPERSEDENCE_TYPES = ["update", "replace", "unknownFutureValue"];
const DEPENDENCY_TYPES = ["detect", "autoInstall", "unknownFutureValue"];

const notARelationshipType = (type: unknown) =>
  modelValidation(
    `'${String(type)}' is not a mobileAppRelationship type; use ${ODATA_TYPE.mobileAppSupersedence} or ${ODATA_TYPE.mobileAppDependency}.`,
  );

/** An item of a collection typed as an abstract base, without `@odata.type` (wording as in win32LobApp.ts). */
function abstractItem(raw: Record<string, unknown>, baseType: string, baseProperties: readonly string[]) {
  const unknown = Object.keys(raw).find((k) => !baseProperties.includes(k));
  if (unknown !== undefined) return modelValidation(unknownPropertyMessage(unknown, baseType));
  return modelValidation(
    `An instance of the abstract type '${API}${baseType}' cannot be created: specify '@odata.type' with a concrete derived type.`,
  );
}

/**
 * Model first, as Graph deserializes the whole body before any rule: the items are typed as the abstract
 * mobileAppRelationship, so `@odata.type` picks the type, and a property the type lacks is a 400.
 */
function checkRelationshipModel(items: readonly unknown[]): Record<string, unknown>[] {
  return items.map((raw) => {
    if (!isObject(raw)) throw badRequest("Each relationship must be a JSON object.");
    const type = raw["@odata.type"];
    if (type === undefined) throw abstractItem(raw, "mobileAppRelationship", RELATIONSHIP_PROPERTIES);
    const allowed =
      type === ODATA_TYPE.mobileAppSupersedence
        ? SUPERSEDENCE_PROPERTIES
        : type === ODATA_TYPE.mobileAppDependency
          ? DEPENDENCY_PROPERTIES
          : undefined;
    if (allowed === undefined) throw notARelationshipType(type);
    const unknownKey = Object.keys(raw).find((k) => !allowed.includes(k));
    if (unknownKey)
      throw modelValidation(unknownPropertyMessage(unknownKey, String(type).replace(/^#microsoft\.graph\./, "")));
    return raw;
  });
}

/** Maintains supersededAppCount, supersedingAppCount and dependentAppCount on every app (§2.13, §4 item 24). */
function refreshCounts(t: TenantState): void {
  const all = t.relationships.list();
  const count = (kind: RelationshipRecord["kind"], end: "sourceId" | "targetId", appId: string): number =>
    all.filter((r) => r.kind === kind && r[end] === appId).length;
  for (const app of t.apps.list()) {
    t.apps.put({
      ...app,
      supersededAppCount: count("supersedence", "sourceId", app.id),
      supersedingAppCount: count("supersedence", "targetId", app.id),
      dependentAppCount: count("dependency", "sourceId", app.id),
    });
  }
}

/** The delete rules of §2.13 / §4 item 24: no app in a dependency, and no superseded app, may be deleted. */
export function assertDeletable(t: TenantState, appId: string): void {
  const rels = t.relationships.list();
  if (rels.some((r) => r.kind === "dependency" && (r.sourceId === appId || r.targetId === appId))) {
    throw badRequest("The app is part of a dependency relationship; remove the relationship before deleting the app.");
  }
  if (rels.some((r) => r.kind === "supersedence" && r.targetId === appId)) {
    throw badRequest("The app is superseded by another app; remove the supersedence before deleting the app.");
  }
}

/** A deleted app's links go; the other side of a dropped link (the app it superseded) shows its new counts. */
export function forgetRelationships(t: TenantState, appId: string): void {
  if (t.relationships.deleteWhere((r) => r.sourceId === appId || r.targetId === appId)) refreshCounts(t);
}

/**
 * §2.13 / §4 item 24: no cycles; supersedence graph ≤ 10 nodes; dependency graph ≤ 100 nodes, counting every app
 * connected through a shared dependency (Learn "Dependency limitations").
 */
function checkGraph(all: RelationshipRecord[], appId: string): void {
  for (const kind of ["supersedence", "dependency"] as const) {
    const edges = all.filter((r) => r.kind === kind);
    const out = new Map<string, string[]>();
    for (const e of edges) out.set(e.sourceId, [...(out.get(e.sourceId) ?? []), e.targetId]);
    // cycle through appId: can appId reach itself?
    const seen = new Set<string>();
    const stack = [...(out.get(appId) ?? [])];
    for (let n = stack.pop(); n !== undefined; n = stack.pop()) {
      if (n === appId) throw badRequest(`The ${kind} relationships would form a cycle.`);
      if (seen.has(n)) continue;
      seen.add(n);
      stack.push(...(out.get(n) ?? []));
    }
    // Connected component, both directions: a supersedence graph counts transitive references (§2.13, Microsoft Learn);
    // a dependency graph counts every app connected through a shared dependency, each once (Learn, apps-win32-add.md
    // "Dependency limitations": graphs sharing a dependency are summed).
    const adj = new Map<string, string[]>();
    for (const e of edges) {
      adj.set(e.sourceId, [...(adj.get(e.sourceId) ?? []), e.targetId]);
      adj.set(e.targetId, [...(adj.get(e.targetId) ?? []), e.sourceId]);
    }
    const comp = new Set<string>([appId]);
    const queue = [appId];
    for (let n = queue.pop(); n !== undefined; n = queue.pop()) {
      for (const m of adj.get(n) ?? []) {
        if (!comp.has(m)) {
          comp.add(m);
          queue.push(m);
        }
      }
    }
    if (kind === "dependency" && comp.size > MAX_DEPENDENCY_NODES) {
      throw badRequest(
        `A dependency graph can have at most ${MAX_DEPENDENCY_NODES} apps, counting sub-dependencies, the app itself and every app connected through a shared dependency (this one would have ${comp.size}).`,
      );
    }
    if (kind === "supersedence" && comp.size > MAX_SUPERSEDENCE_NODES) {
      throw badRequest(
        `A supersedence graph can have at most ${MAX_SUPERSEDENCE_NODES} apps, counting transitive references (this one would have ${comp.size}).`,
      );
    }
  }
}

export class RelationshipHandler extends Handler {
  routes(): Route[] {
    // §2.14: documented under beta only.
    const beta = { versions: ["beta"] as const };
    return [
      route("GET", `${APP_BASE}/{id}/relationships`, APPS_READ, (req, p) => this.list(req, p.id), beta),
      route("POST", `${APP_BASE}/{id}/updateRelationships`, APPS_WRITE, (req, p) => this.update(req, p.id), beta),
    ];
  }

  /** §2.13: the same link shows on both apps, `child` on the app that supersedes or depends, `parent` on the other. */
  private list(req: GraphRequest, id: string): GraphResponse {
    const t = this.tenant(req);
    const appId = t.apps.require(id).id;
    const all = t.relationships.list();
    const count = (kind: RelationshipRecord["kind"], end: "sourceId" | "targetId", of: string): number =>
      all.filter((x) => x.kind === kind && x[end] === of).length;
    const rows = t.relationships.touching(appId).map((r) => {
      const child = r.sourceId === appId;
      const other = t.apps.get(child ? r.targetId : r.sourceId);
      const src = t.apps.get(r.sourceId);
      const row: Record<string, unknown> = {
        "@odata.type": r.kind === "supersedence" ? ODATA_TYPE.mobileAppSupersedence : ODATA_TYPE.mobileAppDependency,
        id: r.id,
        targetId: child ? r.targetId : r.sourceId,
        targetDisplayName: other?.["displayName"] ?? null,
        targetDisplayVersion: other?.["displayVersion"] ?? null,
        targetPublisher: other?.["publisher"] ?? null,
        targetPublisherDisplayName: other?.["publisher"] ?? null,
        sourceId: r.sourceId,
        sourceDisplayName: src?.["displayName"] ?? null,
        sourceDisplayVersion: src?.["displayVersion"] ?? null,
        sourcePublisherDisplayName: src?.["publisher"] ?? null,
        targetType: child ? "child" : "parent",
      };
      if (r.kind === "supersedence") {
        row["supersedenceType"] = r.supersedenceType;
        row["supersededAppCount"] = count("supersedence", "sourceId", r.sourceId);
        row["supersedingAppCount"] = count("supersedence", "targetId", r.targetId);
      } else {
        row["dependencyType"] = r.dependencyType;
        row["dependentAppCount"] = count("dependency", "targetId", r.targetId);
        row["dependsOnAppCount"] = count("dependency", "sourceId", r.sourceId);
      }
      return row;
    });
    return this.page(req, rows, `${APP_BASE}/${appId}/relationships`);
  }

  /** Full replace of the app's outgoing links (§2.13), then the graph checks on the result. */
  private update(req: GraphRequest, id: string): GraphResponse {
    const t = this.tenant(req);
    const app = t.apps.require(id);
    const b = req.body;
    if (!isObject(b) || !Array.isArray(b["relationships"])) throw badRequest("The body must contain 'relationships'.");
    checkActionParameters(b, ["relationships"], "updateRelationships");
    const next: RelationshipRecord[] = [];
    for (const raw of checkRelationshipModel(b["relationships"])) {
      const type = raw["@odata.type"];
      const targetId = typeof raw["targetId"] === "string" ? raw["targetId"].toLowerCase() : "";
      // §2.13: no self-reference; targets exist and are win32LobApp.
      if (targetId === app.id) throw badRequest("An app cannot supersede or depend on itself.");
      const target = t.apps.get(targetId);
      if (!target) throw badRequest(`The target app '${String(raw["targetId"])}' does not exist.`);
      if (target["@odata.type"] !== ODATA_TYPE.win32LobApp) throw badRequest("Relationships apply to Win32 apps only.");
      if (next.some((r) => r.targetId === targetId)) throw badRequest(`The target app '${targetId}' appears twice.`);
      const link = { id: `${app.id}_${targetId}`, sourceId: app.id, targetId };
      if (type === ODATA_TYPE.mobileAppSupersedence) {
        const st = raw["supersedenceType"];
        if (typeof st !== "string" || !SUPERSEDENCE_TYPES.includes(st)) throw requestedValue(st);
        next.push({ ...link, kind: "supersedence", supersedenceType: st });
      } else {
        const dt = raw["dependencyType"];
        if (typeof dt !== "string" || !DEPENDENCY_TYPES.includes(dt)) throw requestedValue(dt);
        // §2.13 (Microsoft Learn): dependencies only on apps that have been added and uploaded.
        if (target.publishingState !== "published")
          throw badRequest(`The dependency target '${targetId}' has no committed content.`);
        next.push({ ...link, kind: "dependency", dependencyType: dt });
      }
    }
    checkGraph([...t.relationships.list().filter((r) => r.sourceId !== app.id), ...next], app.id);
    t.relationships.replaceOutgoing(app.id, next);
    refreshCounts(t);
    return { status: 204 };
  }
}
