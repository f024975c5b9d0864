/** What resource handlers share; built once by `startLocalTenant` (the composition root). */
import type { Clock } from "../../clock.js";
import type { Store } from "../../store.js";
import type { MobileAppCategory } from "./categories.js";
import type { GeneratedInventory } from "./inventory.js";

export interface ResourceContext {
  store: Store;
  clock: Clock;
  /** page size override for every collection (tests use small pages so paging happens); undefined = per resource */
  pageSize: number | undefined;
  /** the generated inventory of a tenant, when the seed asks for one */
  inventory(tenantId: string): GeneratedInventory | undefined;
  /** the mobileAppCategories every tenant has: the built-in ones and the seed's (categories.ts) */
  categories: readonly MobileAppCategory[];
}

export const nowIso = (clock: Clock): string => new Date(clock.now()).toISOString();

/** Collection names in the store. */
export const C = {
  groups: "groups",
  assignmentFilters: "assignmentFilters",
  roleScopeTags: "roleScopeTags",
  enrollmentConfigurations: "deviceEnrollmentConfigurations",
  managedDevices: "managedDevices",
  detectedApps: "detectedApps",
  mobileApps: "mobileApps",
} as const;
