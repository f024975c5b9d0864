/**
 * Cuts a byte stream into fixed-size blocks on demand, copied into a buffer the caller gives (so buffers can be
 * reused) or a new one. The stream is pulled only as blocks are asked for (its own buffer is a highWaterMark,
 * 64 KiB for files), so memory is the callers' buffers plus that.
 */
import type { Readable } from "node:stream";
import { PublisherError } from "../../core/errors.js";

export class BlockReader {
  private readonly it: AsyncIterator<unknown>;
  private pending: Buffer | undefined;
  private offset = 0;
  private done = false;

  constructor(stream: Readable) {
    this.it = stream[Symbol.asyncIterator]();
  }

  /** bytes consumed so far */
  get position(): number {
    return this.offset;
  }

  private async chunk(): Promise<Buffer | undefined> {
    if (this.pending !== undefined && this.pending.length > 0) return this.pending;
    if (this.done) return undefined;
    const r = await this.it.next();
    if (r.done === true) {
      this.done = true;
      return undefined;
    }
    this.pending = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value as Uint8Array);
    return this.pending;
  }

  /** Exactly `size` bytes (a new buffer), or fewer only if the stream ends first. */
  read(size: number): Promise<Buffer> {
    return this.readInto(Buffer.allocUnsafe(size), size);
  }

  /** Fills the start of `out` with `size` bytes (fewer only if the stream ends first); returns that part of `out`. */
  async readInto(out: Buffer, size: number): Promise<Buffer> {
    if (size > out.length) throw new RangeError(`Cannot read ${size} bytes into a buffer of ${out.length}.`);
    let filled = 0;
    while (filled < size) {
      const c = await this.chunk();
      if (c === undefined) break;
      const n = Math.min(size - filled, c.length);
      c.copy(out, filled, 0, n);
      this.pending = c.subarray(n);
      filled += n;
    }
    this.offset += filled;
    return out.subarray(0, filled);
  }

  /** Consumes `size` bytes without keeping them; returns how many there were. */
  async skip(size: number): Promise<number> {
    let skipped = 0;
    while (skipped < size) {
      const c = await this.chunk();
      if (c === undefined) break;
      const n = Math.min(size - skipped, c.length);
      this.pending = c.subarray(n);
      skipped += n;
    }
    this.offset += skipped;
    return skipped;
  }

  /** Fails unless the stream has ended exactly here. */
  async expectEnd(what: string): Promise<void> {
    const c = await this.chunk();
    if (c !== undefined) throw new PublisherError("PayloadSizeMismatch", `${what} is longer than its declared size.`);
  }

  /** Stops reading (destroys the stream through its iterator). */
  async close(): Promise<void> {
    if (!this.done) {
      this.done = true;
      await this.it.return?.();
    }
  }
}
