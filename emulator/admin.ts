/**
 * The local tenant's admin API: what tests and operators use to look inside and to steer it (state, reset, token
 * minting, faults, upload faults, upload-URL permissions). In process it is `LocalTenant.admin`; over HTTP it is
 * `/_emulator/…` on the Graph port, loopback only and without authentication (docs/emulator.md "Loopback only").
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Directory } from "./directory.js";
import type { Entra, IssueTokenInput } from "./entra/entra.js";
import type { FaultInjector } from "./faults.js";
import { EXPORT_JOB_FAULTS } from "./graph/handlers/reports.js";
import type { ExportJobFault, ExportJobOptions, ReportHandler } from "./graph/handlers/reports.js";
import type { Throttle } from "./graph/throttle.js";
import type { GraphState } from "./graph/repositories.js";
import type { UploadFault, UploadStateMachine } from "./graph/upload-state.js";
import { readBody, sendJson } from "./http.js";
import type { Fault, FaultInput, Seed } from "./seed.js";
import type { EmbeddedStorage } from "./storage/index.js";
import type { Entity } from "./store.js";

export interface AdminApi {
  /** mints a Graph token as the token endpoint would, with overrides for negative tests */
  issueToken(input?: Partial<IssueTokenInput> & { roles?: string[] }): string;
  addFault(fault: FaultInput): string;
  /** the active faults and how many calls each may still affect */
  listFaults(): { id: string; fault: Fault; remaining: number }[];
  clearFaults(): void;
  /** every stored entity by tenant and collection */
  state(): Record<string, Record<string, Entity[]>>;
  /** empties the store and reloads the seed */
  reset(): void;
  /**
   * makes the next matching upload stage fail, time out or hang (docs/reference/graph-win32-upload.md §4 items 10, 13,
   * 21)
   */
  addUploadFault(fault: UploadFault): void;
  /** SAS expiry fault: the content file's upload URL answers 403 until `renewUpload` */
  expireUploadUrl(fileId: string): Promise<void>;
  /**
   * The upload URLs' SAS permissions from now on (URLs issued or renewed later): `read: false` grants create and
   * write only, so Get Block List answers 403 AuthorizationPermissionMismatch. A reset restores the seed's value.
   */
  setUploadSas(o: { read: boolean }): void;
  uploadSas(): { read: boolean };
  /** resolves when every commit verification started so far has finished */
  uploadsSettled(): Promise<void>;
  /** the next export jobs created get these faults, one each (graph/handlers/reports.ts) */
  addExportJobFault(fault: ExportJobFault): void;
  /** export job delays and download URL validity from now on */
  setExportJobs(options: Partial<ExportJobOptions>): void;
  /** resolves when every report being written has been */
  exportJobsSettled(): Promise<void>;
  /**
   * Revokes the consent of an app (default: the first app registration's client id) in one tenant: its sign-ins
   * there get AADSTS700016 until a reset; other tenants are not affected.
   */
  revokeConsent(tenantId: string, clientId?: string): void;
  /** the seed in force */
  readonly seed: Seed;
}

/** What the admin API steers; all built by the composition root (server.ts). */
export interface AdminDependencies {
  seed: Seed;
  directory: Directory;
  entra: Entra;
  /** the tenant seeded entities belong to (the seed's first) */
  tenantId: string;
  state: GraphState;
  faults: FaultInjector;
  uploads: UploadStateMachine;
  storage: EmbeddedStorage | undefined;
  throttle: Throttle | undefined;
  reports: ReportHandler;
  /** puts the seed's entities into the (empty) store */
  loadSeed(): void;
}

const NO_ID = "00000000-0000-0000-0000-000000000000";

export function createAdminApi(d: AdminDependencies): AdminApi {
  return {
    seed: d.seed,
    issueToken(input = {}) {
      const app = d.directory.allApps()[0];
      return d.entra.issueAccessToken({
        tenantId: input.tenantId ?? d.tenantId,
        clientId: input.clientId ?? app?.registration.clientId ?? NO_ID,
        displayName: input.displayName ?? app?.registration.displayName ?? "test",
        servicePrincipalId: input.servicePrincipalId ?? app?.servicePrincipalId ?? NO_ID,
        roles: input.roles ?? app?.registration.roles ?? [],
        appidacr: input.appidacr ?? "1",
        ...(input.lifetimeSeconds === undefined ? {} : { lifetimeSeconds: input.lifetimeSeconds }),
        ...(input.audience === undefined ? {} : { audience: input.audience }),
        ...(input.issuer === undefined ? {} : { issuer: input.issuer }),
        ...(input.notBefore === undefined ? {} : { notBefore: input.notBefore }),
      }).token;
    },
    addFault: (f) => d.faults.add(f),
    listFaults: () => d.faults.list(),
    clearFaults: () => d.faults.clear(),
    addUploadFault: (f) => d.uploads.addFault(f),
    uploadsSettled: () => d.uploads.settled(),
    async expireUploadUrl(fileId) {
      const rec = d.state.tenant(d.tenantId).contentFiles.get(fileId);
      if (!rec) throw new Error(`No content file ${fileId}.`);
      await d.uploads.expireUploadUri(rec);
    },
    setUploadSas({ read }) {
      d.storage?.setUploadSasRead(read);
    },
    uploadSas: () => ({ read: d.storage?.uploadSasRead ?? d.seed.uploadSas.read }),
    addExportJobFault: (f) => d.reports.addFault(f),
    setExportJobs(o) {
      Object.assign(d.reports.options, o);
    },
    exportJobsSettled: () => d.reports.settled(),
    state: () => d.state.dump(),
    revokeConsent(tenantId, clientId) {
      const app = clientId ?? d.directory.allApps()[0]?.registration.clientId ?? NO_ID;
      if (!d.directory.revokeConsent(tenantId, app))
        throw new Error(`The app ${app} has no consent in the tenant ${tenantId}.`);
    },
    reset() {
      d.state.clear();
      d.faults.clear();
      d.reports.clearFaults();
      d.throttle?.reset();
      d.directory.restoreConsent();
      d.uploads.reset();
      d.storage?.setUploadSasRead(d.seed.uploadSas.read);
      d.loadSeed();
    },
  };
}

/** The admin API's URL prefix on the Graph port. */
export const ADMIN_PREFIX = "/_emulator/";

const badRequest = (res: ServerResponse, message: string): void =>
  sendJson(res, 400, { error: { code: "BadRequest", message } });

const jsonBody = async (req: IncomingMessage): Promise<unknown> =>
  JSON.parse((await readBody(req)).toString("utf8")) as unknown;

/** `/_emulator/…` over HTTP: `GET state`, `POST reset`, `GET|POST|DELETE faults`, `GET|PUT upload-sas`. */
export async function handleAdminRequest(
  admin: AdminApi,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  const route = `${req.method ?? "GET"} ${url.pathname.slice(ADMIN_PREFIX.length)}`;
  switch (route) {
    case "GET state":
      return sendJson(res, 200, admin.state());
    case "POST reset":
      admin.reset();
      return sendJson(res, 204, undefined);
    case "GET faults":
      return sendJson(res, 200, admin.listFaults());
    case "DELETE faults":
      admin.clearFaults();
      return sendJson(res, 204, undefined);
    case "POST faults":
      try {
        return sendJson(res, 201, { id: admin.addFault((await jsonBody(req)) as FaultInput) });
      } catch (e) {
        return badRequest(res, (e as Error).message);
      }
    case "POST revoke-consent": {
      const body = await jsonBody(req).catch(() => undefined);
      const b = typeof body === "object" && body !== null ? (body as Record<string, unknown>) : {};
      if (typeof b["tenantId"] !== "string" || (b["clientId"] !== undefined && typeof b["clientId"] !== "string"))
        return badRequest(res, 'The body must be {"tenantId": "<guid>", "clientId"?: "<guid>"}.');
      try {
        admin.revokeConsent(b["tenantId"], b["clientId"] as string | undefined);
      } catch (e) {
        return badRequest(res, (e as Error).message);
      }
      return sendJson(res, 204, undefined);
    }
    case "POST export-job-faults": {
      const body = await jsonBody(req).catch(() => undefined);
      const fault = typeof body === "object" && body !== null ? (body as Record<string, unknown>)["fault"] : undefined;
      if (typeof fault !== "string" || !(EXPORT_JOB_FAULTS as readonly string[]).includes(fault))
        return badRequest(res, `The body must be {"fault": one of ${EXPORT_JOB_FAULTS.join(", ")}}.`);
      admin.addExportJobFault(fault as ExportJobFault);
      return sendJson(res, 204, undefined);
    }
    case "GET upload-sas":
      return sendJson(res, 200, admin.uploadSas());
    case "PUT upload-sas": {
      const body = await jsonBody(req).catch(() => undefined);
      const only = typeof body === "object" && body !== null ? Object.entries(body) : [];
      const [name, read] = only[0] ?? [];
      if (only.length !== 1 || name !== "read" || typeof read !== "boolean")
        return badRequest(res, 'The body must be {"read": true|false}.');
      admin.setUploadSas({ read });
      return sendJson(res, 200, admin.uploadSas());
    }
    default:
      return sendJson(res, 404, { error: { code: "NotFound", message: `No admin route ${route}.` } });
  }
}
