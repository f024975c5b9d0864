/**
 * The local tenant: Entra ID token endpoint + the Intune part of Microsoft Graph on one HTTPS port, content in
 * embedded Azurite. `startLocalTenant` is the composition root: it builds every part and the request pipeline
 * (docs/DESIGN.md "The local tenant's shape").
 */
import { createServer } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { PublisherError } from "../src/core/errors.js";
import { ADMIN_PREFIX, createAdminApi, handleAdminRequest } from "./admin.js";
import type { AdminApi } from "./admin.js";
import type { Clock } from "./clock.js";
import { systemClock } from "./clock.js";
import { Directory } from "./directory.js";
import { Entra, GRAPH_AUDIENCE } from "./entra/entra.js";
import { FaultInjector } from "./faults.js";
import { AssignmentHandler } from "./graph/handlers/assignments.js";
import { CategoryHandler } from "./graph/handlers/categories.js";
import { ContentHandler } from "./graph/handlers/content.js";
import { DeviceHandler } from "./graph/handlers/devices.js";
import { DirectoryHandler } from "./graph/handlers/directory.js";
import { EnrollmentHandler } from "./graph/handlers/enrollment.js";
import type { Handler, HandlerContext } from "./graph/handlers/handler.js";
import { DEFAULT_MOBILE_APP_OPTIONS, MobileAppHandler } from "./graph/handlers/mobile-apps.js";
import type { MobileAppOptions } from "./graph/handlers/mobile-apps.js";
import { RelationshipHandler } from "./graph/handlers/relationships.js";
import { ReportHandler } from "./graph/handlers/reports.js";
import type { ExportJobOptions } from "./graph/handlers/reports.js";
import { GeneratedInventory } from "./graph/inventory.js";
import { tenantCategories } from "./graph/model/categories.js";
import { GraphState } from "./graph/repositories.js";
import { loadSeedEntities } from "./graph/seed-entities.js";
import { GraphService } from "./graph/service.js";
import { Throttle } from "./graph/throttle.js";
import { UploadStateMachine } from "./graph/upload-state.js";
import type { UploadDelays } from "./graph/upload-state.js";
import { sendJson } from "./http.js";
import { loadOrCreatePki } from "./pki.js";
import { defaultSeed, loadSeedFile, parseSeed } from "./seed.js";
import { defaultVendorSeed } from "./vendor/default-seed.js";
import { startVendorHost } from "./vendor/host.js";
import type { VendorHost, VendorHostOptions } from "./vendor/host.js";
import type { Seed, SeedInput } from "./seed.js";
import { JsonFileStore, MemoryStore } from "./store.js";
import type { Store } from "./store.js";
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
  /** `expires_in` of issued tokens, default 3599 (docs/reference/entra-auth.md §1.4) */
  tokenLifetimeSeconds?: number;
  /** upload-state machine delays in ms (docs/reference/graph-win32-upload.md §4 items 10, 13, 21) */
  uploadDelays?: Partial<UploadDelays>;
  /** export jobs: state delays and the download URL's validity (graph/handlers/reports.ts) */
  exportJobs?: Partial<ExportJobOptions>;
  /** blob storage: "memory" (default) or a folder for large uploads; false = no storage (Graph and Entra only) */
  storage?: "memory" | { location: string } | false;
  /** store; default in memory, or `graph-state.json` in `stateDir` when `persist` is set */
  store?: Store;
  /** keep Graph state (apps, uploads, assignments, …) in `stateDir`/graph-state.json across restarts */
  persist?: boolean;
  /** switches of the mobileApps emulation (size check, PATCH 200/204, largeIcon quirk, assign-before-publish) */
  mobileApps?: Partial<MobileAppOptions>;
  /** Intune throttling windows (docs/reference/graph-conventions.md §6.5); default true */
  throttling?: boolean;
  /**
   * the vendor download host (docs/emulator.md "Vendor host"), on its own port with the same CA: its seed (default
   * `defaultVendorSeed()`, a few demo products), or false for none
   */
  vendor?: VendorHostOptions["seed"] | false;
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
  /** msal `authorityMetadata` JSON for the tenant (docs/reference/entra-auth.md §5.4) */
  authorityMetadata: string;
  /** the embedded blob endpoint, when storage runs */
  blobEndpoint: string | undefined;
  /** the vendor download host (`vendor.origin` is the catalog's base URL), unless `vendor: false` */
  vendor: VendorHost | undefined;
  /** problems worth telling the operator (a private key file readable by other users) */
  warnings: string[];
  admin: AdminApi;
  close(): Promise<void>;
}

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost"]);

/**
 * The address to listen on, refusing anything but loopback: the admin API answers anyone who reaches it (no
 * authentication) and the embedded storage uses Azurite's public well-known account key.
 */
export function listenAddress(host: string | undefined): string {
  if (host === undefined || LOOPBACK_HOSTS.has(host.toLowerCase())) return "127.0.0.1";
  throw new PublisherError(
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
  const state = new GraphState(store);
  let origin = "";
  const getOrigin = (): string => origin;

  const faults = new FaultInjector(clock);
  for (const f of seed.faults) faults.add(f);
  const storage = options.storage === false ? undefined : await startStorage(options.storage, pki, seed, faults);
  let vendor: VendorHost | undefined;
  try {
    vendor =
      options.vendor === false
        ? undefined
        : await startVendorHost({ seed: options.vendor ?? defaultVendorSeed(), ca: pki, host: address, clock });
  } catch (e) {
    await storage?.close();
    throw e;
  }

  const loadSeed = (): void => {
    const at = new Date(clock.now()).toISOString();
    seed.tenants.forEach((t, i) => {
      const own = {
        groups: t.groups ?? [],
        assignmentFilters: t.assignmentFilters ?? [],
        roleScopeTags: t.roleScopeTags ?? [],
        espProfiles: t.espProfiles ?? [],
        managedDevices: t.managedDevices ?? [],
        detectedApps: t.detectedApps ?? [],
      };
      const id = t.id.toLowerCase();
      if (i === 0)
        loadSeedEntities(
          state.tenant(id),
          {
            ...seed,
            groups: [...seed.groups, ...own.groups],
            assignmentFilters: [...seed.assignmentFilters, ...own.assignmentFilters],
            roleScopeTags: [...seed.roleScopeTags, ...own.roleScopeTags],
            espProfiles: [...seed.espProfiles, ...own.espProfiles],
            managedDevices: [...seed.managedDevices, ...own.managedDevices],
            detectedApps: Array.isArray(seed.detectedApps)
              ? [...seed.detectedApps, ...own.detectedApps]
              : seed.detectedApps,
          },
          id,
          at,
        );
      else if (
        t.groups ??
        t.assignmentFilters ??
        t.roleScopeTags ??
        t.espProfiles ??
        t.managedDevices ??
        t.detectedApps
      )
        loadSeedEntities(
          state.tenant(id),
          {
            ...seed,
            ...own,
            roleScopeTags: t.roleScopeTags ?? [{ id: "0", displayName: "Default", isBuiltIn: true }],
          },
          id,
          at,
        );
    });
  };
  // A persisted store keeps what it has; a fresh one gets the seed.
  if (state.isEmpty()) loadSeed();

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
  const inventory = Array.isArray(seed.detectedApps) ? undefined : new GeneratedInventory(seed.detectedApps);
  const inventoryOf = (tenantId: string): GeneratedInventory | undefined =>
    tenantId.toLowerCase() === tenant.id ? inventory : undefined;
  const reports = new ReportHandler(
    { state, clock, pageSize: options.pageSize },
    storage,
    inventoryOf,
    options.exportJobs,
  );
  const graph = new GraphService({
    directory,
    pki,
    clock,
    origin: getOrigin,
    routes: graphHandlers({
      ctx: { state, clock, pageSize: options.pageSize },
      uploads,
      mobileApps: { ...DEFAULT_MOBILE_APP_OPTIONS, ...options.mobileApps },
      categories: tenantCategories(seed.mobileAppCategories),
      inventory: inventoryOf,
      reports,
    }).flatMap((h) => h.routes()),
    throttle,
  });
  const admin = createAdminApi({
    seed,
    directory,
    entra,
    tenantId: tenant.id,
    state,
    faults,
    uploads,
    storage,
    throttle,
    reports,
    loadSeed,
  });

  // The request pipeline, in this order: the admin API, injected faults, Graph, Entra ID, else 404.
  async function serve(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (url.pathname.startsWith(ADMIN_PREFIX)) return handleAdminRequest(admin, req, res, url);
    if (faults.apply(req, res, url)) return;
    if (await graph.handle(req, res, url)) return;
    if (await entra.handle(req, res, url)) return;
    sendJson(res, 404, {
      error: { code: "NotFound", message: `The local tenant has no route ${req.method ?? ""} ${url.pathname}.` },
    });
  }
  const server = createServer({ cert: pki.serverCertPem, key: pki.serverKeyPem }, (req, res) => {
    const url = new URL(req.url ?? "/", origin || "https://127.0.0.1");
    serve(req, res, url).catch((e: unknown) => {
      if (!res.headersSent)
        sendJson(res, 500, {
          error: { code: "InternalServerError", message: `Local tenant bug: ${(e as Error).message}` },
        });
      else res.destroy();
    });
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 0, address, () => resolve());
    });
  } catch (e) {
    await vendor?.close();
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
    vendor,
    warnings: pki.warnings ?? [],
    admin,
    async close() {
      uploads.reset();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await store.flush();
      await vendor?.close();
      await storage?.close();
    },
  };
}

/**
 * The embedded blob storage. The same faults reach it (paths /devstoreaccount1/…), answered in storage's error
 * shape; only clients' calls (SAS URLs), not the local tenant's own (signed with the account key: containers,
 * policies, the commit's verification).
 */
function startStorage(
  storage: "memory" | { location: string } | undefined,
  tls: { caCertPem: string; serverCertPem: string; serverKeyPem: string },
  seed: Seed,
  faults: FaultInjector,
): Promise<EmbeddedStorage> {
  return startEmbeddedStorage({
    tls,
    ...(typeof storage === "object" ? { location: storage.location } : {}),
    uploadSasRead: seed.uploadSas.read,
    intercept: (req, res, url) => req.headers.authorization === undefined && faults.apply(req, res, url, "storage"),
  });
}

/** The Graph resource handlers, in the order their routes are matched. */
function graphHandlers(d: {
  ctx: HandlerContext;
  uploads: UploadStateMachine;
  mobileApps: MobileAppOptions;
  categories: ReturnType<typeof tenantCategories>;
  inventory: (tenantId: string) => GeneratedInventory | undefined;
  reports: ReportHandler;
}): Handler[] {
  return [
    new DirectoryHandler(d.ctx),
    new EnrollmentHandler(d.ctx),
    new DeviceHandler(d.ctx, d.inventory),
    d.reports,
    new MobileAppHandler(d.ctx, d.uploads, d.mobileApps, d.categories),
    new ContentHandler(d.ctx, d.uploads, d.mobileApps),
    new AssignmentHandler(d.ctx, d.mobileApps.requirePublishedForAssignment),
    new RelationshipHandler(d.ctx),
    new CategoryHandler(d.ctx, d.categories),
  ];
}
