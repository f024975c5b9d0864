/**
 * Which tenant the publish commands talk to, and a Graph client for it: a configured tenant (profile, flags,
 * AZURE_* variables, as `connect test` resolves them), or — with `--cloud local`, or when nothing is configured —
 * the local tenant: a running one found in the emulator's state folder, else one started in this process
 * (default seed, blob storage in memory) and closed with the session.
 */
import { startLocalTenant } from "../../emulator/server.js";
import type { LocalTenant } from "../../emulator/server.js";
import { loadCredential } from "../clients/auth/credentials.js";
import { createTokenProvider, pipelineTokenProvider } from "../clients/auth/token-provider.js";
import { GraphClient } from "../clients/graph/client.js";
import { createHttpPipeline } from "../clients/http/pipeline.js";
import type { SecretRegistry } from "../clients/http/redact.js";
import type { HttpLogger } from "../clients/http/types.js";
import { resolveEndpoints } from "../core/config/clouds.js";
import type { Settings, SettingsFlags } from "../core/config/profile.js";
import { isPublisherError } from "../core/errors.js";
import { loadSettings, transportFor } from "./connect/config-store.js";
import type { ConnectTransport } from "./connect/config-store.js";
import { findRunningLocalTenant } from "./connect/local-tenant.js";
import type { LocalTarget } from "./connect/local-tenant.js";

export interface TargetInput {
  env: NodeJS.ProcessEnv;
  /** --config */
  configFile?: string | undefined;
  flags: SettingsFlags;
  /** the emulator state folder to look in for a running local tenant */
  stateDir: string;
  /** told when a local tenant is found or started */
  onNote?: (line: string) => void;
}

export interface ResolvedTarget {
  settings: Settings;
  /** the client secret of a local tenant (never from the command line) */
  secretValue: string | undefined;
  caPem: string | undefined;
  /** for people: "profile contoso", "in-process local tenant", … */
  source: string;
  /** the in-process local tenant, when one was started */
  localTenant: LocalTenant | undefined;
  close(): Promise<void>;
}

export function localSettings(lt: LocalTarget): Settings {
  return {
    profileName: undefined,
    clientId: lt.clientId,
    endpoints: resolveEndpoints({
      cloud: "local",
      tenant: lt.tenantId,
      authorityHost: lt.authorityHost,
      tokenAudience: lt.tokenAudience,
      graphBaseUrl: lt.graphBaseUrl,
    }),
    credential: { type: "secret", from: "value", expiresOn: undefined },
    proxy: undefined,
    noProxy: undefined,
    caCertificatePath: undefined,
    sources: { tenant: lt.source },
  };
}

function explicitlyConfigured(f: SettingsFlags, env: NodeJS.ProcessEnv): boolean {
  return (
    [f.profile, f.cloud, f.tenant, f.clientId, f.authorityHost, f.graphBaseUrl].some((v) => v !== undefined) ||
    (env["AZURE_AUTHORITY_HOST"] ?? "") !== ""
  );
}

/** A local tenant: the running one in `stateDir`, else one started in this process. */
export async function localTarget(
  stateDir: string,
  onNote?: (line: string) => void,
): Promise<{ target: LocalTarget; localTenant: LocalTenant | undefined }> {
  const running = await findRunningLocalTenant(stateDir);
  if (running) {
    onNote?.(`Using the ${running.source}.`);
    return { target: running, localTenant: undefined };
  }
  onNote?.("Starting a local tenant in-process (default seed)...");
  const lt = await startLocalTenant({ storage: "memory" });
  return {
    localTenant: lt,
    target: {
      tenantId: lt.tenantId,
      clientId: lt.clientId,
      clientSecret: lt.clientSecret ?? "",
      authorityHost: lt.authorityHost,
      graphBaseUrl: lt.graphBaseUrl,
      tokenAudience: lt.tokenAudience,
      caPem: lt.caCertPem,
      source: "in-process local tenant",
    },
  };
}

export async function resolveTarget(input: TargetInput): Promise<ResolvedTarget> {
  const f = input.flags;
  const wantsLocal =
    f.cloud === "local" &&
    f.profile === undefined &&
    f.authorityHost === undefined &&
    (input.env["AZURE_AUTHORITY_HOST"] ?? "") === "";
  if (!wantsLocal) {
    try {
      const settings = await loadSettings({ env: input.env, configFile: input.configFile }, f);
      return {
        settings,
        secretValue: undefined,
        caPem: undefined,
        source: settings.profileName ? `profile ${settings.profileName}` : `${settings.endpoints.cloud} cloud`,
        localTenant: undefined,
        close: async () => undefined,
      };
    } catch (e) {
      // Nothing configured at all: the local tenant is the default target (README, issue 5).
      if (!(isPublisherError(e) && e.code === "NoConfiguration" && !explicitlyConfigured(f, input.env))) throw e;
      input.onNote?.("No tenant is configured (no profile, no AZURE_TENANT_ID): publishing to a local tenant.");
    }
  }
  const { target, localTenant } = await localTarget(input.stateDir, input.onNote);
  return {
    settings: localSettings(target),
    secretValue: target.clientSecret,
    caPem: target.caPem,
    source: target.source,
    localTenant,
    close: async () => {
      await localTenant?.close();
    },
  };
}

export interface GraphSession {
  graph: GraphClient;
  /** the shared transport: Graph, Entra ID and blob storage (CA trust, proxy) */
  transport: ConnectTransport;
  close(): Promise<void>;
}

/**
 * Signs in (msal, token cache) and returns a Graph client on the HTTP pipeline (retries, request ids, logging). The
 * token requests go to `logger` too, as in `connect test`; `secrets` (the run's registry) learns every secret read
 * (credential), sent or received (tokens, SAS signatures, content keys).
 */
export async function openGraphSession(
  target: ResolvedTarget,
  o: {
    env: NodeJS.ProcessEnv;
    logger?: HttpLogger | undefined;
    onRequest?: (method: string, url: string) => void;
    secrets?: SecretRegistry | undefined;
  },
): Promise<GraphSession> {
  const credential = await loadCredential(target.settings.credential, {
    env: o.env,
    secretValue: target.secretValue,
    secrets: o.secrets,
  });
  const transport = await transportFor(target.settings, {
    caPem: target.caPem,
    ...(o.onRequest === undefined ? {} : { onRequest: o.onRequest }),
    secrets: o.secrets,
  });
  const provider = createTokenProvider({
    clientId: target.settings.clientId,
    endpoints: target.settings.endpoints,
    credential,
    transport: transport.send,
    logger: o.logger,
    secrets: o.secrets,
  });
  const pipeline = createHttpPipeline({
    transport: transport.send,
    tokenProvider: pipelineTokenProvider(provider),
    ...(o.logger === undefined ? {} : { log: { logger: o.logger } }),
  });
  return {
    graph: new GraphClient({ pipeline, baseUrl: target.settings.endpoints.graphBaseUrl }),
    transport,
    close: () => transport.close(),
  };
}
