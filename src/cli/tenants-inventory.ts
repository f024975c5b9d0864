/**
 * `inventory --tenants …` (docs/tenants.md): each tenant's inventory (read and cached per tenant), a few tenants at
 * a time, its product counts, and a total view: each product with the tenants and devices that have it. One
 * tenant's failure never stops the others; JSON too (CSV: the total view).
 */
import type { GraphClient } from "../clients/graph/client.js";
import type { ProductRow } from "../inventory/report.js";
import { eachTenant } from "../publish/tenants/each.js";
import type { TenantOutcome } from "../publish/tenants/each.js";
import type { CommandContext } from "./command.js";
import { renderCsv, renderTable } from "./output.js";
import type { TenantOptions } from "./tenant-options.js";
import { firstLine, selectedTenants, tenantTargets, tenantsFailure } from "./tenants.js";
import type { TenantsOptions } from "./tenants.js";
import type { TenantTarget } from "../publish/tenants/targets.js";

export interface TenantInventory {
  inventory: { readAt: string; source: string; devices: number | null; cached: boolean };
  products: ProductRow[];
}

/** A product across tenants: the tenants and devices that have it. */
export interface TotalProduct {
  name: string;
  publisher: string;
  catalogId: string | null;
  tenants: string[];
  devices: number;
  outdatedDevices: number;
}

export function totalView(tenants: readonly TenantOutcome<TenantInventory>[]): TotalProduct[] {
  const byKey = new Map<string, TotalProduct>();
  for (const t of tenants)
    for (const p of t.value?.products ?? []) {
      const key = p.catalogId?.toLowerCase() ?? `${p.name}\u0000${p.publisher}`.toLowerCase();
      let x = byKey.get(key);
      if (x === undefined)
        byKey.set(
          key,
          (x = {
            name: p.name,
            publisher: p.publisher,
            catalogId: p.catalogId,
            tenants: [],
            devices: 0,
            outdatedDevices: 0,
          }),
        );
      if (!x.tenants.includes(t.tenant)) x.tenants.push(t.tenant);
      x.devices += p.devices;
      x.outdatedDevices += p.outdatedDevices;
    }
  return [...byKey.values()].sort((a, b) => b.devices - a.devices || a.name.localeCompare(b.name));
}

export async function inventoryAcrossTenants(
  ctx: CommandContext,
  o: TenantOptions & TenantsOptions,
  read: (graph: GraphClient, target: TenantTarget, tenant: string) => Promise<TenantInventory>,
): Promise<number> {
  const { file, tenants } = await selectedTenants(ctx, o);
  const targets = tenantTargets(ctx, o, file);
  let outcomes: TenantOutcome<TenantInventory>[];
  try {
    outcomes = await eachTenant({ file: file.value, tenants, concurrency: o.tenantConcurrency }, async (t) => {
      const target = await targets.resolve(t);
      const session = await targets.connect(t);
      try {
        return { value: await read(session.graph, target, t.name), failed: false };
      } finally {
        await session.close();
      }
    });
  } finally {
    await targets.close();
  }
  const total = totalView(outcomes);
  const failed = outcomes.filter((t) => t.status === "failed");
  const totals = {
    tenants: outcomes.length,
    tenantsOk: outcomes.length - failed.length,
    tenantsFailed: failed.length,
    products: total.length,
    devices: outcomes.reduce((s, t) => s + (t.value?.inventory.devices ?? 0), 0),
  };
  const totalRows = (): string[][] => [
    ["Product", "Publisher", "Catalog id", "Tenants", "Devices", "Outdated devices"],
    ...total.map((p) => [
      p.name,
      p.publisher,
      p.catalogId ?? "-",
      String(p.tenants.length),
      String(p.devices),
      String(p.outdatedDevices),
    ]),
  ];
  if (ctx.output === "json")
    ctx.stdout.write(
      JSON.stringify(
        {
          tenants: outcomes.map(({ value, ...t }) => ({ ...t, ...(value ?? {}) })),
          total: { products: total },
          totals,
          failed: failed.length > 0,
        },
        null,
        2,
      ) + "\n",
    );
  else if (ctx.output === "csv") ctx.stdout.write(renderCsv(totalRows()));
  else {
    const count = (t: TenantOutcome<TenantInventory>, f: (p: ProductRow) => boolean): string =>
      t.value === undefined ? "-" : String(t.value.products.filter(f).length);
    ctx.stdout.write(
      [
        "Inventory across tenants",
        renderTable([
          ["Tenant", "Tenant id", "Result", "Devices", "Products", "Matched", "Outdated", "Read", "Problem"],
          ...outcomes.map((t) => [
            t.tenant,
            t.tenantId ?? "-",
            t.status,
            t.value === undefined ? "-" : String(t.value.inventory.devices ?? "?"),
            count(t, () => true),
            count(t, (p) => p.catalogId !== null),
            count(t, (p) => p.outdatedDevices > 0),
            t.value === undefined ? "-" : `${t.value.inventory.source}${t.value.inventory.cached ? " (cached)" : ""}`,
            t.error === undefined ? "" : firstLine(t.error.message),
          ]),
        ]),
        "",
        "All tenants",
        renderTable(totalRows()),
        "",
        `Total: ${totals.tenants} tenant(s), ${totals.tenantsOk} read, ${totals.tenantsFailed} failed; ${totals.products} product(s) on ${totals.devices} device(s).`,
      ].join("\n") + "\n",
    );
  }
  const error = tenantsFailure(
    "Reading the inventory",
    outcomes.length,
    failed.map((t) => ({
      tenant: t.tenant,
      errorCode: t.error?.errorCode ?? "Internal",
      line: t.error === undefined ? "failed" : firstLine(t.error.message),
      hint: t.error?.hint,
    })),
  );
  if (error) throw error;
  return 0;
}
