/**
 * Fault injection (docs/emulator.md, "Faults"): N calls matching a method and a path pattern get an error status,
 * a 429/503 with or without Retry-After, or a dropped connection, optionally late (`delayMs`); a fault with only
 * `delayMs` adds latency to calls that are otherwise served normally; `dropResponse` lets the service act and then
 * drops the connection before the answer. `probability` (with an optional `seed`) makes a fault hit only some of
 * the matching calls; `echoRequest` makes the error text quote the request (as a careless authority or proxy does).
 * Declared in the seed or added at run time.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Clock } from "./clock.js";
import { errorBody } from "./graph/errors.js";
import { sendJson } from "./http.js";
import { sendStorageError } from "./storage/errors.js";
import { faultSchema } from "./seed.js";
import type { Fault, FaultInput } from "./seed.js";

interface ActiveFault {
  id: string;
  fault: Fault;
  pattern: RegExp;
  query: RegExp | undefined;
  remaining: number;
  /** uniform in [0, 1): the fault's seeded sequence, or Math.random */
  random: () => number;
}

/**
 * mulberry32: a small seeded PRNG, so a fault with `probability` and `seed` hits the same calls of the same
 * sequence on every run (no library offers a seedable generator in Node's standard library).
 */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class FaultInjector {
  private faults: ActiveFault[] = [];

  constructor(private readonly clock: Clock) {}

  add(input: FaultInput): string {
    const fault = faultSchema.parse(input);
    const id = randomUUID();
    const random = fault.seed === undefined ? Math.random : seeded(fault.seed);
    this.faults.push({
      id,
      fault,
      pattern: new RegExp(fault.path),
      query: fault.query === undefined ? undefined : new RegExp(fault.query),
      remaining: fault.count,
      random,
    });
    return id;
  }

  list(): { id: string; fault: Fault; remaining: number }[] {
    return this.faults.map(({ id, fault, remaining }) => ({ id, fault, remaining }));
  }

  clear(): void {
    this.faults = [];
  }

  /**
   * Applies the first matching latency-only fault (the answer, whoever gives it, is held back) and the first
   * matching other fault; true when the request was answered (or dropped) by a fault.
   */
  apply(req: IncomingMessage, res: ServerResponse, url: URL, endpoint: "service" | "storage" = "service"): boolean {
    const method = req.method ?? "GET";
    // A fault with a probability is drawn once per matching call; a call it spares may meet the next fault.
    const matching = (latency: boolean): ActiveFault | undefined =>
      this.faults.find(
        (x) =>
          x.remaining > 0 &&
          latencyOnly(x.fault) === latency &&
          (x.fault.method === "*" || x.fault.method.toUpperCase() === method) &&
          x.pattern.test(url.pathname) &&
          (x.query === undefined || x.query.test(url.search)) &&
          (x.fault.tenant === undefined || callerTenant(req, url) === x.fault.tenant.toLowerCase()) &&
          (x.fault.probability >= 1 || x.random() < x.fault.probability),
      );
    const slow = matching(true);
    const f = matching(false);
    if (slow) slow.remaining--;
    if (f) f.remaining--;
    if (slow || f) this.faults = this.faults.filter((x) => x.remaining > 0);
    if (slow) holdBack(res, slow.fault.delayMs ?? 0);
    if (!f) return false;
    if (f.fault.dropResponse) {
      // The service handles the call (its effects happen); whatever it answers is replaced by a dropped connection.
      swallowAnswer(req, res);
      return false;
    }
    if (f.fault.delayMs !== undefined && f.fault.delayMs > 0) {
      const fault = f.fault;
      setTimeout(() => this.answerOn(endpoint, req, res, url, fault), fault.delayMs);
      return true;
    }
    this.answerOn(endpoint, req, res, url, f.fault);
    return true;
  }

  private answerOn(
    endpoint: "service" | "storage",
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    fault: Fault,
  ): void {
    if (fault.dropConnection) {
      req.socket.destroy();
      return;
    }
    // The request body is read first, as a server does before answering (an unread Put Block body would make the
    // client see a reset connection instead of the answer); kept (up to ECHO_BODY_LIMIT) when the fault echoes it.
    const body: Buffer[] = [];
    let kept = 0;
    if (fault.echoRequest)
      req.on("data", (d: Buffer) => {
        if (kept < ECHO_BODY_LIMIT) body.push(d.subarray(0, ECHO_BODY_LIMIT - kept));
        kept += d.length;
      });
    req.resume();
    const answer = (): void => {
      const echo = fault.echoRequest ? ` Request: ${echoOf(req, url, Buffer.concat(body), kept)}` : "";
      if (endpoint === "storage") answerStorage(req, res, fault, echo);
      else this.answer(req, res, url, fault, echo);
    };
    if (req.readableEnded) answer();
    else req.once("end", answer);
  }

  private answer(req: IncomingMessage, res: ServerResponse, url: URL, fault: Fault, echo: string): void {
    const status = fault.status ?? 503;
    const headers: Record<string, string> = {};
    if (fault.retryAfter !== undefined) headers["Retry-After"] = String(fault.retryAfter);
    const requestId = randomUUID();
    const clientRequestId = (req.headers["client-request-id"] as string | undefined) ?? requestId;
    headers["request-id"] = requestId;
    headers["client-request-id"] = clientRequestId;
    const date = new Date(this.clock.now());
    if (!/^\/(beta|v1\.0)(\/|$)/.test(url.pathname)) {
      // Entra routes answer in the AADSTS shape (docs/reference/entra-auth.md §1.6): 429 as AADSTS90055
      // TenantThrottlingError (§2.1), 5xx as temporarily_unavailable.
      const code = status === 429 ? 90055 : 50000;
      const text =
        status === 429
          ? "Too many requests. Please retry later."
          : "There was an error issuing a token or an authorization code.";
      const timestamp = date
        .toISOString()
        .replace("T", " ")
        .replace(/\.\d{3}Z$/, "Z");
      sendJson(
        res,
        status,
        {
          error: status === 429 || status >= 500 ? "temporarily_unavailable" : "invalid_request",
          error_description: `AADSTS${code}: ${text}${echo}\r\nTrace ID: ${requestId}\r\nCorrelation ID: ${clientRequestId}\r\nTimestamp: ${timestamp}`,
          error_codes: [code],
          timestamp,
          trace_id: requestId,
          correlation_id: clientRequestId,
        },
        headers,
      );
      return;
    }
    if (status === 429) {
      // The generic Graph 429 body (docs/reference/entra-errors.md §2.3, Graph's throttling doc); Intune's is assumed
      // identical (docs/reference/entra-auth.md §8).
      const body = errorBody("TooManyRequests", `Please retry again later.${echo}`, requestId, clientRequestId, date);
      Object.assign(body.error.innerError ?? {}, { code: "429", message: "Please retry after", status: "429" });
      sendJson(res, 429, body, headers);
    } else if (status === 401) {
      // Token expiry as Graph reports it (docs/reference/entra-errors.md §2.3, observed), whatever token was sent.
      headers["WWW-Authenticate"] =
        'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"';
      const message = `Lifetime validation failed, the token is expired.${echo}`;
      sendJson(res, 401, errorBody("InvalidAuthenticationToken", message, requestId, clientRequestId, date), headers);
    } else {
      const code =
        status === 503
          ? "ServiceUnavailable"
          : status === 504
            ? "GatewayTimeout"
            : status >= 500
              ? "InternalServerError"
              : "BadRequest";
      const message = `Injected fault (${status}).${echo}`;
      sendJson(res, status, errorBody(code, message, requestId, clientRequestId, date), headers);
    }
  }
}

/**
 * Blob storage's error shape (emulator/storage/errors.ts): 503 is ServerBusy, 500 OperationTimedOut (both
 * documented as retryable), 403 AuthenticationFailed (what an expired SAS gets).
 */
function answerStorage(req: IncomingMessage, res: ServerResponse, fault: Fault, echo: string): void {
  const status = fault.status ?? 503;
  const code =
    status === 503 || status === 429
      ? "ServerBusy"
      : status === 500
        ? "OperationTimedOut"
        : status === 403
          ? "AuthenticationFailed"
          : "InvalidInput";
  sendStorageError(req, res, {
    status,
    code,
    message: `Injected fault (${status}).${echo}`,
    ...(fault.retryAfter === undefined ? {} : { headers: { "retry-after": String(fault.retryAfter) } }),
  });
}

/** How much of a request body an echoing fault quotes. */
const ECHO_BODY_LIMIT = 4 * 1024;

/** One line quoting the request: method, path and query, headers (as JSON), and a text body (else its size). */
function echoOf(req: IncomingMessage, url: URL, body: Buffer, size: number): string {
  const type = String(req.headers["content-type"] ?? "");
  const text = /json|x-www-form-urlencoded|xml|^text\//i.test(type);
  const shown = size === 0 ? "" : text ? ` body=${JSON.stringify(body.toString("utf8"))}` : ` body=<${size} bytes>`;
  return `${req.method ?? "GET"} ${url.pathname}${url.search} headers=${JSON.stringify(req.headers)}${shown}`;
}

/** A fault that only adds latency: the call is otherwise served normally. */
function latencyOnly(f: Fault): boolean {
  return f.delayMs !== undefined && f.status === undefined && !f.dropConnection && !f.dropResponse;
}

/** The answer `res` will be given is never sent: when it ends, the connection is destroyed instead. */
function swallowAnswer(req: IncomingMessage, res: ServerResponse): void {
  res.writeHead = (() => res) as unknown as ServerResponse["writeHead"];
  res.setHeader = (() => res) as unknown as ServerResponse["setHeader"];
  res.write = (() => true) as unknown as ServerResponse["write"];
  res.end = ((): ServerResponse => {
    req.socket.destroy();
    return res;
  }) as unknown as ServerResponse["end"];
}

/**
 * Holds the response back `ms` after the request arrived: writes and the end are queued until then (headers go
 * with the first write or the end, so nothing reaches the client earlier).
 */
function holdBack(res: ServerResponse, ms: number): void {
  if (ms <= 0) return;
  const write = res.write.bind(res) as (...args: unknown[]) => boolean;
  const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
  const queued: (() => void)[] = [];
  let open = false;
  const timer = setTimeout(() => {
    open = true;
    res.write = write as ServerResponse["write"];
    res.end = end as ServerResponse["end"];
    for (const q of queued.splice(0)) q();
  }, ms);
  res.once("close", () => clearTimeout(timer));
  res.write = ((...args: unknown[]) => {
    if (open) return write(...args);
    queued.push(() => write(...args));
    return true;
  }) as ServerResponse["write"];
  res.end = ((...args: unknown[]) => {
    if (open) return end(...args);
    queued.push(() => end(...args));
    return res;
  }) as ServerResponse["end"];
}

/**
 * The tenant a call is for, without checking anything: the bearer token's `tid` (Graph), else the first path
 * segment (Entra ID: `/{tenant}/oauth2/v2.0/token`), lowercased.
 */
function callerTenant(req: IncomingMessage, url: URL): string {
  const auth = req.headers.authorization ?? "";
  const m = /^Bearer\s+[^.]+\.([^.]+)\./i.exec(auth);
  if (m) {
    try {
      const tid = (JSON.parse(Buffer.from(m[1]!, "base64url").toString("utf8")) as { tid?: unknown }).tid;
      if (typeof tid === "string") return tid.toLowerCase();
    } catch {
      // not a JWT: no tenant from it
    }
  }
  return (url.pathname.split("/")[1] ?? "").toLowerCase();
}
