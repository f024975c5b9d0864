/**
 * Graph front door: bearer check, routing, per-route permission check, `$batch`, error shape and headers.
 * Sources: docs/reference/entra-errors.md §2.3 (401/403 bodies), docs/reference/graph-conventions.md §6.1 (headers),
 * §6.3 (batching), §7 item 3.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Clock } from "../clock.js";
import type { Directory } from "../directory.js";
import { GRAPH_APP_ID, GRAPH_AUDIENCE } from "../entra/entra.js";
import { BodyTooLargeError, readBody, sendJson } from "../http.js";
import { decodeJwt, verifyJwtSignature } from "../jwt.js";
import type { Pki } from "../pki.js";
import { errorBody, GraphError, intuneMessage } from "./errors.js";
import type { Throttle } from "./throttle.js";
import { match } from "./routing.js";
import type { Route } from "./routing.js";
import type { Caller, GraphRequest, GraphResponse, GraphVersion } from "./types.js";

export interface GraphServiceOptions {
  directory: Directory;
  pki: Pki;
  clock: Clock;
  origin: () => string;
  routes: Route[];
  /** Intune throttling windows (§6.5); undefined = off */
  throttle?: Throttle | undefined;
}

/** §6.3: a batch holds at most 20 requests. */
export const MAX_BATCH = 20;

interface CompiledRoute {
  route: Route;
  parts: string[];
}

export class GraphService {
  private readonly routes: CompiledRoute[];

  constructor(private readonly o: GraphServiceOptions) {
    this.routes = o.routes.map((route) => ({ route, parts: route.pattern.split("/").filter(Boolean) }));
  }

  /** Handles `/beta/…` and `/v1.0/…`; false for other paths. */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    const m = /^\/(beta|v1\.0)(\/.*)?$/.exec(url.pathname);
    if (!m) return false;
    const version = m[1] as GraphVersion;
    const path = m[2] ?? "/";
    const requestId = randomUUID();
    const clientRequestId = headerValue(req, "client-request-id") ?? requestId;
    const send = (r: GraphResponse): void => {
      sendJson(res, r.status, r.body, {
        "request-id": requestId,
        "client-request-id": clientRequestId,
        "x-ms-ags-diagnostic": JSON.stringify({
          ServerInfo: { DataCenter: "Local", Slice: "E", Ring: "0", ScaleUnit: "000", RoleInstance: "local-tenant" },
        }),
        ...r.headers,
      });
    };
    try {
      const caller = this.authenticate(headerValue(req, "authorization"));
      let body: unknown;
      const raw = await readBody(req);
      if (raw.length > 0) {
        try {
          body = JSON.parse(raw.toString("utf8")) as unknown;
        } catch {
          throw new GraphError(
            400,
            "BadRequest",
            "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.",
          );
        }
      }
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers[k.toLowerCase()] = v;
      const greq: GraphRequest = {
        method: req.method ?? "GET",
        version,
        path,
        query: url.searchParams,
        headers,
        body,
        caller,
        baseUrl: `${this.o.origin()}/${version}`,
        requestId,
        clientRequestId,
      };
      send(path === "/$batch" ? await this.batch(greq) : await this.dispatch(greq));
    } catch (e) {
      send(this.toResponse(e, requestId, clientRequestId));
    }
    return true;
  }

  /** Bearer check: signature, expiry, audience, tenant, issuer (§7 item 3, docs/reference/entra-auth.md §1.5). */
  authenticate(authorization: string | undefined): Caller {
    const fail = (message: string): GraphError =>
      new GraphError(401, "InvalidAuthenticationToken", message, {
        // docs/reference/entra-errors.md §2.3 (observed)
        "WWW-Authenticate": `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="${GRAPH_APP_ID}"`,
      });
    const m = /^Bearer\s+(\S*)$/i.exec(authorization ?? "");
    if (!m?.[1]) throw fail("Access token is empty.");
    const jwt = decodeJwt(m[1]);
    if (!jwt) throw fail("CompactToken parsing failed with error code: 80049217");
    if (
      jwt.header["alg"] !== "RS256" ||
      jwt.header["kid"] !== this.o.pki.signingKid ||
      !verifyJwtSignature(jwt, this.o.pki.signingPublicKey)
    ) {
      throw fail("Access token validation failure. Invalid signature.");
    }
    const p = jwt.payload;
    if (p["aud"] !== GRAPH_AUDIENCE && p["aud"] !== `${GRAPH_AUDIENCE}/` && p["aud"] !== GRAPH_APP_ID) {
      throw fail("Access token validation failure. Invalid audience.");
    }
    const now = this.o.clock.now() / 1000;
    if (typeof p["exp"] !== "number" || now >= p["exp"])
      throw fail("Lifetime validation failed, the token is expired.");
    if (typeof p["nbf"] === "number" && now < p["nbf"]) throw fail("Access token has expired or is not yet valid.");
    const tid = typeof p["tid"] === "string" ? p["tid"] : "";
    if (!this.o.directory.tenantById(tid)) throw fail("Access token validation failure. Invalid tenant.");
    // Graph accepts tokens Entra ID issued for the token's own tenant: `iss` is the tenant's v1 or v2 issuer
    // ([E §1.5]: `https://sts.windows.net/{tid}/`, `https://login.microsoftonline.com/{tid}/v2.0`). A token from another
    // issuer, or naming another tenant than its `tid`, is refused (wording modelled on the audience message).
    const iss = typeof p["iss"] === "string" ? p["iss"].toLowerCase() : "";
    const issuers = [`https://sts.windows.net/${tid}/`, `https://login.microsoftonline.com/${tid}/v2.0`];
    if (!issuers.some((i) => i.toLowerCase() === iss)) throw fail("Access token validation failure. Invalid issuer.");
    const roles = Array.isArray(p["roles"]) ? p["roles"].filter((r): r is string => typeof r === "string") : [];
    return { tenantId: tid.toLowerCase(), appId: String(p["appid"] ?? ""), roles: new Set(roles) };
  }

  /** Routes one request (also used for each inner request of a batch). Errors come back as responses. */
  async dispatch(req: GraphRequest): Promise<GraphResponse> {
    try {
      const segments = canonicalSegments(req.path.split("/").filter(Boolean).map(decodeURIComponent));
      let pathMatched: CompiledRoute | undefined;
      for (const c of this.routes) {
        const params = match(c.parts, segments);
        if (!params) continue;
        if (c.route.versions && !c.route.versions.includes(req.version)) continue;
        pathMatched ??= c;
        if (c.route.method !== req.method) continue;
        this.authorize(req, c.route);
        const retryAfter = this.o.throttle?.check(req.caller.tenantId, req.caller.appId, req.method, req.path);
        if (retryAfter !== undefined) throw tooManyRequests(retryAfter);
        return await c.route.handler(req, params);
      }
      if (pathMatched) {
        throw new GraphError(
          405,
          "No method match route template",
          `No OData route exists that match template ~${pathMatched.route.pattern} with http verb ${req.method} for request /${req.version}${req.path}.`,
        );
      }
      throw unknownRoute(req, segments);
    } catch (e) {
      return this.toResponse(e, req.requestId, req.clientRequestId);
    }
  }

  /** 403 as each service sends it: Intune's JSON-in-message body, or the directory's
   * (docs/reference/entra-errors.md §2.3).
   */
  private authorize(req: GraphRequest, route: Route): void {
    if (route.roles.length === 0 || route.roles.some((r) => req.caller.roles.has(r))) return;
    if (route.forbidden === "directory") {
      throw new GraphError(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.");
    }
    const text = `Application is not authorized to perform this operation. Application must have one of the following scopes: ${route.roles.join(", ")}`;
    throw new GraphError(403, "Forbidden", intuneMessage(text, req.requestId, `${req.baseUrl}${req.path}`));
  }

  /** JSON batching (§6.3): ≤ 20 requests, unique case-insensitive ids, dependsOn, 424 on a failed dependency. */
  private async batch(req: GraphRequest): Promise<GraphResponse> {
    if (req.method !== "POST") throw new GraphError(405, "BadRequest", "Only POST is supported on $batch.");
    const body = req.body as { requests?: unknown } | undefined;
    if (!body || !Array.isArray(body.requests))
      throw new GraphError(400, "BadRequest", "Invalid batch payload format.");
    if (body.requests.length > MAX_BATCH) {
      throw new GraphError(400, "BadRequest", `Number of batch request steps exceeds the maximum of ${MAX_BATCH}.`);
    }
    interface Step {
      id: string;
      method: string;
      url: string;
      headers: Record<string, string>;
      body: unknown;
      dependsOn: string[];
    }
    const steps: Step[] = [];
    const ids = new Set<string>();
    for (const r of body.requests as unknown[]) {
      const s = r as Partial<Step> & { headers?: unknown; dependsOn?: unknown };
      if (typeof s.id !== "string" || s.id === "" || typeof s.method !== "string" || typeof s.url !== "string") {
        throw new GraphError(400, "BadRequest", "Invalid batch payload format: each request needs id, method and url.");
      }
      const key = s.id.toLowerCase();
      if (ids.has(key))
        throw new GraphError(
          400,
          "BadRequest",
          `Batch request id '${s.id}' is duplicated; ids must be unique (case-insensitive).`,
        );
      ids.add(key);
      const headers: Record<string, string> = {};
      if (s.headers !== undefined) {
        if (typeof s.headers !== "object" || s.headers === null)
          throw new GraphError(400, "BadRequest", `Invalid headers in batch request '${s.id}'.`);
        for (const [k, v] of Object.entries(s.headers)) headers[k.toLowerCase()] = String(v);
      }
      if (s.body !== undefined && s.body !== null && !headers["content-type"]) {
        throw new GraphError(400, "BadRequest", `Batch request '${s.id}' has a body but no Content-Type header.`);
      }
      const dependsOn = s.dependsOn === undefined ? [] : s.dependsOn;
      if (!Array.isArray(dependsOn) || dependsOn.some((d) => typeof d !== "string")) {
        throw new GraphError(400, "BadRequest", `Invalid dependsOn in batch request '${s.id}'.`);
      }
      for (const d of dependsOn as string[]) {
        if (!steps.some((p) => p.id.toLowerCase() === d.toLowerCase())) {
          throw new GraphError(
            400,
            "BadRequest",
            `Batch request '${s.id}' depends on '${d}', which is not an earlier request of the batch.`,
          );
        }
      }
      steps.push({
        id: s.id,
        method: s.method.toUpperCase(),
        url: s.url,
        headers,
        body: s.body,
        dependsOn: dependsOn as string[],
      });
    }
    const statuses = new Map<string, number>();
    const responses: { id: string; status: number; headers: Record<string, string>; body?: unknown }[] = [];
    for (const step of steps) {
      const failed = step.dependsOn.find((d) => (statuses.get(d.toLowerCase()) ?? 0) >= 400);
      let r: GraphResponse;
      if (failed !== undefined) {
        r = {
          status: 424,
          body: errorBody(
            "FailedDependency",
            `Failed dependency: request '${failed}' failed.`,
            req.requestId,
            req.clientRequestId,
            new Date(this.o.clock.now()),
          ),
        };
      } else {
        // §6.3: url is relative to the version root. The Graph JS client turns an absolute URL into
        // "/beta/…", so a leading segment naming this batch's version is tolerated (unverified on real Graph).
        const rel = step.url.replace(/^\/?/, "/");
        const prefix = `/${req.version}/`;
        const u = new URL(rel.startsWith(prefix) ? rel.slice(prefix.length - 1) : rel, "https://batch.invalid");
        r = await this.dispatch({
          ...req,
          method: step.method,
          path: u.pathname,
          query: u.searchParams,
          headers: step.headers,
          body: step.body ?? undefined,
        });
      }
      statuses.set(step.id.toLowerCase(), r.status);
      responses.push({
        id: step.id,
        status: r.status,
        headers: { "Content-Type": "application/json", ...r.headers },
        ...(r.body === undefined ? {} : { body: r.body }),
      });
    }
    return { status: 200, body: { responses } };
  }

  private toResponse(e: unknown, requestId: string, clientRequestId: string): GraphResponse {
    const date = new Date(this.o.clock.now());
    if (e instanceof GraphError)
      return {
        status: e.status,
        headers: e.headers,
        body: errorBody(e.code, e.message, requestId, clientRequestId, date),
      };
    if (e instanceof URIError)
      return {
        status: 400,
        body: errorBody(
          "BadRequest",
          "The request URL is not correctly percent-encoded.",
          requestId,
          clientRequestId,
          date,
        ),
      };
    if (e instanceof BodyTooLargeError)
      return { status: 413, body: errorBody("RequestEntityTooLarge", e.message, requestId, clientRequestId, date) };
    const message = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    return {
      status: 500,
      body: errorBody("InternalServerError", `Local tenant bug: ${message}`, requestId, clientRequestId, date),
    };
  }
}

/**
 * 429 with Retry-After and the generic Graph body (docs/reference/entra-errors.md §2.3, Graph's throttling doc;
 * Intune's is assumed the same, docs/reference/entra-auth.md §8).
 */
function tooManyRequests(seconds: number): GraphError {
  return new GraphError(429, "TooManyRequests", "Please retry again later.", { "Retry-After": String(seconds) });
}

/**
 * Graph's schema namespace is `microsoft.graph`, aliased `graph` in its metadata, and OData accepts a qualified name
 * with either: Kiota-generated SDKs cast with `graph.win32LobApp` and (older ones) call bound actions as
 * `microsoft.graph.assign`. Casts are canonicalised to `microsoft.graph.<type>` (the routes' spelling), the bound
 * actions the routes serve to their bare name; any other qualified name is left alone (and answers as before).
 */
const QUALIFIED = /^(?:microsoft\.graph|graph)\.([A-Za-z][A-Za-z0-9]*)$/i;
/** Types a cast segment may name: the emulated win32LobApp and its base mobileLobApp (lower-case → spelling). */
export const CAST_TYPES: ReadonlyMap<string, string> = new Map([
  ["win32lobapp", "win32LobApp"],
  ["mobilelobapp", "mobileLobApp"],
]);
/** Bound actions of the emulated routes, callable namespace-qualified. */
const BOUND_ACTIONS = new Set(["assign", "updaterelationships", "commit", "renewupload"]);

export function canonicalSegments(segments: readonly string[]): string[] {
  return segments.map((s) => {
    const m = QUALIFIED.exec(s);
    const name = m?.[1];
    if (name === undefined) return s;
    const type = CAST_TYPES.get(name.toLowerCase());
    if (type !== undefined) return `microsoft.graph.${type}`;
    return BOUND_ACTIONS.has(name.toLowerCase()) ? name : s;
  });
}

/**
 * Unknown routes: the Graph answers for the known content-version mistakes
 * (docs/reference/graph-win32-upload.md §2.0, §4 item 1), else 501.
 */
function unknownRoute(req: GraphRequest, segments: string[]): GraphError {
  const lower = segments.map((s) => s.toLowerCase());
  const cv = lower.indexOf("contentversions");
  if (lower[0] === "deviceappmanagement" && lower[1] === "mobileapps" && cv === 3) {
    return new GraphError(400, "BadRequest", "Resource not found for the segment 'contentVersions'.");
  }
  if (
    lower[0] === "deviceappmanagement" &&
    lower[1] === "mobileapps" &&
    cv === 4 &&
    lower[3] !== "microsoft.graph.win32lobapp"
  ) {
    return new GraphError(
      400,
      "No method match route template",
      `No OData route exists that match template ~/singleton/navigation/key/cast/navigation with http verb ${req.method} for request /${req.version}${req.path}.`,
    );
  }
  return new GraphError(
    501,
    "NotImplemented",
    `The local tenant does not implement ${req.method} /${req.version}${req.path}.`,
  );
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
