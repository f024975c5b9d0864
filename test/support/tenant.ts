/**
 * The local tenant (emulator + embedded Azurite) in tests and benchmarks, started in this process with test
 * defaults (`startLocalTestTenant`), alone or reached two ways: our Graph client on a transport that records every request, with tokens the
 * emulator issues (`startTestTenant`); or our own session code as the CLI uses it — msal sign-in, HTTP pipeline,
 * Graph client (`startPublishTenant`). `recordLocalTenant` writes what `emulator start` leaves in its state folder.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { startLocalTenant } from "../../emulator/server.js";
import type { LocalTenant, LocalTenantOptions } from "../../emulator/server.js";
import { GraphClient } from "../../src/clients/graph/client.js";
import type { TokenProvider } from "../../src/clients/http/auth-policy.js";
import { createHttpPipeline } from "../../src/clients/http/pipeline.js";
import type { RetryOptions } from "../../src/clients/http/retry-policy.js";
import { createFetchTransport } from "../../src/clients/http/transport.js";
import type { HttpLogger, HttpRequest, HttpResponse, HttpTransport } from "../../src/clients/http/types.js";
import { formatLocalTenantRecord, LOCAL_TENANT_RECORD_FILE } from "../../src/core/config/local-tenant-record.js";
import type { LocalTenantRecord } from "../../src/core/config/local-tenant-record.js";
import type { LoadedAppDefinition } from "../../src/definitions/load.js";
import { publish } from "../../src/publish/publish.js";
import type { PublishOptions, PublishResult } from "../../src/publish/publish.js";
import { localTargetOf } from "../../src/publish/connect/local-tenant.js";
import { localConnection, openGraphSession } from "../../src/publish/target.js";
import type { GraphSession } from "../../src/publish/target.js";

/** Upload state changes after 20 ms instead of the emulator's default second. */
export const TEST_UPLOAD_DELAYS = { sasIssueMs: 20, renewalMs: 20, commitMs: 20 };

/** Upload polling for tests: starts at 10 ms. */
export const FAST_POLL = { initialIntervalMs: 10, factor: 1.5, maxIntervalMs: 50 };

/** A local tenant in this process: the emulator's own start-up, with TEST_UPLOAD_DELAYS unless `uploadDelays` is given. */
export function startLocalTestTenant(options: LocalTenantOptions = {}): Promise<LocalTenant> {
  return startLocalTenant({ uploadDelays: TEST_UPLOAD_DELAYS, ...options });
}

export interface Recorded {
  method: string;
  url: string;
  status: number | "error";
}

/**
 * A transport that records requests and lets a test act before one is sent (`before` may return a reply to send
 * instead, or throw) — e.g. expire the upload URL, or answer 503.
 */
export class RecordingTransport {
  readonly calls: Recorded[] = [];
  inFlight = 0;
  maxInFlight = 0;
  before: ((req: HttpRequest) => Promise<HttpResponse | undefined> | HttpResponse | undefined) | undefined;

  constructor(private readonly inner: HttpTransport) {}

  readonly send: HttpTransport = async (req) => {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      const injected = await this.before?.(req);
      const res = injected ?? (await this.inner(req));
      this.calls.push({ method: req.method, url: req.url, status: res.status });
      return res;
    } catch (e) {
      this.calls.push({ method: req.method, url: req.url, status: "error" });
      throw e;
    } finally {
      this.inFlight--;
    }
  };

  putBlocks(): Recorded[] {
    return this.calls.filter((c) => isPutBlock(c));
  }

  matching(method: string, pattern: RegExp): Recorded[] {
    return this.calls.filter((c) => c.method === method && pattern.test(new URL(c.url).pathname));
  }

  reset(): void {
    this.calls.length = 0;
    this.maxInFlight = 0;
  }
}

export function isPutBlock(req: { method: string; url: string }): boolean {
  return req.method === "PUT" && /[?&]comp=block(&|$)/.test(req.url);
}

export interface TestTenant {
  lt: LocalTenant;
  graph: GraphClient;
  graphCalls: RecordingTransport;
  blob: RecordingTransport;
  /** provider calls, with forceRefresh flags */
  tokenCalls: boolean[];
  close(): Promise<void>;
}

export interface TestTenantOptions extends LocalTenantOptions {
  retry?: RetryOptions;
  /** default: a token from the emulator, claimed valid for an hour */
  tokenProvider?: (lt: LocalTenant) => TokenProvider["getToken"];
}

/** A local tenant (TEST_UPLOAD_DELAYS unless `uploadDelays` is given) with our Graph client on recording transports. */
export async function startTestTenant(options: TestTenantOptions = {}): Promise<TestTenant> {
  const { retry, tokenProvider, ...ltOptions } = options;
  const lt = await startLocalTestTenant(ltOptions);
  const transport = createFetchTransport({ trustedCaPem: lt.caCertPem });
  const graphCalls = new RecordingTransport(transport.send);
  const blob = new RecordingTransport(transport.send);
  const tokenCalls: boolean[] = [];
  const get =
    tokenProvider?.(lt) ?? (async () => ({ token: lt.admin.issueToken(), expiresOn: Date.now() + 3_600_000 }));
  const pipeline = createHttpPipeline({
    transport: graphCalls.send,
    tokenProvider: {
      getToken: (signal, o) => {
        tokenCalls.push(o?.forceRefresh === true);
        return get(signal, o);
      },
    },
    ...(retry === undefined ? {} : { retry }),
  });
  const graph = new GraphClient({ pipeline, baseUrl: lt.graphBaseUrl });
  return {
    lt,
    graph,
    graphCalls,
    blob,
    tokenCalls,
    async close() {
      await transport.close();
      await lt.close();
    },
  };
}

export interface Call {
  method: string;
  url: string;
}

export interface PublishTenant {
  lt: LocalTenant;
  session: GraphSession;
  calls: Call[];
  /** Graph calls (not Entra ID, not blob storage) other than GET, since `from` */
  graphWrites(from?: number): Call[];
  publish(definitions: readonly LoadedAppDefinition[], extra?: Partial<PublishOptions>): Promise<PublishResult>;
  /** our win32LobApps in the emulator's store */
  apps(): Record<string, unknown>[];
  close(): Promise<void>;
}

/** A local tenant (TEST_UPLOAD_DELAYS unless given) signed in to through our session code, every request recorded. */
export async function startPublishTenant(
  options: LocalTenantOptions = {},
  extra: { logger?: HttpLogger } = {},
): Promise<PublishTenant> {
  const lt = await startLocalTestTenant(options);
  const calls: Call[] = [];
  const session = await openGraphSession(localConnection(localTargetOf(lt, "test")), {
    env: {},
    ...(extra.logger === undefined ? {} : { logger: extra.logger }),
    onRequest: (method, url) => calls.push({ method, url }),
  });
  const graphBase = lt.graphBaseUrl;
  return {
    lt,
    session,
    calls,
    graphWrites: (from = 0) => calls.slice(from).filter((c) => c.method !== "GET" && c.url.startsWith(graphBase)),
    publish: (definitions, extra = {}) =>
      publish({
        graph: session.graph,
        definitions,
        upload: { poll: FAST_POLL, storage: { transport: session.transport.send }, blockSize: 64 * 1024 },
        ...extra,
      }),
    apps: () =>
      Object.values(lt.admin.state()).flatMap((t) => (t["mobileApps"] ?? []) as unknown as Record<string, unknown>[]),
    async close() {
      await session.close();
      await lt.close();
    },
  };
}

/**
 * What `emulator start` leaves in its state folder for a running tenant: `ca.pem` and `credentials.json` (0600), so
 * that the CLI finds `lt` there; `over` replaces fields (a wrong secret, another host).
 */
export async function recordLocalTenant(
  stateDir: string,
  lt: LocalTenant,
  over: Partial<LocalTenantRecord> = {},
): Promise<void> {
  await mkdir(stateDir, { recursive: true });
  await writeFile(join(stateDir, "ca.pem"), lt.caCertPem);
  const record: LocalTenantRecord = {
    tenantId: lt.tenantId,
    clientId: lt.clientId,
    clientSecret: lt.clientSecret ?? null,
    authorityHost: lt.authorityHost,
    graphBaseUrl: lt.graphBaseUrl,
    tokenAudience: lt.tokenAudience,
    ...over,
  };
  await writeFile(join(stateDir, LOCAL_TENANT_RECORD_FILE), formatLocalTenantRecord(record), { mode: 0o600 });
}

/** The flags that name a local tenant as a configured one: `--cloud local`, its addresses, and its CA when given. */
export function localTenantFlags(lt: LocalTenant, caPath?: string): string[] {
  const flags = ["--cloud", "local", "--authority-host", lt.authorityHost, "--graph-base-url", lt.graphBaseUrl];
  return caPath === undefined ? flags : [...flags, "--ca-certificate", caPath];
}
