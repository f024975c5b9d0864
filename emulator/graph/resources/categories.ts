/**
 * App categories: `deviceAppManagement/mobileAppCategories` (read-only: Intune's nine built-in ones with their fixed ids, plus the seed's) and
 * the `categories` navigation of a mobileApp (`GET`, `POST …/categories/$ref`, `DELETE …/categories/{id}/$ref`).
 * Source: intune-win32-protocol.md §2.1 (the `$ref` body; a PATCH with `categories` fails), §2.11 item 3 (WinTuner
 * copies categories with `categories/$ref`). Listing categories, unlinking and the duplicate-link answer are not in
 * the sources: they follow OData conventions and are assumed (docs/emulator.md "Categories").
 */
import { createHash } from "node:crypto";
import type { Entity } from "../../store.js";
import { badRequest, notFound } from "../errors.js";
import { arraySource, entityResponse, listPage } from "../odata.js";
import { APPS_READ, APPS_WRITE } from "../permissions.js";
import type { GraphRequest, Route } from "../types.js";
import type { ResourceContext } from "./context.js";

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
  const h = createHash("sha1").update(`intune-publisher/mobileAppCategory/${displayName}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString("hex");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
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

const CATEGORY_BASE = "/deviceAppManagement/mobileAppCategories";
const APP_BASE = "/deviceAppManagement/mobileApps";
const LINKS = "mobileAppCategoryLinks";
/** Built-in categories carry no change date in the sources; a fixed one keeps answers stable. */
const LAST_MODIFIED = "2017-01-01T00:00:00Z";

interface Link extends Entity {
  appId: string;
  categoryId: string;
}

type Json = Record<string, unknown>;

function entity(c: MobileAppCategory): Json {
  return { "@odata.type": "#microsoft.graph.mobileAppCategory", ...c, lastModifiedDateTime: LAST_MODIFIED };
}

/** Categories linked to an app, in link order (for `GET …/categories` and `$expand=categories`). */
export function categoriesOf(ctx: ResourceContext, tenantId: string, appId: string): Json[] {
  const byId = new Map(ctx.categories.map((c) => [c.id.toLowerCase(), c]));
  return ctx.store
    .collection<Link>(tenantId, LINKS)
    .list()
    .filter((l) => l.appId === appId.toLowerCase())
    .flatMap((l) => {
      const c = byId.get(l.categoryId);
      return c === undefined ? [] : [entity(c)];
    });
}

/** Drops an app's links when the app is deleted. */
export function forgetCategoryLinks(ctx: ResourceContext, tenantId: string, appId: string): void {
  const links = ctx.store.collection<Link>(tenantId, LINKS);
  for (const l of links.list()) if (l.appId === appId.toLowerCase()) links.delete(l.id);
}

/**
 * The category a `$ref` body names: `{"@odata.id": "<graph or local origin>/<beta|v1.0>/deviceAppManagement/
 * mobileAppCategories/{id}"}` (§2.1). Anything else is 400; a well-formed reference to no category is 404.
 */
function referencedCategory(ctx: ResourceContext, req: GraphRequest): MobileAppCategory {
  const body = req.body;
  const ref =
    typeof body === "object" && body !== null && !Array.isArray(body)
      ? (body as Record<string, unknown>)["@odata.id"]
      : undefined;
  if (typeof ref !== "string")
    throw badRequest('A $ref body must be {"@odata.id": "…/deviceAppManagement/mobileAppCategories/{id}"}.');
  const origin = req.baseUrl.slice(0, req.baseUrl.length - req.version.length - 1);
  const m = /^(https?:\/\/[^/]+)\/(?:beta|v1\.0)\/deviceAppManagement\/mobileAppCategories\/([^/?#]+)$/i.exec(ref);
  const from = m?.[1]?.toLowerCase();
  if (!m || (from !== "https://graph.microsoft.com" && from !== origin.toLowerCase()))
    throw badRequest(`The @odata.id '${ref}' is not a mobileAppCategory reference.`);
  const id = decodeURIComponent(m[2] ?? "").toLowerCase();
  const c = ctx.categories.find((x) => x.id.toLowerCase() === id);
  if (!c) throw notFound(`The mobile app category '${id}' does not exist.`);
  return c;
}

/**
 * Category routes. `appExists` throws the app's 404 (shared with mobile-apps.ts); the routes are listed before
 * `mobileApps/{id}` ones of the same length by the caller.
 */
export function categoryRoutes(ctx: ResourceContext, appExists: (req: GraphRequest, id: string) => string): Route[] {
  const links = (req: GraphRequest) => ctx.store.collection<Link>(req.caller.tenantId, LINKS);
  const page = { defaultPageSize: ctx.pageSize ?? 100, maxPageSize: 1000 };
  return [
    {
      method: "GET",
      pattern: CATEGORY_BASE,
      roles: APPS_READ,
      forbidden: "intune",
      handler: (req) => listPage(req, arraySource(ctx.categories.map(entity)), { path: CATEGORY_BASE, ...page }),
    },
    {
      method: "GET",
      pattern: `${CATEGORY_BASE}/{id}`,
      roles: APPS_READ,
      forbidden: "intune",
      handler: (req, p) => {
        const id = (p["id"] ?? "").toLowerCase();
        const c = ctx.categories.find((x) => x.id.toLowerCase() === id);
        if (!c) throw notFound(`The mobile app category '${id}' does not exist.`);
        return entityResponse(req, entity(c), CATEGORY_BASE);
      },
    },
    {
      method: "GET",
      pattern: `${APP_BASE}/{id}/categories`,
      roles: APPS_READ,
      forbidden: "intune",
      handler: (req, p) => {
        const appId = appExists(req, p["id"] ?? "");
        return listPage(req, arraySource(categoriesOf(ctx, req.caller.tenantId, appId)), {
          path: `${APP_BASE}/${appId}/categories`,
          ...page,
        });
      },
    },
    {
      method: "POST",
      pattern: `${APP_BASE}/{id}/categories/$ref`,
      roles: APPS_WRITE,
      forbidden: "intune",
      handler: (req, p) => {
        const appId = appExists(req, p["id"] ?? "");
        const c = referencedCategory(ctx, req);
        const key = `${appId}|${c.id.toLowerCase()}`;
        // Assumed: a second link to the same category is refused (OData: the reference already exists).
        if (links(req).get(key)) throw badRequest(`The app '${appId}' is already linked to category '${c.id}'.`);
        links(req).put({ id: key, appId, categoryId: c.id.toLowerCase() });
        return { status: 204 };
      },
    },
    {
      method: "DELETE",
      pattern: `${APP_BASE}/{id}/categories/{categoryId}/$ref`,
      roles: APPS_WRITE,
      forbidden: "intune",
      handler: (req, p) => {
        const appId = appExists(req, p["id"] ?? "");
        const categoryId = (p["categoryId"] ?? "").toLowerCase();
        if (!links(req).delete(`${appId}|${categoryId}`))
          throw notFound(`The app '${appId}' is not linked to category '${categoryId}'.`);
        return { status: 204 };
      },
    },
  ];
}
