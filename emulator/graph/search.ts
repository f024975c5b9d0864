/**
 * `$search` on directory objects (groups): Graph's advanced query. It needs `ConsistencyLevel: eventual`, else 400
 * `Request_UnsupportedQuery` with Graph's message (as quoted in the microsoft-graph-toolkit issue tracker). The
 * value is quoted clauses `"property:term"` joined by `AND` / `OR` (AND binds tighter); a property's value is
 * tokenised into words (spaces, symbols, camelCase and letter/digit boundaries split them, Microsoft Learn "Use the
 * $search query parameter") and a term matches when each of its words starts a word of the value, case-insensitively.
 */
import { GraphError } from "./errors.js";
import type { GraphRequest } from "./types.js";

const SEARCHABLE = new Set(["displayname", "description"]);

/** The words of a value as the directory's index splits them. */
export function searchTokens(value: string): string[] {
  return (value.match(/[\p{L}\p{N}]+/gu) ?? [])
    .flatMap((w) => w.split(/(?<=\p{Ll})(?=\p{Lu})|(?<=\p{L})(?=\p{N})|(?<=\p{N})(?=\p{L})/u))
    .map((w) => w.toLowerCase())
    .filter((w) => w !== "");
}

const unsupported = (message: string): GraphError => new GraphError(400, "Request_UnsupportedQuery", message);

/** The request's `$search` as a predicate, undefined when none; throws Graph's 400s. */
export function searchPredicate(req: GraphRequest): ((item: object) => boolean) | undefined {
  const text = req.query.get("$search");
  if (text === null) return undefined;
  if ((req.headers["consistencylevel"] ?? "").toLowerCase() !== "eventual")
    throw unsupported(
      "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'",
    );
  // "a:b" AND "c:d" OR "e:f" → [[a:b, c:d], [e:f]] (any group whose clauses all match)
  const groups: { property: string; words: string[] }[][] = [[]];
  const re = /\s*(?:"([^"]*)"|(AND|OR))\s*/y;
  let expectClause = true;
  let at = 0;
  while (at < text.length) {
    re.lastIndex = at;
    const m = re.exec(text);
    if (m === null || (m[1] !== undefined) !== expectClause) throw unsupported(`Syntax error in $search: '${text}'.`);
    at = re.lastIndex;
    expectClause = !expectClause;
    if (m[2] === "OR") groups.push([]);
    if (m[1] === undefined) continue;
    const colon = m[1].indexOf(":");
    const property = m[1].slice(0, colon).trim().toLowerCase();
    if (colon < 1 || !SEARCHABLE.has(property))
      throw unsupported(`$search is supported on displayName and description only: '${m[1]}'.`);
    groups.at(-1)!.push({ property, words: searchTokens(m[1].slice(colon + 1)) });
  }
  if (expectClause) throw unsupported(`Syntax error in $search: '${text}'.`);
  return (item) =>
    groups.some((clauses) =>
      clauses.every((c) => {
        const value = Object.entries(item).find(([k]) => k.toLowerCase() === c.property)?.[1];
        const tokens = typeof value === "string" ? searchTokens(value) : [];
        return c.words.every((w) => tokens.some((t) => t.startsWith(w)));
      }),
    );
}
