/**
 * What a removal changes, in words and tables: the one description `apps remove` prints (dry run and the terminal's
 * confirmation) and the console's Apps page shows (its confirmation and the result).
 */
import type { Removal } from "./remove.js";
import type { ReportBlock } from "./rollback-report.js";

export interface RemovalReport {
  title: string;
  /** the apps deleted first, then relationships, ESP profiles, assignments */
  blocks: ReportBlock[];
}

const OWNER_TEXT = { removed: "removed app", ours: "intune-publisher", foreign: "not intune-publisher's" } as const;

export function removalReport(r: Removal, dryRun: boolean): RemovalReport {
  const what = r.definitionId === null ? "" : ` every version of ${r.definitionId}`;
  const title = dryRun ? `Remove${what} — dry run: nothing was changed` : `Removed${what}`;
  const text = (t: string): ReportBlock => ({ kind: "text", text: t });
  const blocks: ReportBlock[] = [
    {
      kind: "table",
      caption: "Apps deleted",
      rows: [
        ["Delete app", "Name", "Version", "Definition"],
        ...r.apps.map((a) => [
          a.appId,
          a.displayName,
          a.displayVersion || "-",
          a.definitionId === undefined ? "- (not intune-publisher's)" : `${a.definitionId} ${a.version ?? ""}`.trim(),
        ]),
      ],
    },
    r.relationships.length === 0
      ? text("Relationships: none to remove.")
      : {
          kind: "table",
          caption: "Relationships removed",
          rows: [
            ["Relationships removed from", "", "Link"],
            ...r.relationships.flatMap((row) =>
              row.text.map((t, i) => [
                i === 0 ? `${row.displayName} (${row.appId})` : "",
                i === 0 ? OWNER_TEXT[row.owner] : "",
                t,
              ]),
            ),
          ],
        },
    r.esp.length === 0
      ? text("Enrollment Status Page profiles: none list the app.")
      : {
          kind: "table",
          caption: "Enrollment Status Page profiles",
          rows: [
            ["Enrollment Status Page profile", "Apps taken out"],
            ...r.esp.map((c) => [c.displayName, c.remove.join(", ")]),
          ],
        },
    r.assignments.length === 0
      ? text("Assignments: none.")
      : {
          kind: "table",
          caption: "Assignments removed",
          rows: [
            ["Assignments removed from", "Assignment"],
            ...r.assignments.flatMap((a) => a.labels.map((l, i) => [i === 0 ? a.appId : "", l])),
          ],
        },
  ];
  return { title, blocks };
}
