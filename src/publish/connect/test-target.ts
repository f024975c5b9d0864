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
import { resolveSettings, withProfile } from "../../core/config/profile.js";
import type { CredentialSource } from "../../core/config/profile.js";
import { loadSettings, pathsFor, readProfilesFile, transportFor } from "./config-store.js";
import type { ConfigLocation } from "./config-store.js";
import { buildProfile } from "./profile-draft.js";
import type { ProfileDraft } from "./profile-draft.js";
import { withUploadedCertificate } from "./uploaded-certificate.js";
import type { CertificateUpload } from "./uploaded-certificate.js";
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

/**
 * `connect test` of a profile that is not saved (the console's form as it stands): the draft is validated and
 * resolved as `connect init` would save it and `connect test --profile NAME` would read it — flags none, the
 * environment as for the CLI — but nothing is written. `secret`: typed in the form (else the profile's stored secret
 * file is read, as the saved profile would); `certificate`: an upload, used from a private temporary file.
 */
export async function testProfileDraft(
  loc: ConfigLocation,
  name: string,
  draft: ProfileDraft,
  o: {
    secret?: string | undefined;
    certificate?: CertificateUpload | undefined;
    signal?: AbortSignal | undefined;
    secrets?: SecretRegistry | undefined;
    logger?: HttpLogger | undefined;
  },
): Promise<ConnectionReport> {
  const paths = pathsFor(loc);
  const platform = loc.platform ?? process.platform;
  const run = async (certificate: CredentialSource | undefined): Promise<ConnectionReport> => {
    const { report, close } = await runConnectionTest({
      resolveSettings: async () => {
        const { profile } = buildProfile(draft);
        const file = (await readProfilesFile(paths)) ?? { profiles: {} };
        const settings = resolveSettings({
          file: withProfile(file, name, profile),
          fileName: paths.file,
          paths,
          platform,
          env: loc.env,
          flags: { profile: name },
        });
        // The environment's credential replaces the profile's, as for the saved profile.
        if (settings.sources["credential"] !== "profile") return settings;
        if (certificate !== undefined) return { ...settings, credential: certificate };
        if (o.secret !== undefined && settings.credential.type === "secret")
          return {
            ...settings,
            credential: { type: "secret", from: "value", expiresOn: settings.credential.expiresOn },
          };
        return settings;
      },
      loadCredential: (s) =>
        loadCredential(s.credential, {
          env: loc.env,
          secretValue: o.secret,
          secretDescription: "client secret typed in the form (not saved)",
          secrets: o.secrets,
        }),
      transport: (s) => transportFor(s, { secrets: o.secrets }),
      ...(o.signal === undefined ? {} : { signal: o.signal }),
      secrets: o.secrets,
      ...(o.logger === undefined ? {} : { logger: o.logger }),
    });
    await close();
    return report;
  };
  o.secrets?.add(o.secret);
  if (o.certificate === undefined) return run(undefined);
  return withUploadedCertificate(o.certificate, (source) => run(source));
}
