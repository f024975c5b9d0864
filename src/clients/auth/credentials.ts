/**
 * Loads the credential named by the settings: a secret (env or 0600 file), a certificate (PEM or PFX/PKCS#12,
 * thumbprints and notAfter computed, key decrypted in memory only), or a federated token file (re-read on each
 * sign-in). Secret material stays inside the returned object; nothing here logs or formats it, and each secret is
 * registered with the run's `SecretRegistry` the moment it is read, so that nothing the process prints can show it.
 */
import { createHash, createPrivateKey, createPublicKey, X509Certificate } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { stat } from "node:fs/promises";
import forge from "node-forge";
import type { CredentialSource } from "../../core/config/profile.js";
import { isPublisherError, PublisherError } from "../../core/errors.js";
import { readBoundedFile } from "../../platform/fs.js";
import type { SecretRegistry } from "../http/redact.js";

export interface CertificateInfo {
  subject: string;
  issuer: string;
  /** uppercase hex, as the portal shows it */
  thumbprintSha1: string;
  thumbprintSha256: string;
  notBefore: Date;
  notAfter: Date;
  format: "pem" | "pfx";
}

export type MsalCredential =
  | { clientSecret: string }
  | { clientCertificate: { thumbprintSha256: string; privateKey: string; x5c?: string } }
  | { clientAssertion: () => Promise<string> };

export interface LoadedCredential {
  type: CredentialSource["type"];
  /** a human description without secret values, e.g. "client secret from /home/x/.config/…/p.secret" */
  description: string;
  msal: MsalCredential;
  certificate: CertificateInfo | undefined;
  /** a secret's expiry when the profile knows it */
  expiresOn: Date | undefined;
  /** file permissions that are too open (secret file readable by others) */
  warnings: string[];
}

function credentialError(message: string, hint: string, cause?: unknown): PublisherError {
  return new PublisherError("InvalidCredential", message, {
    hint,
    ...(cause === undefined ? {} : { cause }),
  });
}

/** A PEM or PFX file: a certificate chain and its key. */
export const CERTIFICATE_MAX_BYTES = 1024 * 1024;
/** Client secret, key or PFX password files: one line. */
export const SECRET_FILE_MAX_BYTES = 64 * 1024;
/** A federated token file: one JWT (GitHub and Kubernetes tokens are 1–2 KB). */
export const FEDERATED_TOKEN_MAX_BYTES = 64 * 1024;

const READ_HINT = "Check the path in the profile (or the environment variable) and the file's permissions.";

/**
 * Reads a file a credential names with a bounded reader (regular files only, never blocking on a FIFO); a missing or
 * unreadable file is a configuration error as before, a device, FIFO or oversized file is refused (exit 9).
 */
async function readBounded(path: string, what: string, maxBytes: number, hint = READ_HINT): Promise<Buffer> {
  try {
    return await readBoundedFile({ path, what, maxBytes });
  } catch (e) {
    if (isPublisherError(e) && (e.code === "FileNotFound" || e.code === "FileNotReadable")) {
      const cause = e.cause as NodeJS.ErrnoException | undefined;
      throw credentialError(`Cannot read the ${what} ${path} (${cause?.code ?? "error"}).`, hint, cause ?? e);
    }
    throw e;
  }
}

async function readText(path: string, what: string, maxBytes = SECRET_FILE_MAX_BYTES): Promise<string> {
  return (await readBounded(path, what, maxBytes)).toString("utf8").replace(/^\uFEFF/, "");
}

/** A warning when other users may read a file holding a secret or a private key (POSIX modes only). */
async function openModeWarning(path: string, what: string, platform: NodeJS.Platform): Promise<string | undefined> {
  if (platform === "win32") return undefined;
  const mode = (await stat(path)).mode & 0o777;
  return (mode & 0o077) !== 0
    ? `The ${what} ${path} is readable by other users (mode ${mode.toString(8)}); run chmod 600 on it.`
    : undefined;
}

export interface LoadOptions {
  env: NodeJS.ProcessEnv;
  /** a secret given directly (e.g. by the in-process local tenant); never from the command line */
  secretValue?: string | undefined;
  /** how the report names `secretValue` (default: the local tenant's) */
  secretDescription?: string | undefined;
  platform?: NodeJS.Platform;
  /** the run's registry: the secret, key, password and federated tokens are added to it as they are read */
  secrets?: SecretRegistry | undefined;
}

export async function loadCredential(source: CredentialSource, o: LoadOptions): Promise<LoadedCredential> {
  const warnings: string[] = [];
  const platform = o.platform ?? process.platform;
  if (source.type === "secret") {
    let secret: string | undefined;
    let description: string;
    if (source.from === "env") {
      secret = o.env["AZURE_CLIENT_SECRET"];
      description = "client secret from AZURE_CLIENT_SECRET";
    } else if (source.from === "value") {
      secret = o.secretValue;
      description = o.secretDescription ?? "client secret of the local tenant";
    } else {
      secret = (await readText(source.path, "secret file")).replace(/\r?\n$/, "");
      description = `client secret from ${source.path}`;
      const w = await openModeWarning(source.path, "secret file", platform);
      if (w !== undefined) warnings.push(w);
    }
    o.secrets?.add(secret);
    if (secret === undefined || secret.trim() === "") {
      throw credentialError(
        "The client secret is empty.",
        "Store the secret's Value with `intune-publisher connect init`.",
      );
    }
    return {
      type: "secret",
      description,
      msal: { clientSecret: secret },
      certificate: undefined,
      expiresOn: source.expiresOn === undefined ? undefined : new Date(source.expiresOn),
      warnings,
    };
  }
  if (source.type === "federated") {
    const tokenFile = source.tokenFile;
    // Fail early (and clearly) when the file is missing or empty; msal calls the callback on each sign-in.
    const first = (await readText(tokenFile, "federated token file", FEDERATED_TOKEN_MAX_BYTES)).trim();
    o.secrets?.add(first);
    if (first === "")
      throw credentialError(
        `The federated token file ${tokenFile} is empty.`,
        "Check the workload identity / OIDC setup that writes it.",
      );
    return {
      type: "federated",
      description: `federated token from ${tokenFile}`,
      msal: {
        clientAssertion: async () => {
          const token = (await readText(tokenFile, "federated token file", FEDERATED_TOKEN_MAX_BYTES)).trim();
          o.secrets?.add(token);
          return token;
        },
      },
      certificate: undefined,
      expiresOn: undefined,
      warnings,
    };
  }
  let password: string | undefined;
  if (source.password.from === "env") password = o.env["AZURE_CLIENT_CERTIFICATE_PASSWORD"];
  else if (source.password.from === "file") {
    password = (await readText(source.password.path, "certificate password file")).replace(/\r?\n$/, "");
    const w = await openModeWarning(source.password.path, "certificate password file", platform);
    if (w !== undefined) warnings.push(w);
  }
  o.secrets?.add(password);
  const raw = await readBounded(
    source.path,
    "certificate",
    CERTIFICATE_MAX_BYTES,
    "Check the certificate path in the profile or AZURE_CLIENT_CERTIFICATE_PATH.",
  );
  const isPem = raw.includes("-----BEGIN");
  // A PFX always holds the key; a PEM when it has a key block.
  if (!isPem || /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(raw.toString("latin1"))) {
    const w = await openModeWarning(source.path, "certificate file (with its private key)", platform);
    if (w !== undefined) warnings.push(w);
  }
  let certPem: string;
  let key: KeyObject;
  let chainPem: string;
  if (isPem) {
    const text = raw.toString("utf8");
    const certs = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    const keyText =
      source.keyPath === undefined ? text : await readText(source.keyPath, "private key file", CERTIFICATE_MAX_BYTES);
    if (source.keyPath !== undefined) {
      const w = await openModeWarning(source.keyPath, "private key file", platform);
      if (w !== undefined) warnings.push(w);
    }
    const keyPem =
      /-----BEGIN (?:RSA |ENCRYPTED )?PRIVATE KEY-----[\s\S]+?-----END (?:RSA |ENCRYPTED )?PRIVATE KEY-----/.exec(
        keyText,
      )?.[0];
    if (keyPem !== undefined) o.secrets?.add(keyPem);
    if (certs.length === 0)
      throw credentialError(
        `${source.path} holds no certificate.`,
        "Give a PEM file with the certificate (and key), or a .pfx file.",
      );
    if (keyPem === undefined) {
      throw credentialError(
        `No private key was found in ${source.keyPath ?? source.path}.`,
        "Put the PEM private key in the same file as the certificate, or set keyPath in the profile.",
      );
    }
    try {
      key = createPrivateKey({
        key: keyPem,
        format: "pem",
        ...(password === undefined ? {} : { passphrase: password }),
      });
    } catch (e) {
      throw credentialError(
        `The private key in ${source.keyPath ?? source.path} cannot be read${keyPem.includes("ENCRYPTED") ? " (wrong or missing password?)" : ""}.`,
        "Give the key's password with AZURE_CLIENT_CERTIFICATE_PASSWORD or passwordFile in the profile.",
        e,
      );
    }
    const pub = createPublicKey(key).export({ type: "spki", format: "der" });
    certPem =
      certs.find((c) => new X509Certificate(c).publicKey.export({ type: "spki", format: "der" }).equals(pub)) ?? "";
    if (certPem === "") {
      throw credentialError(
        `The private key does not belong to the certificate in ${source.path}.`,
        "Use the key that was generated with this certificate.",
      );
    }
    chainPem = certs.join("\n");
  } else {
    ({ certPem, key, chainPem } = readPfx(raw, password, source.path));
  }
  if (createPublicKey(key).asymmetricKeyType !== "rsa") {
    throw credentialError(
      "The certificate's key is not RSA.",
      "Entra ID client certificates must use RSA keys (2048 bits or more).",
    );
  }
  const privateKey = key.export({ type: "pkcs8", format: "pem" }).toString();
  o.secrets?.add(privateKey);
  const x = new X509Certificate(certPem);
  const info: CertificateInfo = {
    subject: x.subject.replace(/\n/g, ", "),
    issuer: x.issuer.replace(/\n/g, ", "),
    thumbprintSha1: createHash("sha1").update(x.raw).digest("hex").toUpperCase(),
    thumbprintSha256: createHash("sha256").update(x.raw).digest("hex").toUpperCase(),
    notBefore: new Date(x.validFrom),
    notAfter: new Date(x.validTo),
    format: isPem ? "pem" : "pfx",
  };
  return {
    type: "certificate",
    description: `certificate ${info.thumbprintSha1} from ${source.path}`,
    msal: {
      clientCertificate: {
        thumbprintSha256: info.thumbprintSha256,
        privateKey,
        ...(source.sendCertificateChain ? { x5c: chainPem } : {}),
      },
    },
    certificate: info,
    expiresOn: info.notAfter,
    warnings,
  };
}

/** PKCS#12 through node-forge (Node's crypto has no PFX parser). RSA keys only, as Entra requires. */
function readPfx(
  raw: Buffer,
  password: string | undefined,
  path: string,
): { certPem: string; key: KeyObject; chainPem: string } {
  let p12: forge.pkcs12.Pkcs12Pfx;
  try {
    const asn1 = forge.asn1.fromDer(forge.util.createBuffer(raw.toString("binary")));
    p12 = forge.pkcs12.pkcs12FromAsn1(asn1, password ?? "");
  } catch (e) {
    const msg = (e as Error).message ?? "";
    throw credentialError(
      /password|MAC/i.test(msg)
        ? `The PFX password for ${path} is wrong or missing.`
        : `${path} is neither a PEM nor a PFX/PKCS#12 file.`,
      "Give the PFX password with AZURE_CLIENT_CERTIFICATE_PASSWORD or passwordFile in the profile.",
      e,
    );
  }
  const oids = forge.pki.oids;
  const keyBags = [
    ...(p12.getBags({ bagType: oids.pkcs8ShroudedKeyBag })[oids.pkcs8ShroudedKeyBag!] ?? []),
    ...(p12.getBags({ bagType: oids.keyBag })[oids.keyBag!] ?? []),
  ];
  const certBags = p12.getBags({ bagType: oids.certBag })[oids.certBag!] ?? [];
  const keyBag = keyBags[0];
  if (keyBag?.key === undefined || keyBag.key === null) {
    throw credentialError(`${path} holds no RSA private key.`, "Export the PFX with its private key (RSA).");
  }
  const key = createPrivateKey(forge.pki.privateKeyToPem(keyBag.key));
  const pub = createPublicKey(key).export({ type: "spki", format: "der" });
  const pems = certBags.flatMap((b) => (b.cert ? [forge.pki.certificateToPem(b.cert)] : []));
  const certPem = pems.find((c) =>
    new X509Certificate(c).publicKey.export({ type: "spki", format: "der" }).equals(pub),
  );
  if (certPem === undefined) {
    throw credentialError(
      `${path} holds no certificate for its private key.`,
      "Export the PFX with the certificate and its private key.",
    );
  }
  return { certPem, key, chainPem: [certPem, ...pems.filter((c) => c !== certPem)].join("\n") };
}
