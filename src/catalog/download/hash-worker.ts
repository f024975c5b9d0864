/**
 * The downloads' second thread (see digest.ts): writes each staged piece of a body at its position in the partial
 * file, then adds it to that download's SHA-256, and hands the buffer back for reuse. One thread serves every
 * download of the process (one hash per session id); pieces of one session arrive, are written and hashed in order.
 * A write error fails that session only: its later pieces are handed back untouched (never hashed, so every hashed
 * byte is on disk).
 */
import { createHash } from "node:crypto";
import type { Hash } from "node:crypto";
import { writeSync } from "node:fs";
import { isMainThread, parentPort, workerData } from "node:worker_threads";

/** Main → worker. `fd` < 0: hash only (the prefix of a resumed file, read back from disk). */
export type HashWorkerRequest =
  | { type: "data"; id: number; buf: Uint8Array; length: number; fd: number; position: number }
  | { type: "digest"; id: number }
  | { type: "drop"; id: number };

/** Worker → main. */
export type HashWorkerReply =
  | { type: "free"; id: number; buf: Uint8Array }
  | { type: "digest"; id: number; hex: string }
  | { type: "error"; id: number; buf?: Uint8Array; message: string; code?: string; errno?: number; syscall?: string };

/** The reply for a failed write of `buf`: the error's message and codes, so that the caller words it as usual. */
export function writeFailed(id: number, buf: Uint8Array, err: NodeJS.ErrnoException): HashWorkerReply {
  const reply: HashWorkerReply = { type: "error", id, buf, message: err.message };
  if (err.code !== undefined) reply.code = err.code;
  if (err.errno !== undefined) reply.errno = err.errno;
  if (err.syscall !== undefined) reply.syscall = err.syscall;
  return reply;
}

/** The worker's work, callable in-thread too: each request's reply. */
export function hashSink(): (m: HashWorkerRequest) => HashWorkerReply | undefined {
  const sessions = new Map<number, { hash: Hash; failed: boolean }>();
  return (m) => {
    if (m.type === "drop") {
      sessions.delete(m.id);
      return undefined;
    }
    let s = sessions.get(m.id);
    if (m.type === "digest") {
      sessions.delete(m.id);
      if (s === undefined || s.failed) return { type: "error", id: m.id, message: "The download's hash was lost." };
      return { type: "digest", id: m.id, hex: s.hash.digest("hex") };
    }
    if (s === undefined) sessions.set(m.id, (s = { hash: createHash("sha256"), failed: false }));
    if (s.failed) return { type: "free", id: m.id, buf: m.buf };
    const piece = m.buf.subarray(0, m.length);
    try {
      for (let done = 0; m.fd >= 0 && done < piece.length;) {
        const n = writeSync(m.fd, piece, done, piece.length - done, m.position + done);
        if (n === 0) throw new Error(`Short write: ${done} of ${piece.length} bytes.`);
        done += n;
      }
    } catch (e) {
      s.failed = true;
      return writeFailed(m.id, m.buf, e as NodeJS.ErrnoException);
    }
    s.hash.update(piece);
    return { type: "free", id: m.id, buf: m.buf };
  };
}

// Wired to the port only in a thread started for it (this module is also imported by digest.ts).
if (!isMainThread && parentPort && (workerData as { hashWorker?: boolean } | null)?.hashWorker === true) {
  const port = parentPort;
  const sink = hashSink();
  port.on("message", (m: HashWorkerRequest) => {
    const reply = sink(m);
    if (reply === undefined) return;
    port.postMessage(reply, reply.type !== "digest" && reply.buf ? [reply.buf.buffer as ArrayBuffer] : []);
  });
}
