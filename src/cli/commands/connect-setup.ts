import { access, chmod, link, unlink, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { z } from "zod";
import { CLOUD_NAMES } from "../../core/config/clouds.js";
import { setupPlan } from "../../core/config/setup.js";
import { PublisherError } from "../../core/errors.js";
import { createSelfSignedCertificate } from "../../clients/auth/self-signed.js";
import { defineCommand } from "../command.js";
import { option } from "../options.js";

/** Writes a complete file under a temporary name, then links it into place: fails with EEXIST, never overwrites. */
async function writeNew(path: string, data: string, mode: number): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, data, { mode, flag: "wx" });
  try {
    await chmod(tmp, mode);
    await link(tmp, path);
  } finally {
    await unlink(tmp);
  }
}

export default defineCommand({
  description: [
    "Prints the requiredResourceAccess JSON (Microsoft Graph app id and the six application-permission ids), an",
    "Azure CLI script for the chosen cloud (app, service principal, permissions, admin consent, credential) and the",
    "admin-consent URL. Nothing is changed in any tenant.",
  ].join("\n"),
  options: z.object({
    cloud: option(z.enum(CLOUD_NAMES).default("global"), {
      value: "C",
      help: "global (default) | usgov | usgov-dod | china | custom | local",
    }),
    name: option(z.string().min(1).default("intune-publisher"), {
      value: "N",
      help: "display name of the app registration (default: intune-publisher)",
    }),
    tenant: option(z.string().min(1).optional(), { value: "T", help: "fills the consent URL and script" }),
    clientId: option(z.string().min(1).optional(), { value: "ID", help: "fills the consent URL and script" }),
    profile: option(z.string().min(1).default("default"), {
      short: "p",
      value: "P",
      help: "profile name used in the script's `connect init` line (default: default)",
    }),
    certificate: option(z.string().min(1).optional(), {
      value: "FILE",
      help:
        "write a new self-signed certificate: FILE (certificate + private key, mode 0600, for the profile) and " +
        "FILE with extension .cer (public certificate, to upload)",
    }),
  }),
  async run(ctx, o) {
    let certificate:
      { keyAndCertificate: string; publicCertificate: string; thumbprintSha1: string; notAfter: string } | undefined;
    if (o.certificate !== undefined) {
      const path = resolve(ctx.cwd, o.certificate);
      const cerPath = path.replace(/\.[^./\\]*$/, "") + ".cer";
      if (cerPath === path)
        throw new PublisherError("Usage", "--certificate must not end in .cer.", {
          hint: "Use e.g. --certificate intune-publisher.pem.",
        });
      const exists = async (p: string): Promise<boolean> =>
        access(p).then(
          () => true,
          () => false,
        );
      if ((await exists(path)) || (await exists(cerPath))) {
        throw new PublisherError("Exists", `${path} or ${cerPath} already exists.`, {
          hint: "Choose another file name; existing keys are never overwritten.",
        });
      }
      const c = await createSelfSignedCertificate({ subject: o.name });
      try {
        await writeNew(path, c.certPem + c.keyPem, 0o600);
        await writeNew(cerPath, c.certPem, 0o644);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "EEXIST") {
          throw new PublisherError("Exists", `${path} or ${cerPath} already exists.`, {
            hint: "Choose another file name; existing keys are never overwritten.",
          });
        }
        throw e;
      }
      certificate = {
        keyAndCertificate: path,
        publicCertificate: cerPath,
        thumbprintSha1: c.thumbprintSha1,
        notAfter: c.notAfter.toISOString(),
      };
    }
    const plan = setupPlan({
      cloud: o.cloud,
      name: o.name,
      tenant: o.tenant,
      clientId: o.clientId,
      certificateFile: certificate?.publicCertificate,
      privateKeyFile: certificate?.keyAndCertificate,
      profile: o.profile,
    });
    if (ctx.output === "json") {
      ctx.stdout.write(JSON.stringify({ ...plan, certificate }, null, 2) + "\n");
      return 0;
    }
    const out: string[] = [
      "# requiredResourceAccess (app manifest, or `az ad app create --required-resource-accesses @file`)",
      JSON.stringify(plan.requiredResourceAccess, null, 2),
      "",
    ];
    if (plan.azureCliScript) out.push("# Azure CLI script", plan.azureCliScript);
    if (plan.adminConsentUrl) out.push("# Admin-consent URL", plan.adminConsentUrl, "");
    if (certificate) {
      out.push(
        "# Certificate",
        `Private key + certificate (keep private, mode 0600): ${certificate.keyAndCertificate}`,
        `Public certificate to upload: ${certificate.publicCertificate}`,
        `Thumbprint (SHA-1): ${certificate.thumbprintSha1}`,
        `Expires: ${certificate.notAfter}`,
        "",
      );
    }
    for (const n of plan.notes) out.push(`note: ${n}`);
    ctx.stdout.write(out.join("\n") + "\n");
    return 0;
  },
});
