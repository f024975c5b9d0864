/**
 * The local tenant as publish sees it: a running one (`intune-publisher emulator start`) found from its state folder,
 * so that `connect test --cloud local` and an unconfigured `publish` use it instead of starting one in-process, and
 * the port through which one is started (`LocalTenantLauncher`, implemented once in local-tenant-launcher.ts).
 * `emulator start` writes credentials.json (0600; schema: src/core/config/local-tenant-record.ts) there. The record
 * is used only if both addresses are on this machine (loopback) and the tenant's OpenID configuration answers there
 * over TLS trusting the folder's ca.pem. A record that is malformed, points elsewhere or no longer answers is an
 * error naming the fix, never a silent fall-back to an empty in-process tenant.
 */
import { stat } from "node:fs/promises";
import { request } from "node:https";
import { homedir } from "node:os";
import { join, posix, win32 } from "node:path";
import { homeFolder, userStateDir } from "../../core/config/dirs.js";
import { LOCAL_TENANT_RECORD_FILE, readLocalTenantRecord } from "../../core/config/local-tenant-record.js";
import { isPublisherError, PublisherError } from "../../core/errors.js";
import { readBoundedText } from "../../platform/fs.js";
import { lockHolderAlive, readLock } from "./state-lock.js";

/** What a client needs to reach a local tenant. */
export interface LocalTarget {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  authorityHost: string;
  graphBaseUrl: string;
  tokenAudience: string;
  caPem: string;
  /** https://127.0.0.1:PORT: its vendor download host (the catalog's local source), when it runs one */
  vendorUrl?: string | undefined;
  /** for the report: where it came from */
  source: string;
  /** e.g. credentials.json readable by others */
  warnings?: string[];
}

/** A local tenant started in this process: its connection facts and how to stop it (no admin API). */
export interface StartedLocalTenant {
  tenantId: string;
  /** the seed's first app registration */
  clientId: string;
  /** its first client secret, when it has one */
  clientSecret: string | undefined;
  /** https://127.0.0.1:PORT */
  authorityHost: string;
  /** https://127.0.0.1:PORT/{tenantId} */
  authority: string;
  /** https://127.0.0.1:PORT/beta */
  graphBaseUrl: string;
  tokenAudience: string;
  caCertPem: string;
  /** ca.pem in the state folder, when there is one */
  caCertPath: string | undefined;
  /** the embedded blob endpoint, when storage runs */
  blobEndpoint: string | undefined;
  /** https://127.0.0.1:PORT: the vendor download host (docs/emulator.md "Vendor host"), when it runs */
  vendorUrl?: string | undefined;
  /** problems worth telling the operator (a private key file readable by other users) */
  warnings: string[];
  close(): Promise<void>;
}

export interface LocalTenantStartOptions {
  /** a YAML or JSON seed file; default: one tenant, one app with all six permissions */
  seed?: string;
  /** 0 or absent: any free port */
  port?: number;
  /** 127.0.0.1 (default) or localhost; anything else is refused */
  host?: string;
  /** keeps the CA, server certificate and token-signing key; absent: all in memory */
  stateDir?: string;
  /** keeps Graph state in `stateDir` across restarts */
  persist?: boolean;
  /** blob storage: in memory (default), in a folder, or none (Graph and Entra ID only) */
  storage?: "memory" | { location: string } | false;
  /** the vendor download host: its seed file (YAML or JSON), default the built-in demo products; false: none */
  vendorSeed?: string | false;
}

/**
 * The port through which publish and the CLI reach a local tenant: find the running one, or start one in this
 * process. Its one implementation (local-tenant-launcher.ts) loads the emulator only when `start` is called.
 */
export interface LocalTenantLauncher {
  /** the running tenant recorded in `stateDir`; undefined when none is recorded (throws when it is gone) */
  findRunning(stateDir: string): Promise<LocalTarget | undefined>;
  start(options?: LocalTenantStartOptions): Promise<StartedLocalTenant>;
}

/** The connection facts of a started tenant. */
export function localTargetOf(lt: StartedLocalTenant, source: string): LocalTarget {
  return {
    tenantId: lt.tenantId,
    clientId: lt.clientId,
    clientSecret: lt.clientSecret ?? "",
    authorityHost: lt.authorityHost,
    graphBaseUrl: lt.graphBaseUrl,
    tokenAudience: lt.tokenAudience,
    caPem: lt.caCertPem,
    vendorUrl: lt.vendorUrl,
    source,
  };
}

/** Names the emulator's state folder for `emulator start` and for finding a running local tenant. */
export const EMULATOR_STATE_ENV = "INTUNE_PUBLISHER_EMULATOR_STATE";

/**
 * The emulator's default state folder (`emulator start` and `connect test --cloud local` alike):
 * $INTUNE_PUBLISHER_EMULATOR_STATE, else the XDG state home (or %LOCALAPPDATA%)/intune-publisher/emulator; empty
 * variables count as unset.
 */
export function defaultEmulatorStateDir(
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform = process.platform,
  home = homeFolder(env, platform, homedir),
): string {
  const named = env[EMULATOR_STATE_ENV];
  if (named !== undefined && named.trim() !== "") return named;
  return (platform === "win32" ? win32 : posix).join(userStateDir(env, platform, home), "emulator");
}

/** credentials.json holds a few hundred bytes of JSON. */
export const CREDENTIALS_MAX_BYTES = 64 * 1024;
/** The emulator's CA certificate (one PEM certificate, about 1.2 KB). */
export const STATE_CA_MAX_BYTES = 64 * 1024;

/** True for 127.0.0.0/8, ::1 and localhost: the only hosts a local tenant record may name. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/^\[|\]$/g, "");
  if (h === "localhost" || h === "::1" || h === "0:0:0:0:0:0:0:1") return true;
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(h);
  return m !== null && m[1] === "127" && m.slice(2).every((o) => Number(o) <= 255);
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

function recordError(path: string, problem: string, hint: string): PublisherError {
  return new PublisherError("LocalTenantRecordInvalid", `The local tenant record ${path} ${problem}.`, {
    hint,
  });
}

/**
 * The running local tenant described by `stateDir`; undefined when the folder has no credentials.json. Throws when
 * the record is unreadable, names a host that is not this machine, or its tenant does not answer.
 */
export async function findRunningLocalTenant(stateDir: string): Promise<LocalTarget | undefined> {
  const credsPath = join(stateDir, LOCAL_TENANT_RECORD_FILE);
  let text: string;
  try {
    text = await readBoundedText({ path: credsPath, what: "local tenant record", maxBytes: CREDENTIALS_MAX_BYTES });
  } catch (e) {
    if (isPublisherError(e) && e.code === "FileNotFound") return undefined;
    throw e;
  }
  const removeHint = `Delete ${credsPath} (or start the emulator again with \`intune-publisher emulator start --state ${stateDir}\`).`;
  const reading = readLocalTenantRecord(text);
  if (!reading.ok)
    throw recordError(
      credsPath,
      reading.problem === "not-an-object" ? "is not a JSON object" : `lacks ${reading.fields.join(", ")}`,
      removeHint,
    );
  const { tenantId, clientId, clientSecret, authorityHost, graphBaseUrl, tokenAudience, vendorUrl } = reading.record;
  const urls: URL[] = [];
  for (const [name, value] of [
    ["authorityHost", authorityHost],
    ["graphBaseUrl", graphBaseUrl],
    ...(vendorUrl === undefined ? [] : ([["vendorUrl", vendorUrl]] as const)),
  ] as const) {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw recordError(credsPath, `has an ${name} that is not a URL`, removeHint);
    }
    if (url.protocol !== "https:" || !isLoopbackHost(url.hostname))
      throw recordError(
        credsPath,
        `points ${name} at ${url.protocol}//${url.host}, which is not an https address on this machine`,
        `A local tenant record may name only https loopback addresses (127.0.0.0/8, ::1, localhost). Delete ${credsPath} if you did not write it; to use another tenant, configure it (docs/clouds.md).`,
      );
    urls.push(url);
  }
  const caPem = await readBoundedText({
    path: join(stateDir, "ca.pem"),
    what: "local tenant CA certificate",
    maxBytes: STATE_CA_MAX_BYTES,
  }).catch((e: unknown) => {
    if (isPublisherError(e) && e.code === "FileNotFound")
      throw recordError(credsPath, "has no ca.pem beside it", removeHint);
    throw e;
  });
  const origin = urls[0]!.origin;
  if (!(await answers(origin, tenantId, caPem, 2000))) {
    const lock = await readLock(stateDir);
    const alive = lock === undefined || lock === "unreadable" ? undefined : lockHolderAlive(lock);
    const why =
      lock === undefined
        ? "no emulator holds its state folder (it was stopped, or it crashed)"
        : lock === "unreadable" || alive === undefined
          ? "its emulator may run elsewhere"
          : alive
            ? `its emulator (pid ${lock.pid}) runs but does not answer there`
            : `its emulator (pid ${lock.pid}) is no longer running`;
    throw new PublisherError(
      "LocalTenantNotRunning",
      `The local tenant recorded in ${credsPath} (${origin}) does not answer: ${why}.`,
      {
        hint: `Start it again with \`intune-publisher emulator start --state ${stateDir}\` (add --persist if it kept its state), or delete ${credsPath} to use a throw-away in-process local tenant instead.`,
      },
    );
  }
  const warnings: string[] = [];
  if (process.platform !== "win32") {
    const mode = (await stat(credsPath)).mode & 0o777;
    if ((mode & 0o077) !== 0)
      warnings.push(
        `${credsPath} holds the local tenant's client secret and is readable by other users (mode ${mode.toString(8)}); run chmod 600 on it.`,
      );
  }
  return {
    tenantId,
    clientId,
    clientSecret,
    authorityHost: origin,
    graphBaseUrl,
    tokenAudience,
    caPem,
    ...(urls[2] === undefined ? {} : { vendorUrl: urls[2].origin }),
    source: `running local tenant (${credsPath})`,
    warnings,
  };
}
