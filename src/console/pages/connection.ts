/**
 * Connection: the profile form (what `connect init` takes), the profile switcher, and Test (what `connect test`
 * reports: steps, the "Intune connection status" table, the credential's expiry, the cause and fix of a failure).
 */
import type { CloudView, ConnectionForm, ProfilesResponse, ProfileView, SaveResponse, TestResponse } from "../api.js";
import { api, byId, errorNotice, h, notice, table } from "./dom.js";
import type { El, FormControl } from "./dom.js";

const CLOUD_LABELS: Record<string, string> = {
  global: "Global",
  usgov: "US Government GCC High",
  "usgov-dod": "US Government DoD",
  china: "China (21Vianet)",
  custom: "Custom",
  local: "Local tenant",
};
const CREDENTIALS = [
  ["secret", "Client secret"],
  ["certificate", "Certificate"],
  ["federated", "Federated"],
] as const;
const LOCAL = "";

let state: ProfilesResponse;
let dirty = false;

const input = (id: string): FormControl => byId<FormControl>(id);

function textField(id: string, label: string, help?: string, attrs: Record<string, string | boolean> = {}): El {
  return h(
    "div",
    { class: "field" },
    h("label", { for: id }, label),
    h("input", {
      id,
      name: id,
      type: "text",
      autocomplete: "off",
      spellcheck: "false",
      ...(help === undefined ? {} : { "aria-describedby": `${id}-help` }),
      ...attrs,
    }),
    help === undefined ? undefined : h("p", { class: "help", id: `${id}-help` }, help),
  );
}

function radioGroup(name: string, legend: string, options: readonly (readonly [string, string])[]): El {
  return h(
    "fieldset",
    { class: "radios" },
    h("legend", {}, legend),
    ...options.map(([value, label]) =>
      h("label", { class: "radio" }, h("input", { type: "radio", name, value, id: `${name}-${value}` }), " ", label),
    ),
  );
}

function checkedValue(name: string): string {
  for (const el of Array.from(byId("connection-form").querySelectorAll(`input[name="${name}"]`)) as FormControl[])
    if (el.checked) return el.value;
  return "";
}

function check(name: string, value: string): void {
  for (const el of Array.from(byId("connection-form").querySelectorAll(`input[name="${name}"]`)) as FormControl[])
    el.checked = el.value === value;
}

function cloudView(name: string): CloudView | undefined {
  return state.clouds.find((c) => c.name === name);
}

/** The endpoint fields follow the cloud: filled from its preset, editable for Custom and the local tenant. */
function applyCloud(name: string, profile?: ProfileView): void {
  const preset = cloudView(name);
  const editable = name === "custom" || name === "local";
  for (const key of ["authorityHost", "tokenAudience", "graphBaseUrl"] as const) {
    const el = input(key);
    el.value = profile?.[key] ?? preset?.[key] ?? "";
    el.readOnly = !editable;
  }
  byId("endpoints-note").textContent = editable
    ? "Editable: give the endpoints of this cloud."
    : "Filled in for this cloud (choose Custom to change them).";
}

function applyCredential(type: string): void {
  for (const [value] of CREDENTIALS) byId(`cred-${value}`).hidden = value !== type;
}

function fillForm(p: ProfileView | undefined): void {
  const cloud = p?.cloud ?? "local";
  input("name").value = p?.name ?? (state.profiles.length === 0 ? "default" : "");
  check("cloud", cloud);
  applyCloud(cloud, p);
  input("tenant").value = p?.tenant ?? (cloud === "local" ? "" : "");
  input("clientId").value = p?.clientId ?? "";
  check("credentialType", p?.credentialType ?? "secret");
  applyCredential(p?.credentialType ?? "secret");
  input("secret").value = "";
  input("certificateUpload").value = "";
  input("certificatePassword").value = "";
  byId("secret-help").textContent = p?.secretStored
    ? "A secret is stored for this profile; leave empty to keep it. It is never shown."
    : "The secret's Value (not its Secret ID). It is stored where the CLI keeps it and never shown again.";
  input("secretExpiresOn").value = (p?.secretExpiresOn ?? "").slice(0, 10);
  input("certificatePath").value = p?.certificatePath ?? "";
  input("keyPath").value = p?.keyPath ?? "";
  input("passwordFile").value = p?.passwordFile ?? "";
  input("sendCertificateChain").checked = p?.sendCertificateChain ?? false;
  input("tokenFile").value = p?.tokenFile ?? "";
  input("caCertificate").value = p?.caCertificate ?? "";
  input("proxy").value = p?.proxy ?? "";
  if (p?.caCertificate !== undefined || p?.proxy !== undefined) byId("network").setAttribute("open", "");
  dirty = false;
}

/** The chosen file's content as base64 (read in the page; sent once, with Save or Test). */
async function uploadedFile(): Promise<string | undefined> {
  const file = (
    input("certificateUpload") as FormControl & { files: ArrayLike<{ arrayBuffer(): Promise<ArrayBuffer> }> }
  ).files[0];
  if (file === undefined) return undefined;
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

async function readForm(): Promise<ConnectionForm> {
  const v = (id: string): string | undefined => {
    const s = input(id).value.trim();
    return s === "" ? undefined : s;
  };
  const expires = v("secretExpiresOn");
  return {
    name: input("name").value.trim(),
    cloud: checkedValue("cloud") as ConnectionForm["cloud"],
    tenant: input("tenant").value.trim(),
    clientId: input("clientId").value.trim(),
    authorityHost: v("authorityHost"),
    tokenAudience: v("tokenAudience"),
    graphBaseUrl: v("graphBaseUrl"),
    credentialType: checkedValue("credentialType") as ConnectionForm["credentialType"],
    secret: v("secret"),
    secretExpiresOn: expires,
    certificatePath: v("certificatePath"),
    keyPath: v("keyPath"),
    passwordFile: v("passwordFile"),
    sendCertificateChain: input("sendCertificateChain").checked,
    certificateUpload: await uploadedFile(),
    certificatePassword: v("certificatePassword"),
    tokenFile: v("tokenFile"),
    caCertificate: v("caCertificate"),
    proxy: v("proxy"),
  };
}

function switcher(): El {
  const select = h(
    "select",
    { id: "profile-select", name: "profile-select" },
    h("option", { value: LOCAL }, "Local tenant (no profile)"),
    ...state.profiles.map((p) =>
      h(
        "option",
        { value: p.name },
        `${p.name}${p.isDefault ? " (default)" : ""} — ${CLOUD_LABELS[p.cloud] ?? p.cloud}`,
      ),
    ),
  ) as FormControl;
  select.value = state.current ?? LOCAL;
  select.addEventListener("change", () => void selectProfile(select.value));
  return h(
    "section",
    { class: "card", "aria-labelledby": "switcher-h" },
    h("h2", { id: "switcher-h" }, "Profile"),
    h(
      "div",
      { class: "field" },
      h("label", { for: "profile-select" }, "Tenant profile used by every page"),
      select,
      h("p", { class: "help" }, `Profiles file: ${state.configFile}`),
    ),
  );
}

async function selectProfile(name: string): Promise<void> {
  const result = byId("result");
  try {
    state = await api<ProfilesResponse>("/api/profiles/select", { profile: name === LOCAL ? null : name });
    fillForm(state.profiles.find((p) => p.name === name));
    showTestSubject();
    result.replaceChildren(notice("info", name === LOCAL ? "Using the local tenant." : `Using profile ${name}.`));
  } catch (e) {
    result.replaceChildren(errorNotice(e));
  }
}

function form(): El {
  const f = h(
    "form",
    { id: "connection-form", class: "card", "aria-labelledby": "form-h", novalidate: true },
    h("h2", { id: "form-h" }, "Intune connection"),
    textField("name", "Profile name", "Letters, digits, . _ - (several tenants: one profile each)."),
    radioGroup(
      "cloud",
      "Cloud",
      Object.entries(CLOUD_LABELS).map(([k, v]) => [k, v] as const),
    ),
    h(
      "fieldset",
      { class: "group" },
      h("legend", {}, "Endpoints"),
      h("p", { class: "help", id: "endpoints-note" }),
      textField("authorityHost", "Authority", "The Entra ID sign-in host, e.g. https://login.microsoftonline.com."),
      textField(
        "tokenAudience",
        "Authentication URL",
        "The audience of Graph tokens, e.g. https://graph.microsoft.com.",
      ),
      textField("graphBaseUrl", "Graph base URL", "e.g. https://graph.microsoft.com/beta."),
    ),
    textField("tenant", "Tenant (name or ID)", "A verified domain such as contoso.onmicrosoft.com, or the tenant ID."),
    textField("clientId", "Application (client) ID", "From the app registration's overview page."),
    radioGroup("credentialType", "Credential", CREDENTIALS),
    h(
      "div",
      { id: "cred-secret", class: "group" },
      h(
        "div",
        { class: "field" },
        h("label", { for: "secret" }, "Client secret"),
        h("input", {
          id: "secret",
          name: "secret",
          type: "password",
          autocomplete: "new-password",
          "aria-describedby": "secret-help",
        }),
        h("p", { class: "help", id: "secret-help" }),
      ),
      textField("secretExpiresOn", "Secret expiry date", "Shown by Test; a warning 30 days ahead.", { type: "date" }),
    ),
    h(
      "div",
      { id: "cred-certificate", class: "group" },
      h(
        "div",
        { class: "field" },
        h("label", { for: "certificateUpload" }, "Upload a certificate"),
        h("input", {
          id: "certificateUpload",
          name: "certificateUpload",
          type: "file",
          accept: ".pem,.pfx,.p12,.crt,.cer,.key",
          "aria-describedby": "certificateUpload-help",
        }),
        h(
          "p",
          { class: "help", id: "certificateUpload-help" },
          "A PEM (certificate + private key) or PFX file. Save stores it where the CLI keeps credentials (mode 0600); it is never shown again. Or give a path below.",
        ),
      ),
      h(
        "div",
        { class: "field" },
        h("label", { for: "certificatePassword" }, "Certificate password"),
        h("input", {
          id: "certificatePassword",
          name: "certificatePassword",
          type: "password",
          autocomplete: "new-password",
          "aria-describedby": "certificatePassword-help",
        }),
        h(
          "p",
          { class: "help", id: "certificatePassword-help" },
          "The uploaded PFX's or key's password, if it has one.",
        ),
      ),
      textField("certificatePath", "Certificate file", "Path of a PEM (certificate + key) or PFX file."),
      textField("keyPath", "Private key file", "Optional: a PEM key in a file of its own."),
      textField("passwordFile", "Password file", "Optional: the file holding the PFX or key password."),
      h(
        "label",
        { class: "check" },
        h("input", { type: "checkbox", id: "sendCertificateChain", name: "sendCertificateChain" }),
        " Send the certificate chain (subject name and issuer authentication)",
      ),
    ),
    h(
      "div",
      { id: "cred-federated", class: "group" },
      textField("tokenFile", "Federated token file", "Workload identity or GitHub OIDC token file."),
    ),
    h(
      "details",
      { id: "network" },
      h("summary", {}, "Network"),
      textField("caCertificate", "Extra CA certificate file", "A TLS-inspecting proxy's or the local tenant's CA."),
      textField("proxy", "Proxy", "http://host:port (a password in it is stored apart)."),
    ),
    h(
      "div",
      { class: "actions" },
      h("button", { type: "submit", id: "save" }, "Save"),
      h("button", { type: "button", id: "test", "aria-describedby": "test-what" }, "Test"),
    ),
    h("p", { class: "help", id: "test-what" }),
  );
  return f;
}

/** What Test tests: the form as edited (unsaved), else the tenant chosen on the Tenants page, else the profile. */
function testSubject(): { body: object; text: string } {
  if (dirty) return { body: {}, text: "Test tests the form as it stands (not saved)." };
  if (state.tenant !== null)
    return {
      body: { tenant: state.tenant },
      text: `Test tests tenant ${state.tenant}, chosen on the Tenants page (as connect test --tenants ${state.tenant}).`,
    };
  const profile = input("profile-select").value;
  return profile === LOCAL
    ? { body: { profile: null }, text: "Test tests the local tenant (no profile)." }
    : { body: { profile }, text: `Test tests profile ${profile}.` };
}

function showTestSubject(): void {
  byId("test-what").textContent = testSubject().text;
}

function stepsList(r: TestResponse): El {
  const mark = { ok: "✓", warning: "!", failed: "✗", skipped: "–" } as const;
  return h(
    "ol",
    { class: "steps", "aria-label": "Connection steps" },
    ...r.steps.map((s) =>
      h(
        "li",
        { class: `step ${s.status}` },
        h("span", { "aria-hidden": "true" }, mark[s.status], " "),
        `${s.name}: ${s.detail}`,
        h("span", { class: "sr-only" }, ` (${s.status})`),
      ),
    ),
  );
}

function statusTable(r: TestResponse): El {
  return table(
    "Intune connection status",
    ["Permission", "Used for", "Enabled", "Probe"],
    r.permissions.map((p) => [
      h("code", {}, p.permission),
      p.usedFor,
      h(
        "span",
        { class: p.enabled ? "yes" : "no" },
        p.enabled ? `✓ Granted${p.via ? ` (via ${p.via})` : ""}` : "✗ Not granted",
      ),
      h(
        "span",
        { class: p.probe.status === "ok" ? "yes" : p.probe.status === "skipped" ? "" : "no" },
        `${p.probe.status === "ok" ? "✓" : p.probe.status === "skipped" ? "–" : "✗"} ${p.probe.what}${
          p.probe.httpStatus === undefined ? "" : ` (HTTP ${p.probe.httpStatus})`
        }`,
      ),
    ]),
    { id: "status-table" },
  );
}

function credentialTable(r: TestResponse): El | undefined {
  const c = r.credential;
  if (c === undefined) return undefined;
  const rows: string[][] = [["Credential", c.description]];
  if (c.thumbprintSha1) rows.push(["Thumbprint (SHA-1)", c.thumbprintSha1]);
  if (c.subject) rows.push(["Subject", c.subject]);
  rows.push(["Expires", c.expiresOn ? `${c.expiresOn} (${c.daysLeft ?? "?"} days)` : "not known"]);
  return table("Credential", ["", "Value"], rows);
}

async function runTest(): Promise<void> {
  const result = byId("result");
  const button = input("test");
  const subject = testSubject();
  button.disabled = true;
  result.replaceChildren(notice("info", dirty ? "Testing the form (not saved)…" : "Testing the connection…"));
  try {
    // Edited: the form as it stands, without saving it; else the tenant chosen on the Tenants page (its resolved
    // target, as Test all tests it); else the saved profile (`connect test --profile`).
    const r = await api<TestResponse>("/api/connection/test", dirty ? { draft: await readForm() } : subject.body);
    const tested = dirty
      ? "Tested the form as it stands; it is not saved."
      : subject.text.replace(/^Test tests/, "Tested");
    const verdict = r.ok
      ? notice("ok", "Connection test passed.", tested)
      : notice(
          "error",
          r.problem?.message ?? `Connection test failed: ${r.result}.`,
          r.problem?.fix === undefined ? undefined : `Fix: ${r.problem.fix}`,
          tested,
        );
    result.replaceChildren(
      verdict,
      h("h2", {}, "Connection steps"),
      stepsList(r),
      ...(r.permissions.length > 0 ? [statusTable(r)] : []),
      ...[credentialTable(r)].filter((x): x is El => x !== undefined),
      ...r.warnings.map((w) => notice("info", `Warning: ${w}`)),
    );
  } catch (e) {
    result.replaceChildren(errorNotice(e));
  } finally {
    button.disabled = false;
    result.focus();
  }
}

async function save(): Promise<void> {
  const result = byId("result");
  try {
    const saved = await api<SaveResponse>("/api/profiles", await readForm());
    state = await api<ProfilesResponse>("/api/profiles");
    byId("switcher").replaceChildren(switcher());
    fillForm(state.profiles.find((p) => p.name === saved.profile));
    showTestSubject();
    result.replaceChildren(
      notice("ok", `Saved profile ${saved.profile}.`, `Authority: ${saved.authority}`, `Graph: ${saved.graphBaseUrl}`),
    );
  } catch (e) {
    result.replaceChildren(errorNotice(e));
  }
  result.focus();
}

export async function render(main: El): Promise<void> {
  state = await api<ProfilesResponse>("/api/profiles");
  main.append(
    h("div", { id: "switcher" }, switcher()),
    form(),
    h("section", { id: "result", "aria-live": "polite", tabindex: "-1", "aria-label": "Result" }),
  );
  fillForm(state.profiles.find((p) => p.name === state.current));
  showTestSubject();
  const f = byId("connection-form");
  f.addEventListener("input", () => {
    dirty = true;
    showTestSubject();
  });
  f.addEventListener("change", (e) => {
    dirty = true;
    showTestSubject();
    const t = e.target as FormControl;
    if (t.name === "cloud") applyCloud(t.value);
    if (t.name === "credentialType") applyCredential(t.value);
  });
  f.addEventListener("submit", (e) => {
    e.preventDefault();
    void save();
  });
  input("test").addEventListener("click", () => void runTest());
}
