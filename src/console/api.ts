/**
 * The console's HTTP API: request schemas (zod, checked by the server before any handler runs) and the response
 * types. The pages import this module for its types only (`import type`), so no zod reaches the browser; the
 * server is the one place where input is validated.
 */
import { z } from "zod";
import { CLOUD_NAMES } from "../core/config/clouds.js";
import { REQUESTED_ARCHITECTURES, REQUESTED_SCOPES } from "../catalog/select.js";
import { INVENTORY_MAX_AGE_DEFAULT, INVENTORY_MAX_AGE_MAX } from "../publish/inventory-report.js";
import type { AppRow } from "../publish/apps.js";
import type { RemovalReport } from "../publish/removal-report.js";
import type { RollbackReport } from "../publish/rollback-report.js";
import type { ConnectionReport } from "../publish/connect/test-connection.js";
import type { TargetInfo } from "../publish/target.js";
import type { CatalogSearchHit, ShowResult } from "../catalog/catalog.js";
import type { AutoPublishView, InventoryReport } from "../publish/inventory-report.js";
import type { SubscriptionStatus } from "../publish/sync/subscriptions-edit.js";
import type { TenantConnection } from "../publish/tenants/connect.js";

const PROFILE_NAME = /^[A-Za-z0-9._-]+$/;
const profileName = z.string().regex(PROFILE_NAME, "use letters, digits, . _ -").max(64);
/** An optional text field: a form's empty field is absent. */
const field = (max = 2048) =>
  z.preprocess((v) => (typeof v === "string" && v.trim() === "" ? undefined : v), z.string().max(max).optional());

/** POST /api/profiles: the Connection form, field for field (`connect init`'s flags). */
export const connectionFormSchema = z.strictObject({
  name: profileName,
  cloud: z.enum(CLOUD_NAMES),
  tenant: z.string().trim().min(1, "is required").max(256),
  clientId: z.string().trim().min(1, "is required").max(64),
  authorityHost: field(),
  tokenAudience: field(),
  graphBaseUrl: field(),
  credentialType: z.enum(["secret", "certificate", "federated"]),
  /** write-only: stored in the CLI's secret file, never sent back; absent keeps the stored one */
  secret: field(4096),
  secretExpiresOn: field(64),
  certificatePath: field(),
  keyPath: field(),
  passwordFile: field(),
  sendCertificateChain: z.boolean().optional(),
  /** write-only: a PEM or PFX file's content (base64), stored in the CLI's secrets folder, never sent back */
  certificateUpload: field(48 * 1024),
  /** write-only: the uploaded PFX's or key's password */
  certificatePassword: field(1024),
  tokenFile: field(),
  caCertificate: field(),
  proxy: field(),
});
export type ConnectionForm = z.infer<typeof connectionFormSchema>;

/** The profile to act on: a saved profile, or null for the local tenant (`--cloud local`). */
export const profileRefSchema = z.strictObject({ profile: profileName.nullable() });
export type ProfileRef = z.infer<typeof profileRefSchema>;

/** A saved profile as the form shows it: never the secret, only whether one is stored. */
export interface ProfileView {
  name: string;
  isDefault: boolean;
  cloud: string;
  tenant: string;
  clientId: string;
  authorityHost: string | undefined;
  tokenAudience: string | undefined;
  graphBaseUrl: string | undefined;
  credentialType: "secret" | "certificate" | "federated";
  secretStored: boolean;
  secretExpiresOn: string | undefined;
  certificatePath: string | undefined;
  keyPath: string | undefined;
  passwordFile: string | undefined;
  sendCertificateChain: boolean;
  tokenFile: string | undefined;
  caCertificate: string | undefined;
  proxy: string | undefined;
}

/** A cloud of the form's list with the endpoints it fills in (the local tenant's when one runs). */
export interface CloudView {
  name: string;
  label: string;
  authorityHost: string | undefined;
  tokenAudience: string | undefined;
  graphBaseUrl: string | undefined;
}

/** GET /api/profiles */
export interface ProfilesResponse {
  configFile: string;
  defaultProfile: string | undefined;
  /** the profile the other pages use; null: as the CLI without --profile (the default profile, else the local tenant) */
  current: string | null;
  /** the tenant chosen on the Tenants page (its name): the pages and Test work on it instead of the profile */
  tenant: string | null;
  profiles: ProfileView[];
  clouds: CloudView[];
}

/** POST /api/profiles */
export interface SaveResponse {
  profile: string;
  configFile: string;
  authority: string;
  graphBaseUrl: string;
}

/** POST /api/connection/test: a saved profile (or null: the local tenant), the form as it stands (unsaved), or a tenant. */
export const testDraftSchema = z.strictObject({ draft: connectionFormSchema });
/** POST /api/connection/test of a tenant of the tenants file: its resolved target, as "Test all" tests it. */
export const testTenantSchema = z.strictObject({ tenant: z.string().min(1).max(64) });
export type TestRequest = ProfileRef | z.infer<typeof testDraftSchema> | z.infer<typeof testTenantSchema>;

/** POST /api/connection/test */
export type TestResponse = ConnectionReport;

/** GET /api/apps (`apps list`) */
export interface AppsResponse {
  target: TargetInfo;
  apps: AppRow[];
}

/** GET /api/apps/detail?app=ID (`apps show`): assignments with group and filter names, relationships, ESP. */
export interface AppDetailResponse {
  appId: string;
  displayName: string;
  displayVersion: string;
  publisher: string;
  definitionId: string | undefined;
  installCommandLine: string | undefined;
  uninstallCommandLine: string | undefined;
  /** e.g. "detection: file system" */
  rules: string[];
  /** as `apps show` words them: intent, group or filter names */
  assignments: string[];
  relationships: string[];
  /** Enrollment Status Page profiles listing the app; undefined when the app registration may not read them */
  espProfiles: string[] | undefined;
}

/** POST /api/apps/rollback: dryRun true gives the plan to confirm; false applies it. */
export const rollbackRequestSchema = z.strictObject({
  app: z.string().min(1).max(256),
  to: z.string().min(1).max(256).optional(),
  dryRun: z.boolean(),
});
export type RollbackRequest = z.infer<typeof rollbackRequestSchema>;

/** POST /api/apps/rollback: the plan in the CLI's words and tables (`rollback` prints the same report). */
export interface RollbackResponse {
  dryRun: boolean;
  /** the app rolled back to: the apply names it, so it moves to exactly the version confirmed */
  toAppId: string;
  report: RollbackReport;
  warnings: string[];
}

/**
 * POST /api/apps/remove (`apps remove`): dryRun true gives the plan to confirm; false applies it, and only when the
 * apps the plan deletes are still exactly `confirmed` (the ids the person saw). `force`: an app not ours.
 */
export const removeRequestSchema = z.strictObject({
  app: z.string().min(1).max(256),
  force: z.boolean().optional(),
  dryRun: z.boolean(),
  confirmed: z.array(z.string().min(1).max(256)).max(1000).optional(),
});
export type RemoveRequest = z.infer<typeof removeRequestSchema>;

/** POST /api/apps/remove: the plan in the CLI's words and tables (`apps remove --dry-run` prints the same). */
export interface RemoveResponse {
  dryRun: boolean;
  /** the apps deleted: the apply names them back as `confirmed` */
  appIds: string[];
  report: RemovalReport;
  warnings: string[];
}

/** POST /api/publish/plan and /api/publish/apply: app definition files, as `publish` takes them. */
export const publishRequestSchema = z.strictObject({
  files: z.array(z.string().trim().min(1).max(4096)).min(1, "name at least one app definition file").max(500),
});
export type PublishRequest = z.infer<typeof publishRequestSchema>;

/** POST /api/publish/plan (`publish --dry-run`) */
export interface PlanResponse {
  target: TargetInfo;
  items: {
    id: string;
    displayName: string;
    version: string;
    /** create, update metadata, new version (strategy), nothing */
    action: string;
    appId: string | undefined;
    /** properties that change, each "name: old → new" (long values shortened, as `publish --dry-run` prints them) */
    changes: string[];
    reasons: string[];
  }[];
  warnings: string[];
}

/** POST /api/publish/apply: the run to follow at GET /api/publish/events?run=ID (Server-Sent Events). */
export interface ApplyResponse {
  run: string;
}

/**
 * One Server-Sent Event of a publish run (`data:` JSON). `at`: milliseconds since the run started; `sent`: the
 * server's clock (ms since 1970) when the engine reported it, so a page on the same machine can tell how late it
 * received the event.
 */
export type ProgressMessage = { sent: number } & (
  | { type: "step"; id: string; at: number; step: string; detail: string }
  | {
      type: "bytes";
      id: string;
      at: number;
      phase: "downloading" | "packaging" | "uploading";
      done: number;
      total: number;
      rate: number | undefined;
      etaSeconds: number | undefined;
    }
  | { type: "stage"; id: string; at: number; stage: string }
  | {
      type: "done";
      id: string;
      at: number;
      status: "ok" | "failed";
      action: string;
      appId: string | undefined;
      message: string;
    }
  | { type: "end"; at: number; ok: number; failed: number; error: string | undefined }
);

/**
 * `--max-age MINUTES` of `inventory` (`--inventory-max-age` of `sync`): the cached inventory is used when at most this
 * old (0: read again); the CLI's default and bounds.
 */
const inventoryMaxAge = z
  .number({ error: "give a number of minutes" })
  .int("give whole minutes")
  .min(0, "give 0 or more minutes")
  .max(INVENTORY_MAX_AGE_MAX, `give at most ${INVENTORY_MAX_AGE_MAX} minutes (a year)`);

/** GET /api/inventory's `maxAge` (a query parameter: text; empty is the default). */
export const inventoryQuerySchema = z.strictObject({
  maxAge: z.preprocess(
    (v) => (typeof v === "string" ? (v.trim() === "" ? undefined : Number(v)) : v),
    inventoryMaxAge.default(INVENTORY_MAX_AGE_DEFAULT),
  ),
});

/** POST /api/sync/plan (`sync --dry-run`) and /api/sync/apply (`sync`): the subscriptions file, as `--subscriptions`. */
export const syncRequestSchema = z.strictObject({
  subscriptions: z.string().trim().min(1, "name the subscriptions file").max(4096),
  /** `--only ID…`: these catalog ids only (none: every product) */
  only: z.array(z.string().trim().min(1, "must not be empty").max(300)).max(500).optional(),
  /** `--inventory-max-age MINUTES` (autoPublish): the cached inventory is used when at most this old (0: read again) */
  inventoryMaxAge: inventoryMaxAge.optional(),
});
export type SyncRequest = z.infer<typeof syncRequestSchema>;

/** POST /api/sync/plan: per product what a real run does, in `sync --dry-run`'s words. */
export interface SyncPlanResponse {
  target: TargetInfo;
  file: string;
  products: {
    id: string;
    version: string | undefined;
    /** nothing, create, new-version, update-metadata, skipped, failed */
    action: string;
    reason: string;
    /** each "name: old → new" */
    changes: string[];
  }[];
  /** "A real run will download …" */
  download: string | undefined;
}

/** GET /api/sync/history: the last runs `sync` and `publish` recorded (the CLI's and the console's) */
export interface HistoryResponse {
  file: string;
  runs: {
    id: number;
    startedAt: string;
    finishedAt: string;
    dryRun: boolean;
    status: string;
    products: number;
    changed: number;
    failed: number;
    trigger: string;
    /** a run across tenants: the tenant's name (one run per tenant) */
    tenant: string | null;
    /** what ran: a sync of subscriptions or a publish of app definitions */
    kind: "sync" | "publish";
    /** false when the run was made with --no-log-file (Show log has nothing to show) */
    logKept: boolean;
    /** the command's exit code, when recorded */
    exitCode: number | undefined;
    /** the run's products with their results */
    results: { product: string; version: string | undefined; action: string; status: string; reason: string }[];
  }[];
}

/**
 * GET /api/sync/log?run=ID (Show log) and GET /api/diagnostics/log?name=FILE (Open): text/plain, streamed. The log's
 * lines (one JSON object each, redacted when written and scrubbed again), then notes for people on lines starting
 * with `# `: `# from FILE` per file the lines came from, `# truncated: …` when more than LOG_SEND_MAX_BYTES were
 * there, `# this run was made with --no-log-file: no log was kept`, or a file that could not be read.
 */
export type LogText = string;

/** GET /api/diagnostics: versions, the settings in use (never a secret), the last run logs. */
export interface DiagnosticsResponse {
  versions: { name: string; version: string }[];
  /** the profile the pages use (as the Connection form shows it), or undefined for the local tenant */
  profile: ProfileView | undefined;
  files: { what: string; path: string }[];
  /** the newest run logs first */
  logs: { name: string; bytes: number; modified: string }[];
}

// ---- Catalog and subscriptions, Inventory (pages/catalog.ts, pages/inventory.ts) ----

/** GET /api/catalog/search?q=TEXT (`catalog search`) */
export interface CatalogSearchResponse {
  /** the source searched, for people */
  source: string;
  /** the `source:` a subscription names so that sync finds this source (the local tenant's vendor host), if any */
  subscriptionSource: string | undefined;
  hits: Omit<CatalogSearchHit, "rank">[];
}

/** A subscription's architecture and scope (the subscriptions file's and `catalog show --arch/--scope`'s values). */
const architecture = z.enum(REQUESTED_ARCHITECTURES, {
  error: `must be ${REQUESTED_ARCHITECTURES.join(", ")}`,
});
const scope = z.enum(REQUESTED_SCOPES, { error: `must be ${REQUESTED_SCOPES.join(" or ")}` });

/** GET /api/catalog/show?id=ID&architecture=A&scope=S: absent architecture and scope are the CLI's (x64, machine). */
export const catalogShowQuerySchema = z.strictObject({
  id: z.string().trim().min(1, "is required").max(300),
  architecture: architecture.optional(),
  scope: scope.optional(),
});

/** GET /api/catalog/show?id=ID (`catalog show`): the chosen installer, the skipped ones, the definition as YAML. */
export interface CatalogShowResponse {
  show: ShowResult;
  definitionYaml: string | undefined;
}

/** The subscriptions file the pages read and write (relative to the folder the console runs in). */
const subscriptionsPath = z.string().trim().min(1, "is required").max(4096);

/** POST /api/subscriptions: one product's subscription, added or changed; checked as `sync` reads the file. */
export const subscribeRequestSchema = z.strictObject({
  file: subscriptionsPath,
  id: z.string().trim().min(1, "is required").max(300),
  source: field(),
  architecture: architecture.optional(),
  scope: scope.optional(),
  mode: z.string().max(64),
  assignments: z.array(
    z.strictObject({
      intent: z.string().max(64),
      target: field(64),
      group: field(256),
    }),
  ),
  strategy: field(64),
  keep: z.number().optional(),
  pin: field(128),
  installCommand: field(4096),
  uninstallCommand: field(4096),
});
export type SubscribeRequest = z.infer<typeof subscribeRequestSchema>;

/** GET /api/subscriptions?file=F: each product's newest version against the tenant's, and the raw subscription. */
export interface SubscriptionsResponse {
  file: string;
  exists: boolean;
  target: TargetInfo | undefined;
  products: (SubscriptionStatus & {
    assignments: { intent: string; target: string | undefined; group: string | undefined }[];
    keep: number | undefined;
    installCommand: string | undefined;
    uninstallCommand: string | undefined;
  })[];
}

/** POST /api/subscriptions/remove: unsubscribe one product (id, architecture, scope), the file's comments kept. */
export const unsubscribeRequestSchema = z.strictObject({
  file: subscriptionsPath,
  id: z.string().trim().min(1, "is required").max(300),
  architecture: architecture.optional(),
  scope: scope.optional(),
});
export type UnsubscribeRequest = z.infer<typeof unsubscribeRequestSchema>;

/** POST /api/subscriptions and /api/subscriptions/remove */
export interface SubscribeResponse {
  file: string;
  products: number;
}

/** GET /api/inventory?minDevices=N&outdated=1&unmatched=1&refresh=1&maxAge=M&catalog=S&subscriptions=F (`inventory`) */
export interface InventoryResponse {
  /** the same object `intune-publisher inventory --output json` prints */
  report: InventoryReport;
  subscriptionsFile: string | undefined;
  /** the `autoPublish:` thresholds and what the next sync would auto-publish */
  autoPublish: AutoPublishView | undefined;
  /** the cache age asked for (`--max-age`) */
  maxAgeMinutes: number;
  /** how old the inventory shown is (whole minutes since it was read) */
  ageMinutes: number;
}

/** Every error: our code (docs/cli.md#error-codes), the message and the fix. */
export interface ErrorResponse {
  error: { code: string; message: string; hint: string | undefined };
}

// ---- Tenants (pages/tenants.ts; docs/tenants.md) ----

/** POST /api/tenants/select: the tenant of the tenants file the pages work on; null: the profile (no tenant). */
export const tenantRefSchema = z.strictObject({
  tenant: z.string().min(1).max(64).nullable(),
});
export type TenantRef = z.infer<typeof tenantRefSchema>;

/** A tenant of the tenants file, as the switcher lists it. */
export interface TenantView {
  name: string;
  displayName: string | undefined;
  tenantId: string | undefined;
  tags: Record<string, string>;
}

/** GET /api/tenants: the tenants file (or the configuration's `tenants:` section) and the tenant chosen. */
export interface TenantsResponse {
  /** undefined: no tenants configured */
  file: string | undefined;
  /** the tenant the pages work on; null: the profile (the Connection page's choice) */
  current: string | null;
  tenants: TenantView[];
}

/** GET /api/tenants/overview: per tenant what is known without signing in (history, cached inventory). */
export interface TenantsOverviewResponse {
  file: string | undefined;
  current: string | null;
  /** the six permissions, in the connection test's order */
  permissions: string[];
  tenants: (TenantView & {
    /** the last sync run recorded for this tenant (the history's tenant column) */
    lastSync: { startedAt: string; status: string; changed: number; failed: number } | undefined;
    /** the cached inventory (`inventory`), when one is */
    inventory: { readAt: string; devices: number | undefined; products: number } | undefined;
  })[];
}

/**
 * One Server-Sent Event of "Test all" (`connect test --tenants all`, followed at GET /api/tenants/events?run=ID):
 * a tenant's result as it ends (with our apps in it when the test passed), then the end.
 */
export type TenantTestMessage =
  | { type: "tenant"; result: TenantConnection & { ourApps: number | undefined } }
  | { type: "end"; ok: number; failed: number; error: string | undefined };
