/**
 * The connection test: resolve settings → load the credential → reach the authority → get a token → read
 * its roles → the six permissions → a live read-only probe per permission → credential expiry. Every step is
 * recorded with its result; the first failure decides the error kind (and so the exit code, mapped in the CLI).
 * No secret value or token is ever put in the report.
 */
import {
  adviceForAadsts,
  adviceForGraphError,
  aadstsCodeOf,
  missingPermissionsAdvice,
  NO_ROLES_ADVICE,
} from "../../core/config/advice.js";
import type { Advice } from "../../core/config/advice.js";
import { checkPermissions } from "../../core/config/permissions.js";
import type { PermissionState } from "../../core/config/permissions.js";
import type { Settings } from "../../core/config/profile.js";
import { isPublisherError, PublisherError, reportedCode } from "../../core/errors.js";
import type { ErrorCode, ErrorKind } from "../../core/errors.js";
import type { CodeOfKind } from "../../core/error-codes.js";
import type { LoadedCredential } from "../../clients/auth/credentials.js";
import { explainNetworkError } from "../../clients/auth/msal-network.js";
import { AuthFailure, createTokenProvider, pipelineTokenProvider } from "../../clients/auth/token-provider.js";
import type { AccessToken, TokenProvider } from "../../clients/auth/token-provider.js";
import { graphError } from "../../clients/graph/errors.js";
import { logPolicy } from "../../clients/http/log-policy.js";
import { createHttpPipeline, HttpPipeline } from "../../clients/http/pipeline.js";
import type { SecretRegistry } from "../../clients/http/redact.js";
import type { HttpLogger, HttpResponse, HttpTransport } from "../../clients/http/types.js";
import type { ConnectTransport } from "./config-store.js";

export type StepStatus = "ok" | "warning" | "failed" | "skipped";

export interface StepResult {
  name: string;
  status: StepStatus;
  detail: string;
}

export interface ProbeResult {
  what: string;
  path: string;
  status: StepStatus;
  httpStatus: number | undefined;
  /** Graph `request-id` and the response date, for support cases */
  requestId: string | undefined;
  date: string | undefined;
  error: string | undefined;
}

export interface PermissionRow {
  permission: string;
  id: string;
  usedFor: string;
  enabled: boolean;
  state: PermissionState;
  via: string | undefined;
  probe: ProbeResult;
}

export interface Problem {
  kind: ErrorKind;
  /** the advice id (e.g. `graph.403.Forbidden`), or the error's code (the service's when it gave one) */
  code: string;
  /** ours, from the error catalogue (docs/cli.md#error-codes): the code the command's error carries */
  errorCode: ErrorCode;
  message: string;
  fix: string | undefined;
  /** Entra / Graph ids for support cases */
  correlationId?: string | undefined;
  traceId?: string | undefined;
  requestId?: string | undefined;
  timestamp?: string | undefined;
}

export interface ConnectionReport {
  ok: boolean;
  /** "ok" or the kind of the first problem */
  result: ErrorKind | "ok";
  settings: Record<string, string | undefined>;
  /** where each setting came from (flag, env AZURE_…, profile, default) */
  sources: Record<string, string>;
  steps: StepResult[];
  token:
    | {
        tenantId: unknown;
        appId: unknown;
        credentialType: string;
        audience: unknown;
        expiresOn: string;
        roles: string[];
      }
    | undefined;
  permissions: PermissionRow[];
  missingPermissions: string[];
  credential:
    | {
        type: string;
        description: string;
        subject?: string | undefined;
        thumbprintSha1?: string | undefined;
        thumbprintSha256?: string | undefined;
        notBefore?: string | undefined;
        expiresOn?: string | undefined;
        daysLeft?: number | undefined;
      }
    | undefined;
  warnings: string[];
  problem: Problem | undefined;
}

export interface ConnectionTestInput {
  /** resolves the settings (reads the profiles file); config errors become the first step's failure */
  resolveSettings: () => Promise<Settings>;
  loadCredential: (settings: Settings) => Promise<LoadedCredential>;
  /** builds the transport for the settings (CA, proxy) */
  transport: (settings: Settings) => Promise<ConnectTransport>;
  /** warn when the credential expires sooner than this (default 30 days) */
  expiryWarningDays?: number;
  now?: () => number;
  signal?: AbortSignal;
  /** receives every request and answer, redacted by allow-list (src/clients/http/redact.ts); off when absent */
  logger?: HttpLogger;
  /** the run's secret registry (access tokens are added as they are received) */
  secrets?: SecretRegistry | undefined;
}

const DAY_MS = 86_400_000;

function problemOf(e: unknown): Problem {
  if (e instanceof AuthFailure) {
    return {
      kind: e.kind,
      code: reportedCode(e),
      errorCode: e.code,
      message: e.message,
      fix: e.hint,
      correlationId: e.correlationId,
      traceId: e.traceId,
      timestamp: e.timestamp,
    };
  }
  if (isPublisherError(e))
    return { kind: e.kind, code: reportedCode(e), errorCode: e.code, message: e.message, fix: e.hint };
  return {
    kind: "internal",
    code: "Internal",
    errorCode: "Internal",
    message: (e as Error)?.message ?? String(e),
    fix: undefined,
  };
}

type CodeByKind = { readonly [K in ErrorKind]?: CodeOfKind<K> };

/** Our code for a finding of the advice table, by its kind (so the exit code stays the advice's). */
const ADVICE_CODE: CodeByKind = {
  auth: "SignInRefused",
  config: "SignInSettingsRejected",
  permission: "PermissionMissing",
  network: "NetworkError",
  graph: "GraphRequestFailed",
  internal: "SignInRequestInvalid",
  timeout: "Timeout",
};
/** The same for Graph's answers (advice ids `graph.…`). */
const GRAPH_ADVICE_CODE: CodeByKind = {
  auth: "GraphUnauthorized",
  config: "GraphSettingsRejected",
  permission: "GraphForbidden",
  graph: "GraphRequestFailed",
  timeout: "Timeout",
};

/** Our catalogue code for an advice: one of the advice's kind (Internal only for a kind no table maps). */
export function adviceCode(a: Advice): ErrorCode {
  return (a.id.startsWith("graph.") ? GRAPH_ADVICE_CODE : ADVICE_CODE)[a.kind] ?? "Internal";
}

function fromAdvice(a: Advice, extra: Partial<Problem> = {}): Problem {
  return {
    kind: a.kind,
    code: a.id,
    errorCode: adviceCode(a),
    message: a.cause,
    fix: a.fix,
    ...extra,
  };
}

export async function runConnectionTest(
  input: ConnectionTestInput,
): Promise<{ report: ConnectionReport; close: () => Promise<void> }> {
  const now = input.now ?? Date.now;
  const report: ConnectionReport = {
    ok: false,
    result: "internal",
    settings: {},
    sources: {},
    steps: [],
    token: undefined,
    permissions: [],
    missingPermissions: [],
    credential: undefined,
    warnings: [],
    problem: undefined,
  };
  let transport: ConnectTransport | undefined;
  const close = async (): Promise<void> => {
    await transport?.close();
  };
  const step = (name: string, status: StepStatus, detail: string): void => {
    report.steps.push({ name, status, detail });
  };
  const fail = (
    name: string,
    problem: Problem,
    remaining: string[],
  ): { report: ConnectionReport; close: () => Promise<void> } => {
    step(name, "failed", problem.message);
    for (const r of remaining) step(r, "skipped", "not run after the failure above");
    report.problem ??= problem;
    report.result = report.problem.kind;
    report.ok = false;
    return { report, close };
  };
  const STEPS = [
    "Resolve settings",
    "Load credential",
    "Reach the authority",
    "Get a token",
    "Read roles",
    "Live probes",
    "Credential expiry",
  ] as const;
  const after = (name: (typeof STEPS)[number]): string[] => STEPS.slice(STEPS.indexOf(name) + 1);

  // 1. settings
  let settings: Settings;
  try {
    settings = await input.resolveSettings();
  } catch (e) {
    return fail("Resolve settings", problemOf(e), after("Resolve settings"));
  }
  const ep = settings.endpoints;
  report.settings = {
    profile: settings.profileName,
    cloud: ep.cloud,
    tenant: ep.tenant,
    clientId: settings.clientId,
    authority: ep.authority,
    tokenAudience: ep.tokenAudience,
    graphBaseUrl: ep.graphBaseUrl,
    proxy: settings.proxy === undefined ? undefined : redactUrl(settings.proxy),
    caCertificate: settings.caCertificatePath,
  };
  report.sources = settings.sources;
  step(
    "Resolve settings",
    "ok",
    `${ep.cloud} cloud, tenant ${ep.tenant}, client ${settings.clientId}${settings.profileName ? `, profile ${settings.profileName}` : ""}`,
  );

  // 2. credential
  let credential: LoadedCredential;
  try {
    credential = await input.loadCredential(settings);
    transport = await input.transport(settings);
  } catch (e) {
    return fail("Load credential", problemOf(e), after("Load credential"));
  }
  const cert = credential.certificate;
  report.credential = {
    type: credential.type,
    description: credential.description,
    ...(cert
      ? {
          subject: cert.subject,
          thumbprintSha1: cert.thumbprintSha1,
          thumbprintSha256: cert.thumbprintSha256,
          notBefore: cert.notBefore.toISOString(),
        }
      : {}),
    ...(credential.expiresOn
      ? {
          expiresOn: credential.expiresOn.toISOString(),
          daysLeft: Math.floor((credential.expiresOn.getTime() - now()) / DAY_MS),
        }
      : {}),
  };
  report.warnings.push(...credential.warnings);
  const expiry = judgeExpiry(credential, now(), input.expiryWarningDays ?? 30);
  if (expiry.warning !== undefined) report.warnings.push(expiry.warning);
  step("Load credential", "ok", credential.description);

  // Every call goes through the log policy when logging is on (the token provider logs its own requests; token POST
  // bodies show as their size only).
  const logPipeline =
    input.logger === undefined ? undefined : new HttpPipeline(transport.send, [logPolicy({ logger: input.logger })]);
  const send: HttpTransport = logPipeline === undefined ? transport.send : (req) => logPipeline.send(req);

  // 3. authority
  try {
    const url = ep.openIdConfigurationUrl;
    let r: HttpResponse;
    try {
      r = await send({
        method: "GET",
        url,
        headers: { accept: "application/json" },
        ...(input.signal ? { signal: input.signal } : {}),
      });
    } catch (e) {
      throw explainNetworkError(e, url) ?? e;
    }
    if (r.status !== 200) {
      const body = parseJson(r.bodyText) as {
        error_codes?: unknown;
        error_description?: unknown;
        correlation_id?: unknown;
        trace_id?: unknown;
        timestamp?: unknown;
      };
      const code = aadstsCodeOf(
        Array.isArray(body.error_codes) ? (body.error_codes[0] as number) : undefined,
        String(body.error_description ?? ""),
      );
      const advice =
        code !== undefined
          ? adviceForAadsts(code)
          : {
              id: `authority.${r.status}`,
              kind: "config" as const,
              cause: `The authority answered HTTP ${r.status} for its OpenID configuration.`,
              fix: "Check the authority host and the tenant.",
            };
      return fail(
        "Reach the authority",
        fromAdvice(advice, {
          code: code !== undefined ? `AADSTS${code}` : advice.id,
          message: `${advice.cause}${code !== undefined ? ` (AADSTS${code})` : ""}`,
          correlationId: typeof body.correlation_id === "string" ? body.correlation_id : undefined,
          traceId: typeof body.trace_id === "string" ? body.trace_id : undefined,
          timestamp: typeof body.timestamp === "string" ? body.timestamp : undefined,
        }),
        after("Reach the authority"),
      );
    }
    step("Reach the authority", "ok", `${ep.authorityHost} answered for tenant ${ep.tenant}`);
  } catch (e) {
    return fail("Reach the authority", problemOf(e), after("Reach the authority"));
  }

  // 4. token
  let token: AccessToken;
  let provider: TokenProvider;
  try {
    provider = createTokenProvider({
      clientId: settings.clientId,
      endpoints: ep,
      credential,
      transport: transport.send,
      logger: input.logger,
      secrets: input.secrets,
    });
    token = await provider.getToken();
  } catch (e) {
    return fail("Get a token", problemOf(e), after("Get a token"));
  }
  const c = token.claims;
  report.token = {
    tenantId: c["tid"],
    appId: c["appid"] ?? c["azp"],
    credentialType:
      c["appidacr"] === "2" || c["azpacr"] === "2"
        ? "certificate"
        : c["appidacr"] === "1" || c["azpacr"] === "1"
          ? "secret"
          : "other",
    audience: c["aud"],
    expiresOn: token.expiresOn.toISOString(),
    roles: token.roles,
  };
  step("Get a token", "ok", `token for ${ep.tokenAudience}, valid until ${token.expiresOn.toISOString()}`);

  // 5. roles
  const checks = checkPermissions(token.roles);
  const missing = checks.filter((x) => x.state === "missing").map((x) => x.permission.name);
  report.missingPermissions = missing;
  let rolesProblem: Problem | undefined;
  if (token.roles.length === 0) {
    rolesProblem = fromAdvice(NO_ROLES_ADVICE);
    step("Read roles", "failed", "the token has no roles claim: admin consent has not been granted");
  } else if (missing.length > 0) {
    rolesProblem = fromAdvice(missingPermissionsAdvice(missing));
    step("Read roles", "failed", `missing: ${missing.join(", ")}`);
  } else {
    step("Read roles", "ok", `all ${checks.length} permissions granted`);
  }
  report.problem ??= rolesProblem;

  // 6. probes
  let probeProblem: Problem | undefined;
  // Few, short retries: a probe reports the tenant's state, it does not wait out long throttling.
  const pipeline = createHttpPipeline({
    transport: transport.send,
    tokenProvider: pipelineTokenProvider(provider),
    retry: { maxAttempts: 3, maxTotalDelayMs: 15_000 },
    ...(input.logger === undefined ? {} : { log: { logger: input.logger } }),
  });
  for (const check of checks) {
    const probe = await runProbe(pipeline, ep.graphBaseUrl, check.permission.probe, input.signal);
    if (probe.problem) probeProblem ??= probe.problem;
    report.permissions.push({
      permission: check.permission.name,
      id: check.permission.id,
      usedFor: check.permission.usedFor,
      enabled: check.state !== "missing",
      state: check.state,
      via: check.via,
      probe: probe.result,
    });
  }
  const failedProbes = report.permissions.filter((p) => p.probe.status === "failed");
  step(
    "Live probes",
    failedProbes.length === 0 ? "ok" : "failed",
    failedProbes.length === 0
      ? `${report.permissions.length} of ${report.permissions.length} endpoints answered`
      : `failed: ${failedProbes.map((p) => `${p.probe.what} (${p.probe.httpStatus ?? p.probe.error})`).join("; ")}`,
  );
  report.problem ??= probeProblem;

  // 7. expiry (judged once, right after loading; shown as the last step)
  step(expiry.name, expiry.status, expiry.detail);

  report.result = report.problem?.kind ?? "ok";
  report.ok = report.problem === undefined;
  return { report, close };
}

/** The credential expiry step: a warning under `warningDays`, a failure when expired. */
export function judgeExpiry(
  credential: LoadedCredential,
  nowMs: number,
  warningDays: number,
): StepResult & { warning: string | undefined } {
  const name = "Credential expiry";
  const exp = credential.expiresOn;
  if (exp === undefined) {
    return {
      name,
      status: "ok",
      detail: credential.type === "secret" ? "unknown (set expiresOn in the profile to be warned)" : "not applicable",
      warning: undefined,
    };
  }
  const days = (exp.getTime() - nowMs) / DAY_MS;
  const what = credential.type === "certificate" ? "The certificate" : "The client secret";
  if (days < 0) {
    const msg = `${what} expired on ${exp.toISOString()}.`;
    return { name, status: "failed", detail: msg, warning: msg };
  }
  if (days < warningDays) {
    const msg = `${what} expires in ${Math.floor(days)} days (${exp.toISOString()}); renew it soon.`;
    return { name, status: "warning", detail: msg, warning: msg };
  }
  return {
    name,
    status: "ok",
    detail: `valid until ${exp.toISOString()} (${Math.floor(days)} days)`,
    warning: undefined,
  };
}

function parseJson(text: string): Record<string, unknown> {
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === "object" && v !== null ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** Removes user:password from a proxy URL before it is shown. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = "REDACTED";
      u.password = "";
    }
    return u.toString().replace(/\/$/, "");
  } catch {
    return "(invalid URL)";
  }
}

async function runProbe(
  pipeline: HttpPipeline,
  graphBaseUrl: string,
  probe: { path: string; what: string },
  signal: AbortSignal | undefined,
): Promise<{ result: ProbeResult; problem: Problem | undefined }> {
  const url = `${graphBaseUrl}${probe.path}`;
  let r: HttpResponse;
  try {
    r = await pipeline.send({
      method: "GET",
      url,
      headers: { accept: "application/json" },
      ...(signal ? { signal } : {}),
    });
  } catch (e) {
    const p = problemOf(explainNetworkError(e, url) ?? e);
    return {
      result: {
        ...probe,
        status: "failed",
        httpStatus: undefined,
        requestId: undefined,
        date: undefined,
        error: p.message,
      },
      problem: p,
    };
  }
  if (r.status >= 200 && r.status < 300) {
    return {
      result: {
        ...probe,
        status: "ok",
        httpStatus: r.status,
        requestId: r.headers["request-id"],
        date: r.headers["date"],
        error: undefined,
      },
      problem: undefined,
    };
  }
  const g = graphError({
    status: r.status,
    headers: r.headers,
    body: parseJson(r.bodyText),
    method: "GET",
    url,
    ...(r.request.headers["client-request-id"] ? { clientRequestId: r.request.headers["client-request-id"] } : {}),
  });
  const advice = adviceForGraphError({ status: g.status, code: g.graphCode, message: g.graphMessage });
  return {
    result: {
      ...probe,
      status: "failed",
      httpStatus: r.status,
      requestId: g.requestId,
      date: g.date,
      error: advice.cause,
    },
    problem: fromAdvice(advice, { requestId: g.requestId, timestamp: g.date }),
  };
}

/**
 * The problem as a typed error, for the CLI to map to an exit code (after the report is printed). The problem's
 * `code` (an AADSTS code, Graph's code or an advice id) stays as `serviceCode`, so the run log shows it as before.
 */
export function problemError(p: Problem): PublisherError {
  const ids = [
    p.requestId ? `request-id ${p.requestId}` : undefined,
    p.correlationId ? `correlation id ${p.correlationId}` : undefined,
    p.traceId ? `trace id ${p.traceId}` : undefined,
    p.timestamp ? `at ${p.timestamp}` : undefined,
  ].filter(Boolean);
  return new PublisherError(p.errorCode, ids.length > 0 ? `${p.message} (${ids.join(", ")})` : p.message, {
    hint: p.fix,
    serviceCode: p.code === p.errorCode ? undefined : p.code,
  });
}
