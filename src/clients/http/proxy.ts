/**
 * Proxy settings with curl's HTTPS_PROXY / NO_PROXY conventions (docs/clouds.md, "Precedence and environment
 * variables"). Library code reads no environment: the composition root calls `proxySettingsFromEnv(process.env)` and
 * passes the result.
 */

export interface ProxySettings {
  /** http://[user:pass@]host:port, used for https:// URLs */
  httpsProxy?: string;
  /** used for http:// URLs */
  httpProxy?: string;
  /** comma- or space-separated hosts, `.suffix` or `*.suffix` domains, `host:port`, or `*` for all */
  noProxy?: string;
}

export function proxySettingsFromEnv(env: Readonly<Record<string, string | undefined>>): ProxySettings {
  const pick = (name: string): string | undefined => {
    const v = env[name.toLowerCase()] ?? env[name];
    return v === undefined || v.trim() === "" ? undefined : v.trim();
  };
  const settings: ProxySettings = {};
  const https = pick("HTTPS_PROXY");
  const http = pick("HTTP_PROXY");
  const no = pick("NO_PROXY");
  if (https !== undefined) settings.httpsProxy = https;
  if (http !== undefined) settings.httpProxy = http;
  if (no !== undefined) settings.noProxy = no;
  return settings;
}

/** True when `url` must be reached directly under the NO_PROXY list (loopback always is). */
export function bypassesProxy(url: URL, noProxy: string | undefined): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (host === "localhost" || host === "127.0.0.1" || host === "::1") return true;
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  for (const raw of (noProxy ?? "").split(/[\s,]+/)) {
    const entry = raw.trim().toLowerCase();
    if (entry === "") continue;
    if (entry === "*") return true;
    // `host:port` has one colon; more means a bare IPv6 address.
    const parts = entry.split(":");
    const [hostPart, entryPort] = parts.length === 2 ? parts : [entry, undefined];
    if (entryPort !== undefined && entryPort !== port) continue;
    const name = (hostPart ?? entry).replace(/^\[|\]$/g, "").replace(/^\*?\./, ".");
    if (
      name.startsWith(".") ? host.endsWith(name) || host === name.slice(1) : host === name || host.endsWith(`.${name}`)
    )
      return true;
  }
  return false;
}

/** The proxy URL to use for `url`, or undefined for a direct connection. */
export function proxyFor(url: URL, settings: ProxySettings): string | undefined {
  const proxy = url.protocol === "https:" ? (settings.httpsProxy ?? settings.httpProxy) : settings.httpProxy;
  return proxy === undefined || bypassesProxy(url, settings.noProxy) ? undefined : proxy;
}
