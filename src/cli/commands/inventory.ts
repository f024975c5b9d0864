import { resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { openCatalogSource } from "../../catalog/catalog.js";
import { catalogHttp } from "../../catalog/http.js";
import { createHttpPipeline } from "../../clients/http/pipeline.js";
import { createFetchTransport } from "../../clients/http/transport.js";
import { inventoryRulesSchema } from "../../core/config/inventory-rules.js";
import type { InventoryRules } from "../../core/config/inventory-rules.js";
import { PublisherError, isPublisherError } from "../../core/errors.js";
import type { ProductRow } from "../../inventory/report.js";
import { catalogProducts } from "../../inventory/catalog-products.js";
import { readBoundedText } from "../../platform/fs.js";
import { INVENTORY_MAX_AGE_DEFAULT, INVENTORY_MAX_AGE_MAX, inventoryReport } from "../../publish/inventory-report.js";
import { infoOf } from "../../publish/target.js";
import type { TargetInfo } from "../../publish/target.js";
import { DEFAULT_SUBSCRIPTIONS_FILE, loadSubscriptions } from "../../publish/sync/subscriptions.js";
import type { LoadedSubscriptions } from "../../publish/sync/subscriptions.js";
import { defineCommand } from "../command.js";
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
    maxAge: option(z.coerce.number().int().min(0).max(INVENTORY_MAX_AGE_MAX).default(INVENTORY_MAX_AGE_DEFAULT), {
      value: "MINUTES",
      help: "use the cached inventory when it is at most this old (default 60)",
    }),
    ...tenantsOptions.shape,
  }),
  async run(ctx, o) {
    const subscriptions = await subscriptionsFile(o.subscriptions, ctx.cwd);
    const rules = o.rules === undefined ? undefined : await loadRules(o.rules, ctx.cwd);
    const fetch = createFetchTransport();
    try {
      const catalog = await catalogProducts(
        await openCatalogSource(o.catalog, {
          http: catalogHttp(createHttpPipeline({ transport: fetch.send })),
          cwd: ctx.cwd,
        }),
      );
      const read = (graph: GraphClient, target: { info: TargetInfo; caPem: string | undefined }) =>
        inventoryReport({
          graph,
          target,
          env: ctx.env,
          catalog,
          subscriptions,
          rules,
          via: o.via,
          refresh: o.refresh,
          maxAgeMinutes: o.maxAge,
          filters: { minDevices: o.minDevices, outdated: o.outdated, unmatched: o.unmatched },
          signal: ctx.signal,
          onWarning: (line) => ctx.stderr.write(`warning: ${line}\n`),
        });
      if (o.tenants.length > 0)
        return await inventoryAcrossTenants(ctx, o, async (graph, target, tenant) => {
          const { report } = await read(graph, {
            info: infoOf(target.settings, `tenants file: ${tenant}`),
            caPem: target.caPem,
          });
          return { inventory: report.inventory, products: report.products };
        });
      const { report, appVersions } = await withGraph(ctx, o, "Reading the installed apps of", (s, t) =>
        read(s.graph, t),
      );
      const { inventory, products: rows } = report;
      ctx.stderr.write(
        `inventory: ${appVersions} app versions via ${inventory.source}, read ${inventory.readAt}${inventory.cached ? " (cached)" : ""}\n`,
      );
      printData(ctx, report, () => [HEADER, ...rows.map(columns)]);
      return 0;
    } finally {
      await fetch.close();
    }
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
