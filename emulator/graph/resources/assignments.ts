/**
 * App assignments (`assign` replaces all, `assignments` adds one) and relationships (`updateRelationships`,
 * `relationships`). Source: intune-win32-protocol.md §2.12, §2.13 and §4 items 23–24.
 */
import type { MobileAppAssignmentWire } from "../../../src/core/wire/graph.js";
import { ODATA_TYPE } from "../../../src/core/wire/graph.js";
import type { Entity } from "../../store.js";
import { badRequest, GraphError, notFound } from "../errors.js";
import { arraySource, entityResponse, listPage } from "../odata.js";
import { APPS_READ, APPS_WRITE } from "../permissions.js";
import type { GraphRequest, Route } from "../types.js";
import { normalizeAssignmentSettings } from "../model/assignment-settings.js";
import { unknownPropertyMessage } from "../model/win32LobApp.js";
import { C } from "./context.js";
import type { ResourceContext } from "./context.js";

type Json = Entity & Record<string, unknown>;

const APP_BASE = "/deviceAppManagement/mobileApps";
const ASSIGNMENTS = "mobileAppAssignments";
const RELATIONSHIPS = "mobileAppRelationships";

/** §2.12: pseudo-group ids of the all-devices / all-users targets, and the intent codes of assignment ids. */
const ALL_DEVICES = "adadadad-808e-44e2-905a-0b7873a8a531";
const ALL_USERS = "acacacac-9df4-4c7d-9d50-4ef0226f57a9";
const INTENT_CODES: Record<string, number> = { available: 0, required: 1, uninstall: 2, availableWithoutEnrollment: 3 };
const TARGET_TYPES = new Set([
  "#microsoft.graph.groupAssignmentTarget",
  "#microsoft.graph.exclusionGroupAssignmentTarget",
  "#microsoft.graph.allDevicesAssignmentTarget",
  "#microsoft.graph.allLicensedUsersAssignmentTarget",
]);
export const WITHOUT_ENROLLMENT =
  "The intent 'availableWithoutEnrollment' is not supported for a win32LobApp: Win32 apps install on devices enrolled in Intune; use 'available', 'required' or 'uninstall'.";
/** The filter platform a win32LobApp assignment accepts (deviceAndAppManagementAssignmentFilter.platform). */
export const WIN32_FILTER_PLATFORM = "windows10AndLater";
export const FILTER_ON_EXCLUSION =
  "Assignment filters are not supported on exclusion group targets: set deviceAndAppManagementAssignmentFilterType to 'none' and deviceAndAppManagementAssignmentFilterId to null.";
export const wrongPlatformMessage = (filterId: string, platform: string): string =>
  `The assignment filter '${filterId}' is for platform '${platform}'; a win32LobApp assignment needs a filter for platform '${WIN32_FILTER_PLATFORM}'.`;

/** §2.13 limits. */
export const MAX_SUPERSEDENCE_NODES = 10;
export const MAX_DEPENDENCY_NODES = 100;

interface StoredAssignment extends Entity {
  appId: string;
  assignment: MobileAppAssignmentWire & { id: string };
}

interface StoredRelationship extends Entity {
  sourceId: string;
  targetId: string;
  kind: "supersedence" | "dependency";
  supersedenceType?: string;
  dependencyType?: string;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const modelError = (message: string): GraphError => new GraphError(400, "ModelValidationFailure", message);
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

/** ODataLib's answer to a body parameter an action does not declare (wording as in win32LobApp.ts's commit). */
function checkActionParameters(body: Record<string, unknown>, allowed: readonly string[], action: string): void {
  for (const k of Object.keys(body)) {
    if (!allowed.includes(k))
      throw modelError(
        `The parameter '${k}' in the request payload is not a valid parameter for the operation '${action}'.`,
      );
  }
}

/** An item of a collection typed as an abstract base, without `@odata.type` (wording as in win32LobApp.ts). */
function abstractItem(raw: Record<string, unknown>, baseType: string, baseProperties: readonly string[]): GraphError {
  const unknown = Object.keys(raw).find((k) => !baseProperties.includes(k));
  if (unknown !== undefined) return modelError(unknownPropertyMessage(unknown, baseType));
  return modelError(
    `An instance of the abstract type '${API}${baseType}' cannot be created: specify '@odata.type' with a concrete derived type.`,
  );
}
const requestedValue = (v: unknown): GraphError => modelError(`Requested value '${String(v)}' was not found.`);

export function assignmentsOf(ctx: ResourceContext, tenantId: string, appId: string): MobileAppAssignmentWire[] {
  return ctx.store
    .collection<StoredAssignment>(tenantId, ASSIGNMENTS)
    .list()
    .filter((a) => a.appId === appId.toLowerCase())
    .map((a) => a.assignment);
}

/** Maintains supersededAppCount, supersedingAppCount and dependentAppCount on every app (§2.13, §4 item 24). */
function refreshCounts(ctx: ResourceContext, tenantId: string): void {
  const apps = ctx.store.collection<Json>(tenantId, C.mobileApps);
  const all = ctx.store.collection<StoredRelationship>(tenantId, RELATIONSHIPS).list();
  for (const app of apps.list()) {
    apps.put({
      ...app,
      supersededAppCount: all.filter((r) => r.kind === "supersedence" && r.sourceId === app.id).length,
      supersedingAppCount: all.filter((r) => r.kind === "supersedence" && r.targetId === app.id).length,
      dependentAppCount: all.filter((r) => r.kind === "dependency" && r.sourceId === app.id).length,
    });
  }
}

/** Checks delete rules of §2.13 / §4 item 24 and cleans relationships when an app goes. */
export function relationshipGuards(ctx: ResourceContext): {
  assertDeletable(req: GraphRequest, appId: string): void;
  forget(req: GraphRequest, appId: string): void;
} {
  return {
    assertDeletable(req, appId) {
      const rels = ctx.store.collection<StoredRelationship>(req.caller.tenantId, RELATIONSHIPS).list();
      if (rels.some((r) => r.kind === "dependency" && (r.sourceId === appId || r.targetId === appId))) {
        throw badRequest(
          "The app is part of a dependency relationship; remove the relationship before deleting the app.",
        );
      }
      if (rels.some((r) => r.kind === "supersedence" && r.targetId === appId)) {
        throw badRequest("The app is superseded by another app; remove the supersedence before deleting the app.");
      }
    },
    forget(req, appId) {
      const rels = ctx.store.collection<StoredRelationship>(req.caller.tenantId, RELATIONSHIPS);
      let dropped = false;
      for (const r of rels.list()) {
        if (r.sourceId === appId || r.targetId === appId) dropped = rels.delete(r.id) || dropped;
      }
      // The other side of a dropped link (the app it superseded) shows its new counts.
      if (dropped) refreshCounts(ctx, req.caller.tenantId);
      const asg = ctx.store.collection<StoredAssignment>(req.caller.tenantId, ASSIGNMENTS);
      for (const a of asg.list()) if (a.appId === appId) asg.delete(a.id);
      // ESP blocking lists lose the app (inference, not observed: docs/emulator.md "Targeting and lifecycle").
      const esps = ctx.store.collection<Json>(req.caller.tenantId, C.enrollmentConfigurations);
      for (const e of esps.list()) {
        const ids = e["selectedMobileAppIds"];
        if (Array.isArray(ids) && ids.some((x) => typeof x === "string" && x.toLowerCase() === appId)) {
          esps.put({
            ...e,
            selectedMobileAppIds: ids.filter((x) => !(typeof x === "string" && x.toLowerCase() === appId)),
          });
        }
      }
    },
  };
}

export function assignmentRoutes(ctx: ResourceContext, opts: { requirePublished?: boolean } = {}): Route[] {
  const requirePublished = opts.requirePublished ?? true;
  const apps = (req: GraphRequest) => ctx.store.collection<Json>(req.caller.tenantId, C.mobileApps);
  const asg = (req: GraphRequest) => ctx.store.collection<StoredAssignment>(req.caller.tenantId, ASSIGNMENTS);
  const rels = (req: GraphRequest) => ctx.store.collection<StoredRelationship>(req.caller.tenantId, RELATIONSHIPS);
  const getApp = (req: GraphRequest, id: string): Json => {
    const a = apps(req).get(id);
    if (!a) throw notFound(`The mobile app '${id}' does not exist.`);
    return a;
  };

  /** §4 item 23: intent, target type, filter, settings enums; exclusion targets take no settings. */
  function toAssignment(req: GraphRequest, raw: unknown): MobileAppAssignmentWire & { id: string } {
    if (!isObject(raw)) throw badRequest("Each assignment must be a JSON object.");
    for (const k of Object.keys(raw)) {
      if (!["@odata.type", "id", "intent", "target", "settings", "source", "sourceId"].includes(k)) {
        throw modelError(
          `The property '${k}' does not exist on type 'microsoft.management.services.api.mobileAppAssignment'.`,
        );
      }
    }
    if (raw["@odata.type"] !== undefined && raw["@odata.type"] !== ODATA_TYPE.mobileAppAssignment)
      throw modelError(`'${String(raw["@odata.type"])}' is not a mobileAppAssignment.`);
    const intent = raw["intent"];
    if (typeof intent !== "string" || !(intent in INTENT_CODES)) throw requestedValue(intent);
    // A valid installIntent, but not one a Win32 app takes: Intune offers availableWithoutEnrollment for iOS/iPadOS
    // and Android apps on unenrolled devices (Learn apps-deploy.md); Win32 apps are Required, Available for enrolled
    // devices or Uninstall (apps-win32-add.md step 7). Graph's exact answer is UNCONFIRMED (strict default: 400).
    if (intent === "availableWithoutEnrollment") throw badRequest(WITHOUT_ENROLLMENT);
    const target = raw["target"];
    if (!isObject(target) || typeof target["@odata.type"] !== "string" || !TARGET_TYPES.has(target["@odata.type"])) {
      throw modelError("An assignment needs a 'target' with a supported '@odata.type'.");
    }
    const type = target["@odata.type"];
    const isGroup = type.endsWith("groupAssignmentTarget") || type.endsWith("GroupAssignmentTarget");
    // The target types' properties (current beta metadata): the filter pair on all, groupId on the group ones.
    const targetProperties = [
      "@odata.type",
      "deviceAndAppManagementAssignmentFilterId",
      "deviceAndAppManagementAssignmentFilterType",
      ...(isGroup ? ["groupId"] : []),
    ];
    const unknownTargetKey = Object.keys(target).find((k) => !targetProperties.includes(k));
    if (unknownTargetKey !== undefined)
      throw modelError(unknownPropertyMessage(unknownTargetKey, type.replace(/^#microsoft\.graph\./, "")));
    let groupId: string;
    if (isGroup) {
      if (typeof target["groupId"] !== "string") throw badRequest("A group target needs 'groupId'.");
      groupId = target["groupId"].toLowerCase();
      if (!ctx.store.collection(req.caller.tenantId, C.groups).get(groupId))
        throw badRequest(`The group '${target["groupId"]}' does not exist.`);
    } else {
      groupId = type === "#microsoft.graph.allDevicesAssignmentTarget" ? ALL_DEVICES : ALL_USERS;
    }
    const filterType = target["deviceAndAppManagementAssignmentFilterType"] ?? "none";
    if (filterType !== "none" && filterType !== "include" && filterType !== "exclude") throw requestedValue(filterType);
    const filterId = target["deviceAndAppManagementAssignmentFilterId"] ?? null;
    const exclusion = type === "#microsoft.graph.exclusionGroupAssignmentTarget";
    // No filter on an exclusion target: IntuneWin32App allows a filter only in its GroupInclude parameter set
    // (§2.12 [S1]) and the admin center has none for excluded groups (our recollection). The Graph type does carry
    // the two properties, so what real Graph answers is UNCONFIRMED (it may ignore them). Strict default: refuse.
    if (exclusion && (filterType !== "none" || filterId !== null)) throw badRequest(FILTER_ON_EXCLUSION);
    if (filterType !== "none") {
      const filter =
        typeof filterId === "string"
          ? ctx.store.collection<Json>(req.caller.tenantId, C.assignmentFilters).get(filterId)
          : undefined;
      if (!filter) throw badRequest(`The assignment filter '${String(filterId)}' does not exist.`);
      // The admin center lists only filters of the app's platform (filters.md "A list of filters that match the
      // policy platform is shown"); a Win32 app is windows10AndLater. Graph's answer is UNCONFIRMED.
      const platform = String(filter["platform"] ?? WIN32_FILTER_PLATFORM);
      if (platform !== WIN32_FILTER_PLATFORM) throw badRequest(wrongPlatformMessage(String(filterId), platform));
    }
    const rawSettings = raw["settings"] ?? null;
    // §2.12: exclusion targets take settings null (Graph rejects settings there).
    if (exclusion && rawSettings !== null) throw badRequest("Exclusion assignments cannot have settings.");
    // §2.12: settings validated and stored with Graph's defaults filled (assignment-settings.ts).
    const settings = rawSettings === null ? null : normalizeAssignmentSettings(rawSettings);
    const wire: MobileAppAssignmentWire & { id: string } = {
      "@odata.type": ODATA_TYPE.mobileAppAssignment,
      // §2.12: <groupId>_<intentCode>_<modeCode> (observed, not documented).
      id: `${groupId}_${INTENT_CODES[intent] ?? 0}_${exclusion ? 1 : 0}`,
      intent: intent as MobileAppAssignmentWire["intent"],
      target: {
        ...(target as unknown as MobileAppAssignmentWire["target"]),
        deviceAndAppManagementAssignmentFilterId: filterId as string | null,
        deviceAndAppManagementAssignmentFilterType: filterType,
      },
      settings: settings as unknown as Record<string, unknown> | null,
      source: "direct",
      sourceId: null,
    };
    return wire;
  }

  function assertAssignable(app: Json): void {
    // §2.1 [S6]: "The app cannot be assigned unless the app is published" (enforced by default; a switch exists).
    if (requirePublished && app["publishingState"] !== "published") {
      throw badRequest(
        "The app cannot be assigned unless it is published: commit its content and PATCH committedContentVersion first.",
      );
    }
  }

  function targetKey(a: MobileAppAssignmentWire): string {
    return `${a.target["@odata.type"]}|${(a.target.groupId ?? "").toLowerCase()}`;
  }

  function refreshAssigned(req: GraphRequest, appId: string): void {
    const app = apps(req).get(appId);
    if (app) apps(req).put({ ...app, isAssigned: assignmentsOf(ctx, req.caller.tenantId, appId).length > 0 });
  }

  function relationshipRows(req: GraphRequest, appId: string): Record<string, unknown>[] {
    const all = rels(req).list();
    const info = (id: string): Json | undefined => apps(req).get(id);
    return all
      .filter((r) => r.sourceId === appId || r.targetId === appId)
      .map((r) => {
        // §2.13: the same link shows on both apps, `child` on the app that supersedes or depends, `parent` on the other.
        const child = r.sourceId === appId;
        const other = info(child ? r.targetId : r.sourceId);
        const src = info(r.sourceId);
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
          row["supersededAppCount"] = all.filter((x) => x.kind === "supersedence" && x.sourceId === r.sourceId).length;
          row["supersedingAppCount"] = all.filter((x) => x.kind === "supersedence" && x.targetId === r.targetId).length;
        } else {
          row["dependencyType"] = r.dependencyType;
          row["dependentAppCount"] = all.filter((x) => x.kind === "dependency" && x.targetId === r.targetId).length;
          row["dependsOnAppCount"] = all.filter((x) => x.kind === "dependency" && x.sourceId === r.sourceId).length;
        }
        return row;
      });
  }

  return [
    {
      method: "POST",
      pattern: `${APP_BASE}/{id}/assign`,
      roles: APPS_WRITE,
      forbidden: "intune",
      handler: (req, p) => {
        const app = getApp(req, p["id"] ?? "");
        const b = req.body;
        if (!isObject(b) || !Array.isArray(b["mobileAppAssignments"]))
          throw badRequest("The body must contain 'mobileAppAssignments'.");
        checkActionParameters(b, ["mobileAppAssignments"], "assign");
        const list = b["mobileAppAssignments"].map((a) => toAssignment(req, a));
        if (list.length > 0) assertAssignable(app);
        const keys = new Set<string>();
        for (const a of list) {
          if (keys.has(targetKey(a))) throw badRequest(`The target of assignment '${a.id}' appears twice.`);
          keys.add(targetKey(a));
        }
        // §2.12: replaces the whole set; an empty array removes everything.
        for (const a of asg(req).list()) if (a.appId === app.id) asg(req).delete(a.id);
        for (const a of list) asg(req).put({ id: `${app.id}|${a.id}`, appId: app.id, assignment: a });
        refreshAssigned(req, app.id);
        return { status: 204 };
      },
    },
    {
      method: "GET",
      pattern: `${APP_BASE}/{id}/assignments`,
      roles: APPS_READ,
      forbidden: "intune",
      handler: (req, p) => {
        const app = getApp(req, p["id"] ?? "");
        const rows = assignmentsOf(ctx, req.caller.tenantId, app.id) as unknown as Record<string, unknown>[];
        return listPage(req, arraySource(rows), {
          path: `${APP_BASE}/${app.id}/assignments`,
          defaultPageSize: ctx.pageSize ?? 100,
          maxPageSize: 1000,
        });
      },
    },
    {
      method: "POST",
      pattern: `${APP_BASE}/{id}/assignments`,
      roles: APPS_WRITE,
      forbidden: "intune",
      handler: (req, p) => {
        const app = getApp(req, p["id"] ?? "");
        const a = toAssignment(req, req.body);
        assertAssignable(app);
        // §4 item 23: a second assignment to the same target is refused (real behaviour unconfirmed).
        if (assignmentsOf(ctx, req.caller.tenantId, app.id).some((x) => targetKey(x) === targetKey(a))) {
          throw badRequest("The app already has an assignment to this target.");
        }
        asg(req).put({ id: `${app.id}|${a.id}`, appId: app.id, assignment: a });
        refreshAssigned(req, app.id);
        return {
          status: 201,
          body: {
            "@odata.context": `${req.baseUrl}/$metadata#deviceAppManagement/mobileApps('${app.id}')/assignments/$entity`,
            ...a,
          },
        };
      },
    },
    {
      method: "GET",
      pattern: `${APP_BASE}/{id}/assignments/{aid}`,
      roles: APPS_READ,
      forbidden: "intune",
      handler: (req, p) => {
        const app = getApp(req, p["id"] ?? "");
        const a = asg(req).get(`${app.id}|${p["aid"]}`);
        if (!a) throw notFound(`Assignment '${p["aid"]}' does not exist.`);
        return entityResponse(
          req,
          a.assignment as unknown as Record<string, unknown>,
          `deviceAppManagement/mobileApps('${app.id}')/assignments`,
        );
      },
    },
    {
      method: "DELETE",
      pattern: `${APP_BASE}/{id}/assignments/{aid}`,
      roles: APPS_WRITE,
      forbidden: "intune",
      handler: (req, p) => {
        const app = getApp(req, p["id"] ?? "");
        if (!asg(req).delete(`${app.id}|${p["aid"]}`)) throw notFound(`Assignment '${p["aid"]}' does not exist.`);
        refreshAssigned(req, app.id);
        return { status: 204 };
      },
    },
    {
      method: "GET",
      pattern: `${APP_BASE}/{id}/relationships`,
      // §2.14: documented under beta only.
      versions: ["beta"],
      roles: APPS_READ,
      forbidden: "intune",
      handler: (req, p) => {
        const app = getApp(req, p["id"] ?? "");
        return listPage(req, arraySource(relationshipRows(req, app.id)), {
          path: `${APP_BASE}/${app.id}/relationships`,
          defaultPageSize: ctx.pageSize ?? 100,
          maxPageSize: 1000,
        });
      },
    },
    {
      method: "POST",
      pattern: `${APP_BASE}/{id}/updateRelationships`,
      // §2.14: documented under beta only.
      versions: ["beta"],
      roles: APPS_WRITE,
      forbidden: "intune",
      handler: (req, p) => {
        const app = getApp(req, p["id"] ?? "");
        const b = req.body;
        if (!isObject(b) || !Array.isArray(b["relationships"]))
          throw badRequest("The body must contain 'relationships'.");
        checkActionParameters(b, ["relationships"], "updateRelationships");
        // Model first, as Graph deserializes the whole body before any rule: the items are typed as the abstract
        // mobileAppRelationship, so `@odata.type` picks the type, and a property the type lacks is a 400.
        for (const raw of b["relationships"]) {
          if (!isObject(raw)) throw badRequest("Each relationship must be a JSON object.");
          const type = raw["@odata.type"];
          if (type === undefined) throw abstractItem(raw, "mobileAppRelationship", RELATIONSHIP_PROPERTIES);
          const allowed =
            type === ODATA_TYPE.mobileAppSupersedence
              ? SUPERSEDENCE_PROPERTIES
              : type === ODATA_TYPE.mobileAppDependency
                ? DEPENDENCY_PROPERTIES
                : undefined;
          if (allowed === undefined)
            throw modelError(
              `'${String(type)}' is not a mobileAppRelationship type; use ${ODATA_TYPE.mobileAppSupersedence} or ${ODATA_TYPE.mobileAppDependency}.`,
            );
          const unknownKey = Object.keys(raw).find((k) => !allowed.includes(k));
          if (unknownKey)
            throw modelError(unknownPropertyMessage(unknownKey, String(type).replace(/^#microsoft\.graph\./, "")));
        }
        const next: StoredRelationship[] = [];
        for (const raw of b["relationships"] as Record<string, unknown>[]) {
          const type = raw["@odata.type"];
          const targetId = typeof raw["targetId"] === "string" ? raw["targetId"].toLowerCase() : "";
          // §2.13: no self-reference; targets exist and are win32LobApp.
          if (targetId === app.id) throw badRequest("An app cannot supersede or depend on itself.");
          const target = apps(req).get(targetId);
          if (!target) throw badRequest(`The target app '${String(raw["targetId"])}' does not exist.`);
          if (target["@odata.type"] !== ODATA_TYPE.win32LobApp)
            throw badRequest("Relationships apply to Win32 apps only.");
          if (next.some((r) => r.targetId === targetId))
            throw badRequest(`The target app '${targetId}' appears twice.`);
          if (type === ODATA_TYPE.mobileAppSupersedence) {
            const st = raw["supersedenceType"];
            if (typeof st !== "string" || !SUPERSEDENCE_TYPES.includes(st)) throw requestedValue(st);
            next.push({
              id: `${app.id}_${targetId}`,
              sourceId: app.id,
              targetId,
              kind: "supersedence",
              supersedenceType: st,
            });
          } else if (type === ODATA_TYPE.mobileAppDependency) {
            const dt = raw["dependencyType"];
            if (typeof dt !== "string" || !DEPENDENCY_TYPES.includes(dt)) throw requestedValue(dt);
            // §2.13 [S7]: dependencies only on apps that have been added and uploaded.
            if (target["publishingState"] !== "published")
              throw badRequest(`The dependency target '${targetId}' has no committed content.`);
            next.push({
              id: `${app.id}_${targetId}`,
              sourceId: app.id,
              targetId,
              kind: "dependency",
              dependencyType: dt,
            });
          } else {
            throw modelError(
              `'${String(type)}' is not a mobileAppRelationship type; use ${ODATA_TYPE.mobileAppSupersedence} or ${ODATA_TYPE.mobileAppDependency}.`,
            );
          }
        }
        // Full replace of outgoing links (§2.13), then the graph checks on the result.
        const others = rels(req)
          .list()
          .filter((r) => r.sourceId !== app.id);
        const all = [...others, ...next];
        checkGraph(all, app.id);
        for (const r of rels(req).list()) if (r.sourceId === app.id) rels(req).delete(r.id);
        for (const r of next) rels(req).put(r);
        refreshCounts(ctx, req.caller.tenantId);
        return { status: 204 };
      },
    },
  ];
}

/**
 * §2.13 / §4 item 24: no cycles; supersedence graph ≤ 10 nodes; dependency graph ≤ 100 nodes, counting every app
 * connected through a shared dependency (Learn "Dependency limitations").
 */
function checkGraph(all: StoredRelationship[], appId: string): void {
  for (const kind of ["supersedence", "dependency"] as const) {
    const edges = all.filter((r) => r.kind === kind);
    const out = new Map<string, string[]>();
    for (const e of edges) out.set(e.sourceId, [...(out.get(e.sourceId) ?? []), e.targetId]);
    // cycle through appId: can appId reach itself?
    const seen = new Set<string>();
    const stack = [...(out.get(appId) ?? [])];
    while (stack.length > 0) {
      const n = stack.pop() as string;
      if (n === appId) throw badRequest(`The ${kind} relationships would form a cycle.`);
      if (seen.has(n)) continue;
      seen.add(n);
      stack.push(...(out.get(n) ?? []));
    }
    // Connected component, both directions: a supersedence graph counts transitive references (§2.13 [S7]); a
    // dependency graph counts every app connected through a shared dependency, each once (Learn, apps-win32-add.md
    // "Dependency limitations": graphs sharing a dependency are summed).
    const adj = new Map<string, string[]>();
    for (const e of edges) {
      adj.set(e.sourceId, [...(adj.get(e.sourceId) ?? []), e.targetId]);
      adj.set(e.targetId, [...(adj.get(e.targetId) ?? []), e.sourceId]);
    }
    const comp = new Set<string>([appId]);
    const q = [appId];
    while (q.length > 0) {
      for (const m of adj.get(q.pop() as string) ?? []) {
        if (!comp.has(m)) {
          comp.add(m);
          q.push(m);
        }
      }
    }
    if (kind === "dependency" && comp.size > MAX_DEPENDENCY_NODES) {
      throw badRequest(
        `A dependency graph can have at most ${MAX_DEPENDENCY_NODES} apps, counting sub-dependencies, the app itself and every app connected through a shared dependency (this one would have ${comp.size}).`,
      );
    }
    if (kind === "supersedence") {
      if (comp.size > MAX_SUPERSEDENCE_NODES) {
        throw badRequest(
          `A supersedence graph can have at most ${MAX_SUPERSEDENCE_NODES} apps, counting transitive references (this one would have ${comp.size}).`,
        );
      }
    }
  }
}
