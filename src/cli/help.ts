/** Help texts, derived from the commands' declarations, and the "did you mean" of an unknown command. */
import type { Command } from "./command.js";
import { COMMANDS } from "./commands/index.js";
import { helpRows, optionLabel, optionSpecs, optionsHelp, specsOf, usageLine } from "./options.js";
import type { Spec } from "./options.js";

export const PROGRAM = "intune-publisher";

function commandRows(names: string[]): [string, string][] {
  return names.map((n) => [n, COMMANDS[n]?.summary ?? ""]);
}

export function topHelp(globals: Spec[]): string {
  return [
    `${PROGRAM}: package, publish and keep Win32 apps in Microsoft Intune.`,
    "",
    `Usage: ${PROGRAM} <command> [options]`,
    "",
    "Commands:",
    ...helpRows(commandRows(Object.keys(COMMANDS))),
    "",
    "Global options:",
    ...helpRows([
      ...optionSpecs(globals).map((o): [string, string] => [optionLabel(o), o.meta.help]),
      ["    --version", "print the version"],
    ]),
    "",
    `Run \`${PROGRAM} <command> --help\` for a command's options. Exit codes: docs/cli.md.`,
  ].join("\n");
}

/** The commands of a group (`apps` → apps list, apps show, apps remove); empty when `word` is no group. */
export function groupCommands(word: string): string[] {
  return Object.keys(COMMANDS).filter((n) => n.startsWith(`${word} `));
}

export function groupHelp(group: string): string {
  return [
    `Usage: ${PROGRAM} ${group} <command> [options]`,
    "",
    "Commands:",
    ...helpRows(commandRows(groupCommands(group))),
    "",
    `Run \`${PROGRAM} ${group} <command> --help\` for a command's options.`,
  ].join("\n");
}

export function commandHelp(name: string, command: Command, globals: Spec[]): string {
  const specs = specsOf(command.options);
  const lines = [COMMANDS[name]?.summary ?? "", "", `Usage: ${PROGRAM} ${usageLine(name, specs)}`];
  if (command.description) lines.push("", command.description);
  const options = optionsHelp(specs);
  if (options.length > 0) lines.push("", ...options);
  if (command.notes) lines.push("", command.notes);
  const global = optionSpecs(globals).map(
    (o) => `--${o.flag}${o.type === "string" ? ` ${o.meta.value ?? "VALUE"}` : ""}`,
  );
  lines.push("", `Global options: ${global.join(", ")}`);
  return lines.join("\n");
}

/** Edit distance counting a swap of two neighbours as one edit (optimal string alignment). */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => i || j));
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  return d[a.length]![b.length]!;
}

/** The candidate closest to `word`, when it is close enough to be a typo (or `word` begins it). */
export function closest(word: string, candidates: string[]): string | undefined {
  const w = word.toLowerCase();
  let best: { c: string; d: number } | undefined;
  for (const c of candidates) {
    const d = c.startsWith(w) && w.length >= 2 ? 0 : editDistance(w, c);
    if (best === undefined || d < best.d) best = { c, d };
  }
  return best !== undefined && best.d <= Math.max(1, Math.floor(w.length / 3)) ? best.c : undefined;
}

/** What the user probably meant by `argv` (an unknown command), as a command line to suggest. */
export function suggestCommand(argv: string[]): string | undefined {
  const names = Object.keys(COMMANDS);
  const [first = "", second] = argv;
  const group = groupCommands(first).length > 0 ? first : undefined;
  const top = group ?? closest(first, [...new Set(names.map((n) => n.split(" ")[0]!))]);
  if (top === undefined) return undefined;
  const members = groupCommands(top);
  if (members.length === 0) return top;
  const sub =
    second === undefined || second.startsWith("-")
      ? undefined
      : closest(
          second,
          members.map((m) => m.slice(top.length + 1)),
        );
  return sub === undefined ? top : `${top} ${sub}`;
}
