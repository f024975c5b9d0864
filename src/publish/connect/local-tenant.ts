/**
 * Finds a running local tenant (`intune-publisher emulator start`) from its state folder, so that
 * `connect test --cloud local` tests it instead of starting one in-process. The state folder's credentials.json
 * names the tenant, client and secret; the address is taken from its `authorityHost` and `graphBaseUrl` fields when
 * they are there, and the tenant is used only if something listens at that address.
 */
import { readFile } from "node:fs/promises";
import { connect } from "node:net";
import { homedir } from "node:os";
import { join, win32 } from "node:path";

export interface LocalTarget {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  authorityHost: string;
  graphBaseUrl: string;
  tokenAudience: string;
  caPem: string;
  /** for the report: where it came from */
  source: string;
}

/** The emulator's default state folder (the same rule as `emulator start`: XDG state home, %LOCALAPPDATA%). */
export function defaultEmulatorStateDir(
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform = process.platform,
  home = env["HOME"] ?? homedir(),
): string {
  if (platform === "win32" && env["LOCALAPPDATA"])
    return win32.join(env["LOCALAPPDATA"], "intune-publisher", "emulator");
  return join(env["XDG_STATE_HOME"] ?? join(home, ".local", "state"), "intune-publisher", "emulator");
}

function listening(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/** The running local tenant described by `stateDir`, or undefined (no file, no address in it, nothing listening). */
export async function findRunningLocalTenant(stateDir: string): Promise<LocalTarget | undefined> {
  let creds: Record<string, unknown>;
  let caPem: string;
  try {
    creds = JSON.parse(await readFile(join(stateDir, "credentials.json"), "utf8")) as Record<string, unknown>;
    caPem = await readFile(join(stateDir, "ca.pem"), "utf8");
  } catch {
    return undefined;
  }
  const str = (k: string): string | undefined =>
    typeof creds[k] === "string" && creds[k] !== "" ? creds[k] : undefined;
  const tenantId = str("tenantId");
  const clientId = str("clientId");
  const clientSecret = str("clientSecret");
  const authorityHost = str("authorityHost");
  const graphBaseUrl = str("graphBaseUrl");
  if (!tenantId || !clientId || !clientSecret || !authorityHost || !graphBaseUrl) return undefined;
  let url: URL;
  try {
    url = new URL(authorityHost);
  } catch {
    return undefined;
  }
  if (url.protocol !== "https:" || !(await listening(url.hostname, Number(url.port || 443), 1000))) return undefined;
  return {
    tenantId,
    clientId,
    clientSecret,
    authorityHost,
    graphBaseUrl,
    tokenAudience: str("tokenAudience") ?? "https://graph.microsoft.com",
    caPem,
    source: `running local tenant (${join(stateDir, "credentials.json")})`,
  };
}
