/**
 * Apps: the tenant's Win32 apps (`apps list`): ours with their definition id and status (current, kept, rolled
 * back), the others; a detail view (`apps show`); rollback with a confirmation showing the plan `rollback --dry-run`
 * prints.
 */
import type { AppDetailResponse, AppsResponse, RollbackResponse } from "../api.js";
import type { ReportBlock } from "../../publish/rollback-report.js";
import { api, byId, errorNotice, h, notice, table, win } from "./dom.js";
import type { Dialog, El } from "./dom.js";

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

function dialog(): Dialog {
  return byId<Dialog>("confirm");
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
    );
    byId("detail-h").focus();
  } catch (e) {
    panel.replaceChildren(errorNotice(e));
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
  const d = dialog();
  byId("confirm-body").replaceChildren(
    h("p", {}, "These changes will be made in the tenant:"),
    ...reportBlocks(plan.report.blocks),
    ...plan.warnings.map((w) => notice("info", `Warning: ${w}`)),
  );
  byId("confirm-h").textContent = plan.report.title.replace(/ — dry run: nothing was changed$/, "");
  d.showModal();
  byId("confirm-cancel").focus();
  const choice = await new Promise<boolean>((resolve) => {
    byId("confirm-ok").addEventListener("click", () => resolve(true));
    byId("confirm-cancel").addEventListener("click", () => resolve(false));
    d.addEventListener("cancel", () => resolve(false));
  });
  d.close();
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

function rowCells(a: Row, canRollBack: boolean): (El | string)[] {
  const show = h("button", { type: "button", class: "link" }, "Details");
  show.setAttribute("aria-label", `Details of ${a.displayName} ${a.displayVersion}`);
  show.addEventListener("click", () => void showDetail(a.appId));
  const actions = h("div", { class: "row-actions" }, show);
  if (canRollBack) {
    const back = h("button", { type: "button", class: "danger" }, "Roll back…");
    back.setAttribute("aria-label", `Roll back ${a.definitionId}`);
    back.addEventListener("click", () => void startRollback(a));
    actions.append(back);
  }
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

async function load(): Promise<void> {
  data = await api<AppsResponse>("/api/apps");
  const ours = data.apps.filter((a) => a.definitionId !== undefined);
  const others = data.apps.filter((a) => a.definitionId === undefined);
  const hasPrevious = (a: Row) =>
    a.status === "current" && ours.some((o) => o.definitionId === a.definitionId && o.status === "kept");
  const head = ["Name", "Version", "Definition", "Status", "State", "App id", "Actions"];
  const start = win.performance.now();
  byId("apps-lists").replaceChildren(
    h(
      "p",
      {},
      `Tenant ${data.target.tenantId} (${data.target.source}): ${data.apps.length} Win32 apps, ${ours.length} published by intune-publisher.`,
    ),
    table(
      `Published by intune-publisher (${ours.length})`,
      head,
      ours.map((a) => rowCells(a, hasPrevious(a))),
      { id: "apps-ours" },
    ),
    table(
      `Other Win32 apps (${others.length})`,
      head,
      others.map((a) => rowCells(a, false)),
      { id: "apps-others" },
    ),
  );
  byId("apps-lists").setAttribute("data-render-ms", String(Math.round(win.performance.now() - start)));
}

export async function render(main: El): Promise<void> {
  main.append(
    h("div", { id: "apps-status", "aria-live": "polite" }),
    h("div", { id: "apps-lists" }),
    h("section", { id: "detail", "aria-live": "polite", "aria-label": "App details" }),
    h(
      "dialog",
      { id: "confirm", "aria-labelledby": "confirm-h" },
      h("h2", { id: "confirm-h" }, "Roll back"),
      h("div", { id: "confirm-body" }),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", id: "confirm-ok", class: "danger" }, "Roll back"),
        h("button", { type: "button", id: "confirm-cancel" }, "Cancel"),
      ),
    ),
  );
  await load();
}
