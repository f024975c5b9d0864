/**
 * Old → new for each property a plan changes, as short text a person can read in a plan (table and JSON): long
 * texts are cut with their length, an icon is its type and size, scripts and other long values inside objects are
 * their length only. Pure.
 */

/** One changed property: what the tenant's app has, and what the definition wants. */
export interface PropertyChange {
  property: string;
  from: string;
  to: string;
}

/** Texts longer than this are cut. */
const MAX_TEXT = 60;
/** Objects and arrays longer than this (as JSON) are cut. */
const MAX_JSON = 160;

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}… (${text.length} characters)`;
}

function isEmpty(v: unknown): boolean {
  return v === null || v === undefined || v === "" || (Array.isArray(v) && v.length === 0);
}

/** Long strings inside an object or array, replaced by their length. */
function shorten(v: unknown): unknown {
  if (typeof v === "string") return v.length > MAX_TEXT ? `<${v.length} characters>` : v;
  if (Array.isArray(v)) return v.map(shorten);
  if (typeof v === "object" && v !== null)
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>)
        .filter(([k]) => k !== "@odata.type")
        .map(([k, x]) => [k, shorten(x)]),
    );
  return v;
}

/** A property's value as short text: "(none)" for an empty value. */
export function describeValue(property: string, v: unknown): string {
  if (isEmpty(v)) return "(none)";
  if (property === "largeIcon" && typeof v === "object" && v !== null) {
    const icon = v as { type?: unknown; value?: unknown };
    const bytes = typeof icon.value === "string" ? Math.floor((icon.value.replace(/=+$/, "").length * 3) / 4) : 0;
    return `${typeof icon.type === "string" ? icon.type : "image"}, ${bytes} bytes`;
  }
  if (typeof v === "string") return JSON.stringify(cut(v, MAX_TEXT));
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return cut(JSON.stringify(shorten(v)), MAX_JSON);
}

/** The changes of `changed` properties, from `actual` (the tenant's app) to `desired` (the PATCH body). */
export function propertyChanges(
  changed: readonly string[],
  desired: Readonly<Record<string, unknown>>,
  actual: Readonly<Record<string, unknown>>,
): PropertyChange[] {
  return changed.map((property) => {
    const from = actual[property];
    const to = desired[property];
    if (typeof from === "string" && typeof to === "string" && Math.max(from.length, to.length) > MAX_TEXT) {
      // Two long texts: shown from a little before where they first differ.
      let p = 0;
      while (p < from.length && p < to.length && from[p] === to[p]) p++;
      const start = Math.max(0, p - 20);
      return { property, from: textFrom(from, start), to: textFrom(to, start) };
    }
    return { property, from: describeValue(property, from), to: describeValue(property, to) };
  });
}

/** `text` from `start` (marked "…" when not 0), cut, with its full length. */
function textFrom(text: string, start: number): string {
  if (start === 0) return describeValue("", text);
  const part = text.slice(start, start + MAX_TEXT - 1);
  const more = start + part.length < text.length ? "…" : "";
  return `${JSON.stringify(`…${part}${more}`)} (${text.length} characters)`;
}

/** "owner: "A" → "B"" */
export function changeText(c: PropertyChange): string {
  return `${c.property}: ${c.from} → ${c.to}`;
}
