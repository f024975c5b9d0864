import { z } from "zod";
import { readStamp } from "../../core/app-definition/stamp.js";
import { assignmentLabel } from "../../core/targeting/assignments.js";
import type { RelationshipRow } from "../../core/targeting/relationships.js";
import { describeLink, outgoingLinks } from "../../core/targeting/relationships.js";
import type { MobileAppAssignmentWire } from "../../core/wire/graph.js";
import { findApp } from "../../publish/apps.js";
import { defineCommand } from "../command.js";
import { argument } from "../options.js";
import { keyValueTable, printData } from "../output.js";
import { withGraph } from "../session.js";
import { tenantOptions } from "../tenant-options.js";

export default defineCommand({
  description: [
    "Also shows its assignments (group names resolved when the app registration may read groups) and its",
    "supersedence and dependency links. The JSON output is the app as Graph returns it, with largeIcon shortened",
    "to its type and size, plus `assignments`, `relationships` and `target` (which tenant: cloud, tenant id, source).",
  ].join("\n"),
  options: z.object({
    app: argument(z.string().min(1), {
      value: "ID|NAME",
      help: "an app id, a display name (case-insensitive) or the definition id of an app we published",
    }),
    ...tenantOptions.shape,
  }),
  async run(ctx, o) {
    const { app, assignments, relationships, groups, filters, target } = await withGraph(ctx, o, async (s, t) => {
      const found = await findApp(s.graph, o.app, ctx.signal);
      const base = `/deviceAppManagement/mobileApps/${encodeURIComponent(found.id)}`;
      const opts = { signal: ctx.signal };
      const assignments = await s.graph.listAll<MobileAppAssignmentWire>(`${base}/assignments`, opts);
      // Relationships are a beta route: a v1.0 Graph URL simply has none to show.
      const relationships = await s.graph
        .listAll<RelationshipRow>(`${base}/relationships`, opts)
        .catch(() => [] as RelationshipRow[]);
      const groups = new Map<string, string>();
      for (const a of assignments) {
        const id = a.target.groupId;
        if (id === undefined || groups.has(id.toLowerCase())) continue;
        const g = await s.graph
          .get<{ displayName: string }>(`/groups/${encodeURIComponent(id)}`, {
            query: { $select: "displayName" },
            ...opts,
          })
          .catch(() => undefined);
        if (g) groups.set(id.toLowerCase(), g.displayName);
      }
      const filters = new Map<string, string>();
      if (assignments.some((a) => (a.target.deviceAndAppManagementAssignmentFilterType ?? "none") !== "none"))
        for (const f of await s.graph
          .listAll<{ id: string; displayName: string }>("/deviceManagement/assignmentFilters", opts)
          .catch(() => []))
          filters.set(f.id.toLowerCase(), f.displayName);
      return { app: found, assignments, relationships, groups, filters, target: t.info };
    });
    const icon = app.largeIcon;
    const shown = {
      ...app,
      largeIcon: icon ? { type: icon.type, bytes: Buffer.from(icon.value, "base64").length } : null,
      assignments,
      relationships,
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
        ["Size", app.size],
        ["File name", app.fileName],
        ["Setup file", app.setupFilePath],
        ["Install command", app.installCommandLine],
        ["Uninstall command", app.uninstallCommandLine],
        ["Detection rules", app.detectionRules?.length ?? 0],
        ["Requirement rules", app.requirementRules?.length ?? 0],
        ["Scope tags", (app.roleScopeTagIds ?? []).join(", ")],
        ["Icon", icon ? `${icon.type}, ${shown.largeIcon?.bytes} bytes` : "none"],
        [
          "Published by intune-publisher",
          s.status === "valid"
            ? `yes: ${s.stamp.id} ${s.stamp.version} (${s.stamp.contentHash.slice(0, 19)}…)${s.stamp.rolledBack ? ", rolled back" : ""}`
            : s.status === "invalid"
              ? `unreadable stamp (${s.reason})`
              : "no",
        ],
        [
          "Assignments",
          assignments.length === 0
            ? "none"
            : assignments.map((a) => assignmentLabel(a, { groups, filters })).join("; "),
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
        ["Created", app.createdDateTime],
        ["Last modified", app.lastModifiedDateTime],
      ]),
    );
    return 0;
  },
});
