/**
 * Diagnostics: versions, the settings in use without secrets, where the files are, the last run logs (each opened
 * in the page, redacted, with a way back to the list).
 */
import type { DiagnosticsResponse } from "../api.js";
import { api, byId, errorNotice, h, notice, table } from "./dom.js";
import type { El } from "./dom.js";
import { fetchLog, logView } from "./log-view.js";

/** The log `name` in place of the list; Back returns to the list, focus on the log's Open button. */
async function openLog(name: string, opener: El): Promise<void> {
  const list = byId("logs-list");
  const out = byId("log-open");
  const back = h("button", { type: "button" }, "Back to the run logs");
  back.addEventListener("click", () => {
    out.replaceChildren();
    list.hidden = false;
    opener.focus();
  });
  list.hidden = true;
  out.replaceChildren(back, notice("info", `Reading ${name}…`));
  try {
    const log = await fetchLog(`/api/diagnostics/log?name=${encodeURIComponent(name)}`);
    out.replaceChildren(back, ...logView("log-file", `Run log ${name}`, log, "This run log is empty."));
    byId("log-file-h").focus();
  } catch (e) {
    out.replaceChildren(back, errorNotice(e));
    back.focus();
  }
}

function openButton(name: string): El {
  const b = h("button", { type: "button" }, "Open", h("span", { class: "sr-only" }, ` ${name}`));
  b.addEventListener("click", () => void openLog(name, b));
  return b;
}

export async function render(main: El): Promise<void> {
  const d = await api<DiagnosticsResponse>("/api/diagnostics");
  const p = d.profile;
  const settings: string[][] =
    p === undefined
      ? [["Tenant", "the local tenant (no profile)"]]
      : [
          ["Profile", p.name],
          ["Cloud", p.cloud],
          ["Tenant", p.tenant],
          ["Application (client) ID", p.clientId],
          ["Authority", p.authorityHost ?? "the cloud's"],
          ["Graph base URL", p.graphBaseUrl ?? "the cloud's"],
          [
            "Credential",
            p.credentialType === "secret"
              ? `client secret (${p.secretStored ? "stored" : "not stored"}${p.secretExpiresOn ? `, expires ${p.secretExpiresOn}` : ""})`
              : p.credentialType === "certificate"
                ? `certificate ${p.certificatePath ?? ""}`
                : `federated token file ${p.tokenFile ?? ""}`,
          ],
          ["Proxy", p.proxy ?? "none"],
          ["Extra CA", p.caCertificate ?? "none"],
        ];
  main.append(
    table(
      "Versions",
      ["Component", "Version"],
      d.versions.map((v) => [v.name, v.version]),
    ),
    table("Settings in use (no secrets)", ["Setting", "Value"], settings),
    table(
      "Files",
      ["What", "Path"],
      d.files.map((f) => [f.what, h("code", {}, f.path)]),
    ),
    d.logs.length === 0
      ? h("p", {}, "No run log yet.")
      : h(
          "div",
          {},
          h(
            "div",
            { id: "logs-list" },
            table(
              "Last run logs",
              ["File", "Size", "Written", "Log"],
              d.logs.map((l) => [h("code", {}, l.name), `${l.bytes} bytes`, l.modified, openButton(l.name)]),
            ),
          ),
          h("div", { id: "log-open", "aria-live": "polite" }),
        ),
    h("h2", {}, "Support bundle"),
    h(
      "p",
      {},
      "One zip to attach to a support request: these facts, the profiles without secrets, the connection test and the last run logs, redacted again (the same as `intune-publisher diagnostics`).",
    ),
    h("a", { href: "/api/diagnostics/bundle", download: "", class: "button" }, "Download support bundle"),
  );
}
