/**
 * Which properties of an app differ from what the definition wants: the pure half of "changed metadata only →
 * PATCH" (issue 5 "Idempotency"). `desired` is a body from to-graph.ts; `actual` is the app as Graph returned it.
 */
import type { Win32LobAppPatchWire } from "./to-graph.js";

/** Properties compared as sets (Graph may return them in another order). */
const COMMA_SETS = new Set(["applicableArchitectures", "allowedArchitectures"]);
const ARRAY_SETS = new Set(["roleScopeTagIds"]);

/**
 * Names of the properties of `desired` whose value differs in `actual`, in `desired`'s order. `@odata.type` is
 * not compared. Object key order never matters; null and absent are equal; `largeIcon` is compared only when
 * `actual` has it (Graph leaves it out of list responses: GET with `$select=largeIcon` to compare icons).
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
    } else if (!sameJson(want, have)) {
      out.push(key);
    }
  }
  return out;
}

function commaList(v: unknown): string[] {
  return typeof v === "string" ? v.split(",").map((s) => s.trim()) : [];
}

function sameSet(a: readonly unknown[], b: readonly unknown[]): boolean {
  const sa = new Set(a.map((x) => JSON.stringify(x)));
  const sb = new Set(b.map((x) => JSON.stringify(x)));
  return sa.size === sb.size && [...sa].every((x) => sb.has(x));
}

/** Deep equality of JSON values; key order ignored; null equals undefined. */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === null || a === undefined) return b === null || b === undefined;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => sameJson(x, b[i]));
  if (typeof a === "object") {
    if (typeof b !== "object" || b === null || Array.isArray(b)) return false;
    const ra = a as Record<string, unknown>;
    const rb = b as Record<string, unknown>;
    const keys = new Set([...Object.keys(ra), ...Object.keys(rb)]);
    return [...keys].every((k) => sameJson(ra[k], rb[k]));
  }
  return a === b;
}
