import { createCipheriv, createHash, createHmac, type Cipher, type Hash, type Hmac } from "node:crypto";
import type { FileHandle } from "node:fs/promises";
import { crc32 } from "./crc32.js";

const FLUSH_AT = 1024 * 1024;

export interface PayloadResult {
  mac: Buffer;
  fileDigest: Buffer;
  plaintextSize: number;
  ciphertextSize: number;
  /** CRC-32 of IV‖ciphertext (the payload less its leading MAC). */
  crcOfIvAndCiphertext: number;
}

/**
 * The encrypted payload (ProfileVersion1) in one pass: plaintext in, AES-256-CBC/PKCS#7 ciphertext out to
 * `fh` at `offset + 48`, while SHA-256 of the plaintext (FileDigest), HMAC-SHA256 over IV‖ciphertext and the
 * CRC-32 the outer zip needs are updated. Plaintext buffers are consumed synchronously and may be reused by
 * the caller after `write` returns. The 48-byte MAC‖IV header is written by `finish`.
 */
export class PayloadWriter {
  private readonly cipher: Cipher;
  private readonly hmac: Hmac;
  private readonly digest: Hash = createHash("sha256");
  private crc: number;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private position: number;
  private plaintextSize = 0;
  private ciphertextSize = 0;

  constructor(
    private readonly fh: FileHandle,
    private readonly offset: number,
    key: Buffer,
    macKey: Buffer,
    private readonly iv: Buffer,
  ) {
    this.cipher = createCipheriv("aes-256-cbc", key, iv);
    this.hmac = createHmac("sha256", macKey).update(iv);
    this.crc = crc32(iv);
    this.position = offset + 48;
  }

  async write(plain: Buffer): Promise<void> {
    this.digest.update(plain);
    this.plaintextSize += plain.length;
    this.push(this.cipher.update(plain));
    if (this.pendingBytes >= FLUSH_AT) await this.flush();
  }

  private push(c: Buffer): void {
    if (c.length === 0) return;
    this.hmac.update(c);
    this.crc = crc32(c, this.crc);
    this.ciphertextSize += c.length;
    this.pending.push(c);
    this.pendingBytes += c.length;
  }

  private async flush(): Promise<void> {
    if (this.pendingBytes === 0) return;
    const buffers = this.pending;
    const length = this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    // writev: no concatenated copy. It may write less than asked; finish the rest.
    let written = (await this.fh.writev(buffers, this.position)).bytesWritten;
    while (written < length) {
      const rest = Buffer.concat(buffers).subarray(written);
      written += (await this.fh.write(rest, 0, rest.length, this.position + written)).bytesWritten;
    }
    this.position += length;
  }

  async finish(): Promise<PayloadResult> {
    this.push(this.cipher.final());
    await this.flush();
    const mac = this.hmac.digest();
    await this.fh.write(Buffer.concat([mac, this.iv]), 0, 48, this.offset);
    return {
      mac,
      fileDigest: this.digest.digest(),
      plaintextSize: this.plaintextSize,
      ciphertextSize: this.ciphertextSize,
      crcOfIvAndCiphertext: this.crc,
    };
  }
}
