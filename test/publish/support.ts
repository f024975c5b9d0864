/**
 * Test support for the publish tests: the local tenant (emulator + embedded Azurite) reached through our own
 * session code (msal sign-in, HTTP pipeline, Graph client), every request recorded at the transport; a copy of
 * examples/apps with fabrikam-agent's prebuilt package built by our packager.
 */
import { cp, readdir } from "node:fs/promises";
import { join } from "node:path";
import { startLocalTenant } from "../../emulator/server.js";
import type { LocalTenant, LocalTenantOptions } from "../../emulator/server.js";
import { loadAppDefinitions } from "../../src/definitions/load.js";
import type { LoadedAppDefinition } from "../../src/definitions/load.js";
import { packageFolder } from "../../src/intunewin/package.js";
import { publish } from "../../src/publish/publish.js";
import type { PublishOptions, PublishResult } from "../../src/publish/publish.js";
import { localTargetOf } from "../../src/publish/connect/local-tenant.js";
import { localConnection, openGraphSession } from "../../src/publish/target.js";
import type { GraphSession } from "../../src/publish/target.js";
import { repoRoot } from "../support/paths.js";

export const FAST_POLL = { initialIntervalMs: 10, factor: 1.5, maxIntervalMs: 50 };

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

export async function startPublishTenant(options: LocalTenantOptions = {}): Promise<PublishTenant> {
  const lt = await startLocalTenant({
    uploadDelays: { sasIssueMs: 20, renewalMs: 20, commitMs: 20 },
    ...options,
  });
  const calls: Call[] = [];
  const session = await openGraphSession(localConnection(localTargetOf(lt, "test")), {
    env: {},
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
 * A copy of examples/apps in `dir/apps` (returned as `dir`) and of the shared targeting files they reference in
 * `dir/targeting`, with fabrikam-agent's prebuilt package built.
 */
export async function copyExamples(root: string): Promise<{ dir: string; files: string[] }> {
  const dir = join(root, "apps");
  await cp(join(repoRoot(), "examples", "apps"), dir, { recursive: true });
  await cp(join(repoRoot(), "examples", "targeting"), join(root, "targeting"), { recursive: true }).catch(
    (e: NodeJS.ErrnoException) => {
      if (e.code !== "ENOENT") throw e;
    },
  );
  await packageFolder({
    sourceDir: join(dir, "fabrikam-agent", "payload"),
    setupFile: "install.cmd",
    outDir: join(dir, "fabrikam-agent", "dist"),
  });
  const files = (await readdir(dir))
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .map((f) => join(dir, f));
  return { dir, files };
}

export function load(files: readonly string[]): Promise<LoadedAppDefinition[]> {
  return loadAppDefinitions(files);
}
