/**
 * App definition text (YAML or JSON) → validated definition, keeping source positions so every problem names its
 * file, line, column and field. No file system access here: see load.ts.
 */
import type { Document, Node as YamlNode } from "yaml";
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit } from "yaml";
import type { z } from "zod";
import type { DefinitionProblem, FieldPath } from "../core/app-definition/errors.js";
import { AppDefinitionError } from "../core/app-definition/errors.js";
import type { AppDefinition } from "../core/app-definition/schema.js";
import { appDefinitionSchema } from "../core/app-definition/schema.js";

export interface SourcePosition {
  /** 1-based */
  line: number;
  /** 1-based */
  column: number;
}

export interface ParsedDefinition {
  file: string;
  definition: AppDefinition;
  /** Where a field's value (or key) is written; for a missing field, where its nearest parent is. */
  locate(path: FieldPath, where?: "key" | "value"): SourcePosition;
  /** A problem at `path`, positioned in this file. */
  problem(path: FieldPath, message: string, where?: "key" | "value"): DefinitionProblem;
}

/** Parses and validates one definition; throws AppDefinitionError listing every problem with its position. */
export function parseAppDefinition(text: string, file: string): ParsedDefinition {
  const r = parseYamlFile(
    text,
    file,
    appDefinitionSchema,
    "The file is empty: an app definition is a YAML mapping (docs/app-definitions.md).",
  );
  return { file, definition: r.value, locate: r.locate, problem: r.problem };
}

/**
 * Parses a definition and validates it, without throwing for schema problems: `definition` is undefined when the
 * schema refused it, and `problems` lists why; `data` is the document as read, for the checks that need no valid
 * schema (the files it names). YAML syntax problems still throw: without a document there is nothing to check.
 */
export function parseAppDefinitionLenient(
  text: string,
  file: string,
): Omit<ParsedDefinition, "definition"> & { definition?: AppDefinition; data: unknown; problems: DefinitionProblem[] } {
  const r = readYamlFile(
    text,
    file,
    appDefinitionSchema,
    "The file is empty: an app definition is a YAML mapping (docs/app-definitions.md).",
  );
  return {
    file,
    data: r.data,
    problems: r.problems,
    locate: r.locate,
    problem: r.problem,
    ...(r.value === undefined ? {} : { definition: r.value }),
  };
}

/** A YAML (or JSON) file validated by `schema`, with the positions of its fields. */
export interface ParsedFile<T> {
  file: string;
  value: T;
  locate(path: FieldPath, where?: "key" | "value"): SourcePosition;
  problem(path: FieldPath, message: string, where?: "key" | "value"): DefinitionProblem;
}

/** Parses and validates a YAML file with `schema`; throws AppDefinitionError listing every positioned problem. */
export function parseYamlFile<S extends z.ZodType>(
  text: string,
  file: string,
  schema: S,
  emptyMessage: string,
): ParsedFile<z.output<S>> {
  const r = readYamlFile(text, file, schema, emptyMessage);
  if (r.value === undefined) throw new AppDefinitionError(r.problems);
  return { file, value: r.value, locate: r.locate, problem: r.problem };
}

/**
 * Parses a YAML file and validates it with `schema`: `value` when valid, else the schema's positioned `problems`.
 * Throws AppDefinitionError for what leaves no document (syntax, alias bombs, an empty file).
 */
function readYamlFile<S extends z.ZodType>(
  text: string,
  file: string,
  schema: S,
  emptyMessage: string,
): Omit<ParsedFile<z.output<S>>, "value"> & { value?: z.output<S>; data: unknown; problems: DefinitionProblem[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number): SourcePosition => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  if (doc.errors.length > 0) {
    // The parser recurses per nesting level: thousands of levels exhaust the stack, once or many times.
    const deep = doc.errors.find((e) => /Maximum call stack size exceeded/.test(e.message));
    const errors = deep ? [deep] : doc.errors;
    throw new AppDefinitionError(
      errors.map((e) => ({
        path: [],
        message:
          e === deep
            ? "The YAML nests too deeply to read (thousands of levels); a definition needs a few."
            : `YAML syntax error: ${firstLine(e.message)}`,
        file,
        ...at(e.pos[0]),
      })),
      { hint: "Fix the YAML syntax at the position shown (indentation, quotes, brackets, duplicate keys)." },
    );
  }
  const locate = (path: FieldPath, where: "key" | "value" = "value"): SourcePosition => at(offsetOf(doc, path, where));
  const problem = (path: FieldPath, message: string, where: "key" | "value" = "value"): DefinitionProblem => ({
    path,
    message,
    file,
    ...locate(path, where),
  });

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_EXPANSIONS });
  } catch (e) {
    // The yaml library refuses a document whose aliases expand past the count ("billion laughs").
    if (!(e instanceof ReferenceError) || !/alias/i.test(e.message)) throw e;
    throw new AppDefinitionError(
      [
        {
          path: [],
          message: `The YAML's aliases (*name) expand to more than ${MAX_ALIAS_EXPANSIONS} copies of their anchors: refused, as a document built to exhaust memory would be.`,
          file,
          ...at(firstAliasOffset(doc)),
        },
      ],
      { hint: "Write the values out, or use fewer aliases (and no aliases of lists that hold aliases)." },
    );
  }
  if (data === null || data === undefined) {
    throw new AppDefinitionError([
      {
        path: [],
        message: emptyMessage,
        file,
        line: 1,
        column: 1,
      },
    ]);
  }
  const r = schema.safeParse(data);
  if (!r.success) return { file, data, problems: issuesToProblems(r.error.issues, problem), locate, problem };
  return { file, data, problems: [], value: r.data as z.output<S>, locate, problem };
}

/** zod issues → problems; an unknown-keys issue becomes one problem per key, at the key. */
export function issuesToProblems(
  issues: readonly z.core.$ZodIssue[],
  problem: (path: FieldPath, message: string, where?: "key" | "value") => DefinitionProblem,
): DefinitionProblem[] {
  const out: DefinitionProblem[] = [];
  for (const issue of issues) {
    const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        out.push(
          problem([...path, key], `Unknown key "${key}" (keys are camelCase; see docs/app-definitions.md).`, "key"),
        );
      }
    } else {
      out.push(problem(path, issue.message));
    }
  }
  return out.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
}

/** Alias expansions allowed per anchor, weighted by the aliases inside it (the yaml library's `maxAliasCount`). */
export const MAX_ALIAS_EXPANSIONS = 100;

function firstAliasOffset(doc: Document): number {
  let offset = 0;
  visit(doc, {
    Alias(_key, node) {
      offset = node.range?.[0] ?? 0;
      return visit.BREAK;
    },
  });
  return offset;
}

function firstLine(s: string): string {
  return s.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
}

/**
 * Source offset of a path: the value of a mapping entry (its key when `at` is "key" or the value is empty), an item
 * of a list, or for a missing field the deepest entry that exists.
 */
function offsetOf(doc: Document, path: FieldPath, at: "key" | "value"): number {
  let node: unknown = doc.contents;
  let best = rangeStart(node) ?? 0;
  for (const [i, seg] of path.entries()) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) return best;
      const last = i === path.length - 1;
      best = (last && at === "value" ? rangeStart(pair.value) : undefined) ?? rangeStart(pair.key) ?? best;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === "number") {
      const item = node.items[seg];
      if (item === undefined) return best;
      best = rangeStart(item) ?? best;
      node = item;
    } else {
      return best;
    }
  }
  return best;
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as YamlNode | null | undefined)?.range;
  return Array.isArray(range) ? range[0] : undefined;
}
