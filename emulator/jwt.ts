/** Compact JWS (RS256, PS256) sign and verify with node:crypto; enough for Entra assertions and Graph tokens. */
import { constants, sign, verify } from "node:crypto";
import type { KeyObject, SignKeyObjectInput } from "node:crypto";

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

export type JwsAlgorithm = "RS256" | "PS256";

/** RS256 = RSASSA-PKCS1-v1_5 SHA-256; PS256 = RSASSA-PSS SHA-256, salt 32 (docs/reference/entra-auth.md §5.7). */
function keyFor(alg: JwsAlgorithm, key: KeyObject): KeyObject | SignKeyObjectInput {
  return alg === "RS256" ? key : { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 };
}

export function verifyJwtSignature(jwt: DecodedJwt, key: KeyObject): boolean {
  const alg = jwt.header["alg"];
  if (alg !== "RS256" && alg !== "PS256") return false;
  return verify("sha256", jwt.signingInput, keyFor(alg, key), jwt.signature);
}

function signJwt(
  alg: JwsAlgorithm,
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  key: KeyObject,
): string {
  const input = `${b64(JSON.stringify({ ...header, alg }))}.${b64(JSON.stringify(payload))}`;
  return `${input}.${sign("sha256", Buffer.from(input), keyFor(alg, key)).toString("base64url")}`;
}

export const signJwtRs256 = (header: Record<string, unknown>, payload: Record<string, unknown>, key: KeyObject) =>
  signJwt("RS256", header, payload, key);

export const signJwtPs256 = (header: Record<string, unknown>, payload: Record<string, unknown>, key: KeyObject) =>
  signJwt("PS256", header, payload, key);

const b64 = (s: string): string => Buffer.from(s, "utf8").toString("base64url");
