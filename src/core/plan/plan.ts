/**
 * The publish plan (idempotent: updates and resumes rather than duplicates): what the tenant must do so that it holds
 * each defined app exactly once. Pure: desired apps (definitions with their content hash) × the tenant's win32LobApps →
 * one plan item per definition, with reasons. Apps without a valid ownership stamp are never touched (only counted).
 *
 *   no stamped app with the definition's id                        → create
 *   same version and content hash, content committed, no change     → nothing
 *   same version and content hash, some properties differ           → update-metadata (PATCH only those)
 *   new version or content, or no committed content                 → new-version, strategy in-place or supersede
 *
 * Categories are links, not properties: the plan lists the links to add and remove (`categories`); an app whose
 * only difference is its categories gets update-metadata with no PATCH. They are compared only when the desired
 * categories are resolved and the tenant app's links were read (`TenantApp.categories`).
 *
 * When several apps carry the same id (a superseded app and its successor), the newest one with committed content
 * is the current app; the newest one without committed content (an earlier run stopped before the commit and could
 * not clean up) is finished in place instead of creating yet another app.
 */
import { changedProperties } from "../app-definition/diff.js";
import type { AppDefinition } from "../app-definition/schema.js";
import type { OwnershipStamp } from "../app-definition/stamp.js";
import { readStamp } from "../app-definition/stamp.js";
import type { DefinitionAssets } from "../app-definition/to-graph.js";
import { toWin32LobAppPatchBody } from "../app-definition/to-graph.js";
import type { MsiInformationWire } from "../wire/graph.js";
import { propertyChanges } from "./changes.js";
import type { PropertyChange } from "./changes.js";
import type { ItemTargeting } from "./targeting.js";

export type PlanAction = "create" | "update-metadata" | "new-version" | "nothing";

/** One definition as the planner needs it. */
export interface DesiredApp {
  definition: AppDefinition;
  assets: DefinitionAssets;
  /** `contentHash(...)` of the content the definition names */
  contentHash: string;
  /** resolved from `definition.scopeTags`; absent = leave the tenant's default */
  scopeTagIds?: readonly string[];
  /** resolved from `definition.categories` (the tenant's ids); absent = categories are not managed */
  categories?: readonly CategoryRef[];
}

/** A mobileAppCategory of the tenant. */
export interface CategoryRef {
  id: string;
  displayName: string;
}

/** The links a plan item adds to and removes from its app. */
export interface CategoryChanges {
  link: CategoryRef[];
  unlink: CategoryRef[];
}

/** The part of a win32LobApp (as Graph lists it) the planner reads; other properties are compared as given. */
export interface TenantApp extends Readonly<Record<string, unknown>> {
  id: string;
  displayName?: string;
  notes?: string | null;
  createdDateTime?: string;
  committedContentVersion?: string | null;
  msiInformation?: MsiInformationWire | null;
  /** the categories linked to the app, when they were read (`GET …/categories`); absent = unknown */
  categories?: readonly { id: string; displayName?: string }[];
}

export interface OwnedApp {
  app: TenantApp;
  stamp: OwnershipStamp;
}

export interface TenantState {
  /** win32LobApps with a valid stamp */
  owned: OwnedApp[];
  /** win32LobApps with a stamp line that does not validate: never trusted, never touched */
  invalid: { appId: string; displayName: string; reason: string }[];
  /** win32LobApps without a stamp (not ours) */
  foreign: number;
}

/** Sorts the tenant's win32LobApps by their ownership stamp. */
export function classifyTenantApps(apps: readonly TenantApp[]): TenantState {
  const state: TenantState = { owned: [], invalid: [], foreign: 0 };
  for (const app of apps) {
    const r = readStamp(app.notes);
    if (r.status === "valid") state.owned.push({ app, stamp: r.stamp });
    else if (r.status === "invalid")
      state.invalid.push({ appId: app.id, displayName: app.displayName ?? "", reason: r.reason });
    else state.foreign++;
  }
  return state;
}

/** What the current app's stamp records, and whether it has committed content. */
export type CurrentRecord = Pick<OwnershipStamp, "version" | "contentHash" | "targets" | "esp"> & {
  committed: boolean;
};

interface PlanItemBase {
  /** the definition id */
  id: string;
  displayName: string;
  version: string;
  /** update-metadata: the properties that differ (also computed, before packaging, for new-version) */
  changed: string[];
  /** old → new of each `changed` property, as short text (changes.ts) */
  changes?: PropertyChange[];
  /** category links to add and remove (absent = none); a new app (create, supersede) gets every desired one */
  categories?: CategoryChanges;
  /** other apps carrying this id (e.g. predecessors an earlier supersede kept); only retention deletes them */
  otherApps: string[];
  reasons: string[];
  /** assignments, relationships, ESP, retention (added by planTargeting) */
  targeting?: ItemTargeting;
}

/**
 * An item about an app the tenant has: `appId` is the app to PATCH (update-metadata), to give new content
 * (in-place), that is up to date (nothing), or that a supersede leaves in place (the new app gets a new id).
 */
interface ExistingAppItem extends PlanItemBase {
  appId: string;
  current: CurrentRecord;
}

/** No stamped app carries the definition's id: a new app. */
export interface CreateItem extends PlanItemBase {
  action: "create";
  appId?: undefined;
  current?: undefined;
  strategy?: undefined;
  supersedes?: undefined;
  patch?: undefined;
}

/** Same version and content: the properties that differ are PATCHed (`patch`, absent when only categories differ). */
export interface UpdateMetadataItem extends ExistingAppItem {
  action: "update-metadata";
  strategy?: undefined;
  supersedes?: undefined;
  /** only the changed properties (and `@odata.type`) */
  patch?: Readonly<Record<string, unknown>>;
}

/** New content on the same app. */
export interface InPlaceItem extends ExistingAppItem {
  action: "new-version";
  strategy: "in-place";
  supersedes?: undefined;
  patch?: undefined;
}

/** A new app that supersedes `supersedes` (kept; relationships and assignments are the targeting step's). */
export interface SupersedeItem extends ExistingAppItem {
  action: "new-version";
  strategy: "supersede";
  supersedes: string;
  patch?: undefined;
}

export interface NothingItem extends ExistingAppItem {
  action: "nothing";
  strategy?: undefined;
  supersedes?: undefined;
  patch?: undefined;
}

/** One plan item per definition, by action (and, for new-version, strategy). */
export type PlanItem = CreateItem | UpdateMetadataItem | InPlaceItem | SupersedeItem | NothingItem;

export interface Plan {
  items: PlanItem[];
  /** untouched apps: ours with an unreadable stamp, and how many are not ours */
  untouched: { invalidStamps: TenantState["invalid"]; foreign: number };
  warnings: string[];
}

/** The PATCH body for `changed` properties of `full`. */
export function partialPatch(
  full: Readonly<Record<string, unknown>>,
  changed: readonly string[],
): Record<string, unknown> {
  const body: Record<string, unknown> = { "@odata.type": full["@odata.type"] };
  for (const k of changed) body[k] = full[k];
  return body;
}

/** Sort order: newest created first (ids break ties, so the order is stable). */
export function newestFirst(a: OwnedApp, b: OwnedApp): number {
  const ta = Date.parse(a.app.createdDateTime ?? "") || 0;
  const tb = Date.parse(b.app.createdDateTime ?? "") || 0;
  return tb - ta || (a.app.id < b.app.id ? -1 : a.app.id > b.app.id ? 1 : 0);
}

/** The app has committed content. */
export const committed = (o: OwnedApp): boolean =>
  typeof o.app.committedContentVersion === "string" && o.app.committedContentVersion !== "";

/**
 * The app a definition is published to: the newest with committed content, else the newest. Apps `rollback` moved
 * away from (stamp `rolledBack`) are skipped while another version is left.
 */
export function currentApp(candidates: readonly OwnedApp[]): OwnedApp | undefined {
  const live = candidates.filter((o) => !o.stamp.rolledBack);
  const sorted = [...(live.length > 0 ? live : candidates)].sort(newestFirst);
  // An uncommitted app newer than the committed one is a half-finished publish: finish it.
  return sorted[0] !== undefined && !committed(sorted[0]) ? sorted[0] : (sorted.find(committed) ?? sorted[0]);
}

/** A definition's current app and its other versions, newest first. */
export function versionsOf(tenant: TenantState, id: string): { current?: OwnedApp; others: OwnedApp[] } {
  const mine = tenant.owned.filter((o) => o.stamp.id === id);
  const current = currentApp(mine);
  const others = mine.filter((o) => o !== current).sort(newestFirst);
  return { ...(current === undefined ? {} : { current }), others };
}

export function planPublish(desired: readonly DesiredApp[], tenant: TenantState): Plan {
  const items = desired.map((d) => planOne(d, tenant));
  const warnings = tenant.invalid.map(
    (i) =>
      `App ${i.appId} (${i.displayName}) has an intune-publisher stamp that cannot be read (${i.reason}); it is left alone.`,
  );
  return { items, untouched: { invalidStamps: tenant.invalid, foreign: tenant.foreign }, warnings };
}

/** The links that turn `current` into `desired` (ids compared case-insensitively); undefined when equal. */
export function categoryChanges(
  desired: readonly CategoryRef[],
  current: readonly { id: string; displayName?: string }[],
): CategoryChanges | undefined {
  const key = (id: string): string => id.toLowerCase();
  const want = new Set(desired.map((c) => key(c.id)));
  const have = new Set(current.map((c) => key(c.id)));
  const link = desired.filter((c) => !have.has(key(c.id)));
  const unlink = current
    .filter((c) => !want.has(key(c.id)))
    .map((c) => ({ id: c.id, displayName: c.displayName ?? c.id }));
  return link.length === 0 && unlink.length === 0 ? undefined : { link, unlink };
}

function categoryReason(c: CategoryChanges): string {
  const parts = [...c.link.map((x) => `+${x.displayName}`), ...c.unlink.map((x) => `-${x.displayName}`)];
  return `categories: ${parts.join(", ")}`;
}

/** For a new app: link every desired category. */
function newAppCategories(d: DesiredApp): { categories?: CategoryChanges } {
  const c = d.categories === undefined ? undefined : categoryChanges(d.categories, []);
  return c === undefined ? {} : { categories: c };
}

function planOne(d: DesiredApp, tenant: TenantState): PlanItem {
  const def = d.definition;
  const base = { id: def.id, displayName: def.displayName, version: def.version };
  const mine = tenant.owned.filter((o) => o.stamp.id === def.id);
  const current = currentApp(mine);
  if (current === undefined) {
    const cats = newAppCategories(d);
    return {
      ...base,
      action: "create",
      changed: [],
      otherApps: [],
      ...cats,
      reasons: [
        `no app in the tenant carries the stamp of "${def.id}"`,
        ...(cats.categories ? [categoryReason(cats.categories)] : []),
      ],
    };
  }
  const app = current.app;
  const otherApps = mine.filter((o) => o !== current).map((o) => o.app.id);
  const isCommitted = committed(current);
  const shared = {
    ...base,
    appId: app.id,
    current: {
      version: current.stamp.version,
      contentHash: current.stamp.contentHash,
      committed: isCommitted,
      ...(current.stamp.targets === undefined ? {} : { targets: current.stamp.targets }),
      ...(current.stamp.esp === undefined ? {} : { esp: current.stamp.esp }),
    },
    otherApps,
  };
  const sameVersion = current.stamp.version === def.version;
  const sameContent = current.stamp.contentHash === d.contentHash;

  // What a PATCH would change, with the stamp the app will carry when this plan is done.
  // The targets and profiles recorded stay as they are here; the targeting step rewrites them after it acts.
  const stamp: OwnershipStamp = {
    id: def.id,
    version: def.version,
    contentHash: d.contentHash,
    ...(current.stamp.targets === undefined ? {} : { targets: current.stamp.targets }),
    ...(current.stamp.esp === undefined ? {} : { esp: current.stamp.esp }),
  };
  const body = toWin32LobAppPatchBody(def, d.assets, {
    stamp,
    ...(d.scopeTagIds === undefined ? {} : { scopeTagIds: d.scopeTagIds }),
    msiInformation: app.msiInformation ?? null,
  });
  const changed = changedProperties(body, app);
  const changes = propertyChanges(changed, body, app);
  const cats =
    d.categories === undefined || app.categories === undefined
      ? undefined
      : categoryChanges(d.categories, app.categories);
  const catItem = cats === undefined ? {} : { categories: cats };
  const catReasons = cats === undefined ? [] : [categoryReason(cats)];

  const inPlace = (reasons: string[]): PlanItem => ({
    ...shared,
    action: "new-version",
    strategy: "in-place",
    changed,
    changes,
    ...catItem,
    reasons: [...reasons, ...catReasons],
  });

  if (!isCommitted)
    return inPlace([
      "the app has no committed content (an earlier publish stopped before the commit): finish it in place",
      ...(sameVersion ? [] : [`version ${current.stamp.version} → ${def.version}`]),
    ]);
  if (sameVersion && sameContent) {
    if (changed.length === 0 && cats === undefined) {
      return { ...shared, action: "nothing", changed, reasons: [`version ${def.version} and content are current`] };
    }
    return {
      ...shared,
      action: "update-metadata",
      changed,
      changes,
      ...(changed.length === 0 ? {} : { patch: partialPatch(body, changed) }),
      ...catItem,
      reasons: [...(changed.length === 0 ? [] : [`changed: ${changed.join(", ")}`]), ...catReasons],
    };
  }
  const held = mine.find(
    (o) => o.stamp.rolledBack && o.stamp.version === def.version && o.stamp.contentHash === d.contentHash,
  );
  if (held !== undefined) {
    return {
      ...shared,
      action: "nothing",
      changed: [],
      reasons: [
        `version ${def.version} was rolled back (app ${held.app.id}); ${current.stamp.version} stays current; publish a new version to move forward`,
      ],
    };
  }
  const reasons: string[] = [];
  if (!sameVersion) reasons.push(`version ${current.stamp.version} → ${def.version}`);
  if (!sameContent) reasons.push("the content changed");
  if (sameVersion && !sameContent) reasons.push(`the version was not changed (${def.version}); consider raising it`);
  if (def.updateStrategy === "supersede") {
    const fresh = newAppCategories(d);
    return {
      ...shared,
      action: "new-version",
      strategy: "supersede",
      supersedes: app.id,
      changed,
      changes,
      ...fresh,
      reasons: [
        ...reasons,
        `updateStrategy supersede: a new app; ${app.id} is kept`,
        ...(fresh.categories ? [categoryReason(fresh.categories)] : []),
      ],
    };
  }
  return inPlace([...reasons, "updateStrategy in-place: a new content version on the same app"]);
}
