/** Diagnostics: versions, the settings in use without secrets, where the files are, the last run logs. */
import type { DiagnosticsResponse } from "../api.js";
import { api, h, table } from "./dom.js";
import type { El } from "./dom.js";

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
      : table(
          "Last run logs",
          ["File", "Size", "Written"],
          d.logs.map((l) => [h("code", {}, l.name), `${l.bytes} bytes`, l.modified]),
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
