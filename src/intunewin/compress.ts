import { open, rm, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { constants as zc, deflateRaw, type ZlibOptions } from "node:zlib";
import { promisify } from "node:util";
import { PublisherError } from "../core/errors.js";
import { openRegularFile } from "../platform/fs.js";
import { noteGarbage } from "../platform/gc.js";
import { crc32 } from "./crc32.js";
import type { SourceEntry } from "./source.js";

const deflateRawAsync = promisify<Buffer, ZlibOptions, Buffer>(deflateRaw);
const DICTIONARY_SIZE = 32 * 1024;
/** Bytes of each chunk the entropy estimate looks at: three samples (start, middle, end). */
const ENTROPY_SAMPLE = 8 * 1024;
/** Bytes of each chunk the deflate probe compresses, when the entropy estimate does not decide. */
const SAMPLE = 16 * 1024;
/** At or above this many bits per byte (of 8), a chunk is stored: Huffman coding could save under 1.5 %. */
export const STORED_ENTROPY = 7.9;
/** Below this, a chunk is deflated without a probe. */
const DEFLATE_ENTROPY = 7;
/** Largest stored block (RFC 1951 §3.2.4: LEN is 16 bits). */
const STORED_BLOCK = 65_535;

/** Shannon entropy in bits per byte of `ranges` of `bytes` taken as one ([start, end) pairs; 0 for none). */
export function byteEntropy(bytes: Uint8Array, ranges: [number, number][] = [[0, bytes.length]]): number {
  const counts = new Uint32Array(256);
  let n = 0;
  for (const [start, end] of ranges) {
    for (let i = start; i < end; i++) counts[bytes[i]!]!++;
    n += end - start;
  }
  let sum = 0;
  for (let i = 0; i < 256; i++) {
    const c = counts[i]!;
    if (c > 0) sum += c * Math.log2(c);
  }
  return n === 0 ? 0 : Math.log2(n) - sum / n;
}

/** Entropy of three samples of the chunk (start, middle, end) taken as one; of the whole chunk when small. */
function sampledEntropy(chunk: Buffer): number {
  if (chunk.length <= 3 * ENTROPY_SAMPLE) return byteEntropy(chunk);
  const mid = Math.floor(chunk.length / 2);
  const at = (start: number): [number, number] => [start, start + ENTROPY_SAMPLE];
  return byteEntropy(chunk, [at(0), at(mid), at(chunk.length - ENTROPY_SAMPLE)]);
}

/**
 * How a chunk is encoded. Installers are mostly already compressed (cabinets, archives, media): deflate at level 1
 * spends most of its time on such data and then emits stored blocks anyway. A byte histogram of 24 KiB of the
 * chunk (on this thread: ~0.1 ms) decides the clear cases: near 8 bits per byte, stored blocks written here at
 * copy speed; well below, deflate at level 1. In between, deflating 48 KiB of samples decides (a chunk whose
 * samples do not shrink by 3 % is stored).
 */
async function chooseEncoding(chunk: Buffer): Promise<"stored" | "deflate"> {
  if (chunk.length < 4 * 1024) return "deflate";
  const entropy = sampledEntropy(chunk);
  if (entropy >= STORED_ENTROPY) return "stored";
  if (entropy < DEFLATE_ENTROPY || chunk.length < 4 * SAMPLE) return "deflate";
  const mid = Math.floor(chunk.length / 2);
  const sample = Buffer.concat([
    chunk.subarray(0, SAMPLE),
    chunk.subarray(mid, mid + SAMPLE),
    chunk.subarray(chunk.length - SAMPLE),
  ]);
  const probe = await deflateRawAsync(sample, { level: 1 });
  return probe.length > sample.length * 0.97 ? "stored" : "deflate";
}

/**
 * `data` as deflate stored blocks (RFC 1951 §3.2.4: a header byte with BFINAL and BTYPE 00, LEN, NLEN, the bytes),
 * the last one final when `last`. Valid after a sync-flushed chunk or at the start: both are byte-aligned.
 */
export function storedBlocks(data: Uint8Array, last: boolean): Buffer {
  const blocks = Math.max(1, Math.ceil(data.length / STORED_BLOCK));
  const out = Buffer.allocUnsafe(data.length + 5 * blocks);
  let at = 0;
  for (let b = 0, from = 0; b < blocks; b++, from += STORED_BLOCK) {
    const len = Math.min(STORED_BLOCK, data.length - from);
    out[at] = last && b === blocks - 1 ? 1 : 0;
    out.writeUInt16LE(len, at + 1);
    out.writeUInt16LE(~len & 0xffff, at + 3);
    out.set(data.subarray(from, from + len), at + 5);
    at += 5 + len;
  }
  return out;
}

/**
 * One output buffer large enough for the whole chunk: with zlib's default of 16 KiB, every 16 KiB of output is a
 * round trip between the thread pool and the main thread (the main thread's largest cost when profiled), and the
 * pieces are then copied into one buffer.
 */
function outputSize(input: number): number {
  return input + 5 * Math.ceil(input / 16_000) + 1024;
}

/**
 * Encodes one chunk as part of a file's deflate stream: stored blocks built here, or zlib at level 1 with the
 * previous 32 KiB as dictionary, ended by a sync flush (or the final block when `last`).
 */
export async function deflateChunk(chunk: Buffer, dictionary: Buffer | undefined, last: boolean): Promise<Buffer> {
  if ((await chooseEncoding(chunk)) === "stored") return storedBlocks(chunk, last);
  const opts: ZlibOptions = {
    level: 1,
    finishFlush: last ? zc.Z_FINISH : zc.Z_SYNC_FLUSH,
    chunkSize: outputSize(chunk.length),
  };
  if (dictionary) opts.dictionary = dictionary;
  const out = await deflateRawAsync(chunk, opts);
  // The result is a view of zlib's output buffer: keep only its bytes when it is mostly empty (compressed text).
  if (out.length >= out.buffer.byteLength / 2) return out;
  noteGarbage(out.buffer.byteLength);
  return Buffer.from(out);
}

/** A FIFO counting semaphore bounding concurrent deflate jobs. */
export class Semaphore {
  private waiters: (() => void)[] = [];
  constructor(private free: number) {}
  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }
  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.free++;
  }
}

/** One file's compressed bytes, held in memory when small and in a spill file when large. */
export interface CompressedFile {
  method: 0 | 8;
  crc: number;
  uncompressedSize: number;
  compressedSize: number;
  /** Yields the compressed bytes in order, then releases them. */
  read(): AsyncIterable<Buffer>;
  dispose(): Promise<void>;
}

export interface CompressorOptions {
  /** Deflate jobs running at once (each on libuv's thread pool). */
  concurrency: number;
  /** Input bytes per deflate job; large files are split and compressed in parallel. */
  chunkSize: number;
  /** Compressed bytes kept in memory per file before spilling to disk. */
  spillThreshold: number;
  spillDir: string;
  signal: AbortSignal;
  /** Called with the number of input bytes just read. */
  onRead?: (bytes: number) => void;
}

/**
 * Deflates files at zlib level 1 (.NET's CompressionLevel.Fastest, which the official tool uses), in parallel:
 * a file is cut into chunks, each compressed with the previous 32 KiB as dictionary and ended with a sync
 * flush, so the concatenation is one valid deflate stream (the method pigz uses). Memory stays bounded by
 * concurrency × chunk size plus the spill threshold, whatever the file sizes.
 */
export class Compressor {
  private readonly sem: Semaphore;
  private spillCounter = 0;

  constructor(private readonly options: CompressorOptions) {
    this.sem = new Semaphore(options.concurrency);
  }

  /**
   * Read buffers are recycled: with one fresh 1 MiB buffer per chunk, garbage collection lags behind and the
   * process holds tens of MiB of dead buffers. At most `concurrency` are in use (the semaphore bounds them).
   */
  private readonly free: Buffer[] = [];

  private takeBuffer(size: number): Buffer {
    const pooled = size === this.options.chunkSize ? this.free.pop() : undefined;
    return pooled ?? Buffer.allocUnsafeSlow(size);
  }

  private giveBuffer(buf: Buffer): void {
    if (buf.length === this.options.chunkSize && this.free.length < this.options.concurrency) this.free.push(buf);
  }

  async compress(entry: SourceEntry): Promise<CompressedFile> {
    if (entry.size === 0) return memoryFile(0, 0, 0, []);
    const { chunkSize, spillThreshold, signal } = this.options;
    // A file swapped for a FIFO or device since the listing is refused, never waited on.
    const { handle: fh } = await openRegularFile({ path: entry.absPath, what: "source file" });
    const pending: Promise<Buffer>[] = [];
    const held: Buffer[] = [];
    let heldBytes = 0;
    let compressedSize = 0;
    let spill: { fh: FileHandle; path: string } | undefined;
    let spillPos = 0;
    let crc = 0;
    let position = 0;
    let dictionary: Buffer | undefined;

    const drainOne = async (): Promise<void> => {
      const out = await pending.shift()!;
      compressedSize += out.length;
      if (!spill && heldBytes + out.length > spillThreshold) {
        const path = join(this.options.spillDir, `spill-${this.spillCounter++}.bin`);
        spill = { fh: await open(path, "w+", 0o600), path };
        for (const b of held.splice(0)) {
          await spill.fh.write(b, 0, b.length, spillPos);
          spillPos += b.length;
        }
        noteGarbage(heldBytes);
        heldBytes = 0;
      }
      if (spill) {
        await spill.fh.write(out, 0, out.length, spillPos);
        spillPos += out.length;
        noteGarbage(out.length);
      } else {
        held.push(out);
        heldBytes += out.length;
      }
    };

    try {
      while (position < entry.size) {
        signal.throwIfAborted();
        await this.sem.acquire();
        let released = false;
        const release = (): void => {
          if (!released) this.sem.release();
          released = true;
        };
        try {
          const want = Math.min(chunkSize, entry.size - position);
          const buf = this.takeBuffer(want);
          const { bytesRead } = await fh.read(buf, 0, want, position);
          if (bytesRead !== want) throw changedWhilePackaging(entry);
          position += want;
          this.options.onRead?.(want);
          crc = crc32(buf, crc);
          const previous = dictionary;
          dictionary = Buffer.from(buf.subarray(Math.max(0, want - DICTIONARY_SIZE)));
          const job = deflateChunk(buf, previous, position >= entry.size).finally(() => {
            this.giveBuffer(buf);
            release();
          });
          job.catch(() => {}); // awaited in order by drainOne
          pending.push(job);
        } catch (e) {
          release();
          throw e;
        }
        // Jobs of this file running or done but not yet drained: at most `concurrency` (their outputs are memory).
        while (pending.length >= this.options.concurrency) await drainOne();
      }
      while (pending.length) await drainOne();
      if ((await fh.stat()).size !== entry.size) throw changedWhilePackaging(entry);
    } catch (e) {
      await Promise.allSettled(pending);
      if (spill) {
        await spill.fh.close();
        await rm(spill.path, { force: true });
      }
      throw e;
    } finally {
      await fh.close();
    }
    if (!spill) return memoryFile(8, crc, entry.size, held);
    const s = spill;
    return {
      method: 8,
      crc,
      uncompressedSize: entry.size,
      compressedSize,
      async *read() {
        const buf = Buffer.allocUnsafe(1024 * 1024);
        for (let pos = 0; pos < compressedSize;) {
          const { bytesRead } = await s.fh.read(buf, 0, Math.min(buf.length, compressedSize - pos), pos);
          if (bytesRead === 0) throw new PublisherError("SpillTruncated", `Temporary file ${s.path} was truncated.`);
          pos += bytesRead;
          yield buf.subarray(0, bytesRead);
        }
      },
      async dispose() {
        await s.fh.close();
        await rm(s.path, { force: true });
      },
    };
  }
}

function memoryFile(method: 0 | 8, crc: number, size: number, chunks: Buffer[]): CompressedFile {
  return {
    method,
    crc,
    uncompressedSize: size,
    compressedSize: chunks.reduce((n, b) => n + b.length, 0),
    async *read() {
      while (chunks.length) {
        const chunk = chunks.shift()!;
        yield chunk;
        noteGarbage(chunk.length);
      }
    },
    async dispose() {
      chunks.length = 0;
    },
  };
}

function changedWhilePackaging(entry: SourceEntry): PublisherError {
  return new PublisherError("SourceChanged", `"${entry.zipName}" changed size while it was being packaged.`, {
    hint: "Stop whatever is writing to the source folder and package again.",
  });
}
