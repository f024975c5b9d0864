/**
 * Errors of the catalog: a manifest or catalog entry refused (every problem positioned as `file:line:column: field:
 * message`, like app definitions), a package or version not found, an installer we cannot publish. All are kind
 * "input" (exit 9) unless a network or integrity failure is the cause.
 */
import type { DefinitionProblem } from "../core/app-definition/errors.js";
import { formatProblem } from "../core/app-definition/errors.js";
import { PublisherError } from "../core/errors.js";
import type { CodeOfKind } from "../core/error-codes.js";

export type { DefinitionProblem as CatalogProblem } from "../core/app-definition/errors.js";

/** A winget manifest (or a set of manifest files) that we refuse; lists every problem found. */
export class ManifestError extends PublisherError {
  readonly problems: readonly DefinitionProblem[];

  constructor(what: string, problems: readonly DefinitionProblem[], hint?: string) {
    const lines = problems.map(formatProblem);
    super(
      "InvalidManifest",
      lines.length === 1
        ? `Invalid ${what}: ${lines[0]}`
        : `Invalid ${what} (${lines.length} problems):\n${lines.map((l) => `  ${l}`).join("\n")}`,
      {
        hint:
          hint ??
          "The manifest breaks the winget manifest schema at the places shown; fix it in its source, or describe the product in a catalog entry of your own (docs/catalog.md).",
      },
    );
    this.name = "ManifestError";
    this.problems = problems;
  }
}

export function catalogError(
  code: CodeOfKind<"input">,
  message: string,
  hint: string,
  cause?: unknown,
): PublisherError {
  return new PublisherError(code, message, { hint, cause });
}
