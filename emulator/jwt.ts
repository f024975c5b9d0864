/** Compact JWS (RS256, PS256) sign and verify with node:crypto; enough for Entra assertions and Graph tokens. */
import { constants, sign, verify } from "node:crypto";
import type { KeyObject } from "node:crypto";

export interface DecodedJwt {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  signingInput: Buffer;
  signature: Buffer;
}

/** Splits and JSON-decodes a compact JWT; undefined when it is not one. */
export function decodeJwt(token: string): DecodedJwt | undefined {
  const parts = token.split(".");
  if (parts.length !== 3) return undefined;
  const [h, p, s] = parts as [string, string, string];
  try {
    const header = JSON.parse(Buffer.from(h, "base64url").toString("utf8")) as unknown;
    const payload = JSON.parse(Buffer.from(p, "base64url").toString("utf8")) as unknown;
    if (!isObject(header) || !isObject(payload)) return undefined;
    return { header, payload, signingInput: Buffer.from(`${h}.${p}`), signature: Buffer.from(s, "base64url") };
  } catch {
    return undefined;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** RS256 = RSASSA-PKCS1-v1_5 SHA-256; PS256 = RSASSA-PSS SHA-256, salt 32 (local-stack-notes §2.4). */
export function verifyJwtSignature(jwt: DecodedJwt, key: KeyObject): boolean {
  const alg = jwt.header["alg"];
  if (alg === "RS256") return verify("sha256", jwt.signingInput, key, jwt.signature);
  if (alg === "PS256") {
    return verify(
      "sha256",
      jwt.signingInput,
      { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
      jwt.signature,
    );
  }
  return false;
}

export function signJwtRs256(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  key: KeyObject,
): string {
  const input = `${b64(JSON.stringify({ ...header, alg: "RS256" }))}.${b64(JSON.stringify(payload))}`;
  return `${input}.${sign("sha256", Buffer.from(input), key).toString("base64url")}`;
}

export function signJwtPs256(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  key: KeyObject,
): string {
  const input = `${b64(JSON.stringify({ ...header, alg: "PS256" }))}.${b64(JSON.stringify(payload))}`;
  const sig = sign("sha256", Buffer.from(input), { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
  return `${input}.${sig.toString("base64url")}`;
}

const b64 = (s: string): string => Buffer.from(s, "utf8").toString("base64url");
