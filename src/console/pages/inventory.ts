/**
 * Inventory: `intune-publisher inventory` in a page — products by device count, the matched catalog product with
 * its confidence, the versions in the field, the outdated devices, subscribed/published; the filters of the command;
 * the subscriptions file's auto-publish thresholds and what the next sync would auto-publish. The cached inventory is
 * used when at most as old as the Cache max age field says (the command's --max-age, default 60); Refresh reads it
 * again; the page says how old the data shown is.
 */
import type { InventoryResponse } from "../api.js";
import { api, byId, errorNotice, field, h, notice, table } from "./dom.js";
import type { El, FormControl } from "./dom.js";

type Product = InventoryResponse["report"]["products"][number];

const control = (id: string): FormControl => byId<FormControl>(id);

const check = (id: string, label: string): El =>
  h("label", { class: "check" }, h("input", { type: "checkbox", id, name: id }), " ", label);

/** The Subscribed/published cell, in the command's words. */
function status(p: Product): string {
  return (
    [
      p.subscribed === "file" ? "subscribed" : p.subscribed === "auto" ? "auto-published" : "",
      p.published ? "published" : "",
    ]
      .filter((x) => x !== "")
      .join(", ") || "no"
  );
}

async function load(refresh: boolean): Promise<void> {
  const out = byId("inventory");
  const q = new URLSearchParams();
  const min = control("min-devices").value.trim();
  if (min !== "") q.set("minDevices", min);
  if (control("outdated").checked) q.set("outdated", "1");
  if (control("unmatched").checked) q.set("unmatched", "1");
  if (refresh) q.set("refresh", "1");
  q.set("maxAge", control("max-age").value.trim());
  const catalog = control("catalog").value.trim();
  if (catalog !== "") q.set("catalog", catalog);
  q.set("subscriptions", control("inv-subs").value.trim());
  out.replaceChildren(notice("info", refresh ? "Reading the inventory again…" : "Reading the inventory…"));
  out.setAttribute("aria-busy", "true");
  try {
    const r = await api<InventoryResponse>(`/api/inventory?${q.toString()}`);
    const inv = r.report.inventory;
    const a = r.autoPublish;
    out.replaceChildren(
      h(
        "p",
        { id: "inventory-summary" },
        `${r.report.products.length} product(s) on ${r.report.target.tenantId}; inventory via ${inv.source}, read ${inv.readAt}${inv.cached ? " (cached)" : ""}${inv.devices === null ? "" : `, ${inv.devices} devices`}.`,
      ),
      h(
        "p",
        { id: "inventory-age" },
        `The data shown is ${r.ageMinutes === 0 ? "less than a minute" : `${r.ageMinutes} minute(s)`} old (${inv.cached ? `from the cache: at most ${r.maxAgeMinutes} minute(s) old is used` : "read now"}).`,
      ),
      r.report.products.length === 0
        ? h("p", {}, "No product matches the filters.")
        : table(
            "Products by device count",
            [
              "Product",
              "Publisher",
              "Devices",
              "Catalog id",
              "Confidence",
              "Newest",
              "Versions (devices)",
              "Outdated devices",
              "Subscribed/published",
            ],
            r.report.products.map((p) => [
              p.name,
              p.publisher,
              String(p.devices),
              p.catalogId === null ? "–" : p.reason === null ? p.catalogId : `${p.catalogId} (${p.reason})`,
              p.confidence === null ? "–" : p.confidence.toFixed(2),
              p.newestVersion ?? "–",
              p.versions.map((v) => `${v.version || "(none)"} (${v.devices})`).join("; "),
              p.newestVersion === null ? "–" : String(p.outdatedDevices),
              status(p),
            ]),
            { id: "inventory-table" },
          ),
      h("h3", {}, "Auto-publish"),
      a === undefined
        ? h(
            "p",
            { id: "auto-publish" },
            r.subscriptionsFile === undefined
              ? "No subscriptions file: nothing is auto-published."
              : `${r.subscriptionsFile} has no autoPublish: section: nothing is auto-published.`,
          )
        : h(
            "div",
            { id: "auto-publish" },
            h(
              "p",
              {},
              `Thresholds in ${r.subscriptionsFile ?? ""}: at least ${a.minDevices} device(s), confidence at least ${a.minConfidence}, mode ${a.mode}${a.exclude.length === 0 ? "" : `, excluded: ${a.exclude.join(", ")}`}.`,
            ),
            a.products.length === 0
              ? h("p", {}, "The next sync would auto-publish nothing.")
              : table(
                  "The next sync would auto-publish",
                  ["Catalog id", "Mode", "Devices", "Why"],
                  a.products.map((p) => [p.id, p.mode, String(p.devices), p.reason]),
                  { id: "auto-table" },
                ),
          ),
    );
  } catch (e) {
    out.replaceChildren(errorNotice(e));
  } finally {
    out.removeAttribute("aria-busy");
  }
}

export async function render(main: El): Promise<void> {
  const form = h(
    "form",
    { "aria-labelledby": "filters-h", novalidate: true },
    h("h2", { id: "filters-h" }, "Filters"),
    field(
      "min-devices",
      "Minimum devices",
      h("input", { type: "number", id: "min-devices", name: "min-devices", min: "0", step: "1" }),
    ),
    h(
      "fieldset",
      {},
      h("legend", {}, "Only"),
      check("outdated", "Outdated products"),
      check("unmatched", "Unmatched products"),
    ),
    field(
      "catalog",
      "Catalog source",
      h("input", { type: "text", id: "catalog", name: "catalog", spellcheck: "false" }),
      "A configured source, a folder or an https:// URL (empty: the subscriptions file's source, else as `catalog search`).",
    ),
    field(
      "max-age",
      "Cache max age (minutes)",
      h("input", { type: "number", id: "max-age", name: "max-age", min: "0", step: "1", value: "60" }),
      "The cached inventory is used when at most this old, as `inventory --max-age` (default 60; 0: read again).",
    ),
    field(
      "inv-subs",
      "Subscriptions file",
      h("input", { type: "text", id: "inv-subs", name: "inv-subs", spellcheck: "false", value: "subscriptions.yaml" }),
      "For the Subscribed column, the inventory mappings and the auto-publish thresholds.",
    ),
    h(
      "div",
      { class: "actions" },
      h("button", { type: "submit" }, "Show"),
      h("button", { type: "button", id: "refresh" }, "Refresh"),
    ),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    void load(false);
  });
  main.append(
    h("section", { class: "card" }, form),
    h(
      "section",
      { class: "card", "aria-labelledby": "inventory-h" },
      h("h2", { id: "inventory-h" }, "Installed products"),
      h("div", { id: "inventory", "aria-live": "polite" }),
    ),
  );
  byId("refresh").addEventListener("click", () => void load(true));
  await load(false);
}
