/**
 * What a rollback moves, in words and tables: the one description `rollback` prints (as text tables) and the
 * console shows (as HTML tables) before the confirmation and after the move.
 */
import type { RollbackResult } from "./rollback.js";

/** A table: the first row is the header. */
export interface ReportTable {
  kind: "table";
  caption: string;
  rows: string[][];
}
export type ReportBlock = ReportTable | { kind: "text"; text: string };

export interface RollbackReport {
  title: string;
  /** the versions (from → to) first, then what moves */
  blocks: ReportBlock[];
}

const ACTION_TEXT = { add: "add", change: "change", keep: "keep", remove: "remove" } as const;

export function rollbackReport(r: RollbackResult): RollbackReport {
  const p = r.rollback;
  const title = `Rollback of ${p.definitionId} (${p.displayName})${r.dryRun ? " — dry run: nothing was changed" : ""}`;
  const blocks: ReportBlock[] = [
    {
      kind: "table",
      caption: "Versions",
      rows: [
        ["From", p.from.version, `app ${p.from.appId}`],
        ["To", p.to.version, `app ${p.to.appId}`],
      ],
    },
  ];
  const text = (t: string): ReportBlock => ({ kind: "text", text: t });
  if (p.alreadyCurrent) {
    blocks.push(
      text(
        `${p.to.version} is already the current version of ${p.definitionId}: ${p.stamps.length > 0 ? "only its stamp is updated" : "nothing to do"}.`,
      ),
    );
  } else {
    const version = (appId: string) => (appId === p.to.appId ? p.to.version : p.from.version);
    blocks.push(
      p.assignments.length === 0
        ? text("Assignments: none to move.")
        : {
            kind: "table",
            caption: "Assignments",
            rows: [
              ["Assignments", "App id", "Version", "Change"],
              ...p.assignments.map((a) => [a.label, a.appId, version(a.appId), ACTION_TEXT[a.action]]),
            ],
          },
      p.esp.length === 0
        ? text("Enrollment Status Page profiles: none list the current app.")
        : {
            kind: "table",
            caption: "Enrollment Status Page profiles",
            rows: [
              ["Enrollment Status Page profile", "Change"],
              ...p.esp.map((c) => [c.displayName, `${c.remove.join(", ")} → ${c.add.join(", ")}`]),
            ],
          },
    );
  }
  if (p.stamps.length > 0)
    blocks.push({
      kind: "table",
      caption: "Ownership stamps",
      rows: [
        ["Ownership stamp", "Version", "After"],
        ...p.stamps.map((s) => [
          s.appId,
          s.version,
          s.rolledBack
            ? "rolled back"
            : `current; records ${s.targets.length} assignment target(s), ${s.esp.length} ESP profile(s)`,
        ]),
      ],
    });
  if (!p.alreadyCurrent)
    blocks.push(
      text(
        `Relationships are left as they are (${p.from.version} may still supersede ${p.to.version}; without assignments that has no effect).`,
      ),
    );
  return { title, blocks };
}
