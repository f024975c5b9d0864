/**
 * The payload's second thread (see payload.ts): SHA-256 of the plaintext (FileDigest), HMAC-SHA256 and CRC-32 of
 * IV‖ciphertext, and the positional writes of the ciphertext, so that the main thread only encrypts (CBC is serial).
 * Both buffers of a message go back to the main thread for reuse once hashed and written: this thread makes no
 * garbage (it runs little JavaScript, so dead buffers here would wait long for a collection).
 */
import { createHash, createHmac } from "node:crypto";
import { writeSync } from "node:fs";
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import { crc32 } from "./crc32.js";

export interface PayloadWorkerData {
  fd: number;
  macKey: Uint8Array;
  iv: Uint8Array;
  /** where the first ciphertext byte goes */
  position: number;
}

/** Main → worker. */
export type PayloadWorkerRequest =
  | { type: "data"; plain: Uint8Array; plainLength: number; cipher: Uint8Array; cipherLength: number }
  | { type: "finish" };

/** Worker → main. */
export type PayloadWorkerReply =
  | { type: "free"; plain: Uint8Array; cipher: Uint8Array }
  | { type: "done"; mac: Uint8Array; digest: Uint8Array; crc: number }
  | { type: "error"; message: string; code?: string; errno?: number; syscall?: string };

/** The worker's work, callable in-thread too: each request's reply and the buffers it hands back. */
export function payloadSink(data: PayloadWorkerData): (m: PayloadWorkerRequest) => PayloadWorkerReply | undefined {
  const digest = createHash("sha256");
  const hmac = createHmac("sha256", data.macKey).update(data.iv);
  let crc = crc32(data.iv);
  let position = data.position;
  let failed = false;
  const write = (b: Uint8Array): void => {
    for (let done = 0; done < b.length;) {
      done += writeSync(data.fd, b, done, b.length - done, position + done);
    }
    position += b.length;
  };
  return (m) => {
    if (failed) return undefined;
    try {
      if (m.type === "data") {
        digest.update(m.plain.subarray(0, m.plainLength));
        const cipher = m.cipher.subarray(0, m.cipherLength);
        hmac.update(cipher);
        crc = crc32(cipher, crc);
        write(cipher);
        return { type: "free", plain: m.plain, cipher: m.cipher };
      }
      return { type: "done", mac: hmac.digest(), digest: digest.digest(), crc };
    } catch (e) {
      failed = true;
      const err = e as NodeJS.ErrnoException;
      const reply: PayloadWorkerReply = { type: "error", message: err.message };
      if (err.code !== undefined) reply.code = err.code;
      if (err.errno !== undefined) reply.errno = err.errno;
      if (err.syscall !== undefined) reply.syscall = err.syscall;
      return reply;
    }
  };
}

// Wired to the port only in a thread started for it (this module is also imported by payload.ts).
const started = workerData as (PayloadWorkerData & { payloadWorker?: boolean }) | null;
if (!isMainThread && parentPort && started?.payloadWorker === true) {
  const port = parentPort;
  const sink = payloadSink(started);
  port.on("message", (m: PayloadWorkerRequest) => {
    const reply = sink(m);
    if (reply === undefined) return;
    const transfer =
      reply.type === "free" ? [reply.plain.buffer as ArrayBuffer, reply.cipher.buffer as ArrayBuffer] : [];
    port.postMessage(reply, transfer);
  });
}
