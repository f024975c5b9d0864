import { listApps } from "../../publish/apps.js";
import { defineCommand } from "../command.js";
import { printData } from "../output.js";
import { withGraph } from "../session.js";
import { tenantOptions } from "../tenant-options.js";

export default defineCommand({
  description: [
    "Every win32LobApp of the tenant: app id, name, version, publishing state, committed content version, and the",
    "definition id from the ownership stamp for apps intune-publisher published (`-` for the others), and their status:",
    "current (the version publish and rollback act on), kept (a retained previous version) or rolled back.",
    "Tenant options as for `publish` (with nothing configured: the local tenant). The JSON output is",
    "`{target, apps}`: which tenant (cloud, tenant id, source), and the apps.",
  ].join("\n"),
  options: tenantOptions,
  async run(ctx, o) {
    const { rows, target } = await withGraph(ctx, o, "Listing the apps of", async (s, t) => ({
      rows: await listApps(s.graph, ctx.signal),
      target: t.info,
    }));
    printData(ctx, { target, apps: rows }, () => [
      ["App id", "Name", "Version", "State", "Content version", "Definition", "Status"],
      ...rows.map((r) => [
        r.appId,
        r.displayName,
        r.displayVersion || "-",
        r.publishingState,
        r.committedContentVersion ?? "-",
        r.definitionId ?? (r.stamp === "invalid" ? "(unreadable stamp)" : "-"),
        r.status === "other" ? "-" : r.status,
      ]),
    ]);
    return 0;
  },
});
