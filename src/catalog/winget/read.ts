/**
 * One manifest file → a tree of known fields with their positions, checked against the field tables of schema.ts.
 *
 * As winget (yaml-cpp), every scalar is read as its text (YAML's failsafe schema): `PackageVersion: 1.10` is "1.10",
 * never the number 1.1; numbers and booleans are converted only where a field is one. Keys are matched
 * case-insensitively and must then be written in PascalCase; a key twice (in any case) is refused; a null value
 * (`~`, `null`, nothing) counts as absent, as in winget.
 *
 * Unknown keys: winget only warns about them, in every schema version (its JSON schemas have no
 * `additionalProperties: false`; `Manifest-Bad-UnknownProperty` is warning-only). We refuse them in the
 * ManifestVersions we know, as `winget validate` does with warnings treated as errors, because a misspelt key
 * (`Silnet`) silently changes what is installed; a manifest of a newer ManifestVersion than we know may carry new
 * fields, so there they are ignored with a warning.
 */
import type { Document, Node as YamlNode } from "yaml";
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument } from "yaml";
import type { DefinitionProblem, FieldPath } from "../../core/app-definition/errors.js";
import type { FieldSpec, ManifestVer } from "./schema.js";
import { compareManifestVer, formatManifestVer } from "./schema.js";

export interface Loc {
  file: string;
  line: number;
  column: number;
}

export type RawScalar = string | number | boolean;
export type RawData = RawScalar | RawScalar[] | RawMap | RawMap[] | null;

export interface RawField {
  /** Where the key is written. */
  keyLoc: Loc;
  /** Where the value is written. */
  loc: Loc;
  value: RawData;
}

/** A mapping of known fields, by their 1.x names. */
export interface RawMap {
  loc: Loc;
  path: FieldPath;
  fields: Map<string, RawField>;
}

/** Problems found while reading; `warn` ones do not refuse the manifest. */
export interface Problems {
  errors: DefinitionProblem[];
  warnings: DefinitionProblem[];
}

export function problemAt(loc: Loc, path: FieldPath, message: string): DefinitionProblem {
  return { path, message, file: loc.file, line: loc.line, column: loc.column };
}

/** Manifest text from bytes: UTF-8 (with or without BOM), UTF-16 LE/BE (BOM or NUL pattern), else Windows-1252. */
export function decodeManifest(bytes: Uint8Array): string {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) return b.subarray(3).toString("utf8");
  if (b[0] === 0xff && b[1] === 0xfe) return b.subarray(2).toString("utf16le");
  if (b[0] === 0xfe && b[1] === 0xff) return swap16(b.subarray(2)).toString("utf16le");
  // UTF-16 without a mark: ASCII text has a NUL in every other byte.
  if (b.length >= 4 && b.length % 2 === 0) {
    if (b[0] !== 0 && b[1] === 0 && b[2] !== 0 && b[3] === 0) return b.toString("utf16le");
    if (b[0] === 0 && b[1] !== 0 && b[2] === 0 && b[3] !== 0) return swap16(b).toString("utf16le");
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(b);
  } catch {
    // Not UTF-8: winget reads such files in the ANSI code page; Windows-1252 is the Western one.
    return new TextDecoder("windows-1252").decode(b);
  }
}

function swap16(b: Buffer): Buffer {
  const out = Buffer.from(b.subarray(0, b.length - (b.length % 2)));
  return out.swap16();
}

export interface ParsedYaml {
  doc: Document;
  at(offset: number): Loc;
}

/** YAML text → document; syntax errors become positioned problems. */
export function parseManifestYaml(text: string, file: string, problems: Problems): ParsedYaml | undefined {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false, schema: "failsafe" });
  const at = (offset: number): Loc => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, column: col };
  };
  if (doc.errors.length > 0) {
    const deep = doc.errors.find((e) => /Maximum call stack size exceeded/.test(e.message));
    for (const e of deep ? [deep] : doc.errors)
      problems.errors.push(
        problemAt(
          at(e.pos[0]),
          [],
          e === deep
            ? "The YAML nests too deeply to read (thousands of levels); a manifest needs a few."
            : `YAML syntax error: ${e.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "")}`,
        ),
      );
    return undefined;
  }
  return { doc, at };
}

/** A plain scalar that yaml-cpp reads as null. */
function isNull(node: unknown): boolean {
  if (node === null || node === undefined) return true;
  return isScalar(node) && node.type === "PLAIN" && ["", "~", "null", "Null", "NULL"].includes(String(node.value));
}

// eslint-disable-next-line no-control-regex -- refusing control characters is the point
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

export interface ReadContext {
  file: string;
  doc: Document;
  at(offset: number): Loc;
  version: ManifestVer;
  /** The version is newer than the tables we have: unknown keys only warn. */
  newer: boolean;
  problems: Problems;
  /** Alias expansions met so far (a document built to exhaust memory is refused). */
  aliases: { count: number };
}

const MAX_ALIASES = 100;

function startOf(node: unknown, ctx: ReadContext): Loc {
  const range = (node as YamlNode | null | undefined)?.range;
  return ctx.at(Array.isArray(range) ? range[0] : 0);
}

/** An alias (`*name`) → the node it names; more than MAX_ALIASES in one file are refused (memory bombs). */
function resolveAlias(node: unknown, ctx: ReadContext, path: FieldPath): unknown {
  if (!isAlias(node)) return node;
  if (++ctx.aliases.count > MAX_ALIASES) {
    ctx.problems.errors.push(problemAt(startOf(node, ctx), path, `More than ${MAX_ALIASES} YAML aliases: refused.`));
    return null;
  }
  return node.resolve(ctx.doc) ?? null;
}

/** Reads a mapping with `table`; returns undefined (and reports) when `node` is not a mapping. */
export function readMap(
  node: unknown,
  table: readonly FieldSpec[],
  ctx: ReadContext,
  path: FieldPath,
  what: string,
): RawMap | undefined {
  node = resolveAlias(node, ctx, path);
  const loc = startOf(node, ctx);
  if (!isMap(node)) {
    ctx.problems.errors.push(problemAt(loc, path, `${what} must be a mapping of fields.`));
    return undefined;
  }
  const out: RawMap = { loc, path, fields: new Map() };
  const seen = new Map<string, Loc>();
  for (const pair of node.items) {
    const keyNode = pair.key;
    const keyLoc = startOf(keyNode, ctx);
    if (!isScalar(keyNode)) {
      ctx.problems.errors.push(problemAt(keyLoc, path, "A key must be a plain name."));
      continue;
    }
    const key = String(keyNode.value);
    const spec = table.find((f) => f.name.toLowerCase() === key.toLowerCase());
    const canonical = spec?.as ?? spec?.name ?? key;
    const fieldPath = [...path, canonical];
    const first = seen.get(key.toLowerCase());
    if (first !== undefined) {
      ctx.problems.errors.push(
        problemAt(keyLoc, fieldPath, `Duplicate field found in the manifest: ${key} (first at line ${first.line}).`),
      );
      continue;
    }
    seen.set(key.toLowerCase(), keyLoc);
    if (spec === undefined) {
      const message = ctx.newer
        ? `Unknown field ${key}: ignored (ManifestVersion ${formatManifestVer(ctx.version)} is newer than the fields this tool knows).`
        : `Unknown field. [${key}] is not a field of ${what} in ManifestVersion ${formatManifestVer(ctx.version)}; check its spelling.`;
      (ctx.newer ? ctx.problems.warnings : ctx.problems.errors).push(problemAt(keyLoc, fieldPath, message));
      continue;
    }
    if (spec.since !== undefined && compareManifestVer(spec.since, ctx.version) > 0) {
      ctx.problems.errors.push(
        problemAt(
          keyLoc,
          fieldPath,
          `${key} is a field of ManifestVersion ${formatManifestVer(spec.since)} and later; this manifest declares ${formatManifestVer(ctx.version)}. Raise ManifestVersion or remove the field.`,
        ),
      );
      continue;
    }
    if (key !== spec.name) {
      ctx.problems.errors.push(
        problemAt(keyLoc, fieldPath, `All field names should be PascalCased: write ${spec.name}, not ${key}.`),
      );
      continue;
    }
    if (isNull(pair.value)) continue;
    const valueLoc = startOf(pair.value, ctx);
    const value = readValue(pair.value, spec, ctx, fieldPath);
    if (value === undefined) continue;
    if (spec.check !== undefined && !(value !== null && typeof value === "object" && !Array.isArray(value))) {
      const r = spec.check.safeParse(value);
      if (!r.success) {
        for (const issue of r.error.issues) {
          const sub = issue.path.filter((p): p is string | number => typeof p !== "symbol");
          const itemLoc = sub.length > 0 && typeof sub[0] === "number" ? itemStart(pair.value, sub[0], ctx) : valueLoc;
          ctx.problems.errors.push(problemAt(itemLoc, [...fieldPath, ...sub], fieldMessage(spec.name, issue.message)));
        }
        continue;
      }
      out.fields.set(canonical, { keyLoc, loc: valueLoc, value: r.data as RawData });
      continue;
    }
    out.fields.set(canonical, { keyLoc, loc: valueLoc, value });
  }
  return out;
}

function fieldMessage(field: string, message: string): string {
  return /^[A-Z][A-Za-z]+ /.test(message) && !message.startsWith("must") ? message : `${field} ${message}`;
}

function itemStart(node: unknown, index: number, ctx: ReadContext): Loc {
  return isSeq(node) ? startOf(node.items[index], ctx) : startOf(node, ctx);
}

function scalarText(node: unknown, ctx: ReadContext, path: FieldPath, field: string): string | undefined {
  node = resolveAlias(node, ctx, path);
  if (!isScalar(node)) {
    ctx.problems.errors.push(problemAt(startOf(node, ctx), path, `${field} must be a single value (text).`));
    return undefined;
  }
  const text = String(node.value);
  if (CONTROL.test(text)) {
    ctx.problems.errors.push(
      problemAt(startOf(node, ctx), path, `${field} contains a control character (U+${code(text)}): refused.`),
    );
    return undefined;
  }
  return text;
}

function code(text: string): string {
  return text.match(CONTROL)![0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0");
}

/** yaml-cpp's integer forms: decimal (signed) and 0x hexadecimal. */
export function parseIntText(text: string): number | undefined {
  const t = text.trim();
  if (/^[+-]?\d+$/.test(t)) return Number(t);
  if (/^0x[0-9a-fA-F]+$/.test(t)) return Number.parseInt(t.slice(2), 16);
  return undefined;
}

function readValue(node: unknown, spec: FieldSpec, ctx: ReadContext, path: FieldPath): RawData | undefined {
  node = resolveAlias(node, ctx, path);
  const loc = startOf(node, ctx);
  switch (spec.kind) {
    case "any":
      return null;
    case "string":
      return scalarText(node, ctx, path, spec.name);
    case "csv": {
      const text = scalarText(node, ctx, path, spec.name);
      return text === undefined
        ? undefined
        : text
            .split(",")
            .map((s) => s.trim())
            .filter((s) => s !== "");
    }
    case "int": {
      const text = scalarText(node, ctx, path, spec.name);
      if (text === undefined) return undefined;
      const n = parseIntText(text);
      if (n === undefined) ctx.problems.errors.push(problemAt(loc, path, `${spec.name} must be a whole number.`));
      return n;
    }
    case "bool": {
      const text = scalarText(node, ctx, path, spec.name);
      if (text === undefined) return undefined;
      const t = text.trim().toLowerCase();
      if (["true", "yes", "on", "y"].includes(t)) return true;
      if (["false", "no", "off", "n"].includes(t)) return false;
      ctx.problems.errors.push(problemAt(loc, path, `${spec.name} must be true or false.`));
      return undefined;
    }
    case "strings":
    case "ints": {
      if (!isSeq(node)) {
        ctx.problems.errors.push(problemAt(loc, path, `${spec.name} must be a list.`));
        return undefined;
      }
      const out: RawScalar[] = [];
      node.items.forEach((item, i) => {
        if (isNull(item)) return;
        const text = scalarText(item, ctx, [...path, i], `${spec.name}[${i}]`);
        if (text === undefined) return;
        if (spec.kind === "strings") return void out.push(text.trim());
        const n = parseIntText(text);
        if (n === undefined)
          ctx.problems.errors.push(problemAt(startOf(item, ctx), [...path, i], `${spec.name} lists whole numbers.`));
        else out.push(n);
      });
      return out as RawScalar[];
    }
    case "map":
      return readMap(node, spec.fields!(), ctx, path, spec.name) ?? undefined;
    case "maps": {
      if (!isSeq(node)) {
        ctx.problems.errors.push(problemAt(loc, path, `${spec.name} must be a list.`));
        return undefined;
      }
      const out: RawMap[] = [];
      node.items.forEach((item, i) => {
        const m = readMap(item, spec.fields!(), ctx, [...path, i], `${spec.name}[${i}]`);
        if (m !== undefined) out.push(m);
      });
      return out;
    }
  }
}

// -----------------------------------------------------------------------------------------------------------------
// Typed access to a RawMap

export function str(m: RawMap | undefined, name: string): string | undefined {
  const v = m?.fields.get(name)?.value;
  return typeof v === "string" ? v : undefined;
}

export function strs(m: RawMap | undefined, name: string): string[] | undefined {
  const v = m?.fields.get(name)?.value;
  return Array.isArray(v) && v.every((x) => typeof x === "string") ? (v as string[]) : undefined;
}

export function ints(m: RawMap | undefined, name: string): number[] | undefined {
  const v = m?.fields.get(name)?.value;
  return Array.isArray(v) && v.every((x) => typeof x === "number") ? (v as number[]) : undefined;
}

export function num(m: RawMap | undefined, name: string): number | undefined {
  const v = m?.fields.get(name)?.value;
  return typeof v === "number" ? v : undefined;
}

export function bool(m: RawMap | undefined, name: string): boolean | undefined {
  const v = m?.fields.get(name)?.value;
  return typeof v === "boolean" ? v : undefined;
}

export function map(m: RawMap | undefined, name: string): RawMap | undefined {
  const v = m?.fields.get(name)?.value;
  return v !== null && typeof v === "object" && !Array.isArray(v) ? v : undefined;
}

export function maps(m: RawMap | undefined, name: string): RawMap[] | undefined {
  const v = m?.fields.get(name)?.value;
  return Array.isArray(v) && v.every((x) => typeof x === "object") ? (v as RawMap[]) : undefined;
}

export function has(m: RawMap | undefined, name: string): boolean {
  return m?.fields.has(name) ?? false;
}

/** Where a field is (its value), else where its map starts. */
export function locOf(m: RawMap, name?: string): Loc {
  return (name === undefined ? undefined : m.fields.get(name)?.loc) ?? m.loc;
}
