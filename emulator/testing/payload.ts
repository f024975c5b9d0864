/**
 * Test support: a ProfileVersion1 payload (docs/reference/intunewin-format.md §1.4) built with node:crypto, so emulator
 * tests need not import the packager (emulator/ never imports src/intunewin; end-to-end tests under test/ do).
 */
import { createCipheriv, createHash, createHmac, randomBytes } from "node:crypto";
import type { FileEncryptionInfoWire } from "../../src/core/wire/graph.js";

export interface TestPayload {
  payload: Buffer;
  size: number;
  sizeEncrypted: number;
  fileEncryptionInfo: FileEncryptionInfoWire;
}

/** MAC ‖ IV ‖ AES-256-CBC(plaintext), the MAC over IV ‖ ciphertext; `autoPadding: false` leaves PKCS#7 out. */
export function encryptPayload(plaintext: Buffer, opts: { autoPadding?: boolean } = {}): TestPayload {
  const key = randomBytes(32);
  const macKey = randomBytes(32);
  const iv = randomBytes(16);
  const cipher = createCipheriv("aes-256-cbc", key, iv);
  cipher.setAutoPadding(opts.autoPadding ?? true);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const mac = createHmac("sha256", macKey).update(iv).update(ciphertext).digest();
  const payload = Buffer.concat([mac, iv, ciphertext]);
  return {
    payload,
    size: plaintext.length,
    sizeEncrypted: payload.length,
    fileEncryptionInfo: {
      encryptionKey: key.toString("base64"),
      macKey: macKey.toString("base64"),
      initializationVector: iv.toString("base64"),
      mac: mac.toString("base64"),
      profileIdentifier: "ProfileVersion1",
      fileDigest: createHash("sha256").update(plaintext).digest("base64"),
      fileDigestAlgorithm: "SHA256",
    },
  };
}
