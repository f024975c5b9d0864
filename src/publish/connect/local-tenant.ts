/**
 * Finds a running local tenant (`intune-publisher emulator start`) from its state folder, so that
 * `connect test --cloud local` tests it instead of starting one in-process. `emulator start` writes
 * credentials.json (0600) there: tenant, client, secret, `authorityHost`, `graphBaseUrl`, `tokenAudience`; the
 * tenant is used only if its OpenID configuration answers at that address over TLS trusting the folder's ca.pem
 * (so a stale file, or another program on a reused port, is never mistaken for it).
 */
import { readFile } from "node:fs/promises";
import { request } from "node:https";
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

/** Names the emulator's state folder for `emulator start` and for finding a running local tenant. */
export const EMULATOR_STATE_ENV = "INTUNE_PUBLISHER_EMULATOR_STATE";

/**
 * The emulator's default state folder (`emulator start` and `connect test --cloud local` alike):
 * $INTUNE_PUBLISHER_EMULATOR_STATE, else the XDG state home (or %LOCALAPPDATA%)/intune-publisher/emulator.
 */
export function defaultEmulatorStateDir(
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform = process.platform,
  home = env["HOME"] ?? homedir(),
): string {
  const named = env[EMULATOR_STATE_ENV];
  if (named !== undefined && named !== "") return named;
  if (platform === "win32" && env["LOCALAPPDATA"])
    return win32.join(env["LOCALAPPDATA"], "intune-publisher", "emulator");
  return join(env["XDG_STATE_HOME"] ?? join(home, ".local", "state"), "intune-publisher", "emulator");
}

/** True when `authorityHost` serves the tenant's OpenID configuration (HTTP 200, JSON naming that host). */
function answers(authorityHost: string, tenantId: string, caPem: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (ok: boolean): void => {
      if (settled) return;
      settled = true;
      resolve(ok);
    };
    const url = `${authorityHost}/${encodeURIComponent(tenantId)}/v2.0/.well-known/openid-configuration`;
    // rejectUnauthorized explicit: NODE_TLS_REJECT_UNAUTHORIZED=0 never turns the check off.
    const options = { method: "GET", ca: caPem, rejectUnauthorized: true, timeout: timeoutMs, agent: false };
    const req = request(url, options, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        if (body.length < 65_536) body += d;
      });
      res.on("end", () => {
        try {
          const doc = JSON.parse(body) as { token_endpoint?: unknown };
          done(
            res.statusCode === 200 &&
              typeof doc.token_endpoint === "string" &&
              doc.token_endpoint.toLowerCase().startsWith(`${authorityHost.toLowerCase()}/`),
          );
        } catch {
          done(false);
        }
      });
      res.on("error", () => done(false));
    });
    req.on("timeout", () => {
      req.destroy();
      done(false);
    });
    req.on("error", () => done(false));
    req.end();
  });
}

/** The running local tenant described by `stateDir`, or undefined (no file, no address in it, no answer). */
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
  if (url.protocol !== "https:" || !(await answers(url.origin, tenantId, caPem, 2000))) return undefined;
  return {
    tenantId,
    clientId,
    clientSecret,
    authorityHost: url.origin,
    graphBaseUrl,
    tokenAudience: str("tokenAudience") ?? "https://graph.microsoft.com",
    caPem,
    source: `running local tenant (${join(stateDir, "credentials.json")})`,
  };
}
