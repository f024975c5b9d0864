/**
 * The publish use case: make the tenant hold each defined app exactly once.
 *
 *   read the tenant (win32LobApps, ours found by their ownership stamp) → content hashes → plan (src/core/plan) →
 *   apply, a few apps at a time: package a source folder (or open the prebuilt package) → create the app (create,
 *   supersede) → upload and commit through the upload engine (which PATCHes committedContentVersion and verifies)
 *   → PATCH the changed properties (in-place: the new stamp; update-metadata: only what differs) → link and unlink
 *   categories (`categories/$ref`; a new app gets them right after its create).
 *
 * A re-run with nothing changed makes no Graph write. If a step fails after this run created an app, the app is
 * deleted with a fresh signal (a cancelled run still cleans up); if that fails too, the outcome says exactly what
 * was left (app, content version, file). Reference: docs/publishing.md.
 */
import { createHash } from "node:crypto";
import { setMaxListeners } from "node:events";
import { createReadStream } from "node:fs";
import { mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { assertContentSize } from "../definitions/load.js";
import type { LoadedAppDefinition } from "../definitions/load.js";
import type { GraphClient } from "../clients/graph/client.js";
import { IntuneApi } from "../clients/graph/intune.js";
import { contentHash, readStamp } from "../core/app-definition/stamp.js";
import type { OwnershipStamp } from "../core/app-definition/stamp.js";
import type { PackageFacts } from "../core/app-definition/to-graph.js";
import {
  msiInformationFromDetectionXml,
  toWin32LobAppCreateBody,
  toWin32LobAppPatchBody,
} from "../core/app-definition/to-graph.js";
import { changedProperties } from "../core/app-definition/diff.js";
import { AppDefinitionError } from "../core/app-definition/errors.js";
import type { DefinitionProblem } from "../core/app-definition/errors.js";
import { isPublisherError, PublisherError, reportedCode } from "../core/errors.js";
import type { ErrorCode, ErrorKind } from "../core/errors.js";
import { classifyTenantApps, currentApp, partialPatch, planPublish } from "../core/plan/plan.js";
import type { CategoryChanges, CategoryRef, DesiredApp, Plan, PlanItem, TenantApp } from "../core/plan/plan.js";
import { resolveCategories, resolveScopeTags } from "../core/plan/resolve.js";
import type { Win32LobAppWire } from "../core/wire/graph.js";
import { packageFolder } from "../intunewin/package.js";
import { openPackage } from "../intunewin/read.js";
import { listSource } from "../intunewin/source.js";
import {
  BLOCK_BUFFER_BUDGET,
  concurrencyFor,
  DEFAULT_BLOCK_SIZE,
  MAX_DEFAULT_CONCURRENCY,
  resumeOrStart,
  uploadContent,
  UploadError,
} from "./upload/index.js";
import { applyTargeting, readTargeting, readTargetingFacts } from "./targeting.js";
import { permissionError } from "./tenant.js";
import type { TargetingOutcome, TargetingStep } from "./targeting.js";
import { itemHasChanges, planTargeting } from "../core/plan/targeting.js";
import type { UploadContentOptions, UploadLeftover, UploadProgressEvent, UploadResult } from "./upload/index.js";

export const DEFAULT_APP_CONCURRENCY = 8;
/**
 * Blocks in flight across all apps of a run, in bytes (128 MiB): apps published at once share them (1 app: 4 blocks
 * of 32 MiB; 2 apps: 2 each; more: 1 each). Only a deflated payload holds its blocks in memory; a stored one is read
 * while it is sent.
 */
export const BLOCK_BUDGET = BLOCK_BUFFER_BUDGET;

/**
 * Block size and parallelism per upload for the parts the caller did not set, with `appsAtOnce` apps sharing
 * BLOCK_BUDGET: as many blocks as each app's share holds, at most 16 in flight across the apps (1 per app at least).
 */
export function uploadLayoutFor(
  appsAtOnce: number,
  set: { blockSize?: number; concurrency?: number } = {},
): { blockSize: number; concurrency: number } {
  const apps = Math.max(1, appsAtOnce);
  const blockSize = set.blockSize ?? DEFAULT_BLOCK_SIZE;
  const concurrency =
    set.concurrency ??
    Math.max(1, Math.min(Math.floor(MAX_DEFAULT_CONCURRENCY / apps), concurrencyFor(blockSize, BLOCK_BUDGET / apps)));
  return { blockSize, concurrency };
}
/** How long the compensating DELETE may take (its own signal: a cancelled run still cleans up). */
export const COMPENSATION_TIMEOUT_MS = 60_000;

export type PublishStep =
  "plan" | "package" | "create" | "categories" | "upload" | "patch" | "compensate" | TargetingStep;

export type PublishEvent =
  | { type: "step"; id: string; step: PublishStep; detail: string }
  | { type: "package"; id: string; bytesRead: number; totalBytes: number }
  | { type: "upload"; id: string; event: UploadProgressEvent }
  | { type: "done"; id: string; outcome: AppOutcome };

/** Upload engine settings passed through (block size, parallelism, polling, storage transport, …). */
export type UploadSettings = Partial<
  Pick<
    UploadContentOptions,
    "blockSize" | "concurrency" | "poll" | "deadlines" | "renewal" | "storage" | "clock" | "sleep"
  >
>;

/** Packages shared between workers by content hash (implementations: src/queue/package-store.ts). */
export interface PackageStore {
  /** for people, never a secret */
  readonly label: string;
  /** Copies the package stored under `key` into `dir`; its path, or undefined when the store has none. */
  fetch(key: string, dir: string): Promise<string | undefined>;
  /** Stores the package at `path` under `key` (a no-op when the key is there already). */
  put(key: string, path: string): Promise<void>;
}

export interface PublishOptions {
  graph: GraphClient;
  definitions: readonly LoadedAppDefinition[];
  /** plan only: no package is built and nothing is written */
  dryRun?: boolean;
  /** apps published at once; default 8 (block parallelism per upload then shrinks to share BLOCK_BUDGET) */
  concurrency?: number;
  signal?: AbortSignal;
  onEvent?: (event: PublishEvent) => void;
  upload?: UploadSettings;
  /** keep a resume journal per definition there (`<id>.upload.json`); none when absent */
  journalDir?: string;
  /** where packages are built; default a temporary folder removed at the end */
  workDir?: string;
  /** dry run: content hashes known without reading the files (definition id → hash), e.g. from a catalog */
  contentHashes?: ReadonlyMap<string, string>;
  /** packages shared with other runs of this process (a run across tenants packages each version once) */
  packages?: RunPackages;
  /** packages shared between workers, by content hash (src/queue/package-store.ts): looked up before packaging */
  packageStore?: PackageStore;
}

/**
 * Packages kept by content hash and shared between publish runs (src/publish/tenants/packages.ts): `build` makes
 * the package in `outDir` and returns its path; it runs once per content hash, later callers get the same file.
 */
export interface RunPackages {
  package(contentHash: string, build: (outDir: string) => Promise<string>): Promise<string>;
}

export interface Compensation {
  /** the app this run created */
  appId: string;
  deleted: boolean;
  /** when it could not be deleted: what the tenant still holds */
  leftover?: UploadLeftover;
  error?: string;
}

export interface AppOutcome {
  id: string;
  action: PlanItem["action"];
  strategy?: PlanItem["strategy"];
  status: "ok" | "failed";
  /** the app that holds the definition now (or, after a failure, the one that was being worked on) */
  appId?: string;
  supersedes?: string;
  /** the content version committed by this run */
  contentVersionId?: string;
  /** properties PATCHed */
  patched?: string[];
  /** category links added and removed (display names) */
  categories?: { linked: string[]; unlinked: string[] };
  upload?: Pick<UploadResult, "blockCount" | "blocksSent" | "bytesSent" | "renewals" | "resumed">;
  /** what the targeting step did: assignments, relationships, ESP profiles, deleted versions, stamp record */
  targeting?: TargetingOutcome;
  /**
   * `code`: the service's code when a service answered with one, else ours (as printed before the catalogue);
   * `errorCode`: ours, always (docs/cli.md#error-codes)
   */
  error?: { kind: ErrorKind; code: string; errorCode: ErrorCode; message: string; step: PublishStep };
  compensation?: Compensation;
}

/** One of our apps as the tenant holds it after the run. */
export interface AppSummary {
  id: string;
  appId: string;
  displayName: string;
  version: string;
  publishingState: string;
  committedContentVersion: string | null;
  current: boolean;
}

export interface PublishResult {
  dryRun: boolean;
  plan: Plan;
  outcomes: AppOutcome[];
  /** our apps in the tenant after the run (for the definitions given); empty when the run was cancelled */
  tenant: AppSummary[];
}

// ---------------------------------------------------------------------------------------------------------------
// Reading the tenant

/** Scope tag names → ids (case-insensitive); an unknown name is a positioned definition problem. */
export async function readScopeTags(
  api: IntuneApi,
  definitions: readonly LoadedAppDefinition[],
  signal?: AbortSignal,
): Promise<Map<string, string[]>> {
  if (!definitions.some((d) => d.definition.scopeTags !== undefined)) return new Map();
  let tags;
  try {
    tags = await api.listScopeTags(signal);
  } catch (e) {
    throw permissionError(e, "scope tags", "DeviceManagementRBAC.Read.All", "scopeTags");
  }
  return resolveScopeTags(definitions, tags);
}

/**
 * Category names → the tenant's mobileAppCategories (case-insensitive, duplicates dropped); an unknown name is a
 * positioned definition problem, reported before anything is written. Every definition gets an entry (`[]` = no
 * categories: links the app has are removed).
 */
export async function readCategories(
  api: IntuneApi,
  definitions: readonly LoadedAppDefinition[],
  signal?: AbortSignal,
): Promise<Map<string, CategoryRef[]>> {
  const known = definitions.some((d) => d.definition.categories.length > 0) ? await api.listCategories(signal) : [];
  return resolveCategories(definitions, known);
}

/**
 * The categories linked to the current app of each definition, put on the listed app as `categories` so the plan
 * can compare them: the listing's `$expand=categories` when it has them, else one GET per app.
 */
async function completeCategories(
  api: IntuneApi,
  apps: Win32LobAppWire[],
  defs: readonly LoadedAppDefinition[],
  signal?: AbortSignal,
): Promise<void> {
  const owned = classifyTenantApps(apps as unknown as TenantApp[]).owned;
  for (const d of defs) {
    const app = currentApp(owned.filter((o) => o.stamp.id === d.definition.id))?.app;
    if (app === undefined) continue;
    const expanded = (app as { categories?: unknown }).categories;
    const linked = Array.isArray(expanded)
      ? (expanded as { id: string; displayName: string }[])
      : await api.listAppCategories(app.id, signal);
    (app as { categories?: CategoryRef[] }).categories = linked.map((c) => ({ id: c.id, displayName: c.displayName }));
  }
}

/**
 * Graph leaves `largeIcon` out of list responses: read it, one GET per app, for our apps whose definition has an
 * icon, so an icon change is seen (and an unchanged icon is not re-sent).
 */
async function completeIcons(
  api: IntuneApi,
  apps: Win32LobAppWire[],
  defs: readonly LoadedAppDefinition[],
  signal?: AbortSignal,
): Promise<void> {
  const withIcon = new Set(defs.filter((d) => d.assets.icon !== undefined).map((d) => d.definition.id));
  for (const app of apps) {
    if ("largeIcon" in app) continue;
    const s = readStamp(app.notes);
    if (s.status !== "valid" || !withIcon.has(s.stamp.id)) continue;
    const full = await api.getApp(app.id, signal);
    app.largeIcon = full.largeIcon ?? null;
  }
}

async function sha256File(path: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest("hex");
}

/**
 * The content hash of a definition without packaging: a prebuilt package's Detection.xml FileDigest, or the
 * listing (path, size, SHA-256) of a source folder.
 */
export async function definitionContentHash(d: LoadedAppDefinition): Promise<string> {
  const c = d.content;
  if (c.kind === "package") {
    const pkg = await openPackage(c.packagePath);
    try {
      return contentHash({ kind: "intunewin", fileDigest: pkg.detection.EncryptionInfo.FileDigest });
    } finally {
      pkg.close();
    }
  }
  const entries = await listSource(c.sourceDir);
  const files = [];
  for (const e of entries) {
    if (e.kind !== "file") continue;
    files.push({ path: e.zipName.replaceAll("\\", "/"), size: e.size, sha256: await sha256File(e.absPath) });
  }
  return contentHash({ kind: "sourceTree", setupFile: c.setupFile.replaceAll("\\", "/"), files });
}

// ---------------------------------------------------------------------------------------------------------------
// The use case

export async function publish(options: PublishOptions): Promise<PublishResult> {
  // The run's own signal, following the caller's (AbortSignal.any adds no listener to it). Each request and wait of
  // each app in flight listens to it (undici adds one per request): with the pool full that is more than Node's
  // default of 10 listeners, which would print a MaxListenersExceededWarning for a leak that is not there.
  const signal = options.signal === undefined ? undefined : AbortSignal.any([options.signal]);
  if (signal !== undefined)
    setMaxListeners(Math.max(10, 4 * (options.concurrency ?? DEFAULT_APP_CONCURRENCY) + 10), signal);
  const o: PublishOptions = signal === undefined ? options : { ...options, signal };
  const api = new IntuneApi(o.graph);
  // Names the tenant must know (scope tags, categories, then groups, filters, ESP profiles, dependencies): every one
  // that does not resolve is reported together, after all were looked up.
  const nameProblems: DefinitionProblem[] = [];
  const collect = async <T>(read: () => Promise<T>, fallback: T): Promise<T> => {
    try {
      return await read();
    } catch (e) {
      if (!(e instanceof AppDefinitionError)) throw e;
      nameProblems.push(...e.problems);
      return fallback;
    }
  };
  const scopeTags = await collect(() => readScopeTags(api, o.definitions, signal), new Map<string, string[]>());
  const categories = await collect(() => readCategories(api, o.definitions, signal), new Map<string, CategoryRef[]>());
  const desired: DesiredApp[] = [];
  for (const d of o.definitions) {
    const tagIds = scopeTags.get(d.definition.id);
    desired.push({
      definition: d.definition,
      assets: d.assets,
      contentHash:
        (o.dryRun === true ? o.contentHashes?.get(d.definition.id) : undefined) ?? (await definitionContentHash(d)),
      ...(tagIds === undefined ? {} : { scopeTagIds: tagIds }),
      categories: categories.get(d.definition.id) ?? [],
    });
  }
  // One listing with every app's assignments and categories: a run with nothing to do reads no app one by one.
  const before = await api.listWin32AppsExpanded(signal);
  await completeIcons(api, before, o.definitions, signal);
  await completeCategories(api, before, o.definitions, signal);
  const tenant = classifyTenantApps(before as unknown as TenantApp[]);
  const plan = planPublish(desired, tenant);
  // Targeting: names resolved (an unknown group, filter, profile or dependency stops the run here, before any
  // write), then what the tenant has, then the changes, with Intune's limits checked per app.
  const resolved = await collect(() => readTargeting(api, o.definitions, tenant, before, signal), undefined);
  if (nameProblems.length > 0 || resolved === undefined) throw new AppDefinitionError(nameProblems);
  const facts = await readTargetingFacts(api, plan, tenant, resolved, signal, before);
  planTargeting(plan, resolved.desired, tenant, facts);
  if (o.dryRun) {
    return { dryRun: true, plan, outcomes: [], tenant: summarize(before, o.definitions) };
  }

  const work = o.workDir ?? (await mkdtemp(join(tmpdir(), "intune-publisher-")));
  const outcomes: AppOutcome[] = new Array<AppOutcome>(plan.items.length);
  try {
    const byApp = new Map(before.map((a) => [a.id, a]));
    const appsAtOnce = Math.min(plan.items.length, o.concurrency ?? DEFAULT_APP_CONCURRENCY);
    const shared: PublishOptions = {
      ...o,
      upload: { ...o.upload, ...uploadLayoutFor(appsAtOnce, o.upload) },
    };
    await pool(plan.items.length, o.concurrency ?? DEFAULT_APP_CONCURRENCY, async (i) => {
      const item = plan.items[i]!;
      const problems = item.targeting?.problems ?? [];
      if (problems.length > 0) {
        // Refused by the plan: nothing of this app is written.
        outcomes[i] = {
          id: item.id,
          action: item.action,
          ...(item.strategy === undefined ? {} : { strategy: item.strategy }),
          ...(item.appId === undefined ? {} : { appId: item.appId }),
          status: "failed",
          error: {
            kind: "input",
            code: "PlanRefused",
            errorCode: "PlanRefused",
            message: problems.join(" "),
            step: "plan",
          },
        };
        o.onEvent?.({ type: "done", id: item.id, outcome: outcomes[i] });
        return;
      }
      const run = new AppRun(shared, api, item, o.definitions[i]!, desired[i]!, work, byApp.get(item.appId ?? ""));
      outcomes[i] = await run.execute();
      o.onEvent?.({ type: "done", id: item.id, outcome: outcomes[i] });
    });
  } finally {
    if (o.workDir === undefined) await rm(work, { recursive: true, force: true });
  }
  // A cancelled run reports its outcomes (compensation included) without reading the tenant again.
  if (signal?.aborted) return { dryRun: false, plan, outcomes, tenant: [] };
  // Targeting, once every app's content is in place (dependencies and ESP name the apps this run made).
  const finalIds = new Map<string, string>();
  outcomes.forEach((x) => {
    if (x.status === "ok" && x.appId !== undefined) finalIds.set(x.id, x.appId);
  });
  const targeting = await applyTargeting(api, plan, finalIds, signal);
  outcomes.forEach((x) => {
    const t = targeting.get(x.id);
    if (t === undefined) return;
    if (Object.keys(t.outcome).length > 0) x.targeting = t.outcome;
    if (t.error) {
      const e = t.error.cause;
      const err = isPublisherError(e)
        ? e
        : new PublisherError("Internal", e instanceof Error ? e.message : String(e), { cause: e });
      x.status = "failed";
      x.error = outcomeError(err, t.error.step);
    }
    if (t.error !== undefined || Object.keys(t.outcome).length > 0)
      o.onEvent?.({ type: "step", id: x.id, step: t.error?.step ?? "stamp", detail: targetingDetail(t) });
  });
  if (signal?.aborted) return { dryRun: false, plan, outcomes, tenant: [] };
  const anyWrite = plan.items.some(itemHasChanges);
  const after = anyWrite ? await api.listWin32Apps(signal) : before;
  return { dryRun: false, plan, outcomes, tenant: summarize(after, o.definitions) };
}

function targetingDetail(t: { outcome: TargetingOutcome; error?: { step: string; message: string } }): string {
  const o = t.outcome;
  const parts = [
    o.assigned !== undefined ? `assigned (${o.assigned})` : "",
    o.previousCleared ? `assignments removed from ${o.previousCleared}` : "",
    o.relationships?.length ? `relationships: ${o.relationships.join(", ")}` : "",
    o.esp?.length ? `ESP: ${o.esp.join(", ")}` : "",
    o.detached?.length ? `out of the supersedence graph: ${o.detached.join(", ")}` : "",
    o.dependents?.length ? `dependents now on the new version: ${o.dependents.join(", ")}` : "",
    o.deleted?.length ? `deleted previous versions ${o.deleted.join(", ")}` : "",
  ].filter(Boolean);
  if (t.error) parts.push(`failed at ${t.error.step}: ${t.error.message}`);
  if (o.stamp) parts.push("stamp updated");
  return `targeting: ${parts.join("; ")}`;
}

/** Runs `count` jobs, at most `limit` at once; every job runs (a failure is the job's own outcome). */
async function pool(count: number, limit: number, job: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) await job(next++);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, count)) }, worker));
}

function summarize(apps: readonly Win32LobAppWire[], defs: readonly LoadedAppDefinition[]): AppSummary[] {
  const ids = new Set(defs.map((d) => d.definition.id));
  const owned = classifyTenantApps(apps as unknown as TenantApp[]).owned.filter((o) => ids.has(o.stamp.id));
  const current = new Set([...ids].map((id) => currentApp(owned.filter((o) => o.stamp.id === id))?.app.id));
  return owned
    .map((o) => {
      const a = o.app as unknown as Win32LobAppWire;
      return {
        id: o.stamp.id,
        appId: a.id,
        displayName: a.displayName,
        version: o.stamp.version,
        publishingState: a.publishingState,
        committedContentVersion: a.committedContentVersion ?? null,
        current: current.has(a.id),
      };
    })
    .sort((a, b) => (a.id === b.id ? Number(b.current) - Number(a.current) : a.id < b.id ? -1 : 1));
}

// ---------------------------------------------------------------------------------------------------------------
// One app

interface Built {
  path: string;
  facts: PackageFacts;
}

class AppRun {
  private step: PublishStep = "package";
  private created: string | undefined;

  constructor(
    private readonly o: PublishOptions,
    private readonly api: IntuneApi,
    private readonly item: PlanItem,
    private readonly loaded: LoadedAppDefinition,
    private readonly desired: DesiredApp,
    private readonly work: string,
    private readonly existing: Win32LobAppWire | undefined,
  ) {}

  private emit(step: PublishStep, detail: string): void {
    this.step = step;
    this.o.onEvent?.({ type: "step", id: this.item.id, step, detail });
  }

  private base(): AppOutcome {
    const i = this.item;
    return {
      id: i.id,
      action: i.action,
      ...(i.strategy === undefined ? {} : { strategy: i.strategy }),
      ...(i.appId === undefined ? {} : { appId: i.appId }),
      ...(i.supersedes === undefined ? {} : { supersedes: i.supersedes }),
      status: "ok",
    };
  }

  async execute(): Promise<AppOutcome> {
    const out = this.base();
    try {
      switch (this.item.action) {
        case "nothing":
          return out;
        case "update-metadata": {
          const { appId, patch } = this.item;
          if (patch !== undefined) {
            this.emit("patch", `PATCH ${this.item.changed.join(", ")}`);
            await this.api.patchApp(appId, patch, this.o.signal);
          }
          const categories = await this.applyCategories(appId);
          return { ...out, patched: [...this.item.changed], ...categories };
        }
        case "create":
          return await this.createAndUpload(out);
        case "new-version":
          return this.item.strategy === "supersede"
            ? await this.createAndUpload(out)
            : await this.inPlace(out, this.item.appId);
      }
    } catch (e) {
      return this.failed(out, e);
    }
  }

  /**
   * The stamp this run writes with the content: a new app records the targets and profiles the targeting step
   * will give it; an existing app keeps its record until that step has acted.
   */
  private stamp(): OwnershipStamp {
    const def = this.desired.definition;
    const creates = this.item.action === "create" || this.item.strategy === "supersede";
    const record = creates ? this.item.targeting?.stamp : this.item.current;
    return {
      id: def.id,
      version: def.version,
      contentHash: this.desired.contentHash,
      ...(record?.targets === undefined ? {} : { targets: record.targets }),
      ...(record?.esp === undefined ? {} : { esp: record.esp }),
    };
  }

  private scopeTagOption() {
    return this.desired.scopeTagIds === undefined ? {} : { scopeTagIds: this.desired.scopeTagIds };
  }

  private async createAndUpload(out: AppOutcome): Promise<AppOutcome> {
    const built = await this.build();
    const body = toWin32LobAppCreateBody(this.loaded.definition, this.loaded.assets, {
      package: built.facts,
      stamp: this.stamp(),
      ...this.scopeTagOption(),
    });
    this.emit("create", `create ${body.displayName}`);
    const app = await this.api.createApp(body, this.o.signal);
    this.created = app.id;
    out.appId = app.id;
    const categories = await this.applyCategories(app.id);
    const up = await this.upload(app.id, built);
    await this.forget();
    return { ...out, contentVersionId: up.contentVersionId, upload: uploadSummary(up), ...categories };
  }

  private async inPlace(out: AppOutcome, appId: string): Promise<AppOutcome> {
    const built = await this.build();
    // The new stamp (and the rest of the definition) goes on with the content, in the PATCH that commits it: if the
    // upload fails, the stamp still names the content the app really has, so a re-run tries again. One write per
    // app, not two: 20 in-place updates are 80 writes, within Intune's 100 per app per 20 s (docs/publishing.md).
    const full = toWin32LobAppPatchBody(this.loaded.definition, this.loaded.assets, {
      package: built.facts,
      stamp: this.stamp(),
      ...this.scopeTagOption(),
    });
    const changed = changedProperties(full, (this.existing ?? {}) as Record<string, unknown>);
    const up = await this.upload(appId, built, changed.length > 0 ? partialPatch(full, changed) : undefined);
    if (changed.length > 0) this.emit("patch", `PATCH ${changed.join(", ")} (with the content)`);
    const categories = await this.applyCategories(appId);
    await this.forget();
    return {
      ...out,
      contentVersionId: up.contentVersionId,
      patched: changed,
      upload: uploadSummary(up),
      ...categories,
    };
  }

  private sig(): { signal?: AbortSignal } {
    return this.o.signal === undefined ? {} : { signal: this.o.signal };
  }

  /** The plan's category links: each one to add linked, each one to remove unlinked; nothing else changes. */
  private async applyCategories(appId: string): Promise<Pick<AppOutcome, "categories">> {
    const c: CategoryChanges | undefined = this.item.categories;
    if (c === undefined || (c.link.length === 0 && c.unlink.length === 0)) return {};
    const names = (l: readonly CategoryRef[]): string => l.map((x) => x.displayName).join(", ");
    this.emit(
      "categories",
      [c.link.length > 0 ? `link ${names(c.link)}` : "", c.unlink.length > 0 ? `unlink ${names(c.unlink)}` : ""]
        .filter(Boolean)
        .join("; "),
    );
    for (const x of c.link) await this.api.linkCategory(appId, x.id, this.o.signal);
    for (const x of c.unlink) await this.api.unlinkCategory(appId, x.id, this.o.signal);
    return {
      categories: { linked: c.link.map((x) => x.displayName), unlinked: c.unlink.map((x) => x.displayName) },
    };
  }

  /**
   * Packages a source folder (progress events) or opens the prebuilt package, and reads its facts. With a journal
   * folder, a package is built into `<journalDir>/packages/<id>/<content hash>/` and kept until the app is done,
   * so a re-run after a crash uploads the same package (same keys) and the engine can resume its upload.
   */
  private async build(): Promise<Built> {
    const c = this.loaded.content;
    const id = this.item.id;
    if (c.kind === "folder" && this.o.packages !== undefined) {
      let built = false;
      const path = await this.o.packages.package(this.desired.contentHash, async (outDir) => {
        built = true;
        this.emit("package", `package ${c.sourceDir}`);
        const r = await packageFolder({
          sourceDir: c.sourceDir,
          setupFile: c.setupFile,
          outDir,
          ...this.sig(),
          onProgress: (bytesRead, totalBytes) => this.o.onEvent?.({ type: "package", id, bytesRead, totalBytes }),
        });
        return r.path;
      });
      if (!built) this.emit("package", `reuse the package built for another tenant (${basename(path)})`);
      const pkg = await openPackage(path);
      try {
        assertContentSize(this.loaded, pkg.payloadSize);
        return { path, facts: facts(path, pkg.detection) };
      } finally {
        pkg.close();
      }
    }
    if (c.kind === "folder") {
      const outDir = this.packageDir() ?? join(this.work, id);
      const kept = this.packageDir() === undefined ? undefined : await keptPackage(outDir);
      if (kept) {
        this.emit("package", `reuse the package built by an earlier run (${kept.path})`);
        assertContentSize(this.loaded, kept.size);
        return { path: kept.path, facts: facts(kept.path, kept.detection) };
      }
      await rm(outDir, { recursive: true, force: true });
      await mkdir(outDir, { recursive: true });
      const store = this.o.packageStore;
      const key = this.desired.contentHash;
      const shared = store === undefined ? undefined : await store.fetch(key, outDir);
      if (shared !== undefined) {
        this.emit("package", `reuse the package from the shared store (${store!.label})`);
        const pkg = await openPackage(shared);
        pkg.close();
        assertContentSize(this.loaded, pkg.payloadSize);
        return { path: shared, facts: facts(shared, pkg.detection) };
      }
      this.emit("package", `package ${c.sourceDir}`);
      const r = await packageFolder({
        sourceDir: c.sourceDir,
        setupFile: c.setupFile,
        outDir,
        ...this.sig(),
        onProgress: (bytesRead, totalBytes) => this.o.onEvent?.({ type: "package", id, bytesRead, totalBytes }),
      });
      assertContentSize(this.loaded, r.encryptedSize);
      await store?.put(key, r.path);
      return { path: r.path, facts: facts(r.path, r.detection) };
    }
    const pkg = await openPackage(c.packagePath);
    try {
      return { path: c.packagePath, facts: facts(c.packagePath, pkg.detection) };
    } finally {
      pkg.close();
    }
  }

  /** Where a source folder's package is kept for resuming (with a journal folder only). */
  private packageDir(): string | undefined {
    if (this.o.journalDir === undefined) return undefined;
    return join(
      this.o.journalDir,
      "packages",
      this.item.id,
      this.desired.contentHash.replace(/^sha256:/, "").slice(0, 32),
    );
  }

  /** Drops the kept package and journal of this app (done, or its new app deleted). */
  private async forget(): Promise<void> {
    if (this.o.journalDir === undefined) return;
    await rm(join(this.o.journalDir, "packages", this.item.id), { recursive: true, force: true }).catch(
      () => undefined,
    );
    await rm(this.journalPath(), { force: true }).catch(() => undefined);
  }

  private async upload(appId: string, built: Built, commitPatch?: Record<string, unknown>): Promise<UploadResult> {
    this.emit("upload", `upload ${basename(built.path)} to app ${appId}`);
    const icon = this.loaded.assets.icon;
    const options: UploadContentOptions = {
      ...this.o.upload,
      graph: this.o.graph,
      appId,
      packagePath: built.path,
      ...this.sig(),
      onProgress: (event) => this.o.onEvent?.({ type: "upload", id: this.item.id, event }),
      ...(commitPatch === undefined ? {} : { commitPatch }),
      ...(icon === undefined
        ? {}
        : {
            largeIcon: {
              "@odata.type": "#microsoft.graph.mimeContent",
              type: icon.type,
              value: Buffer.from(icon.bytes).toString("base64"),
            },
          }),
    };
    if (this.o.journalDir === undefined) return uploadContent(options);
    await mkdir(this.o.journalDir, { recursive: true, mode: 0o700 });
    return resumeOrStart({ ...options, journalPath: this.journalPath() });
  }

  private journalPath(): string {
    return join(this.o.journalDir ?? "", `${this.item.id}.upload.json`);
  }

  /** The failure as an outcome; an app this run created is deleted (fresh signal) or reported as left. */
  private async failed(out: AppOutcome, e: unknown): Promise<AppOutcome> {
    const err = isPublisherError(e)
      ? e
      : new PublisherError("Internal", e instanceof Error ? e.message : String(e), { cause: e });
    const result: AppOutcome = {
      ...out,
      status: "failed",
      error: outcomeError(err, this.step),
    };
    if (this.created === undefined) return result;
    const appId = this.created;
    const failedStep = this.step;
    this.emit("compensate", `delete app ${appId} created by this run`);
    this.step = failedStep;
    try {
      await this.api.deleteApp(appId, AbortSignal.timeout(COMPENSATION_TIMEOUT_MS));
      result.compensation = { appId, deleted: true };
      delete result.appId;
      // Its journal and kept package belong to the deleted app: drop them so the next run starts cleanly.
      await this.forget();
    } catch (d) {
      const leftover: UploadLeftover = e instanceof UploadError ? e.leftover : { appId };
      result.compensation = {
        appId,
        deleted: false,
        leftover,
        error: d instanceof Error ? d.message : String(d),
      };
    }
    return result;
  }
}

/** The one package kept in `dir` by an earlier run, readable, or undefined. */
async function keptPackage(
  dir: string,
): Promise<
  { path: string; size: number; detection: Awaited<ReturnType<typeof openPackage>>["detection"] } | undefined
> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith(".intunewin") && !n.startsWith("."));
  } catch {
    return undefined;
  }
  if (names.length !== 1) return undefined;
  const path = join(dir, names[0]!);
  try {
    const pkg = await openPackage(path);
    pkg.close();
    return { path, size: pkg.payloadSize, detection: pkg.detection };
  } catch {
    return undefined;
  }
}

function facts(path: string, d: Awaited<ReturnType<typeof openPackage>>["detection"]): PackageFacts {
  return {
    fileName: basename(path),
    setupFile: d.SetupFile,
    msiInformation: d.MsiInfo ? msiInformationFromDetectionXml({ Name: d.Name, MsiInfo: d.MsiInfo }) : null,
  };
}

function uploadSummary(r: UploadResult): AppOutcome["upload"] {
  return {
    blockCount: r.blockCount,
    blocksSent: r.blocksSent,
    bytesSent: r.bytesSent,
    renewals: r.renewals,
    resumed: r.resumed,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Reporting

/** One line per failed app: what failed, and what happened to the app this run created. */
export function describeFailure(o: AppOutcome): string {
  if (o.status !== "failed" || o.error === undefined) return `${o.id}: ok`;
  const parts = [
    `${o.id}: ${o.action}${o.strategy ? ` (${o.strategy})` : ""} failed at ${o.error.step}: ${o.error.message}`,
  ];
  const c = o.compensation;
  if (c?.deleted) parts.push(`The app ${c.appId} created by this run was deleted again; the tenant is as before.`);
  else if (c) {
    const l = c.leftover;
    const held = [
      `app ${c.appId}`,
      l?.contentVersionId ? `content version ${l.contentVersionId}` : undefined,
      l?.fileId ? `content file ${l.fileId}` : undefined,
    ]
      .filter(Boolean)
      .join(", ");
    parts.push(
      `The app created by this run could not be deleted (${c.error ?? "unknown error"}); the tenant still holds ${held}. A re-run finishes it in place, or remove it with \`intune-publisher apps remove ${c.appId}\`.`,
    );
  } else if (o.appId !== undefined)
    parts.push(`The existing app ${o.appId} was left as it was before the failed step.`);
  return parts.join(" ");
}

function outcomeError(err: PublisherError, step: PublishStep): NonNullable<AppOutcome["error"]> {
  return { kind: err.kind, code: reportedCode(err), errorCode: err.code, message: err.message, step };
}

/** The error a failed run exits with: the first failure's kind (so its exit code), every failure in the message. */
export function publishError(result: PublishResult): PublisherError | undefined {
  const failed = result.outcomes.filter((o) => o.status === "failed");
  if (failed.length === 0) return undefined;
  const first = failed[0]!.error!;
  const lines = failed.map(describeFailure);
  return new PublisherError(
    first.errorCode,
    failed.length === 1
      ? `Publishing failed: ${lines[0]}`
      : `Publishing failed for ${failed.length} apps:\n${lines.map((l) => `  ${l}`).join("\n")}`,
    {
      hint:
        failed.length < result.outcomes.length
          ? "The other apps were published. Fix the cause and run publish again: it continues where it stopped."
          : "Fix the cause and run publish again: it continues where it stopped.",
      serviceCode: first.code === first.errorCode ? undefined : first.code,
    },
  );
}
