/**
 * The error-code table of docs/cli.md#error-codes, rendered from the catalogue (src/core/error-codes.ts) and the
 * kind → exit code map. `npm run docs:errors` writes it between the markers; a test fails when the file differs.
 */
import { ERROR_GROUPS } from "../core/error-codes.js";
import type { ErrorCodeEntry } from "../core/error-codes.js";
import { EXIT_CODES } from "./exit-codes.js";

export const TABLE_START = "<!-- error-codes:start (generated from src/core/error-codes.ts: npm run docs:errors) -->";
export const TABLE_END = "<!-- error-codes:end -->";

function cell(text: string): string {
  return text.replaceAll("|", "\\|");
}

function help(e: ErrorCodeEntry): string {
  return typeof e.troubleshooting === "string"
    ? `[troubleshooting](troubleshooting.md${e.troubleshooting})`
    : cell(e.troubleshooting.none);
}

/** The generated lines, markers included. */
export function errorCodeTable(): string {
  const lines = [TABLE_START, ""];
  for (const [area, group] of ERROR_GROUPS) {
    lines.push(`**${area}**`, "", "| code | exit | meaning | help |", "|---|---|---|---|");
    for (const [code, e] of Object.entries(group) as [string, ErrorCodeEntry][])
      lines.push(`| \`${code}\` | ${EXIT_CODES[e.kind]} | ${cell(e.meaning)} | ${help(e)} |`);
    lines.push("");
  }
  lines.push(TABLE_END);
  return lines.join("\n");
}

/** `doc` with the region between the markers replaced by the table; throws when the markers are missing. */
export function withErrorCodeTable(doc: string): string {
  const start = doc.indexOf(TABLE_START);
  const end = doc.indexOf(TABLE_END);
  if (start < 0 || end < start) throw new Error(`docs/cli.md lacks the markers ${TABLE_START} … ${TABLE_END}.`);
  return doc.slice(0, start) + errorCodeTable() + doc.slice(end + TABLE_END.length);
}
