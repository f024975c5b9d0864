/**
 * The names definitions use → the tenant's ids, pure: groups, assignment filters, Enrollment Status Page profiles,
 * dependencies, scope tags and categories. The use case reads (src/publish/targeting.ts asks `groupRefs` and
 * friends what to read); this module decides. Every name that does not resolve is a positioned problem, and all
 * of them are reported together (AppDefinitionError) before any write.
 */
import type { DefinitionProblem, FieldPath } from "../app-definition/errors.js";
import { AppDefinitionError } from "../app-definition/errors.js";
import type { AppDefinition } from "../app-definition/schema.js";
import type { AssignmentDefinition } from "../app-definition/targeting-schema.js";
import { isGuid } from "../app-definition/targeting-schema.js";
import type { ResolvedAssignment, TargetNames } from "../targeting/assignments.js";
import { targetKey, toAssignmentWire } from "../targeting/assignments.js";
import type {
  AssignmentFilterWire,
  EspProfileWire,
  GroupWire,
  MobileAppAssignmentWire,
  MobileAppCategoryWire,
  RoleScopeTagWire,
} from "../wire/graph.js";
import type { CategoryRef, TenantState } from "./plan.js";
import type { DesiredTargeting, ResolvedDependency } from "./targeting.js";
import { nameWords, suggestNames } from "./suggest.js";

/** A definition as resolution needs it (a loaded definition file is one): problems come positioned. */
export interface DefinitionSource {
  definition: AppDefinition;
  /** the targeting file's assignments first, then the definition's own, each positioned in its own file */
  assignments: readonly {
    assignment: AssignmentDefinition;
    problem(field: FieldPath, message: string): DefinitionProblem;
  }[];
  problem(path: FieldPath, message: string): DefinitionProblem;
}

// ---------------------------------------------------------------------------------------------------------------
// Matching by name

/**
 * The items named `name`: display names compared case-insensitively, as Graph and the portal do; of several, the
 * one spelled exactly so wins.
 */
export function matchByName<T extends { displayName: string }>(items: readonly T[], name: string): T[] {
  const key = name.toLowerCase();
  const hits = items.filter((x) => x.displayName.toLowerCase() === key);
  const exact = hits.filter((x) => x.displayName === name);
  return exact.length === 1 ? exact : hits;
}

/** `"a", "b"` (quoted) or `a, b`; `none` for no item. */
const listNames = (items: readonly { displayName: string }[], quoted = true): string =>
  items.map((x) => (quoted ? `"${x.displayName}"` : x.displayName)).join(", ") || "none";

/**
 * What a missing name's problem offers: the names with whole words like it (`suggestNames`) as ` (similar names: …)`,
 * else every name the tenant has, as ` (it has: …)`.
 */
function alternatives(asked: string, items: readonly { displayName: string }[], quoted = true): string {
  const like = suggestNames(
    asked,
    items.map((x) => x.displayName),
  );
  if (like.length > 0) return ` (similar names: ${like.map((n) => `"${n}"`).join(", ")})`;
  return ` (it has: ${listNames(items, quoted)})`;
}

/** The problems once each: a shared targeting file's problem comes once, however many definitions use the file. */
export function uniqueProblems(problems: readonly DefinitionProblem[]): DefinitionProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.file ?? ""}:${p.line ?? ""}:${p.column ?? ""}:${p.path.join(".")}:${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function throwProblems(problems: readonly DefinitionProblem[]): void {
  if (problems.length > 0) throw new AppDefinitionError(uniqueProblems(problems));
}

// ---------------------------------------------------------------------------------------------------------------
// Scope tags and categories

/**
 * Each definition's names in `field` → the tenant's items of those names, each once, by definition id; a
 * definition without the field gets no entry. `noun`: what the items are, singular and plural, for problems.
 */
function resolveNamesOf<T extends { id: string; displayName: string }>(
  definitions: readonly DefinitionSource[],
  field: "scopeTags" | "categories",
  items: readonly T[],
  noun: [string, string],
): Map<string, T[]> {
  const out = new Map<string, T[]>();
  const problems: DefinitionProblem[] = [];
  for (const d of definitions) {
    const names = d.definition[field];
    if (names === undefined) continue;
    const found: T[] = [];
    names.forEach((n, i) => {
      const hits = matchByName(items, n);
      if (hits.length === 1) {
        if (!found.some((x) => x.id === hits[0]!.id)) found.push(hits[0]!);
      } else
        problems.push(
          d.problem(
            [field, i],
            hits.length === 0
              ? `The tenant has no ${noun[0]} named "${n}"${alternatives(n, items, false)}.`
              : `${hits.length} ${noun[1]} are named "${n}" (${hits.map((x) => x.id).join(", ")}); rename one in Intune.`,
          ),
        );
    });
    out.set(d.definition.id, found);
  }
  throwProblems(problems);
  return out;
}

/** Scope tag names → ids per definition id (definitions without `scopeTags` get no entry). */
export function resolveScopeTags(
  definitions: readonly DefinitionSource[],
  tags: readonly RoleScopeTagWire[],
): Map<string, string[]> {
  const found = resolveNamesOf(definitions, "scopeTags", tags, ["scope tag", "scope tags"]);
  return new Map([...found].map(([id, list]) => [id, list.map((t) => t.id)]));
}

/**
 * Category names → the tenant's categories per definition id, duplicates dropped. Every definition gets an entry
 * (`[]` = no categories: links the app has are removed).
 */
export function resolveCategories(
  definitions: readonly DefinitionSource[],
  known: readonly MobileAppCategoryWire[],
): Map<string, CategoryRef[]> {
  const found = resolveNamesOf(definitions, "categories", known, ["app category", "app categories"]);
  return new Map([...found].map(([id, list]) => [id, list.map((c) => ({ id: c.id, displayName: c.displayName }))]));
}

// ---------------------------------------------------------------------------------------------------------------
// What to read for targeting

/** Every group the definitions' assignments name (as written). */
export function groupRefs(definitions: readonly DefinitionSource[]): string[] {
  return definitions.flatMap((d) =>
    d.assignments.flatMap((a) => (a.assignment.group === undefined ? [] : [a.assignment.group])),
  );
}

export const needsFilters = (definitions: readonly DefinitionSource[]): boolean =>
  definitions.some((d) => d.assignments.some((a) => a.assignment.filter !== undefined));

/**
 * Whether ESP profiles must be read: `required` when a definition names profiles, `optional` when only a supersede
 * may swap a version in them (without the permission, ESP is left alone), else `none`.
 */
export function espNeed(definitions: readonly DefinitionSource[]): "required" | "optional" | "none" {
  if (definitions.some((d) => d.definition.enrollmentStatusPages !== undefined)) return "required";
  return definitions.some((d) => d.definition.updateStrategy === "supersede") ? "optional" : "none";
}

/**
 * The words Graph is searched for when no group has the name (`$search`, a word-prefix match): the first three
 * letters of each word, so that words a typo away are found too (`suggestNames` ranks them); at most five.
 */
export const similarNameWords = (name: string): string[] =>
  [...new Set(nameWords(name).map((w) => w.slice(0, 3)))].slice(0, 5);

// ---------------------------------------------------------------------------------------------------------------
// Groups

/** What Graph answered about one group reference. */
export interface GroupLookup {
  /** the reference as a definition wrote it (the first spelling, of several differing in case) */
  ref: string;
  /** an object id reference: the group, or null when no group has that id (404) */
  byId?: GroupWire | null;
  /** the groups Graph lists under the name (`displayName eq`, case-insensitive) */
  named?: readonly GroupWire[];
  /** groups with words like its words (`similarNameWords`), read when none has the name */
  similar?: readonly GroupWire[];
}

/** A group reference → the group, or the problem (missing or ambiguous, with candidates). */
export function resolveGroup(l: GroupLookup): GroupWire | string {
  const ref = l.ref;
  if (l.byId) return { id: l.byId.id, displayName: l.byId.displayName };
  const hits = matchByName(l.named ?? [], ref);
  if (hits.length === 1) return { id: hits[0]!.id, displayName: hits[0]!.displayName };
  if (l.byId === null || isGuid(ref)) return `No group has the id ${ref} (and none is named so).`;
  if (hits.length > 1)
    return `${hits.length} groups are named "${ref}": ${hits.map((g) => `${g.displayName} (${g.id})`).join(", ")}. Use the group's object id instead.`;
  const list = suggestNames(
    ref,
    (l.similar ?? []).map((g) => g.displayName),
    10,
  )
    .map((n) => `"${n}"`)
    .join(", ");
  return `No group is named "${ref}"${list ? `; groups with similar names: ${list}` : ""}.`;
}

// ---------------------------------------------------------------------------------------------------------------
// Targeting

/** What the use case read for targeting. */
export interface TargetingReads {
  /** by group reference, lower-case */
  groups: ReadonlyMap<string, GroupLookup>;
  filters: readonly AssignmentFilterWire[];
  /** the ESP profiles; undefined when not read */
  espProfiles?: readonly EspProfileWire[];
}

export interface TargetingInput extends TargetingReads {
  definitions: readonly DefinitionSource[];
  tenant: TenantState;
  /** every win32LobApp of the tenant (dependencies by app id or name) */
  win32Apps: readonly { id: string; displayName: string; displayVersion?: string }[];
}

export interface ResolvedTargeting {
  desired: DesiredTargeting[];
  names: TargetNames;
}

const WINDOWS_PLATFORM = "windows10AndLater";
const platformOf = (f: AssignmentFilterWire): string => f.platform ?? WINDOWS_PLATFORM;

/** Every definition's targeting with the tenant's ids; throws AppDefinitionError listing every problem. */
export function resolveTargeting(i: TargetingInput): ResolvedTargeting {
  const problems: DefinitionProblem[] = [];
  const groups = new Map([...i.groups].map(([key, l]) => [key, resolveGroup(l)]));
  const names: TargetNames = {
    groups: new Map(
      [...groups.values()].flatMap((g) => (typeof g === "string" ? [] : [[g.id.toLowerCase(), g.displayName]])),
    ),
    filters: new Map(i.filters.map((f) => [f.id.toLowerCase(), f.displayName])),
    apps: new Map(i.win32Apps.map((a) => [a.id.toLowerCase(), a.displayName])),
  };
  const desired = i.definitions.map((d): DesiredTargeting => {
    // In this order, so the problems come in the order of the definition's fields.
    const assignments = resolveAssignments(d, groups, i.filters, problems);
    const espProfileIds = resolveEsp(d, i.espProfiles ?? [], problems);
    const dependencies = resolveDependencies(d, i, problems);
    return {
      definitionId: d.definition.id,
      definition: d.definition,
      assignments,
      ...(espProfileIds === undefined ? {} : { espProfileIds }),
      ...(dependencies === undefined ? {} : { dependencies }),
    };
  });
  throwProblems(problems);
  return { desired, names };
}

function resolveAssignments(
  d: DefinitionSource,
  groups: ReadonlyMap<string, GroupWire | string>,
  filters: readonly AssignmentFilterWire[],
  problems: DefinitionProblem[],
): MobileAppAssignmentWire[] {
  const out: MobileAppAssignmentWire[] = [];
  // One group written twice (by name and by id, or two names Graph matches alike): one target for Intune.
  const seenTargets = new Map<string, { n: number; ref: string }>();
  for (const [n, la] of d.assignments.entries()) {
    const a = la.assignment;
    const r: ResolvedAssignment = { definition: a };
    if (a.group !== undefined) {
      const g = groups.get(a.group.toLowerCase());
      if (typeof g === "string" || g === undefined) {
        problems.push(la.problem(["group"], g ?? `The group "${a.group}" was not found.`));
        continue;
      }
      r.group = g;
      const key = targetKey(toAssignmentWire(r).target);
      const first = seenTargets.get(key);
      if (first !== undefined) {
        problems.push(
          la.problem(
            ["group"],
            `"${a.group}" is the group ${g.displayName} (${g.id}), already assigned by assignment ${first.n + 1} ("${first.ref}"); Intune takes one assignment per target and app.`,
          ),
        );
        continue;
      }
      seenTargets.set(key, { n, ref: a.group });
    }
    if (a.filter !== undefined) {
      const f = resolveFilter(a.filter, filters);
      if (typeof f === "string") {
        problems.push(la.problem(["filter"], f));
        continue;
      }
      r.filter = { id: f.id, displayName: f.displayName };
    }
    out.push(toAssignmentWire(r));
  }
  return out;
}

/** The Windows filters like `name`, else all of them (a Win32 app takes no other). */
function windowsFilters(name: string, filters: readonly AssignmentFilterWire[]): string {
  const windows = filters.filter((f) => platformOf(f) === WINDOWS_PLATFORM);
  const like = alternatives(name, windows);
  return like.startsWith(" (it has: ") ? ` (Windows filters: ${listNames(windows)})` : like;
}

/** A filter name → the Windows filter, or the problem. */
function resolveFilter(name: string, filters: readonly AssignmentFilterWire[]): AssignmentFilterWire | string {
  const hits = matchByName(filters, name);
  if (hits.length === 0) return `The tenant has no assignment filter named "${name}"${windowsFilters(name, filters)}.`;
  if (hits.length > 1)
    return `${hits.length} assignment filters are named "${name}" (${hits.map((f) => f.id).join(", ")}); rename one in Intune.`;
  const f = hits[0]!;
  if (platformOf(f) !== WINDOWS_PLATFORM)
    return `The assignment filter "${f.displayName}" is for ${f.platform}; a Win32 app takes a Windows 10 and later filter.`;
  return f;
}

/** The ESP profile ids a definition names; undefined when it does not manage ESP membership. */
function resolveEsp(
  d: DefinitionSource,
  profiles: readonly EspProfileWire[],
  problems: DefinitionProblem[],
): Set<string> | undefined {
  const wanted = d.definition.enrollmentStatusPages;
  if (wanted === undefined) return undefined;
  const ids = new Set<string>();
  wanted.forEach((n, i) => {
    const hits = matchByName(profiles, n);
    if (hits.length === 1) ids.add(hits[0]!.id);
    else
      problems.push(
        d.problem(
          ["enrollmentStatusPages", i],
          hits.length === 0
            ? `The tenant has no Enrollment Status Page profile named "${n}"${alternatives(n, profiles)}.`
            : `${hits.length} Enrollment Status Page profiles are named "${n}" (${hits.map((p) => p.id).join(", ")}); rename one in Intune.`,
        ),
      );
  });
  return ids;
}

/**
 * A definition's dependencies: a definition id (of this run or one of ours in the tenant), the display name our
 * versions of one definition share (or a definition of this run has: its app is not made yet), which then follows
 * that definition's newest version, or an app id or name, which pins that app. Undefined when not managed.
 */
function resolveDependencies(
  d: DefinitionSource,
  i: TargetingInput,
  problems: DefinitionProblem[],
): ResolvedDependency[] | undefined {
  const declared = d.definition.dependencies;
  if (declared === undefined) return undefined;
  const runIds = new Set(i.definitions.map((x) => x.definition.id));
  const ownerOf = new Map(i.tenant.owned.map((o) => [o.app.id.toLowerCase(), o.stamp.id]));
  const out: ResolvedDependency[] = [];
  declared.forEach((dep, n) => {
    const ref = dep.app;
    const lower = ref.toLowerCase();
    if (runIds.has(ref) || i.tenant.owned.some((o) => o.stamp.id === ref)) {
      out.push({ ref, type: dep.type, definitionId: ref });
      return;
    }
    const byId = i.win32Apps.filter((a) => a.id.toLowerCase() === lower);
    const named = i.win32Apps.filter((a) => a.displayName.toLowerCase() === lower);
    const definitions = new Set([
      ...named.map((a) => ownerOf.get(a.id.toLowerCase()) ?? ""),
      ...i.definitions.filter((x) => x.definition.displayName.toLowerCase() === lower).map((x) => x.definition.id),
    ]);
    if (byId.length === 0 && definitions.size === 1 && !definitions.has("")) {
      out.push({ ref, type: dep.type, definitionId: [...definitions][0]! });
      return;
    }
    const hits = byId.length > 0 ? byId : named;
    if (hits.length === 1) {
      out.push({ ref, type: dep.type, appId: hits[0]!.id, displayName: hits[0]!.displayName });
      return;
    }
    // One entry per name (versions of one app share it), at most ten.
    const similar = suggestNames(
      ref,
      i.win32Apps.map((a) => a.displayName),
      10,
    );
    problems.push(
      d.problem(
        ["dependencies", n, "app"],
        hits.length > 1
          ? `${hits.length} Win32 apps are named "${ref}": ${hits.map((a) => `${a.displayName} ${a.displayVersion ?? ""} (${a.id})`).join(", ")}. Use the app's id or a definition id.`
          : `No definition id or Win32 app is named "${ref}"${similar.length ? `; similar apps: ${similar.map((x) => `"${x}"`).join(", ")}` : ""}.`,
      ),
    );
  });
  return out;
}
