/**
 * A profile from the values a person gives (`connect init` flags, the console's Connection form): validated, its
 * endpoints resolved (a missing or malformed endpoint fails here, exit 8, not at the first publish), then saved with
 * config-store.ts. One code path, so the console writes exactly what `connect init` writes.
 */
import { normalizeTenant, resolveEndpoints } from "../../core/config/clouds.js";
import type { CloudName, Endpoints } from "../../core/config/clouds.js";
import { profileSchema } from "../../core/config/profile.js";
import type { CredentialConfig, Profile } from "../../core/config/profile.js";
import { PublisherError } from "../../core/errors.js";
import { saveProfile } from "./config-store.js";
import type { ConfigLocation } from "./config-store.js";

export interface ProfileDraft {
  tenant: string;
  clientId: string;
  cloud: CloudName;
  authorityHost?: string | undefined;
  tokenAudience?: string | undefined;
  graphBaseUrl?: string | undefined;
  credential: CredentialConfig;
  caCertificate?: string | undefined;
  proxy?: string | undefined;
}

/** The profile and its endpoints, or an error naming the value that is wrong. */
export function buildProfile(draft: ProfileDraft): { profile: Profile; endpoints: Endpoints } {
  normalizeTenant(draft.tenant);
  const parsed = profileSchema.safeParse({
    tenant: draft.tenant,
    clientId: draft.clientId,
    cloud: draft.cloud,
    ...(draft.authorityHost === undefined ? {} : { authorityHost: draft.authorityHost }),
    ...(draft.tokenAudience === undefined ? {} : { tokenAudience: draft.tokenAudience }),
    ...(draft.graphBaseUrl === undefined ? {} : { graphBaseUrl: draft.graphBaseUrl }),
    credential: draft.credential,
    ...(draft.caCertificate === undefined ? {} : { caCertificate: draft.caCertificate }),
    ...(draft.proxy === undefined ? {} : { proxy: draft.proxy }),
  });
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new PublisherError("InvalidProfile", `The profile is not valid: ${i?.path.join(".")} ${i?.message}.`, {
      hint: "Check the values given.",
    });
  }
  const profile = parsed.data;
  const endpoints = resolveEndpoints({
    ...profile,
    authorityHost: profile.authorityHost,
    tokenAudience: profile.tokenAudience,
    graphBaseUrl: profile.graphBaseUrl,
  });
  return { profile, endpoints };
}

/** Validates `draft` and writes it as profile `name` (the secret, if given, to its own 0600 file). */
export async function saveProfileDraft(
  loc: ConfigLocation,
  name: string,
  draft: ProfileDraft,
  secret: string | undefined,
): Promise<{
  endpoints: Endpoints;
  configFile: string;
  secretFile: string | undefined;
  proxyPasswordFile: string | undefined;
}> {
  const { profile, endpoints } = buildProfile(draft);
  const written = await saveProfile(loc, name, profile, secret);
  return { endpoints, ...written };
}
