/**
 * Test support for the upload engine: a local tenant (emulator + embedded Azurite), our Graph client on a transport
 * that records every request, a blob transport with hooks (count Put Block, expire the URL mid-upload, inject
 * storage failures), packages made by our packager from random (incompressible) content, and a valid app.
 */
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startLocalTenant } from "../../emulator/server.js";
import type { LocalTenant, LocalTenantOptions } from "../../emulator/server.js";
import { GraphClient } from "../../src/clients/graph/client.js";
import type { TokenProvider } from "../../src/clients/http/auth-policy.js";
import { createHttpPipeline } from "../../src/clients/http/pipeline.js";
import type { RetryOptions } from "../../src/clients/http/retry-policy.js";
import { createFetchTransport } from "../../src/clients/http/transport.js";
import type { FetchTransport } from "../../src/clients/http/transport.js";
import type { HttpRequest, HttpResponse, HttpTransport } from "../../src/clients/http/types.js";
import type { Win32LobAppWire } from "../../src/core/wire/graph.js";
import { packageFolder } from "../../src/intunewin/package.js";
import type { PackageResult } from "../../src/intunewin/package.js";

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
    return this.calls.filter((c) => c.method === "PUT" && /[?&]comp=block(&|$)/.test(c.url));
  }

  matching(method: string, pattern: RegExp): Recorded[] {
    return this.calls.filter((c) => c.method === method && pattern.test(new URL(c.url).pathname));
  }

  reset(): void {
    this.calls.length = 0;
    this.maxInFlight = 0;
  }
}

export function isPutBlock(req: HttpRequest): boolean {
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

export async function startTestTenant(options: TestTenantOptions = {}): Promise<TestTenant> {
  const { retry, tokenProvider, ...ltOptions } = options;
  const lt = await startLocalTenant({
    uploadDelays: { sasIssueMs: 20, renewalMs: 20, commitMs: 20 },
    ...ltOptions,
  });
  const transport: FetchTransport = createFetchTransport({ trustedCaPem: lt.caCertPem });
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

/** A package of `bytes` random bytes (plus a setup script) made by our packager. */
export async function makePackage(dir: string, bytes: number, name = "setup"): Promise<PackageResult> {
  const source = join(dir, `${name}-source`);
  await mkdir(source, { recursive: true });
  await writeFile(join(source, "install.ps1"), "Write-Output 'installing'\r\n");
  await writeFile(join(source, "data.bin"), randomBytes(bytes));
  return packageFolder({ sourceDir: source, setupFile: "install.ps1", outDir: join(dir, `${name}-out`) });
}

export async function tempDir(): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), "ip-upload-"));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** A minimal valid win32LobApp (docs/reference/graph-win32-upload.md §2.1), created through our client. */
export async function createApp(graph: GraphClient, name = "Contoso Upload Test"): Promise<string> {
  const app = await graph.post<Win32LobAppWire>("/deviceAppManagement/mobileApps", {
    "@odata.type": "#microsoft.graph.win32LobApp",
    displayName: name,
    publisher: "Contoso",
    fileName: "setup.intunewin",
    setupFilePath: "install.ps1",
    installCommandLine: "powershell.exe -ExecutionPolicy Bypass -File install.ps1",
    uninstallCommandLine: "powershell.exe -ExecutionPolicy Bypass -File uninstall.ps1",
    installExperience: { runAsAccount: "system", deviceRestartBehavior: "suppress", maxRunTimeInMinutes: 60 },
    detectionRules: [
      {
        "@odata.type": "#microsoft.graph.win32LobAppRegistryDetection",
        check32BitOn64System: false,
        keyPath: "HKEY_LOCAL_MACHINE\\SOFTWARE\\Contoso\\UploadTest",
        valueName: "Version",
        detectionType: "version",
        operator: "equal",
        detectionValue: "1.0.0",
      },
    ],
  });
  return app.id;
}

export function getApp(graph: GraphClient, id: string): Promise<Win32LobAppWire> {
  return graph.get<Win32LobAppWire>(`/deviceAppManagement/mobileApps/${id}`);
}

/** A synthetic storage answer (as Azure sends it) for `before` hooks. */
export function storageReply(req: HttpRequest, status: number, code: string, headers: Record<string, string> = {}) {
  return {
    status,
    headers: { "x-ms-error-code": code, "x-ms-request-id": "00000000-0000-0000-0000-0000000000aa", ...headers },
    bodyText: `<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>Injected.\nRequestId:x</Message></Error>`,
    request: req,
  } satisfies HttpResponse;
}
