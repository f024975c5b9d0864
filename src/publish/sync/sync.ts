/**
 * The sync use case (docs/sync.md): keep each subscribed catalog product at its newest (or pinned)
 * version in the tenant.
 *
 *   per product, a few at a time: resolve the version (showProduct: the source's index is read once per run) → the
 *   app definition, with the subscription's targeting, strategy, overrides and mode → download and verify (the
 *   cache answers a file it holds without a request) → stage it as an ordinary definition folder →
 *   then one publish run over every staged product (the existing engine: plan, package, upload, targeting,
 *   retention, Intune's write limits) → one result per product, failures kept per product.
 *
 * A product that fails to resolve, download or verify is reported and left out of the publish run: the tenant keeps
 * what it had. When the publish run itself refuses (an unknown group, say), each product is published on its own so
 * one product's problem never stops the others.
 */
import { createHash, randomUUID } from "node:crypto";
import { copyFile, link, mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { readBoundedText } from "../../platform/fs.js";
import type { CatalogSource, ShowResult } from "../../catalog/catalog.js";
import { showProduct } from "../../catalog/catalog.js";
import type { Downloader, DownloadRequest, DownloadResult } from "../../catalog/download/downloader.js";
import { isFixedUrlRequest } from "../../catalog/download/downloader.js";
import { downloadRequest, prepareDownloaded } from "../../catalog/prepare.js";
import { definitionIdFor, generatedFileBytes } from "../../catalog/to-definition.js";
import type { MsiFacts } from "../../catalog/to-definition.js";
import type { GraphClient } from "../../clients/graph/client.js";
import { AppDefinitionError } from "../../core/app-definition/errors.js";
import { contentHash } from "../../core/app-definition/stamp.js";
import { listSource } from "../../intunewin/source.js";
import type { AppDefinitionInput } from "../../core/app-definition/schema.js";
import type { AssignmentDefinition } from "../../core/app-definition/targeting-schema.js";
import { isPublisherError } from "../../core/errors.js";
import type { ErrorKind } from "../../core/errors.js";
import type { ErrorCode } from "../../core/error-codes.js";
import { itemHasChanges } from "../../core/plan/targeting.js";
import type { PropertyChange } from "../../core/plan/changes.js";
import { loadAppDefinition } from "../../definitions/load.js";
import type { LoadedAppDefinition } from "../../definitions/load.js";
import { publish } from "../publish.js";
import type { AppOutcome, PackageStore, PublishEvent, PublishResult, RunPackages, UploadSettings } from "../publish.js";
import type { AutoEntry, AutoInfo } from "./auto-publish.js";
import type { LoadedSubscriptions, RawSubscription, Subscription } from "./subscriptions.js";

/** Products resolved and downloaded at once (the downloader caps its own transfers at 4). */
export const RESOLVE_CONCURRENCY = 8;

export type ProductAction = "nothing" | "create" | "new-version" | "update-metadata" | "skipped" | "failed";

export interface ProductResult {
  /** the catalog id */
  id: string;
  architecture: string;
  scope: string;
  /** the app definition id the tenant knows the product by */
  definitionId?: string;
  /** the version this run resolved (the pinned one when pinned) */
  version?: string;
  /** the newest version the source offers, when a pin holds the product back */
  newest?: string;
  action: ProductAction;
  status: "ok" | "planned" | "skipped" | "failed";
  reason: string;
  appId?: string;
  /** `code`: the service's code when there is one, else ours (as publish prints it); `errorCode`: always ours */
  error?: { kind: ErrorKind; code: string; errorCode: ErrorCode; message: string; step: string };
  /** whether the installer came from the cache (no request) */
  fromCache?: boolean;
  /** dry run: the installer a real run downloads (not in the cache); `bytes` null when the server gives no size */
  download?: { bytes: number | null };
  /** old → new of each app property the plan changes (publish's `changes`), when there are any */
  changes?: PropertyChange[];
  /** the upload of this run: `resumed` when it went on from the journal of a stopped run */
  upload?: { resumed: boolean; blocksSent: number; blockCount: number };
  /** added by auto-publish (not in `products`): its mode and the device count that qualified it */
  auto?: AutoInfo & { mode: Subscription["mode"] };
  durationMs: number;
}

export interface SyncResult {
  dryRun: boolean;
  /** dry run: the installers a real run would download (`unknownSize`: those whose server gives no size) */
  willDownload?: { count: number; bytes: number; unknownSize: number };
  startedAt: string;
  finishedAt: string;
  products: ProductResult[];
  /** true when some product failed */
  failed: boolean;
  /** true when the tenant was (or, with dryRun, would be) changed */
  changed: boolean;
}

export interface SyncOptions {
  subscriptions: LoadedSubscriptions;
  /** The catalog source for a spec (the product's, else the file's, else undefined = the configured default). */
  openSource(spec: string | undefined): Promise<CatalogSource>;
  downloader: Downloader;
  graph: GraphClient;
  /** Where products are staged as definition folders (kept between runs: a resumed upload finds its package). */
  workDir: string;
  dryRun?: boolean;
  /** Catalog ids (any case) to sync; default all. */
  only?: readonly string[];
  /** Apps published at once (the publish engine's pool). */
  concurrency?: number;
  signal?: AbortSignal;
  journalDir?: string;
  upload?: UploadSettings;
  onEvent?: (e: PublishEvent) => void;
  onProduct?: (r: ProductResult) => void;
  clock?: () => number;
  /** packages shared with other runs, by content hash (a run across tenants: src/publish/tenants/run.ts) */
  packages?: RunPackages;
  /** a tenant's overrides (src/publish/tenants/overrides.ts), applied after the subscription's */
  adjust?: DefinitionAdjust;
  /** packages shared between workers (publish's `packageStore`) */
  packageStore?: PackageStore;
  /** products auto-publish adds to this run (auto-publish.ts planAutoPublish) */
  autoPublished?: readonly AutoEntry[];
}

/** Changes made to each product's definition for one tenant: to the definition, then to each loaded assignment. */
export interface DefinitionAdjust {
  definition(def: AppDefinitionInput): AppDefinitionInput;
  /** every assignment, the shared targeting file's included (a new object when changed) */
  assignment(a: AssignmentDefinition): AssignmentDefinition;
}

interface Staged {
  index: number;
  sub: Subscription;
  raw: RawSubscription;
  show: ShowResult;
  loaded: LoadedAppDefinition;
  started: number;
  fromCache: boolean;
  newest?: string;
  /** dry run, installer not in the cache: its announced size and the content hash made from metadata */
  planned?: { bytes: number | undefined; contentHash?: string };
}

export async function sync(o: SyncOptions): Promise<SyncResult> {
  const clock = o.clock ?? Date.now;
  const startedAt = new Date(clock()).toISOString();
  const only = o.only === undefined ? undefined : new Set(o.only.map((x) => x.toLowerCase()));
  const all: RunProduct[] = [
    ...o.subscriptions.value.products.map((p, k) => ({ p, raw: o.subscriptions.raw[k] ?? {} })),
    ...autoPublishedProducts(o.autoPublished ?? []),
  ];
  const picked = all.filter(({ p }) => only === undefined || only.has(p.id.toLowerCase()));
  const subs = picked.map((x) => x.p);
  if (only !== undefined)
    for (const id of only)
      if (!subs.some((s) => s.id.toLowerCase() === id))
        throw new AppDefinitionError([
          {
            path: ["products"],
            message: `--only ${id}: no product with that id is subscribed in this file (or auto-published).`,
            file: o.subscriptions.file,
            line: 1,
            column: 1,
          },
        ]);
  const results: ProductResult[] = new Array<ProductResult>(subs.length);
  const staged: Staged[] = [];
  const sources = new Map<string, Promise<CatalogSource>>();
  const sourceOf = (spec: string | undefined): Promise<CatalogSource> => {
    const key = spec ?? "";
    let s = sources.get(key);
    if (s === undefined) {
      s = o.openSource(spec);
      sources.set(key, s);
      s.catch(() => sources.delete(key));
    }
    return s;
  };

  await pool(subs.length, RESOLVE_CONCURRENCY, async (i) => {
    const sub = subs[i]!;
    const started = clock();
    const base = { id: sub.id, architecture: sub.architecture, scope: sub.scope };
    let step = "resolve";
    try {
      const source = await sourceOf(sub.source ?? o.subscriptions.value.source);
      let newest: string | undefined;
      if (source.kind === "winget") newest = (await source.versions(sub.id))[0];
      let show = await resolveProduct(o.workDir, source, sub, sub.pin ?? newest);
      step = "download";
      const request = downloadRequest(show, o.signal);
      // A dry run downloads nothing: the cache answers (a fixed URL: what it last gave, if the server says it is
      // unchanged), else the plan is made from the catalog's metadata (the published hash, and the size the server
      // announces for a HEAD).
      // Each download is labelled with the app it is for (one product may be subscribed per architecture and scope).
      const label = picked[i]!.definitionId ?? definitionIdFor(sub.id, sub.architecture, sub.scope);
      const fetch = (r: DownloadRequest): Promise<DownloadResult | undefined> =>
        o.dryRun !== true
          ? o.downloader.download({ ...r, label })
          : isFixedUrlRequest(r)
            ? o.downloader.cachedFixed(r)
            : o.downloader.cached(r);
      let d: DownloadResult | undefined;
      let unpacked: string | undefined;
      if (show.version === null || show.content.extract !== undefined) {
        // a fixed URL (version and product code from the MSI) or a zip (unpacked, its nested installer checked)
        // An MSI (a zip's nested one too) is read as `catalog import` reads it: its ProductCode checked against the
        // manifest, its ProductCode, ProductVersion and UpgradeCode used for detection and update-only rules.
        const options = { architecture: sub.architecture, scope: sub.scope, checkMsi: true, signal: o.signal };
        const version = show.version ?? undefined;
        const ready = await prepareDownloaded(source, o.downloader, show, options, fetch, (msi) =>
          resolveProduct(o.workDir, source, sub, version, msi),
        );
        if (ready !== undefined) ({ show, download: d, unpacked } = ready);
        else if (show.version === null) {
          results[i] = {
            ...base,
            action: "new-version",
            status: "planned",
            reason:
              "The fixed URL serves a file this machine has not downloaded (new, changed, or never downloaded): a real run downloads it, reads its ProductVersion and publishes it when it is new.",
            download: { bytes: (await o.downloader.size(request).catch(() => undefined)) ?? null },
            durationMs: clock() - started,
          };
          o.onProduct?.(results[i]);
          return;
        }
      } else d = await fetch(request);
      const planned = d === undefined ? { bytes: await o.downloader.size(request).catch(() => undefined) } : undefined;
      step = "stage";
      const loaded = await stage(o, sub, picked[i]!.raw, show, d, unpacked, picked[i]!.definitionId);
      const contentHash =
        planned?.bytes === undefined || show.installer.sha256 === null || show.content.extract !== undefined
          ? undefined
          : await metadataContentHash(loaded, installerPath(o, loaded, show), planned.bytes, show.installer.sha256);
      staged.push({
        index: i,
        sub,
        raw: picked[i]!.raw,
        show,
        loaded,
        started,
        fromCache: d?.fromCache ?? false,
        ...(planned === undefined
          ? {}
          : { planned: { ...planned, ...(contentHash === undefined ? {} : { contentHash }) } }),
        ...(newest === undefined ? {} : { newest }),
      });
    } catch (e) {
      results[i] = { ...base, ...failure(e, step), durationMs: clock() - started };
    }
    if (results[i] !== undefined) o.onProduct?.(results[i]);
  });

  staged.sort((a, b) => a.index - b.index);
  if (staged.length > 0) {
    const runs = await publishStaged(o, staged);
    for (const [s, r, outcome] of runs) {
      const res = productResult(s, r, outcome, o.dryRun === true, clock);
      results[s.index] = res;
      o.onProduct?.(res);
    }
  }
  const products = results
    .map((r, i) => (r === undefined ? undefined : withAuto(r, picked[i]!)))
    .filter((r): r is ProductResult => r !== undefined);
  const downloads = products.flatMap((p) => (p.download === undefined || p.action === "nothing" ? [] : [p.download]));
  return {
    dryRun: o.dryRun === true,
    ...(o.dryRun === true
      ? {
          willDownload: {
            count: downloads.length,
            bytes: downloads.reduce((n, d) => n + (d.bytes ?? 0), 0),
            unknownSize: downloads.filter((d) => d.bytes === null).length,
          },
        }
      : {}),
    startedAt,
    finishedAt: new Date(clock()).toISOString(),
    products,
    failed: products.some((p) => p.status === "failed"),
    changed: products.some((p) => ["create", "new-version", "update-metadata"].includes(p.action)),
  };
}

/** One product of a run: from the file's `products`, or added by auto-publish. */
interface RunProduct {
  p: Subscription;
  raw: RawSubscription;
  definitionId?: string;
  auto?: AutoInfo;
}

/** Auto-publish's contribution to the run's products: after the file's own, each with why it is there. */
function autoPublishedProducts(entries: readonly AutoEntry[]): RunProduct[] {
  return entries.map((e) => ({
    p: e.sub,
    raw: e.raw,
    ...(e.definitionId === undefined ? {} : { definitionId: e.definitionId }),
    auto: e.auto,
  }));
}

/** An auto-published product's result: the device count that qualified it (or that it fell) before the reason. */
function withAuto(r: ProductResult, x: RunProduct): ProductResult {
  if (x.auto === undefined) return r;
  const why = x.auto.reason.replace(/^auto:/, `auto (${x.p.mode}):`);
  return { ...r, auto: { ...x.auto, mode: x.p.mode }, reason: r.reason === "" ? why : `${why}. ${r.reason}` };
}

/** One publish run over every staged product; if it refuses as a whole, one run per product. */
async function publishStaged(
  o: SyncOptions,
  staged: readonly Staged[],
): Promise<[Staged, PublishResult | undefined, AppOutcome | Error | undefined][]> {
  const run = (defs: LoadedAppDefinition[]) =>
    publish({
      graph: o.graph,
      definitions: defs,
      dryRun: o.dryRun === true,
      ...(o.concurrency === undefined ? {} : { concurrency: o.concurrency }),
      ...(o.signal === undefined ? {} : { signal: o.signal }),
      ...(o.journalDir === undefined ? {} : { journalDir: o.journalDir }),
      ...(o.upload === undefined ? {} : { upload: o.upload }),
      ...(o.onEvent === undefined ? {} : { onEvent: o.onEvent }),
      contentHashes: new Map(
        staged.flatMap((s) =>
          s.planned?.contentHash === undefined ? [] : [[s.loaded.definition.id, s.planned.contentHash] as const],
        ),
      ),
      ...(o.packages === undefined ? {} : { packages: o.packages }),
      ...(o.packageStore === undefined ? {} : { packageStore: o.packageStore }),
    });
  try {
    const r = await run(staged.map((s) => s.loaded));
    return staged.map((s, k) => [s, r, r.outcomes[k]]);
  } catch (e) {
    if (staged.length === 1 || o.signal?.aborted === true) return staged.map((s) => [s, undefined, asError(e)]);
  }
  const out: [Staged, PublishResult | undefined, AppOutcome | Error | undefined][] = [];
  for (const s of staged) {
    try {
      const r = await run([s.loaded]);
      out.push([s, r, r.outcomes[0]]);
    } catch (e) {
      out.push([s, undefined, asError(e)]);
    }
  }
  return out;
}

const asError = (e: unknown): Error => (e instanceof Error ? e : new Error(String(e)));

function failure(e: unknown, step: string): Pick<ProductResult, "action" | "status" | "reason" | "error"> {
  const kind: ErrorKind = isPublisherError(e) ? e.kind : "internal";
  const errorCode: ErrorCode = isPublisherError(e) ? e.code : "Internal";
  const code = isPublisherError(e) ? (e.serviceCode ?? e.code) : "Internal";
  const message = e instanceof Error ? e.message : String(e);
  return {
    action: "failed",
    status: "failed",
    reason: `${step} failed: ${message.split("\n")[0]}`,
    error: { kind, code, errorCode, message, step },
  };
}

function productResult(
  s: Staged,
  r: PublishResult | undefined,
  outcome: AppOutcome | Error | undefined,
  dryRun: boolean,
  clock: () => number,
): ProductResult {
  const base = {
    id: s.sub.id,
    architecture: s.sub.architecture,
    scope: s.sub.scope,
    definitionId: s.loaded.definition.id,
    version: s.show.version!,
    fromCache: s.fromCache,
    ...(s.planned === undefined ? {} : { download: { bytes: s.planned.bytes ?? null } }),
    ...(s.newest === undefined || s.sub.pin === undefined ? {} : { newest: s.newest }),
  };
  const pinned =
    s.sub.pin === undefined
      ? ""
      : s.newest !== undefined && s.newest !== s.show.version
        ? ` Pinned at ${s.show.version} (newest ${s.newest}).`
        : "";
  if (outcome instanceof Error || r === undefined)
    return { ...base, ...failure(outcome ?? new Error("not published"), "publish"), durationMs: clock() - s.started };
  const item = r.plan.items.find((i) => i.id === s.loaded.definition.id);
  const action = (item?.action ?? "nothing") as ProductAction;
  const reasons = item?.reasons.join("; ") ?? "";
  const changes = item !== undefined && itemHasChanges(item);
  if (outcome?.status === "failed")
    return {
      ...base,
      action: "failed",
      status: "failed",
      reason: `${action} failed at ${outcome.error?.step ?? "publish"}: ${outcome.error?.message ?? "unknown error"}`,
      ...(outcome.error === undefined ? {} : { error: outcome.error }),
      ...(outcome.appId === undefined ? {} : { appId: outcome.appId }),
      durationMs: clock() - s.started,
    };
  const appId = outcome?.appId ?? item?.appId;
  const up = outcome?.upload;
  return {
    ...base,
    ...(item?.changes === undefined || item.changes.length === 0 ? {} : { changes: item.changes }),
    ...(up === undefined
      ? {}
      : { upload: { resumed: up.resumed, blocksSent: up.blocksSent, blockCount: up.blockCount } }),
    action: action === "nothing" && changes ? "update-metadata" : action,
    status: dryRun ? "planned" : "ok",
    reason:
      (action === "nothing" && !changes ? `Up to date: ${s.show.version} is published.` : reasons) +
      pinned +
      plannedNote(s, action, changes),
    ...(appId === undefined ? {} : { appId }),
    durationMs: clock() - s.started,
  };
}

/** Dry run, installer not downloaded: what the reason adds (the download a real run makes, or what is unknown). */
function plannedNote(s: Staged, action: string, changes: boolean): string {
  if (s.planned === undefined || (action === "nothing" && !changes)) return "";
  const size = s.planned.bytes === undefined ? "size unknown" : formatMb(s.planned.bytes);
  return s.planned.contentHash === undefined
    ? ` Will download the installer (${size}); not downloaded now, so its content was not compared.`
    : ` Will download the installer (${size}).`;
}

export const formatMb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/** Where stage() put the installer. */
function installerPath(o: SyncOptions, loaded: LoadedAppDefinition, show: ShowResult): string {
  return join(o.workDir, loaded.definition.id, show.content.folder, show.content.fileName);
}

/**
 * The content hash publish would compute for the staged folder (definitionContentHash), with the installer's size
 * and SHA-256 taken from the catalog instead of a file this dry run did not download.
 */
async function metadataContentHash(
  loaded: LoadedAppDefinition,
  installer: string,
  size: number,
  sha256: string,
): Promise<string | undefined> {
  const c = loaded.content;
  if (c.kind !== "folder") return undefined;
  const files = [];
  for (const e of await listSource(c.sourceDir)) {
    if (e.kind !== "file") continue;
    const path = e.zipName.replaceAll("\\", "/");
    files.push(
      resolve(e.absPath) === resolve(installer)
        ? { path, size, sha256: sha256.toLowerCase() }
        : {
            path,
            size: e.size,
            sha256: createHash("sha256")
              .update(await readFile(e.absPath))
              .digest("hex"),
          },
    );
  }
  return contentHash({ kind: "sourceTree", setupFile: c.setupFile.replaceAll("\\", "/"), files });
}

/**
 * Writes the product as a definition folder: `<workDir>/<definition id>/app.json` (JSON is YAML), the generated
 * scripts, and the verified installer in its content folder; then loads it as `publish` would.
 */
async function stage(
  o: SyncOptions,
  sub: Subscription,
  raw: RawSubscription,
  show: ShowResult,
  d: DownloadResult | undefined,
  unpacked: string | undefined,
  definitionId?: string,
): Promise<LoadedAppDefinition> {
  const subscribed = applySubscription(structuredClone(show.definition!), sub, raw, show);
  const def = o.adjust === undefined ? subscribed : o.adjust.definition(subscribed);
  // auto-publish's update-only app next to the application (mode both)
  if (definitionId !== undefined) {
    def.id = definitionId;
    def.displayName = `${def.displayName} (update only)`;
  }
  const dir = join(o.workDir, def.id);
  await rm(dir, { recursive: true, force: true });
  await mkdir(join(dir, show.content.folder), { recursive: true });
  // a zip with a nested installer: its files, unpacked and checked in the download cache (linked, as an installer is)
  if (unpacked !== undefined) await linkTree(unpacked, join(dir, show.content.folder));
  for (const f of show.files) await writeFile(join(dir, f.path), generatedFileBytes(f));
  if (sub.mode === "updateOnly" && show.updateOnly.script !== undefined)
    await writeFile(join(dir, show.updateOnly.script.path), generatedFileBytes(show.updateOnly.script));
  const extract = show.content.extract;
  const target = join(dir, show.content.folder, ...(extract?.setupFile.split("/") ?? [show.content.fileName]));
  // Not downloaded (dry run): an empty stand-in, so the folder loads; the plan uses the catalog's hash and size.
  if (d === undefined) {
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, "");
  } else if (unpacked === undefined) await link(d.path, target).catch(() => copyFile(d.path, target));
  // Paths the subscription names (targeting file, override scripts) are relative to the subscriptions file.
  const rebase = (p: string): string => relative(dir, isAbsolute(p) ? p : resolve(o.subscriptions.dir, p));
  if (def.targeting !== undefined) def.targeting = rebase(def.targeting);
  for (const r of [...def.detection, ...(def.requirements?.rules ?? [])])
    if (r.type === "script" && r.script !== undefined && show.files.every((f) => f.path !== r.script))
      if (!(sub.mode === "updateOnly" && r.script === show.updateOnly.script?.path)) r.script = rebase(r.script);
  const file = join(dir, "app.json");
  await writeFile(file, JSON.stringify(def, null, 2) + "\n");
  const loaded = await loadAppDefinition(file, { allowPaths: [o.subscriptions.dir] });
  const adjust = o.adjust;
  if (adjust === undefined) return loaded;
  return {
    ...loaded,
    assignments: loaded.assignments.map((x) => ({ ...x, assignment: adjust.assignment(x.assignment) })),
  };
}

/**
 * The files of `from` in `to` as hard links (a copy where links cannot be made): staging a product writes no
 * installer bytes, so a run with nothing new copies nothing. The unpacked folder holds files and folders only
 * (src/catalog/download/nested.ts checks it before use).
 */
async function linkTree(from: string, to: string): Promise<void> {
  await mkdir(to, { recursive: true });
  for (const e of await readdir(from, { withFileTypes: true })) {
    const [src, dest] = [join(from, e.name), join(to, e.name)];
    if (e.isDirectory()) await linkTree(src, dest);
    else if (e.isFile()) await link(src, dest).catch(() => copyFile(src, dest));
  }
}

/** The catalog's definition with the subscription's targeting, strategy, overrides and mode. */
export function applySubscription(
  def: AppDefinitionInput,
  sub: Subscription,
  raw: RawSubscription,
  show: Pick<ShowResult, "updateOnly">,
): AppDefinitionInput {
  // Values as written: the definition's own schema reads them again (defaults and transforms included).
  type Def = AppDefinitionInput;
  const w = raw as {
    assignments?: Def["assignments"];
    overrides?: { detection?: Def["detection"]; requirements?: { rules?: NonNullable<Def["requirements"]>["rules"] } };
  };
  if (sub.displayName !== undefined) def.displayName = sub.displayName;
  def.notes = `${def.notes ?? ""} Kept up to date by intune-publisher sync (${sub.mode}).`.trim();
  def.updateStrategy = sub.strategy === "supersede" ? "supersede" : "in-place";
  if (sub.strategy === "supersede")
    def.supersedence = {
      ...(sub.supersedence?.type === undefined ? {} : { type: sub.supersedence.type }),
      ...(sub.supersedence?.assignments === undefined ? {} : { assignments: sub.supersedence.assignments }),
      ...(sub.keep === undefined ? {} : { keepPreviousVersions: sub.keep }),
    };
  if (w.assignments !== undefined) def.assignments = w.assignments;
  if (sub.targeting !== undefined) def.targeting = sub.targeting;
  if (sub.scopeTags !== undefined) def.scopeTags = sub.scopeTags;
  if (sub.categories !== undefined) def.categories = sub.categories;
  if (sub.enrollmentStatusPages !== undefined) def.enrollmentStatusPages = sub.enrollmentStatusPages;
  const ov = sub.overrides;
  if (ov?.install !== undefined) def.install = { ...def.install, command: ov.install.command };
  if (ov?.uninstall !== undefined) def.uninstall = { command: ov.uninstall.command };
  if (w.overrides?.detection !== undefined) def.detection = w.overrides.detection;
  const req = { ...(def.requirements ?? {}) };
  if (ov?.requirements?.minimumWindowsRelease !== undefined)
    req.minimumWindowsRelease = ov.requirements.minimumWindowsRelease;
  if (ov?.requirements?.architectures !== undefined) req.architectures = ov.requirements.architectures;
  if (w.overrides?.requirements?.rules !== undefined) req.rules = w.overrides.requirements.rules;
  if (sub.mode === "updateOnly") req.rules = [...(req.rules ?? []), ...show.updateOnly.rules];
  def.requirements = req;
  return def;
}

/**
 * showProduct, remembered per source, product, version, architecture, scope (and the MSI's facts, once the
 * installer was read) in `<workDir>/../resolved/`: a
 * winget version's manifests do not change, so a run with nothing new reads only the source's index. A catalog
 * entry (its feed says the version) is read every run.
 */
async function resolveProduct(
  workDir: string,
  source: CatalogSource,
  sub: Subscription,
  version: string | undefined,
  msi?: MsiFacts,
): Promise<ShowResult> {
  const options = {
    architecture: sub.architecture,
    scope: sub.scope,
    ...(sub.pin === undefined ? {} : { version: sub.pin }),
    ...(msi === undefined ? {} : { ...(version === undefined ? {} : { version }), msi }),
  };
  if (source.kind !== "winget" || version === undefined) return showProduct(source, sub.id, options);
  const facts = msi === undefined ? [] : [msi.productCode, msi.productVersion, msi.upgradeCode ?? null];
  const key = createHash("sha256")
    .update(
      JSON.stringify([
        RESOLVED_FORMAT,
        source.label,
        sub.id.toLowerCase(),
        version,
        sub.architecture,
        sub.scope,
        ...facts,
      ]),
    )
    .digest("hex");
  const file = join(workDir, "..", "resolved", `${key}.json`);
  try {
    const cached = JSON.parse(
      await readBoundedText({ path: file, what: "resolved product", maxBytes: RESOLVED_MAX_BYTES }),
    ) as ShowResult;
    if (cached.id.toLowerCase() === sub.id.toLowerCase() && cached.version === version) return cached;
  } catch {
    // absent or unreadable: resolve again
  }
  const show = await showProduct(source, sub.id, { ...options, version });
  await mkdir(dirname(file), { recursive: true });
  // Unique per write: several tenants of one run, or auto-publish's mode both, may resolve a product at once.
  const tmp = `${file}.${process.pid}.${randomUUID()}.tmp`;
  await writeFile(tmp, JSON.stringify(show));
  await rename(tmp, file);
  return show;
}

/** Bumped when ShowResult changes shape: older remembered results are then not used. */
const RESOLVED_FORMAT = 1;
/** A remembered product (definition, generated scripts, explanations) is a few tens of KiB (limits.md). */
export const RESOLVED_MAX_BYTES = 1024 * 1024;

async function pool(count: number, limit: number, job: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) await job(next++);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, count)) }, worker));
}
