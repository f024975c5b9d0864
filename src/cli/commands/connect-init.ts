import { createInterface } from "node:readline/promises";
import { Writable } from "node:stream";
import { resolve } from "node:path";
import { z } from "zod";
import { CLOUD_NAMES, normalizeTenant } from "../../core/config/clouds.js";
import type { CredentialConfig } from "../../core/config/profile.js";
import { PublisherError } from "../../core/errors.js";
import { saveProfileDraft } from "../../publish/connect/profile-draft.js";
import { defineCommand } from "../command.js";
import type { CommandContext } from "../command.js";
import { option } from "../options.js";
import { keyValueTable, printData } from "../output.js";
import { writeRaw } from "../safe-output.js";

function usage(message: string, hint?: string): PublisherError {
  return new PublisherError("Usage", message, hint === undefined ? {} : { hint });
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

const text = (): z.ZodOptional<z.ZodString> => z.string().min(1).optional();
const file = (help: string): z.ZodOptional<z.ZodString> => option(text(), { value: "FILE", help });
const url = (help: string): z.ZodOptional<z.ZodString> => option(text(), { value: "URL", help });

export default defineCommand({
  description: [
    "Writes the profile to the profiles file (default: <user config folder>/intune-publisher/config.yaml, or --config)",
    "and a client secret to its own file (mode 0600) beside it; the secret is never written into the profiles file",
    "and never accepted as a command-line value. One credential: --secret-stdin, --secret-env, --certificate FILE or",
    "--federated-token-file FILE.",
  ].join("\n"),
  notes: "On a terminal, missing values are asked for (the secret without echo).",
  options: z.object({
    profile: option(
      z
        .string()
        .regex(/^[A-Za-z0-9._-]+$/, "must use letters, digits, . _ -")
        .default("default"),
      { short: "p", value: "NAME", help: "profile name (default: default)" },
    ),
    config: file("the profiles file"),
    cloud: option(z.enum(CLOUD_NAMES).optional(), {
      value: "C",
      help: "global (default; asked on a terminal) | usgov | usgov-dod | china | custom | local",
    }),
    tenant: option(text(), { value: "T", help: "tenant ID or verified domain" }),
    clientId: option(text(), { value: "ID", help: "application (client) ID" }),
    authorityHost: url("endpoint override: the Entra ID authority host"),
    tokenAudience: url("endpoint override: the audience of Graph tokens"),
    graphBaseUrl: url("endpoint override: the Graph base URL"),
    secretStdin: option(z.boolean().default(false), { help: "read the client secret from standard input" }),
    secretEnv: option(z.boolean().default(false), { help: "store the value of AZURE_CLIENT_SECRET" }),
    secretExpiresOn: option(text(), {
      value: "DATE",
      help: "the secret's expiry (connect test warns 30 days ahead)",
    }),
    certificate: file("PEM (certificate + key) or PFX; --key FILE for a separate PEM key"),
    key: file("the private key of a PEM certificate, when it is in a file of its own"),
    certificatePasswordFile: file("the PFX/key password (else AZURE_CLIENT_CERTIFICATE_PASSWORD)"),
    sendCertificateChain: option(z.boolean().default(false), {
      help: "send the certificate chain (x5c) with each sign-in (subject name and issuer authentication)",
    }),
    federatedTokenFile: file("workload identity / GitHub OIDC token file"),
    caCertificate: file("an extra CA to trust"),
    proxy: url("http://host:port (a password in it goes to secrets/<profile>.proxy-password, 0600, not the profile)"),
  }),
  async run(ctx, o) {
    const interactive = process.stdin.isTTY === true && ctx.stderr.isTTY === true && !o.secretStdin;
    let tenant = o.tenant;
    let clientId = o.clientId;
    let cloud: (typeof CLOUD_NAMES)[number] = o.cloud ?? "global";
    if (o.cloud === undefined && interactive) {
      const answer = await prompt(ctx, "Cloud: global, usgov (GCC High), usgov-dod (DoD), china [global]: ");
      if (answer !== "") {
        const c = CLOUD_NAMES.find((n) => n === answer.toLowerCase());
        if (c === undefined) throw usage(`Unknown cloud "${answer}".`, `Answer one of: ${CLOUD_NAMES.join(", ")}.`);
        cloud = c;
      }
    }
    if (tenant === undefined && interactive)
      tenant = await prompt(ctx, "Tenant ID or domain (e.g. contoso.onmicrosoft.com): ");
    if (clientId === undefined && interactive) clientId = await prompt(ctx, "Application (client) ID: ");
    if (!tenant) throw usage("--tenant is required.", "Give the tenant ID or a verified domain.");
    if (!clientId) throw usage("--client-id is required.", "Give the application (client) ID of the app registration.");
    normalizeTenant(tenant);

    const chosen = [o.secretStdin, o.secretEnv, o.certificate, o.federatedTokenFile].filter(
      (x) => x !== undefined && x !== false,
    ).length;
    if (chosen > 1)
      throw usage("Choose one credential: --secret-stdin, --secret-env, --certificate or --federated-token-file.");
    let secret: string | undefined;
    let credential: CredentialConfig;
    const abs = (p: string): string => resolve(ctx.cwd, p);
    let certificate = o.certificate;
    let federatedTokenFile = o.federatedTokenFile;
    let secretExpiresOn = o.secretExpiresOn;
    if (chosen === 0 && interactive) {
      const kind = (await prompt(ctx, "Credential: secret, certificate, federated [secret]: ")).toLowerCase();
      if (kind === "certificate") certificate = await prompt(ctx, "Certificate file (PEM with its key, or PFX): ");
      else if (kind === "federated") federatedTokenFile = await prompt(ctx, "Federated token file: ");
      else if (kind !== "" && kind !== "secret")
        throw usage(`Unknown credential type "${kind}".`, "Answer secret, certificate or federated.");
      if (certificate === "" || federatedTokenFile === "") throw usage("No file given for the credential.");
    }
    if (certificate !== undefined) {
      credential = {
        type: "certificate",
        path: abs(certificate),
        ...(o.key === undefined ? {} : { keyPath: abs(o.key) }),
        ...(o.certificatePasswordFile === undefined ? {} : { passwordFile: abs(o.certificatePasswordFile) }),
        ...(o.sendCertificateChain ? { sendCertificateChain: true } : {}),
      };
    } else if (federatedTokenFile !== undefined) {
      credential = { type: "federated", tokenFile: abs(federatedTokenFile) };
    } else {
      if (o.secretStdin) secret = (await readAll(process.stdin)).replace(/\r?\n$/, "");
      else if (o.secretEnv) secret = ctx.env["AZURE_CLIENT_SECRET"];
      else if (interactive) secret = await prompt(ctx, "Client secret Value (not the Secret ID; not shown): ", true);
      else {
        throw usage(
          "No credential given.",
          "Use --secret-stdin, --secret-env, --certificate FILE or --federated-token-file FILE.",
        );
      }
      ctx.secrets?.add(secret);
      if (secret === undefined || secret.trim() === "") throw usage("The client secret is empty.");
      if (secretExpiresOn === undefined && interactive) {
        const date = await prompt(ctx, "Secret expires on (YYYY-MM-DD, as the portal shows; Enter if unknown): ");
        if (date !== "") secretExpiresOn = date;
      }
      credential = {
        type: "secret",
        ...(secretExpiresOn === undefined ? {} : { expiresOn: secretExpiresOn }),
      };
    }
    const { endpoints: ep, ...written } = await saveProfileDraft(
      { env: ctx.env, configFile: o.config === undefined ? undefined : abs(o.config) },
      o.profile,
      {
        tenant,
        clientId,
        cloud,
        authorityHost: o.authorityHost,
        tokenAudience: o.tokenAudience,
        graphBaseUrl: o.graphBaseUrl,
        credential,
        caCertificate: o.caCertificate === undefined ? undefined : abs(o.caCertificate),
        proxy: o.proxy,
      },
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
