/**
 * Reads and writes the profiles file and secret files (the I/O around src/core/config/profile.ts).
 * The secret goes to its own file with mode 0600 in a 0700 folder, never into the profiles file.
 */
import { chmod, mkdir, rename, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join, win32 } from "node:path";
import { homeFolder } from "../../core/config/dirs.js";
import {
  configPaths,
  defaultSecretFile,
  parseProfilesFile,
  proxyPassword,
  proxyPasswordFileName,
  resolveSettings,
  stringifyProfilesFile,
  withProfile,
} from "../../core/config/profile.js";
import type { ConfigPaths, Profile, ProfilesFile, Settings, SettingsFlags } from "../../core/config/profile.js";
import { isPublisherError, PublisherError } from "../../core/errors.js";
import { registeringTransport } from "../../clients/http/redact.js";
import type { SecretRegistry } from "../../clients/http/redact.js";
import { readBoundedText } from "../../platform/fs.js";
import { createStreamTransport } from "../../clients/http/stream-transport.js";
import type { StreamTransport } from "../../clients/http/stream-transport.js";
import { createFetchTransport } from "../../clients/http/transport.js";
import type { HttpTransport } from "../../clients/http/types.js";

export interface ConfigLocation {
  env: NodeJS.ProcessEnv;
  /** --config */
  configFile?: string | undefined;
  platform?: NodeJS.Platform;
  home?: string;
}

export function pathsFor(loc: ConfigLocation): ConfigPaths {
  return configPaths({
    env: loc.env,
    platform: loc.platform ?? process.platform,
    home: loc.home ?? homeFolder(loc.env, loc.platform ?? process.platform, homedir),
    configFile: loc.configFile,
  });
}

/** The profiles file: a few profiles of YAML. */
export const CONFIG_FILE_MAX_BYTES = 1024 * 1024;
/** An extra CA file (a bundle of a few hundred certificates fits). */
export const CA_FILE_MAX_BYTES = 1024 * 1024;

/** The parsed profiles file, or undefined when it does not exist. */
export async function readProfilesFile(paths: ConfigPaths): Promise<ProfilesFile | undefined> {
  let text: string;
  try {
    text = await readBoundedText({ path: paths.file, what: "configuration file", maxBytes: CONFIG_FILE_MAX_BYTES });
  } catch (e) {
    if (isPublisherError(e) && e.code === "FileNotFound") return undefined;
    if (isPublisherError(e) && e.code === "FileNotReadable") {
      const cause = e.cause as NodeJS.ErrnoException | undefined;
      throw new PublisherError("ConfigUnreadable", `Cannot read ${paths.file} (${cause?.code ?? "error"}).`, {
        hint: "Check the file's permissions or pass another file with --config.",
        cause: e,
      });
    }
    throw e;
  }
  return parseProfilesFile(text, paths.file);
}

export async function loadSettings(loc: ConfigLocation, flags: SettingsFlags): Promise<Settings> {
  const paths = pathsFor(loc);
  const file = await readProfilesFile(paths);
  if (file === undefined && loc.configFile !== undefined) {
    // `connect init --config NEW` creates the file; everything else needs it to exist.
    throw new PublisherError("ConfigFileMissing", `The configuration file ${paths.file} (--config) does not exist.`, {
      hint: "Check the path, or create the file with `intune-publisher connect init --config FILE`. Nothing falls back to the local tenant when --config is given.",
    });
  }
  return resolveSettings({
    file,
    fileName: paths.file,
    paths,
    platform: loc.platform ?? process.platform,
    env: loc.env,
    flags,
  });
}

/** Writes `data` to `path` through a temporary file with `mode`, then renames it into place. */
export async function writeAtomic(path: string, data: string | Buffer, mode: number): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, data, { mode });
  await chmod(tmp, mode);
  await rename(tmp, path);
}

/** Adds or replaces a profile; writes the secret (if given) to its own 0600 file. Returns the files written. */
export async function saveProfile(
  loc: ConfigLocation,
  name: string,
  profile: Profile,
  secret: string | undefined,
): Promise<{ configFile: string; secretFile: string | undefined; proxyPasswordFile: string | undefined }> {
  const paths = pathsFor(loc);
  const platform = loc.platform ?? process.platform;
  const current = (await readProfilesFile(paths)) ?? { profiles: {} };
  // A proxy password goes to the secrets folder (0600); the profile keeps the URL without it.
  let proxyPasswordFile: string | undefined;
  const password = profile.proxy === undefined ? undefined : proxyPassword(profile.proxy);
  if (profile.proxy !== undefined && password !== undefined) {
    const u = new URL(profile.proxy);
    u.password = "";
    profile = { ...profile, proxy: u.href };
    proxyPasswordFile = (platform === "win32" ? win32.join : join)(paths.secretsDir, proxyPasswordFileName(name));
    await mkdir(paths.secretsDir, { recursive: true, mode: 0o700 });
    await writeAtomic(proxyPasswordFile, `${password}\n`, 0o600);
  }
  let secretFile: string | undefined;
  if (profile.credential.type === "secret") {
    // the default path stays implicit in the profile, so the profiles file remains portable
    secretFile = profile.credential.secretFile ?? defaultSecretFile(paths, name, platform);
    if (secret !== undefined) {
      await mkdir(dirname(secretFile), { recursive: true, mode: 0o700 });
      await writeAtomic(secretFile, `${secret}\n`, 0o600);
    }
  }
  const next = withProfile(current, name, profile);
  await mkdir(paths.dir, { recursive: true, mode: 0o700 });
  await writeAtomic(paths.file, stringifyProfilesFile(next), 0o600);
  return { configFile: paths.file, secretFile, proxyPasswordFile };
}

/** A proxy password file holds one line. */
export const PROXY_PASSWORD_MAX_BYTES = 64 * 1024;

/** The profile's proxy password (secrets folder), or undefined when it has none. */
async function readProxyPassword(path: string): Promise<string | undefined> {
  try {
    const text = await readBoundedText({ path, what: "proxy password file", maxBytes: PROXY_PASSWORD_MAX_BYTES });
    const pw = text.replace(/\r?\n$/, "");
    return pw === "" ? undefined : pw;
  } catch (e) {
    if (isPublisherError(e) && e.code === "FileNotFound") return undefined;
    throw e;
  }
}

/**
 * The proxy URL of the settings, validated, with the profile's password (secrets/<profile>.proxy-password) put in
 * when the URL has none: every transport of a command (Graph, storage, installer downloads) authenticates alike.
 */
export async function proxyUrlFor(settings: Settings): Promise<string | undefined> {
  const proxy = settings.proxy;
  if (proxy === undefined) return undefined;
  let u: URL | undefined;
  try {
    u = new URL(proxy);
  } catch {
    u = undefined;
  }
  if (u === undefined || (u.protocol !== "http:" && u.protocol !== "https:")) {
    throw new PublisherError("InvalidProxy", "The proxy setting is not an http(s) URL.", {
      hint: "Give the proxy as http://host:port (HTTPS_PROXY or proxy in the profile).",
    });
  }
  if (settings.proxyPasswordFile === undefined || u.password !== "") return proxy;
  const password = await readProxyPassword(settings.proxyPasswordFile);
  if (password === undefined) return proxy;
  u.password = encodeURIComponent(password);
  return u.href;
}

/**
 * The streaming transport installer downloads use (sync): the same proxy as Graph's, password included (registered
 * as a secret with `secrets`), NO_PROXY, and `caPem` trusted.
 */
export async function downloadTransportFor(
  settings: Settings,
  extra: { caPem?: string | undefined; secrets?: SecretRegistry | undefined } = {},
): Promise<StreamTransport> {
  const proxy = await proxyUrlFor(settings);
  extra.secrets?.addFromUrl(proxy);
  return createStreamTransport({
    ...(extra.caPem === undefined ? {} : { trustedCaPem: extra.caPem }),
    proxy: {
      ...(proxy === undefined ? {} : { httpsProxy: proxy }),
      ...(settings.noProxy === undefined ? {} : { noProxy: settings.noProxy }),
    },
  });
}

export interface ConnectTransport {
  send: HttpTransport;
  close(): Promise<void>;
}

/**
 * The shared HTTP transport for the settings: the profile's CA file (and `caPem`) added to Node's roots, the proxy
 * and NO_PROXY. `onRequest` sees each method and URL (never headers or bodies): tests count calls with it. With
 * `secrets`, the proxy's password and every secret crossing the wire (tokens, assertions, SAS signatures, content
 * keys) are registered before an answer can quote them (redact.ts `registeringTransport`).
 */
export async function transportFor(
  settings: Settings,
  extra: {
    caPem?: string | undefined;
    onRequest?: ((method: string, url: string) => void) | undefined;
    secrets?: SecretRegistry | undefined;
  } = {},
): Promise<ConnectTransport> {
  let caPem = extra.caPem;
  if (settings.caCertificatePath !== undefined) {
    let extra: string;
    try {
      extra = await readBoundedText({
        path: settings.caCertificatePath,
        what: "CA certificate",
        maxBytes: CA_FILE_MAX_BYTES,
      });
    } catch (e) {
      // A device, FIFO or oversized file keeps its own refusal (exit 9).
      if (isPublisherError(e) && e.code !== "FileNotFound" && e.code !== "FileNotReadable") throw e;
      throw new PublisherError("CaUnreadable", `Cannot read the CA certificate ${settings.caCertificatePath}.`, {
        hint: "Check caCertificate in the profile or --ca-certificate.",
        cause: e,
      });
    }
    caPem = [caPem, extra].filter(Boolean).join("\n");
  }
  const proxy = await proxyUrlFor(settings);
  const t = createFetchTransport({
    ...(caPem === undefined ? {} : { trustedCaPem: caPem }),
    proxy: {
      ...(proxy === undefined ? {} : { httpsProxy: proxy }),
      ...(settings.noProxy === undefined ? {} : { noProxy: settings.noProxy }),
    },
  });
  const onRequest = extra.onRequest;
  const secrets = extra.secrets;
  secrets?.addFromUrl(proxy);
  const counted: HttpTransport =
    onRequest === undefined ? t.send : (req) => (onRequest(req.method, req.url), t.send(req));
  return {
    send: secrets === undefined ? counted : registeringTransport(counted, secrets),
    close: () => t.close(),
  };
}
