/**
 * An app's content: content versions (`…/microsoft.graph.win32LobApp/contentVersions`, the cast segment required)
 * and their files, whose uploadState machine (upload-state.ts) hands out the upload URL, renews it and verifies
 * the commit. Source: docs/reference/graph-win32-upload.md §2.3–2.7 and §4 items 9–21 (cited per rule below).
 */
import { randomUUID } from "node:crypto";
import { ODATA_TYPE } from "../../../src/core/wire/graph.js";
import type { CommitFileBodyWire } from "../../../src/core/wire/graph.js";
import { badRequest, modelValidation, notFound } from "../errors.js";
import { validateCommitBody, validateContentFileCreate } from "../model/win32LobApp.js";
import { entityResponse } from "../odata.js";
import { APPS_READ, APPS_WRITE } from "../permissions.js";
import type { ContentVersionRecord, FileRecord, TenantState } from "../repositories.js";
import { route } from "../routing.js";
import type { Route } from "../routing.js";
import type { GraphRequest, GraphResponse } from "../types.js";
import type { UploadStateMachine } from "../upload-state.js";
import type { HandlerContext } from "./handler.js";
import { Handler } from "./handler.js";
import { APP_BASE, CAST, isObject, validationError } from "./mobile-apps.js";

const VERSIONS = `${APP_BASE}/{id}/${CAST}/contentVersions`;
const FILES = `${VERSIONS}/{cv}/files`;
const versionsPath = (appId: string): string => `${APP_BASE}/${appId}/${CAST}/contentVersions`;

/** The upload URL is in use (issued or renewed, not committed): renewal and commit are allowed (§2.6, §4 item 11). */
const urlInUse = (f: FileRecord): boolean =>
  f.file.uploadState === "azureStorageUriRequestSuccess" || f.file.uploadState === "azureStorageUriRenewalSuccess";

export class ContentHandler extends Handler {
  constructor(
    ctx: HandlerContext,
    private readonly uploads: UploadStateMachine,
    private readonly o: { strictSizes: boolean; maxContentFileSizeInBytes: number },
  ) {
    super(ctx);
  }

  routes(): Route[] {
    return [
      route("POST", VERSIONS, APPS_WRITE, (req, p) => this.createVersion(req, p.id)),
      route("GET", VERSIONS, APPS_READ, (req, p) => this.listVersions(req, p.id)),
      route("GET", `${VERSIONS}/{cv}`, APPS_READ, (req, p) => {
        const v = this.version(this.tenant(req), p.id, p.cv);
        return entityResponse(req, versionBody(v), versionsPath(v.appId));
      }),
      route("POST", FILES, APPS_WRITE, (req, p) => this.createFile(req, p.id, p.cv)),
      route("GET", FILES, APPS_READ, (req, p) => this.listFiles(req, p.id, p.cv)),
      route("GET", `${FILES}/{file}`, APPS_READ, (req, p) => ({
        status: 200,
        body: fileBody(req, this.file(this.tenant(req), p.id, p.cv, p.file)),
      })),
      route("POST", `${FILES}/{file}/renewUpload`, APPS_WRITE, (req, p) => this.renew(req, p.id, p.cv, p.file)),
      route("POST", `${FILES}/{file}/commit`, APPS_WRITE, (req, p) => this.commit(req, p.id, p.cv, p.file)),
    ];
  }

  private version(t: TenantState, appId: string, cvId: string): ContentVersionRecord {
    t.apps.require(appId);
    const v = t.contentVersions.find(appId, cvId);
    if (!v) throw notFound(`Content version '${cvId}' of app '${appId}' does not exist.`);
    return v;
  }

  /** The file, its uploadState brought up to date. */
  private file(t: TenantState, appId: string, cvId: string, fileId: string): FileRecord {
    this.version(t, appId, cvId);
    const f = t.contentFiles.get(fileId);
    if (!f || f.appId !== appId.toLowerCase() || f.contentVersionId !== cvId)
      throw notFound(`Content file '${fileId}' does not exist.`);
    this.uploads.current(t.contentFiles, [f]);
    return f;
  }

  /** §2.3 / §4 item 9: an empty body (or its type only); ids "1", "2", … per app. */
  private createVersion(req: GraphRequest, id: string): GraphResponse {
    const t = this.tenant(req);
    const app = t.apps.require(id);
    if (req.body !== undefined && !isObject(req.body)) throw badRequest("A JSON object body is required.");
    const b: Record<string, unknown> = isObject(req.body) ? req.body : {};
    for (const k of Object.keys(b)) {
      if (k !== "@odata.type")
        throw modelValidation(
          `The property '${k}' does not exist on type 'microsoft.management.services.api.mobileAppContent'.`,
        );
    }
    if (b["@odata.type"] !== undefined && b["@odata.type"] !== ODATA_TYPE.mobileAppContent)
      throw modelValidation(`The @odata.type '${String(b["@odata.type"])}' is not a mobileAppContent.`);
    const v = t.contentVersions.add(app.id);
    return {
      status: 201,
      body: {
        "@odata.context": `${req.baseUrl}/$metadata#deviceAppManagement/mobileApps('${app.id}')/${CAST}/contentVersions/$entity`,
        ...versionBody(v),
      },
    };
  }

  private listVersions(req: GraphRequest, id: string): GraphResponse {
    const t = this.tenant(req);
    const app = t.apps.require(id);
    return this.page(req, t.contentVersions.ofApp(app.id).map(versionBody), versionsPath(app.id));
  }

  private async createFile(req: GraphRequest, id: string, cv: string): Promise<GraphResponse> {
    const t = this.tenant(req);
    const { appId, contentVersionId } = this.version(t, id, cv);
    const b = req.body;
    if (!isObject(b)) throw badRequest("A JSON object body is required.");
    // §4 item 10: name, size ≥ 0, sizeEncrypted ≥ 64 and consistent with size, under the size cap.
    const problems = validateContentFileCreate(b, {
      checkEncryptedSize: this.o.strictSizes,
      maxContentFileSizeInBytes: this.o.maxContentFileSizeInBytes,
    });
    if (problems.length > 0) throw validationError(req, problems);
    // §4 item 11: one content file per content version (real behaviour unconfirmed).
    if (this.uploads.current(t.contentFiles, t.contentFiles.ofVersion(appId, contentVersionId)).length > 0)
      throw badRequest(`Content version '${contentVersionId}' already has a content file.`);
    const fileId = randomUUID();
    const rec: FileRecord = {
      id: fileId,
      appId,
      contentVersionId,
      file: {
        "@odata.type": ODATA_TYPE.mobileAppContentFile,
        id: fileId,
        name: String(b["name"]),
        size: b["size"] as number,
        sizeEncrypted: b["sizeEncrypted"] as number,
        manifest: typeof b["manifest"] === "string" ? b["manifest"] : null,
        azureStorageUri: null,
        azureStorageUriExpirationDateTime: null,
        isCommitted: false,
        isDependency: b["isDependency"] === true,
        isFrameworkFile: b["isFrameworkFile"] === true,
        createdDateTime: this.now(),
        uploadState: "azureStorageUriRequestPending",
      },
    };
    // §2.5: …/<container>/<guid>/<guid>.intunewin.bin; one container per file keeps each under the
    // 5-stored-access-policies limit of Azure Storage.
    await this.uploads.register(rec, fileId, `${randomUUID()}/${randomUUID()}.intunewin.bin`);
    t.contentFiles.put(rec);
    return { status: 201, body: fileBody(req, rec) };
  }

  private listFiles(req: GraphRequest, id: string, cv: string): GraphResponse {
    const t = this.tenant(req);
    this.version(t, id, cv);
    const rows = this.uploads.current(t.contentFiles, t.contentFiles.ofVersion(id, cv)).map((f) => ({ ...f.file }));
    return this.page(req, rows, `${versionsPath(id)}/${cv}/files`);
  }

  /** §2.6: renewal only makes sense while the URL is in use (issued, not committed). */
  private async renew(req: GraphRequest, id: string, cv: string, fileId: string): Promise<GraphResponse> {
    const t = this.tenant(req);
    const f = this.file(t, id, cv, fileId);
    if (!urlInUse(f)) throw badRequest(`renewUpload is not allowed in uploadState '${f.file.uploadState}'.`);
    await this.uploads.renew(f);
    t.contentFiles.put(f);
    return { status: 204 };
  }

  /** §4 item 11: commit only after the URL was issued (or renewed); no recommit after success. */
  private commit(req: GraphRequest, id: string, cv: string, fileId: string): GraphResponse {
    const t = this.tenant(req);
    const f = this.file(t, id, cv, fileId);
    if (!urlInUse(f)) throw badRequest(`commit is not allowed in uploadState '${f.file.uploadState}'.`);
    // §2.7 / §4 item 16: shape is a synchronous 400; lengths and literals fail the commit asynchronously.
    const problems = validateCommitBody(req.body);
    if (problems.length > 0) throw validationError(req, problems);
    this.uploads.commit(f, (req.body as CommitFileBodyWire).fileEncryptionInfo);
    t.contentFiles.put(f);
    return { status: 204 };
  }
}

function versionBody(v: ContentVersionRecord): Record<string, unknown> {
  return { "@odata.type": ODATA_TYPE.mobileAppContent, id: v.contentVersionId };
}

function fileBody(req: GraphRequest, rec: FileRecord): Record<string, unknown> {
  return {
    "@odata.context": `${req.baseUrl}/$metadata#deviceAppManagement/mobileApps('${rec.appId}')/${CAST}/contentVersions('${rec.contentVersionId}')/files/$entity`,
    ...rec.file,
  };
}
