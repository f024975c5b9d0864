/**
 * Allow-list redaction for logs (azure-sdk's `util/sanitizer.ts` shape; docs/graph-client.md, "Redaction allow-lists";
 * docs/DESIGN.md house rule 6): a header, query parameter or JSON field is printed only when listed; everything else
 * becomes "REDACTED". A few names can never be allowed, whatever a caller passes. Below the lists, the second net:
 * `SecretRegistry` and `scrubShapes`, applied to every string printed or logged (stdout, stderr, the run log).
 */
import type { HttpTransport } from "./types.js";

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
  // Entra ID error bodies (docs/reference/entra-auth.md §1.6): the AADSTS code and text, and the ids a support case
  // needs
  "error_codes",
  "error_description",
  "trace_id",
  "correlation_id",
  "timestamp",
  // OpenID metadata and instance discovery: public facts that show which authority answered (nothing secret)
  "issuer",
  "token_endpoint",
  "authorization_endpoint",
  "jwks_uri",
  "tenant_region_scope",
  "cloud_instance_name",
  "cloud_graph_host_name",
  "msgraph_host",
  "tenant_discovery_endpoint",
];

const NEVER_HEADERS = new Set(["authorization", "proxy-authorization", "cookie", "set-cookie", "x-ms-encryption-key"]);
const NEVER_QUERY = new Set(["sig", "se", "sp", "si", "skoid", "sktid", "skt", "ske", "sks", "skv", "code"]);
/**
 * The encryption keys of a content file (docs/reference/graph-win32-upload.md §2.7) and upload URLs carrying a SAS.
 */
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

// ---------------------------------------------------------------------------------------------------------------
// The second net: whatever a server echoes back (an `error_description` or `message` quoting our request), no secret
// this run holds and nothing shaped like a credential leaves the process (stdout, stderr, the run log).

/** Registered values shorter than this are ignored: they would mask ordinary words. */
export const MIN_SECRET_LENGTH = 8;

const JWT = /eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*/g;
const BEARER = /\b(Bearer|Basic) +[A-Za-z0-9._~+/=-]{16,}/g;
// A block without its END line is cut at the end of the text or of the (JSON) string holding it.
const PEM = /-----BEGIN [A-Z0-9 ]+-----(?:[\s\S]*?-----END [A-Z0-9 ]+-----|[^"]*)/g;
/** a SAS signature in a URL's query, plain, percent-encoded or XML-escaped (`&amp;sig=`) */
const SAS_SIG = /((?:[?&;]|%26|%3F)sig(?:=|%3D))[^&\s"'<>\\]+/gi;
/** form fields (`client_secret=…`) and JSON members (`"client_secret":"…"`, also inside a JSON string) */
const SECRET_FIELD =
  /\b((?:client_secret|client_assertion|access_token|refresh_token)(?:=|%3D|\\*"\s*:\s*\\*"))[^&\s"'<>\\]+/gi;
/** `user:password@` in a URL (a proxy's) */
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^\s/?#@:"'<>]*:)[^\s/?#@"'<>]+@/gi;

/** Removes everything shaped like a credential: JWTs, bearer/basic values, PEM blocks, SAS signatures, … */
export function scrubShapes(text: string): string {
  return text
    .replace(PEM, REDACTED)
    .replace(JWT, REDACTED)
    .replace(BEARER, `$1 ${REDACTED}`)
    .replace(SAS_SIG, `$1${REDACTED}`)
    .replace(SECRET_FIELD, `$1${REDACTED}`)
    .replace(URL_PASSWORD, `$1${REDACTED}@`);
}

/**
 * The secrets one run holds (client secret, certificate key and password, federated token, client assertions,
 * access tokens, SAS signatures, proxy password, content keys), registered the moment they are read, built or
 * received; `scrub` replaces each (and its URL-, form-, JSON- and base64-encoded forms) before a string is printed
 * or logged. One per run, made by the CLI's composition root (main.ts) and handed down; never a module singleton.
 */
export class SecretRegistry {
  /** the values registered (to skip a repeat cheaply: the transport registers each request's `sig` again) */
  private readonly values = new Set<string>();
  /** what `scrub` replaces: every value in each of its encodings */
  private readonly forms = new Set<string>();
  /** longest first, so a value containing another is replaced whole */
  private sorted: string[] = [];

  /** Registers a secret value (ignored when undefined or shorter than MIN_SECRET_LENGTH). */
  add(value: string | undefined): void {
    if (value === undefined) return;
    const v = value.trim();
    if (v.length < MIN_SECRET_LENGTH || this.values.has(v)) return;
    this.values.add(v);
    const before = this.forms.size;
    for (const form of encodings(v)) if (form.length >= MIN_SECRET_LENGTH) this.forms.add(form);
    // A PEM key quoted in part: each of its base64 lines on its own.
    if (v.includes("\n"))
      for (const line of v.split(/\r?\n/))
        if (line.length >= 16 && !line.startsWith("-----")) this.forms.add(line.trim());
    if (this.forms.size !== before) this.sorted = [...this.forms].sort((a, b) => b.length - a.length);
  }

  /** Registers the secret parts of a URL: its password and its SAS signature. */
  addFromUrl(url: string | undefined): void {
    if (url === undefined) return;
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return;
    }
    if (u.password !== "") {
      this.add(u.password);
      try {
        this.add(decodeURIComponent(u.password));
      } catch {
        // not percent-encoding: registered as written
      }
    }
    this.add(u.searchParams.get("sig") ?? undefined);
  }

  /** How many forms are registered (for tests). */
  get size(): number {
    return this.forms.size;
  }

  /** `text` with every registered value, then every credential shape, replaced by REDACTED. */
  scrub(text: string): string {
    let out = text;
    for (const form of this.sorted) if (out.includes(form)) out = out.replaceAll(form, REDACTED);
    return scrubShapes(out);
  }
}

/** The ways a value shows up in text we print: as is, percent- and form-encoded, JSON-escaped, base64. */
function encodings(v: string): string[] {
  const forms = [v, encodeURIComponent(v), new URLSearchParams({ v }).toString().slice(2)];
  forms.push(JSON.stringify(v).slice(1, -1), JSON.stringify(JSON.stringify(v)).slice(2, -2));
  forms.push(Buffer.from(v, "utf8").toString("base64"), Buffer.from(v, "utf8").toString("base64url"));
  return forms;
}

/** Response/request JSON that may carry a field of NEVER_FIELDS (cheap test before parsing). */
const SECRET_FIELD_NAMES = new RegExp(`"(?:${[...NEVER_FIELDS].join("|")})"`);

/** Registers the string values of NEVER_FIELDS at any depth of a JSON text (URLs: the whole URL and its sig). */
function registerJsonSecrets(text: string, secrets: SecretRegistry): void {
  if (!SECRET_FIELD_NAMES.test(text)) return;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return;
  }
  const walk = (v: unknown, secret: boolean): void => {
    if (typeof v === "string") {
      if (!secret) return;
      secrets.add(v);
      if (/^https?:\/\//i.test(v)) secrets.addFromUrl(v);
    } else if (Array.isArray(v)) v.forEach((x) => walk(x, secret));
    else if (v !== null && typeof v === "object")
      for (const [k, inner] of Object.entries(v)) walk(inner, secret || NEVER_FIELDS.has(k));
  };
  walk(parsed, false);
}

/**
 * The transport, registering every secret that crosses the wire before the answer can quote it: the credential of
 * the Authorization / Proxy-Authorization header, a URL's `sig` and password, the client secret and assertion of a
 * token request's form, and any NEVER_FIELDS value in a JSON body either way (access tokens, content keys, upload
 * URLs).
 */
export function registeringTransport(send: HttpTransport, secrets: SecretRegistry): HttpTransport {
  return async (request) => {
    secrets.addFromUrl(request.url);
    for (const name of ["authorization", "proxy-authorization"]) {
      const value = request.headers[name];
      if (value !== undefined) secrets.add(value.replace(/^\s*\S+\s+/, ""));
    }
    if (typeof request.body === "string") {
      if (/^\s*[{[]/.test(request.body)) registerJsonSecrets(request.body, secrets);
      else if (/(?:^|&)client_(?:secret|assertion)=/.test(request.body)) {
        const form = new URLSearchParams(request.body);
        secrets.add(form.get("client_secret") ?? undefined);
        secrets.add(form.get("client_assertion") ?? undefined);
      }
    }
    const response = await send(request);
    registerJsonSecrets(response.bodyText, secrets);
    return response;
  };
}
