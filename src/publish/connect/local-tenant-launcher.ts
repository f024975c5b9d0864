/**
 * The one way from src/ into the emulator (docs/DESIGN.md, "The local tenant behind a port"): the launcher port of
 * local-tenant.ts, implemented with a lazy import(), so that a run against a real tenant never loads the emulator or
 * Azurite. The CLI hands it to the code that needs it.
 */
import { PublisherError } from "../../core/errors.js";
import { findRunningLocalTenant } from "./local-tenant.js";
import type { LocalTenantLauncher, LocalTenantStartOptions, StartedLocalTenant } from "./local-tenant.js";

const emulator = () => import("../../../emulator/server.js");

export const localTenantLauncher: LocalTenantLauncher = {
  findRunning: findRunningLocalTenant,
  async start(options: LocalTenantStartOptions = {}): Promise<StartedLocalTenant> {
    const { startLocalTenant } = await emulator();
    const { vendorSeed, ...rest } = options;
    const lt = await startLocalTenant({ ...rest, ...(vendorSeed === undefined ? {} : { vendor: vendorSeed }) }).catch(
      (e: unknown) => {
        throw withoutAzurite(e) ?? e;
      },
    );
    return {
      tenantId: lt.tenantId,
      clientId: lt.clientId,
      clientSecret: lt.clientSecret,
      authorityHost: lt.authorityHost,
      authority: lt.authority,
      graphBaseUrl: lt.graphBaseUrl,
      tokenAudience: lt.tokenAudience,
      caCertPem: lt.caCertPem,
      caCertPath: lt.caCertPath,
      blobEndpoint: lt.blobEndpoint,
      vendorUrl: lt.vendor?.origin,
      warnings: lt.warnings,
      close: () => lt.close(),
    };
  },
};

/**
 * Refuses a listen address other than loopback (`emulator start --host`), before anything is created: the admin API
 * has no authentication and blob storage signs with a public key.
 */
export async function checkListenHost(host: string | undefined): Promise<void> {
  (await emulator()).listenAddress(host);
}

/**
 * azurite is an optional dependency (a production install may leave it out: `npm ci --omit=optional`); the local
 * tenant's blob storage needs it. Its absence as an error naming the fix, else undefined.
 */
export function withoutAzurite(e: unknown): PublisherError | undefined {
  const err = e as NodeJS.ErrnoException | undefined;
  if (err?.code !== "MODULE_NOT_FOUND" && err?.code !== "ERR_MODULE_NOT_FOUND") return undefined;
  if (!/['"]azurite[/'"]/.test(err.message)) return undefined;
  return new PublisherError(
    "LocalTenantUnavailable",
    "The local tenant cannot start: its blob storage needs the optional package azurite, which is not installed.",
    {
      hint: "Install it (`npm install azurite`, or an install without --omit=optional), or configure a tenant (docs/clouds.md).",
    },
  );
}
