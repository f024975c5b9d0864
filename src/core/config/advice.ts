/**
 * Error-to-advice table: every AADSTS code of docs/reference/entra-errors.md §2.1 and the Graph errors of §2.3, each
 * with a plain cause and fix. Pure data and functions (no I/O). Classification is on the numeric code, never the text
 * (docs/reference/entra-auth.md §1.6: Microsoft says the description may change). docs/troubleshooting.md lists the
 * same entries.
 */
import type { ErrorKind } from "../errors.js";

export interface Advice {
  /** stable key, e.g. "AADSTS7000215" or "graph.403.Forbidden" */
  id: string;
  kind: ErrorKind;
  /** what went wrong, in plain words */
  cause: string;
  /** what to do */
  fix: string;
}

type Entry = Omit<Advice, "id">;

const ADMIN_CONSENT =
  "grant admin consent for the app's Microsoft Graph permissions (portal: App registrations > API permissions > Grant admin consent; CLI: `az ad app permission admin-consent --id <client id>`), which needs a Global Administrator or Privileged Role Administrator";

/** Workload identity federation: no federated credential on the app matches the token (issuer, subject, audience). */
const FEDERATED_NO_MATCH: Entry = {
  kind: "auth",
  cause: "No federated credential on the app registration matches the federated token's issuer, subject and audience.",
  fix: "In the app registration (Certificates & secrets > Federated credentials), make the issuer, subject and audience match the token exactly, case included (the error shows what the token presented): e.g. issuer https://token.actions.githubusercontent.com, subject repo:ORG/REPO:environment:NAME or repo:ORG/REPO:ref:refs/heads/BRANCH, audience api://AzureADTokenExchange; check that AZURE_FEDERATED_TOKEN_FILE is written for that audience.",
};

/** AADSTS code → advice (§2.1, plus three codes the local tenant also returns). */
export const AADSTS_ADVICE: Readonly<Record<number, Entry>> = {
  7000215: {
    kind: "auth",
    cause: "The client secret is wrong.",
    fix: "Paste the secret's Value, not its Secret ID; if unsure, create a new secret (`az ad app credential reset --id <client id> --append`) and store it again with `intune-publisher connect init`.",
  },
  7000222: {
    kind: "auth",
    cause: "The client secret has expired.",
    fix: "Create a new secret (`az ad app credential reset --id <client id> --append`) and store it with `intune-publisher connect init`; consider a certificate instead.",
  },
  700016: {
    kind: "auth",
    cause: "The application (client) ID was not found in this tenant.",
    fix: "Check the client ID and the tenant, and that the cloud setting matches the tenant's cloud; a multi-tenant app needs a service principal (admin consent) in this tenant.",
  },
  7000229: {
    kind: "auth",
    cause: "The app registration has no service principal (enterprise application) in this tenant.",
    fix: "Create it with `az ad sp create --id <client id>` (creating the app does not create it), then grant admin consent.",
  },
  90002: {
    kind: "auth",
    cause: "The tenant was not found.",
    fix: "Check the Authority / tenant name (GUID or verified domain) on the tenant's overview page, and the cloud: a GCC High or China tenant is not found at login.microsoftonline.com.",
  },
  90038: {
    kind: "auth",
    cause: "The tenant belongs to another national cloud.",
    fix: "Set the cloud to the tenant's cloud (--cloud usgov, usgov-dod or china).",
  },
  900023: {
    kind: "auth",
    cause: "The tenant identifier is neither a GUID nor a valid domain name.",
    fix: "Use the tenant ID (a GUID) or a verified domain such as contoso.onmicrosoft.com.",
  },
  9001023: {
    kind: "config",
    cause: "A multi-tenant alias (common, organizations, consumers) was used as the tenant.",
    fix: "Use the tenant ID (a GUID) or a verified domain.",
  },
  700027: {
    kind: "auth",
    cause:
      "Entra ID does not know the certificate that signed the sign-in, or it has expired, or the private key does not match it.",
    fix: "Upload the public certificate (.cer/.pem) to the app registration (Certificates & secrets), check the thumbprint shown by `connect test`, and that the private key belongs to that certificate; with a federated token, check that it comes from the identity provider the federated credential names.",
  },
  700024: {
    kind: "auth",
    cause: "The signed sign-in (client assertion) is outside its valid time range.",
    fix: "Fix the system clock (enable NTP time sync) and try again.",
  },
  700021: {
    kind: "auth",
    cause: "The client assertion names another application than the client ID.",
    fix: "Use the client ID of the app registration that owns the certificate or federated credential.",
  },
  70021: FEDERATED_NO_MATCH,
  // Newer Entra ID answers name the claim that did not match (issuer, subject): same cause, same fix.
  700211: FEDERATED_NO_MATCH,
  700213: FEDERATED_NO_MATCH,
  50027: {
    kind: "auth",
    cause: "The client assertion (JWT) is invalid or malformed.",
    fix: "Check the federated token file holds a current token, or that the certificate and key are valid.",
  },
  50012: {
    kind: "auth",
    cause: "Certificate authentication failed (unauthorized subject or thumbprint, invalid chain or signature).",
    fix: "Check the certificate credential configured on the app registration matches the one in use.",
  },
  7000218: {
    kind: "auth",
    cause: "No credential (secret or certificate) was sent.",
    fix: "Configure a client secret, a certificate or a federated token file for the profile (`intune-publisher connect init`).",
  },
  1002012: {
    kind: "config",
    cause: "The token audience is not a valid resource: client credentials need a scope ending in /.default.",
    fix: "Set the token audience to the Graph host of your cloud, e.g. https://graph.microsoft.com (it becomes https://graph.microsoft.com/.default).",
  },
  70011: {
    kind: "config",
    cause: "The requested scope is not valid.",
    fix: "Set the token audience to the Graph host of your cloud, e.g. https://graph.microsoft.com.",
  },
  700022: {
    kind: "config",
    cause: "More than one resource was requested in one token.",
    fix: "Set a single token audience (one Graph host).",
  },
  65001: {
    kind: "permission",
    cause: "Consent for the app's permissions has not been granted.",
    fix: `Ask an administrator to ${ADMIN_CONSENT}.`,
  },
  500011: {
    kind: "config",
    cause: "The token audience (resource) does not exist in this tenant, often another cloud's Graph host.",
    fix: "Set the token audience to the Graph host of the tenant's cloud (global: https://graph.microsoft.com, GCC High: https://graph.microsoft.us, DoD: https://dod-graph.microsoft.us, China: https://microsoftgraph.chinacloudapi.cn).",
  },
  7000112: {
    kind: "auth",
    cause: "The application is disabled in this tenant.",
    fix: "Enable its service principal: Enterprise applications > the app > Properties > Enabled for users to sign in, or `az ad sp update --id <client id> --set accountEnabled=true`.",
  },
  90014: {
    kind: "internal",
    cause: "A required field is missing from the sign-in request (a bug in intune-publisher).",
    fix: "Please report it with the output of `intune-publisher connect test --output json`.",
  },
  900144: {
    kind: "internal",
    cause: "A required parameter is missing from the sign-in request (a bug in intune-publisher).",
    fix: "Please report it with the output of `intune-publisher connect test --output json`.",
  },
  50034: {
    kind: "internal",
    cause: "Entra ID answered with a user sign-in error, which app-only sign-in should never get.",
    fix: "Check the tenant and client ID; if they are right, please report it.",
  },
  53003: {
    kind: "auth",
    cause: "A Conditional Access policy blocked the sign-in.",
    fix: "Ask an administrator to exclude the app's service principal from the workload-identity Conditional Access policy or to allow this location.",
  },
  90055: {
    kind: "auth",
    cause: "Entra ID is throttling sign-ins for this tenant.",
    fix: "Wait a few minutes and try again; avoid running many sign-ins in parallel.",
  },
  50196: {
    kind: "auth",
    cause: "Entra ID detected a sign-in loop (too many identical requests).",
    fix: "Wait a few minutes; intune-publisher caches tokens, so report it if it repeats.",
  },
};

const UNKNOWN_AADSTS: Entry = {
  kind: "auth",
  cause: "Entra ID refused to issue a token.",
  fix: "Look up the AADSTS code at https://login.microsoftonline.com/error?code=<code> and check the profile.",
};

/** Advice for an AADSTS code (an unknown code gets a generic entry that still names it). */
export function adviceForAadsts(code: number): Advice {
  const e = AADSTS_ADVICE[code];
  if (e) return { id: `AADSTS${code}`, ...e };
  return {
    id: `AADSTS${code}`,
    ...UNKNOWN_AADSTS,
    fix: UNKNOWN_AADSTS.fix.replace("<code>", String(code)),
  };
}

/** Finds the AADSTS code in an msal error: `errorNo` first, then `AADSTS(\d+)` in the text (§2.2). */
export function aadstsCodeOf(errorNo: string | number | undefined, text: string): number | undefined {
  const n =
    typeof errorNo === "number" ? errorNo : errorNo !== undefined && /^\d+$/.test(errorNo) ? Number(errorNo) : NaN;
  if (Number.isInteger(n) && n > 0) return n;
  const m = /AADSTS(\d+)/.exec(text);
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

/** The token had no `roles` claim at all: permissions were added but never consented (§4.3). */
export const NO_ROLES_ADVICE: Advice = {
  id: "roles.none",
  kind: "permission",
  cause: "The token carries no application permissions: admin consent has not been granted (or not yet replicated).",
  fix: `${ADMIN_CONSENT[0]?.toUpperCase() ?? ""}${ADMIN_CONSENT.slice(1)}; after consent, wait a minute and run the test again.`,
};

/** Some, not all, of the six permissions are granted. */
export function missingPermissionsAdvice(missing: readonly string[]): Advice {
  return {
    id: "roles.missing",
    kind: "permission",
    cause: `The app lacks ${missing.length === 1 ? "the permission" : "the permissions"} ${missing.join(", ")}.`,
    fix: `Add ${missing.length === 1 ? "it" : "them"} as Microsoft Graph application permissions (see \`intune-publisher connect setup\`) and ${ADMIN_CONSENT}.`,
  };
}

export interface GraphErrorFacts {
  status: number;
  /** `error.code` of the body, when it had one */
  code: string | undefined;
  /** `error.message` of the body */
  message: string | undefined;
}

export interface GraphAdvice extends Advice {
  /** permissions Intune said it wants (parsed from its 403 message), when present */
  scopes: string[];
}

/** The scopes list of Intune's 403 (`… must have one of the following scopes: A, B - Operation ID …`, §2.3). */
export function intuneScopesOf(message: string): string[] {
  let text = message;
  try {
    const inner = JSON.parse(message) as { Message?: unknown };
    if (typeof inner.Message === "string") text = inner.Message;
  } catch {
    // not JSON-in-JSON: use the text as is
  }
  const m = /following scopes:\s*([^\r\n]*?)(?:\s+-\s+Operation ID|$)/i.exec(text);
  if (!m?.[1]) return [];
  return m[1]
    .split(",")
    .map((s) => s.trim())
    .filter((s) => /^[A-Za-z]+(\.[A-Za-z]+)+$/.test(s));
}

/** Advice for a Graph error response (§2.3). */
export function adviceForGraphError(e: GraphErrorFacts): GraphAdvice {
  const code = e.code ?? "";
  const message = e.message ?? "";
  const make = (id: string, kind: ErrorKind, cause: string, fix: string, scopes: string[] = []): GraphAdvice => ({
    id,
    kind,
    cause,
    fix,
    scopes,
  });
  if (e.status === 401) {
    if (/audience/i.test(message)) {
      return make(
        "graph.401.audience",
        "config",
        "Graph rejected the token's audience: the token was issued for another cloud's Graph.",
        "Make the token audience and the Graph base URL belong to the same cloud (see docs/clouds.md).",
      );
    }
    return make(
      "graph.401.InvalidAuthenticationToken",
      "auth",
      "Graph rejected the access token (expired, not yet valid, or for another cloud).",
      "Check the system clock and that the token audience matches the Graph base URL's cloud; run the test again.",
    );
  }
  if (e.status === 403) {
    if (code === "Authorization_RequestDenied") {
      return make(
        "graph.403.Authorization_RequestDenied",
        "permission",
        "The directory refused the request: the app lacks the directory permission it needs (GroupMember.Read.All for groups).",
        `Add the permission and ${ADMIN_CONSENT}.`,
      );
    }
    if (code === "Forbidden") {
      const scopes = intuneScopesOf(message);
      return make(
        "graph.403.Forbidden",
        "permission",
        scopes.length > 0
          ? `Intune refused the request: the app needs one of ${scopes.join(", ")}.`
          : "Intune refused the request: the app lacks the permission this endpoint needs.",
        `Add the permission and ${ADMIN_CONSENT}.`,
        scopes,
      );
    }
    if (code === "UnknownError") {
      return make(
        "graph.403.UnknownError",
        "permission",
        "Intune refused the request (a permission or Intune role problem).",
        `Check the app's Graph permissions and ${ADMIN_CONSENT}; if they are granted, check the tenant's Intune license.`,
      );
    }
    return make(
      "graph.403",
      "permission",
      "Graph refused the request for lack of permission.",
      `Check the app's Graph permissions and ${ADMIN_CONSENT}.`,
    );
  }
  if (e.status === 400 && /not applicable to target tenant/i.test(message)) {
    return make(
      "graph.400.notLicensed",
      "graph",
      "The tenant has no active Intune license, so the Intune APIs are not available.",
      "Assign an Intune license in the tenant (Microsoft 365 admin center) or use a tenant that has one.",
    );
  }
  if (e.status === 400 && /No OData route exists/i.test(message)) {
    return make(
      "graph.400.noODataRoute",
      "internal",
      "Graph does not know the requested URL form (a bug in intune-publisher, or a wrong Graph base URL).",
      "Check that the Graph base URL ends in /beta; if it does, please report it.",
    );
  }
  if (e.status === 404) {
    return make(
      "graph.404",
      "config",
      "Graph answered 404 for a list endpoint: the Graph base URL is probably wrong.",
      "Set the Graph base URL to your cloud's Graph host followed by /beta, e.g. https://graph.microsoft.com/beta.",
    );
  }
  if (e.status === 429) {
    return make(
      "graph.429",
      "graph",
      "Graph is throttling this app or tenant (too many requests).",
      "Wait for the time Graph asked (Retry-After) and try again; avoid running several publishers on one tenant at once.",
    );
  }
  if (e.status === 503 || e.status === 502) {
    return make(`graph.${e.status}`, "graph", "Graph is temporarily unavailable.", "Try again in a few minutes.");
  }
  if (e.status === 504) {
    return make(
      "graph.504",
      "timeout",
      "Graph timed out upstream.",
      "Try again; large tenants may need a smaller page size.",
    );
  }
  return make(
    `graph.${e.status}`,
    "graph",
    `Graph answered ${e.status}${code ? ` ${code}` : ""}.`,
    "Try again; if it repeats, report it with the request-id shown.",
  );
}

/** Network and TLS failures (Node error codes) → advice. */
export function adviceForNetworkError(code: string | undefined, host: string): Advice {
  const tls = new Set([
    "SELF_SIGNED_CERT_IN_CHAIN",
    "DEPTH_ZERO_SELF_SIGNED_CERT",
    "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
    "UNABLE_TO_GET_ISSUER_CERT",
    "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
    "CERT_UNTRUSTED",
  ]);
  if (code !== undefined && tls.has(code)) {
    return {
      id: "tls.untrusted",
      kind: "network",
      cause: `The TLS certificate of ${host} is not trusted (${code}).`,
      fix: "If a proxy inspects TLS, give its CA certificate with --ca-certificate (or NODE_EXTRA_CA_CERTS); for the local tenant, use the ca.pem that `emulator start` prints. Never turn verification off.",
    };
  }
  if (code === "CERT_HAS_EXPIRED" || code === "ERR_TLS_CERT_ALTNAME_INVALID" || code === "HOSTNAME_MISMATCH") {
    return {
      id: "tls.invalid",
      kind: "network",
      cause: `The TLS certificate of ${host} is invalid (${code}).`,
      fix: "Check the host name in the profile and the system clock; a TLS-inspecting proxy may be presenting its own certificate.",
    };
  }
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") {
    return {
      id: "net.dns",
      kind: "network",
      cause: `The host ${host} could not be resolved (${code}).`,
      fix: "Check the host name, DNS and the proxy settings (HTTPS_PROXY / NO_PROXY).",
    };
  }
  return {
    id: "net.connect",
    kind: "network",
    cause: `Could not connect to ${host}${code ? ` (${code})` : ""}.`,
    fix: "Check the network, the firewall and the proxy settings (HTTPS_PROXY / NO_PROXY).",
  };
}
