/**
 * Unpack's second thread (see unpack.ts): HMAC-SHA256 of a stored payload's IV‖ciphertext, read from the package
 * file by position, while the main thread decrypts or extracts the same bytes. Replies with the MAC and the
 * payload's first 48 bytes (stored MAC‖IV); given the key, also decrypts the payload in order for the plaintext's
 * SHA-256 (FileDigest), length and padding check, so that the main thread can extract without a second pass.
 */
import { createDecipheriv, createHash, createHmac } from "node:crypto";
import { readSync } from "node:fs";
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import { noteGarbage } from "../platform/gc.js";

export interface MacWorkerData {
  fd: number;
  /** File offset of the payload's first byte. */
  start: number;
  /** Payload length (≥ 48). */
  size: number;
  macKey: Uint8Array;
  /** With these, the plaintext's SHA-256 and length too (Detection.xml's key and IV). */
  decrypt?: { key: Uint8Array; iv: Uint8Array };
}

/** The decrypted payload's digest and length, or bad padding (then no digest). */
export type PlaintextCheck = { digest: Uint8Array; size: number } | { badPadding: true };

export type MacWorkerReply =
  | { type: "done"; mac: Uint8Array; head: Uint8Array; plaintext?: PlaintextCheck }
  | { type: "error"; message: string; code?: string; errno?: number; syscall?: string };

const DECRYPT_UPDATE = 64 * 1024;

/** Reads the payload in 1 MiB pieces into one reused buffer; throws on a file cut short. */
export function macOfStoredPayload(d: MacWorkerData): { mac: Buffer; head: Buffer; plaintext?: PlaintextCheck } {
  const hmac = createHmac("sha256", d.macKey);
  const decipher = d.decrypt && createDecipheriv("aes-256-cbc", d.decrypt.key, d.decrypt.iv);
  const digest = createHash("sha256");
  let size = 0;
  const buf = Buffer.allocUnsafeSlow(1024 * 1024);
  const head = Buffer.alloc(48);
  for (let done = 0; done < d.size;) {
    const got = readSync(d.fd, buf, 0, Math.min(buf.length, d.size - done), d.start + done);
    if (got === 0) throw Object.assign(new Error("The package's payload is cut short."), { code: "ETRUNCATED" });
    const piece = buf.subarray(0, got);
    if (done < 48) piece.copy(head, done, 0, Math.min(got, 48 - done));
    if (done + got > 32) hmac.update(piece.subarray(Math.max(0, 32 - done)));
    // Updates of 64 KiB: a fresh output buffer each, small enough for the allocator to reuse at once.
    for (let at = Math.max(0, 48 - done); decipher && at < got; at += DECRYPT_UPDATE) {
      const out = decipher.update(piece.subarray(at, Math.min(got, at + DECRYPT_UPDATE)));
      digest.update(out);
      size += out.length;
      noteGarbage(out.length); // collected young (src/platform/gc.ts)
    }
    done += got;
  }
  const mac = hmac.digest();
  if (!decipher) return { mac, head };
  let last: Buffer;
  try {
    last = decipher.final();
  } catch {
    return { mac, head, plaintext: { badPadding: true } };
  }
  digest.update(last);
  return { mac, head, plaintext: { digest: digest.digest(), size: size + last.length } };
}

const started = workerData as (MacWorkerData & { macWorker?: boolean }) | null;
if (!isMainThread && parentPort && started?.macWorker === true) {
  let reply: MacWorkerReply;
  try {
    reply = { type: "done", ...macOfStoredPayload(started) };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    reply = { type: "error", message: err.message };
    if (err.code !== undefined) reply.code = err.code;
    if (err.errno !== undefined) reply.errno = err.errno;
    if (err.syscall !== undefined) reply.syscall = err.syscall;
  }
  parentPort.postMessage(reply);
}
