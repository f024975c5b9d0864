/** Test support: the seed most emulator tests start from. */
import type { SeedInput } from "../seed.js";

/** The app registration tests sign in as ("publisher"). */
export const TEST_CLIENT_ID = "aaaaaaaa-0000-4000-8000-000000000001";

/**
 * One tenant (`contoso.onmicrosoft.com`) whose app registration "publisher" holds `roles` (and the client secret
 * `secret`, when given), plus the rest of the seed.
 */
export function testSeed(
  o: { tenantId: string; roles: readonly string[]; secret?: string } & Omit<SeedInput, "tenants" | "appRegistrations">,
): SeedInput {
  const { tenantId, roles, secret, ...rest } = o;
  return {
    tenants: [{ id: tenantId, domains: ["contoso.onmicrosoft.com"] }],
    appRegistrations: [
      {
        clientId: TEST_CLIENT_ID,
        displayName: "publisher",
        ...(secret === undefined ? {} : { secrets: [{ value: secret }] }),
        roles: [...roles],
      },
    ],
    ...rest,
  };
}
