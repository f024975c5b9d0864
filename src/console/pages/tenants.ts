/**
 * Tenants: the switcher (which tenant of the tenants file the other pages work on, kept by the server) and the
 * overview — per tenant its tags, last sync run and cached inventory, and after "Test all" (`connect test --tenants
 * all`) its permissions granted, credential expiry, our apps there, and a failed tenant's cause and fix.
 */
import type { TenantsOverviewResponse, TenantsResponse, TenantTestMessage, TenantView } from "../api.js";
import { api, byId, errorNotice, h, notice, win } from "./dom.js";
import type { El, FormControl } from "./dom.js";

const PROFILE = "";

const tagsText = (t: TenantView): string =>
  Object.entries(t.tags)
    .map(([k, v]) => `${k}=${v}`)
    .join(", ");

const cellId = (tenant: string, column: string): string => `tenant-${column}-${tenant}`;

function switcher(list: TenantsResponse): El {
  const select = h(
    "select",
    { id: "tenant-select", name: "tenant-select" },
    h("option", { value: PROFILE }, "The profile chosen on the Connection page"),
    ...list.tenants.map((t) =>
      h(
        "option",
        { value: t.name },
        `${t.name}${t.displayName === undefined ? "" : ` (${t.displayName})`}${Object.keys(t.tags).length > 0 ? ` — ${tagsText(t)}` : ""}`,
      ),
    ),
  ) as FormControl;
  select.value = list.current ?? PROFILE;
  select.addEventListener("change", () => void choose(select.value));
  return h(
    "section",
    { class: "card", "aria-labelledby": "tenant-switcher-h" },
    h("h2", { id: "tenant-switcher-h" }, "Tenant"),
    h(
      "div",
      { class: "field" },
      h("label", { for: "tenant-select" }, "Tenant the pages work on"),
      select,
      h(
        "p",
        { class: "help" },
        `Apps, Sync and publish, Catalog and Inventory work on this tenant (its overrides apply, as with --tenants NAME). Tenants file: ${list.file ?? ""}`,
      ),
    ),
    h("div", { id: "tenant-choice", "aria-live": "polite" }),
  );
}

async function choose(name: string): Promise<void> {
  const out = byId("tenant-choice");
  try {
    const list = await api<TenantsResponse>("/api/tenants/select", { tenant: name === PROFILE ? null : name });
    out.replaceChildren(
      notice(
        "info",
        list.current === null
          ? "The pages work on the profile chosen on the Connection page."
          : `The pages work on tenant ${list.current}.`,
      ),
    );
  } catch (e) {
    out.replaceChildren(errorNotice(e));
  }
}

function overviewTable(o: TenantsOverviewResponse): El {
  const head = [
    "Tenant",
    "Tags",
    "Tenant id",
    "Permissions",
    "Credential expiry",
    "Our apps",
    "Last sync",
    "Inventory",
    "Connection",
  ];
  return h(
    "table",
    { id: "tenants-overview" },
    h("caption", {}, "Tenants overview"),
    h("thead", {}, h("tr", {}, ...head.map((c) => h("th", { scope: "col" }, c)))),
    h(
      "tbody",
      {},
      ...o.tenants.map((t) =>
        h(
          "tr",
          { id: `tenant-row-${t.name}` },
          h("th", { scope: "row" }, t.displayName === undefined ? t.name : `${t.name} (${t.displayName})`),
          h("td", {}, tagsText(t) || "–"),
          h("td", {}, t.tenantId === undefined ? "the profile's" : h("code", {}, t.tenantId)),
          h("td", { id: cellId(t.name, "permissions") }, "not tested"),
          h("td", { id: cellId(t.name, "expiry") }, "–"),
          h("td", { id: cellId(t.name, "apps") }, "–"),
          h(
            "td",
            {},
            t.lastSync === undefined
              ? "none"
              : `${t.lastSync.startedAt.slice(0, 16).replace("T", " ")}: ${t.lastSync.status}, ${t.lastSync.changed} changed, ${t.lastSync.failed} failed`,
          ),
          h(
            "td",
            {},
            t.inventory === undefined
              ? "not read"
              : `${t.inventory.products} apps${t.inventory.devices === undefined ? "" : ` on ${t.inventory.devices} devices`} (read ${t.inventory.readAt.slice(0, 16).replace("T", " ")})`,
          ),
          h("td", { id: cellId(t.name, "result") }, "not tested"),
        ),
      ),
    ),
  );
}

function testAll(o: TenantsOverviewResponse): void {
  const button = byId<FormControl>("test-all");
  const problems = byId("tenant-problems");
  const summary = byId("test-summary");
  button.disabled = true;
  problems.replaceChildren();
  summary.replaceChildren(notice("info", `Testing ${o.tenants.length} tenant(s)…`));
  for (const t of o.tenants) byId(cellId(t.name, "result")).textContent = "testing…";
  void api<{ run: string }>("/api/tenants/test", {}).then(
    ({ run }) => {
      const source = new win.EventSource(`/api/tenants/events?run=${encodeURIComponent(run)}`);
      source.onmessage = (e) => {
        const m = JSON.parse(e.data) as TenantTestMessage;
        if (m.type === "tenant") {
          const r = m.result;
          const granted = o.permissions.filter((p) => r.permissions[p] === "ok").length;
          byId(cellId(r.tenant, "permissions")).textContent = `${granted}/${o.permissions.length} granted`;
          byId(cellId(r.tenant, "expiry")).textContent =
            r.credentialExpiresOn === undefined ? "not recorded" : r.credentialExpiresOn.slice(0, 10);
          byId(cellId(r.tenant, "apps")).textContent = r.ourApps === undefined ? "–" : String(r.ourApps);
          byId(cellId(r.tenant, "result")).textContent = r.ok ? "✓ ok" : `✗ ${r.problem?.code ?? "failed"}`;
          if (!r.ok)
            problems.append(
              notice(
                "error",
                `${r.tenant}: ${r.problem?.message ?? "the connection test failed"}`,
                r.problem?.fix === undefined ? undefined : `Fix: ${r.problem.fix}`,
              ),
            );
          return;
        }
        source.close();
        button.disabled = false;
        summary.replaceChildren(
          m.error !== undefined
            ? notice("error", m.error)
            : notice(
                m.failed === 0 ? "ok" : "error",
                `Tested ${m.ok + m.failed} tenant(s): ${m.ok} passed, ${m.failed} failed.`,
              ),
        );
      };
    },
    (e: unknown) => {
      button.disabled = false;
      summary.replaceChildren(errorNotice(e));
    },
  );
}

export async function render(main: El): Promise<void> {
  const [list, overview] = await Promise.all([
    api<TenantsResponse>("/api/tenants"),
    api<TenantsOverviewResponse>("/api/tenants/overview"),
  ]);
  if (list.file === undefined) {
    main.append(
      notice(
        "info",
        "No tenants are configured.",
        "Write a tenants file (./tenants.yaml in the folder the console runs in) or a tenants: section in the configuration file, as for --tenants (docs/tenants.md); the pages then switch between its tenants.",
      ),
    );
    return;
  }
  const button = h("button", { type: "button", id: "test-all" }, "Test all");
  button.addEventListener("click", () => testAll(overview));
  main.append(
    switcher(list),
    h(
      "section",
      { "aria-labelledby": "overview-h" },
      h("h2", { id: "overview-h" }, "Overview"),
      h(
        "p",
        { class: "help" },
        "Test all runs the connection test in every tenant (as connect test --tenants all): the six permissions granted, the credential's expiry and the apps we published there.",
      ),
      button,
      h("div", { id: "test-summary", "aria-live": "polite" }),
      overviewTable(overview),
      h("div", { id: "tenant-problems", "aria-live": "polite" }),
    ),
  );
}
