/**
 * Seeded, read-only collections: groups (the directory's, with its own error codes), assignment filters and role
 * scope tags (Intune's). Shapes: docs/reference/graph-conventions.md §6.4.
 */
import { CONFIG_READ, GROUPS_READ, RBAC_READ } from "../permissions.js";
import { route } from "../routing.js";
import type { Route } from "../routing.js";
import { searchPredicate } from "../search.js";
import { Handler } from "./handler.js";

const GROUP_PAGES = { defaultPageSize: 100, maxPageSize: 999 };
const TAGS_OF_APPS = "/deviceManagement/getRoleScopeTagsByResource(resource='MobileApps')";

export class DirectoryHandler extends Handler {
  routes(): Route[] {
    return [
      // Groups: default page 100, $top up to 999 (§6.2, §6.4); directory-style 403 and 404; `$search` (search.ts).
      route(
        "GET",
        "/groups",
        GROUPS_READ,
        (req) => {
          const search = searchPredicate(req);
          const all = this.tenant(req).groups.list();
          return this.page(req, search === undefined ? all : all.filter(search), "/groups", {
            ...GROUP_PAGES,
            allowedOptions: ["$search"],
          });
        },
        { forbidden: "directory" },
      ),
      ...this.readOnly({
        path: "/groups",
        items: (t) => t.groups,
        roles: GROUPS_READ,
        pages: GROUP_PAGES,
        forbidden: "directory",
      }).slice(1),
      ...this.readOnly({
        path: "/deviceManagement/assignmentFilters",
        items: (t) => t.assignmentFilters,
        roles: CONFIG_READ,
      }),
      ...this.readOnly({ path: "/deviceManagement/roleScopeTags", items: (t) => t.roleScopeTags, roles: RBAC_READ }),
      // docs/reference/graph-win32-upload.md §2.1: IntuneWin32App reads the tags usable on apps with this function.
      route(
        "GET",
        TAGS_OF_APPS,
        RBAC_READ,
        (req) => this.page(req, this.tenant(req).roleScopeTags.list(), TAGS_OF_APPS),
        { versions: ["beta"] },
      ),
    ];
  }
}
