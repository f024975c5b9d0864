/**
 * The options that name a tenant, shared by every command that talks to one (`connect test`, `publish`, `apps …`,
 * `rollback`), and what they become: the input of src/publish/target.ts, with the local tenant launcher wired in.
 */
import { resolve } from "node:path";
import { z } from "zod";
import { defaultEmulatorStateDir } from "../publish/connect/local-tenant.js";
import { localTenantLauncher } from "../publish/connect/local-tenant-launcher.js";
import type { TargetInput } from "../publish/target.js";
import type { CommandContext } from "./command.js";
import { option } from "./options.js";

const group =
  "Tenant options (each overrides the profile; environment: AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, " +
  "AZURE_CLIENT_CERTIFICATE_PATH, AZURE_CLIENT_CERTIFICATE_PASSWORD, AZURE_FEDERATED_TOKEN_FILE, " +
  "AZURE_AUTHORITY_HOST, HTTPS_PROXY, NO_PROXY)";
const text = (): z.ZodOptional<z.ZodString> => z.string().min(1).optional();

export const tenantOptions = z.object({
  profile: option(text(), {
    short: "p",
    value: "NAME",
    group,
    help: "the profile (default: the file's defaultProfile)",
  }),
  config: option(text(), {
    value: "FILE",
    group,
    help: "the profiles file (default: <user config folder>/intune-publisher/config.yaml)",
  }),
  cloud: option(text(), { value: "C", group, help: "global | usgov | usgov-dod | china | custom | local" }),
  tenant: option(text(), { value: "T", group, help: "tenant ID or verified domain" }),
  clientId: option(text(), { value: "ID", group, help: "application (client) ID" }),
  authorityHost: option(text(), { value: "URL", group, help: "endpoint override: the Entra ID authority host" }),
  tokenAudience: option(text(), { value: "URL", group, help: "endpoint override: the audience of Graph tokens" }),
  graphBaseUrl: option(text(), { value: "URL", group, help: "endpoint override: the Graph base URL" }),
  caCertificate: option(text(), {
    value: "FILE",
    group,
    help: "an extra CA to trust (TLS-inspecting proxy, local tenant)",
  }),
  proxy: option(text(), { value: "URL", group, help: "http://host:port" }),
  state: option(text(), {
    value: "DIR",
    group,
    help:
      "the emulator state folder to look in for a running local tenant (with --cloud local, or nothing configured; " +
      "default: $INTUNE_PUBLISHER_EMULATOR_STATE, else the user's state folder)",
  }),
});

export type TenantOptions = z.output<typeof tenantOptions>;

/** Which tenant the options name, for src/publish/target.ts. The option keys are the settings loader's flag names. */
export function targetInput(
  ctx: CommandContext,
  o: TenantOptions,
  onNote: (line: string) => void = (line) => ctx.stderr.write(`${line}\n`),
): TargetInput {
  return {
    env: ctx.env,
    configFile: o.config === undefined ? undefined : resolve(ctx.cwd, o.config),
    flags: o,
    stateDir: o.state === undefined ? defaultEmulatorStateDir(ctx.env) : resolve(ctx.cwd, o.state),
    launcher: localTenantLauncher,
    onNote,
  };
}
