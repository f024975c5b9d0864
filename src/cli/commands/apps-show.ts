import { z } from "zod";
import { readStamp } from "../../core/app-definition/stamp.js";
import { assignmentLabel } from "../../core/targeting/assignments.js";
import { describeLink, outgoingLinks } from "../../core/targeting/relationships.js";
import { showApp } from "../../publish/apps.js";
import { detectionText, installBehaviourText, requirementsText } from "../app-text.js";
import { formatBytes } from "../progress.js";
import { defineCommand } from "../command.js";
import { argument } from "../options.js";
import { keyValueTable, printData } from "../output.js";
import { withGraph } from "../session.js";
import { tenantOptions } from "../tenant-options.js";

export default defineCommand({
  description: [
    "Also shows its assignments (group names resolved when the app registration may read groups) and its",
    "supersedence and dependency links. The JSON output is the app as Graph returns it, with largeIcon shortened",
    "to its type and size, plus `assignments`, `relationships`, `categories`, `espProfiles` (the Enrollment Status",
    "Page profiles listing the app; null without the permission to read them), `role` (for ours: current, kept or",
    "rolled back) and `target` (which tenant: cloud, tenant id, source).",
  ].join("\n"),
  options: z.object({
    app: argument(z.string().min(1), {
      value: "ID|NAME",
      help: "an app id, a display name (case-insensitive) or the definition id of an app we published",
    }),
    ...tenantOptions.shape,
  }),
  async run(ctx, o) {
    const {
      app,
      assignments,
      relationships,
      names: labels,
      categories,
      scopeTagNames,
      role,
      espProfiles,
      target,
    } = await withGraph(ctx, o, "Showing an app of", async (s, t) => ({
      ...(await showApp(s.graph, o.app, ctx.signal)),
      target: t.info,
    }));
    const icon = app.largeIcon;
    const shown = {
      ...app,
      largeIcon: icon ? { type: icon.type, bytes: Buffer.from(icon.value, "base64").length } : null,
      assignments,
      relationships,
      categories,
      espProfiles: espProfiles ?? null,
      ...(role === undefined ? {} : { role }),
      target,
    };
    const names = (id: string) => relationships.find((r) => r.targetId === id)?.targetDisplayName ?? id;
    const s = readStamp(app.notes);
    printData(ctx, shown, () =>
      keyValueTable([
        ["App id", app.id],
        ["Name", app.displayName],
        ["Publisher", app.publisher],
        ["Version", app.displayVersion],
        ["Publishing state", app.publishingState],
        ["Committed content version", app.committedContentVersion ?? "-"],
        ["Size", `${formatBytes(app.size)} (${app.size} bytes)`],
        ["File name", app.fileName],
        ["Setup file", app.setupFilePath],
        ["Install command", app.installCommandLine],
        ["Uninstall command", app.uninstallCommandLine],
        ["Install behaviour", installBehaviourText(app)],
        ["Detection", (app.detectionRules ?? []).map(detectionText).join("; ") || "none"],
        ["Requirements", requirementsText(app).join("; ") || "none"],
        ["Categories", categories.map((c) => c.displayName).join(", ") || "none"],
        [
          "Scope tags",
          (app.roleScopeTagIds ?? [])
            .map((id) => (scopeTagNames.has(id) ? `${scopeTagNames.get(id)} (${id})` : id))
            .join(", ") || "none",
        ],
        ["Icon", icon ? `${icon.type}, ${shown.largeIcon?.bytes} bytes` : "none"],
        [
          "Published by intune-publisher",
          s.status === "valid"
            ? `yes: ${s.stamp.id} ${s.stamp.version} (${s.stamp.contentHash.slice(0, 19)}…), ${role ?? (s.stamp.rolledBack ? "rolled back" : "kept")}`
            : s.status === "invalid"
              ? `unreadable stamp (${s.reason})`
              : "no",
        ],
        [
          "Assignments",
          assignments.length === 0 ? "none" : assignments.map((a) => assignmentLabel(a, labels)).join("; "),
        ],
        [
          "Relationships",
          [
            ...outgoingLinks(app.id, relationships).map((l) => describeLink(l, names)),
            ...relationships
              .filter((r) => r.targetType === "parent")
              .map(
                (r) =>
                  `${r["@odata.type"].endsWith("Supersedence") ? "superseded by" : "required by"} ${r.targetDisplayName ?? r.targetId} (${r.targetId})`,
              ),
          ].join("; ") || "none",
        ],
        [
          "ESP profiles",
          espProfiles === undefined
            ? "unknown (no permission to read Enrollment Status Page profiles)"
            : espProfiles.map((p) => p.displayName).join(", ") || "none",
        ],
        ["Created", app.createdDateTime],
        ["Last modified", app.lastModifiedDateTime],
      ]),
    );
    return 0;
  },
});
