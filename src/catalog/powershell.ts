/**
 * The one way a value enters a generated PowerShell script: as a single-quoted string literal. In such a literal
 * PowerShell expands nothing (`$`, backticks and double quotes are plain characters); the only special characters are
 * the single quotes themselves, and PowerShell treats the typographic ones (U+2018, U+2019, U+201A, U+201B) as single
 * quotes too, so each of them is doubled. Control characters (line breaks included) are refused: no value we put in
 * a script needs one, and a line break would make the script harder to review.
 *
 * Templates (templates.ts) name their values as `{{name}}` placeholders; `renderTemplate` replaces each with the
 * literal of its value (a list becomes `@('a', 'b')`, a boolean `$true`/`$false`) and refuses a template with an
 * unknown or unfilled placeholder.
 */
import { InternalError } from "../core/errors.js";
import { catalogError } from "./errors.js";
import { printable } from "./winget/layout.js";

// eslint-disable-next-line no-control-regex -- refusing control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const SINGLE_QUOTES = /['\u2018\u2019\u201a\u201b]/g;

/** `value` as a PowerShell single-quoted string literal; throws on control characters. */
export function psQuote(value: string, what = "value"): string {
  if (UNSAFE.test(value))
    throw catalogError(
      "UnsafeScriptValue",
      `The ${what} "${printable(value)}" contains a control character or line break: it cannot go into a generated script.`,
      "Fix the value in the manifest or catalog entry.",
    );
  return `'${value.replace(SINGLE_QUOTES, (q) => q + q)}'`;
}

export type TemplateValue = string | readonly string[] | boolean;

function literal(value: TemplateValue, what: string): string {
  if (typeof value === "boolean") return value ? "$true" : "$false";
  if (typeof value === "string") return psQuote(value, what);
  return `@(${value.map((v) => psQuote(v, what)).join(", ")})`;
}

/** Fills `{{name}}` placeholders with literals of `values`; every placeholder must have a value and vice versa. */
export function renderTemplate(template: string, values: Readonly<Record<string, TemplateValue>>): string {
  const used = new Set<string>();
  const out = template.replace(/\{\{([A-Za-z][A-Za-z0-9]*)\}\}/g, (_m, name: string) => {
    const v = values[name];
    if (v === undefined) throw new InternalError(`template placeholder {{${name}}} has no value`);
    used.add(name);
    return literal(v, name);
  });
  const unused = Object.keys(values).filter((k) => !used.has(k));
  if (unused.length > 0) throw new InternalError(`template values not used: ${unused.join(", ")}`);
  return out;
}
