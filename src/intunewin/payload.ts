import { createCipheriv, type Cipher } from "node:crypto";
import type { FileHandle } from "node:fs/promises";
import { Worker } from "node:worker_threads";
import { noteGarbage } from "../platform/gc.js";
import {
  payloadSink,
  type PayloadWorkerData,
  type PayloadWorkerReply,
  type PayloadWorkerRequest,
} from "./payload-worker.js";

/** Plaintext bytes per cipher update and per message to the worker. */
const STAGE_SIZE = 1024 * 1024;
/** Stages in use at once: how far the main thread may run ahead of the worker (and the memory both hold). */
const STAGES = 4;

export interface PayloadResult {
  mac: Buffer;
  fileDigest: Buffer;
  plaintextSize: number;
  ciphertextSize: number;
  /** CRC-32 of IV‖ciphertext (the payload less its leading MAC). */
  crcOfIvAndCiphertext: number;
}

/** A file-system error from the worker, rebuilt with its code so that mapFsError words it as usual. */
function workerError(r: Extract<PayloadWorkerReply, { type: "error" }>): Error {
  const e = new Error(r.message) as NodeJS.ErrnoException;
  if (r.code !== undefined) e.code = r.code;
  if (r.errno !== undefined) e.errno = r.errno;
  if (r.syscall !== undefined) e.syscall = r.syscall;
  return e;
}

/**
 * The encrypted payload (ProfileVersion1) in one pass: plaintext in, AES-256-CBC/PKCS#7 ciphertext out to
 * `fh` at `offset + 48`. Only the cipher runs on this thread (CBC is serial: it is the floor); the plaintext's
 * SHA-256 (FileDigest), HMAC-SHA256 and CRC-32 of IV‖ciphertext and the writes run on a worker thread
 * (payload-worker.ts) beside it. Plaintext is gathered into 1 MiB stages, each encrypted in one update; the stage
 * and a copy of its ciphertext in a second pooled buffer are moved (not copied) to the worker, which hands both
 * back once done: a bounded pool, and no garbage on the worker.
 * Callers may reuse their buffers as soon as `write` returns. The 48-byte MAC‖IV header is written by `finish`;
 * `close` stops the worker (always call it, also after a failure).
 */
export class PayloadWriter {
  private readonly cipher: Cipher;
  private readonly worker: Worker | undefined;
  private readonly post: (m: PayloadWorkerRequest, transfer: ArrayBuffer[]) => void;
  private readonly free: { plain: Buffer; cipher: Buffer }[] = [];
  private allocated = 0;
  private stage: { plain: Buffer; cipher: Buffer } | undefined;
  private staged = 0;
  private plaintextSize = 0;
  private ciphertextSize = 0;
  private failure: Error | undefined;
  private waiting: { resolve: () => void; reject: (e: Error) => void } | undefined;
  private done:
    { resolve: (r: Extract<PayloadWorkerReply, { type: "done" }>) => void; reject: (e: Error) => void } | undefined;

  constructor(
    private readonly fh: FileHandle,
    private readonly offset: number,
    key: Buffer,
    macKey: Buffer,
    private readonly iv: Buffer,
  ) {
    this.cipher = createCipheriv("aes-256-cbc", key, iv);
    const workerData: PayloadWorkerData & { payloadWorker: true } = {
      fd: fh.fd,
      macKey,
      iv,
      position: offset + 48,
      payloadWorker: true,
    };
    if (import.meta.url.endsWith(".ts")) {
      // From the sources (under tsx, whose loader Node 20 does not apply in workers): the same work in this thread.
      const sink = payloadSink(workerData);
      this.post = (m) => {
        const reply = sink(m);
        if (reply) this.onReply(reply);
      };
      return;
    }
    // A worker inherits the process's options, but --input-type (node --input-type=module -e …) applies to string
    // input only and makes loading the worker's file fail.
    const inputType = process.execArgv.some((a) => a.startsWith("--input-type"));
    const worker = new Worker(new URL("./payload-worker.js", import.meta.url), {
      workerData,
      ...(inputType ? { execArgv: process.execArgv.filter((a) => !a.startsWith("--input-type")) } : {}),
    });
    worker.on("message", (m: PayloadWorkerReply) => this.onReply(m));
    worker.on("error", (e) => this.fail(e));
    worker.on("exit", () => this.fail(new Error("The payload worker stopped unexpectedly.")));
    this.worker = worker;
    this.post = (m, transfer) => worker.postMessage(m, transfer);
  }

  private onReply(m: PayloadWorkerReply): void {
    if (m.type === "free") {
      this.free.push({ plain: Buffer.from(m.plain.buffer), cipher: Buffer.from(m.cipher.buffer) });
      const w = this.waiting;
      this.waiting = undefined;
      w?.resolve();
    } else if (m.type === "done") {
      this.done?.resolve(m);
    } else {
      this.fail(workerError(m));
    }
  }

  private fail(e: Error): void {
    this.failure ??= e;
    this.waiting?.reject(this.failure);
    this.done?.reject(this.failure);
    this.waiting = undefined;
    this.done = undefined;
  }

  private static newStage(): { plain: Buffer; cipher: Buffer } {
    // A CBC update returns at most its input plus one block.
    return { plain: Buffer.allocUnsafeSlow(STAGE_SIZE), cipher: Buffer.allocUnsafeSlow(STAGE_SIZE + 16) };
  }

  private async takeStage(): Promise<{ plain: Buffer; cipher: Buffer }> {
    for (;;) {
      if (this.failure) throw this.failure;
      const b = this.free.pop();
      if (b) return b;
      if (this.allocated < STAGES) {
        this.allocated++;
        return PayloadWriter.newStage();
      }
      await new Promise<void>((resolve, reject) => (this.waiting = { resolve, reject }));
    }
  }

  async write(plain: Buffer): Promise<void> {
    for (let at = 0; at < plain.length;) {
      this.stage ??= await this.takeStage();
      const n = plain.copy(this.stage.plain, this.staged, at);
      this.staged += n;
      at += n;
      if (this.staged === STAGE_SIZE) this.send(this.cipher.update(this.stage.plain));
    }
  }

  /** Hands the current stage (its first `staged` bytes are plaintext) and `cipherText` to the worker. */
  private send(cipherText: Buffer): void {
    if (this.failure) throw this.failure;
    const stage = this.stage ?? this.free.pop() ?? PayloadWriter.newStage();
    const plainLength = this.stage ? this.staged : 0;
    this.plaintextSize += plainLength;
    this.ciphertextSize += cipherText.length;
    this.stage = undefined;
    this.staged = 0;
    cipherText.copy(stage.cipher);
    noteGarbage(cipherText.length);
    const message: PayloadWorkerRequest = {
      type: "data",
      plain: stage.plain,
      plainLength,
      cipher: stage.cipher,
      cipherLength: cipherText.length,
    };
    this.post(message, [stage.plain.buffer as ArrayBuffer, stage.cipher.buffer as ArrayBuffer]);
  }

  async finish(): Promise<PayloadResult> {
    if (this.stage && this.staged > 0) this.send(this.cipher.update(this.stage.plain.subarray(0, this.staged)));
    this.send(this.cipher.final());
    const result = await new Promise<Extract<PayloadWorkerReply, { type: "done" }>>((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      this.done = { resolve, reject };
      this.post({ type: "finish" }, []);
    });
    const mac = Buffer.from(result.mac);
    await this.fh.write(Buffer.concat([mac, this.iv]), 0, 48, this.offset);
    return {
      mac,
      fileDigest: Buffer.from(result.digest),
      plaintextSize: this.plaintextSize,
      ciphertextSize: this.ciphertextSize,
      crcOfIvAndCiphertext: result.crc,
    };
  }

  /** Stops the worker; the file handle stays the caller's. */
  async close(): Promise<void> {
    this.worker?.removeAllListeners("exit");
    await this.worker?.terminate();
  }
}
