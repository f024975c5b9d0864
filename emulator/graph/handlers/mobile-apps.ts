/**
 * `deviceAppManagement/mobileApps` for win32LobApp: create, read (also through Kiota's cast segments), PATCH
 * (including the committedContentVersion rules), DELETE, and the publishing constraints.
 * Source: docs/reference/graph-win32-upload.md §2.0–2.8, §2.14 and §4 items 1–8, 22 (cited per rule below).
 */
import { ODATA_TYPE } from "../../../src/core/wire/graph.js";
import { badRequest, GraphError, intuneBadRequest, notFound } from "../errors.js";
import { win32LobAppAsReturned } from "../model/defaults.js";
import type { ValidationProblem } from "../model/win32LobApp.js";
import { NO_DETECTION_RULE, validateMobileAppCreate, validateMobileAppPatch } from "../model/win32LobApp.js";
import { entityResponse } from "../odata.js";
import type { Expansions } from "../odata.js";
import { APPS_READ, APPS_WRITE } from "../permissions.js";
import type { AppRecord, TenantState } from "../repositories.js";
import { route } from "../routing.js";
import type { Route } from "../routing.js";
import type { GraphRequest, GraphResponse } from "../types.js";
import type { UploadStateMachine } from "../upload-state.js";
import { categoriesOf } from "./categories.js";
import type { MobileAppCategory } from "../model/categories.js";
import type { HandlerContext } from "./handler.js";
import { Handler } from "./handler.js";
import { assertDeletable, forgetRelationships } from "./relationships.js";

export interface MobileAppOptions {
  /** §4 item 10: sizeEncrypted must equal 48 + 16·floor(size/16) + 16 (real behaviour unconfirmed) */
  strictSizes: boolean;
  /** getPublishingConstraints' maxContentFileSizeInBytes (§4 item 10: default 30 × 10^9) */
  maxContentFileSizeInBytes: number;
  /** §4 item 22 / §2.8: PATCH answers 204 (default) or 200 with the object */
  patchReturnsBody: boolean;
  /** §2.8 largeIcon quirk: a committedContentVersion PATCH without largeIcon clears it */
  clearLargeIconOnCommitPatch: boolean;
  /** §2.1 (Graph reference): "cannot be assigned unless published" (§4 item 23: unconfirmed, so a switch) */
  requirePublishedForAssignment: boolean;
}

export const DEFAULT_MOBILE_APP_OPTIONS: MobileAppOptions = {
  strictSizes: true,
  maxContentFileSizeInBytes: 30_000_000_000,
  patchReturnsBody: false,
  clearLargeIconOnCommitPatch: false,
  requirePublishedForAssignment: true,
};

export const APP_BASE = "/deviceAppManagement/mobileApps";
/** The cast segment content versions are reached through (§2.0 / §4 item 1). */
export const CAST = "microsoft.graph.win32LobApp";
/** Cast segments served on the collection and on one app (service.ts CAST_TYPES). */
const CAST_NAMES = ["win32LobApp", "mobileLobApp"] as const;

/** Read-only properties the server sets; ignored in bodies (§4 item 7 default). */
const READ_ONLY = [
  "id",
  "createdDateTime",
  "lastModifiedDateTime",
  "uploadState",
  "publishingState",
  "isAssigned",
  "dependentAppCount",
  "supersedingAppCount",
  "supersededAppCount",
  "size",
];

/** §2.14: win32LobApp properties v1.0 does not have (beta only). */
const BETA_ONLY = [
  "detectionRules",
  "requirementRules",
  "displayVersion",
  "allowedArchitectures",
  "allowAvailableUninstall",
  "roleScopeTagIds",
  "isAssigned",
  "dependentAppCount",
  "supersedingAppCount",
  "supersededAppCount",
];

/**
 * installExperience members v1.0 lacks: maxRunTimeInMinutes (§2.14); inUseBehavior, newer than the v1.0 page §2.14
 * cites, is assumed beta-only too (inference).
 */
const BETA_ONLY_EXPERIENCE = ["maxRunTimeInMinutes", "inUseBehavior"];

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** §2.14: on v1.0, beta-only properties are unknown to the model (400) … */
function checkV1Body(req: GraphRequest, body: unknown): void {
  if (req.version !== "v1.0" || !isObject(body)) return;
  const experience = body["installExperience"];
  const unknown =
    BETA_ONLY.find((k) => k in body) ??
    (isObject(experience) ? BETA_ONLY_EXPERIENCE.find((k) => k in experience) : undefined);
  if (unknown !== undefined) {
    throw new GraphError(
      400,
      "ModelValidationFailure",
      `The property '${unknown}' does not exist on type 'microsoft.graph.win32LobApp'. Make sure to only use property names that are defined by the type.`,
    );
  }
}

/**
 * The app as Graph returns it: every property with its default (model/defaults.ts), `largeIcon` left out of lists;
 * on v1.0 without the beta-only properties.
 */
function view(req: GraphRequest, app: AppRecord, list = false): Record<string, unknown> {
  const selected = (req.query.get("$select") ?? "").split(",").map((x) => x.trim());
  const full = win32LobAppAsReturned(app, { list, selected });
  if (req.version !== "v1.0") return full;
  for (const k of BETA_ONLY) delete full[k];
  const experience = full["installExperience"];
  if (isObject(experience)) {
    const rest = { ...experience };
    for (const k of BETA_ONLY_EXPERIENCE) delete rest[k];
    full["installExperience"] = rest;
  }
  return full;
}

/** win32LobApp is the only type emulated; it derives from mobileLobApp. */
function isOfType(app: AppRecord, type: (typeof CAST_NAMES)[number]): boolean {
  return app["@odata.type"] === ODATA_TYPE.win32LobApp && (type === "win32LobApp" || type === "mobileLobApp");
}

/** 400 from validation problems: Intune's JSON-in-message for BadRequest, plain text for model failures (§2.0). */
export function validationError(req: GraphRequest, problems: ValidationProblem[]): GraphError {
  const first = problems[0] as ValidationProblem;
  const text = problems.map((p) => p.message).join(" ");
  if (first.code === "BadRequest") return intuneBadRequest(req, text);
  return new GraphError(400, first.code, text);
}

function hasDetectionRule(app: AppRecord): boolean {
  const d = app["detectionRules"];
  const r = app["rules"];
  return (
    (Array.isArray(d) && d.length > 0) ||
    (Array.isArray(r) && r.some((x) => isObject(x) && x["ruleType"] === "detection"))
  );
}

export class MobileAppHandler extends Handler {
  constructor(
    ctx: HandlerContext,
    private readonly uploads: UploadStateMachine,
    private readonly o: MobileAppOptions,
    /** the categories every tenant has (categories.ts) */
    private readonly categories: readonly MobileAppCategory[],
  ) {
    super(ctx);
  }

  routes(): Route[] {
    return [
      // §2.1: the publishing limits (beta); listed before `{id}` so the function name is not taken for an id.
      route("GET", `${APP_BASE}/getPublishingConstraints`, APPS_READ, (req) => this.publishingConstraints(req), {
        versions: ["beta"],
      }),
      route("GET", APP_BASE, APPS_READ, (req) => this.list(req, APP_BASE, () => true)),
      // Cast segments (Kiota SDKs: `mobileApps/graph.win32LobApp`, service.ts canonicalises the prefix): the
      // collection filtered to that type, and one app seen as that type (404 when it is not one). Listed before
      // `{id}` so the cast is not taken for an id.
      ...CAST_NAMES.flatMap((type) => [
        route("GET", `${APP_BASE}/microsoft.graph.${type}`, APPS_READ, (req) =>
          this.list(req, `${APP_BASE}/microsoft.graph.${type}`, (a) => isOfType(a, type)),
        ),
        route("GET", `${APP_BASE}/{id}/microsoft.graph.${type}`, APPS_READ, (req, p) => this.getAs(req, p.id, type)),
      ]),
      route("POST", APP_BASE, APPS_WRITE, (req) => this.create(req)),
      route("GET", `${APP_BASE}/{id}`, APPS_READ, (req, p) => this.get(req, p.id)),
      route("PATCH", `${APP_BASE}/{id}`, APPS_WRITE, (req, p) => this.update(req, p.id)),
      route("DELETE", `${APP_BASE}/{id}`, APPS_WRITE, (req, p) => this.delete(req, p.id)),
    ];
  }

  /** `$expand` on apps: their assignments and categories. */
  private expansions(t: TenantState): Expansions {
    return {
      assignments: (item) => t.assignments.ofApp(String(Reflect.get(item, "id"))),
      categories: (item) => categoriesOf(t, this.categories, String(Reflect.get(item, "id"))),
    };
  }

  private publishingConstraints(req: GraphRequest): GraphResponse {
    return {
      status: 200,
      body: {
        "@odata.context": `${req.baseUrl}/$metadata#microsoft.graph.mobileAppPublishingConstraints`,
        win32LobAppConstraints: { maxContentFileSizeInBytes: this.o.maxContentFileSizeInBytes },
      },
    };
  }

  private list(req: GraphRequest, path: string, keep: (a: AppRecord) => boolean): GraphResponse {
    const t = this.tenant(req);
    const rows = t.apps
      .list()
      .filter(keep)
      .map((a) => view(req, a, true));
    return this.page(req, rows, path, { expand: this.expansions(t) });
  }

  private get(req: GraphRequest, id: string): GraphResponse {
    const t = this.tenant(req);
    return entityResponse(req, view(req, t.apps.require(id)), "deviceAppManagement/mobileApps", this.expansions(t));
  }

  private getAs(req: GraphRequest, id: string, type: (typeof CAST_NAMES)[number]): GraphResponse {
    const t = this.tenant(req);
    const app = t.apps.require(id);
    if (!isOfType(app, type)) throw notFound(`The mobile app '${app.id}' is not a ${type}.`);
    return entityResponse(
      req,
      view(req, app),
      `deviceAppManagement/mobileApps/microsoft.graph.${type}`,
      this.expansions(t),
    );
  }

  private create(req: GraphRequest): GraphResponse {
    const body = req.body;
    checkV1Body(req, body);
    // §4 items 3–6: @odata.type required, property model, rules; only win32LobApp is emulated.
    const problems = validateMobileAppCreate(body);
    if (problems.length > 0) throw validationError(req, problems);
    if (!isObject(body) || body["@odata.type"] !== ODATA_TYPE.win32LobApp) {
      throw badRequest(`The local tenant emulates only ${ODATA_TYPE.win32LobApp}.`);
    }
    const t = this.tenant(req);
    checkScopeTags(req, t, body);
    const app = t.apps.create(
      Object.fromEntries(
        Object.entries(body).filter(([k]) => !READ_ONLY.includes(k) && k !== "committedContentVersion"),
      ),
      this.now(),
    );
    // §4 item 8: allowedArchitectures set → applicableArchitectures "none".
    if (typeof app["allowedArchitectures"] === "string" && app["allowedArchitectures"] !== "") {
      app["applicableArchitectures"] = "none";
      t.apps.put(app);
    }
    return {
      status: 201,
      headers: { Location: `${req.baseUrl}${APP_BASE}/${app.id}` },
      body: { "@odata.context": `${req.baseUrl}/$metadata#deviceAppManagement/mobileApps/$entity`, ...view(req, app) },
    };
  }

  private update(req: GraphRequest, id: string): GraphResponse {
    const t = this.tenant(req);
    const app = t.apps.require(id);
    const body = req.body;
    if (!isObject(body)) throw badRequest("A JSON object body is required.");
    checkV1Body(req, body);
    // §2.8 / §4 item 3: the derived @odata.type is required; categories cannot be PATCHed (§2.1); property model.
    const problems = validateMobileAppPatch(body, app["@odata.type"]);
    if (problems.length > 0) throw validationError(req, problems);
    checkScopeTags(req, t, body);
    const next: AppRecord = { ...app };
    for (const [k, v] of Object.entries(body)) if (!READ_ONLY.includes(k)) next[k] = v;
    if ("committedContentVersion" in body) {
      const cv = body["committedContentVersion"];
      if (typeof cv !== "string") throw badRequest("committedContentVersion must be a content version id.");
      // §4 item 22: the named version exists and all its files are commitFileSuccess.
      if (!t.contentVersions.find(app.id, cv)) throw badRequest(`Content version '${cv}' does not exist for this app.`);
      const fs = this.uploads.current(t.contentFiles, t.contentFiles.ofVersion(app.id, cv));
      if (fs.length === 0 || fs.some((f) => f.file.uploadState !== "commitFileSuccess")) {
        throw badRequest(
          `Content version '${cv}' has files that are not committed (uploadState commitFileSuccess required).`,
        );
      }
      // §2.1 / §4 item 22: the app must have a detection rule.
      if (!hasDetectionRule(next)) throw intuneBadRequest(req, NO_DETECTION_RULE);
      next.publishingState = "published";
      next.uploadState = 1;
      next.size = fs.reduce((n, f) => n + f.file.size, 0);
      if (this.o.clearLargeIconOnCommitPatch && !("largeIcon" in body)) next["largeIcon"] = null;
    }
    next.lastModifiedDateTime = this.now();
    t.apps.put(next);
    if (!this.o.patchReturnsBody) return { status: 204 };
    return {
      status: 200,
      body: { "@odata.context": `${req.baseUrl}/$metadata#deviceAppManagement/mobileApps/$entity`, ...view(req, next) },
    };
  }

  /** The app and everything that hangs on it: content (and its blobs), links, assignments, ESP and category links. */
  private delete(req: GraphRequest, id: string): GraphResponse {
    const t = this.tenant(req);
    const app = t.apps.require(id);
    assertDeletable(t, app.id);
    for (const f of t.contentFiles.ofApp(app.id)) {
      t.contentFiles.delete(f.id);
      // Best effort: the blob goes with the app.
      if (f.uploadUri) void this.uploads.deleteBlob(f.uploadUri);
    }
    t.contentVersions.deleteWhere((v) => v.appId === app.id);
    forgetRelationships(t, app.id);
    t.assignments.deleteWhere((a) => a.appId === app.id);
    // ESP blocking lists lose the app (inference, not observed: docs/emulator.md "Targeting and lifecycle").
    t.enrollmentConfigurations.dropApp(app.id);
    t.categoryLinks.deleteWhere((l) => l.appId === app.id.toLowerCase());
    t.apps.delete(app.id);
    return { status: 204 };
  }
}

/**
 * Every `roleScopeTagIds` entry names an existing scope tag. Observed for an unknown id on a PATCH: 400
 * `BadRequest`, Intune's JSON-in-message body, Message "Invalid Role Scope Tag defined 2,3"
 * (microsoftgraph/powershell-intune-samples#219); the same rule is applied on create (inference).
 */
function checkScopeTags(req: GraphRequest, t: TenantState, body: Record<string, unknown>): void {
  const ids = body["roleScopeTagIds"];
  if (!Array.isArray(ids)) return;
  const unknown = ids.filter((id): id is string => typeof id === "string" && !t.roleScopeTags.get(id));
  if (unknown.length > 0) throw intuneBadRequest(req, `Invalid Role Scope Tag defined ${unknown.join(",")}`);
}
