/**
 * A self-signed RSA certificate for app-registration certificate auth (`connect setup --certificate`), made by the
 * project's certificate helper (`src/platform/certificates.ts`).
 */
import { createSelfSignedCertificate as createCertificate } from "../../platform/certificates.js";

export interface SelfSignedCertificate {
  certPem: string;
  /** PKCS#8 PEM; keep it private */
  keyPem: string;
  thumbprintSha1: string;
  notAfter: Date;
}

/** Valid from five minutes before `now` (clock skew) for `days` days (default 365); client authentication only. */
export async function createSelfSignedCertificate(opts: {
  subject: string;
  days?: number;
  now?: Date;
}): Promise<SelfSignedCertificate> {
  const now = opts.now ?? new Date();
  const c = await createCertificate({
    subject: opts.subject,
    notBefore: new Date(now.getTime() - 5 * 60_000),
    notAfter: new Date(now.getTime() + (opts.days ?? 365) * 86_400_000),
    extendedKeyUsage: ["clientAuth"],
  });
  return { certPem: c.certPem, keyPem: c.keyPem, thumbprintSha1: c.thumbprintSha1, notAfter: c.notAfter };
}
