/**
 * A download's SHA-256 and writes, in 1 MiB stages. The body's chunks are copied into a stage (one memcpy; the chunk
 * is garbage at once, so the caller can have it collected early); each full stage is hashed in one update and
 * written in one positional write. A session holds at most `STAGES` stages: when none is free the body is paused
 * until a write gives one back, so memory stays flat. Every byte handed over is written and hashed before `flush`
 * resolves; `digest` is read once the body is complete and verified by the caller before use, as before.
 *
 * Two places for that work (measured, bench/README.md "download"; both keep every guarantee above):
 * - a worker thread shared by the process's downloads (`onThread`, the downloader's `hashThread: true`;
 *   hash-worker.ts): each stage is moved (transferred, not copied) there, written, hashed and handed back. This thread
 *   keeps TLS and the body, ≈ 1 CPU-s per GiB less; in total 0.5–0.9 CPU-s per GiB more than hashing here (idle,
 *   2026-12-04), ≈ 12 MiB more RSS. The thread starts on first use (≈ 40 ms CPU), is reused by the next downloads and
 *   stops after `IDLE_MS` without a session; if it dies, every open session fails with an Internal error (the caller
 *   keeps nothing) and the next session starts a new thread. From the sources (under tsx, whose loader Node 20 does
 *   not apply in workers) the work runs in this thread instead;
 * - this thread (the downloader's default: idle, the same speed with less CPU and memory): the hash here, the writes
 *   queued one at a time on libuv's thread pool.
 * Either way the batching into stages replaced 65,000 small hash updates and 4,096 writes per GiB by 1,024 of each.
 */
import { createHash } from "node:crypto";
import type { Hash } from "node:crypto";
import { write } from "node:fs";
import { Worker } from "node:worker_threads";
import { PublisherError } from "../../core/errors.js";
import { openRegularFile } from "../../platform/fs.js";
import { writeFailed } from "./hash-worker.js";
import type { HashWorkerReply, HashWorkerRequest } from "./hash-worker.js";

/** Bytes per stage: per message to the thread, per write and per hash update. */
export const STAGE_SIZE = 1024 * 1024;
/** Stages one download holds at most (its memory, and how far the body may run ahead of the thread). */
export const STAGES = 4;
/** A thread without sessions for this long is stopped. */
const IDLE_MS = 10_000;

type Listener = (reply: HashWorkerReply | Error) => void;

interface HashThread {
  post(m: HashWorkerRequest, transfer?: ArrayBuffer[]): void;
  sessions: Map<number, Listener>;
  worker: Worker | undefined;
  idle: NodeJS.Timeout | undefined;
}

let shared: HashThread | undefined;
let nextId = 1;
let started = 0;

function startThread(): HashThread {
  const t: HashThread = { post: () => undefined, sessions: new Map(), worker: undefined, idle: undefined };
  const deliver = (r: HashWorkerReply): void => t.sessions.get(r.id)?.(r);
  // A worker inherits the process's options, but --input-type applies to string input only and fails the file's load.
  const inputType = process.execArgv.some((a) => a.startsWith("--input-type"));
  const worker = new Worker(new URL("./hash-worker.js", import.meta.url), {
    workerData: { hashWorker: true },
    ...(inputType ? { execArgv: process.execArgv.filter((a) => !a.startsWith("--input-type")) } : {}),
  });
  const died = (e: Error): void => {
    if (shared === t) shared = undefined;
    if (t.idle !== undefined) clearTimeout(t.idle);
    const listeners = [...t.sessions.values()];
    t.sessions.clear();
    for (const l of listeners) l(e);
  };
  worker.on("message", deliver);
  worker.on("error", died);
  worker.on("exit", (code) => died(new Error(`it exited with code ${code}`)));
  started++;
  t.worker = worker;
  t.post = (m, transfer) => worker.postMessage(m, transfer);
  return t;
}

/**
 * This thread (`hashThread: false`): each stage hashed at once (one update per stage) and its write queued
 * (positional, one at a time, on libuv's thread pool); the stage is free again once written. One per session.
 */
function inlineBackend(): HashThread {
  const t: HashThread = { post: () => undefined, sessions: new Map(), worker: undefined, idle: undefined };
  const deliver = (r: HashWorkerReply): void => t.sessions.get(r.id)?.(r);
  const later = (r: HashWorkerReply): void => queueMicrotask(() => deliver(r));
  const hashes = new Map<number, { hash: Hash; failed: boolean }>();
  const writes: Extract<HashWorkerRequest, { type: "data" }>[] = [];
  let busy = false;
  const writeNext = (): void => {
    const m = writes.shift();
    busy = m !== undefined;
    if (m === undefined) return;
    const s = hashes.get(m.id);
    if (s === undefined || s.failed) {
      later({ type: "free", id: m.id, buf: m.buf });
      writeNext();
      return;
    }
    const piece = m.buf.subarray(0, m.length);
    const from = (done: number): void =>
      write(m.fd, piece, done, piece.length - done, m.position + done, (e, n) => {
        if (e === null && n === 0) e = new Error(`Short write: ${done} of ${piece.length} bytes.`);
        if (e !== null) {
          s.failed = true;
          deliver(writeFailed(m.id, m.buf, e));
        } else if (done + n < piece.length) return from(done + n);
        else deliver({ type: "free", id: m.id, buf: m.buf });
        writeNext();
      });
    from(0);
  };
  t.post = (m) => {
    if (m.type === "drop") {
      hashes.delete(m.id);
      return;
    }
    let s = hashes.get(m.id);
    if (m.type === "digest") {
      hashes.delete(m.id);
      later(
        s === undefined || s.failed
          ? { type: "error", id: m.id, message: "The download's hash was lost." }
          : { type: "digest", id: m.id, hex: s.hash.digest("hex") },
      );
      return;
    }
    if (s === undefined) hashes.set(m.id, (s = { hash: createHash("sha256"), failed: false }));
    if (!s.failed) s.hash.update(m.buf.subarray(0, m.length));
    if (s.failed || m.fd < 0) return later({ type: "free", id: m.id, buf: m.buf });
    writes.push(m);
    if (!busy) writeNext();
  };
  return t;
}

function join(listener: (id: number) => Listener, onThread: boolean): { t: HashThread; id: number } {
  // From the sources (under tsx, whose loader Node 20 does not apply in workers): always this thread.
  const t = onThread && !import.meta.url.endsWith(".ts") ? (shared ??= startThread()) : inlineBackend();
  if (t.idle !== undefined) clearTimeout(t.idle);
  t.idle = undefined;
  const id = nextId++;
  t.sessions.set(id, listener(id));
  if (t.sessions.size === 1) t.worker?.ref();
  return { t, id };
}

function leave(t: HashThread, id: number): void {
  if (!t.sessions.delete(id) || t.sessions.size > 0) return;
  // Idle: the process may exit without waiting for it, and a long-running one gets its memory back soon.
  t.worker?.unref();
  if (t.worker === undefined) return;
  t.idle = setTimeout(() => {
    if (shared === t) shared = undefined;
    t.worker?.removeAllListeners("exit");
    void t.worker?.terminate();
  }, IDLE_MS);
  t.idle.unref();
}

/**
 * Stops the hashing thread now (a process shutting down): the downloads in flight fail (nothing of them is kept),
 * the next one starts a new thread.
 */
export async function stopHashThread(): Promise<void> {
  const t = shared;
  if (t?.worker === undefined) return;
  await t.worker.terminate();
}

/** How many hashing threads were started in this process (one while downloads follow each other). */
export function hashThreadsStarted(): number {
  return started;
}

function threadDied(cause: Error): PublisherError {
  return new PublisherError(
    "Internal",
    `The downloads' hashing thread stopped unexpectedly (${cause.message}); the download was not kept.`,
    { hint: "Run the command again; if it happens again, report it with the output of --verbose.", cause },
  );
}

/** A write error from the thread, rebuilt with its code so that the caller words it as usual (disk full…). */
function writeError(r: Extract<HashWorkerReply, { type: "error" }>): Error {
  const e = new Error(r.message) as NodeJS.ErrnoException;
  if (r.code !== undefined) e.code = r.code;
  if (r.errno !== undefined) e.errno = r.errno;
  if (r.syscall !== undefined) e.syscall = r.syscall;
  return e;
}

/** What a session asks of the body it reads: pause, resume, or stop it after a failure. */
export interface BodyFlow {
  pause(): void;
  resume(): void;
  stop(): void;
}

const NO_FLOW: BodyFlow = { pause: () => undefined, resume: () => undefined, stop: () => undefined };

/** One download's running SHA-256 (and its writes). Always `close` it. */
export class StreamDigest {
  private readonly t: HashThread;
  private readonly id: number;
  private readonly free: Buffer[] = [];
  private allocated = 0;
  private inflight = 0;
  private stage: Buffer | undefined;
  private staged = 0;
  /** chunks that found no free stage (the body was just paused) */
  private pending: Buffer[] = [];
  private paused = false;
  private fd = -1;
  private position = 0;
  private flow: BodyFlow = NO_FLOW;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  private hex: ((hex: string) => void) | undefined;
  private closed = false;

  /** `onThread`: hash and write on the shared hashing thread; else on this one (see the module's comment). */
  constructor(onThread = false) {
    ({ t: this.t, id: this.id } = join(() => (r) => this.onReply(r), onThread));
  }

  private onReply(r: HashWorkerReply | Error): void {
    if (r instanceof Error) this.failure ??= threadDied(r);
    else if (r.type === "digest") this.hex?.(r.hex);
    else {
      if (r.buf !== undefined) {
        this.inflight--;
        this.free.push(Buffer.from(r.buf.buffer, r.buf.byteOffset, r.buf.byteLength));
      }
      if (r.type === "error") this.failure ??= writeError(r);
    }
    if (this.failure !== undefined) {
      this.pending = [];
      this.flow.stop();
    } else this.drain();
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** Places chunks that waited for a stage; resumes the body once none waits. */
  private drain(): void {
    while (this.pending.length > 0) {
      const chunk = this.pending.shift() as Buffer;
      if (!this.place(chunk)) return;
    }
    if (this.paused && this.hasRoom()) {
      this.paused = false;
      this.flow.resume();
    }
  }

  private hasRoom(): boolean {
    return this.stage !== undefined || this.free.length > 0 || this.allocated < STAGES;
  }

  private take(): Buffer | undefined {
    const b = this.free.pop();
    if (b !== undefined) return b;
    if (this.allocated >= STAGES) return undefined;
    this.allocated++;
    return Buffer.allocUnsafeSlow(STAGE_SIZE);
  }

  /** Copies `chunk` into stages; false (the rest kept in `pending` first) when no stage is free. */
  private place(chunk: Buffer): boolean {
    for (let at = 0; at < chunk.length;) {
      if (this.stage === undefined) {
        const s = this.take();
        if (s === undefined) {
          this.pending.unshift(at === 0 ? chunk : chunk.subarray(at));
          return false;
        }
        this.stage = s;
      }
      const n = chunk.copy(this.stage, this.staged, at);
      this.staged += n;
      at += n;
      if (this.staged === STAGE_SIZE) this.send();
    }
    return true;
  }

  private send(): void {
    const buf = this.stage as Buffer;
    const length = this.staged;
    this.stage = undefined;
    this.staged = 0;
    this.inflight++;
    this.t.post({ type: "data", id: this.id, buf, length, fd: this.fd, position: this.position }, [
      buf.buffer as ArrayBuffer,
    ]);
    if (this.fd >= 0) this.position += length;
    // No stage left for the next chunk: pause the body now rather than hold what it sends meanwhile.
    if (!this.hasRoom() && !this.paused) {
      this.paused = true;
      this.flow.pause();
    }
  }

  private async next(): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    await new Promise<void>((resolve) => (this.wake = resolve));
    if (this.failure !== undefined) throw this.failure;
  }

  /** The next bytes are written at `position` of `fd` (and hashed); the body is paused and resumed through `flow`. */
  target(fd: number, position: number, flow: BodyFlow): void {
    this.fd = fd;
    this.position = position;
    this.flow = flow;
    this.paused = false;
  }

  /** Hands one chunk over (copied: the caller may drop it); throws once the session failed. */
  push(chunk: Buffer): void {
    if (this.failure !== undefined) throw this.failure;
    if (this.pending.length > 0) this.pending.push(chunk);
    else if (!this.place(chunk) && !this.paused) {
      this.paused = true;
      this.flow.pause();
    }
  }

  /** Waits until every byte handed over is written and hashed; throws a write error or the thread's failure. */
  async flush(): Promise<void> {
    for (;;) {
      if (this.failure !== undefined) throw this.failure;
      if (this.pending.length === 0 && this.staged > 0) this.send();
      if (this.inflight === 0 && this.pending.length === 0) break;
      await this.next();
    }
    this.flow = NO_FLOW;
    this.paused = false;
  }

  /** Hashes the first `length` bytes of the file at `path` (a resumed download's prefix); returns the bytes read. */
  async hashFile(path: string, length: number): Promise<number> {
    this.target(-1, 0, NO_FLOW);
    const { handle } = await openRegularFile({ path, what: "downloaded file" });
    let at = 0;
    try {
      while (at < length) {
        let stage = this.take();
        while (stage === undefined) {
          await this.next();
          stage = this.take();
        }
        const { bytesRead } = await handle.read(stage, 0, Math.min(STAGE_SIZE, length - at), at);
        if (bytesRead === 0) {
          this.free.push(stage);
          break;
        }
        this.stage = stage;
        this.staged = bytesRead;
        this.send();
        at += bytesRead;
      }
      await this.flush();
    } finally {
      await handle.close();
    }
    return at;
  }

  /** The SHA-256 (hex) of every byte handed over; the session is done after it. */
  async digest(): Promise<string> {
    await this.flush();
    let value: string | undefined;
    this.hex = (hex) => (value = hex);
    this.t.post({ type: "digest", id: this.id });
    while (value === undefined) await this.next();
    this.closed = true;
    leave(this.t, this.id);
    return value;
  }

  /** Ends the session (the thread forgets its hash). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.failure === undefined) this.t.post({ type: "drop", id: this.id });
    leave(this.t, this.id);
  }
}
