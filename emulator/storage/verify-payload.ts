// Commit-time checks of an uploaded .intunewin payload (docs/reference/intunewin-format.md §1.4,
// docs/reference/graph-win32-upload.md §2.7, §4 items 16–19). Pure: the caller supplies the blob's bytes as a stream,
// so nothing here loads the whole payload.
import { createDecipheriv, createHash, createHmac, timingSafeEqual } from "node:crypto";

/** `fileEncryptionInfo` of the commit body: base64 strings as Graph sends them (§2.7). */
export interface FileEncryptionInfoWire {
  encryptionKey: string;
  macKey: string;
  initializationVector: string;
  mac: string;
  profileIdentifier: string;
  fileDigest: string;
  fileDigestAlgorithm: string;
}

/** Which check failed; stable names for logs and tests (the `reason` sentence is for people). */
export type VerificationCheck =
  | "expectedSizes"
  | "encryptionInfo"
  | "blobMissing"
  | "blobNotCommitted"
  | "blobLength"
  | "payloadShape"
  | "macHeader"
  | "ivHeader"
  | "hmac"
  | "padding"
  | "plaintextLength"
  | "fileDigest";

export type VerificationResult = { ok: true } | { ok: false; check: VerificationCheck; reason: string };

export interface ExpectedContent {
  sizeEncrypted: number;
  size: number;
  fileEncryptionInfo: FileEncryptionInfoWire;
}

/** Decoded key material, produced by checkEncryptionInfo. */
export interface DecodedEncryptionInfo {
  encryptionKey: Buffer;
  macKey: Buffer;
  iv: Buffer;
  mac: Buffer;
  fileDigest: Buffer;
}

const MAC_LENGTH = 32;
const IV_LENGTH = 16;
const HEADER_LENGTH = MAC_LENGTH + IV_LENGTH; // §1.4: tag ‖ IV ‖ ciphertext
const AES_BLOCK = 16;

const STANDARD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function fail(check: VerificationCheck, reason: string): VerificationResult & { ok: false } {
  return { ok: false, check, reason };
}

/** Strict RFC 4648 base64 with padding and no whitespace (§1.4 "Text encoding of binary values"). */
export function decodeStrictBase64(value: string): Buffer | undefined {
  return STANDARD_BASE64.test(value) ? Buffer.from(value, "base64") : undefined;
}

/** The sizes the file was registered with must be non-negative safe integers (§2.4). */
export function checkExpectedSizes(expected: { size: unknown; sizeEncrypted: unknown }): VerificationResult {
  for (const name of ["size", "sizeEncrypted"] as const) {
    const v = expected[name];
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
      return fail("expectedSizes", `The registered ${name} (${String(v)}) is not a non-negative integer.`);
    }
  }
  return { ok: true };
}

/**
 * Field checks documented for fileEncryptionInfo (Graph reference, fileEncryptionInfo; §2.7, §4 item 16): literals,
 * strict base64, and decoded lengths (keys 32, IV 16, mac 32, digest 32).
 */
export function checkEncryptionInfo(
  info: FileEncryptionInfoWire,
): { ok: true; decoded: DecodedEncryptionInfo } | (VerificationResult & { ok: false }) {
  if (info.profileIdentifier !== "ProfileVersion1") {
    return fail(
      "encryptionInfo",
      `fileEncryptionInfo.profileIdentifier is ${JSON.stringify(info.profileIdentifier)}; only "ProfileVersion1" is supported.`,
    );
  }
  if (info.fileDigestAlgorithm !== "SHA256") {
    return fail(
      "encryptionInfo",
      `fileEncryptionInfo.fileDigestAlgorithm is ${JSON.stringify(info.fileDigestAlgorithm)}; ProfileVersion1 only supports "SHA256".`,
    );
  }
  const fields = [
    ["encryptionKey", 32],
    ["macKey", 32],
    ["initializationVector", IV_LENGTH],
    ["mac", MAC_LENGTH],
    ["fileDigest", 32],
  ] as const;
  const out: Partial<Record<(typeof fields)[number][0], Buffer>> = {};
  for (const [name, length] of fields) {
    const raw: unknown = info[name];
    if (typeof raw !== "string") return fail("encryptionInfo", `fileEncryptionInfo.${name} is missing.`);
    const bytes = decodeStrictBase64(raw);
    if (bytes === undefined) return fail("encryptionInfo", `fileEncryptionInfo.${name} is not valid base64.`);
    if (bytes.length !== length) {
      return fail(
        "encryptionInfo",
        `fileEncryptionInfo.${name} decodes to ${bytes.length} bytes; it must be ${length} bytes.`,
      );
    }
    out[name] = bytes;
  }
  return {
    ok: true,
    decoded: {
      encryptionKey: out.encryptionKey!,
      macKey: out.macKey!,
      iv: out.initializationVector!,
      mac: out.mac!,
      fileDigest: out.fileDigest!,
    },
  };
}

/** Length checks that need only the blob's size (§4 item 17; §1.4 "Encoded payload size"). */
export function checkBlobLength(blobLength: number, sizeEncrypted: number): VerificationResult {
  if (blobLength !== sizeEncrypted) {
    return fail("blobLength", `The committed blob is ${blobLength} bytes but sizeEncrypted is ${sizeEncrypted}.`);
  }
  if (blobLength < HEADER_LENGTH + AES_BLOCK || (blobLength - HEADER_LENGTH) % AES_BLOCK !== 0) {
    return fail(
      "payloadShape",
      `The committed blob is ${blobLength} bytes: a ProfileVersion1 payload is 48 bytes (MAC and IV) followed by a whole number of 16-byte AES blocks.`,
    );
  }
  return { ok: true };
}

function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Streams a payload once (§1.4 layout, §4 items 18–19): checks the leading tag against `mac`, the IV against
 * `initializationVector`, HMAC-SHA256(macKey, IV ‖ ciphertext) against `mac`, AES-256-CBC/PKCS#7 decryption,
 * the plaintext length against `size`, and SHA-256(plaintext) against `fileDigest`. Stops reading at the first
 * header mismatch. Call checkBlobLength first.
 */
export async function verifyPayloadStream(
  source: AsyncIterable<Uint8Array>,
  expected: { sizeEncrypted: number; size: number },
  key: DecodedEncryptionInfo,
): Promise<VerificationResult> {
  const header = Buffer.alloc(HEADER_LENGTH);
  const hmac = createHmac("sha256", key.macKey);
  const digest = createHash("sha256");
  const decipher = createDecipheriv("aes-256-cbc", key.encryptionKey, key.iv);
  let position = 0;
  let plaintextLength = 0;
  let headerChecked = false;

  for await (const raw of source) {
    const chunk = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    const start = position;
    position += chunk.length;
    if (start < HEADER_LENGTH) chunk.copy(header, start, 0, Math.min(chunk.length, HEADER_LENGTH - start));
    if (position > MAC_LENGTH) hmac.update(chunk.subarray(Math.max(0, MAC_LENGTH - start)));
    if (!headerChecked && position >= HEADER_LENGTH) {
      headerChecked = true;
      if (!sameBytes(header.subarray(0, MAC_LENGTH), key.mac)) {
        return fail("macHeader", "Bytes 0–31 of the blob differ from fileEncryptionInfo.mac.");
      }
      if (!sameBytes(header.subarray(MAC_LENGTH, HEADER_LENGTH), key.iv)) {
        return fail("ivHeader", "Bytes 32–47 of the blob differ from fileEncryptionInfo.initializationVector.");
      }
    }
    if (position > HEADER_LENGTH) {
      const plain = decipher.update(chunk.subarray(Math.max(0, HEADER_LENGTH - start)));
      digest.update(plain);
      plaintextLength += plain.length;
    }
  }

  if (position !== expected.sizeEncrypted) {
    return fail(
      "blobLength",
      `The blob's content was ${position} bytes but sizeEncrypted is ${expected.sizeEncrypted}.`,
    );
  }
  if (!sameBytes(hmac.digest(), key.mac)) {
    return fail(
      "hmac",
      "HMAC-SHA256 with macKey over bytes 32…end of the blob (IV and ciphertext) does not match fileEncryptionInfo.mac: the content was altered, or the MAC was computed differently.",
    );
  }
  try {
    const last = decipher.final();
    digest.update(last);
    plaintextLength += last.length;
  } catch {
    return fail(
      "padding",
      "AES-256-CBC decryption with encryptionKey did not end in valid PKCS#7 padding: wrong key or damaged ciphertext.",
    );
  }
  if (plaintextLength !== expected.size) {
    return fail("plaintextLength", `The decrypted content is ${plaintextLength} bytes but size is ${expected.size}.`);
  }
  if (!sameBytes(digest.digest(), key.fileDigest)) {
    return fail("fileDigest", "SHA-256 of the decrypted content does not match fileEncryptionInfo.fileDigest.");
  }
  return { ok: true };
}
