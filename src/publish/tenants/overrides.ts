/**
 * A tenant's overrides of the subscriptions (docs/tenants.md): products excluded or pinned, the catalog's logical
 * group names mapped to the tenant's, ESP profile names mapped, scope tags replaced.
 */
import type { TenantEntry } from "../../core/config/tenants.js";
import type { LoadedSubscriptions } from "../sync/subscriptions.js";
import type { DefinitionAdjust } from "../sync/sync.js";

/** Case-insensitive name → name lookup; a name the map does not list stays as it is. */
function mapper(map: Readonly<Record<string, string>> | undefined): (name: string) => string {
  if (map === undefined) return (n) => n;
  const m = new Map(Object.entries(map).map(([k, v]) => [k.trim().toLowerCase(), v]));
  return (n) => m.get(n.trim().toLowerCase()) ?? n;
}

/** The subscriptions this tenant gets: its excluded products left out, its pins applied. */
export function tenantSubscriptions(subs: LoadedSubscriptions, t: TenantEntry): LoadedSubscriptions {
  const excluded = new Set((t.exclude ?? []).map((x) => x.toLowerCase()));
  const pins = new Map(Object.entries(t.pin ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  const keep = subs.value.products.map((p) => !excluded.has(p.id.toLowerCase()));
  const products = subs.value.products
    .filter((_, i) => keep[i])
    .map((p) => {
      const pin = pins.get(p.id.toLowerCase());
      return pin === undefined ? p : { ...p, pin };
    });
  return { ...subs, value: { ...subs.value, products }, raw: subs.raw.filter((_, i) => keep[i]) };
}

/** This tenant's scope tags and ESP profile names in a definition (changed in place). */
export function tenantNames<
  D extends { scopeTags?: string[] | undefined; enrollmentStatusPages?: string[] | undefined },
>(def: D, t: TenantEntry): D {
  const esp = mapper(t.enrollmentStatusPages);
  if (t.scopeTags !== undefined) def.scopeTags = [...t.scopeTags];
  if (def.enrollmentStatusPages !== undefined) def.enrollmentStatusPages = def.enrollmentStatusPages.map(esp);
  return def;
}

/** The changes this tenant makes to each product's definition and assignments. */
export function tenantAdjust(t: TenantEntry): DefinitionAdjust {
  const group = mapper(t.groups);
  return {
    definition: (def) => tenantNames(def, t),
    // Groups are mapped once the definition is loaded, so a shared targeting file's assignments are mapped too.
    assignment: (a) => (a.group === undefined ? a : { ...a, group: group(a.group) }),
  };
}
