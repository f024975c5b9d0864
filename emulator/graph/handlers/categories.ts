/**
 * App categories: `deviceAppManagement/mobileAppCategories` (read-only: Intune's nine built-in ones with their fixed
 * ids, plus the seed's) and the `categories` navigation of a mobileApp (`GET`, `POST …/categories/$ref`,
 * `DELETE …/categories/{id}/$ref`). Source: docs/reference/graph-win32-upload.md §2.1 (the `$ref` body; a PATCH with
 * `categories` fails), §2.11 item 3 (WinTuner copies categories with `categories/$ref`). Listing categories,
 * unlinking and the duplicate-link answer are not in the sources: they follow OData conventions and are assumed
 * (docs/emulator.md "Categories").
 */
import { badRequest, notFound } from "../errors.js";
import type { MobileAppCategory } from "../model/categories.js";
import { entityResponse } from "../odata.js";
import { APPS_READ, APPS_WRITE } from "../permissions.js";
import type { TenantState } from "../repositories.js";
import { route } from "../routing.js";
import type { Route } from "../routing.js";
import type { GraphRequest, GraphResponse } from "../types.js";
import type { HandlerContext } from "./handler.js";
import { Handler } from "./handler.js";

const CATEGORY_BASE = "/deviceAppManagement/mobileAppCategories";
const APP_BASE = "/deviceAppManagement/mobileApps";
/** Built-in categories carry no change date in the sources; a fixed one keeps answers stable. */
const LAST_MODIFIED = "2017-01-01T00:00:00Z";

function entity(c: MobileAppCategory): Record<string, unknown> {
  return { "@odata.type": "#microsoft.graph.mobileAppCategory", ...c, lastModifiedDateTime: LAST_MODIFIED };
}

/** Categories linked to an app, in link order (for `GET …/categories` and `$expand=categories`). */
export function categoriesOf(
  t: TenantState,
  categories: readonly MobileAppCategory[],
  appId: string,
): Record<string, unknown>[] {
  const byId = new Map(categories.map((c) => [c.id.toLowerCase(), c]));
  return t.categoryLinks.ofApp(appId).flatMap((l) => {
    const c = byId.get(l.categoryId);
    return c === undefined ? [] : [entity(c)];
  });
}

export class CategoryHandler extends Handler {
  constructor(
    ctx: HandlerContext,
    /** the categories every tenant has: the built-in ones and the seed's */
    private readonly categories: readonly MobileAppCategory[],
  ) {
    super(ctx);
  }

  routes(): Route[] {
    return [
      route("GET", CATEGORY_BASE, APPS_READ, (req) => this.page(req, this.categories.map(entity), CATEGORY_BASE)),
      route("GET", `${CATEGORY_BASE}/{id}`, APPS_READ, (req, p) =>
        entityResponse(req, entity(this.category(p.id)), CATEGORY_BASE),
      ),
      route("GET", `${APP_BASE}/{id}/categories`, APPS_READ, (req, p) => this.listOfApp(req, p.id)),
      route("POST", `${APP_BASE}/{id}/categories/$ref`, APPS_WRITE, (req, p) => this.link(req, p.id)),
      route("DELETE", `${APP_BASE}/{id}/categories/{categoryId}/$ref`, APPS_WRITE, (req, p) =>
        this.unlink(req, p.id, p.categoryId),
      ),
    ];
  }

  private category(id: string): MobileAppCategory {
    const lower = id.toLowerCase();
    const c = this.categories.find((x) => x.id.toLowerCase() === lower);
    if (!c) throw notFound(`The mobile app category '${lower}' does not exist.`);
    return c;
  }

  private listOfApp(req: GraphRequest, id: string): GraphResponse {
    const t = this.tenant(req);
    const appId = t.apps.require(id).id;
    return this.page(req, categoriesOf(t, this.categories, appId), `${APP_BASE}/${appId}/categories`);
  }

  private link(req: GraphRequest, id: string): GraphResponse {
    const t = this.tenant(req);
    const appId = t.apps.require(id).id;
    const c = this.referencedCategory(req);
    const categoryId = c.id.toLowerCase();
    // Assumed: a second link to the same category is refused (OData: the reference already exists).
    if (t.categoryLinks.has(appId, categoryId))
      throw badRequest(`The app '${appId}' is already linked to category '${c.id}'.`);
    t.categoryLinks.link(appId, categoryId);
    return { status: 204 };
  }

  private unlink(req: GraphRequest, id: string, categoryId: string): GraphResponse {
    const t = this.tenant(req);
    const appId = t.apps.require(id).id;
    const lower = categoryId.toLowerCase();
    if (!t.categoryLinks.unlink(appId, lower))
      throw notFound(`The app '${appId}' is not linked to category '${lower}'.`);
    return { status: 204 };
  }

  /**
   * The category a `$ref` body names: `{"@odata.id": "<graph or local origin>/<beta|v1.0>/deviceAppManagement/
   * mobileAppCategories/{id}"}` (§2.1). Anything else is 400; a well-formed reference to no category is 404.
   */
  private referencedCategory(req: GraphRequest): MobileAppCategory {
    const body = req.body;
    const ref =
      typeof body === "object" && body !== null && !Array.isArray(body) ? Reflect.get(body, "@odata.id") : undefined;
    if (typeof ref !== "string")
      throw badRequest('A $ref body must be {"@odata.id": "…/deviceAppManagement/mobileAppCategories/{id}"}.');
    const origin = req.baseUrl.slice(0, req.baseUrl.length - req.version.length - 1);
    const m = /^(https?:\/\/[^/]+)\/(?:beta|v1\.0)\/deviceAppManagement\/mobileAppCategories\/([^/?#]+)$/i.exec(ref);
    const from = m?.[1]?.toLowerCase();
    if (!m || (from !== "https://graph.microsoft.com" && from !== origin.toLowerCase()))
      throw badRequest(`The @odata.id '${ref}' is not a mobileAppCategory reference.`);
    return this.category(decodeURIComponent(m[2] ?? ""));
  }
}
