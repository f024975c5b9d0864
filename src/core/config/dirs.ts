/**
 * The per-user folders (configuration, state) from the environment. Pure: callers pass the environment and the
 * home folder. A variable that is set but empty, or (XDG Base Directory rule) not absolute, is treated as unset, so
 * `XDG_STATE_HOME=""` never puts keys or logs in the current folder.
 */
import { posix, win32 } from "node:path";

/** The folder an environment variable names, or undefined when it is unset, empty or relative. */
export function envFolder(env: NodeJS.ProcessEnv, name: string, platform: NodeJS.Platform): string | undefined {
  const v = env[name];
  if (v === undefined || v.trim() === "") return undefined;
  return (platform === "win32" ? win32 : posix).isAbsolute(v) ? v : undefined;
}

/** $HOME when it names an absolute folder (not on Windows), else `fallback` (os.homedir()). */
export function homeFolder(env: NodeJS.ProcessEnv, platform: NodeJS.Platform, fallback: () => string): string {
  return (platform === "win32" ? undefined : envFolder(env, "HOME", platform)) ?? fallback();
}

/**
 * The tool's state folder: `$XDG_STATE_HOME/intune-publisher` (default `~/.local/state/intune-publisher`), on
 * Windows `%LOCALAPPDATA%\intune-publisher` (default `<home>\AppData\Local\intune-publisher`).
 */
export function userStateDir(env: NodeJS.ProcessEnv, platform: NodeJS.Platform, home: string): string {
  if (platform === "win32")
    return win32.join(
      envFolder(env, "LOCALAPPDATA", platform) ?? win32.join(home, "AppData", "Local"),
      "intune-publisher",
    );
  return posix.join(
    envFolder(env, "XDG_STATE_HOME", platform) ?? posix.join(home, ".local", "state"),
    "intune-publisher",
  );
}

/**
 * The tool's configuration folder: `$XDG_CONFIG_HOME/intune-publisher` (default `~/.config/intune-publisher`), on
 * Windows `%APPDATA%\intune-publisher` (default `<home>\AppData\Roaming\intune-publisher`).
 */
export function userConfigDir(env: NodeJS.ProcessEnv, platform: NodeJS.Platform, home: string): string {
  if (platform === "win32")
    return win32.join(
      envFolder(env, "APPDATA", platform) ?? win32.join(home, "AppData", "Roaming"),
      "intune-publisher",
    );
  return posix.join(envFolder(env, "XDG_CONFIG_HOME", platform) ?? posix.join(home, ".config"), "intune-publisher");
}

/**
 * The tool's cache folder (downloaded installers): `$XDG_CACHE_HOME/intune-publisher` (default
 * `~/.cache/intune-publisher`), on Windows `%LOCALAPPDATA%\intune-publisher\Cache` (beside the state folder).
 */
export function userCacheDir(env: NodeJS.ProcessEnv, platform: NodeJS.Platform, home: string): string {
  if (platform === "win32") return win32.join(userStateDir(env, platform, home), "Cache");
  return posix.join(envFolder(env, "XDG_CACHE_HOME", platform) ?? posix.join(home, ".cache"), "intune-publisher");
}
