/**
 * A client certificate given as file content (the console's upload) instead of a path: checked exactly as the CLI
 * loads a certificate (src/clients/auth/credentials.ts), then kept where the CLI keeps credentials — the secrets
 * folder beside the profiles file, `<profile>.certificate.pem|pfx` and `<profile>.certificate-password`, mode 0600
 * in a 0700 folder — and the profile names that file like any `connect init --certificate FILE`.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, win32 } from "node:path";
import { loadCredential } from "../../clients/auth/credentials.js";
import type { LoadedCredential } from "../../clients/auth/credentials.js";
import type { SecretRegistry } from "../../clients/http/redact.js";
import type { ConfigPaths, CredentialSource } from "../../core/config/profile.js";
import { PublisherError } from "../../core/errors.js";
import { writeAtomic } from "./config-store.js";

/** An uploaded certificate file: PEM (certificate and key) or PFX. */
export const UPLOADED_CERTIFICATE_MAX_BYTES = 32 * 1024;

export interface CertificateUpload {
  bytes: Buffer;
  /** the PFX or key password */
  password?: string | undefined;
  sendCertificateChain?: boolean | undefined;
}

function extension(u: CertificateUpload): "pem" | "pfx" {
  return u.bytes.includes("-----BEGIN") ? "pem" : "pfx";
}

function checkSize(u: CertificateUpload): void {
  if (u.bytes.length === 0)
    throw new PublisherError("InvalidCredential", "The uploaded certificate file is empty.", {
      hint: "Choose the PEM (certificate and private key) or PFX file of the app registration's certificate.",
    });
  if (u.bytes.length > UPLOADED_CERTIFICATE_MAX_BYTES)
    throw new PublisherError(
      "InvalidCredential",
      `The uploaded certificate file is ${u.bytes.length} bytes; at most ${UPLOADED_CERTIFICATE_MAX_BYTES} are accepted.`,
      { hint: "Upload the certificate and its key only (no long chain), or give the file's path instead." },
    );
}

/**
 * Runs `fn` with the upload written to a private temporary folder (0700, files 0600) as the credential the CLI
 * would load; the folder is removed afterwards. For a test of an unsaved form.
 */
export async function withUploadedCertificate<T>(
  u: CertificateUpload,
  fn: (source: Extract<CredentialSource, { type: "certificate" }>) => Promise<T>,
): Promise<T> {
  checkSize(u);
  const dir = await mkdtemp(join(tmpdir(), "intune-publisher-certificate-"));
  try {
    const path = join(dir, `certificate.${extension(u)}`);
    await writeFile(path, u.bytes, { mode: 0o600 });
    let password: Extract<CredentialSource, { type: "certificate" }>["password"] = { from: "none" };
    if (u.password !== undefined) {
      const passwordPath = join(dir, "password");
      await writeFile(passwordPath, `${u.password}\n`, { mode: 0o600 });
      password = { from: "file", path: passwordPath };
    }
    return await fn({
      type: "certificate",
      path,
      keyPath: undefined,
      password,
      sendCertificateChain: u.sendCertificateChain === true,
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Loads the upload as the CLI loads a certificate: a file without a certificate or key fails with its message. */
export function checkUploadedCertificate(
  u: CertificateUpload,
  o: { env: NodeJS.ProcessEnv; secrets?: SecretRegistry | undefined },
): Promise<LoadedCredential> {
  return withUploadedCertificate(u, (source) => loadCredential(source, { env: {}, secrets: o.secrets }));
}

/** Checks the upload, then stores it (and its password) for profile `name`; returns the files to name in the profile. */
export async function storeUploadedCertificate(
  paths: ConfigPaths,
  name: string,
  u: CertificateUpload,
  o: { env: NodeJS.ProcessEnv; secrets?: SecretRegistry | undefined; platform?: NodeJS.Platform },
): Promise<{ path: string; passwordFile: string | undefined }> {
  await checkUploadedCertificate(u, o);
  const j = (o.platform ?? process.platform) === "win32" ? win32.join : join;
  await mkdir(paths.secretsDir, { recursive: true, mode: 0o700 });
  const path = j(paths.secretsDir, `${name}.certificate.${extension(u)}`);
  await writeAtomic(path, u.bytes, 0o600);
  let passwordFile: string | undefined;
  if (u.password !== undefined) {
    passwordFile = j(paths.secretsDir, `${name}.certificate-password`);
    await writeAtomic(passwordFile, `${u.password}\n`, 0o600);
  }
  return { path, passwordFile };
}
