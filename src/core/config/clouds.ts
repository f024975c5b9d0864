/**
 * Cloud presets and pure URL composition (no I/O). Facts: docs/reference/clouds.md §3 (hosts per
 * cloud), §1.1 (token endpoint), §4.3 (admin-consent URL), §4.5 (`az cloud set` names).
 *
 * The authority host, the token audience ("Authentication URL") and the Graph base URL are three independent
 * settings: DoD shares GCC High's authority but has its own Graph host, so a cloud cannot be derived from the
 * authority alone (§3 notes).
 */
import { PublisherError } from "../errors.js";

export const CLOUD_NAMES = ["global", "usgov", "usgov-dod", "china", "custom", "local"] as const;
export type CloudName = (typeof CLOUD_NAMES)[number];

export interface CloudPreset {
  name: CloudName;
  /** what admins call it */
  label: string;
  /** https://host, no trailing slash; undefined for `custom` and `local` (given or discovered) */
  authorityHost: string | undefined;
  /** the token audience, e.g. https://graph.microsoft.com; the scope is `${tokenAudience}/.default` */
  tokenAudience: string | undefined;
  /** e.g. https://graph.microsoft.com/beta */
  graphBaseUrl: string | undefined;
  /** `az cloud set --name …` */
  azureCliCloud: string | undefined;
  /** Entra admin center, for the setup instructions */
  entraAdminCenter: string | undefined;
  azurePortal: string | undefined;
}

export const CLOUD_PRESETS: Readonly<Record<CloudName, CloudPreset>> = {
  global: {
    name: "global",
    label: "Microsoft Entra ID global service (also US Gov GCC Moderate)",
    authorityHost: "https://login.microsoftonline.com",
    tokenAudience: "https://graph.microsoft.com",
    graphBaseUrl: "https://graph.microsoft.com/beta",
    azureCliCloud: "AzureCloud",
    entraAdminCenter: "https://entra.microsoft.com",
    azurePortal: "https://portal.azure.com",
  },
  usgov: {
    name: "usgov",
    label: "US Government GCC High (L4)",
    authorityHost: "https://login.microsoftonline.us",
    tokenAudience: "https://graph.microsoft.us",
    graphBaseUrl: "https://graph.microsoft.us/beta",
    azureCliCloud: "AzureUSGovernment",
    entraAdminCenter: "https://entra.microsoft.us",
    azurePortal: "https://portal.azure.us",
  },
  "usgov-dod": {
    name: "usgov-dod",
    label: "US Government DoD (L5)",
    authorityHost: "https://login.microsoftonline.us",
    tokenAudience: "https://dod-graph.microsoft.us",
    graphBaseUrl: "https://dod-graph.microsoft.us/beta",
    azureCliCloud: "AzureUSGovernment",
    entraAdminCenter: "https://entra.microsoft.us",
    azurePortal: "https://portal.azure.us",
  },
  china: {
    name: "china",
    label: "Microsoft Azure operated by 21Vianet (China)",
    authorityHost: "https://login.chinacloudapi.cn",
    tokenAudience: "https://microsoftgraph.chinacloudapi.cn",
    graphBaseUrl: "https://microsoftgraph.chinacloudapi.cn/beta",
    azureCliCloud: "AzureChinaCloud",
    entraAdminCenter: undefined,
    azurePortal: "https://portal.azure.cn",
  },
  custom: {
    name: "custom",
    label: "Custom endpoints (all three URLs given)",
    authorityHost: undefined,
    tokenAudience: undefined,
    graphBaseUrl: undefined,
    azureCliCloud: undefined,
    entraAdminCenter: undefined,
    azurePortal: undefined,
  },
  local: {
    name: "local",
    label: "The local tenant (intune-publisher emulator)",
    authorityHost: undefined,
    // The local tenant issues tokens for the global Graph resource id and serves Graph on its own origin.
    tokenAudience: "https://graph.microsoft.com",
    graphBaseUrl: undefined,
    azureCliCloud: undefined,
    entraAdminCenter: undefined,
    azurePortal: undefined,
  },
};

export function isCloudName(s: string): s is CloudName {
  return (CLOUD_NAMES as readonly string[]).includes(s);
}

/** The settings that decide every URL. Unset overrides fall back to the preset. */
export interface EndpointInput {
  cloud: CloudName;
  /** GUID or verified domain ("Authority" tenant part) */
  tenant: string;
  authorityHost?: string | undefined;
  tokenAudience?: string | undefined;
  graphBaseUrl?: string | undefined;
}

export interface Endpoints {
  cloud: CloudName;
  tenant: string;
  /** https://host[:port] */
  authorityHost: string;
  /** `${authorityHost}/${tenant}` */
  authority: string;
  /** `host[:port]`, for msal `knownAuthorities` */
  authorityHostName: string;
  tokenEndpoint: string;
  openIdConfigurationUrl: string;
  tokenAudience: string;
  /** `${tokenAudience}/.default` */
  scope: string;
  /** no trailing slash */
  graphBaseUrl: string;
  /** true for hosts msal knows (no discovery); false means we pass knownAuthorities + authorityMetadata */
  wellKnownAuthority: boolean;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DNS_NAME = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;

/** Microsoft's multi-tenant aliases cannot be used for client credentials (§1.1). */
const MULTI_TENANT = new Set(["common", "organizations", "consumers"]);

export function configError(message: string, hint: string): PublisherError {
  return new PublisherError("InvalidConfiguration", message, { hint });
}

/** Checks a tenant (GUID or domain); returns it trimmed. */
export function normalizeTenant(tenant: string): string {
  const t = tenant.trim();
  if (t === "")
    throw configError("No tenant is configured.", "Set the tenant ID or domain (--tenant or AZURE_TENANT_ID).");
  if (MULTI_TENANT.has(t.toLowerCase())) {
    throw configError(
      `The tenant "${t}" is a multi-tenant alias, which app-only sign-in cannot use.`,
      "Use the tenant ID (a GUID) or a verified domain such as contoso.onmicrosoft.com.",
    );
  }
  if (!GUID.test(t) && !DNS_NAME.test(t)) {
    throw configError(
      `The tenant "${t}" is neither a GUID nor a domain name.`,
      "Use the tenant ID (a GUID) or a verified domain such as contoso.onmicrosoft.com.",
    );
  }
  return t;
}

/** An https origin (scheme, host, optional port), without path or trailing slash. */
export function normalizeOrigin(value: string, what: string): string {
  let u: URL;
  try {
    u = new URL(value.includes("://") ? value : `https://${value}`);
  } catch {
    throw configError(`The ${what} "${value}" is not a URL.`, `Give the ${what} as https://host.`);
  }
  if (u.protocol !== "https:") {
    throw configError(`The ${what} "${value}" must use https.`, "Entra ID and msal accept https endpoints only.");
  }
  if (u.pathname !== "/" && u.pathname !== "") {
    throw configError(
      `The ${what} "${value}" must be a host only, without a path.`,
      `Give the ${what} as https://host.`,
    );
  }
  return u.origin;
}

/** An https URL without trailing slash (the Graph base URL may carry /beta or /v1.0). */
export function normalizeBaseUrl(value: string, what: string): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw configError(`The ${what} "${value}" is not a URL.`, `Give the ${what} as an absolute https URL.`);
  }
  if (u.protocol !== "https:") throw configError(`The ${what} "${value}" must use https.`, "Use an https URL.");
  if (u.search !== "" || u.hash !== "") {
    throw configError(`The ${what} "${value}" must not have a query or fragment.`, "Remove the part after ? or #.");
  }
  return `${u.origin}${u.pathname.replace(/\/+$/, "")}`;
}

const WELL_KNOWN_AUTHORITY_HOSTS = new Set([
  "login.microsoftonline.com",
  "login.microsoftonline.us",
  "login.partner.microsoftonline.cn",
  "login.chinacloudapi.cn",
]);

/** Composes every URL from the preset and the overrides. Throws a `config` error when one is missing or invalid. */
export function resolveEndpoints(input: EndpointInput): Endpoints {
  const preset = CLOUD_PRESETS[input.cloud];
  const tenant = normalizeTenant(input.tenant);
  const need = (v: string | undefined, what: string, flag: string): string => {
    if (v === undefined || v === "") {
      throw configError(
        `The ${preset.name} cloud needs the ${what}.`,
        input.cloud === "local"
          ? "Run `intune-publisher connect test --cloud local` without a profile to start a local tenant, or set the local tenant's address from `intune-publisher emulator start`."
          : `Set it with ${flag}.`,
      );
    }
    return v;
  };
  const authorityHost = normalizeOrigin(
    need(input.authorityHost ?? preset.authorityHost, "authority host", "--authority-host or AZURE_AUTHORITY_HOST"),
    "authority host",
  );
  const tokenAudience = normalizeBaseUrl(
    need(input.tokenAudience ?? preset.tokenAudience, "token audience", "--token-audience"),
    "token audience",
  );
  const graphBaseUrl = normalizeBaseUrl(
    need(input.graphBaseUrl ?? preset.graphBaseUrl, "Graph base URL", "--graph-base-url"),
    "Graph base URL",
  );
  const authority = `${authorityHost}/${tenant}`;
  const host = new URL(authorityHost).host;
  return {
    cloud: input.cloud,
    tenant,
    authorityHost,
    authority,
    authorityHostName: host,
    tokenEndpoint: `${authority}/oauth2/v2.0/token`,
    openIdConfigurationUrl: `${authority}/v2.0/.well-known/openid-configuration`,
    tokenAudience,
    scope: `${tokenAudience}/.default`,
    graphBaseUrl,
    wellKnownAuthority: WELL_KNOWN_AUTHORITY_HOSTS.has(new URL(authorityHost).hostname),
  };
}

/**
 * msal `authorityMetadata` for hosts msal does not know, so it makes no discovery call
 * (docs/reference/entra-auth.md §5.4). `{tenant}` stays a literal placeholder; msal fills it in.
 */
export function authorityMetadataFor(authorityHost: string): string {
  const base = `${authorityHost}/{tenant}`;
  return JSON.stringify({
    token_endpoint: `${base}/oauth2/v2.0/token`,
    authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
    issuer: `${base}/v2.0`,
    jwks_uri: `${base}/discovery/v2.0/keys`,
  });
}

/** The admin-consent URL of §4.3. The redirect URI must be registered on the app. */
export function adminConsentUrl(
  endpoints: Pick<Endpoints, "authority">,
  clientId: string,
  redirectUri = "https://localhost",
): string {
  const q = new URLSearchParams({ client_id: clientId, redirect_uri: redirectUri, state: "intune-publisher" });
  return `${endpoints.authority}/adminconsent?${q.toString()}`;
}

/** Guesses the preset from an authority host alone (for AZURE_AUTHORITY_HOST without --cloud). */
export function cloudForAuthorityHost(authorityHost: string): CloudName {
  const origin = normalizeOrigin(authorityHost, "authority host");
  for (const name of ["global", "usgov", "china"] as const) {
    if (CLOUD_PRESETS[name].authorityHost === origin) return name;
  }
  if (origin === "https://login.partner.microsoftonline.cn") return "china";
  return "custom";
}
