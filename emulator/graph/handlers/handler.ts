/**
 * What every resource handler has: the state it works on, the clock, the collection page size, and its route
 * table. A handler is one class per resource (mobile apps, content, assignments, …); each method serves one
 * operation, validates, works on the typed repositories and returns a Graph response. The composition root
 * (server.ts) builds them; the front door (service.ts) authenticates, routes and shapes errors.
 */
import type { Clock } from "../../clock.js";
import type { Entity } from "../../store.js";
import { GraphError, notFound } from "../errors.js";
import { arraySource, entityResponse, listPage } from "../odata.js";
import type { ListOptions, Source } from "../odata.js";
import type { GraphState, Repository, TenantState } from "../repositories.js";
import { route } from "../routing.js";
import type { ForbiddenStyle, Route } from "../routing.js";
import type { GraphRequest, GraphResponse } from "../types.js";

export interface HandlerContext {
  state: GraphState;
  clock: Clock;
  /** page size of every collection (tests use small pages so paging happens); undefined = each collection's own */
  pageSize: number | undefined;
}

/** A collection's page sizes: Intune's usual 100 by default, at most 1000 with `$top`. */
const INTUNE_PAGES = { defaultPageSize: 100, maxPageSize: 1000 };

/** A seeded collection served read-only: where, who may read it, its page sizes, whose errors it answers with. */
export interface ReadOnlyCollection {
  path: string;
  items: (t: TenantState) => Repository<Entity>;
  roles: readonly string[];
  pages?: { defaultPageSize: number; maxPageSize: number };
  forbidden?: ForbiddenStyle;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export abstract class Handler {
  constructor(protected readonly ctx: HandlerContext) {}

  /** the routes this handler serves, in the order they are matched */
  abstract routes(): Route[];

  /** the calling app's tenant */
  protected tenant(req: GraphRequest): TenantState {
    return this.ctx.state.tenant(req.caller.tenantId);
  }

  protected now(): string {
    return new Date(this.ctx.clock.now()).toISOString();
  }

  /** One page of `items` at `path` (after the version), with `$filter`, `$select`, `$top`, `$count`, `$expand`. */
  protected page<T extends object>(
    req: GraphRequest,
    items: readonly T[] | Source<T>,
    path: string,
    options: Partial<Omit<ListOptions, "path">> = {},
  ): GraphResponse {
    const source = "count" in items ? items : arraySource(items);
    const defaultPageSize = this.ctx.pageSize ?? options.defaultPageSize ?? INTUNE_PAGES.defaultPageSize;
    return listPage(req, source, {
      ...options,
      path,
      defaultPageSize,
      maxPageSize: options.maxPageSize ?? INTUNE_PAGES.maxPageSize,
    });
  }

  /** `GET path` (the collection) and `GET path/{id}` (one item) of a read-only collection. */
  protected readOnly(c: ReadOnlyCollection): Route[] {
    const options = { forbidden: c.forbidden ?? "intune" } as const;
    return [
      route(
        "GET",
        c.path,
        c.roles,
        (req) => this.page(req, c.items(this.tenant(req)).list(), c.path, c.pages),
        options,
      ),
      route(
        "GET",
        `${c.path}/{id}`,
        c.roles,
        (req, p) => entityResponse(req, this.readOnlyItem(req, c, p.id), c.path),
        options,
      ),
    ];
  }

  private readOnlyItem(req: GraphRequest, c: ReadOnlyCollection, id: string): Entity {
    const directory = c.forbidden === "directory";
    // The directory's own error codes: a key that is not a GUID is a 400, a missing object a 404
    // `Request_ResourceNotFound` (Microsoft Graph directory behaviour; not quoted by the shared references).
    if (directory && !GUID.test(id))
      throw new GraphError(400, "Request_BadRequest", `Invalid object identifier '${id}'.`);
    const item = c.items(this.tenant(req)).get(id);
    if (item) return item;
    const message = `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`;
    throw directory ? new GraphError(404, "Request_ResourceNotFound", message) : notFound(message);
  }
}
