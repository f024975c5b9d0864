/**
 * Sync and publish: the plan of `sync --dry-run` for a subscriptions file and of `publish --dry-run` for app
 * definition files (properties old → new), then Apply with live progress per product or app (Server-Sent Events
 * from the engine's events: download, packaging, upload with rate and ETA, commit, targeting), and the history of
 * `sync` and `publish` runs with their results and logs.
 */
import type { ApplyResponse, HistoryResponse, PlanResponse, ProgressMessage, SyncPlanResponse } from "../api.js";
import { api, byId, errorNotice, h, notice, table, win } from "./dom.js";
import type { El, FormControl } from "./dom.js";
import { fetchLog, logView } from "./log-view.js";

const files = (): string[] =>
  byId<FormControl>("files")
    .value.split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

async function plan(): Promise<void> {
  const out = byId("plan");
  byId<FormControl>("apply").disabled = true;
  out.replaceChildren(notice("info", "Planning…"));
  try {
    const p = await api<PlanResponse>("/api/publish/plan", { files: files() });
    out.replaceChildren(
      table(
        `Plan for ${p.target.tenantId} (${p.target.source})`,
        ["App", "Version", "Action", "Changes", "Reasons"],
        p.items.map((i) => [
          i.displayName,
          i.version,
          i.action,
          i.changes.length === 0 ? "–" : h("ul", {}, ...i.changes.map((c) => h("li", {}, c))),
          i.reasons.join("; ") || "–",
        ]),
        { id: "plan-table" },
      ),
      ...p.warnings.map((w) => notice("info", `Warning: ${w}`)),
    );
    byId<FormControl>("apply").disabled = false;
  } catch (e) {
    out.replaceChildren(errorNotice(e));
  }
}

/** The progress table: one row per app, updated in place. */
function progressRow(id: string): El {
  const existing = byId("progress-body").querySelector(`tr[data-app="${id}"]`);
  if (existing !== null) return existing;
  const row = h("tr", { "data-app": id }, h("td", {}, id), h("td", {}, "starting"), h("td", {}, "–"), h("td", {}, "–"));
  byId("progress-body").append(row);
  return row;
}

/** Apps whose outcome arrived: their row keeps it (later targeting notes only go to the log). */
const finished = new Set<string>();

function setCells(id: string, step: string, progress?: string, eta?: string, final = false): void {
  if (finished.has(id) && !final) return;
  if (final) finished.add(id);
  const cells = progressRow(id).children;
  cells[1]!.textContent = step;
  if (progress !== undefined) cells[2]!.textContent = progress;
  if (eta !== undefined) cells[3]!.textContent = eta;
}

/** Follows run `start()` starts in `out` (progress table, log, result); `button` is enabled again at the end. */
function follow(start: () => Promise<ApplyResponse>, outId: string, button: string): void {
  const out = byId(outId);
  byId<FormControl>(button).disabled = true;
  finished.clear();
  out.replaceChildren(
    h(
      "table",
      { id: "progress-table" },
      h("caption", {}, "Progress"),
      h(
        "thead",
        {},
        h("tr", {}, ...["App", "Step", "Progress", "Rate and ETA"].map((c) => h("th", { scope: "col" }, c))),
      ),
      h("tbody", { id: "progress-body" }),
    ),
    h("h3", {}, "Log"),
    h("ol", { id: "progress-log", "aria-live": "off" }),
    h("div", { id: "run-result", "aria-live": "polite" }),
  );
  const log = (text: string) => byId("progress-log").append(h("li", {}, text));
  void start().then(
    ({ run }) => {
      const source = new win.EventSource(`/api/publish/events?run=${encodeURIComponent(run)}`);
      source.onmessage = (e) => {
        const m = JSON.parse(e.data) as ProgressMessage;
        // How late this event arrived (server and page share the machine's clock): for bench/console.ts.
        const late = Date.now() - m.sent;
        if (late > Number(out.dataset["maxLatencyMs"] ?? "-1")) out.setAttribute("data-max-latency-ms", String(late));
        switch (m.type) {
          case "step":
            setCells(m.id, m.step);
            log(`${m.id}: ${m.detail}`);
            break;
          case "bytes": {
            const pct = m.total > 0 ? Math.floor((m.done / m.total) * 100) : 100;
            setCells(
              m.id,
              m.phase === "downloading" && m.total > 0 && m.done >= m.total ? "downloaded" : m.phase,
              m.total > 0 ? `${pct}% of ${bytes(m.total)}` : bytes(m.done),
              m.rate === undefined ? "–" : `${bytes(m.rate)}/s, ${Math.ceil(m.etaSeconds ?? 0)} s left`,
            );
            break;
          }
          case "stage":
            setCells(m.id, m.stage);
            log(`${m.id}: ${m.stage}`);
            break;
          case "done":
            setCells(m.id, m.status === "ok" ? m.message : "failed", m.status === "ok" ? "100%" : undefined, "–", true);
            log(`${m.id}: ${m.message}`);
            break;
          case "end":
            source.close();
            byId("run-result").replaceChildren(
              m.error !== undefined
                ? notice("error", m.error)
                : notice(
                    m.failed === 0 ? "ok" : "error",
                    `Run finished: ${m.ok} app(s) published or up to date, ${m.failed} failed.`,
                  ),
              h("p", {}, h("a", { href: "/apps" }, "See the apps")),
            );
            byId<FormControl>(button).disabled = false;
            void loadHistory();
            break;
        }
      };
    },
    (e: unknown) => {
      out.replaceChildren(errorNotice(e));
      byId<FormControl>(button).disabled = false;
    },
  );
}

function apply(): void {
  byId("sync-run").replaceChildren();
  follow(() => api<ApplyResponse>("/api/publish/apply", { files: files() }), "run", "apply");
}

const subscriptionsFile = (): string => byId<FormControl>("subscriptions").value.trim();

/** The sync form as `sync --subscriptions FILE [--only ID…] [--inventory-max-age MINUTES]` takes it. */
function syncRequest(): { subscriptions: string; only: string[]; inventoryMaxAge?: number } {
  const only = byId<FormControl>("sync-only")
    .value.split(/[\s,]+/)
    .filter((x) => x !== "");
  const age = byId<FormControl>("inventory-max-age").value.trim();
  // A value that is not a whole number goes as typed: the server names the field and the fix.
  return { subscriptions: subscriptionsFile(), only, ...(age === "" ? {} : { inventoryMaxAge: Number(age) }) };
}

/** `sync --dry-run`: per product the action, what changes (old → new) and why. */
async function syncPlan(): Promise<void> {
  const out = byId("sync-plan");
  byId<FormControl>("sync-apply").disabled = true;
  out.replaceChildren(notice("info", "Planning the sync…"));
  try {
    const p = await api<SyncPlanResponse>("/api/sync/plan", syncRequest());
    out.replaceChildren(
      table(
        `Sync plan for ${p.target.tenantId} (${p.target.source})`,
        ["Product", "Version", "Action", "Changes (old → new)", "Reason"],
        p.products.map((i) => [
          i.id,
          i.version ?? "–",
          i.action,
          i.changes.length === 0 ? "–" : h("ul", {}, ...i.changes.map((c) => h("li", {}, c))),
          i.reason || "–",
        ]),
        { id: "sync-plan-table" },
      ),
      ...(p.download === undefined ? [] : [h("p", {}, p.download)]),
    );
    byId<FormControl>("sync-apply").disabled = false;
  } catch (e) {
    out.replaceChildren(errorNotice(e));
  }
}

function syncApply(): void {
  byId("run").replaceChildren();
  follow(() => api<ApplyResponse>("/api/sync/apply", syncRequest()), "sync-run", "sync-apply");
}

function logButton(run: number): El {
  const b = h("button", { type: "button" }, "Show log", h("span", { class: "sr-only" }, ` of run ${run}`));
  b.addEventListener("click", () => void showLog(run));
  return b;
}

/** The run log lines written while the run ran (redacted), below the history table. */
async function showLog(run: number): Promise<void> {
  const out = byId("run-log");
  out.replaceChildren(notice("info", `Reading the log of run ${run}…`));
  try {
    const log = await fetchLog(`/api/sync/log?run=${run}`);
    out.replaceChildren(
      ...logView(
        "run-log",
        `Log of run ${run}`,
        log,
        "No run log line was written while this run ran (the log folder keeps the last 20 run logs).",
      ),
    );
    byId("run-log-h").focus();
  } catch (e) {
    out.replaceChildren(errorNotice(e));
  }
}

async function loadHistory(): Promise<void> {
  const el = byId("history");
  try {
    const hist = await api<HistoryResponse>("/api/sync/history");
    el.replaceChildren(
      hist.runs.length === 0
        ? h("p", {}, "No sync or publish run recorded yet (", h("code", {}, hist.file), ").")
        : table(
            "Sync and publish runs",
            [
              "Run",
              "Kind",
              "Tenant",
              "Started",
              "Finished",
              "Trigger",
              "Products",
              "Changed",
              "Failed",
              "Status",
              "Results",
              "Log",
            ],
            hist.runs.map((r) => [
              String(r.id),
              r.kind,
              r.tenant ?? "-",
              r.startedAt,
              r.finishedAt,
              r.trigger + (r.dryRun ? " (dry run)" : ""),
              String(r.products),
              String(r.changed),
              String(r.failed),
              r.status + (r.exitCode === undefined ? "" : ` (exit ${r.exitCode})`),
              r.results.length === 0
                ? "–"
                : h(
                    "ul",
                    {},
                    ...r.results.map((x) =>
                      h("li", { title: x.reason }, `${x.product} ${x.version ?? ""}: ${x.action}, ${x.status}`),
                    ),
                  ),
              logButton(r.id),
            ]),
          ),
      h("div", { id: "run-log", "aria-live": "polite" }),
    );
  } catch (e) {
    el.replaceChildren(errorNotice(e));
  }
}

export async function render(main: El): Promise<void> {
  main.append(
    h(
      "section",
      { class: "card", "aria-labelledby": "sync-h" },
      h("h2", { id: "sync-h" }, "Sync subscriptions"),
      h(
        "div",
        { class: "field" },
        h("label", { for: "subscriptions" }, "Subscriptions file"),
        h("input", {
          id: "subscriptions",
          name: "subscriptions",
          type: "text",
          value: "subscriptions.yaml",
          spellcheck: "false",
          autocomplete: "off",
          "aria-describedby": "subscriptions-help",
        }),
        h(
          "p",
          { class: "help", id: "subscriptions-help" },
          "As `sync --subscriptions FILE` takes it (relative to the folder the console runs in).",
        ),
      ),
      h(
        "div",
        { class: "field" },
        h("label", { for: "sync-only" }, "Only these products"),
        h("input", {
          id: "sync-only",
          name: "only",
          type: "text",
          spellcheck: "false",
          autocomplete: "off",
          "aria-describedby": "sync-only-help",
        }),
        h(
          "p",
          { class: "help", id: "sync-only-help" },
          "Catalog ids separated by spaces or commas (`--only ID`); empty: every product of the file.",
        ),
      ),
      h(
        "div",
        { class: "field" },
        h("label", { for: "inventory-max-age" }, "Inventory max age (minutes)"),
        h("input", {
          id: "inventory-max-age",
          name: "inventoryMaxAge",
          type: "number",
          min: "0",
          max: "525600",
          step: "1",
          value: "60",
          "aria-describedby": "inventory-max-age-help",
        }),
        h(
          "p",
          { class: "help", id: "inventory-max-age-help" },
          "autoPublish: the cached inventory is used when at most this old; 0 reads it again (`--inventory-max-age`).",
        ),
      ),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", id: "sync-plan-button" }, "Plan sync"),
        h("button", { type: "button", id: "sync-apply", disabled: true }, "Apply sync"),
      ),
      h("div", { id: "sync-plan", "aria-live": "polite" }),
      h("div", { id: "sync-run" }),
    ),
    h(
      "section",
      { class: "card", "aria-labelledby": "publish-h" },
      h("h2", { id: "publish-h" }, "Publish app definitions"),
      h(
        "div",
        { class: "field" },
        h("label", { for: "files" }, "App definition files"),
        h("textarea", {
          id: "files",
          name: "files",
          rows: "4",
          spellcheck: "false",
          "aria-describedby": "files-help",
        }),
        h("p", { class: "help", id: "files-help" }, "One path per line (relative to the folder the console runs in)."),
      ),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", id: "plan-button" }, "Plan"),
        h("button", { type: "button", id: "apply", disabled: true }, "Apply"),
      ),
      h("div", { id: "plan", "aria-live": "polite" }),
      h("div", { id: "run" }),
    ),
    h(
      "section",
      { class: "card", "aria-labelledby": "history-h" },
      h("h2", { id: "history-h" }, "History of sync and publish runs"),
      h("div", { id: "history" }),
    ),
  );
  byId("plan-button").addEventListener("click", () => void plan());
  byId("apply").addEventListener("click", () => apply());
  byId("sync-plan-button").addEventListener("click", () => void syncPlan());
  byId("sync-apply").addEventListener("click", () => syncApply());
  await loadHistory();
}
