/**
 * Reads an answer's body from the moment it arrives and hands every chunk, synchronously and in order, to one
 * consumer: bytes received before a failure are all delivered (an async iterator over the stream would lose the
 * last chunks when the connection breaks right after them, as a destroyed stream drops its buffer), and there is no
 * promise per chunk (a download is ~65,000 TLS records per GiB). Until a consumer is attached, chunks wait in a
 * queue (the stream is paused past `QUEUE_LIMIT`); the consumer pauses and resumes the stream for flow control.
 * A body of our own HTTP reader (raw-get.ts) is read directly: its chunks come without the Readable's buffering
 * and events, and pause/resume act on the socket; errors and the end come as from any stream.
 */
import type { Readable } from "node:stream";
import { isDirectBody } from "../../clients/http/raw-get.js";
import type { DirectBody } from "../../clients/http/raw-get.js";

const QUEUE_LIMIT = 2 * 1024 * 1024;

export class BodyReader {
  private queue: Buffer[] = [];
  private queued = 0;
  private sink: ((chunk: Buffer) => void) | undefined;
  private ended = false;
  private error: unknown;
  private settle: ((error?: unknown) => void) | undefined;
  private readonly direct: DirectBody | undefined;
  private paused = false;

  constructor(private readonly body: Readable) {
    if (isDirectBody(body)) {
      this.direct = body;
      body.attachSink(
        (chunk) => this.deliver(chunk),
        () => this.finish(),
      );
    } else {
      body.on("data", (chunk: Buffer) => this.deliver(chunk));
      body.on("end", () => this.finish());
    }
    body.on("error", (e: unknown) => this.finish(e));
    // Destroyed without an error: the body simply stops (the caller compares the length received).
    body.on("close", () => this.finish());
  }

  private deliver(chunk: Buffer): void {
    if (this.ended) return;
    if (this.sink === undefined) {
      this.queue.push(chunk);
      this.queued += chunk.length;
      if (this.queued >= QUEUE_LIMIT) this.pause();
      return;
    }
    try {
      this.sink(chunk);
    } catch (e) {
      this.finish(e);
      this.body.destroy();
    }
  }

  private finish(error?: unknown): void {
    if (error !== undefined) this.error ??= error;
    if (this.ended) return;
    this.ended = true;
    this.settle?.(this.error);
  }

  /**
   * Hands every chunk to `sink` (those already received first), until the body ends; rejects with the body's
   * error, or what `sink` threw, once every chunk received before it was handed over.
   */
  pipeTo(sink: (chunk: Buffer) => void): Promise<void> {
    this.sink = sink;
    const queued = this.queue;
    this.queue = [];
    this.queued = 0;
    for (const chunk of queued) {
      try {
        sink(chunk);
      } catch (e) {
        this.finish(e);
        this.body.destroy();
        break;
      }
    }
    return new Promise<void>((resolve, reject) => {
      const settle = (error?: unknown): void => (error === undefined ? resolve() : reject(error));
      if (this.ended) return settle(this.error);
      this.settle = settle;
      if (this.paused) this.resume();
    });
  }

  pause(): void {
    if (this.ended || this.paused) return;
    this.paused = true;
    if (this.direct !== undefined) this.direct.pauseSource();
    else this.body.pause();
  }

  resume(): void {
    if (this.ended || !this.paused) return;
    this.paused = false;
    if (this.direct !== undefined) this.direct.resumeSource();
    else this.body.resume();
  }

  /** Stops reading: the connection is closed (undici reports that as an error, which nobody needs). */
  stop(): void {
    this.finish();
    this.queue = [];
    this.body.destroy();
  }
}
