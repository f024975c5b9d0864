/**
 * A seed serving many tenants (an MSP's customers, docs/tenants.md): `count` tenants, one multi-tenant app
 * registration consented in each (the same client id and secret, all six permissions), and groups that differ per
 * tenant: each has "<Name> - Workstations" and "<Name> - Pilot" (the names a tenants file maps the catalog's
 * logical groups to), plus an ESP profile "<Name> ESP".
 */
import { stableGuid } from "./directory.js";
import { PUBLISHER_PERMISSIONS, seedSchema } from "./seed.js";
import type { Seed, SeedInput } from "./seed.js";

export interface FleetTenant {
  /** tenant01 … */
  name: string;
  id: string;
  displayName: string;
  /** the tenant's own group names */
  groups: { workstations: string; pilot: string };
  esp: string;
}

export const FLEET_CLIENT_ID = "9c1e7a52-3b4d-4e6f-8a9b-0c1d2e3f4a01";

/** The tenants of fleetSeed(count), in order. */
export function fleetTenants(count: number): FleetTenant[] {
  return Array.from({ length: count }, (_, i) => {
    const n = String(i + 1).padStart(2, "0");
    const displayName = `Customer ${n}`;
    return {
      name: `tenant${n}`,
      id: stableGuid("fleet-tenant", n),
      displayName,
      groups: { workstations: `${displayName} - Workstations`, pilot: `${displayName} - Pilot` },
      esp: `${displayName} ESP`,
    };
  });
}

type Inventory = { managedDevices: unknown[]; detectedApps: unknown[] };

/**
 * The inventory given (managed devices and detected apps as lists) spread across the tenants: device k goes to
 * tenant k mod count, a detected app to every tenant holding one of its devices (with those devices only), an app
 * on no device to the first tenant. So the tenants' inventories differ.
 */
function spreadInventory(count: number, extra: Omit<SeedInput, "tenants" | "appRegistrations">): Inventory[] {
  const out: Inventory[] = Array.from({ length: count }, () => ({ managedDevices: [], detectedApps: [] }));
  const devices = (extra.managedDevices ?? []) as { id: string }[];
  const where = new Map<string, number>();
  devices.forEach((d, k) => {
    where.set(d.id.toLowerCase(), k % count);
    out[k % count]!.managedDevices.push(d);
  });
  const apps = Array.isArray(extra.detectedApps) ? (extra.detectedApps as { deviceIds?: string[] }[]) : [];
  for (const app of apps) {
    const ids = app.deviceIds ?? [];
    const tenantsOf = new Set(ids.map((id) => where.get(id.toLowerCase()) ?? 0));
    if (tenantsOf.size === 0) tenantsOf.add(0);
    for (const i of tenantsOf)
      out[i]!.detectedApps.push({ ...app, deviceIds: ids.filter((id) => (where.get(id.toLowerCase()) ?? 0) === i) });
  }
  return out;
}

/**
 * `count` tenants (1-500) with the one app registration `FLEET_CLIENT_ID` consented in each, secret `secret`. Managed
 * devices and detected apps given as lists in `extra` are spread across the tenants (`spreadInventory`); a generated
 * inventory (`detectedApps: {devices, appsPerDevice}`) stays the first tenant's.
 */
export function fleetSeed(
  count: number,
  secret: string,
  extra: Omit<SeedInput, "tenants" | "appRegistrations"> = {},
): Seed {
  if (!Number.isInteger(count) || count < 1 || count > 500) throw new RangeError("count is 1 to 500 tenants.");
  const tenants = fleetTenants(count);
  const generated = extra.detectedApps !== undefined && !Array.isArray(extra.detectedApps);
  const inventory = spreadInventory(count, extra);
  const { managedDevices: _d, detectedApps: _a, ...rest } = extra;
  return seedSchema.parse({
    ...rest,
    ...(generated ? { detectedApps: extra.detectedApps, managedDevices: extra.managedDevices } : {}),
    tenants: tenants.map((t, i) => ({
      ...(generated ? {} : inventory[i]),
      id: t.id,
      displayName: t.displayName,
      domains: [`${t.name}.onmicrosoft.com`],
      groups: [
        { id: stableGuid("fleet-group", t.id, "workstations"), displayName: t.groups.workstations },
        { id: stableGuid("fleet-group", t.id, "pilot"), displayName: t.groups.pilot },
      ],
      espProfiles: [{ id: stableGuid("fleet-esp", t.id), displayName: t.esp, priority: 1 }],
    })),
    appRegistrations: tenants.map((t) => ({
      clientId: FLEET_CLIENT_ID,
      displayName: "intune-publisher (multi-tenant)",
      tenantId: t.id,
      secrets: [{ value: secret }],
      roles: [...PUBLISHER_PERMISSIONS],
    })),
  });
}
