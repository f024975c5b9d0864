/**
 * The tenant under test for the end-to-end tests in test/live/: the same test bodies run against the local tenant
 * (started in this process, in `npm test`) and against a real tenant (`npm run test:live` with INTUNE_PUBLISHER_LIVE=1
 * and the AZURE_* variables). Either way the tests see only what a user has: the CLI, given an environment and flags,
 * and Graph reads through our IntuneApi — never the emulator's state. Every app they make is named with `prefix`
 * (`ipub-live-<random>`), and `cleanup` deletes exactly those. Documentation: docs/testing.md.
 */
import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { IntuneApi } from "../../src/clients/graph/intune.js";
import { AZURE_VARIABLES } from "../../src/core/config/profile.js";
import type { SettingsFlags } from "../../src/core/config/profile.js";
import { openGraphSession, resolveTarget } from "../../src/publish/target.js";
import type { LocalTenantLauncher } from "../../src/publish/connect/local-tenant.js";
import { homeEnv, runCli } from "./cli.js";
import type { CliResult } from "./cli.js";
import { startLocalTestTenant } from "./tenant.js";

export const LIVE_SWITCH = "INTUNE_PUBLISHER_LIVE";
/** Every app a test makes is named with this prefix plus a random part, and only those are deleted. */
export const LIVE_APP_PREFIX = "ipub-live-";

/** The variables a live run passes to the CLI (the tenant's; nothing else of this process's environment). */
const PASSED = [...AZURE_VARIABLES, "HTTPS_PROXY", "NO_PROXY"];
/** For a tenant outside Microsoft's clouds (such as a running `emulator start`): the flags they become. */
const FLAG_VARIABLES = {
  INTUNE_PUBLISHER_LIVE_GRAPH_BASE_URL: "--graph-base-url",
  INTUNE_PUBLISHER_LIVE_TOKEN_AUDIENCE: "--token-audience",
  INTUNE_PUBLISHER_LIVE_CA_CERTIFICATE: "--ca-certificate",
} as const;

export interface TenantConfig {
  /** AZURE_* variables (and proxy) for the CLI */
  env: NodeJS.ProcessEnv;
  /** --graph-base-url, --token-audience, --ca-certificate when given */
  flags: string[];
}

export type LiveConfig = { live: true; config: TenantConfig } | { live: false; why: string };

const set = (env: NodeJS.ProcessEnv, name: string): boolean => (env[name] ?? "").trim() !== "";

/** Whether to run against a real tenant, and its configuration; or why not (one line). */
export function liveConfig(env: NodeJS.ProcessEnv = process.env): LiveConfig {
  if (env[LIVE_SWITCH] !== "1") return { live: false, why: `${LIVE_SWITCH} is not 1` };
  const missing = ["AZURE_TENANT_ID", "AZURE_CLIENT_ID"].filter((n) => !set(env, n));
  if (!["AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_FEDERATED_TOKEN_FILE"].some((n) => set(env, n)))
    missing.push("AZURE_CLIENT_SECRET (or AZURE_CLIENT_CERTIFICATE_PATH or AZURE_FEDERATED_TOKEN_FILE)");
  if (missing.length > 0) return { live: false, why: `${LIVE_SWITCH}=1 but not set: ${missing.join(", ")}` };
  const passed: NodeJS.ProcessEnv = {};
  for (const n of PASSED) if (set(env, n)) passed[n] = env[n];
  const flags: string[] = [];
  for (const [name, flag] of Object.entries(FLAG_VARIABLES)) if (set(env, name)) flags.push(flag, env[name]!.trim());
  return { live: true, config: { env: passed, flags } };
}

export interface TenantUnderTest {
  kind: "local" | "live";
  /** `ipub-live-<random>`: the start of every app name (and definition id) the tests make here */
  prefix: string;
  /** The CLI against this tenant, in a home of its own (`--no-log-file` added). */
  cli(args: string[]): Promise<CliResult>;
  /** Graph reads through our client, signed in as the CLI signs in. */
  api: IntuneApi;
  /** Deletes every win32LobApp whose name starts with `prefix` (and nothing else); returns their names. */
  cleanup(): Promise<string[]>;
  close(): Promise<void>;
}

const neverLocal: LocalTenantLauncher = {
  findRunning: () => Promise.reject(new Error("the tenant under test is never a discovered local tenant")),
  start: () => Promise.reject(new Error("the tenant under test is never a local tenant started by the CLI")),
};

function settingsFlags(flags: string[]): SettingsFlags {
  const value = (flag: string): string | undefined => {
    const i = flags.indexOf(flag);
    return i < 0 ? undefined : flags[i + 1];
  };
  return {
    graphBaseUrl: value("--graph-base-url"),
    tokenAudience: value("--token-audience"),
    caCertificate: value("--ca-certificate"),
  };
}

/** Opens the tenant described by `config`, working in `home` (a fresh folder). */
export async function openConfiguredTenant(
  kind: TenantUnderTest["kind"],
  config: TenantConfig,
  home: string,
  onClose: () => Promise<void> = async () => undefined,
): Promise<TenantUnderTest> {
  const env = homeEnv(home, { ...config.env, INTUNE_PUBLISHER_EMULATOR_STATE: join(home, "no-emulator") });
  const target = await resolveTarget({
    env,
    flags: settingsFlags(config.flags),
    stateDir: join(home, "no-emulator"),
    launcher: neverLocal,
  });
  const session = await openGraphSession(target, { env });
  const api = new IntuneApi(session.graph);
  const prefix = `${LIVE_APP_PREFIX}${randomBytes(4).toString("hex")}`;
  return {
    kind,
    prefix,
    api,
    cli: (args) => runCli([...args, ...config.flags, "--no-log-file"], env),
    async cleanup() {
      const ours = (await api.listWin32Apps()).filter((a) => a.displayName.startsWith(prefix));
      for (const a of ours) await api.deleteApp(a.id);
      return ours.map((a) => a.displayName);
    },
    async close() {
      await session.close();
      await target.close();
      await onClose();
    },
  };
}

/**
 * The tenant for this run: the real one when liveConfig says so, else a local tenant started here and configured
 * exactly as a real one would be (AZURE_* variables, --graph-base-url, --token-audience, --ca-certificate).
 */
export async function openTenantUnderTest(home: string): Promise<TenantUnderTest> {
  const live = liveConfig();
  if (live.live) return openConfiguredTenant("live", live.config, home);
  const lt = await startLocalTestTenant();
  try {
    const ca = join(home, "local-tenant-ca.pem");
    await writeFile(ca, lt.caCertPem);
    const config: TenantConfig = {
      env: {
        AZURE_TENANT_ID: lt.tenantId,
        AZURE_CLIENT_ID: lt.clientId,
        AZURE_CLIENT_SECRET: lt.clientSecret ?? "",
        AZURE_AUTHORITY_HOST: lt.authorityHost,
      },
      flags: ["--graph-base-url", lt.graphBaseUrl, "--token-audience", lt.tokenAudience, "--ca-certificate", ca],
    };
    return await openConfiguredTenant("local", config, home, () => lt.close());
  } catch (e) {
    await lt.close();
    throw e;
  }
}
