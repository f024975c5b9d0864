/**
 * App categories every tenant has: Intune's built-in ones with their fixed ids, and those the seed adds.
 */
import { stableGuid } from "../../directory.js";

export interface MobileAppCategory {
  id: string;
  displayName: string;
}

/**
 * Intune's built-in categories, with the fixed ids every tenant has (the same GUIDs in every tenant's
 * `GET /deviceAppManagement/mobileAppCategories`). Source: deploymenttheory/terraform-provider-microsoft365
 * `internal/services/common/constructors/graph_beta/device_and_app_management/mobile_application_categories.go`
 * (built-in name → id map), matching the ids in terraprovider/terraform-provider-microsoft365wp's examples
 * (Business, Productivity). A stock tenant has these nine and no "Education" or "Entertainment"; listed here by
 * name (the real service's order is not documented).
 */
export const BUILT_IN_CATEGORIES: readonly MobileAppCategory[] = [
  { id: "f1fc9fe2-728d-4867-9a72-a61e18f8c606", displayName: "Books & Reference" },
  { id: "2b73ae71-12c8-49be-b462-3dae769ccd9d", displayName: "Business" },
  { id: "f79135dc-8e41-48c1-9a59-ab9a7259c38e", displayName: "Collaboration & Social" },
  { id: "981deed8-6857-4e78-a50e-c3f61d312737", displayName: "Computer management" },
  { id: "046e0b16-76ce-4b49-bf1b-1cc5bd94fb47", displayName: "Data management" },
  { id: "79bc98d4-7ddf-4841-9bc1-5c84a26d7ee8", displayName: "Development & Design" },
  { id: "0720a99e-562b-4a77-83f0-9a7523fcf13e", displayName: "Other apps" },
  { id: "5dcd7a90-0306-4f09-a75d-6b97a243f04e", displayName: "Photos & Media" },
  { id: "ed899483-3019-425e-a470-28e901b9790e", displayName: "Productivity" },
];

export const BUILT_IN_CATEGORY_NAMES: readonly string[] = BUILT_IN_CATEGORIES.map((c) => c.displayName);

/** The fixed id of a built-in category (case-insensitive name), or undefined. */
export function builtInCategoryId(displayName: string): string | undefined {
  return BUILT_IN_CATEGORIES.find((c) => c.displayName.toLowerCase() === displayName.toLowerCase())?.id;
}

/** A stable GUID for a seeded category's name (name-based, UUID version 5 layout over SHA-1), the same on every start. */
export function categoryGuid(displayName: string): string {
  return stableGuid(`intune-publisher/mobileAppCategory/${displayName}`);
}

/** The built-in categories followed by the seed's (a seed entry without id gets `categoryGuid(displayName)`). */
export function tenantCategories(
  seeded: readonly { id?: string | undefined; displayName: string }[],
): MobileAppCategory[] {
  return [
    ...BUILT_IN_CATEGORIES.map((c) => ({ ...c })),
    ...seeded.map((c) => ({ id: (c.id ?? categoryGuid(c.displayName)).toLowerCase(), displayName: c.displayName })),
  ];
}
