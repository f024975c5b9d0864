/**
 * Each command option is declared once: a zod schema for its value, registered with its help (and short name, value
 * placeholder, heading). parseArgs' configuration, the help text and the error messages are derived from it. Keys are
 * camelCase (`dryRun`); the flag is their kebab-case (`--dry-run`). Arguments (positionals) are declared the same
 * way with `argument()`, in order; an array argument takes all the remaining ones.
 */
import type { ParseArgsConfig } from "node:util";
import { z } from "zod";

export interface OptionMeta {
  /** what it does, for people: one paragraph (wrapped when printed) */
  help: string;
  /** a one-letter alias (`-p`) */
  short?: string;
  /** the placeholder of its value in help (`DIR`, `FILE`, `N`); string options only */
  value?: string;
  /** the heading it is listed under (default "Options") */
  group?: string;
}

export interface ArgumentMeta {
  /** its name in the usage line and in help (`FILE`, `ID|NAME`, `APP.yaml…`) */
  value: string;
  help: string;
}

type Meta = ({ kind: "option" } & OptionMeta) | ({ kind: "argument" } & ArgumentMeta);

const cli = z.registry<Meta>();

/** A flag: `schema` validates (and may transform) its value; boolean schemas make switches, arrays repeatable flags. */
export function option<T extends z.ZodType>(schema: T, meta: OptionMeta): T {
  // A copy: a shared schema (byteSizeFlag) may be declared by several options with different help.
  const own = schema.clone();
  cli.add(own, { kind: "option", ...meta });
  return own;
}

/** A positional argument; an array schema takes every remaining argument (declare it last). */
export function argument<T extends z.ZodType>(schema: T, meta: ArgumentMeta): T {
  const own = schema.clone();
  cli.add(own, { kind: "argument", ...meta });
  return own;
}

export interface OptionSpec {
  kind: "option";
  key: string;
  /** `dry-run` */
  flag: string;
  type: "string" | "boolean";
  multiple: boolean;
  required: boolean;
  meta: OptionMeta;
}

export interface ArgumentSpec {
  kind: "argument";
  key: string;
  /** takes the remaining arguments (an array) */
  rest: boolean;
  required: boolean;
  meta: ArgumentMeta;
}

export type Spec = OptionSpec | ArgumentSpec;

export const kebab = (key: string): string => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
export const camel = (flag: string): string => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** The schema under optional/default/transform wrappers: what the command line gives (text, a switch, a list). */
function base(s: z.core.$ZodType): z.core.$ZodType {
  if (s instanceof z.ZodOptional || s instanceof z.ZodDefault || s instanceof z.ZodNullable) return base(s.unwrap());
  if (s instanceof z.ZodCatch || s instanceof z.ZodPrefault) return base(s.unwrap());
  if (s instanceof z.ZodPipe) return base(s.in);
  return s;
}

/** The declared options and arguments of an options object, in declaration order. */
export function specsOf(options: z.ZodObject): Spec[] {
  return Object.entries(options.shape).map(([key, schema]): Spec => {
    const meta = cli.get(schema);
    if (meta === undefined) throw new Error(`The option "${key}" is declared without option() or argument().`);
    const b = base(schema);
    const required = !schema.safeParse(undefined).success;
    if (meta.kind === "argument") {
      const { kind, ...m } = meta;
      return { kind, key, rest: b instanceof z.ZodArray, required, meta: m };
    }
    const { kind, ...m } = meta;
    return {
      kind,
      key,
      flag: kebab(key),
      type: b instanceof z.ZodBoolean ? "boolean" : "string",
      multiple: b instanceof z.ZodArray,
      required,
      meta: m,
    };
  });
}

export const optionSpecs = (specs: Spec[]): OptionSpec[] => specs.filter((s) => s.kind === "option");
export const argumentSpecs = (specs: Spec[]): ArgumentSpec[] => specs.filter((s) => s.kind === "argument");

/** node:util parseArgs' `options` for these flags. */
export function parseArgsOptions(specs: Spec[]): NonNullable<ParseArgsConfig["options"]> {
  return Object.fromEntries(
    optionSpecs(specs).map((s) => [
      s.flag,
      {
        type: s.type,
        ...(s.multiple ? { multiple: true } : {}),
        ...(s.meta.short === undefined ? {} : { short: s.meta.short }),
      },
    ]),
  );
}

/** `-p, --profile NAME` */
export function optionLabel(s: OptionSpec): string {
  const value = s.type === "string" ? ` ${s.meta.value ?? "VALUE"}` : "";
  return `${s.meta.short === undefined ? "    " : `-${s.meta.short}, `}--${s.flag}${value}`;
}

/** `package --source DIR --setup FILE --out DIR [options]`: the arguments, then the flags that must be given. */
export function usageLine(name: string, specs: Spec[]): string {
  const words = [name];
  // An array argument reads as any number (`APP.yaml…`); the command says when it needs one.
  for (const a of argumentSpecs(specs)) words.push(a.required || a.rest ? a.meta.value : `[${a.meta.value}]`);
  for (const o of optionSpecs(specs)) if (o.required) words.push(`--${o.flag} ${o.meta.value ?? "VALUE"}`);
  if (optionSpecs(specs).some((o) => !o.required)) words.push("[options]");
  return words.join(" ");
}

/** Splits `text` into lines of at most `width` characters (a longer word stands alone). */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === "" ? word : `${line} ${word}`;
  }
  if (line !== "") lines.push(line);
  return lines;
}

export const HELP_WIDTH = 112;
const LABEL_MAX = 30;

/** Rows of `  label   help`, help wrapped beside the labels (under a label too long to share its line). */
export function helpRows(rows: [label: string, help: string][]): string[] {
  const width = Math.min(LABEL_MAX, Math.max(0, ...rows.map(([l]) => l.length)));
  const indent = 2 + width + 2;
  const out: string[] = [];
  for (const [label, help] of rows) {
    const text = wrap(help, HELP_WIDTH - indent);
    if (label.length > width) out.push(`  ${label}`);
    else out.push(`  ${label.padEnd(width)}  ${text.shift() ?? ""}`.trimEnd());
    for (const t of text) out.push(`${" ".repeat(indent)}${t}`);
  }
  return out;
}

/** The Arguments section and one section per option heading, in declaration order. */
export function optionsHelp(specs: Spec[]): string[] {
  const out: string[] = [];
  const args = argumentSpecs(specs);
  if (args.length > 0) out.push("Arguments:", ...helpRows(args.map((a) => [a.meta.value, a.meta.help])));
  const groups = new Map<string, OptionSpec[]>();
  for (const o of optionSpecs(specs)) {
    const g = o.meta.group ?? "Options";
    groups.set(g, [...(groups.get(g) ?? []), o]);
  }
  for (const [heading, opts] of groups) {
    if (out.length > 0) out.push("");
    out.push(...wrap(`${heading}:`, HELP_WIDTH), ...helpRows(opts.map((o) => [optionLabel(o), o.meta.help])));
  }
  return out;
}
