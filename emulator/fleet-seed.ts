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

/** `count` tenants (1-500) with the one app registration `FLEET_CLIENT_ID` consented in each, secret `secret`. */
export function fleetSeed(
  count: number,
  secret: string,
  extra: Omit<SeedInput, "tenants" | "appRegistrations"> = {},
): Seed {
  if (!Number.isInteger(count) || count < 1 || count > 500) throw new RangeError("count is 1 to 500 tenants.");
  const tenants = fleetTenants(count);
  return seedSchema.parse({
    ...extra,
    tenants: tenants.map((t) => ({
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
