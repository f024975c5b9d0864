import { stringify } from "yaml";
import type { CommandContext } from "./command.js";

/** A table: rows of cells, first row is the header. */
export type Table = string[][];

export function renderTable(table: Table): string {
  const widths: number[] = [];
  for (const row of table) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, [...cell].length)));
  return table
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell + " ".repeat((widths[i] ?? 0) - [...cell].length)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** A two-column key/value table. */
export function keyValueTable(entries: [string, unknown][]): Table {
  return entries.filter(([, v]) => v !== undefined && v !== null).map(([k, v]) => [k, String(v)]);
}

/**
 * A table as CSV (RFC 4180 fields: one with a comma, quote or line break quoted, quotes doubled). Lines end in LF:
 * stdout turns CRLF into LF anyway (safe-output.ts), and CSV readers accept both.
 */
export function renderCsv(table: Table): string {
  const field = (s: string): string => (/[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);
  return table.map((row) => row.map(field).join(",")).join("\n") + "\n";
}

/** Data goes to stdout: JSON or YAML (stable, machine-readable; the same data), the table as CSV, or a table. */
export function printData(ctx: CommandContext, data: unknown, table: () => Table): void {
  if (ctx.output === "json") ctx.stdout.write(JSON.stringify(data, null, 2) + "\n");
  else if (ctx.output === "yaml") ctx.stdout.write(stringify(data, { lineWidth: 0 }));
  else if (ctx.output === "csv") ctx.stdout.write(renderCsv(table()));
  else ctx.stdout.write(renderTable(table()) + "\n");
}
