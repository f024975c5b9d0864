/**
 * Catalog and subscriptions: `catalog search` and `catalog show` (the chosen installer, the skipped ones with why,
 * the generated definition), a form that subscribes a product or edits its subscription (mode, assignments,
 * overrides) in the subscriptions file — checked as `sync` reads it, positioned problems shown, the file unchanged
 * when refused — per subscribed product the catalog's newest version against the tenant's, and Unsubscribe (after a
 * confirmation).
 */
import type { CatalogSearchResponse, CatalogShowResponse, SubscribeResponse, SubscriptionsResponse } from "../api.js";
import { api, ApiError, askConfirm, byId, confirmDialogElement, errorNotice, field, h, notice, table } from "./dom.js";
import type { El, FormControl } from "./dom.js";

type Row = SubscriptionsResponse["products"][number];

/** The source of the last search, written as a new subscription's `source:` when sync needs it to find it. */
let searchSource: string | undefined;

const control = (id: string): FormControl => byId<FormControl>(id);
const value = (id: string): string | undefined => {
  const v = control(id).value.trim();
  return v === "" ? undefined : v;
};

const textInput = (id: string, attrs: Record<string, string> = {}): El =>
  h("input", { type: "text", id, name: id, spellcheck: "false", ...attrs });

function select(id: string, options: readonly (readonly [string, string])[]): El {
  return h("select", { id, name: id }, ...options.map(([v, label]) => h("option", { value: v }, label)));
}

async function search(): Promise<void> {
  const out = byId("results");
  const q = control("q").value;
  out.replaceChildren(notice("info", "Searching…"));
  try {
    const r = await api<CatalogSearchResponse>(`/api/catalog/search?q=${encodeURIComponent(q)}`);
    searchSource = r.subscriptionSource;
    if (r.hits.length === 0) {
      out.replaceChildren(notice("info", `Nothing in ${r.source} matches "${q}".`));
      return;
    }
    out.replaceChildren(
      table(
        `Search results in ${r.source}`,
        ["Id", "Name", "Version", "Tags", "Action"],
        r.hits.map((hit) => {
          const b = h("button", { type: "button" }, "Show", h("span", { class: "sr-only" }, ` ${hit.id}`));
          b.addEventListener("click", () => void show(hit.id));
          return [hit.id, hit.name, hit.version, hit.tags.slice(0, 5).join(", ") || "–", b];
        }),
        { id: "results-table" },
      ),
    );
  } catch (e) {
    out.replaceChildren(errorNotice(e));
  }
}

/** The installer a subscription's architecture and scope choose (`catalog show ID --arch A --scope S`). */
function showUrl(id: string, choice: Choice): string {
  return `/api/catalog/show?${new URLSearchParams({ id, architecture: choice.architecture, scope: choice.scope }).toString()}`;
}

interface Choice {
  architecture: string;
  scope: string;
}

/** The product as the choice makes it: the chosen installer, the skipped ones with why, the generated definition. */
function preview(r: CatalogShowResponse): El[] {
  const { show: s, definitionYaml } = r;
  const d = s.definition;
  const parts: (El | undefined)[] = [
    table(
      "Chosen installer",
      ["Property", "Value"],
      [
        ["Version", s.version ?? "(after download)"],
        ["Source", s.source],
        ["Installer", `${s.installer.type} ${s.installer.architecture}, ${s.installer.scope} scope`],
        ["URL", s.installer.url],
        ["SHA-256", s.installer.sha256 ?? "(none published: recorded at the first download)"],
        ["Silent switches", s.installer.silentArgs],
        ["Product code", s.installer.productCode ?? "–"],
        ...(d === null
          ? [["Definition", s.pending ?? "–"]]
          : [
              ["Install command", d.install.command],
              ["Uninstall command", d.uninstall.command],
            ]),
      ],
      { id: "installer-table" },
    ),
    s.skipped.length === 0
      ? h("p", {}, "No installer was skipped.")
      : table(
          "Skipped installers",
          ["Installer", "Type", "Architecture", "Why skipped"],
          s.skipped.map((k) => [`Installers[${k.index}]`, k.type, k.architecture, k.reason]),
          { id: "skipped-table" },
        ),
    s.explanations.length === 0 ? undefined : h("h3", {}, "Why"),
    s.explanations.length === 0 ? undefined : h("ul", {}, ...s.explanations.map((e) => h("li", {}, e))),
    ...s.warnings.map((w) => notice("info", `Warning: ${w}`)),
    h("h3", { id: "definition-h" }, "Generated app definition"),
    h("pre", { id: "definition", "aria-labelledby": "definition-h", tabindex: "0" }, definitionYaml ?? s.pending ?? ""),
  ];
  return parts.filter((p): p is El => p !== undefined);
}

async function show(id: string, existing?: Row): Promise<void> {
  const out = byId("product");
  out.hidden = false;
  out.replaceChildren(notice("info", `Reading ${id}…`));
  try {
    const choice = existing ?? DEFAULT_CHOICE;
    const r = await api<CatalogShowResponse>(showUrl(id, choice));
    const heading = h("h2", { id: "product-h", tabindex: "-1" }, `${r.show.id} ${r.show.version ?? ""}`.trim());
    out.replaceChildren(
      heading,
      h("div", { id: "preview", "aria-live": "polite" }, ...preview(r)),
      subscribeForm(r.show.id, existing),
    );
    fillForm(existing);
    heading.focus();
  } catch (e) {
    out.replaceChildren(errorNotice(e));
  }
}

/** The preview again for the architecture and scope now chosen; a choice no installer fits shows the catalog's why. */
async function choiceChanged(id: string): Promise<void> {
  const out = byId("preview");
  const choice = { architecture: control("architecture").value, scope: control("scope").value };
  out.replaceChildren(notice("info", `Reading ${id} for ${choice.architecture}, ${choice.scope} scope…`));
  try {
    const r = await api<CatalogShowResponse>(showUrl(id, choice));
    // a later change may have answered first: only the choice still in the form is shown
    if (control("architecture").value !== choice.architecture || control("scope").value !== choice.scope) return;
    out.replaceChildren(...preview(r));
  } catch (e) {
    if (control("architecture").value !== choice.architecture || control("scope").value !== choice.scope) return;
    out.replaceChildren(errorNotice(e));
  }
}

/** The CLI's defaults (`catalog show`, a subscription without architecture or scope). */
const DEFAULT_CHOICE: Choice = { architecture: "x64", scope: "machine" };
const ARCHITECTURES = [
  ["x64", "x64"],
  ["arm64", "arm64"],
  ["x86", "x86"],
] as const;
const SCOPES = [
  ["machine", "Machine (installs for every user)"],
  ["user", "User (installs as the signed-in user)"],
] as const;

const MODES = [
  ["application", "Application (offered or required like any app)"],
  ["updateOnly", "Update only (only where an older version is installed)"],
] as const;

function subscribeForm(id: string, existing: Row | undefined): El {
  const form = h(
    "form",
    { id: "subscribe-form", "aria-labelledby": "subscribe-h", novalidate: true },
    h("h3", { id: "subscribe-h" }, existing === undefined ? `Subscribe to ${id}` : `Edit the subscription to ${id}`),
    h(
      "fieldset",
      {},
      h("legend", {}, "Mode"),
      ...MODES.map(([v, label]) =>
        h(
          "label",
          { class: "radio" },
          h("input", {
            type: "radio",
            name: "mode",
            value: v,
            id: `mode-${v}`,
            checked: (existing?.mode ?? "application") === v,
          }),
          " ",
          label,
        ),
      ),
    ),
    h(
      "fieldset",
      {},
      h("legend", {}, "Installer"),
      field(
        "architecture",
        "Architecture",
        select("architecture", ARCHITECTURES),
        existing === undefined
          ? "The installer for this architecture (x64 by default; x86 only as a fallback when there is no x64 one)."
          : "An edit keeps the subscription's architecture and scope: subscribe again for another.",
      ),
      field("scope", "Scope", select("scope", SCOPES)),
    ),
    h(
      "fieldset",
      {},
      h("legend", {}, "Targeting"),
      h("p", { class: "help", id: "assignments-help" }, "None: the app is published unassigned."),
      h("div", { id: "assignments" }),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", id: "add-assignment", "aria-describedby": "assignments-help" }, "Add assignment"),
      ),
    ),
    h(
      "fieldset",
      {},
      h("legend", {}, "Overrides"),
      field("install", "Install command", textInput("install"), "Empty: the catalog's command."),
      field("uninstall", "Uninstall command", textInput("uninstall"), "Empty: the catalog's command."),
      field("pin", "Pinned version", textInput("pin"), "Empty: always the newest version."),
      field(
        "strategy",
        "Update strategy",
        select("strategy", [
          ["inPlace", "In place (new content on the same app)"],
          ["supersede", "Supersede (a new app per version)"],
        ]),
      ),
      field(
        "keep",
        "Versions to keep",
        h("input", { type: "number", id: "keep", name: "keep", min: "0", step: "1" }),
        "Strategy supersede only: previous versions kept (empty: 2).",
      ),
    ),
    h("div", { class: "actions" }, h("button", { type: "submit" }, existing === undefined ? "Subscribe" : "Save")),
    h("div", { id: "subscribe-result", "aria-live": "polite" }),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    void subscribe(id, existing);
  });
  for (const sel of [form.querySelector("#architecture")!, form.querySelector("#scope")!])
    if (existing === undefined) sel.addEventListener("change", () => void choiceChanged(id));
    else sel.setAttribute("disabled", "");
  form.querySelector("#add-assignment")!.addEventListener("click", () => {
    const rows = readAssignments();
    rows.push({ intent: "required", target: "allDevices", group: undefined });
    renderAssignments(rows);
    byId(`intent-${rows.length}`).focus();
  });
  return form;
}

type Assignment = Row["assignments"][number];

/** The assignments as the form holds them now. */
function readAssignments(): Assignment[] {
  const out: Assignment[] = [];
  for (let n = 1; byId("assignments").querySelector(`#intent-${n}`) !== null; n++) {
    const target = control(`target-${n}`).value;
    out.push({
      intent: control(`intent-${n}`).value,
      target: target === "group" ? undefined : target,
      group: target === "group" ? (value(`group-${n}`) ?? "") : undefined,
    });
  }
  return out;
}

/** One group of fields per assignment (the file's `assignments:` list), each with its Remove button. */
function renderAssignments(rows: Assignment[]): void {
  byId("assignments").replaceChildren(
    ...rows.map((a, i) => {
      const n = i + 1;
      const remove = h("button", { type: "button", class: "danger" }, `Remove assignment ${n}`);
      remove.addEventListener("click", () => {
        const now = readAssignments();
        now.splice(i, 1);
        renderAssignments(now);
        byId(now.length === 0 ? "add-assignment" : `intent-${Math.min(n, now.length)}`).focus();
      });
      const group = h(
        "fieldset",
        { class: "assignment" },
        h("legend", {}, `Assignment ${n}`),
        field(
          `intent-${n}`,
          "Intent",
          select(`intent-${n}`, [
            ["required", "Required"],
            ["available", "Available"],
            ["uninstall", "Uninstall"],
          ]),
        ),
        field(
          `target-${n}`,
          "Assigned to",
          select(`target-${n}`, [
            ["allDevices", "All devices"],
            ["allUsers", "All users"],
            ["group", "A group (name below)"],
          ]),
        ),
        field(`group-${n}`, "Group name", textInput(`group-${n}`), "For “A group”: the group's display name or id."),
        h("div", { class: "actions" }, remove),
      );
      return group;
    }),
  );
  rows.forEach((a, i) => {
    const n = i + 1;
    control(`intent-${n}`).value = a.intent;
    control(`target-${n}`).value = a.group !== undefined ? "group" : (a.target ?? "allDevices");
    control(`group-${n}`).value = a.group ?? "";
  });
}

/** The form's values: the subscription's as written, or the defaults (once the form is in the page). */
function fillForm(existing: Row | undefined): void {
  renderAssignments(existing?.assignments ?? []);
  control("architecture").value = existing?.architecture ?? DEFAULT_CHOICE.architecture;
  control("scope").value = existing?.scope ?? DEFAULT_CHOICE.scope;
  control("install").value = existing?.installCommand ?? "";
  control("uninstall").value = existing?.uninstallCommand ?? "";
  control("pin").value = existing?.pin ?? "";
  control("strategy").value = existing?.strategy ?? "inPlace";
  control("keep").value = existing?.keep === undefined ? "" : String(existing.keep);
}

async function subscribe(id: string, existing: Row | undefined): Promise<void> {
  const out = byId("subscribe-result");
  const keep = value("keep");
  const mode = byId("subscribe-form").querySelector('input[name="mode"]:checked') as FormControl | null;
  const strategy = control("strategy").value;
  out.replaceChildren(notice("info", "Saving…"));
  try {
    const r = await api<SubscribeResponse>("/api/subscriptions", {
      file: control("subs-file").value,
      id,
      ...(existing === undefined && searchSource !== undefined ? { source: searchSource } : {}),
      // an edit changes the subscription it names (its architecture and scope); a new one takes the form's choice
      architecture: existing?.architecture ?? control("architecture").value,
      scope: existing?.scope ?? control("scope").value,
      mode: mode?.value ?? "application",
      assignments: readAssignments().map((a) =>
        a.group !== undefined ? { intent: a.intent, group: a.group } : { intent: a.intent, target: a.target },
      ),
      // The default strategy is not written; any other value is, for the file's schema to judge.
      ...(strategy === "inPlace" && keep === undefined ? {} : { strategy }),
      ...(keep === undefined ? {} : { keep: Number(keep) }),
      pin: value("pin"),
      installCommand: value("install"),
      uninstallCommand: value("uninstall"),
    });
    out.replaceChildren(notice("ok", `Saved in ${r.file} (${r.products} product(s)).`));
    await loadSubscriptions();
  } catch (e) {
    if (e instanceof ApiError)
      out.replaceChildren(
        h(
          "div",
          { class: "notice error", role: "alert", id: "subscribe-error" },
          h("p", { class: "notice-title" }, "Not saved: the subscriptions file is unchanged."),
          ...e.message.split("\n").map((l) => h("p", {}, l.trim())),
          e.hint === undefined ? undefined : h("p", {}, `Fix: ${e.hint}`),
        ),
      );
    else out.replaceChildren(errorNotice(e));
  }
}

async function loadSubscriptions(): Promise<void> {
  const out = byId("subscriptions");
  const file = control("subs-file").value;
  out.replaceChildren(notice("info", "Reading the subscriptions and the tenant's apps…"));
  try {
    const r = await api<SubscriptionsResponse>(`/api/subscriptions?file=${encodeURIComponent(file)}`);
    if (!r.exists) {
      out.replaceChildren(
        h("p", {}, "No subscriptions file yet: subscribing to a product creates ", h("code", {}, r.file), "."),
      );
      return;
    }
    out.replaceChildren(
      table(
        `Subscriptions in ${r.file}${r.target === undefined ? "" : ` against ${r.target.tenantId}`}`,
        ["Product", "Mode", "Newest", "Published", "State", "Action"],
        r.products.map((p) => {
          const where = p.architecture === "x64" && p.scope === "machine" ? "" : ` (${p.architecture}, ${p.scope})`;
          const b = h("button", { type: "button" }, "Edit", h("span", { class: "sr-only" }, ` ${p.id}${where}`));
          b.addEventListener("click", () => void show(p.id, p));
          const u = h(
            "button",
            { type: "button", class: "danger" },
            "Unsubscribe",
            h("span", { class: "sr-only" }, ` ${p.id}${where}`),
          );
          u.addEventListener("click", () => void unsubscribe(r.file, p));
          return [
            `${p.id}${where}`,
            p.mode,
            p.newest === null ? "–" : `${p.newest}${p.pin === undefined ? "" : " (pinned)"}`,
            p.published ?? "–",
            p.state,
            h("div", { class: "actions" }, b, u),
          ];
        }),
        { id: "subscriptions-table" },
      ),
    );
  } catch (e) {
    out.replaceChildren(errorNotice(e));
  }
}

/** Asks in the dialog; true when the person confirms. */
/** Removes the product from the subscriptions file after a confirmation that says what changes and what does not. */
async function unsubscribe(file: string, p: Row): Promise<void> {
  const what = `${p.id} (${p.architecture}, ${p.scope})`;
  const ok = await askConfirm(
    `Unsubscribe ${p.id}?`,
    [
      h("p", {}, `${what} is removed from `, h("code", {}, file), "; the other products and the file's comments stay."),
      h(
        "p",
        {},
        p.appId === undefined
          ? "Nothing is published for it in the tenant."
          : `Its app in the tenant (${p.published ?? "?"}, ${p.appId}) is not removed: sync stops updating it. Remove it on the Apps page if it should go.`,
      ),
    ],
    "Unsubscribe",
  );
  const out = byId("subscriptions-status");
  if (!ok) {
    out.replaceChildren(notice("info", `${p.id} is still subscribed.`));
    return;
  }
  try {
    const r = await api<SubscribeResponse>("/api/subscriptions/remove", {
      file,
      id: p.id,
      architecture: p.architecture,
      scope: p.scope,
    });
    byId("product").hidden = true;
    await loadSubscriptions();
    out.replaceChildren(notice("ok", `Unsubscribed ${what}: ${r.file} now has ${r.products} product(s).`));
  } catch (e) {
    out.replaceChildren(errorNotice(e));
  }
}

export async function render(main: El): Promise<void> {
  const searchForm = h(
    "form",
    { role: "search", "aria-labelledby": "search-h" },
    h("h2", { id: "search-h" }, "Search the catalog"),
    field(
      "q",
      "Product name, id or tag",
      h("input", { type: "search", id: "q", name: "q", spellcheck: "false" }),
      "The configured catalog source; with none, the local tenant's vendor host (as `catalog search`).",
    ),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Search")),
    h("div", { id: "results", "aria-live": "polite" }),
  );
  searchForm.addEventListener("submit", (e) => {
    e.preventDefault();
    void search();
  });
  const subsForm = h(
    "form",
    { "aria-labelledby": "subs-h" },
    h("h2", { id: "subs-h" }, "Subscriptions"),
    field(
      "subs-file",
      "Subscriptions file",
      textInput("subs-file", { value: "subscriptions.yaml" }),
      "Relative to the folder the console runs in; `sync --subscriptions FILE` reads it.",
    ),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Load")),
    h("div", { id: "subscriptions-status", "aria-live": "polite" }),
    h("div", { id: "subscriptions", "aria-live": "polite" }),
  );
  subsForm.addEventListener("submit", (e) => {
    e.preventDefault();
    void loadSubscriptions();
  });
  main.append(
    h("section", { class: "card" }, searchForm),
    h("section", { class: "card", id: "product", hidden: true, "aria-labelledby": "product-h" }),
    h("section", { class: "card" }, subsForm),
    confirmDialogElement("Unsubscribe", "Unsubscribe"),
  );
  await loadSubscriptions();
}
