import { open, rm, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { constants as zc, deflateRaw, type ZlibOptions } from "node:zlib";
import { promisify } from "node:util";
import { PublisherError } from "../core/errors.js";
import { openRegularFile } from "../platform/fs.js";
import { crc32 } from "./crc32.js";
import type { SourceEntry } from "./source.js";

const deflateRawAsync = promisify<Buffer, ZlibOptions, Buffer>(deflateRaw);
const DICTIONARY_SIZE = 32 * 1024;
const SAMPLE = 16 * 1024;

/**
 * Installers are mostly already compressed (cabinets, archives, media). Deflate at level 1 spends most of
 * its time on such data and then emits stored blocks anyway, so a chunk whose three 16 KiB samples do not
 * shrink is deflated at level 0: still a deflate stream (method 8), just made of stored blocks, at copy speed.
 */
async function levelFor(chunk: Buffer): Promise<number> {
  if (chunk.length < 4 * SAMPLE) return 1;
  const mid = Math.floor(chunk.length / 2);
  const sample = Buffer.concat([
    chunk.subarray(0, SAMPLE),
    chunk.subarray(mid, mid + SAMPLE),
    chunk.subarray(chunk.length - SAMPLE),
  ]);
  const probe = await deflateRawAsync(sample, { level: 1 });
  return probe.length > sample.length * 0.97 ? 0 : 1;
}

/**
 * One output buffer large enough for the whole chunk: with zlib's default of 16 KiB, every 16 KiB of output is a
 * round trip between the thread pool and the main thread (the main thread's largest cost when profiled), and the
 * pieces are then copied into one buffer. Stored blocks are cut at this size too, so they come out at their
 * 64 KiB maximum instead of 16 KiB (a few bytes smaller; the same bytes once inflated).
 */
function outputSize(input: number): number {
  return input + 5 * Math.ceil(input / 16_000) + 1024;
}

async function deflateChunk(chunk: Buffer, dictionary: Buffer | undefined, last: boolean): Promise<Buffer> {
  const level = await levelFor(chunk);
  const opts: ZlibOptions = {
    level,
    finishFlush: last ? zc.Z_FINISH : zc.Z_SYNC_FLUSH,
    chunkSize: outputSize(chunk.length),
  };
  if (dictionary) opts.dictionary = dictionary;
  const out = await deflateRawAsync(chunk, opts);
  // The result is a view of zlib's output buffer: keep only its bytes when it is mostly empty (compressed text).
  return out.length < out.buffer.byteLength / 2 ? Buffer.from(out) : out;
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
        heldBytes = 0;
      }
      if (spill) {
        await spill.fh.write(out, 0, out.length, spillPos);
        spillPos += out.length;
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
        while (pending.length > this.options.concurrency) await drainOne();
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
      while (chunks.length) yield chunks.shift()!;
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
