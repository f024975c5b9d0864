/**
 * Which tenant the publish commands talk to, and a Graph client for it: a configured tenant (profile, flags,
 * AZURE_* variables, as `connect test` resolves them), or — with `--cloud local`, or when nothing at all is
 * configured — the local tenant: a running one found in the emulator's state folder, else one started in this
 * process (default seed, blob storage in memory) and closed with the session. Local tenants come through the
 * launcher port the caller gives (connect/local-tenant.ts): nothing here loads the emulator.
 */
import { loadCredential } from "../clients/auth/credentials.js";
import { createTokenProvider, pipelineTokenProvider } from "../clients/auth/token-provider.js";
import { GraphClient } from "../clients/graph/client.js";
import { createHttpPipeline } from "../clients/http/pipeline.js";
import type { SecretRegistry } from "../clients/http/redact.js";
import type { HttpLogger, HttpPolicy } from "../clients/http/types.js";
import { configError, resolveEndpoints } from "../core/config/clouds.js";
import { credentialFromEnv } from "../core/config/profile.js";
import type { Settings, SettingsFlags } from "../core/config/profile.js";
import { isPublisherError } from "../core/errors.js";
import { loadSettings, transportFor } from "./connect/config-store.js";
import type { ConnectTransport } from "./connect/config-store.js";
import { localTargetOf } from "./connect/local-tenant.js";
import type { LocalTarget, LocalTenantLauncher, StartedLocalTenant } from "./connect/local-tenant.js";

export interface TargetInput {
  env: NodeJS.ProcessEnv;
  /** --config */
  configFile?: string | undefined;
  flags: SettingsFlags;
  /** the emulator state folder to look in for a running local tenant */
  stateDir: string;
  /** finds or starts a local tenant (the CLI gives local-tenant-launcher.ts) */
  launcher: LocalTenantLauncher;
  /** told when a local tenant is found or started, and of warnings */
  onNote?: (line: string) => void;
  /** blob storage of an in-process local tenant: in memory (default), or none (`connect test`) */
  storage?: "memory" | false;
}

/** Which tenant a command used, for JSON output; never a secret. */
export interface TargetInfo {
  cloud: string;
  tenantId: string;
  clientId: string;
  authorityHost: string;
  graphBaseUrl: string;
  /** "profile contoso", "environment and flags", "running local tenant (…)", "in-process local tenant" */
  source: string;
}

export interface ResolvedTarget {
  settings: Settings;
  /** the client secret of a local tenant (never from the command line) */
  secretValue: string | undefined;
  caPem: string | undefined;
  /** for people: "profile contoso", "in-process local tenant", … */
  source: string;
  /** a local tenant started in this process for this run (gone when it ends) */
  inProcess: boolean;
  /** which tenant this is, for JSON output */
  info: TargetInfo;
  close(): Promise<void>;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Settings for a local tenant: what was discovered (credentials.json, or the in-process tenant), with flags and
 * environment winning as everywhere (docs/clouds.md): --tenant / AZURE_TENANT_ID, --client-id / AZURE_CLIENT_ID,
 * --token-audience, --graph-base-url, and a credential from AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH or
 * AZURE_FEDERATED_TOKEN_FILE replace the discovered ones.
 */
export function localSettings(lt: LocalTarget, flags: SettingsFlags = {}, env: NodeJS.ProcessEnv = {}): Settings {
  const sources: Record<string, string> = {};
  const pick = (key: string, flag: string | undefined, envName: string | undefined, found: string): string => {
    if (flag !== undefined && flag.trim() !== "") {
      sources[key] = "flag";
      return flag.trim();
    }
    const e = envName === undefined ? undefined : env[envName]?.trim();
    if (e !== undefined && e !== "") {
      sources[key] = `env ${envName}`;
      return e;
    }
    sources[key] = lt.source;
    return found;
  };
  const tenant = pick("tenant", flags.tenant, "AZURE_TENANT_ID", lt.tenantId);
  const clientId = pick("clientId", flags.clientId, "AZURE_CLIENT_ID", lt.clientId);
  const tokenAudience = pick("tokenAudience", flags.tokenAudience, undefined, lt.tokenAudience);
  const graphBaseUrl = pick("graphBaseUrl", flags.graphBaseUrl, undefined, lt.graphBaseUrl);
  sources["authorityHost"] = lt.source;
  sources["cloud"] = "local";
  if (!GUID.test(clientId))
    throw configError(
      `The client ID "${clientId}" is not a GUID.`,
      "Copy the Application (client) ID from the app registration's overview page.",
    );
  let credential = credentialFromEnv(env, sources);
  if (credential === undefined) {
    credential = { type: "secret", from: "value", expiresOn: undefined };
    sources["credential"] = lt.source;
  }
  const proxy = flags.proxy ?? (env["https_proxy"] || env["HTTPS_PROXY"] || undefined);
  const noProxy = env["no_proxy"] || env["NO_PROXY"] || undefined;
  return {
    profileName: undefined,
    clientId,
    endpoints: resolveEndpoints({
      cloud: "local",
      tenant,
      authorityHost: lt.authorityHost,
      tokenAudience,
      graphBaseUrl,
    }),
    credential,
    proxy,
    noProxy,
    caCertificatePath: flags.caCertificate,
    sources,
  };
}

/** `--cloud local` with nothing naming another authority: a running local tenant, else one in-process. */
export function wantsLocalTenant(f: SettingsFlags, env: NodeJS.ProcessEnv): boolean {
  return (
    f.cloud === "local" &&
    f.profile === undefined &&
    f.authorityHost === undefined &&
    (env["AZURE_AUTHORITY_HOST"] ?? "").trim() === ""
  );
}

/** A local tenant: the running one in `stateDir` (an error when it is recorded but gone), else one in-process. */
export async function localTarget(
  launcher: LocalTenantLauncher,
  stateDir: string,
  onNote?: (line: string) => void,
  storage: "memory" | false = "memory",
): Promise<{ target: LocalTarget; started: StartedLocalTenant | undefined }> {
  const running = await launcher.findRunning(stateDir);
  if (running) {
    onNote?.(`Using the ${running.source}.`);
    for (const w of running.warnings ?? []) onNote?.(`warning: ${w}`);
    return { target: running, started: undefined };
  }
  onNote?.("Starting a local tenant in-process (default seed)...");
  const started = await launcher.start({ storage });
  return { started, target: localTargetOf(started, "in-process local tenant") };
}

/** Which tenant the settings reach, for JSON output. */
export function infoOf(settings: Settings, source: string): TargetInfo {
  const e = settings.endpoints;
  return {
    cloud: e.cloud,
    tenantId: e.tenant,
    clientId: settings.clientId,
    authorityHost: e.authorityHost,
    graphBaseUrl: e.graphBaseUrl,
    source,
  };
}

/** How to reach a local tenant, with flags and environment applied (the in-process tenant is the caller's to close). */
export function localConnection(
  target: LocalTarget,
  flags: SettingsFlags = {},
  env: NodeJS.ProcessEnv = {},
): Omit<ResolvedTarget, "inProcess" | "close"> {
  const settings = localSettings(target, flags, env);
  return {
    settings,
    secretValue: target.clientSecret,
    caPem: target.caPem,
    source: target.source,
    info: infoOf(settings, target.source),
  };
}

/** The local tenant for `input`, with flags and environment applied. */
export async function openLocalTarget(input: TargetInput): Promise<ResolvedTarget> {
  const { target, started } = await localTarget(
    input.launcher,
    input.stateDir,
    input.onNote,
    input.storage ?? "memory",
  );
  try {
    return {
      ...localConnection(target, input.flags, input.env),
      inProcess: started !== undefined,
      close: async () => {
        await started?.close();
      },
    };
  } catch (e) {
    await started?.close();
    throw e;
  }
}

/**
 * The tenant for a command. The local tenant only with `--cloud local`, or when nothing at all names a tenant (no
 * profiles file, no AZURE_* variable, not even an empty one, no tenant, client, cloud or endpoint flag, no
 * --config): resolveSettings throws NoConfiguration exactly then. Anything partial is its error (exit 11).
 */
export async function resolveTarget(input: TargetInput): Promise<ResolvedTarget> {
  const f = input.flags;
  if (wantsLocalTenant(f, input.env)) return openLocalTarget(input);
  let settings: Settings;
  try {
    settings = await loadSettings({ env: input.env, configFile: input.configFile }, f);
  } catch (e) {
    if (!(isPublisherError(e) && e.code === "NoConfiguration")) throw e;
    input.onNote?.(
      "No tenant is configured (no profile, no configuration file, no AZURE_* variable): using a local tenant.",
    );
    return openLocalTarget(input);
  }
  const source = settings.profileName ? `profile ${settings.profileName}` : "environment and flags";
  return {
    settings,
    secretValue: undefined,
    caPem: undefined,
    source,
    inProcess: false,
    info: infoOf(settings, source),
    close: async () => undefined,
  };
}

export interface GraphSession {
  graph: GraphClient;
  /** the shared transport: Graph, Entra ID and blob storage (CA trust, proxy) */
  transport: ConnectTransport;
  /** signs in now (a refused sign-in throws its explained error), the token kept for the Graph calls */
  signIn(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Signs in (msal, token cache) and returns a Graph client on the HTTP pipeline (retries, request ids, logging). The
 * token requests go to `logger` too, as in `connect test`; `secrets` (the run's registry) learns every secret read
 * (credential), sent or received (tokens, SAS signatures, content keys).
 */
export async function openGraphSession(
  target: Pick<ResolvedTarget, "settings" | "secretValue" | "caPem">,
  o: {
    env: NodeJS.ProcessEnv;
    logger?: HttpLogger | undefined;
    onRequest?: (method: string, url: string) => void;
    secrets?: SecretRegistry | undefined;
    /** told of credential warnings (a key or secret file readable by others) */
    onWarning?: (line: string) => void;
    /** extra Graph policies, once per attempt (the workers' per-tenant write limit) */
    policies?: readonly HttpPolicy[];
  },
): Promise<GraphSession> {
  const credential = await loadCredential(target.settings.credential, {
    env: o.env,
    secretValue: target.secretValue,
    secrets: o.secrets,
  });
  for (const w of credential.warnings) o.onWarning?.(w);
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
    ...(o.policies === undefined ? {} : { policies: o.policies }),
  });
  return {
    graph: new GraphClient({ pipeline, baseUrl: target.settings.endpoints.graphBaseUrl }),
    transport,
    signIn: async () => {
      await provider.getToken();
    },
    close: () => transport.close(),
  };
}
