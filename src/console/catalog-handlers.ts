/**
 * The API of the Catalog and Inventory pages: `catalog search`, `catalog show`, the subscriptions file (read as
 * `sync` reads it, written (subscribe, edit, unsubscribe) through src/publish/sync/subscriptions-edit.ts) with each product's newest version
 * against the tenant's, and `inventory` (src/publish/inventory-report.ts).
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { stringify } from "yaml";
import { searchCatalog, showProduct } from "../catalog/catalog.js";
import type { CatalogSource } from "../catalog/catalog.js";
import { INDEX_LIMITS } from "../catalog/search.js";
import { PublisherError } from "../core/errors.js";
import { listApps } from "../publish/apps.js";
import { openCatalogSession } from "../publish/catalog/session.js";
import type { CatalogSession, CatalogSourceSettings } from "../publish/catalog/session.js";
import { inventoryReport } from "../publish/inventory-report.js";
import { DEFAULT_SUBSCRIPTIONS_FILE, loadSubscriptions } from "../publish/sync/subscriptions.js";
import type { LoadedSubscriptions } from "../publish/sync/subscriptions.js";
import { removeSubscription, saveSubscription, subscriptionStatuses } from "../publish/sync/subscriptions-edit.js";
import type { GraphSession, ResolvedTarget } from "../publish/target.js";
import {
  catalogShowQuerySchema,
  inventoryQuerySchema,
  subscribeRequestSchema,
  unsubscribeRequestSchema,
} from "./api.js";
import type {
  CatalogSearchResponse,
  CatalogShowResponse,
  InventoryResponse,
  SubscribeResponse,
  SubscriptionsResponse,
} from "./api.js";
import type { HandlerContext, HandlerResult } from "./handler-common.js";
import { parseRequest } from "./handler-common.js";

export type WithGraph = <T>(fn: (s: GraphSession, t: ResolvedTarget, signal: AbortSignal) => Promise<T>) => Promise<T>;

const invalid = (message: string, hint: string): PublisherError =>
  new PublisherError("ConsoleRequestInvalid", message, { hint });

export class CatalogHandlers {
  constructor(
    private readonly c: HandlerContext,
    private readonly withGraph: WithGraph,
  ) {}

  async handle(route: string, query: URLSearchParams, body: unknown): Promise<HandlerResult> {
    switch (route) {
      case "GET /api/catalog/search":
        return { body: await this.search(query.get("q") ?? "") };
      case "GET /api/catalog/show":
        return { body: await this.show(query) };
      case "GET /api/subscriptions":
        return { body: await this.subscriptions(query.get("file")) };
      case "POST /api/subscriptions":
        return { body: await this.subscribe(body) };
      case "POST /api/subscriptions/remove":
        return { body: await this.unsubscribe(body) };
      case "GET /api/inventory":
        return { body: await this.inventory(query) };
      default:
        return undefined;
    }
  }

  /** A catalog session as the `catalog …` commands open it (`--config`, the local tenant's state folder). */
  private session(o: CatalogSourceSettings = {}, cwd = this.c.cwd): Promise<CatalogSession> {
    return openCatalogSession(
      { env: this.c.env, cwd, secrets: this.c.secrets, logger: this.c.logger, onNote: (l) => this.c.onNote?.(l) },
      { config: this.c.configFile, state: this.c.stateDir, ...o },
    );
  }

  private async withSession<T>(fn: (s: CatalogSession) => Promise<T>, o?: CatalogSourceSettings): Promise<T> {
    const s = await this.session(o);
    try {
      return await fn(s);
    } finally {
      await s.close();
    }
  }

  /** `catalog search TEXT` */
  async search(text: string): Promise<CatalogSearchResponse> {
    const q = text.trim();
    if (q === "" || q.length > 200)
      throw invalid("q: give 1 to 200 characters to search for.", "Type a name, an id or a tag.");
    return this.withSession(async (s) => ({
      source: s.source.label,
      // A vendor host started for this request is gone after it: a subscription cannot name it.
      subscriptionSource: s.vendorHost !== undefined && !s.vendorHost.started ? s.vendorHost.url : undefined,
      hits: (await searchCatalog([s.source], q, INDEX_LIMITS.defaultResults)).map(({ rank: _rank, ...h }) => h),
    }));
  }

  /** `catalog show ID [--arch A] [--scope S]`: the installer the subscription's architecture and scope choose. */
  async show(query: URLSearchParams): Promise<CatalogShowResponse> {
    const q = parseRequest(catalogShowQuerySchema, {
      id: query.get("id") ?? "",
      ...(query.get("architecture") ? { architecture: query.get("architecture") } : {}),
      ...(query.get("scope") ? { scope: query.get("scope") } : {}),
    });
    return this.withSession(async (s) => {
      const show = await showProduct(s.source, q.id, {
        ...(q.architecture === undefined ? {} : { architecture: q.architecture }),
        ...(q.scope === undefined ? {} : { scope: q.scope }),
      });
      return {
        show,
        definitionYaml: show.definition === null ? undefined : stringify(show.definition, { lineWidth: 0 }),
      };
    });
  }

  private file(name: string | null): string {
    return resolve(this.c.cwd, name === null || name.trim() === "" ? DEFAULT_SUBSCRIPTIONS_FILE : name.trim());
  }

  /** The subscriptions file: each product's newest (or pinned) version against the current app in the tenant. */
  async subscriptions(name: string | null): Promise<SubscriptionsResponse> {
    const file = this.file(name);
    if (!existsSync(file)) return { file, exists: false, target: undefined, products: [] };
    const subs = await loadSubscriptions(file, this.c.cwd);
    const { apps, target } = await this.withGraph(async (s, t, signal) => ({
      apps: await listApps(s.graph, signal),
      target: t.info,
    }));
    const sessions = new Map<string, Promise<CatalogSession>>();
    try {
      const sourceFor = async (spec: string | undefined): Promise<CatalogSource> => {
        let s = sessions.get(spec ?? "");
        if (s === undefined) {
          s = this.session(spec === undefined ? {} : { source: spec }, subs.dir);
          sessions.set(spec ?? "", s);
        }
        return (await s).source;
      };
      const statuses = await subscriptionStatuses(subs, sourceFor, apps);
      return { file, exists: true, target, products: statuses.map((st, i) => ({ ...st, ...formFields(subs, i) })) };
    } finally {
      for (const s of sessions.values()) await s.then((x) => x.close()).catch(() => undefined);
    }
  }

  /** Adds or changes one subscription; refused with the positioned problems, the file then unchanged. */
  async subscribe(body: unknown): Promise<SubscribeResponse> {
    const r = parseRequest(subscribeRequestSchema, body);
    const file = this.file(r.file);
    const loaded = await saveSubscription(file, {
      id: r.id,
      source: r.source,
      architecture: r.architecture,
      scope: r.scope,
      mode: r.mode,
      assignments: r.assignments,
      strategy: r.strategy,
      keep: r.keep,
      pin: r.pin,
      installCommand: r.installCommand,
      uninstallCommand: r.uninstallCommand,
    });
    return { file, products: loaded.value.products.length };
  }

  /** Removes one product from the subscriptions file (the page confirmed it); the rest and its comments kept. */
  async unsubscribe(body: unknown): Promise<SubscribeResponse> {
    const r = parseRequest(unsubscribeRequestSchema, body);
    const file = this.file(r.file);
    const loaded = await removeSubscription(file, { id: r.id, architecture: r.architecture, scope: r.scope });
    return { file, products: loaded.value.products.length };
  }

  /** `inventory [--min-devices N] [--outdated] [--unmatched] [--refresh] [--max-age M] [--catalog S] [--subscriptions F]` */
  async inventory(q: URLSearchParams): Promise<InventoryResponse> {
    const min = q.get("minDevices");
    const minDevices = min === null || min.trim() === "" ? undefined : Number(min);
    if (minDevices !== undefined && (!Number.isInteger(minDevices) || minDevices < 0))
      throw invalid("minDevices: give a whole number of devices, 0 or more.", "Correct the Minimum devices field.");
    const named = q.get("subscriptions");
    const file = this.file(named);
    const subscriptions: LoadedSubscriptions | undefined =
      existsSync(file) || (named !== null && named.trim() !== "")
        ? await loadSubscriptions(file, this.c.cwd)
        : undefined;
    const { maxAge } = parseRequest(inventoryQuerySchema, { maxAge: q.get("maxAge") ?? undefined });
    const catalog = q.get("catalog")?.trim() || subscriptions?.value.source;
    return this.withSession(
      async (session) => {
        const { report, autoPublish } = await this.withGraph((s, t, signal) =>
          inventoryReport({
            graph: s.graph,
            target: t,
            env: this.c.env,
            catalog: session.source,
            subscriptions,
            rules: undefined,
            via: "auto",
            refresh: q.get("refresh") === "1",
            maxAgeMinutes: maxAge,
            filters: { minDevices, outdated: q.get("outdated") === "1", unmatched: q.get("unmatched") === "1" },
            signal,
            onWarning: (line) => this.c.onNote?.(`warning: ${line}`),
          }),
        );
        return {
          report,
          subscriptionsFile: subscriptions === undefined ? undefined : file,
          autoPublish,
          maxAgeMinutes: maxAge,
          ageMinutes: Math.max(0, Math.floor((Date.now() - Date.parse(report.inventory.readAt)) / 60_000)),
        };
      },
      catalog === undefined ? {} : { source: catalog },
    );
  }
}

/** The form's fields of product `i` as written in the file. */
function formFields(
  subs: LoadedSubscriptions,
  i: number,
): Pick<SubscriptionsResponse["products"][number], "assignments" | "keep" | "installCommand" | "uninstallCommand"> {
  const p = subs.value.products[i]!;
  return {
    assignments: (p.assignments ?? []).map((a) => ({ intent: a.intent, target: a.target, group: a.group })),
    keep: p.keep,
    installCommand: p.overrides?.install?.command,
    uninstallCommand: p.overrides?.uninstall?.command,
  };
}
