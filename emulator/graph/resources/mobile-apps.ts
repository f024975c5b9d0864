/**
 * `deviceAppManagement/mobileApps` for win32LobApp: create, read, PATCH, DELETE, content versions and files with
 * the uploadState machine, renewUpload, commit, and the committedContentVersion rules.
 * Source: intune-win32-protocol.md §2.0–2.8 and §4 items 1–22 (cited per rule below).
 */
import { randomUUID } from "node:crypto";
import { ODATA_TYPE } from "../../../src/core/wire/graph.js";
import type { FileEncryptionInfoWire } from "../../../src/core/wire/graph.js";
import type { Entity } from "../../store.js";
import { badRequest, GraphError, intuneMessage, notFound } from "../errors.js";
import type { ValidationProblem } from "../model/win32LobApp.js";
import {
  validateCommitBody,
  validateContentFileCreate,
  validateMobileAppCreate,
  validateMobileAppPatch,
} from "../model/win32LobApp.js";
import { win32LobAppAsReturned } from "../model/defaults.js";
import { arraySource, entityResponse, listPage } from "../odata.js";
import { APPS_READ, APPS_WRITE } from "../permissions.js";
import type { GraphRequest, GraphResponse, Route } from "../types.js";
import { assignmentRoutes, assignmentsOf, relationshipGuards } from "./assignments.js";
import { categoriesOf, categoryRoutes, forgetCategoryLinks } from "./categories.js";
import { C, nowIso } from "./context.js";
import type { ResourceContext } from "./context.js";
import type { FileRecord, UploadStateMachine } from "./upload-state.js";

export { UploadStateMachine } from "./upload-state.js";
export type { UploadDelays } from "./upload-state.js";

type Json = Entity & Record<string, unknown>;

export interface MobileAppOptions {
  /** §4 item 10: sizeEncrypted must equal 48 + 16·floor(size/16) + 16 (real behaviour unconfirmed) */
  strictSizes: boolean;
  /** getPublishingConstraints' maxContentFileSizeInBytes (§4 item 10: default 30 × 10^9) */
  maxContentFileSizeInBytes: number;
  /** §4 item 22 / §2.8: PATCH answers 204 (default) or 200 with the object */
  patchReturnsBody: boolean;
  /** §2.8 largeIcon quirk: a committedContentVersion PATCH without largeIcon clears it */
  clearLargeIconOnCommitPatch: boolean;
  /** §2.1 [S6] "cannot be assigned unless published" (§4 item 23: unconfirmed, so a switch) */
  requirePublishedForAssignment: boolean;
}

export const DEFAULT_MOBILE_APP_OPTIONS: MobileAppOptions = {
  strictSizes: true,
  maxContentFileSizeInBytes: 30_000_000_000,
  patchReturnsBody: false,
  clearLargeIconOnCommitPatch: false,
  requirePublishedForAssignment: true,
};

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

const CONTENT_VERSIONS = "mobileAppContentVersions";
export const CONTENT_FILES = "mobileAppContentFiles";

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
function view(req: GraphRequest, app: Json, list = false): Json {
  const selected = (req.query.get("$select") ?? "").split(",").map((x) => x.trim());
  const full = win32LobAppAsReturned(app, { list, selected }) as Json;
  if (req.version !== "v1.0") return full;
  const out: Json = { ...full };
  for (const k of BETA_ONLY) delete out[k];
  if (isObject(out["installExperience"])) {
    const rest = { ...out["installExperience"] };
    for (const k of BETA_ONLY_EXPERIENCE) delete rest[k];
    out["installExperience"] = rest;
  }
  return out;
}
const APP_BASE = "/deviceAppManagement/mobileApps";
const CAST = "microsoft.graph.win32LobApp";
/** Cast segments served on the collection and on one app (service.ts CAST_TYPES). */
const CAST_NAMES = ["win32LobApp", "mobileLobApp"] as const;

/** win32LobApp is the only type emulated; it derives from mobileLobApp. */
function isOfType(app: Json, type: (typeof CAST_NAMES)[number]): boolean {
  return app["@odata.type"] === ODATA_TYPE.win32LobApp && (type === "win32LobApp" || type === "mobileLobApp");
}

/** 400 from validation problems: Intune's JSON-in-message for BadRequest, plain text for model failures (§2.0). */
function validationError(req: GraphRequest, problems: ValidationProblem[]): GraphError {
  const first = problems[0] as ValidationProblem;
  const text = problems.map((p) => p.message).join(" ");
  if (first.code === "BadRequest")
    return new GraphError(400, "BadRequest", intuneMessage(text, req.requestId, `${req.baseUrl}${req.path}`));
  return new GraphError(400, first.code, text);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function mobileAppRoutes(
  ctx: ResourceContext,
  uploads: UploadStateMachine,
  options: Partial<MobileAppOptions> = {},
): Route[] {
  const o = { ...DEFAULT_MOBILE_APP_OPTIONS, ...options };
  const apps = (req: GraphRequest) => ctx.store.collection<Json>(req.caller.tenantId, C.mobileApps);
  const versions = (req: GraphRequest) => ctx.store.collection<Json>(req.caller.tenantId, CONTENT_VERSIONS);
  const files = (req: GraphRequest) => ctx.store.collection<FileRecord>(req.caller.tenantId, CONTENT_FILES);
  const getApp = (req: GraphRequest, id: string): Json => {
    const a = apps(req).get(id);
    if (!a) throw notFound(`The mobile app '${id}' does not exist.`);
    return a;
  };
  const expand = (req: GraphRequest) => ({
    assignments: (item: Record<string, unknown>) => assignmentsOf(ctx, req.caller.tenantId, String(item["id"])),
    categories: (item: Record<string, unknown>) => categoriesOf(ctx, req.caller.tenantId, String(item["id"])),
  });
  const getVersion = (req: GraphRequest, appId: string, cvId: string): Json => {
    getApp(req, appId);
    const v = versions(req).get(`${appId}|${cvId}`);
    if (!v) throw notFound(`Content version '${cvId}' of app '${appId}' does not exist.`);
    return v;
  };
  const getFile = (req: GraphRequest, appId: string, cvId: string, fileId: string): FileRecord => {
    getVersion(req, appId, cvId);
    const f = files(req).get(fileId);
    if (!f || f.appId !== appId.toLowerCase() || f.contentVersionId !== cvId)
      throw notFound(`Content file '${fileId}' does not exist.`);
    if (uploads.refresh(f)) files(req).put(f);
    return f;
  };
  const versionPath = (appId: string): string => `${APP_BASE}/${appId}/${CAST}/contentVersions`;
  const filesOf = (req: GraphRequest, appId: string, cvId: string): FileRecord[] =>
    files(req)
      .list()
      .filter((f) => f.appId === appId.toLowerCase() && f.contentVersionId === cvId)
      .map((f) => {
        if (uploads.refresh(f)) files(req).put(f);
        return f;
      });
  const guards = relationshipGuards(ctx);
  const listApps = (req: GraphRequest, path: string, keep: (a: Json) => boolean): GraphResponse =>
    listPage(
      req,
      arraySource(
        apps(req)
          .list()
          .filter(keep)
          .map((a) => view(req, a, true)),
      ),
      { path, defaultPageSize: ctx.pageSize ?? 100, maxPageSize: 1000, expand: expand(req) },
    );

  const routes: Route[] = [
    {
      // §2.1: the publishing limits (beta); listed before `{id}` so the function name is not taken for an id.
      method: "GET",
      pattern: `${APP_BASE}/getPublishingConstraints`,
      roles: APPS_READ,
      forbidden: "intune",
      versions: ["beta"],
      handler: (req) => ({
        status: 200,
        body: {
          "@odata.context": `${req.baseUrl}/$metadata#microsoft.graph.mobileAppPublishingConstraints`,
          win32LobAppConstraints: { maxContentFileSizeInBytes: o.maxContentFileSizeInBytes },
        },
      }),
    },
    {
      method: "GET",
      pattern: APP_BASE,
      roles: APPS_READ,
      forbidden: "intune",
      handler: (req) => listApps(req, APP_BASE, () => true),
    },
    // Cast segments (Kiota SDKs: `mobileApps/graph.win32LobApp`, service.ts canonicalises the prefix): the
    // collection filtered to that type, and one app seen as that type (404 when it is not one). Listed before
    // `{id}` so the cast is not taken for an id.
    ...CAST_NAMES.flatMap((type): Route[] => [
      {
        method: "GET",
        pattern: `${APP_BASE}/microsoft.graph.${type}`,
        roles: APPS_READ,
        forbidden: "intune",
        handler: (req) => listApps(req, `${APP_BASE}/microsoft.graph.${type}`, (a) => isOfType(a, type)),
      },
      {
        method: "GET",
        pattern: `${APP_BASE}/{id}/microsoft.graph.${type}`,
        roles: APPS_READ,
        forbidden: "intune",
        handler: (req, p) => {
          const app = getApp(req, p["id"] ?? "");
          if (!isOfType(app, type)) throw notFound(`The mobile app '${app.id}' is not a ${type}.`);
          return entityResponse(
            req,
            view(req, app),
            `deviceAppManagement/mobileApps/microsoft.graph.${type}`,
            expand(req),
          );
        },
      },
    ]),
    {
      method: "POST",
      pattern: APP_BASE,
      roles: APPS_WRITE,
      forbidden: "intune",
      handler: (req) => {
        const body = req.body;
        checkV1Body(req, body);
        // §4 items 3–6: @odata.type required, property model, rules; only win32LobApp is emulated.
        const problems = validateMobileAppCreate(body);
        if (problems.length > 0) throw validationError(req, problems);
        if (!isObject(body) || body["@odata.type"] !== ODATA_TYPE.win32LobApp) {
          throw badRequest(`The local tenant emulates only ${ODATA_TYPE.win32LobApp}.`);
        }
        checkScopeTags(req, body);
        const at = nowIso(ctx.clock);
        // What the body set and what the server sets; every other property is filled when answering (view).
        const app: Json = {
          "@odata.type": ODATA_TYPE.win32LobApp,
          roleScopeTagIds: ["0"],
          ...Object.fromEntries(
            Object.entries(body).filter(([k]) => !READ_ONLY.includes(k) && k !== "committedContentVersion"),
          ),
          id: randomUUID(),
          createdDateTime: at,
          lastModifiedDateTime: at,
          uploadState: 0,
          publishingState: "notPublished",
          isAssigned: false,
          dependentAppCount: 0,
          supersedingAppCount: 0,
          supersededAppCount: 0,
          committedContentVersion: null,
          size: 0,
        };
        // §4 item 8: allowedArchitectures set → applicableArchitectures "none".
        if (typeof app["allowedArchitectures"] === "string" && app["allowedArchitectures"] !== "")
          app["applicableArchitectures"] = "none";
        apps(req).put(app);
        return {
          status: 201,
          headers: { Location: `${req.baseUrl}${APP_BASE}/${app.id}` },
          body: {
            "@odata.context": `${req.baseUrl}/$metadata#deviceAppManagement/mobileApps/$entity`,
            ...view(req, app),
          },
        };
      },
    },
    {
      method: "GET",
      pattern: `${APP_BASE}/{id}`,
      roles: APPS_READ,
      forbidden: "intune",
      handler: (req, p) =>
        entityResponse(req, view(req, getApp(req, p["id"] ?? "")), "deviceAppManagement/mobileApps", expand(req)),
    },
    {
      method: "PATCH",
      pattern: `${APP_BASE}/{id}`,
      roles: APPS_WRITE,
      forbidden: "intune",
      handler: (req, p) => patchApp(req, p["id"] ?? ""),
    },
    {
      method: "DELETE",
      pattern: `${APP_BASE}/{id}`,
      roles: APPS_WRITE,
      forbidden: "intune",
      handler: (req, p) => {
        const app = getApp(req, p["id"] ?? "");
        guards.assertDeletable(req, app.id);
        for (const f of files(req)
          .list()
          .filter((x) => x.appId === app.id)) {
          files(req).delete(f.id);
          // Best effort: the blob goes with the app.
          if (f.uploadUri) void uploads.deleteBlob(f.uploadUri);
        }
        for (const v of versions(req)
          .list()
          .filter((x) => x["appId"] === app.id))
          versions(req).delete(v.id);
        guards.forget(req, app.id);
        forgetCategoryLinks(ctx, req.caller.tenantId, app.id);
        apps(req).delete(app.id);
        return { status: 204 };
      },
    },
    // ---- content versions (§2.3; the cast segment is required, §2.0 / §4 item 1) ----
    {
      method: "POST",
      pattern: `${APP_BASE}/{id}/${CAST}/contentVersions`,
      roles: APPS_WRITE,
      forbidden: "intune",
      handler: (req, p) => {
        const app = getApp(req, p["id"] ?? "");
        if (req.body !== undefined && !isObject(req.body)) throw badRequest("A JSON object body is required.");
        const b = (req.body ?? {}) as Record<string, unknown>;
        for (const k of Object.keys(b)) {
          if (k !== "@odata.type")
            throw new GraphError(
              400,
              "ModelValidationFailure",
              `The property '${k}' does not exist on type 'microsoft.management.services.api.mobileAppContent'.`,
            );
        }
        if (b["@odata.type"] !== undefined && b["@odata.type"] !== ODATA_TYPE.mobileAppContent) {
          throw new GraphError(
            400,
            "ModelValidationFailure",
            `The @odata.type '${String(b["@odata.type"])}' is not a mobileAppContent.`,
          );
        }
        // §2.3 / §4 item 9: ids "1", "2", … per app.
        const n =
          versions(req)
            .list()
            .filter((v) => v["appId"] === app.id).length + 1;
        const v: Json = { id: `${app.id}|${n}`, appId: app.id, contentVersionId: String(n) };
        versions(req).put(v);
        return {
          status: 201,
          body: {
            "@odata.context": `${req.baseUrl}/$metadata#deviceAppManagement/mobileApps('${app.id}')/${CAST}/contentVersions/$entity`,
            "@odata.type": ODATA_TYPE.mobileAppContent,
            id: String(n),
          },
        };
      },
    },
    {
      method: "GET",
      pattern: `${APP_BASE}/{id}/${CAST}/contentVersions`,
      roles: APPS_READ,
      forbidden: "intune",
      handler: (req, p) => {
        const app = getApp(req, p["id"] ?? "");
        const rows = versions(req)
          .list()
          .filter((v) => v["appId"] === app.id)
          .map((v) => ({ "@odata.type": ODATA_TYPE.mobileAppContent, id: String(v["contentVersionId"]) }));
        return listPage(req, arraySource(rows), {
          path: versionPath(app.id),
          defaultPageSize: ctx.pageSize ?? 100,
          maxPageSize: 1000,
        });
      },
    },
    {
      method: "GET",
      pattern: `${APP_BASE}/{id}/${CAST}/contentVersions/{cv}`,
      roles: APPS_READ,
      forbidden: "intune",
      handler: (req, p) => {
        const v = getVersion(req, p["id"] ?? "", p["cv"] ?? "");
        return entityResponse(
          req,
          { "@odata.type": ODATA_TYPE.mobileAppContent, id: String(v["contentVersionId"]) },
          versionPath(String(v["appId"])),
        );
      },
    },
    // ---- files (§2.4–2.7) ----
    {
      method: "POST",
      pattern: `${APP_BASE}/{id}/${CAST}/contentVersions/{cv}/files`,
      roles: APPS_WRITE,
      forbidden: "intune",
      handler: async (req, p) => {
        const v = getVersion(req, p["id"] ?? "", p["cv"] ?? "");
        const appId = String(v["appId"]);
        const cvId = String(v["contentVersionId"]);
        const b = req.body;
        if (!isObject(b)) throw badRequest("A JSON object body is required.");
        // §4 item 10: name, size ≥ 0, sizeEncrypted ≥ 64 and consistent with size, under the size cap.
        const problems = validateContentFileCreate(b, {
          checkEncryptedSize: o.strictSizes,
          maxContentFileSizeInBytes: o.maxContentFileSizeInBytes,
        });
        if (problems.length > 0) throw validationError(req, problems);
        const size = b["size"] as number;
        const sizeEncrypted = b["sizeEncrypted"] as number;
        // §4 item 11: one content file per content version (real behaviour unconfirmed).
        if (filesOf(req, appId, cvId).length > 0)
          throw badRequest(`Content version '${cvId}' already has a content file.`);
        const id = randomUUID();
        const rec: FileRecord = {
          id,
          appId,
          contentVersionId: cvId,
          file: {
            "@odata.type": ODATA_TYPE.mobileAppContentFile,
            id,
            name: String(b["name"]),
            size,
            sizeEncrypted,
            manifest: typeof b["manifest"] === "string" ? b["manifest"] : null,
            azureStorageUri: null,
            azureStorageUriExpirationDateTime: null,
            isCommitted: false,
            isDependency: b["isDependency"] === true,
            isFrameworkFile: b["isFrameworkFile"] === true,
            createdDateTime: nowIso(ctx.clock),
            uploadState: "azureStorageUriRequestPending",
          },
        };
        // §2.5: …/<container>/<guid>/<guid>.intunewin.bin; one container per file keeps each under the
        // 5-stored-access-policies limit of Azure Storage.
        await uploads.register(rec, id, `${randomUUID()}/${randomUUID()}.intunewin.bin`);
        files(req).put(rec);
        return { status: 201, body: fileBody(req, rec) };
      },
    },
    {
      method: "GET",
      pattern: `${APP_BASE}/{id}/${CAST}/contentVersions/{cv}/files`,
      roles: APPS_READ,
      forbidden: "intune",
      handler: (req, p) => {
        getVersion(req, p["id"] ?? "", p["cv"] ?? "");
        const rows = filesOf(req, (p["id"] ?? "").toLowerCase(), p["cv"] ?? "").map(
          (f) => ({ ...f.file }) as Record<string, unknown>,
        );
        return listPage(req, arraySource(rows), {
          path: `${versionPath(p["id"] ?? "")}/${p["cv"]}/files`,
          defaultPageSize: ctx.pageSize ?? 100,
          maxPageSize: 1000,
        });
      },
    },
    {
      method: "GET",
      pattern: `${APP_BASE}/{id}/${CAST}/contentVersions/{cv}/files/{file}`,
      roles: APPS_READ,
      forbidden: "intune",
      handler: (req, p) => ({
        status: 200,
        body: fileBody(req, getFile(req, p["id"] ?? "", p["cv"] ?? "", p["file"] ?? "")),
      }),
    },
    {
      method: "POST",
      pattern: `${APP_BASE}/{id}/${CAST}/contentVersions/{cv}/files/{file}/renewUpload`,
      roles: APPS_WRITE,
      forbidden: "intune",
      handler: async (req, p) => {
        const f = getFile(req, p["id"] ?? "", p["cv"] ?? "", p["file"] ?? "");
        // §2.6: renewal only makes sense while the URL is in use (issued, not committed).
        if (
          f.file.uploadState !== "azureStorageUriRequestSuccess" &&
          f.file.uploadState !== "azureStorageUriRenewalSuccess"
        ) {
          throw badRequest(`renewUpload is not allowed in uploadState '${f.file.uploadState}'.`);
        }
        await uploads.renew(f);
        files(req).put(f);
        return { status: 204 };
      },
    },
    {
      method: "POST",
      pattern: `${APP_BASE}/{id}/${CAST}/contentVersions/{cv}/files/{file}/commit`,
      roles: APPS_WRITE,
      forbidden: "intune",
      handler: (req, p) => {
        const f = getFile(req, p["id"] ?? "", p["cv"] ?? "", p["file"] ?? "");
        // §4 item 11: commit only after the URL was issued (or renewed); no recommit after success.
        if (
          f.file.uploadState !== "azureStorageUriRequestSuccess" &&
          f.file.uploadState !== "azureStorageUriRenewalSuccess"
        ) {
          throw badRequest(`commit is not allowed in uploadState '${f.file.uploadState}'.`);
        }
        // §2.7 / §4 item 16: shape is a synchronous 400; lengths and literals fail the commit asynchronously.
        const problems = validateCommitBody(req.body);
        if (problems.length > 0) throw validationError(req, problems);
        uploads.commit(f, (req.body as { fileEncryptionInfo: FileEncryptionInfoWire }).fileEncryptionInfo);
        files(req).put(f);
        return { status: 204 };
      },
    },
    ...assignmentRoutes(ctx, { requirePublished: o.requirePublishedForAssignment }),
    ...categoryRoutes(ctx, (req, id) => getApp(req, id).id),
  ];

  /**
   * Every `roleScopeTagIds` entry names an existing scope tag. Observed for an unknown id on a PATCH: 400
   * `BadRequest`, Intune's JSON-in-message body, Message "Invalid Role Scope Tag defined 2,3"
   * (microsoftgraph/powershell-intune-samples#219); the same rule is applied on create (inference).
   */
  function checkScopeTags(req: GraphRequest, body: Record<string, unknown>): void {
    const ids = body["roleScopeTagIds"];
    if (!Array.isArray(ids)) return;
    const tags = ctx.store.collection(req.caller.tenantId, C.roleScopeTags);
    const unknown = ids.filter((id): id is string => typeof id === "string" && !tags.get(id));
    if (unknown.length > 0) {
      throw new GraphError(
        400,
        "BadRequest",
        intuneMessage(
          `Invalid Role Scope Tag defined ${unknown.join(",")}`,
          req.requestId,
          `${req.baseUrl}${req.path}`,
        ),
      );
    }
  }

  function fileBody(req: GraphRequest, rec: FileRecord): Record<string, unknown> {
    return {
      "@odata.context": `${req.baseUrl}/$metadata#deviceAppManagement/mobileApps('${rec.appId}')/${CAST}/contentVersions('${rec.contentVersionId}')/files/$entity`,
      ...rec.file,
    };
  }

  function patchApp(req: GraphRequest, id: string): GraphResponse {
    const app = getApp(req, id);
    const body = req.body;
    if (!isObject(body)) throw badRequest("A JSON object body is required.");
    checkV1Body(req, body);
    // §2.8 / §4 item 3: the derived @odata.type is required; categories cannot be PATCHed (§2.1); property model.
    const problems = validateMobileAppPatch(body, String(app["@odata.type"]));
    if (problems.length > 0) throw validationError(req, problems);
    checkScopeTags(req, body);
    const next: Json = { ...app };
    for (const [k, v] of Object.entries(body)) if (!READ_ONLY.includes(k)) next[k] = v;
    if ("committedContentVersion" in body) {
      const cv = body["committedContentVersion"];
      if (typeof cv !== "string") throw badRequest("committedContentVersion must be a content version id.");
      // §4 item 22: the named version exists and all its files are commitFileSuccess.
      if (!versions(req).get(`${app.id}|${cv}`))
        throw badRequest(`Content version '${cv}' does not exist for this app.`);
      const fs = filesOf(req, app.id, cv);
      if (fs.length === 0 || fs.some((f) => f.file.uploadState !== "commitFileSuccess")) {
        throw badRequest(
          `Content version '${cv}' has files that are not committed (uploadState commitFileSuccess required).`,
        );
      }
      // §2.1 / §4 item 22: the app must have a detection rule.
      if (!hasDetectionRule(next)) {
        throw new GraphError(
          400,
          "BadRequest",
          intuneMessage(
            "The Win32LobApp must have at least one detection rule specified.",
            req.requestId,
            `${req.baseUrl}${req.path}`,
          ),
        );
      }
      next["publishingState"] = "published";
      next["uploadState"] = 1;
      next["size"] = fs.reduce((n, f) => n + f.file.size, 0);
      if (o.clearLargeIconOnCommitPatch && !("largeIcon" in body)) next["largeIcon"] = null;
    }
    next["lastModifiedDateTime"] = nowIso(ctx.clock);
    apps(req).put(next);
    if (o.patchReturnsBody)
      return {
        status: 200,
        body: {
          "@odata.context": `${req.baseUrl}/$metadata#deviceAppManagement/mobileApps/$entity`,
          ...view(req, next),
        },
      };
    return { status: 204 };
  }

  return routes;
}

function hasDetectionRule(app: Record<string, unknown>): boolean {
  const d = app["detectionRules"];
  const r = app["rules"];
  return (
    (Array.isArray(d) && d.length > 0) ||
    (Array.isArray(r) && r.some((x) => isObject(x) && x["ruleType"] === "detection"))
  );
}
