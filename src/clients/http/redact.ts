/**
 * Allow-list redaction for logs (style-anchors.md §3, azure-sdk `util/sanitizer.ts`; DESIGN.md house rule 6):
 * a header, query parameter or JSON field is printed only when listed; everything else becomes "REDACTED".
 * A few names can never be allowed, whatever a caller passes.
 */

export const REDACTED = "REDACTED";

export const DEFAULT_ALLOWED_HEADERS: readonly string[] = [
  "accept",
  "accept-encoding",
  "cache-control",
  "client-request-id",
  "connection",
  "consistencylevel",
  "content-length",
  "content-type",
  "date",
  "etag",
  "expires",
  "if-match",
  "if-none-match",
  "last-modified",
  "prefer",
  "request-id",
  "retry-after",
  "retry-after-ms",
  "return-client-request-id",
  "server",
  "traceparent",
  "transfer-encoding",
  "user-agent",
  "www-authenticate",
  "x-ms-ags-diagnostic",
  "x-ms-client-request-id",
  "x-ms-request-id",
  "x-ms-retry-after-ms",
];

/** OData options and the storage parameters that name an operation; SAS parameters (`sig`, `se`, `sp`, …) are not. */
export const DEFAULT_ALLOWED_QUERY_PARAMETERS: readonly string[] = [
  "api-version",
  "$select",
  "$expand",
  "$filter",
  "$top",
  "$orderby",
  "$count",
  "comp",
  "restype",
  "blockid",
  // msal puts the (random, per-request) id on the token URL too
  "client-request-id",
];

/** JSON fields worth seeing in a log: ids, names, states, Graph and Entra ID error fields. */
export const DEFAULT_ALLOWED_BODY_FIELDS: readonly string[] = [
  "@odata.type",
  "id",
  "displayName",
  "displayVersion",
  "publisher",
  "name",
  "size",
  "sizeEncrypted",
  "isCommitted",
  "uploadState",
  "publishingState",
  "committedContentVersion",
  "azureStorageUriExpirationDateTime",
  "status",
  "dependsOn",
  "method",
  "error",
  "innerError",
  "code",
  "message",
  "date",
  "request-id",
  "client-request-id",
  "requests",
  "responses",
  "value",
  // Entra ID error bodies (entra-auth-and-graph.md §1.6): the AADSTS code and text, and the ids a support case needs
  "error_codes",
  "error_description",
  "trace_id",
  "correlation_id",
  "timestamp",
];

const NEVER_HEADERS = new Set(["authorization", "proxy-authorization", "cookie", "set-cookie", "x-ms-encryption-key"]);
const NEVER_QUERY = new Set(["sig", "se", "sp", "si", "skoid", "sktid", "skt", "ske", "sks", "skv", "code"]);
/** The encryption keys of a content file (intune-win32-protocol.md §2.7) and upload URLs carrying a SAS. */
const NEVER_FIELDS = new Set([
  "fileEncryptionInfo",
  "encryptionKey",
  "macKey",
  "initializationVector",
  "mac",
  "fileDigest",
  "azureStorageUri",
  "access_token",
  "refresh_token",
  "client_secret",
  "client_assertion",
]);

function allowSet(names: readonly string[], never: ReadonlySet<string>, fold: boolean): Set<string> {
  return new Set(names.map((n) => (fold ? n.toLowerCase() : n)).filter((n) => !never.has(n)));
}

/** The URL with user info removed and every query value not in `allowed` replaced by REDACTED. */
export function redactUrl(url: string, allowed: readonly string[] = DEFAULT_ALLOWED_QUERY_PARAMETERS): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return REDACTED;
  }
  const keep = allowSet(allowed, NEVER_QUERY, true);
  if (parsed.username !== "" || parsed.password !== "") {
    parsed.username = REDACTED;
    parsed.password = "";
  }
  const query = [...parsed.searchParams]
    .map(([k, v]) => `${encodeQueryKey(k)}=${keep.has(k.toLowerCase()) ? encodeURIComponent(v) : REDACTED}`)
    .join("&");
  parsed.search = "";
  parsed.hash = "";
  return parsed.href + (query === "" ? "" : `?${query}`);
}

/** `$select` stays readable; everything else is percent-encoded as usual. */
export function encodeQueryKey(key: string): string {
  return encodeURIComponent(key).replace(/^%24/, "$");
}

/** A copy of `headers` (names lower-cased) with every value not in `allowed` replaced by REDACTED. */
export function redactHeaders(
  headers: Readonly<Record<string, string>>,
  allowed: readonly string[] = DEFAULT_ALLOWED_HEADERS,
): Record<string, string> {
  const keep = allowSet(allowed, NEVER_HEADERS, true);
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const n = name.toLowerCase();
    out[n] = keep.has(n) ? value : REDACTED;
  }
  return out;
}

/**
 * A copy of a parsed JSON value keeping only allowed fields (at any depth); other fields' values become REDACTED.
 * Arrays are walked; strings under an allowed field are kept, but URLs in them go through `redactUrl`.
 */
export function redactJson(value: unknown, allowed: readonly string[] = DEFAULT_ALLOWED_BODY_FIELDS): unknown {
  const keep = allowSet(allowed, NEVER_FIELDS, false);
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (typeof v === "string") return /^https?:\/\//i.test(v) ? redactUrl(v) : v;
    if (v === null || typeof v !== "object") return v;
    const out: Record<string, unknown> = {};
    for (const [k, inner] of Object.entries(v)) out[k] = keep.has(k) ? walk(inner) : REDACTED;
    return out;
  };
  return walk(value);
}

/** A log-safe rendering of a request or response body: JSON through `redactJson`, anything else by size only. */
export function redactBody(
  body: string | Uint8Array | undefined,
  allowed: readonly string[] = DEFAULT_ALLOWED_BODY_FIELDS,
): string | undefined {
  if (body === undefined || body.length === 0) return undefined;
  if (typeof body === "string") {
    try {
      return JSON.stringify(redactJson(JSON.parse(body) as unknown, allowed));
    } catch {
      // not JSON: fall through
    }
  }
  const bytes = typeof body === "string" ? Buffer.byteLength(body) : body.length;
  return `<${bytes} bytes>`;
}
