/**
 * The inner zip of a stored payload (MAC‖IV‖AES-256-CBC ciphertext), read at any position without decrypting
 * what comes before it: in CBC, plaintext block i is D(C[i]) xor C[i-1], and the IV is the block just before the
 * first. So `unpack` extracts straight from the package, and the decrypted zip is never written out and read
 * back. The PKCS#7 padding of the last block gives the plaintext's length. Nothing read here is authenticated:
 * the MAC and the digest are checked beside it, before any result is used (unpack.ts).
 */
import { createDecipheriv } from "node:crypto";
import { noteGarbage } from "../platform/gc.js";
import type { PayloadReader } from "./read.js";
import type { ZipSource } from "./zip-read.js";

const BLOCK = 16;
/** Small reads (yauzl's directory records, local headers) are served from one decrypted window this large. */
const WINDOW = 8 * 1024;
/** The scratch buffer kept for reading ciphertext: a piece of an entry (zip-read.ts) and the blocks around it. */
const SCRATCH = 256 * 1024 + 2 * BLOCK;

export interface DecryptingSourceOptions {
  path: string;
  reader: PayloadReader;
  /** The whole payload's length, MAC and IV included: 48 + a positive multiple of 16 (checked before). */
  payloadSize: number;
  key: Buffer;
  /** The error for a payload shorter than its record, and for a last block that is not PKCS#7 padding. */
  truncated: () => Error;
  badPadding: () => Error;
}

export async function openDecryptingSource(o: DecryptingSourceOptions): Promise<ZipSource> {
  const cipherLength = o.payloadSize - 48;
  let spare: Buffer | undefined;

  /** Plaintext bytes [a, b) (multiples of 16) in a fresh buffer; the IV of block a/16 is the ciphertext before it. */
  const decrypt = async (a: number, b: number): Promise<Buffer> => {
    const need = b - a + BLOCK;
    let scratch = spare;
    spare = undefined;
    if (!scratch || scratch.length < need) scratch = Buffer.allocUnsafeSlow(Math.max(need, SCRATCH));
    try {
      // Payload offset 32 + a: the IV (a = 0) or the previous ciphertext block, then the blocks wanted.
      const got = await o.reader.read(scratch, need, 32 + a);
      if (got !== need) throw o.truncated();
      const decipher = createDecipheriv("aes-256-cbc", o.key, scratch.subarray(0, BLOCK)).setAutoPadding(false);
      return decipher.update(scratch.subarray(BLOCK, need));
    } finally {
      spare = scratch;
    }
  };

  const last = await decrypt(cipherLength - BLOCK, cipherLength);
  const pad = last[BLOCK - 1]!;
  if (pad < 1 || pad > BLOCK || last.subarray(BLOCK - pad).some((x) => x !== pad)) throw o.badPadding();
  const size = cipherLength - pad;

  /** Where [a, b) runs, rounded out to whole blocks. */
  const blocks = (position: number, end: number): [number, number] => [
    position - (position % BLOCK),
    Math.min(cipherLength, Math.ceil(end / BLOCK) * BLOCK),
  ];

  let window: Buffer = Buffer.alloc(0);
  let windowStart = 0;

  return {
    path: o.path,
    size,
    async read(into, position, length) {
      const n = Math.max(0, Math.min(length, size - position));
      if (n === 0) return 0;
      if (position < windowStart || position + n > windowStart + window.length) {
        const [a, b] = blocks(position, Math.max(position + n, position + WINDOW));
        const plain = await decrypt(a, b);
        if (n > WINDOW) return plain.copy(into, 0, position - a, position - a + n);
        noteGarbage(window.length); // the window replaced
        window = plain.subarray(0, Math.min(plain.length, size - a));
        windowStart = a;
      }
      return window.copy(into, 0, position - windowStart, position - windowStart + n);
    },
    async chunk(position, length) {
      const n = Math.max(0, Math.min(length, size - position));
      if (n === 0) return Buffer.alloc(0);
      const [a, b] = blocks(position, position + n);
      return (await decrypt(a, b)).subarray(position - a, position - a + n);
    },
    close: () => o.reader.close(),
  };
}
