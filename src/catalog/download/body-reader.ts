/**
 * Reads an answer's body from the moment it arrives, keeping every byte received before a failure. An async
 * iterator over the stream would lose the last chunks when the connection breaks right after them (a destroyed
 * stream drops its buffer), and bytes arriving while the downloader prepares its file; a resume must start exactly
 * after the last byte received. Flow control: the stream is paused while `HIGH_WATER` bytes wait.
 */
import type { Readable } from "node:stream";

const HIGH_WATER = 2 * 1024 * 1024;

export class BodyReader {
  private queue: Buffer[] = [];
  private queued = 0;
  private ended = false;
  private error: unknown;
  private wake: (() => void) | undefined;

  constructor(private readonly body: Readable) {
    const signal = (): void => {
      const w = this.wake;
      this.wake = undefined;
      w?.();
    };
    body.on("data", (chunk: Buffer) => {
      this.queue.push(chunk);
      this.queued += chunk.length;
      if (this.queued >= HIGH_WATER) body.pause();
      signal();
    });
    body.on("end", () => {
      this.ended = true;
      signal();
    });
    body.on("error", (e: unknown) => {
      this.error ??= e;
      this.ended = true;
      signal();
    });
    // Destroyed without an error: the body simply stops (the caller compares the length received).
    body.on("close", () => {
      this.ended = true;
      signal();
    });
  }

  /** The chunks received since the last call; undefined at the end; the body's error once its data is taken. */
  async next(): Promise<Buffer[] | undefined> {
    while (this.queue.length === 0) {
      if (this.ended) {
        if (this.error !== undefined) throw this.error;
        return undefined;
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    const out = this.queue;
    this.queue = [];
    this.queued = 0;
    if (!this.ended && this.body.isPaused()) this.body.resume();
    return out;
  }

  /** Stops reading: the connection is closed (undici reports that as an error, which nobody needs). */
  stop(): void {
    this.ended = true;
    this.queue = [];
    this.body.destroy();
  }
}
