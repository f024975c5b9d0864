/**
 * The profiles file and the resolution of effective settings: flags > environment (@azure/identity names) >
 * profile > cloud preset. Pure: callers read files and pass text and the environment in.
 *
 * Secrets are never part of this file: a secret profile names a separate 0600 file (or the environment).
 */
import { dirname, join, posix, win32 } from "node:path";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { z } from "zod";
import { PublisherError } from "../errors.js";
import type { CodeOfKind } from "../error-codes.js";
import { CLOUD_NAMES, cloudForAuthorityHost, configError, resolveEndpoints } from "./clouds.js";
import { catalogConfigSchema } from "./catalog.js";
import { userConfigDir } from "./dirs.js";
import type { CloudName, Endpoints } from "./clouds.js";

const isoDate = z.iso.datetime({ offset: true }).or(z.iso.date());

export const credentialSchema = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("secret"),
    /** the 0600 file holding the secret; default `<config dir>/secrets/<profile>.secret` */
    secretFile: z.string().min(1).optional(),
    /** when the secret expires, if known (shown by `connect test`; Entra does not tell the app itself) */
    expiresOn: isoDate.optional(),
  }),
  z.strictObject({
    type: z.literal("certificate"),
    /** PEM (certificate, optionally with its key) or PFX/PKCS#12 (.pfx/.p12) */
    path: z.string().min(1),
    /** PEM private key when it is not in `path` */
    keyPath: z.string().min(1).optional(),
    /** file holding the PFX or key password (else AZURE_CLIENT_CERTIFICATE_PASSWORD) */
    passwordFile: z.string().min(1).optional(),
    /** send the certificate chain (x5c) for subject name + issuer authentication */
    sendCertificateChain: z.boolean().optional(),
  }),
  z.strictObject({
    type: z.literal("federated"),
    /** file with the external identity token (workload identity, GitHub Actions OIDC); re-read on each sign-in */
    tokenFile: z.string().min(1),
  }),
]);
export type CredentialConfig = z.infer<typeof credentialSchema>;

export const profileSchema = z.strictObject({
  /** tenant ID (GUID) or verified domain: the "Authority" tenant */
  tenant: z.string().min(1),
  clientId: z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, "must be a GUID"),
  cloud: z.enum(CLOUD_NAMES).default("global"),
  authorityHost: z.string().min(1).optional(),
  /** "Authentication URL": the token audience (scope = audience + /.default) */
  tokenAudience: z.string().min(1).optional(),
  graphBaseUrl: z.string().min(1).optional(),
  credential: credentialSchema,
  /** http://host:port; else HTTPS_PROXY */
  proxy: z.string().min(1).optional(),
  /** extra CA certificate (PEM file) to trust, e.g. a TLS-inspecting proxy's or the local tenant's */
  caCertificate: z.string().min(1).optional(),
});
export type Profile = z.infer<typeof profileSchema>;

export const profilesFileSchema = z.strictObject({
  defaultProfile: z.string().min(1).optional(),
  profiles: z.record(z.string().regex(/^[A-Za-z0-9._-]+$/, "profile names use letters, digits, . _ -"), profileSchema),
  /** catalog sources (docs/catalog.md "Configuring sources") */
  catalog: catalogConfigSchema.optional(),
  /** the tenants of runs across tenants, as a tenants file (docs/tenants.md; checked, positioned, when used) */
  tenants: z.unknown().optional(),
});
export type ProfilesFile = z.infer<typeof profilesFileSchema>;

export interface ConfigPaths {
  dir: string;
  file: string;
  secretsDir: string;
}

/** XDG on Linux/macOS (`$XDG_CONFIG_HOME` or ~/.config), %APPDATA% on Windows (src/core/config/dirs.ts); `--config` picks the file. */
export function configPaths(opts: {
  env: NodeJS.ProcessEnv;
  platform: NodeJS.Platform;
  home: string;
  configFile?: string | undefined;
}): ConfigPaths {
  if (opts.configFile !== undefined) {
    const p = opts.platform === "win32" ? win32 : posix;
    const dir = p.dirname(opts.configFile);
    return { dir, file: opts.configFile, secretsDir: p.join(dir, "secrets") };
  }
  const dir = userConfigDir(opts.env, opts.platform, opts.home);
  const p = opts.platform === "win32" ? win32 : posix;
  return { dir, file: p.join(dir, "config.yaml"), secretsDir: p.join(dir, "secrets") };
}

export function defaultSecretFile(paths: ConfigPaths, profileName: string, platform: NodeJS.Platform): string {
  return (platform === "win32" ? win32.join : join)(paths.secretsDir, `${profileName}.secret`);
}

function formatIssues(error: z.ZodError): string {
  return error.issues.map((i) => `  ${i.path.join(".") || "(root)"}: ${i.message}`).join("\n");
}

/** Parses the YAML profiles file; errors name the file and each bad field. */
export function parseProfilesFile(text: string, source: string): ProfilesFile {
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (e) {
    throw configError(
      `${source} is not valid YAML: ${(e as Error).message}`,
      "Fix the file or recreate it with `intune-publisher connect init`.",
    );
  }
  if (data === null || data === undefined) return { profiles: {} };
  const r = profilesFileSchema.safeParse(data);
  if (!r.success) {
    throw configError(
      `${source} is not a valid profiles file:\n${formatIssues(r.error)}`,
      "See docs/clouds.md for the format, or recreate it with `intune-publisher connect init`.",
    );
  }
  for (const [name, profile] of Object.entries(r.data.profiles)) {
    if (profile.proxy !== undefined && proxyPassword(profile.proxy) !== undefined) {
      const secretsDir = join(dirname(source), "secrets");
      throw new PublisherError(
        "ProxyPasswordInConfig",
        `The proxy URL of profile "${name}" in ${source} holds a password; passwords are not kept in the configuration file.`,
        {
          hint: `Move it: write the password alone to ${join(secretsDir, proxyPasswordFileName(name))} (chmod 600) and keep only "user@" in the URL, or remove user and password from the URL and give the proxy URL with them in the HTTPS_PROXY environment variable instead (docs/clouds.md).`,
        },
      );
    }
  }
  return r.data;
}

/** The password part of a proxy URL (decoded), or undefined. */
export function proxyPassword(url: string): string | undefined {
  try {
    const p = new URL(url).password;
    return p === "" ? undefined : decodeURIComponent(p);
  } catch {
    return undefined;
  }
}

function hasUser(url: string): boolean {
  try {
    return new URL(url).username !== "";
  } catch {
    return false;
  }
}

/** `<profile>.proxy-password`: beside the client secret, in the secrets folder (0600). */
export function proxyPasswordFileName(profileName: string): string {
  return `${profileName}.proxy-password`;
}

export function stringifyProfilesFile(file: ProfilesFile): string {
  return stringifyYaml(file);
}

/** Adds or replaces one profile (validated); the first profile becomes the default. */
export function withProfile(file: ProfilesFile, name: string, profile: Profile): ProfilesFile {
  const checked = profileSchema.parse(profile);
  return {
    ...file,
    defaultProfile: file.defaultProfile ?? name,
    profiles: { ...file.profiles, [name]: checked },
  };
}

/** Where the credential comes from, after the environment has been applied. No secret values here. */
export type CredentialSource =
  | { type: "secret"; from: "env"; expiresOn: string | undefined }
  | { type: "secret"; from: "file"; path: string; expiresOn: string | undefined }
  | { type: "secret"; from: "value"; expiresOn: string | undefined }
  | {
      type: "certificate";
      path: string;
      keyPath: string | undefined;
      password: { from: "env" } | { from: "file"; path: string } | { from: "none" };
      sendCertificateChain: boolean;
    }
  | { type: "federated"; tokenFile: string };

export interface Settings {
  /** the profile used, or undefined when everything came from the environment and flags */
  profileName: string | undefined;
  clientId: string;
  endpoints: Endpoints;
  credential: CredentialSource;
  /** an http(s) proxy URL, or undefined */
  proxy: string | undefined;
  /** the profile's proxy password file (secrets folder), read when the transport is made */
  proxyPasswordFile?: string | undefined;
  /** NO_PROXY as given (comma- or space-separated; see src/clients/http/proxy.ts) */
  noProxy: string | undefined;
  caCertificatePath: string | undefined;
  /** where each value came from, for `connect test` (e.g. "clientId: env AZURE_CLIENT_ID") */
  sources: Record<string, string>;
}

export interface SettingsFlags {
  profile?: string | undefined;
  cloud?: string | undefined;
  tenant?: string | undefined;
  clientId?: string | undefined;
  authorityHost?: string | undefined;
  tokenAudience?: string | undefined;
  graphBaseUrl?: string | undefined;
  caCertificate?: string | undefined;
  proxy?: string | undefined;
}

export interface ResolveInput {
  /** the parsed profiles file, or undefined when there is none */
  file: ProfilesFile | undefined;
  /** the file's path, for messages */
  fileName: string;
  paths: ConfigPaths;
  platform: NodeJS.Platform;
  env: NodeJS.ProcessEnv;
  flags: SettingsFlags;
}

const nonEmpty = (v: string | undefined): string | undefined =>
  v === undefined || v.trim() === "" ? undefined : v.trim();

/** The AZURE_* variables intune-publisher reads (docs/clouds.md). */
export const AZURE_VARIABLES = [
  "AZURE_TENANT_ID",
  "AZURE_CLIENT_ID",
  "AZURE_CLIENT_SECRET",
  "AZURE_CLIENT_CERTIFICATE_PATH",
  "AZURE_CLIENT_CERTIFICATE_PASSWORD",
  "AZURE_CLIENT_SEND_CERTIFICATE_CHAIN",
  "AZURE_FEDERATED_TOKEN_FILE",
  "AZURE_AUTHORITY_HOST",
] as const;

/** The flags that name a tenant or its endpoints (not --ca-certificate or --proxy). */
const TARGET_FLAGS: [keyof SettingsFlags, string][] = [
  ["profile", "--profile"],
  ["cloud", "--cloud"],
  ["tenant", "--tenant"],
  ["clientId", "--client-id"],
  ["authorityHost", "--authority-host"],
  ["tokenAudience", "--token-audience"],
  ["graphBaseUrl", "--graph-base-url"],
];

/**
 * What names a tenant, in words ("AZURE_CLIENT_ID", "AZURE_TENANT_ID (set but empty)", "--tenant", "the profiles
 * file …"); empty when nothing does. A variable set but empty counts: that is how CI renders a missing secret.
 * The local tenant is the default target only when this is empty (docs/clouds.md).
 */
export function configuredBy(o: {
  file: ProfilesFile | undefined;
  fileName: string;
  flags: SettingsFlags;
  env: NodeJS.ProcessEnv;
}): string[] {
  const out: string[] = [];
  if (o.file !== undefined) {
    const names = Object.keys(o.file.profiles);
    out.push(
      `the profiles file ${o.fileName} (${
        names.length === 0 ? "no profiles" : `profiles ${names.join(", ")}; none chosen: pass --profile`
      })`,
    );
  }
  for (const [key, flag] of TARGET_FLAGS) if (o.flags[key] !== undefined) out.push(flag);
  for (const v of AZURE_VARIABLES) {
    const value = o.env[v];
    if (value !== undefined) out.push(value.trim() === "" ? `${v} (set but empty)` : v);
  }
  return out;
}

/** Something names a tenant but not enough of it (exit 11): names what is missing and what was given. */
function incomplete(
  missing: string,
  named: string[],
  fix: string,
  code: CodeOfKind<"incompleteConfig"> = "IncompleteConfiguration",
): PublisherError {
  const empty = named.some((n) => n.endsWith("(set but empty)"));
  return new PublisherError(code, `The configuration is incomplete: ${missing}; given: ${named.join(", ")}.`, {
    hint: `${fix[0]?.toUpperCase()}${fix.slice(1)}${
      empty ? " A variable set but empty is how CI passes a missing secret: check where it comes from." : ""
    } The local tenant is used only when nothing is configured, or with --cloud local.`,
  });
}

/** Chooses the profile and merges flags, environment and preset into the effective settings. */
export function resolveSettings(input: ResolveInput): Settings {
  const { env, flags } = input;
  const sources: Record<string, string> = {};
  const profiles = input.file?.profiles ?? {};
  let profileName = nonEmpty(flags.profile);
  if (profileName !== undefined && profiles[profileName] === undefined) {
    const known = Object.keys(profiles);
    throw new PublisherError("UnknownProfile", `There is no profile "${profileName}" in ${input.fileName}.`, {
      hint:
        known.length > 0 ? `Known profiles: ${known.join(", ")}.` : "Create one with `intune-publisher connect init`.",
    });
  }
  const envTenant = nonEmpty(env["AZURE_TENANT_ID"]);
  const envClient = nonEmpty(env["AZURE_CLIENT_ID"]);
  if (profileName === undefined) {
    const def = input.file?.defaultProfile;
    const fromEnvOnly = envTenant !== undefined && envClient !== undefined;
    if (def !== undefined && profiles[def] !== undefined && !fromEnvOnly) profileName = def;
    else if (!fromEnvOnly && Object.keys(profiles).length === 1) profileName = Object.keys(profiles)[0];
  }
  const profile = profileName === undefined ? undefined : profiles[profileName];
  if (profileName !== undefined) sources["profile"] = `${profileName} (${input.fileName})`;

  const pick = (
    key: string,
    flag: string | undefined,
    envName: string | undefined,
    fromProfile: string | undefined,
  ): string | undefined => {
    const f = nonEmpty(flag);
    if (f !== undefined) {
      sources[key] = "flag";
      return f;
    }
    const e = envName === undefined ? undefined : nonEmpty(env[envName]);
    if (e !== undefined) {
      sources[key] = `env ${envName}`;
      return e;
    }
    if (fromProfile !== undefined) {
      sources[key] = "profile";
      return fromProfile;
    }
    return undefined;
  };

  const tenant = pick("tenant", flags.tenant, "AZURE_TENANT_ID", profile?.tenant);
  const clientId = pick("clientId", flags.clientId, "AZURE_CLIENT_ID", profile?.clientId);
  const authorityHost = pick("authorityHost", flags.authorityHost, "AZURE_AUTHORITY_HOST", profile?.authorityHost);
  const tokenAudience = pick("tokenAudience", flags.tokenAudience, undefined, profile?.tokenAudience);
  const graphBaseUrl = pick("graphBaseUrl", flags.graphBaseUrl, undefined, profile?.graphBaseUrl);

  let cloud: CloudName;
  const cloudFlag = nonEmpty(flags.cloud);
  if (cloudFlag !== undefined) {
    if (!(CLOUD_NAMES as readonly string[]).includes(cloudFlag)) {
      throw configError(`Unknown cloud "${cloudFlag}".`, `Use one of: ${CLOUD_NAMES.join(", ")}.`);
    }
    cloud = cloudFlag as CloudName;
    sources["cloud"] = "flag";
  } else if (profile !== undefined && sources["authorityHost"] !== "env AZURE_AUTHORITY_HOST") {
    cloud = profile.cloud;
    sources["cloud"] = "profile";
  } else if (authorityHost !== undefined) {
    cloud = cloudForAuthorityHost(authorityHost);
    sources["cloud"] = `derived from ${sources["authorityHost"] ?? "authority host"}`;
  } else {
    cloud = profile?.cloud ?? "global";
    sources["cloud"] = profile ? "profile" : "default";
  }

  if (tenant === undefined || clientId === undefined) {
    const missing = [
      tenant === undefined ? "tenant" : undefined,
      clientId === undefined ? "client ID" : undefined,
    ].filter((x): x is string => x !== undefined);
    const named = configuredBy(input);
    if (named.length === 0) {
      // Nothing at all: `publish` then uses the local tenant (src/publish/target.ts); `connect test` says so.
      throw new PublisherError(
        "NoConfiguration",
        `No ${missing.join(" or ")} is configured${input.file ? "" : ` (no profiles file at ${input.fileName})`}.`,
        {
          hint: "Create a profile with `intune-publisher connect init`, pass --profile, or set AZURE_TENANT_ID and AZURE_CLIENT_ID.",
        },
      );
    }
    const fixes = [
      tenant === undefined ? "set AZURE_TENANT_ID (the Directory (tenant) ID) or pass --tenant" : undefined,
      clientId === undefined ? "set AZURE_CLIENT_ID or pass --client-id" : undefined,
    ].filter(Boolean);
    throw incomplete(
      `no ${missing.join(" or ")} is set`,
      named,
      `${fixes.join(", and ")}, or use a profile (\`intune-publisher connect init\`, --profile).`,
    );
  }
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(clientId)) {
    throw configError(
      `The client ID "${clientId}" is not a GUID.`,
      "Copy the Application (client) ID from the app registration's overview page.",
    );
  }

  const endpoints = resolveEndpoints({ cloud, tenant, authorityHost, tokenAudience, graphBaseUrl });
  const credential = resolveCredential(input, profileName, profile, sources);
  const proxy =
    pick("proxy", flags.proxy, undefined, profile?.proxy) ?? nonEmpty(env["https_proxy"] ?? env["HTTPS_PROXY"]);
  if (proxy !== undefined && sources["proxy"] === undefined) sources["proxy"] = "env HTTPS_PROXY";
  const noProxy = nonEmpty(env["no_proxy"] ?? env["NO_PROXY"]);
  const caCertificatePath = pick("caCertificate", flags.caCertificate, undefined, profile?.caCertificate);
  // A profile's proxy user keeps its password in the secrets folder, never in the profiles file.
  const proxyPasswordFile =
    sources["proxy"] === "profile" && profileName !== undefined && proxy !== undefined && hasUser(proxy)
      ? (input.platform === "win32" ? win32.join : join)(input.paths.secretsDir, proxyPasswordFileName(profileName))
      : undefined;
  return {
    profileName,
    clientId,
    endpoints,
    credential,
    proxy,
    ...(proxyPasswordFile === undefined ? {} : { proxyPasswordFile }),
    noProxy,
    caCertificatePath,
    sources,
  };
}

/** Environment credentials (@azure/identity's order: secret, certificate, federated token) replace the profile's. */
function resolveCredential(
  input: ResolveInput,
  profileName: string | undefined,
  profile: Profile | undefined,
  sources: Record<string, string>,
): CredentialSource {
  const fromEnv = credentialFromEnv(input.env, sources);
  if (fromEnv !== undefined) return fromEnv;
  const env = input.env;
  const expiresOn = profile?.credential.type === "secret" ? profile.credential.expiresOn : undefined;
  const c = profile?.credential;
  if (c === undefined || profileName === undefined) {
    throw incomplete(
      "no credential is set",
      configuredBy(input),
      "Set AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH or AZURE_FEDERATED_TOKEN_FILE, or create a profile with `intune-publisher connect init`.",
      "NoCredential",
    );
  }
  sources["credential"] = "profile";
  if (c.type === "secret") {
    return {
      type: "secret",
      from: "file",
      path: c.secretFile ?? defaultSecretFile(input.paths, profileName, input.platform),
      expiresOn,
    };
  }
  if (c.type === "certificate") {
    return {
      type: "certificate",
      path: c.path,
      keyPath: c.keyPath,
      password:
        c.passwordFile !== undefined
          ? { from: "file", path: c.passwordFile }
          : env["AZURE_CLIENT_CERTIFICATE_PASSWORD"] !== undefined
            ? { from: "env" }
            : { from: "none" },
      sendCertificateChain: c.sendCertificateChain === true,
    };
  }
  return { type: "federated", tokenFile: c.tokenFile };
}

/**
 * The credential the environment names (@azure/identity's order: secret, certificate, federated token), or
 * undefined. It replaces a profile's, and a discovered local tenant's secret.
 */
export function credentialFromEnv(
  env: NodeJS.ProcessEnv,
  sources: Record<string, string>,
): CredentialSource | undefined {
  if (nonEmpty(env["AZURE_CLIENT_SECRET"]) !== undefined) {
    sources["credential"] = "env AZURE_CLIENT_SECRET";
    return { type: "secret", from: "env", expiresOn: undefined };
  }
  const certPath = nonEmpty(env["AZURE_CLIENT_CERTIFICATE_PATH"]);
  if (certPath !== undefined) {
    sources["credential"] = "env AZURE_CLIENT_CERTIFICATE_PATH";
    return {
      type: "certificate",
      path: certPath,
      keyPath: undefined,
      password: env["AZURE_CLIENT_CERTIFICATE_PASSWORD"] !== undefined ? { from: "env" } : { from: "none" },
      sendCertificateChain: env["AZURE_CLIENT_SEND_CERTIFICATE_CHAIN"] === "true",
    };
  }
  const tokenFile = nonEmpty(env["AZURE_FEDERATED_TOKEN_FILE"]);
  if (tokenFile !== undefined) {
    sources["credential"] = "env AZURE_FEDERATED_TOKEN_FILE";
    return { type: "federated", tokenFile };
  }
  return undefined;
}
