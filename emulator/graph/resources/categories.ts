/**
 * App categories: `deviceAppManagement/mobileAppCategories` (read-only: Intune's built-in ones plus the seed's) and
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

/** Intune's built-in categories (names as the admin center shows them; the ids are the local tenant's own). */
export const BUILT_IN_CATEGORY_NAMES = [
  "Books & Reference",
  "Business",
  "Collaboration & Social",
  "Computer management",
  "Data management",
  "Development & Design",
  "Education",
  "Entertainment",
  "Other apps",
  "Photos & Media",
  "Productivity",
] as const;

/** A stable GUID for a category name (name-based, UUID version 5 layout over SHA-1), the same on every start. */
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
    ...BUILT_IN_CATEGORY_NAMES.map((displayName) => ({ id: categoryGuid(displayName), displayName })),
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
