/**
 * Unpack's second thread (see unpack.ts): HMAC-SHA256 of a stored payload's IV‖ciphertext, read from the package
 * file by position, while the main thread decrypts the same bytes. Replies with the MAC and the payload's first
 * 48 bytes (stored MAC‖IV).
 */
import { createHmac } from "node:crypto";
import { readSync } from "node:fs";
import { isMainThread, parentPort, workerData } from "node:worker_threads";

export interface MacWorkerData {
  fd: number;
  /** File offset of the payload's first byte. */
  start: number;
  /** Payload length (≥ 48). */
  size: number;
  macKey: Uint8Array;
}

export type MacWorkerReply =
  | { type: "done"; mac: Uint8Array; head: Uint8Array }
  | { type: "error"; message: string; code?: string; errno?: number; syscall?: string };

/** Reads the payload in 1 MiB pieces into one reused buffer; throws on a file cut short. */
export function macOfStoredPayload(d: MacWorkerData): { mac: Buffer; head: Buffer } {
  const hmac = createHmac("sha256", d.macKey);
  const buf = Buffer.allocUnsafeSlow(1024 * 1024);
  const head = Buffer.alloc(48);
  for (let done = 0; done < d.size;) {
    const got = readSync(d.fd, buf, 0, Math.min(buf.length, d.size - done), d.start + done);
    if (got === 0) throw Object.assign(new Error("The package's payload is cut short."), { code: "ETRUNCATED" });
    const piece = buf.subarray(0, got);
    if (done < 48) piece.copy(head, done, 0, Math.min(got, 48 - done));
    if (done + got > 32) hmac.update(piece.subarray(Math.max(0, 32 - done)));
    done += got;
  }
  return { mac: hmac.digest(), head };
}

const started = workerData as (MacWorkerData & { macWorker?: boolean }) | null;
if (!isMainThread && parentPort && started?.macWorker === true) {
  let reply: MacWorkerReply;
  try {
    const { mac, head } = macOfStoredPayload(started);
    reply = { type: "done", mac, head };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    reply = { type: "error", message: err.message };
    if (err.code !== undefined) reply.code = err.code;
    if (err.errno !== undefined) reply.errno = err.errno;
    if (err.syscall !== undefined) reply.syscall = err.syscall;
  }
  parentPort.postMessage(reply);
}
