/**
 * Which properties of an app differ from what the definition wants: the pure half of "changed metadata only →
 * PATCH" (idempotent publishing). `desired` is a body from to-graph.ts; `actual` is the app as Graph returned it.
 */
import type { Win32LobAppPatchWire } from "./to-graph.js";

/** Properties compared as sets (Graph may return them in another order). */
const COMMA_SETS = new Set(["applicableArchitectures", "allowedArchitectures"]);
const ARRAY_SETS = new Set(["roleScopeTagIds"]);

/**
 * Names of the properties of `desired` whose value differs in `actual`, in `desired`'s order. Only what the
 * definition sets is compared: Graph returns every property of the type with its default and adds `@odata.type` and
 * default members to nested objects (`installExperience.inUseBehavior`, `msiInformation.…`), none of which is a
 * difference. So `@odata.type` and properties `desired` leaves out are not compared, at any depth; arrays are
 * compared item by item (same length); object key order never matters; known defaults are equal (null, absent, ""
 * and [] alike; see DEFAULT_EQUIVALENTS); `largeIcon` is compared only when `actual` has it (Graph leaves it out of
 * list responses: GET the app to compare icons).
 */
export function changedProperties(desired: Win32LobAppPatchWire, actual: Readonly<Record<string, unknown>>): string[] {
  const out: string[] = [];
  for (const [key, want] of Object.entries(desired)) {
    if (key === "@odata.type" || want === undefined) continue;
    if (key === "largeIcon" && !(key in actual)) continue;
    const have = actual[key];
    if (COMMA_SETS.has(key)) {
      if (!sameSet(commaList(want), commaList(have))) out.push(key);
    } else if (ARRAY_SETS.has(key)) {
      if (!sameSet(Array.isArray(want) ? want : [], Array.isArray(have) ? have : [])) out.push(key);
    } else if (!sameJson(want, have, key)) {
      out.push(key);
    }
  }
  return out;
}

/** A windowsArchitecture flags list; `none` (the flags' zero, Graph's default) adds nothing. */
function commaList(v: unknown): string[] {
  return typeof v === "string"
    ? v
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== "" && s !== "none")
    : [];
}

function sameSet(a: readonly unknown[], b: readonly unknown[]): boolean {
  const sa = new Set(a.map((x) => JSON.stringify(x)));
  const sb = new Set(b.map((x) => JSON.stringify(x)));
  return sa.size === sb.size && [...sa].every((x) => sb.has(x));
}

/**
 * Values Graph treats as one: a nullable enum's null is its "not set" member. Keyed by property name (any depth).
 * `installExperience.inUseBehavior`: "Null indicates the feature is not enabled" (beta metadata).
 */
const DEFAULT_EQUIVALENTS: Readonly<Record<string, readonly unknown[]>> = {
  inUseBehavior: ["notEnabled"],
};

function isEmpty(v: unknown): boolean {
  return v === null || v === undefined || v === "" || (Array.isArray(v) && v.length === 0);
}

/**
 * `want` (what the definition sets) is satisfied by `have` (what Graph returned): objects compared on `want`'s keys
 * only (an `@odata.type` Graph leaves out is not a difference), arrays item by item, empty values alike.
 */
function sameJson(want: unknown, have: unknown, key = ""): boolean {
  const equivalents = DEFAULT_EQUIVALENTS[key];
  if (equivalents !== undefined && (isEmpty(want) || equivalents.includes(want)))
    return isEmpty(have) || equivalents.includes(have);
  if (isEmpty(want)) return isEmpty(have);
  if (Array.isArray(want))
    return Array.isArray(have) && want.length === have.length && want.every((x, i) => sameJson(x, have[i]));
  if (typeof want === "object" && want !== null) {
    if (typeof have !== "object" || have === null || Array.isArray(have)) return false;
    const w = want as Record<string, unknown>;
    const h = have as Record<string, unknown>;
    return Object.keys(w).every((k) => (k === "@odata.type" && h[k] === undefined) || sameJson(w[k], h[k], k));
  }
  return want === have;
}
