/**
 * Problems in an app definition, each naming its field and, when it came from a file, the file position.
 * src/catalog fills `file`, `line` and `column`; pure code (schema, preflight, mapping) gives the path only.
 */
import { PublisherError } from "../errors.js";

export type FieldPath = readonly (string | number)[];

export interface DefinitionProblem {
  /** Path of the offending field in the definition, e.g. ["detection", 0, "value"]. */
  path: FieldPath;
  /** One sentence saying what is wrong and how to fix it. */
  message: string;
  file?: string;
  /** 1-based */
  line?: number;
  /** 1-based */
  column?: number;
}

/** `detection[0].value`; the root is `(definition)`. */
export function formatField(path: FieldPath): string {
  let out = "";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : out === "" ? p : `.${p}`;
  return out === "" ? "(definition)" : out;
}

/** `file:line:column: field: message` (the form editors and CI annotators link); no field for the whole file. */
export function formatProblem(p: DefinitionProblem): string {
  const where =
    p.file === undefined ? "" : p.line === undefined ? `${p.file}: ` : `${p.file}:${p.line}:${p.column ?? 1}: `;
  return p.path.length === 0 ? `${where}${p.message}` : `${where}${formatField(p.path)}: ${p.message}`;
}

export class AppDefinitionError extends PublisherError {
  readonly problems: readonly DefinitionProblem[];

  constructor(problems: readonly DefinitionProblem[], options: { hint?: string } = {}) {
    const lines = problems.map(formatProblem);
    const message =
      lines.length === 1
        ? `Invalid app definition: ${lines[0]}`
        : `Invalid app definition (${lines.length} problems):\n${lines.map((l) => `  ${l}`).join("\n")}`;
    super("InvalidAppDefinition", message, {
      hint: options.hint ?? "Fix the fields named above; docs/app-definitions.md describes each one.",
    });
    this.name = "AppDefinitionError";
    this.problems = problems;
  }
}
