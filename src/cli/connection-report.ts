/** The connection test's report for people (`connect test`, `publish --test-connection`). */
import type { ConnectionReport, StepStatus } from "../publish/connect/test-connection.js";
import { renderTable } from "./output.js";

const MARK: Record<StepStatus, string> = { ok: "✓", warning: "!", failed: "✗", skipped: "-" };

/** The steps, then (when there are any) the permissions with their probes. */
export function connectionTables(report: ConnectionReport): string[] {
  const lines = [renderTable([["", "Step", "Result"], ...report.steps.map((s) => [MARK[s.status], s.name, s.detail])])];
  if (report.permissions.length > 0)
    lines.push(
      "",
      renderTable([
        ["Permission", "Used for", "Enabled", "Probe"],
        ...report.permissions.map((p) => [
          p.permission,
          p.usedFor,
          p.enabled ? (p.via ? `✓ (via ${p.via})` : "✓") : "✗",
          `${MARK[p.probe.status]} ${p.probe.what}${p.probe.httpStatus !== undefined ? ` (HTTP ${p.probe.httpStatus}${p.probe.requestId ? `, request-id ${p.probe.requestId}` : ""})` : ""}`,
        ]),
      ]),
    );
  return lines;
}

/** The credential (thumbprints, subject, expiry) and the verdict, after the tables. */
export function connectionFooter(report: ConnectionReport): string[] {
  const lines: string[] = [];
  const c = report.credential;
  if (c) {
    const rows: string[][] = [["Credential", c.description]];
    if (c.thumbprintSha1) rows.push(["Thumbprint (SHA-1)", c.thumbprintSha1]);
    if (c.thumbprintSha256) rows.push(["Thumbprint (SHA-256)", c.thumbprintSha256]);
    if (c.subject) rows.push(["Subject", c.subject]);
    if (c.expiresOn) rows.push(["Expires", `${c.expiresOn} (${c.daysLeft ?? "?"} days)`]);
    lines.push("", renderTable(rows));
  }
  lines.push(
    "",
    report.ok ? "Connection test passed." : `Connection test failed: ${report.problem?.message ?? report.result}`,
  );
  return lines;
}
