/**
 * Routes of the Graph emulator: a method, a path template, the application permissions it takes and the handler
 * method that serves it. Handlers declare their routes with `route()`, whose path template types the parameters
 * the handler receives (`{id}` in the template → `params.id`).
 */
import type { GraphRequest, GraphResponse, GraphVersion } from "./types.js";

export type RouteParams = Readonly<Record<string, string>>;

/** Whose 403 body an endpoint sends (docs/reference/entra-errors.md §2.3). */
export type ForbiddenStyle = "intune" | "directory";

export interface Route {
  method: string;
  /** `/deviceAppManagement/mobileApps/{id}`; `{name}` captures one segment */
  pattern: string;
  /** any one of these application permissions is enough; empty = none needed */
  roles: readonly string[];
  forbidden: ForbiddenStyle;
  versions?: readonly GraphVersion[];
  handler(req: GraphRequest, params: RouteParams): GraphResponse | Promise<GraphResponse>;
}

/** The `{name}` parameters of a path template. */
type ParamNames<P extends string> = P extends `${string}{${infer Name}}${infer Rest}` ? Name | ParamNames<Rest> : never;
export type Params<P extends string> = { readonly [K in ParamNames<P>]: string };

export interface RouteOptions {
  /** default: Intune's 403 */
  forbidden?: ForbiddenStyle;
  /** the Graph versions serving it; default both */
  versions?: readonly GraphVersion[];
}

export function route<P extends string>(
  method: "GET" | "POST" | "PATCH" | "DELETE",
  pattern: P,
  roles: readonly string[],
  handler: (req: GraphRequest, params: Params<P>) => GraphResponse | Promise<GraphResponse>,
  options: RouteOptions = {},
): Route {
  return {
    method,
    pattern,
    roles,
    forbidden: options.forbidden ?? "intune",
    ...(options.versions === undefined ? {} : { versions: options.versions }),
    // `match` captures every `{name}` of the template, so the parameters are all there.
    handler: (req, params) => handler(req, params as Params<P>),
  };
}

/** The parameters of `segments` when they fit the template's `parts` (literals compared case-insensitively). */
export function match(parts: readonly string[], segments: readonly string[]): RouteParams | undefined {
  if (parts.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i] ?? "";
    const s = segments[i] ?? "";
    if (p.startsWith("{")) params[p.slice(1, -1)] = s;
    else if (p.toLowerCase() !== s.toLowerCase()) return undefined;
  }
  return params;
}
