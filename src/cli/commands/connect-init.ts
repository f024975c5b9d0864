import { createInterface } from "node:readline/promises";
import { Writable } from "node:stream";
import { resolve } from "node:path";
import { z } from "zod";
import { CLOUD_NAMES, normalizeTenant, resolveEndpoints } from "../../core/config/clouds.js";
import { profileSchema } from "../../core/config/profile.js";
import type { CredentialConfig, Profile } from "../../core/config/profile.js";
import { PublisherError } from "../../core/errors.js";
import { saveProfile } from "../../publish/connect/config-store.js";
import { defineCommand } from "../command.js";
import type { CommandContext } from "../command.js";
import { keyValueTable, printData } from "../output.js";
import { writeRaw } from "../safe-output.js";
import { settingsFlags } from "./connect-test.js";

// The connection flags every command shares, minus `--state` (init writes a profile, it never looks for a tenant).
const { state: _state, ...connectionFlags } = settingsFlags;

function usage(message: string, hint?: string): PublisherError {
  return new PublisherError("usage", "Usage", message, hint === undefined ? {} : { hint });
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === "string" ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}

/** Prompts on the terminal; `hidden` does not echo what is typed (secrets). */
async function prompt(ctx: CommandContext, question: string, hidden = false): Promise<string> {
  let muted = false;
  const output = new Writable({
    write(chunk: Buffer, _enc, done) {
      // readline's prompt and echo of the typed answer, with its cursor sequences: written as they are
      if (!muted) writeRaw(ctx.stderr, chunk);
      done();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  try {
    const answer = rl.question(question);
    muted = hidden;
    const value = await answer;
    if (hidden) ctx.stderr.write("\n");
    return value.trim();
  } finally {
    rl.close();
  }
}

export default defineCommand({
  name: "connect init",
  summary: "Create or update a tenant profile (flags for scripts; prompts only on a terminal)",
  usage:
    "connect init [--profile NAME] --tenant T --client-id ID [--cloud C] (--secret-stdin | --secret-env | --certificate FILE | --federated-token-file FILE)",
  details: [
    "Writes the profile to the profiles file (default: <user config folder>/intune-publisher/config.yaml, or --config)",
    "and a client secret to its own file (mode 0600) beside it; the secret is never written into the profiles file",
    "and never accepted as a command-line value.",
    "",
    "  -p, --profile NAME            profile name (default: default)",
    "      --config FILE             the profiles file",
    "      --cloud C                 global (default) | usgov | usgov-dod | china | custom | local",
    "      --tenant T                tenant ID or verified domain",
    "      --client-id ID            application (client) ID",
    "      --authority-host URL, --token-audience URL, --graph-base-url URL   endpoint overrides",
    "      --secret-stdin            read the client secret from standard input",
    "      --secret-env              store the value of AZURE_CLIENT_SECRET",
    "      --secret-expires-on DATE  the secret's expiry (connect test warns 30 days ahead)",
    "      --certificate FILE        PEM (certificate + key) or PFX; --key FILE for a separate PEM key",
    "      --certificate-password-file FILE   the PFX/key password (else AZURE_CLIENT_CERTIFICATE_PASSWORD)",
    "      --federated-token-file FILE        workload identity / GitHub OIDC token file",
    "      --ca-certificate FILE     an extra CA to trust;  --proxy URL  http://host:port",
    "                                (a password in it goes to secrets/<profile>.proxy-password, 0600, not the profile)",
    "On a terminal, missing values are asked for (the secret without echo).",
  ].join("\n"),
  flags: {
    ...connectionFlags,
    "secret-stdin": { type: "boolean" },
    "secret-env": { type: "boolean" },
    "secret-expires-on": { type: "string" },
    certificate: { type: "string" },
    key: { type: "string" },
    "certificate-password-file": { type: "string" },
    "send-certificate-chain": { type: "boolean" },
    "federated-token-file": { type: "string" },
  },
  schema: z.object({
    profile: z
      .string()
      .regex(/^[A-Za-z0-9._-]+$/, "must use letters, digits, . _ -")
      .default("default"),
    config: z.string().min(1).optional(),
    cloud: z.enum(CLOUD_NAMES).default("global"),
    tenant: z.string().min(1).optional(),
    "client-id": z.string().min(1).optional(),
    "authority-host": z.string().min(1).optional(),
    "token-audience": z.string().min(1).optional(),
    "graph-base-url": z.string().min(1).optional(),
    "secret-stdin": z.boolean().optional(),
    "secret-env": z.boolean().optional(),
    "secret-expires-on": z.string().min(1).optional(),
    certificate: z.string().min(1).optional(),
    key: z.string().min(1).optional(),
    "certificate-password-file": z.string().min(1).optional(),
    "send-certificate-chain": z.boolean().optional(),
    "federated-token-file": z.string().min(1).optional(),
    "ca-certificate": z.string().min(1).optional(),
    proxy: z.string().min(1).optional(),
  }),
  async run(ctx, o) {
    const interactive = process.stdin.isTTY === true && ctx.stderr.isTTY === true && !o["secret-stdin"];
    let tenant = o.tenant;
    let clientId = o["client-id"];
    if (tenant === undefined && interactive)
      tenant = await prompt(ctx, "Tenant ID or domain (e.g. contoso.onmicrosoft.com): ");
    if (clientId === undefined && interactive) clientId = await prompt(ctx, "Application (client) ID: ");
    if (!tenant) throw usage("--tenant is required.", "Give the tenant ID or a verified domain.");
    if (!clientId) throw usage("--client-id is required.", "Give the application (client) ID of the app registration.");
    normalizeTenant(tenant);

    const chosen = [o["secret-stdin"], o["secret-env"], o.certificate, o["federated-token-file"]].filter(
      (x) => x !== undefined && x !== false,
    ).length;
    if (chosen > 1)
      throw usage("Choose one credential: --secret-stdin, --secret-env, --certificate or --federated-token-file.");
    let secret: string | undefined;
    let credential: CredentialConfig;
    const abs = (p: string): string => resolve(ctx.cwd, p);
    if (o.certificate !== undefined) {
      credential = {
        type: "certificate",
        path: abs(o.certificate),
        ...(o.key === undefined ? {} : { keyPath: abs(o.key) }),
        ...(o["certificate-password-file"] === undefined ? {} : { passwordFile: abs(o["certificate-password-file"]) }),
        ...(o["send-certificate-chain"] ? { sendCertificateChain: true } : {}),
      };
    } else if (o["federated-token-file"] !== undefined) {
      credential = { type: "federated", tokenFile: abs(o["federated-token-file"]) };
    } else {
      if (o["secret-stdin"]) secret = (await readAll(process.stdin)).replace(/\r?\n$/, "");
      else if (o["secret-env"]) secret = ctx.env["AZURE_CLIENT_SECRET"];
      else if (interactive) secret = await prompt(ctx, "Client secret Value (not the Secret ID; not shown): ", true);
      else {
        throw usage(
          "No credential given.",
          "Use --secret-stdin, --secret-env, --certificate FILE or --federated-token-file FILE.",
        );
      }
      ctx.secrets?.add(secret);
      if (secret === undefined || secret.trim() === "") throw usage("The client secret is empty.");
      credential = {
        type: "secret",
        ...(o["secret-expires-on"] === undefined ? {} : { expiresOn: o["secret-expires-on"] }),
      };
    }
    const draft = {
      tenant,
      clientId,
      cloud: o.cloud,
      ...(o["authority-host"] === undefined ? {} : { authorityHost: o["authority-host"] }),
      ...(o["token-audience"] === undefined ? {} : { tokenAudience: o["token-audience"] }),
      ...(o["graph-base-url"] === undefined ? {} : { graphBaseUrl: o["graph-base-url"] }),
      credential,
      ...(o["ca-certificate"] === undefined ? {} : { caCertificate: abs(o["ca-certificate"]) }),
      ...(o.proxy === undefined ? {} : { proxy: o.proxy }),
    };
    const parsed = profileSchema.safeParse(draft);
    if (!parsed.success) {
      const i = parsed.error.issues[0];
      throw new PublisherError(
        "config",
        "InvalidProfile",
        `The profile is not valid: ${i?.path.join(".")} ${i?.message}.`,
        {
          hint: "Check the values given.",
        },
      );
    }
    const profile: Profile = parsed.data;
    // Fails now (exit 8) rather than at the first publish when an endpoint is missing or malformed.
    const ep = resolveEndpoints({
      ...profile,
      authorityHost: profile.authorityHost,
      tokenAudience: profile.tokenAudience,
      graphBaseUrl: profile.graphBaseUrl,
    });
    const written = await saveProfile(
      { env: ctx.env, configFile: o.config === undefined ? undefined : abs(o.config) },
      o.profile,
      profile,
      secret,
    );
    const data = {
      profile: o.profile,
      configFile: written.configFile,
      secretFile: written.secretFile,
      proxyPasswordFile: written.proxyPasswordFile,
      cloud: ep.cloud,
      authority: ep.authority,
      tokenAudience: ep.tokenAudience,
      graphBaseUrl: ep.graphBaseUrl,
      credential: credential.type,
    };
    printData(ctx, data, () => keyValueTable(Object.entries(data)));
    ctx.stderr.write(`Saved. Next: intune-publisher connect test --profile ${o.profile}\n`);
    return 0;
  },
});
