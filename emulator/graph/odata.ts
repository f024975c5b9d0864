/**
 * The OData subset the local tenant serves (docs/reference/graph-conventions.md §6.2, §6.4): `$filter` (eq, ne,
 * startswith, and, or, not, parentheses, isof), `$select`, `$top`, `$count`, `$expand` (per resource), and
 * `@odata.nextLink` paging with an opaque `$skiptoken`. Unknown `$` options are refused with 400, as §6.4 advises.
 */
import { badRequest } from "./errors.js";
import type { GraphRequest, GraphResponse } from "./types.js";

type Json = Record<string, unknown>;
export type Predicate = (item: object) => boolean;

// ---- $filter ----

type Token =
  { t: "id"; v: string } | { t: "str"; v: string } | { t: "num"; v: number } | { t: "punct"; v: "(" | ")" | "," };

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i] ?? "";
    if (/\s/.test(c)) {
      i++;
    } else if (c === "(" || c === ")" || c === ",") {
      out.push({ t: "punct", v: c });
      i++;
    } else if (c === "'") {
      let v = "";
      i++;
      for (;;) {
        if (i >= src.length) throw badRequest("Invalid filter clause: unterminated string literal.");
        if (src[i] === "'") {
          if (src[i + 1] === "'") {
            v += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        v += src[i];
        i++;
      }
      out.push({ t: "str", v });
    } else {
      const m = /^[A-Za-z0-9_.@/#:-]+/.exec(src.slice(i));
      if (!m) throw badRequest(`Invalid filter clause: unexpected character '${c}' at position ${i}.`);
      const word = m[0];
      // GUIDs are unquoted literals; other numerics are numbers.
      if (/^-?\d+(\.\d+)?$/.test(word)) out.push({ t: "num", v: Number(word) });
      else out.push({ t: "id", v: word });
      i += word.length;
    }
  }
  return out;
}

const COMPARISONS = new Set(["eq", "ne", "gt", "ge", "lt", "le"]);

/**
 * Bounds of a `$filter` (ours: Graph's are not documented). Nesting (parentheses, `not`) is bounded like ODataLib's
 * recursion limit, whose message this imitates; the length bounds the work one request can ask for. Past them: 400
 * with Graph's error shape, never a stack overflow (500).
 */
export const MAX_FILTER_DEPTH = 100;
export const MAX_FILTER_LENGTH = 8192;

/** Parses a `$filter` expression into a predicate over plain JSON items. */
export function parseFilter(src: string): Predicate {
  if (src.length > MAX_FILTER_LENGTH)
    throw badRequest(
      `Invalid filter clause: the expression is ${src.length} characters long; the local tenant takes at most ${MAX_FILTER_LENGTH}.`,
    );
  const tokens = tokenize(src);
  let pos = 0;
  let depth = 0;
  const enter = (): void => {
    if (++depth > MAX_FILTER_DEPTH) throw badRequest("Invalid filter clause: The recursion limit has been exceeded.");
  };
  const peek = (): Token | undefined => tokens[pos];
  const isWord = (w: string): boolean => {
    const t = peek();
    return t?.t === "id" && t.v.toLowerCase() === w;
  };
  const expect = (v: "(" | ")" | ","): void => {
    const t = tokens[pos++];
    if (t?.t !== "punct" || t.v !== v) throw badRequest(`Invalid filter clause: '${v}' expected.`);
  };
  const literal = (): unknown => {
    const t = tokens[pos++];
    if (!t) throw badRequest("Invalid filter clause: a value is missing.");
    if (t.t === "str" || t.t === "num") return t.v;
    if (t.t === "id") {
      if (t.v === "true") return true;
      if (t.v === "false") return false;
      if (t.v === "null") return null;
      if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(t.v)) return t.v;
    }
    throw badRequest(`Invalid filter clause: '${t.v}' is not a literal.`);
  };
  const property = (): string => {
    const t = tokens[pos++];
    if (t?.t !== "id") throw badRequest("Invalid filter clause: a property name is expected.");
    return t.v;
  };

  function primary(): Predicate {
    if (isWord("not")) {
      pos++;
      enter();
      const inner = primary();
      depth--;
      return (x) => !inner(x);
    }
    const t = peek();
    if (t?.t === "punct" && t.v === "(") {
      pos++;
      enter();
      const e = orExpr();
      expect(")");
      depth--;
      return e;
    }
    if (isWord("startswith") || isWord("endswith") || isWord("contains")) {
      const fn = (tokens[pos++] as { v: string }).v.toLowerCase();
      expect("(");
      const prop = property();
      expect(",");
      const value = literal();
      expect(")");
      if (typeof value !== "string") throw badRequest(`Invalid filter clause: ${fn} takes a string.`);
      const v = value.toLowerCase();
      return (x) => {
        const p = valueAt(x, prop);
        if (typeof p !== "string") return false;
        const s = p.toLowerCase();
        return fn === "startswith" ? s.startsWith(v) : fn === "endswith" ? s.endsWith(v) : s.includes(v);
      };
    }
    if (isWord("isof")) {
      pos++;
      expect("(");
      const value = literal();
      expect(")");
      if (typeof value !== "string") throw badRequest("Invalid filter clause: isof takes a type name.");
      const type = `#${value.replace(/^#/, "")}`;
      return (x) => Reflect.get(x, "@odata.type") === type;
    }
    const prop = property();
    const op = tokens[pos++];
    if (op?.t !== "id" || !COMPARISONS.has(op.v.toLowerCase())) {
      throw badRequest(`Invalid filter clause: a comparison operator is expected after '${prop}'.`);
    }
    const value = literal();
    const o = op.v.toLowerCase();
    return (x) => compare(valueAt(x, prop), o, value);
  }
  // Chains of `and` / `or` are flat lists, so a long chain never nests calls when evaluated.
  function chain(op: "and" | "or", term: () => Predicate): Predicate {
    const first = term();
    const terms = [first];
    while (isWord(op)) {
      pos++;
      terms.push(term());
    }
    if (terms.length === 1) return first;
    return op === "and" ? (x) => terms.every((p) => p(x)) : (x) => terms.some((p) => p(x));
  }
  function andExpr(): Predicate {
    return chain("and", primary);
  }
  function orExpr(): Predicate {
    return chain("or", andExpr);
  }
  const result = orExpr();
  if (pos !== tokens.length) throw badRequest("Invalid filter clause: unexpected text after the expression.");
  return result;
}

function valueAt(item: object, path: string): unknown {
  let v: unknown = item;
  for (const part of path.split("/")) {
    if (typeof v !== "object" || v === null) return undefined;
    v = Reflect.get(v, part);
  }
  return v;
}

function compare(a: unknown, op: string, b: unknown): boolean {
  // Graph compares strings case-insensitively for eq/ne on directory and Intune string properties.
  const norm = (v: unknown): unknown => (typeof v === "string" ? v.toLowerCase() : v);
  const x = norm(a);
  const y = norm(b);
  switch (op) {
    case "eq":
      return x === y || (x === undefined && y === null);
    case "ne":
      return !(x === y || (x === undefined && y === null));
    default: {
      if (typeof x !== typeof y || (typeof x !== "number" && typeof x !== "string")) return false;
      const xs = x as number | string;
      const ys = y as number | string;
      return op === "gt" ? xs > ys : op === "ge" ? xs >= ys : op === "lt" ? xs < ys : xs <= ys;
    }
  }
}

// ---- listing ----

/** Items addressable by position, so huge generated collections are produced lazily while paging. */
export interface Source<T> {
  count(): number;
  at(index: number): T;
}

export function arraySource<T>(items: readonly T[]): Source<T> {
  return { count: () => items.length, at: (i) => items[i] as T };
}

/** `$expand` values a resource supports: each computes the navigation property of an item. */
export type Expansions = Record<string, (item: object) => unknown>;

export interface ListOptions {
  /** the collection's path after the version, for `@odata.context` and nextLink */
  path: string;
  defaultPageSize: number;
  maxPageSize: number;
  /** `$expand` values this collection supports, applied to each returned item */
  expand?: Expansions;
  /** extra query options this resource understands (e.g. none) */
  allowedOptions?: readonly string[];
}

const GENERIC_OPTIONS = new Set(["$filter", "$select", "$top", "$count", "$skiptoken", "$expand"]);

export function checkQueryOptions(query: URLSearchParams, allowed: ReadonlySet<string>): void {
  for (const key of query.keys()) {
    if (key.startsWith("$") && !allowed.has(key.toLowerCase())) {
      throw badRequest(
        `Query option '${key}' is not allowed. The local tenant supports ${[...allowed].sort().join(", ")} here.`,
      );
    }
  }
}

/** `$select=a,b`: keeps those properties plus `id` and `@odata.type` (Graph always returns the type of derived items). */
export function applySelect(item: object, select: string | null): Json {
  const all: Json = { ...item };
  if (select === null) return all;
  const keep = new Set(
    select
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
  );
  const out: Json = {};
  for (const k of ["@odata.type", "id"]) if (k in all) out[k] = all[k];
  for (const k of keep) if (k in all) out[k] = all[k];
  return out;
}

export function parseExpand(expand: string | null, supported: readonly string[]): string[] {
  if (expand === null) return [];
  const names = expand
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (const n of names) {
    if (!supported.includes(n))
      throw badRequest(
        `Could not find a property named '${n}' on type to expand. Supported here: ${supported.join(", ") || "none"}.`,
      );
  }
  return names;
}

interface SkipToken {
  /** raw source index to resume from */
  i: number;
}

/** One page of a collection, with `@odata.nextLink` when more remain (§6.2: absolute, same host, opaque token). */
export function listPage<T extends object>(req: GraphRequest, source: Source<T>, opts: ListOptions): GraphResponse {
  checkQueryOptions(req.query, new Set([...GENERIC_OPTIONS, ...(opts.allowedOptions ?? [])]));
  const filterText = req.query.get("$filter");
  const filter = filterText === null ? undefined : parseFilter(filterText);
  const select = req.query.get("$select");
  const expands = parseExpand(req.query.get("$expand"), Object.keys(opts.expand ?? {}));
  const topText = req.query.get("$top");
  let pageSize = opts.defaultPageSize;
  if (topText !== null) {
    const top = Number(topText);
    if (!Number.isInteger(top) || top < 1) throw badRequest(`Invalid value '${topText}' for query option '$top'.`);
    pageSize = Math.min(top, opts.maxPageSize);
  }
  let start = 0;
  const token = req.query.get("$skiptoken");
  if (token !== null) {
    try {
      const parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as SkipToken;
      if (!Number.isInteger(parsed.i) || parsed.i < 0) throw new Error("bad");
      start = parsed.i;
    } catch {
      throw badRequest("The $skiptoken is invalid or expired.");
    }
  }
  const total = source.count();
  const value: Json[] = [];
  let i = start;
  for (; i < total && value.length < pageSize; i++) {
    const item = source.at(i);
    if (filter && !filter(item)) continue;
    let out: Json = applySelect(item, select);
    for (const e of expands) out = { ...out, [e]: opts.expand?.[e]?.(item) };
    value.push(out);
  }
  const body: Json = { "@odata.context": `${req.baseUrl}/$metadata#${opts.path.replace(/^\//, "")}` };
  const wantCount = (req.query.get("$count") ?? "").toLowerCase() === "true";
  if (wantCount && token === null) {
    // §6.2: @odata.count only on the first page.
    body["@odata.count"] = filter ? countMatching(source, filter) : total;
  }
  if (i < total) {
    const next = new URLSearchParams();
    for (const [k, v] of req.query) if (k !== "$skiptoken" && k !== "$count") next.append(k, v);
    next.set("$skiptoken", Buffer.from(JSON.stringify({ i } satisfies SkipToken)).toString("base64url"));
    body["@odata.nextLink"] = `${req.baseUrl}${opts.path}?${next.toString().replace(/%24/g, "$")}`;
  }
  body["value"] = value;
  return { status: 200, body };
}

function countMatching<T extends object>(source: Source<T>, filter: Predicate): number {
  let n = 0;
  const total = source.count();
  for (let i = 0; i < total; i++) if (filter(source.at(i))) n++;
  return n;
}

/** A single entity, with `$select` / `$expand` applied. */
export function entityResponse(
  req: GraphRequest,
  entity: object,
  entitySetPath: string,
  expand: Expansions = {},
): GraphResponse {
  checkQueryOptions(req.query, new Set(["$select", "$expand"]));
  let out = applySelect(entity, req.query.get("$select"));
  for (const e of parseExpand(req.query.get("$expand"), Object.keys(expand)))
    out = { ...out, [e]: expand[e]?.(entity) };
  return {
    status: 200,
    body: { "@odata.context": `${req.baseUrl}/$metadata#${entitySetPath.replace(/^\//, "")}/$entity`, ...out },
  };
}
