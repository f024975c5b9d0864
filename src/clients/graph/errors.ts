/**
 * Graph error bodies turned into typed errors (docs/reference/entra-errors.md §2.3): status, Graph `error.code`,
 * message, request ids and date for support cases, and for Intune the inner `Message` of the JSON string it puts in
 * `error.message`.
 */
import { PublisherError } from "../../core/errors.js";
import type { ErrorCode } from "../../core/errors.js";
import type { GraphErrorBodyWire } from "../../core/wire/graph.js";
import { redactUrl } from "../http/redact.js";
import { parseRetryAfterMs } from "../http/retry-policy.js";

export interface GraphErrorDetails {
  status: number;
  method: string;
  /** redacted */
  url: string;
  graphCode: string | undefined;
  /** `error.message` as sent (for Intune, a JSON string) */
  graphMessage: string | undefined;
  /** Intune's inner `Message`, when `error.message` wraps one */
  innerMessage: string | undefined;
  requestId: string | undefined;
  clientRequestId: string | undefined;
  date: string | undefined;
  /** for a 403 naming them: the permissions of which the app needs one */
  requiredScopes: string[];
  /** the server's Retry-After, when it sent one (e.g. a 429 that outlasted the retry budget) */
  retryAfterMs: number | undefined;
}

export class GraphError extends PublisherError {
  readonly status: number;
  readonly method: string;
  readonly url: string;
  readonly graphCode: string | undefined;
  readonly graphMessage: string | undefined;
  readonly innerMessage: string | undefined;
  readonly requestId: string | undefined;
  readonly clientRequestId: string | undefined;
  readonly date: string | undefined;
  readonly requiredScopes: string[];
  readonly retryAfterMs: number | undefined;

  constructor(d: GraphErrorDetails) {
    const code: ErrorCode =
      d.status === 401 ? "GraphUnauthorized" : d.status === 403 ? "GraphForbidden" : "GraphRequestFailed";
    const ids = [
      d.requestId && `request-id ${d.requestId}`,
      d.clientRequestId && `client-request-id ${d.clientRequestId}`,
      d.date && `date ${d.date}`,
    ].filter(Boolean);
    const text = d.innerMessage ?? d.graphMessage ?? "no error message";
    super(
      code,
      `Graph answered ${d.status}${d.graphCode ? ` ${d.graphCode}` : ""} to ${d.method} ${d.url}: ${text}` +
        (ids.length > 0 ? ` (${ids.join(", ")})` : ""),
      // Graph's own code, or HttpNNN when the answer carried none
      { hint: hintFor(d), serviceCode: d.graphCode ?? `Http${d.status}` },
    );
    this.name = "GraphError";
    this.status = d.status;
    this.method = d.method;
    this.url = d.url;
    this.graphCode = d.graphCode;
    this.graphMessage = d.graphMessage;
    this.innerMessage = d.innerMessage;
    this.requestId = d.requestId;
    this.clientRequestId = d.clientRequestId;
    this.date = d.date;
    this.requiredScopes = d.requiredScopes;
    this.retryAfterMs = d.retryAfterMs;
  }
}

function hintFor(d: GraphErrorDetails): string | undefined {
  const message = d.innerMessage ?? d.graphMessage ?? "";
  if (d.requiredScopes.length > 0)
    return `Grant the app one of these application permissions, with admin consent: ${d.requiredScopes.join(", ")}.`;
  if (d.status === 401 && /audience/i.test(message))
    return "The token was issued for another cloud or resource: check the profile's cloud and Graph URL.";
  if (d.status === 400 && /not applicable to target tenant/i.test(message))
    return "The tenant has no active Intune license.";
  return undefined;
}

/**
 * Intune puts `{"_version":3,"Message":"…",…}` (sometimes nested again under `ErrorCode`/`Message`) as a string in
 * `error.message` (§2.3, as observed in public issue reports). Returns the innermost `Message`, or undefined when not
 * such JSON.
 */
export function intuneInnerMessage(message: string | undefined): string | undefined {
  let found: string | undefined;
  let current = message;
  for (let depth = 0; depth < 4 && current !== undefined && /^\s*\{/.test(current); depth++) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(current);
    } catch {
      break;
    }
    const inner = typeof parsed === "object" && parsed !== null ? (parsed as { Message?: unknown }).Message : undefined;
    if (typeof inner !== "string") break;
    found = inner;
    current = inner;
  }
  return found;
}

/** "… must have one of the following scopes: A, B - Operation ID …" → ["A", "B"] */
function scopesIn(message: string | undefined): string[] {
  const m = /following scopes:\s*([^-]+?)\s*(?:-|$)/i.exec(message ?? "");
  return m?.[1] === undefined ? [] : m[1].split(/\s*,\s*/).filter((s) => /^[\w.]+$/.test(s));
}

export interface ErrorSource {
  status: number;
  /** lower-case names */
  headers: Readonly<Record<string, string>>;
  /** parsed JSON body, or the raw text when it is not JSON */
  body: unknown;
  method: string;
  url: string;
  /** the id we sent, when the answer does not echo it */
  clientRequestId?: string;
  /** for an HTTP-date Retry-After; default Date.now() */
  now?: number;
}

export function graphError(src: ErrorSource): GraphError {
  const err = (src.body as Partial<GraphErrorBodyWire> | undefined)?.error;
  const graphMessage = typeof err?.message === "string" ? err.message : undefined;
  const innerMessage = intuneInnerMessage(graphMessage);
  const inner = err?.innerError;
  const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);
  return new GraphError({
    status: src.status,
    method: src.method,
    url: redactUrl(src.url),
    graphCode: str(err?.code),
    graphMessage,
    innerMessage,
    requestId: str(src.headers["request-id"]) ?? str(inner?.["request-id"]),
    clientRequestId:
      str(src.headers["client-request-id"]) ?? str(inner?.["client-request-id"]) ?? str(src.clientRequestId),
    date: str(inner?.date) ?? str(src.headers["date"]),
    requiredScopes: src.status === 403 ? scopesIn(innerMessage ?? graphMessage) : [],
    retryAfterMs: parseRetryAfterMs(src.headers, src.now ?? Date.now()),
  });
}
