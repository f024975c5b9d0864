/** Tenants and app registrations of the seed, indexed for the token endpoint and the Graph bearer check. */
import { createHash, createPublicKey, X509Certificate } from "node:crypto";
import type { JsonWebKey, KeyObject } from "node:crypto";
import type { AppRegistration, Seed } from "./seed.js";
import { GUID_RE } from "./http.js";

export interface TenantEntry {
  id: string;
  displayName: string;
  domains: string[];
}

export interface RegisteredCertificate {
  /** uppercase hex */
  sha1: string;
  sha256: string;
  x509?: X509Certificate;
  notBefore?: number;
  notAfter?: number;
}

/** A federated identity credential with its issuer's keys parsed. */
export interface FederatedCredential {
  name: string | undefined;
  issuer: string;
  subject: string;
  audiences: string[];
  /** `kid` undefined = a key declared without one (tried for any assertion) */
  keys: { kid: string | undefined; key: KeyObject }[];
}

export interface AppEntry {
  registration: AppRegistration;
  tenantId: string;
  /** object id of the service principal: the token's `oid` and `sub` */
  servicePrincipalId: string;
  certificates: RegisteredCertificate[];
  federatedCredentials: FederatedCredential[];
}

export type TenantLookup =
  | { kind: "found"; tenant: TenantEntry }
  | { kind: "notFound" }
  /** neither a GUID nor a DNS name (AADSTS900023) */
  | { kind: "invalid" }
  /** common / organizations / consumers (AADSTS9001023 for client credentials) */
  | { kind: "multiTenant" };

const DNS_NAME = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;

/** Name-based UUID (v5 layout, SHA-1) so ids are stable across restarts. */
export function stableGuid(...parts: string[]): string {
  const h = createHash("sha1").update(parts.join("|")).digest();
  h[6] = ((h[6] ?? 0) & 0x0f) | 0x50;
  h[8] = ((h[8] ?? 0) & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString("hex");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

export class Directory {
  private readonly tenants = new Map<string, TenantEntry>();
  private readonly byDomain = new Map<string, TenantEntry>();
  private readonly apps = new Map<string, AppEntry>();
  private readonly revoked = new Set<string>();

  constructor(seed: Seed) {
    for (const t of seed.tenants) {
      const entry = { id: t.id.toLowerCase(), displayName: t.displayName, domains: t.domains };
      this.tenants.set(entry.id, entry);
      for (const d of t.domains) this.byDomain.set(d.toLowerCase(), entry);
    }
    const firstTenant = seed.tenants[0]?.id.toLowerCase() ?? "";
    for (const a of seed.appRegistrations) {
      const tenantId = a.tenantId?.toLowerCase() ?? firstTenant;
      this.apps.set(`${tenantId}/${a.clientId.toLowerCase()}`, {
        registration: a,
        tenantId,
        servicePrincipalId: stableGuid("sp", tenantId, a.clientId.toLowerCase()),
        certificates: a.certificates.map(toRegisteredCertificate),
        federatedCredentials: a.federatedCredentials.map(toFederatedCredential),
      });
    }
  }

  /** Tenant by GUID or domain, case-insensitive (docs/reference/entra-auth.md §1.1: MSAL lowercases the authority). */
  resolveTenant(segment: string): TenantLookup {
    let s: string;
    try {
      s = decodeURIComponent(segment).toLowerCase();
    } catch {
      return { kind: "invalid" };
    }
    if (s === "common" || s === "organizations" || s === "consumers") return { kind: "multiTenant" };
    if (GUID_RE.test(s)) {
      const t = this.tenants.get(s);
      return t ? { kind: "found", tenant: t } : { kind: "notFound" };
    }
    if (!DNS_NAME.test(s)) return { kind: "invalid" };
    const t = this.byDomain.get(s);
    return t ? { kind: "found", tenant: t } : { kind: "notFound" };
  }

  tenantById(id: string): TenantEntry | undefined {
    return this.tenants.get(id.toLowerCase());
  }

  app(tenantId: string, clientId: string): AppEntry | undefined {
    const key = `${tenantId.toLowerCase()}/${clientId.toLowerCase()}`;
    return this.revoked.has(key) ? undefined : this.apps.get(key);
  }

  /**
   * Revokes an app's consent in a tenant (its service principal deleted): the token endpoint then answers
   * AADSTS700016 there, as Entra ID does; false when the app was not consented there.
   */
  revokeConsent(tenantId: string, clientId: string): boolean {
    const key = `${tenantId.toLowerCase()}/${clientId.toLowerCase()}`;
    if (!this.apps.has(key)) return false;
    this.revoked.add(key);
    return true;
  }

  /** Every consent the seed grants, again (the admin API's reset). */
  restoreConsent(): void {
    this.revoked.clear();
  }

  firstTenant(): TenantEntry {
    const t = this.tenants.values().next().value;
    if (t === undefined) throw new Error("The seed declares no tenant.");
    return t;
  }

  allApps(): AppEntry[] {
    return [...this.apps.values()];
  }
}

function toRegisteredCertificate(c: AppRegistration["certificates"][number]): RegisteredCertificate {
  const notBefore = c.notBefore === undefined ? undefined : Date.parse(c.notBefore);
  const notAfter = c.notAfter === undefined ? undefined : Date.parse(c.notAfter);
  if (c.pem !== undefined) {
    const x509 = new X509Certificate(c.pem);
    return {
      sha1: x509.fingerprint.replace(/:/g, "").toUpperCase(),
      sha256: x509.fingerprint256.replace(/:/g, "").toUpperCase(),
      x509,
      notBefore: notBefore ?? Date.parse(x509.validFrom),
      notAfter: notAfter ?? Date.parse(x509.validTo),
    };
  }
  const r: RegisteredCertificate = { sha1: (c.thumbprint ?? "").toUpperCase(), sha256: "" };
  if (notBefore !== undefined) r.notBefore = notBefore;
  if (notAfter !== undefined) r.notAfter = notAfter;
  return r;
}

function toFederatedCredential(f: AppRegistration["federatedCredentials"][number]): FederatedCredential {
  const keys: FederatedCredential["keys"] = [];
  for (const jwk of f.jwks?.keys ?? []) {
    keys.push({ kid: jwk.kid, key: createPublicKey({ key: jwk as JsonWebKey, format: "jwk" }) });
  }
  if (f.publicKeyPem !== undefined) {
    const key = f.publicKeyPem.includes("CERTIFICATE")
      ? new X509Certificate(f.publicKeyPem).publicKey
      : createPublicKey(f.publicKeyPem);
    keys.push({ kid: undefined, key });
  }
  return { name: f.name, issuer: f.issuer, subject: f.subject, audiences: f.audiences, keys };
}
