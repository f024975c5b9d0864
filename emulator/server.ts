/**
 * The local tenant: Entra ID token endpoint + the Intune part of Microsoft Graph on one HTTPS port, content in
 * embedded Azurite. `startLocalTenant` is the composition root (DESIGN.md §2, issue 3).
 */
import { createServer } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { Clock } from "./clock.js";
import { systemClock } from "./clock.js";
import { Directory } from "./directory.js";
import { Entra, GRAPH_AUDIENCE } from "./entra/entra.js";
import type { IssueTokenInput } from "./entra/entra.js";
import { FaultInjector } from "./faults.js";
import { GraphService } from "./graph/service.js";
import { Throttle } from "./graph/throttle.js";
import { tenantCategories } from "./graph/resources/categories.js";
import type { ResourceContext } from "./graph/resources/context.js";
import { directoryAndDeviceRoutes, loadSeedEntities } from "./graph/resources/directory-and-devices.js";
import { GeneratedInventory } from "./graph/resources/inventory.js";
import { CONTENT_FILES, mobileAppRoutes, UploadStateMachine } from "./graph/resources/mobile-apps.js";
import type { MobileAppOptions, UploadDelays } from "./graph/resources/mobile-apps.js";
import type { FileRecord, UploadFault } from "./graph/resources/upload-state.js";
import { sendJson, readBody } from "./http.js";
import { loadOrCreatePki } from "./pki.js";
import { defaultSeed, loadSeedFile, parseSeed } from "./seed.js";
import type { Fault, FaultInput, Seed, SeedInput } from "./seed.js";
import { PublisherError } from "../src/core/errors.js";
import { JsonFileStore, MemoryStore } from "./store.js";
import type { Entity, Store } from "./store.js";
import { startEmbeddedStorage } from "./storage/index.js";
import type { EmbeddedStorage } from "./storage/index.js";

export interface LocalTenantOptions {
  /** a parsed seed, a seed object, or the path of a YAML/JSON seed file; default: `defaultSeed()` */
  seed?: Seed | SeedInput | string;
  /** 0 or absent = ephemeral */
  port?: number;
  /**
   * the address to listen on: loopback only (`127.0.0.1`, the default, or `localhost`, which the TLS certificate
   * names too); anything else is refused, because the admin API has no authentication and the embedded storage signs
   * with Azurite's public well-known key
   */
  host?: string;
  /** keeps ca.pem, server.pem, server.key and the token-signing key; absent = all in memory */
  stateDir?: string;
  clock?: Clock;
  /** page size for every collection (small values make paging happen in tests) */
  pageSize?: number;
  /** `expires_in` of issued tokens, default 3599 (entra-auth-and-graph.md §1.4) */
  tokenLifetimeSeconds?: number;
  /** upload-state machine delays in ms (intune-win32-protocol.md §4 items 10, 13, 21) */
  uploadDelays?: Partial<UploadDelays>;
  /** blob storage: "memory" (default) or a folder for large uploads; false = no storage (Graph and Entra only) */
  storage?: "memory" | { location: string } | false;
  /** store; default in memory, or `graph-state.json` in `stateDir` when `persist` is set */
  store?: Store;
  /** keep Graph state (apps, uploads, assignments, …) in `stateDir`/graph-state.json across restarts */
  persist?: boolean;
  /** switches of the mobileApps emulation (size check, PATCH 200/204, largeIcon quirk, assign-before-publish) */
  mobileApps?: Partial<MobileAppOptions>;
  /** Intune throttling windows (entra-auth-and-graph.md §6.5); default true */
  throttling?: boolean;
}

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
  /** makes the next matching upload stage fail, time out or hang (intune-win32-protocol.md §4 items 10, 13, 21) */
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
  /** the seed in force */
  readonly seed: Seed;
}

export interface LocalTenant {
  /** https://127.0.0.1:PORT */
  authorityHost: string;
  /** https://127.0.0.1:PORT/{tenantId} */
  authority: string;
  /** https://127.0.0.1:PORT/beta */
  graphBaseUrl: string;
  tenantId: string;
  /** first app registration of the seed */
  clientId: string;
  /** its first secret, when it has one */
  clientSecret: string | undefined;
  caCertPem: string;
  caCertPath: string | undefined;
  tokenAudience: string;
  /** `127.0.0.1:PORT`, for msal's knownAuthorities */
  host: string;
  /** msal `authorityMetadata` JSON for the tenant (local-stack-notes §2.3) */
  authorityMetadata: string;
  /** the embedded blob endpoint, when storage runs */
  blobEndpoint: string | undefined;
  /** problems worth telling the operator (a private key file readable by other users) */
  warnings: string[];
  admin: AdminApi;
  close(): Promise<void>;
}

const ADMIN_PREFIX = "/_emulator/";
const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost"]);

/**
 * The address to listen on, refusing anything but loopback: the admin API answers anyone who reaches it (no
 * authentication) and the embedded storage uses Azurite's public well-known account key.
 */
export function listenAddress(host: string | undefined): string {
  if (host === undefined || LOOPBACK_HOSTS.has(host.toLowerCase())) return "127.0.0.1";
  throw new PublisherError(
    "usage",
    "NotLoopback",
    `The local tenant listens on loopback only, not on ${JSON.stringify(host)}: its admin API (/_emulator/) has no authentication and its blob storage signs with Azurite's public well-known account key, so anyone who could reach it could read and change everything.`,
    { hint: "Use 127.0.0.1 (the default) or localhost; reach it from elsewhere through an SSH tunnel." },
  );
}

async function resolveSeed(seed: LocalTenantOptions["seed"]): Promise<Seed> {
  if (seed === undefined) return defaultSeed();
  if (typeof seed === "string") return loadSeedFile(seed);
  return parseSeed(seed);
}

export async function startLocalTenant(options: LocalTenantOptions = {}): Promise<LocalTenant> {
  if (options.persist && options.stateDir === undefined) throw new Error("persist needs a stateDir.");
  const address = listenAddress(options.host);
  const seed = await resolveSeed(options.seed);
  const clock = options.clock ?? systemClock;
  const pki = await loadOrCreatePki(options.stateDir);
  const directory = new Directory(seed);
  const tenant = directory.firstTenant();
  const store =
    options.store ??
    (options.persist && options.stateDir !== undefined
      ? await JsonFileStore.open(join(options.stateDir, "graph-state.json"))
      : new MemoryStore());
  let origin = "";
  const getOrigin = (): string => origin;

  const faults = new FaultInjector(clock);
  for (const f of seed.faults) faults.add(f);

  let storage: EmbeddedStorage | undefined;
  if (options.storage !== false) {
    const location = typeof options.storage === "object" ? options.storage.location : undefined;
    storage = await startEmbeddedStorage({
      tls: pki,
      ...(location === undefined ? {} : { location }),
      uploadSasRead: seed.uploadSas.read,
      // The same faults reach blob storage (paths /devstoreaccount1/…), answered in storage's error shape; only
      // clients' calls (SAS URLs), not the local tenant's own (signed with the account key: containers, policies,
      // the commit's verification).
      intercept: (req, res, url) => req.headers.authorization === undefined && faults.apply(req, res, url, "storage"),
    });
  }

  const inventories = new Map<string, GeneratedInventory>();
  if (!Array.isArray(seed.detectedApps)) inventories.set(tenant.id, new GeneratedInventory(seed.detectedApps));
  const ctx: ResourceContext = {
    store,
    clock,
    pageSize: options.pageSize,
    inventory: (tenantId) => inventories.get(tenantId.toLowerCase()),
    categories: tenantCategories(seed.mobileAppCategories),
  };
  const load = (): void => loadSeedEntities(ctx, seed, tenant.id);
  // A persisted store keeps what it has; a fresh one gets the seed.
  if (store.isEmpty()) load();

  const entra = new Entra({
    directory,
    pki,
    clock,
    origin: getOrigin,
    tokenLifetimeSeconds: options.tokenLifetimeSeconds ?? 3599,
    assertionSkewSeconds: 300,
  });
  const uploads = new UploadStateMachine({ clock, storage, delays: options.uploadDelays });
  const throttle = options.throttling === false ? undefined : new Throttle(clock);
  const graph = new GraphService({
    directory,
    pki,
    clock,
    origin: getOrigin,
    routes: [...directoryAndDeviceRoutes(ctx), ...mobileAppRoutes(ctx, uploads, options.mobileApps)],
    throttle,
  });

  const admin: AdminApi = {
    seed,
    issueToken(input = {}) {
      const app = directory.allApps()[0];
      return entra.issueAccessToken({
        tenantId: input.tenantId ?? tenant.id,
        clientId: input.clientId ?? app?.registration.clientId ?? "00000000-0000-0000-0000-000000000000",
        displayName: input.displayName ?? app?.registration.displayName ?? "test",
        servicePrincipalId:
          input.servicePrincipalId ?? app?.servicePrincipalId ?? "00000000-0000-0000-0000-000000000000",
        roles: input.roles ?? app?.registration.roles ?? [],
        appidacr: input.appidacr ?? "1",
        ...(input.lifetimeSeconds === undefined ? {} : { lifetimeSeconds: input.lifetimeSeconds }),
        ...(input.audience === undefined ? {} : { audience: input.audience }),
        ...(input.issuer === undefined ? {} : { issuer: input.issuer }),
        ...(input.notBefore === undefined ? {} : { notBefore: input.notBefore }),
      }).token;
    },
    addFault: (f) => faults.add(f),
    addUploadFault: (f) => uploads.addFault(f),
    uploadsSettled: () => uploads.settled(),
    async expireUploadUrl(fileId) {
      const rec = store.collection<FileRecord>(tenant.id, CONTENT_FILES).get(fileId);
      if (!rec) throw new Error(`No content file ${fileId}.`);
      await uploads.expireUploadUri(rec);
    },
    setUploadSas({ read }) {
      storage?.setUploadSasRead(read);
    },
    uploadSas: () => ({ read: storage?.uploadSasRead ?? seed.uploadSas.read }),
    clearFaults: () => faults.clear(),
    listFaults: () => faults.list(),
    state: () => store.dump(),
    reset() {
      store.clear();
      faults.clear();
      throttle?.reset();
      uploads.reset();
      storage?.setUploadSasRead(seed.uploadSas.read);
      load();
    },
  };

  /** Reserved admin API (loopback only, no authentication): state, reset, faults, upload SAS permissions. */
  async function handleAdmin(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const route = `${req.method ?? "GET"} ${url.pathname.slice(ADMIN_PREFIX.length)}`;
    if (route === "GET state") return sendJson(res, 200, admin.state());
    if (route === "POST reset") {
      admin.reset();
      return sendJson(res, 204, undefined);
    }
    if (route === "GET faults") return sendJson(res, 200, faults.list());
    if (route === "GET upload-sas") return sendJson(res, 200, admin.uploadSas());
    if (route === "PUT upload-sas") {
      let body: unknown;
      try {
        body = JSON.parse((await readBody(req)).toString("utf8"));
      } catch {
        body = undefined;
      }
      const read = (body as { read?: unknown } | undefined)?.read;
      if (typeof read !== "boolean" || Object.keys(body as object).length !== 1)
        return sendJson(res, 400, { error: { code: "BadRequest", message: 'The body must be {"read": true|false}.' } });
      admin.setUploadSas({ read });
      return sendJson(res, 200, admin.uploadSas());
    }
    if (route === "DELETE faults") {
      faults.clear();
      return sendJson(res, 204, undefined);
    }
    if (route === "POST faults") {
      try {
        const id = faults.add(JSON.parse((await readBody(req)).toString("utf8")) as FaultInput);
        return sendJson(res, 201, { id });
      } catch (e) {
        return sendJson(res, 400, { error: { code: "BadRequest", message: (e as Error).message } });
      }
    }
    return sendJson(res, 404, { error: { code: "NotFound", message: `No admin route ${route}.` } });
  }

  const server = createServer({ cert: pki.serverCertPem, key: pki.serverKeyPem }, (req, res) => {
    const url = new URL(req.url ?? "/", origin || "https://127.0.0.1");
    void (async () => {
      try {
        if (url.pathname.startsWith(ADMIN_PREFIX)) return await handleAdmin(req, res, url);
        if (faults.apply(req, res, url)) return;
        if (await graph.handle(req, res, url)) return;
        if (await entra.handle(req, res, url)) return;
        sendJson(res, 404, {
          error: { code: "NotFound", message: `The local tenant has no route ${req.method ?? ""} ${url.pathname}.` },
        });
      } catch (e) {
        if (!res.headersSent)
          sendJson(res, 500, {
            error: { code: "InternalServerError", message: `Local tenant bug: ${(e as Error).message}` },
          });
        else res.destroy();
      }
    })();
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 0, address, () => resolve());
    });
  } catch (e) {
    await storage?.close();
    throw e;
  }
  const port = (server.address() as AddressInfo).port;
  origin = `https://127.0.0.1:${port}`;
  const authority = `${origin}/${tenant.id}`;
  const firstApp = seed.appRegistrations[0];
  const authorityMetadata = JSON.stringify({
    token_endpoint: `${authority}/oauth2/v2.0/token`,
    authorization_endpoint: `${authority}/oauth2/v2.0/authorize`,
    issuer: `${authority}/v2.0`,
    jwks_uri: `${authority}/discovery/v2.0/keys`,
    end_session_endpoint: `${authority}/oauth2/v2.0/logout`,
  });

  return {
    authorityHost: origin,
    authority,
    graphBaseUrl: `${origin}/beta`,
    tenantId: tenant.id,
    clientId: firstApp?.clientId ?? "",
    clientSecret: firstApp?.secrets[0]?.value,
    caCertPem: pki.caCertPem,
    caCertPath: pki.caCertPath ?? (options.stateDir === undefined ? undefined : join(options.stateDir, "ca.pem")),
    tokenAudience: GRAPH_AUDIENCE,
    host: `127.0.0.1:${port}`,
    authorityMetadata,
    blobEndpoint: storage?.blobEndpoint,
    warnings: pki.warnings ?? [],
    admin,
    async close() {
      uploads.reset();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await store.flush();
      await storage?.close();
    },
  };
}
