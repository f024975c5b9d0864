import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { openCatalogSource } from "../../catalog/catalog.js";
import { catalogHttp } from "../../catalog/http.js";
import { IntuneApi } from "../../clients/graph/intune.js";
import { createHttpPipeline } from "../../clients/http/pipeline.js";
import { createStreamTransport } from "../../clients/http/stream-transport.js";
import { createFetchTransport } from "../../clients/http/transport.js";
import { homeFolder, userCacheDir, userStateDir } from "../../core/config/dirs.js";
import { inventoryRulesSchema } from "../../core/config/inventory-rules.js";
import type { InventoryRules } from "../../core/config/inventory-rules.js";
import { PublisherError, isPublisherError } from "../../core/errors.js";
import { catalogProducts } from "../../inventory/catalog-products.js";
import { CatalogMatcher } from "../../inventory/match.js";
import type { Inventory } from "../../inventory/model.js";
import { inventoryCacheFile, readCachedInventory, readInventory, writeCachedInventory } from "../../inventory/read.js";
import { buildReport } from "../../inventory/report.js";
import type { ProductRow } from "../../inventory/report.js";
import { readBoundedText } from "../../platform/fs.js";
import { listApps } from "../../publish/apps.js";
import { autoRecordFile, readAutoRecord } from "../../publish/sync/auto-publish.js";
import { DEFAULT_SUBSCRIPTIONS_FILE, loadSubscriptions } from "../../publish/sync/subscriptions.js";
import type { LoadedSubscriptions } from "../../publish/sync/subscriptions.js";
import { defineCommand } from "../command.js";
import type { CommandContext } from "../command.js";
import type { GraphClient } from "../../clients/graph/client.js";
import { option } from "../options.js";
import { printData } from "../output.js";
import { withGraph } from "../session.js";
import { tenantOptions } from "../tenant-options.js";
import { tenantsOptions } from "../tenants.js";
import { inventoryAcrossTenants } from "../tenants-inventory.js";

/** The rules file (docs/limits.md). */
const MAX_RULES_BYTES = 1024 * 1024;

async function loadRules(path: string, cwd: string): Promise<InventoryRules> {
  const file = resolve(cwd, path);
  const text = await readBoundedText({ path: file, what: "inventory rules file", maxBytes: MAX_RULES_BYTES });
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new PublisherError("InvalidInventoryRules", `${path} is not YAML: ${(e as Error).message}`, {
      hint: 'Fix the YAML (docs/inventory.md "Mappings and exclusions").',
    });
  }
  const section =
    typeof doc === "object" && doc !== null && "inventory" in doc ? (doc as { inventory: unknown }).inventory : doc;
  const r = inventoryRulesSchema.safeParse(section ?? {});
  if (!r.success)
    throw new PublisherError(
      "InvalidInventoryRules",
      `${path}: ${r.error.issues.map((i) => `inventory.${i.path.join(".")}: ${i.message}`).join("; ")}`,
      {
        hint: "Each mapping needs name and catalogId; each exclusion a name pattern or a catalogId (docs/inventory.md).",
      },
    );
  return r.data;
}

function columns(r: ProductRow): string[] {
  return [
    r.name,
    r.publisher,
    String(r.devices),
    r.catalogId ?? "-",
    r.confidence === null ? "-" : r.confidence.toFixed(2),
    r.reason ?? "-",
    r.newestVersion ?? "-",
    r.versions.map((v) => `${v.version || "(none)"} (${v.devices})`).join("; "),
    r.newestVersion === null ? "-" : String(r.outdatedDevices),
    [
      r.subscribed === "file" ? "subscribed" : r.subscribed === "auto" ? "auto-published" : "",
      r.published ? "published" : "",
    ]
      .filter((x) => x !== "")
      .join(", ") || "no",
  ];
}

const HEADER = [
  "Product",
  "Publisher",
  "Devices",
  "Catalog id",
  "Confidence",
  "Reason",
  "Newest",
  "Versions (devices)",
  "Outdated devices",
  "Subscribed/published",
];

export default defineCommand({
  description: [
    "The apps installed on the tenant's managed devices, grouped into products: device count, the catalog product",
    "each matches (with a confidence and the reason), the versions in the field, the devices on a version older",
    "than the catalog's newest, and whether the tenant subscribes to or publishes it. Read through detectedApps or Intune's reports",
    "export (chosen by the number of devices; docs/inventory.md) and cached: a repeated run within --max-age reads",
    "no inventory. --output json|csv for scripts. Needs DeviceManagementManagedDevices.Read.All.",
  ].join("\n"),
  notes: [
    "With --tenants all|TAG|NAME: each tenant of a tenants file read in turn, a few at a time: per-tenant product",
    "counts and a total view (products with their tenants and devices); docs/tenants.md.",
  ].join("\n"),
  options: z.object({
    ...tenantOptions.shape,
    minDevices: option(z.coerce.number().int().min(0).optional(), {
      value: "N",
      help: "only products on at least N devices",
    }),
    outdated: option(z.boolean().default(false), {
      help: "only products with devices on a version older than the catalog's newest",
    }),
    unmatched: option(z.boolean().default(false), { help: "only products that match no catalog product" }),
    catalog: option(z.string().min(1).optional(), {
      value: "SOURCE",
      help: "catalog source to match against: a configured name, a folder or an https:// URL (default: the default source)",
    }),
    subscriptions: option(z.string().min(1).optional(), {
      value: "FILE",
      help: `the subscriptions file, for the Subscribed column and its inventory: rules (default ./${DEFAULT_SUBSCRIPTIONS_FILE} when it exists)`,
    }),
    rules: option(z.string().min(1).optional(), {
      value: "FILE",
      help: "YAML file with an `inventory:` section: mappings (name pattern → catalog id) and exclusions",
    }),
    via: option(z.enum(["auto", "detected-apps", "export"]).default("auto"), {
      value: "auto|detected-apps|export",
      help: "how to read the inventory (default: auto, by the tenant's device count)",
    }),
    refresh: option(z.boolean().default(false), { help: "read the inventory again even if the cached one is recent" }),
    maxAge: option(z.coerce.number().int().min(0).max(525_600).default(60), {
      value: "MINUTES",
      help: "use the cached inventory when it is at most this old (default 60)",
    }),
    ...tenantsOptions.shape,
  }),
  async run(ctx, o) {
    const subscriptions = await subscriptionsFile(o.subscriptions, ctx.cwd);
    const rules = o.rules === undefined ? subscriptions?.value.inventory : await loadRules(o.rules, ctx.cwd);
    const fetch = createFetchTransport();
    let products;
    try {
      const source = await openCatalogSource(o.catalog, {
        http: catalogHttp(createHttpPipeline({ transport: fetch.send })),
        cwd: ctx.cwd,
      });
      products = await catalogProducts(source);
    } finally {
      await fetch.close();
    }
    const matcher = new CatalogMatcher(products, rules);
    const report = (inventory: Inventory, published: Set<string>, subscribed: Map<string, "file" | "auto">) =>
      buildReport(inventory.apps, matcher, {
        ...(o.minDevices === undefined ? {} : { minDevices: o.minDevices }),
        outdated: o.outdated,
        unmatched: o.unmatched,
        published,
        subscribed,
      });
    if (o.tenants.length > 0)
      return inventoryAcrossTenants(ctx, o, async (graph, tenantId, caPem) => {
        const r = await tenantInventory(ctx, o, graph, tenantId, caPem, subscriptions);
        return { inventory: r.inventory, cached: r.cached, rows: report(r.inventory, r.published, r.subscribed) };
      });
    const { inventory, cached, published, subscribed, target } = await withGraph(
      ctx,
      o,
      "Reading the installed apps of",
      async (s, t) => ({
        ...(await tenantInventory(ctx, o, s.graph, t.info.tenantId, t.caPem, subscriptions)),
        target: t.info,
      }),
    );
    ctx.stderr.write(
      `inventory: ${inventory.apps.length} app versions via ${inventory.source}, read ${inventory.readAt}${cached ? " (cached)" : ""}\n`,
    );
    const rows = report(inventory, published, subscribed);
    printData(
      ctx,
      {
        target,
        inventory: { readAt: inventory.readAt, source: inventory.source, devices: inventory.devices ?? null, cached },
        products: rows,
      },
      () => [HEADER, ...rows.map(columns)],
    );
    return 0;
  },
});

/** The subscriptions file named, or ./subscriptions.yaml when there is one (checked as sync checks it). */
async function subscriptionsFile(file: string | undefined, cwd: string): Promise<LoadedSubscriptions | undefined> {
  try {
    return await loadSubscriptions(file ?? DEFAULT_SUBSCRIPTIONS_FILE, cwd);
  } catch (e) {
    if (file === undefined && isPublisherError(e) && e.code === "SubscriptionsNotFound") return undefined;
    throw e;
  }
}

export interface InventoryOptions {
  refresh: boolean;
  maxAge: number;
  via: "auto" | "detected-apps" | "export";
}

/** One tenant's inventory (cached per tenant), its published definition ids and its subscribed products. */
export async function tenantInventory(
  ctx: CommandContext,
  o: InventoryOptions,
  graph: GraphClient,
  tenantId: string,
  caPem: string | undefined,
  subscriptions: LoadedSubscriptions | undefined,
): Promise<{
  inventory: Inventory;
  cached: boolean;
  published: Set<string>;
  subscribed: Map<string, "file" | "auto">;
}> {
  const cacheRoot = userCacheDir(ctx.env, process.platform, homedir());
  const api = new IntuneApi(graph);
  const file = inventoryCacheFile(cacheRoot, tenantId);
  let inv: Inventory | undefined;
  let fromCache = false;
  if (!o.refresh) {
    const c = await readCachedInventory(file, tenantId);
    if (c && Date.now() - Date.parse(c.readAt) <= o.maxAge * 60_000) {
      inv = c;
      fromCache = true;
    }
  }
  if (!inv) {
    const stream = createStreamTransport(caPem === undefined ? {} : { trustedCaPem: caPem });
    try {
      inv = await readInventory({
        api,
        transport: stream,
        via: o.via,
        workDir: join(cacheRoot, "inventory"),
        signal: ctx.signal,
      });
    } finally {
      await stream.close();
    }
    await writeCachedInventory(file, tenantId, inv);
  }
  const ids = new Set<string>();
  try {
    for (const a of await listApps(graph, ctx.signal)) if (a.definitionId) ids.add(a.definitionId.toLowerCase());
  } catch (e) {
    if (!(isPublisherError(e) && e.kind === "permission")) throw e;
    ctx.stderr.write(
      "warning: cannot list the tenant's apps (permission): published is no in the Subscribed/published column.\n",
    );
  }
  const subscribed = new Map<string, "file" | "auto">();
  const stateDir = userStateDir(ctx.env, process.platform, homeFolder(ctx.env, process.platform, homedir));
  const record = await readAutoRecord(autoRecordFile(stateDir, tenantId), tenantId);
  for (const p of record.products) subscribed.set(p.id.toLowerCase(), "auto");
  for (const p of subscriptions?.value.products ?? []) subscribed.set(p.id.toLowerCase(), "file");
  return { inventory: inv, cached: fromCache, published: ids, subscribed };
}
