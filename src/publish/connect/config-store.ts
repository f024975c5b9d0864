/**
 * Reads and writes the profiles file and secret files (the I/O around src/core/config/profile.ts).
 * The secret goes to its own file with mode 0600 in a 0700 folder, never into the profiles file.
 */
import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname } from "node:path";
import { homeFolder } from "../../core/config/dirs.js";
import {
  configPaths,
  defaultSecretFile,
  parseProfilesFile,
  resolveSettings,
  stringifyProfilesFile,
  withProfile,
} from "../../core/config/profile.js";
import type { ConfigPaths, Profile, ProfilesFile, Settings, SettingsFlags } from "../../core/config/profile.js";
import { PublisherError } from "../../core/errors.js";
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

/** The parsed profiles file, or undefined when it does not exist. */
export async function readProfilesFile(paths: ConfigPaths): Promise<ProfilesFile | undefined> {
  let text: string;
  try {
    text = await readFile(paths.file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new PublisherError(
      "config",
      "ConfigUnreadable",
      `Cannot read ${paths.file} (${(e as NodeJS.ErrnoException).code ?? "error"}).`,
      {
        hint: "Check the file's permissions or pass another file with --config.",
        cause: e,
      },
    );
  }
  return parseProfilesFile(text, paths.file);
}

export async function loadSettings(loc: ConfigLocation, flags: SettingsFlags): Promise<Settings> {
  const paths = pathsFor(loc);
  const file = await readProfilesFile(paths);
  if (file === undefined && loc.configFile !== undefined) {
    // `connect init --config NEW` creates the file; everything else needs it to exist.
    throw new PublisherError(
      "incompleteConfig",
      "ConfigFileMissing",
      `The configuration file ${paths.file} (--config) does not exist.`,
      {
        hint: "Check the path, or create the file with `intune-publisher connect init --config FILE`. Nothing falls back to the local tenant when --config is given.",
      },
    );
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

async function writeAtomic(path: string, data: string, mode: number): Promise<void> {
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
): Promise<{ configFile: string; secretFile: string | undefined }> {
  const paths = pathsFor(loc);
  const platform = loc.platform ?? process.platform;
  const current = (await readProfilesFile(paths)) ?? { profiles: {} };
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
  return { configFile: paths.file, secretFile };
}

export interface ConnectTransport {
  send: HttpTransport;
  close(): Promise<void>;
}

/**
 * The shared HTTP transport for the settings: the profile's CA file (and `caPem`) added to Node's roots, the proxy
 * and NO_PROXY. `onRequest` sees each method and URL (never headers or bodies): tests count calls with it.
 */
export async function transportFor(
  settings: Settings,
  extra: { caPem?: string | undefined; onRequest?: ((method: string, url: string) => void) | undefined } = {},
): Promise<ConnectTransport> {
  let caPem = extra.caPem;
  if (settings.caCertificatePath !== undefined) {
    try {
      caPem = [caPem, await readFile(settings.caCertificatePath, "utf8")].filter(Boolean).join("\n");
    } catch (e) {
      throw new PublisherError(
        "config",
        "CaUnreadable",
        `Cannot read the CA certificate ${settings.caCertificatePath}.`,
        {
          hint: "Check caCertificate in the profile or --ca-certificate.",
          cause: e,
        },
      );
    }
  }
  if (settings.proxy !== undefined) {
    let u: URL | undefined;
    try {
      u = new URL(settings.proxy);
    } catch {
      u = undefined;
    }
    if (u === undefined || (u.protocol !== "http:" && u.protocol !== "https:")) {
      throw new PublisherError("config", "InvalidProxy", "The proxy setting is not an http(s) URL.", {
        hint: "Give the proxy as http://host:port (HTTPS_PROXY or proxy in the profile).",
      });
    }
  }
  const t = createFetchTransport({
    ...(caPem === undefined ? {} : { trustedCaPem: caPem }),
    proxy: {
      ...(settings.proxy === undefined ? {} : { httpsProxy: settings.proxy }),
      ...(settings.noProxy === undefined ? {} : { noProxy: settings.noProxy }),
    },
  });
  const onRequest = extra.onRequest;
  return {
    send: onRequest === undefined ? t.send : (req) => (onRequest(req.method, req.url), t.send(req)),
    close: () => t.close(),
  };
}
