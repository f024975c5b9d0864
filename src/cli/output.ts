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

/** Data goes to stdout: JSON or YAML (stable, machine-readable; the same data) or a table for people. */
export function printData(ctx: CommandContext, data: unknown, table: () => Table): void {
  if (ctx.output === "json") ctx.stdout.write(JSON.stringify(data, null, 2) + "\n");
  else if (ctx.output === "yaml") ctx.stdout.write(stringify(data, { lineWidth: 0 }));
  else ctx.stdout.write(renderTable(table()) + "\n");
}
