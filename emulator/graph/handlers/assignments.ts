/**
 * App assignments: `assign` replaces the whole set, `assignments` adds, reads and removes one.
 * Source: docs/reference/graph-win32-upload.md §2.12 and §4 item 23.
 */
import type { MobileAppAssignmentWire } from "../../../src/core/wire/graph.js";
import { ODATA_TYPE } from "../../../src/core/wire/graph.js";
import { badRequest, modelValidation, notFound } from "../errors.js";
import type { GraphError } from "../errors.js";
import { normalizeAssignmentSettings } from "../model/assignment-settings.js";
import { unknownPropertyMessage } from "../model/win32LobApp.js";
import { entityResponse } from "../odata.js";
import { APPS_READ, APPS_WRITE } from "../permissions.js";
import type { AppRecord, StoredAssignment, TenantState } from "../repositories.js";
import { route } from "../routing.js";
import type { Route } from "../routing.js";
import type { GraphRequest, GraphResponse } from "../types.js";
import type { HandlerContext } from "./handler.js";
import { Handler } from "./handler.js";
import { APP_BASE, isObject } from "./mobile-apps.js";

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
const ASSIGNMENT_PROPERTIES = ["@odata.type", "id", "intent", "target", "settings", "source", "sourceId"];
export const WITHOUT_ENROLLMENT =
  "The intent 'availableWithoutEnrollment' is not supported for a win32LobApp: Win32 apps install on devices enrolled in Intune; use 'available', 'required' or 'uninstall'.";
/** The filter platform a win32LobApp assignment accepts (deviceAndAppManagementAssignmentFilter.platform). */
export const WIN32_FILTER_PLATFORM = "windows10AndLater";
export const FILTER_ON_EXCLUSION =
  "Assignment filters are not supported on exclusion group targets: set deviceAndAppManagementAssignmentFilterType to 'none' and deviceAndAppManagementAssignmentFilterId to null.";
export const wrongPlatformMessage = (filterId: string, platform: string): string =>
  `The assignment filter '${filterId}' is for platform '${platform}'; a win32LobApp assignment needs a filter for platform '${WIN32_FILTER_PLATFORM}'.`;

/** An enum value the type does not have (ODataLib). */
export const requestedValue = (v: unknown): GraphError =>
  modelValidation(`Requested value '${String(v)}' was not found.`);

/** ODataLib's answer to a body parameter an action does not declare (wording as in win32LobApp.ts's commit). */
export function checkActionParameters(body: Record<string, unknown>, allowed: readonly string[], action: string): void {
  for (const k of Object.keys(body)) {
    if (!allowed.includes(k))
      throw modelValidation(
        `The parameter '${k}' in the request payload is not a valid parameter for the operation '${action}'.`,
      );
  }
}

/** Two assignments to the same target (type and group) are one too many. */
const targetKey = (a: MobileAppAssignmentWire): string =>
  `${a.target["@odata.type"]}|${(a.target.groupId ?? "").toLowerCase()}`;

/** §4 item 23: intent, target type, filter, settings enums; exclusion targets take no settings. */
function toAssignment(t: TenantState, raw: unknown): StoredAssignment {
  if (!isObject(raw)) throw badRequest("Each assignment must be a JSON object.");
  const unknownKey = Object.keys(raw).find((k) => !ASSIGNMENT_PROPERTIES.includes(k));
  if (unknownKey !== undefined)
    throw modelValidation(
      `The property '${unknownKey}' does not exist on type 'microsoft.management.services.api.mobileAppAssignment'.`,
    );
  if (raw["@odata.type"] !== undefined && raw["@odata.type"] !== ODATA_TYPE.mobileAppAssignment)
    throw modelValidation(`'${String(raw["@odata.type"])}' is not a mobileAppAssignment.`);
  const intent = raw["intent"];
  if (typeof intent !== "string" || !(intent in INTENT_CODES)) throw requestedValue(intent);
  // A valid installIntent, but not one a Win32 app takes: Intune offers availableWithoutEnrollment for iOS/iPadOS
  // and Android apps on unenrolled devices (Learn apps-deploy.md); Win32 apps are Required, Available for enrolled
  // devices or Uninstall (apps-win32-add.md step 7). Graph's exact answer is UNCONFIRMED (strict default: 400).
  if (intent === "availableWithoutEnrollment") throw badRequest(WITHOUT_ENROLLMENT);
  const target = raw["target"];
  if (!isObject(target) || typeof target["@odata.type"] !== "string" || !TARGET_TYPES.has(target["@odata.type"])) {
    throw modelValidation("An assignment needs a 'target' with a supported '@odata.type'.");
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
    throw modelValidation(unknownPropertyMessage(unknownTargetKey, type.replace(/^#microsoft\.graph\./, "")));
  let groupId: string;
  if (isGroup) {
    if (typeof target["groupId"] !== "string") throw badRequest("A group target needs 'groupId'.");
    groupId = target["groupId"].toLowerCase();
    if (!t.groups.get(groupId)) throw badRequest(`The group '${target["groupId"]}' does not exist.`);
  } else {
    groupId = type === "#microsoft.graph.allDevicesAssignmentTarget" ? ALL_DEVICES : ALL_USERS;
  }
  const filterType = target["deviceAndAppManagementAssignmentFilterType"] ?? "none";
  if (filterType !== "none" && filterType !== "include" && filterType !== "exclude") throw requestedValue(filterType);
  const filterId = target["deviceAndAppManagementAssignmentFilterId"] ?? null;
  const exclusion = type === "#microsoft.graph.exclusionGroupAssignmentTarget";
  // No filter on an exclusion target: IntuneWin32App allows a filter only in its GroupInclude parameter set
  // (§2.12, IntuneWin32App) and the admin center has none for excluded groups (our recollection). The Graph type does
  // carry the two properties, so what real Graph answers is UNCONFIRMED (it may ignore them). Strict default: refuse.
  if (exclusion && (filterType !== "none" || filterId !== null)) throw badRequest(FILTER_ON_EXCLUSION);
  if (filterType !== "none") {
    const filter = typeof filterId === "string" ? t.assignmentFilters.get(filterId) : undefined;
    if (!filter) throw badRequest(`The assignment filter '${String(filterId)}' does not exist.`);
    // The admin center lists only filters of the app's platform (filters.md "A list of filters that match the
    // policy platform is shown"); a Win32 app is windows10AndLater. Graph's answer is UNCONFIRMED.
    const platform = String(filter.platform ?? WIN32_FILTER_PLATFORM);
    if (platform !== WIN32_FILTER_PLATFORM) throw badRequest(wrongPlatformMessage(String(filterId), platform));
  }
  const rawSettings = raw["settings"] ?? null;
  // §2.12: exclusion targets take settings null (Graph rejects settings there).
  if (exclusion && rawSettings !== null) throw badRequest("Exclusion assignments cannot have settings.");
  // §2.12: settings validated and stored with Graph's defaults filled (assignment-settings.ts).
  const settings = rawSettings === null ? null : normalizeAssignmentSettings(rawSettings);
  return {
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
}

export class AssignmentHandler extends Handler {
  constructor(
    ctx: HandlerContext,
    /** §2.1 (Graph reference): "The app cannot be assigned unless the app is published" (a switch: unconfirmed) */
    private readonly requirePublished: boolean,
  ) {
    super(ctx);
  }

  routes(): Route[] {
    return [
      route("POST", `${APP_BASE}/{id}/assign`, APPS_WRITE, (req, p) => this.assign(req, p.id)),
      route("GET", `${APP_BASE}/{id}/assignments`, APPS_READ, (req, p) => this.list(req, p.id)),
      route("POST", `${APP_BASE}/{id}/assignments`, APPS_WRITE, (req, p) => this.create(req, p.id)),
      route("GET", `${APP_BASE}/{id}/assignments/{aid}`, APPS_READ, (req, p) => this.get(req, p.id, p.aid)),
      route("DELETE", `${APP_BASE}/{id}/assignments/{aid}`, APPS_WRITE, (req, p) => this.delete(req, p.id, p.aid)),
    ];
  }

  private assertAssignable(app: AppRecord): void {
    if (this.requirePublished && app.publishingState !== "published") {
      throw badRequest(
        "The app cannot be assigned unless it is published: commit its content and PATCH committedContentVersion first.",
      );
    }
  }

  /** `isAssigned` follows the app's assignments. */
  private refreshAssigned(t: TenantState, appId: string): void {
    const app = t.apps.get(appId);
    if (app) t.apps.put({ ...app, isAssigned: t.assignments.ofApp(appId).length > 0 });
  }

  /** §2.12: replaces the whole set; an empty array removes everything. */
  private assign(req: GraphRequest, id: string): GraphResponse {
    const t = this.tenant(req);
    const app = t.apps.require(id);
    const b = req.body;
    if (!isObject(b) || !Array.isArray(b["mobileAppAssignments"]))
      throw badRequest("The body must contain 'mobileAppAssignments'.");
    checkActionParameters(b, ["mobileAppAssignments"], "assign");
    const list = b["mobileAppAssignments"].map((a) => toAssignment(t, a));
    if (list.length > 0) this.assertAssignable(app);
    const keys = new Set<string>();
    for (const a of list) {
      if (keys.has(targetKey(a))) throw badRequest(`The target of assignment '${a.id}' appears twice.`);
      keys.add(targetKey(a));
    }
    t.assignments.replace(app.id, list);
    this.refreshAssigned(t, app.id);
    return { status: 204 };
  }

  private list(req: GraphRequest, id: string): GraphResponse {
    const t = this.tenant(req);
    const app = t.apps.require(id);
    return this.page(req, t.assignments.ofApp(app.id), `${APP_BASE}/${app.id}/assignments`);
  }

  private create(req: GraphRequest, id: string): GraphResponse {
    const t = this.tenant(req);
    const app = t.apps.require(id);
    const a = toAssignment(t, req.body);
    this.assertAssignable(app);
    // §4 item 23: a second assignment to the same target is refused (real behaviour unconfirmed).
    if (t.assignments.ofApp(app.id).some((x) => targetKey(x) === targetKey(a)))
      throw badRequest("The app already has an assignment to this target.");
    t.assignments.add(app.id, a);
    this.refreshAssigned(t, app.id);
    return {
      status: 201,
      body: {
        "@odata.context": `${req.baseUrl}/$metadata#deviceAppManagement/mobileApps('${app.id}')/assignments/$entity`,
        ...a,
      },
    };
  }

  private get(req: GraphRequest, id: string, assignmentId: string): GraphResponse {
    const t = this.tenant(req);
    const app = t.apps.require(id);
    const a = t.assignments.find(app.id, assignmentId);
    if (!a) throw notFound(`Assignment '${assignmentId}' does not exist.`);
    return entityResponse(req, a, `deviceAppManagement/mobileApps('${app.id}')/assignments`);
  }

  private delete(req: GraphRequest, id: string, assignmentId: string): GraphResponse {
    const t = this.tenant(req);
    const app = t.apps.require(id);
    if (!t.assignments.remove(app.id, assignmentId)) throw notFound(`Assignment '${assignmentId}' does not exist.`);
    this.refreshAssigned(t, app.id);
    return { status: 204 };
  }
}
