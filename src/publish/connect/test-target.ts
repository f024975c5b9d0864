/**
 * `connect test` as one call: which tenant (a profile and flags, or — with `--cloud local` and nothing naming
 * another authority — the local tenant), then the connection test on it. The CLI command and the console's
 * Connection page both run this, so they report the same steps, permissions and advice.
 */
import { loadCredential } from "../../clients/auth/credentials.js";
import type { SecretRegistry } from "../../clients/http/redact.js";
import type { HttpLogger } from "../../clients/http/types.js";
import { openLocalTarget, wantsLocalTenant } from "../target.js";
import type { ResolvedTarget, TargetInput } from "../target.js";
import { loadSettings, transportFor } from "./config-store.js";
import { runConnectionTest } from "./test-connection.js";
import type { ConnectionReport } from "./test-connection.js";

export async function testTarget(
  input: TargetInput,
  o: { signal?: AbortSignal | undefined; secrets?: SecretRegistry | undefined; logger?: HttpLogger | undefined },
): Promise<ConnectionReport> {
  const local: ResolvedTarget | undefined = wantsLocalTenant(input.flags, input.env)
    ? await openLocalTarget({ ...input, storage: false })
    : undefined;
  try {
    const { report, close } = await runConnectionTest({
      resolveSettings: async () =>
        local ? local.settings : loadSettings({ env: input.env, configFile: input.configFile }, input.flags),
      loadCredential: (s) =>
        loadCredential(s.credential, { env: input.env, secretValue: local?.secretValue, secrets: o.secrets }),
      transport: (s) => transportFor(s, { caPem: local?.caPem, secrets: o.secrets }),
      ...(o.signal === undefined ? {} : { signal: o.signal }),
      secrets: o.secrets,
      ...(o.logger === undefined ? {} : { logger: o.logger }),
    });
    await close();
    return report;
  } finally {
    await local?.close();
  }
}

/** The connection test on a tenant already resolved (publish's `--test-connection`, `connect test --tenants`). */
export async function testResolvedTarget(
  target: Pick<ResolvedTarget, "settings" | "secretValue" | "caPem">,
  o: {
    env: NodeJS.ProcessEnv;
    signal?: AbortSignal | undefined;
    secrets?: SecretRegistry | undefined;
    logger?: HttpLogger | undefined;
  },
): Promise<ConnectionReport> {
  const { report, close } = await runConnectionTest({
    resolveSettings: async () => target.settings,
    loadCredential: (s) =>
      loadCredential(s.credential, { env: o.env, secretValue: target.secretValue, secrets: o.secrets }),
    transport: (s) => transportFor(s, { caPem: target.caPem, secrets: o.secrets }),
    ...(o.signal === undefined ? {} : { signal: o.signal }),
    secrets: o.secrets,
    ...(o.logger === undefined ? {} : { logger: o.logger }),
  });
  await close();
  return report;
}
