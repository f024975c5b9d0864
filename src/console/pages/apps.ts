/**
 * Apps: the tenant's Win32 apps (`apps list`): ours with their definition id and status (current, kept, rolled
 * back), the others; a detail view (`apps show`); rollback and removal, each with a confirmation showing the plan
 * `rollback --dry-run` / `apps remove --dry-run` prints.
 */
import type { AppDetailResponse, AppsResponse, RemoveResponse, RollbackResponse } from "../api.js";
import type { ReportBlock } from "../../publish/rollback-report.js";
import { api, askConfirm, byId, confirmDialogElement, errorNotice, h, notice, table, win } from "./dom.js";
import type { El, FormControl } from "./dom.js";

type Row = AppsResponse["apps"][number];

let data: AppsResponse;

function reportBlocks(blocks: ReportBlock[]): El[] {
  return blocks.map((b) =>
    b.kind === "text"
      ? h("p", {}, b.text)
      : b.caption === "Versions"
        ? table(
            b.caption,
            ["", "Version", "App"],
            b.rows.map((r) => r.map((c) => c)),
          )
        : table(b.caption, b.rows[0] ?? [], b.rows.slice(1)),
  );
}

async function showDetail(appId: string): Promise<void> {
  const panel = byId("detail");
  panel.replaceChildren(notice("info", "Reading the app…"));
  try {
    const d = await api<AppDetailResponse>(`/api/apps/detail?app=${encodeURIComponent(appId)}`);
    const list = (items: string[]) =>
      items.length === 0 ? h("p", {}, "none") : h("ul", {}, ...items.map((i) => h("li", {}, i)));
    panel.replaceChildren(
      h("h2", { id: "detail-h", tabindex: "-1" }, `${d.displayName} ${d.displayVersion}`),
      table(
        "App",
        ["", "Value"],
        [
          ["App id", d.appId],
          ["Publisher", d.publisher || "–"],
          ["Definition", d.definitionId ?? "not published by intune-publisher"],
          ["Install command", d.installCommandLine ?? "–"],
          ["Uninstall command", d.uninstallCommandLine ?? "–"],
        ],
      ),
      h("h3", {}, "Rules"),
      list(d.rules),
      h("h3", {}, "Assignments"),
      list(d.assignments),
      h("h3", {}, "Relationships"),
      list(d.relationships),
      h("h3", {}, "Enrollment Status Page profiles"),
      d.espProfiles === undefined
        ? h("p", {}, "unknown: the app registration may not read Enrollment Status Page profiles")
        : list(d.espProfiles),
    );
    byId("detail-h").focus();
  } catch (e) {
    panel.replaceChildren(errorNotice(e));
  }
}

/** Shows the plan in the dialog; true when the person confirms with `ok`. */
function confirmPlan(title: string, body: El[], ok: string): Promise<boolean> {
  return askConfirm(title, [h("p", {}, "These changes will be made in the tenant:"), ...body], ok);
}

/** `apps remove`: the plan (a dry run), then — after the person confirms — the removal of exactly those apps. */
async function startRemove(row: Row): Promise<void> {
  const status = byId("apps-status");
  const name = `${row.displayName} ${row.displayVersion}`.trim();
  const force = row.definitionId === undefined;
  status.replaceChildren(notice("info", `Planning the removal of ${name}…`));
  let plan: RemoveResponse;
  try {
    plan = await api<RemoveResponse>("/api/apps/remove", { app: row.appId, force, dryRun: true });
  } catch (e) {
    status.replaceChildren(errorNotice(e));
    return;
  }
  status.replaceChildren();
  const ok = await confirmPlan(
    `Remove ${name}`,
    [
      ...(force ? [notice("info", "This app was not published by intune-publisher.")] : []),
      ...reportBlocks(plan.report.blocks),
      ...plan.warnings.map((w) => notice("info", `Warning: ${w}`)),
    ],
    "Remove",
  );
  if (!ok) {
    status.replaceChildren(notice("info", "Removal cancelled: nothing was changed."));
    return;
  }
  status.replaceChildren(notice("info", "Removing…"));
  try {
    const done = await api<RemoveResponse>("/api/apps/remove", {
      app: row.appId,
      force,
      dryRun: false,
      confirmed: plan.appIds,
    });
    byId("detail").replaceChildren();
    await load();
    byId("apps-status").replaceChildren(
      notice("ok", `${done.report.title} ${name}: done.`),
      ...reportBlocks(done.report.blocks),
    );
  } catch (e) {
    status.replaceChildren(errorNotice(e));
  }
}

/** The plan (a dry run), then — after the person confirms — the move. */
async function startRollback(row: Row): Promise<void> {
  const status = byId("apps-status");
  status.replaceChildren(notice("info", `Planning the rollback of ${row.definitionId}…`));
  let plan: RollbackResponse;
  try {
    plan = await api<RollbackResponse>("/api/apps/rollback", { app: row.appId, dryRun: true });
  } catch (e) {
    status.replaceChildren(errorNotice(e));
    return;
  }
  status.replaceChildren();
  const choice = await confirmPlan(
    plan.report.title.replace(/ — dry run: nothing was changed$/, ""),
    [...reportBlocks(plan.report.blocks), ...plan.warnings.map((w) => notice("info", `Warning: ${w}`))],
    "Roll back",
  );
  if (!choice) {
    status.replaceChildren(notice("info", "Rollback cancelled: nothing was changed."));
    return;
  }
  status.replaceChildren(notice("info", "Rolling back…"));
  try {
    const done = await api<RollbackResponse>("/api/apps/rollback", {
      app: row.appId,
      to: plan.toAppId,
      dryRun: false,
    });
    await load();
    byId("apps-status").replaceChildren(
      notice("ok", `${done.report.title}: done.`),
      ...reportBlocks(done.report.blocks),
    );
  } catch (e) {
    status.replaceChildren(errorNotice(e));
  }
}

/** Rows per table page: a tenant with thousands of apps stays quick to show and to read. */
const PAGE_SIZE = 100;
const pages = { ours: 0, others: 0 };
let filter = "";
/** definitions with a kept version: their current app offers a rollback */
let withPrevious = new Set<string>();

function rowCells(a: Row, index: number): (El | string)[] {
  const actions = h(
    "div",
    { class: "row-actions" },
    h(
      "button",
      {
        type: "button",
        class: "link",
        "data-action": "details",
        "data-index": String(index),
        "aria-label": `Details of ${a.displayName} ${a.displayVersion}`,
      },
      "Details",
    ),
  );
  if (a.status === "current" && a.definitionId !== undefined && withPrevious.has(a.definitionId))
    actions.append(
      h(
        "button",
        {
          type: "button",
          class: "danger",
          "data-action": "rollback",
          "data-index": String(index),
          "aria-label": `Roll back ${a.definitionId}`,
        },
        "Roll back…",
      ),
    );
  actions.append(
    h(
      "button",
      {
        type: "button",
        class: "danger",
        "data-action": "remove",
        "data-index": String(index),
        "aria-label": `Remove ${a.displayName} ${a.displayVersion}`.trim(),
      },
      "Remove…",
    ),
  );
  return [
    a.displayName,
    a.displayVersion || "–",
    a.definitionId ?? "–",
    a.status === "other" ? "–" : a.status,
    a.publishingState,
    h("code", {}, a.appId),
    actions,
  ];
}

const HEAD = ["Name", "Version", "Definition", "Status", "State", "App id", "Actions"];

/** One of the two tables, one page of it, with its pager. */
function appTable(kind: "ours" | "others"): El {
  const want = filter.toLowerCase();
  const rows = data.apps
    .map((a, index) => ({ a, index }))
    .filter(({ a }) => (kind === "ours") === (a.definitionId !== undefined))
    .filter(
      ({ a }) =>
        want === "" || [a.displayName, a.definitionId ?? "", a.appId].some((t) => t.toLowerCase().includes(want)),
    );
  const last = Math.max(0, Math.ceil(rows.length / PAGE_SIZE) - 1);
  const page = Math.min(pages[kind], last);
  const shown = rows.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE);
  const title = kind === "ours" ? "Published by intune-publisher" : "Other Win32 apps";
  const pager =
    rows.length <= PAGE_SIZE
      ? undefined
      : h(
          "nav",
          { class: "pager", "aria-label": `${title}: pages` },
          h(
            "button",
            {
              type: "button",
              "data-action": "page",
              "data-kind": kind,
              "data-page": String(page - 1),
              disabled: page === 0,
            },
            "Previous",
          ),
          h("span", {}, `${page * PAGE_SIZE + 1}–${page * PAGE_SIZE + shown.length} of ${rows.length}`),
          h(
            "button",
            {
              type: "button",
              "data-action": "page",
              "data-kind": kind,
              "data-page": String(page + 1),
              disabled: page === last,
            },
            "Next",
          ),
        );
  return h(
    "div",
    { id: `apps-${kind}-block` },
    table(
      `${title} (${rows.length})`,
      HEAD,
      shown.map(({ a, index }) => rowCells(a, index)),
      { id: `apps-${kind}` },
    ),
    pager,
  );
}

function showTables(): void {
  byId("apps-tables").replaceChildren(appTable("ours"), appTable("others"));
}

async function load(): Promise<void> {
  data = await api<AppsResponse>("/api/apps");
  // From here: the data has arrived; `data-render-ms` says how long until the tables were on screen.
  const start = win.performance.now();
  const ours = data.apps.filter((a) => a.definitionId !== undefined);
  withPrevious = new Set(ours.filter((o) => o.status === "kept").map((o) => o.definitionId!));
  byId("apps-summary").textContent =
    `Tenant ${data.target.tenantId} (${data.target.source}): ${data.apps.length} Win32 apps, ${ours.length} published by intune-publisher.`;
  showTables();
  // Rendered: after the next frame is painted (a timer set in the frame callback runs after the paint).
  win.requestAnimationFrame(() =>
    setTimeout(() => byId("apps-lists").setAttribute("data-render-ms", String(win.performance.now() - start)), 0),
  );
}

export async function render(main: El): Promise<void> {
  main.append(
    h("div", { id: "apps-status", "aria-live": "polite" }),
    h(
      "div",
      { id: "apps-lists" },
      h("p", { id: "apps-summary" }),
      h(
        "div",
        { class: "field" },
        h("label", { for: "apps-filter" }, "Filter by name, definition id or app id"),
        h("input", { id: "apps-filter", type: "search", autocomplete: "off" }),
      ),
      h("div", { id: "apps-tables" }),
    ),
    h("section", { id: "detail", "aria-live": "polite", "aria-label": "App details" }),
    confirmDialogElement("Roll back", "Roll back"),
  );
  byId("apps-filter").addEventListener("input", (e) => {
    filter = (e.target as FormControl).value.trim();
    pages.ours = pages.others = 0;
    showTables();
  });
  // One listener for every row's buttons.
  byId("apps-tables").addEventListener("click", (e) => {
    const button = (e.target as El).closest("button[data-action]");
    if (button === null) return;
    const d = button.dataset;
    const row = data.apps[Number(d["index"])];
    if (d["action"] === "details" && row !== undefined) void showDetail(row.appId);
    else if (d["action"] === "rollback" && row !== undefined) void startRollback(row);
    else if (d["action"] === "remove" && row !== undefined) void startRemove(row);
    else if (d["action"] === "page") {
      pages[d["kind"] === "ours" ? "ours" : "others"] = Number(d["page"]);
      showTables();
    }
  });
  await load();
}
