/**
 * Parallel block upload (docs/reference/graph-win32-upload.md §2.6): `concurrency` workers each take the next block
 * and Put it. Blocks already staged (a resume) are not sent.
 * - A positional source (a file): each block is read in `READ_SLICE` slices while it is sent, one slice ahead of the
 *   socket, as a file stream piped into the request would. Memory is about two slices per block in flight, whatever
 *   the block size; a retry or a resend reads the block again from the file.
 * - A stream: one sequential reader fills whole blocks; each worker reuses one block buffer, so memory is
 *   `blockSize × concurrency` whatever the payload size and however late the garbage collector runs. Blocks already
 *   staged are read past.
 *
 * Failures of one block, after the pipeline's own retries (429/503/504, dropped connections):
 * - 403 (expired or revoked SAS): ask the URL source for a renewed URL (one renewal is shared by every worker that
 *   was refused with the same URL) and resend the block; at most `maxRefusalsPerBlock` times;
 * - 500 (storage's InternalError / OperationTimedOut, documented as retryable): resend after backoff, a few times;
 * - anything else stops every worker and is thrown.
 */
import { setMaxListeners } from "node:events";
import type { Readable } from "node:stream";
import { PublisherError } from "../../core/errors.js";
import { abortError } from "../http/errors.js";
import { backoffDelay } from "../http/retry-policy.js";
import { abortableSleep } from "../http/sleep.js";
import type { Sleep, StreamedBody } from "../http/types.js";
import { BlockReader } from "./block-reader.js";
import { blockId, MAX_BLOCK_SIZE, MAX_BLOCKS_PER_BLOB, StorageError } from "./block-blob.js";
import type { BlockBlobClient } from "./block-blob.js";

/** An upload URL and a counter that grows with each renewal, so a refusal names the URL it concerned. */
export interface UploadUrl {
  url: string;
  generation: number;
}

export interface UploadUrlSource {
  /** The URL to start a block with; may first renew it when it is about to lapse (proactive renewal). */
  ready(signal: AbortSignal): Promise<UploadUrl>;
  /** `refused` was answered 403: resolve to a renewed URL (renewing at most once per generation). */
  refused(refused: UploadUrl, error: StorageError, signal: AbortSignal): Promise<UploadUrl>;
}

export interface BlockDone {
  index: number;
  id: string;
  size: number;
}

export interface UploadBlocksOptions {
  client: Pick<BlockBlobClient, "putBlock">;
  /**
   * The whole content: a stream from its first byte, or positional reads (each block read straight into its
   * buffer; blocks already staged are not read at all).
   */
  source: Readable | PositionalSource;
  /** total bytes the source holds */
  size: number;
  blockSize: number;
  concurrency: number;
  urls: UploadUrlSource;
  /** block indices already staged: read past, not sent */
  skip?: ReadonlySet<number>;
  signal?: AbortSignal;
  /** a block was acknowledged (201) */
  onBlock?: (block: BlockDone) => void;
  /** default 2 */
  maxRefusalsPerBlock?: number;
  /** default 3 */
  maxServerErrorRetries?: number;
  sleep?: Sleep;
  random?: () => number;
}

/** Reads `length` bytes at `position` into `buffer` (fewer only at the end of the content). */
export interface PositionalSource {
  read(buffer: Buffer, length: number, position: number): Promise<number>;
}

function isPositional(s: Readable | PositionalSource): s is PositionalSource {
  return typeof (s as PositionalSource).read === "function" && !("pipe" in s);
}

export interface UploadBlocksResult {
  /** every block id, in blob order (for Put Block List) */
  ids: string[];
  sentBlocks: number;
  sentBytes: number;
}

/**
 * Bytes per read of a positional source's block while it is sent: a fresh buffer each (the socket may still hold the
 * previous one), written in 64 KiB views by the transport.
 */
export const READ_SLICE = 256 * 1024;

/**
 * Block `[position, position + length)` of `source` as a body read while it is sent, the next slice read while the
 * current one is written. `short(at)` is thrown where the source ends early.
 */
export function positionalBlockBody(
  source: PositionalSource,
  position: number,
  length: number,
  short: (at: number) => Error,
): StreamedBody {
  const end = position + length;
  const readAt = async (at: number): Promise<Buffer> => {
    const want = Math.min(READ_SLICE, end - at);
    const slice = Buffer.allocUnsafe(want);
    const n = await source.read(slice, want, at);
    if (n !== want) throw short(at + n);
    return slice;
  };
  return {
    length,
    async *open() {
      let at = position;
      let next: Promise<Buffer> | undefined = length > 0 ? readAt(at) : undefined;
      while (next !== undefined) {
        const slice = await next;
        at += slice.length;
        next = at < end ? readAt(at) : undefined;
        // Seen when awaited; handled now in case the request stops first (abort, refusal) and never asks for it.
        next?.catch(() => undefined);
        yield slice;
      }
    },
  };
}

export function blockCount(size: number, blockSize: number): number {
  return Math.max(1, Math.ceil(size / blockSize));
}

/** Checks a block size against the storage limits for a blob of `size` bytes; returns the block count. */
export function checkBlockLayout(size: number, blockSize: number): number {
  if (!Number.isInteger(blockSize) || blockSize < 1 || blockSize > MAX_BLOCK_SIZE)
    throw new PublisherError(
      "InvalidBlockSize",
      `The block size must be a whole number of bytes from 1 to ${MAX_BLOCK_SIZE} (100 MiB), not ${blockSize}.`,
    );
  const count = blockCount(size, blockSize);
  if (count > MAX_BLOCKS_PER_BLOB)
    throw new PublisherError(
      "TooManyBlocks",
      `${size} bytes in blocks of ${blockSize} bytes make ${count} blocks; Azure Storage allows ${MAX_BLOCKS_PER_BLOB}.`,
      { hint: `Use a block size of at least ${Math.ceil(size / MAX_BLOCKS_PER_BLOB)} bytes.` },
    );
  return count;
}

export async function uploadBlocks(o: UploadBlocksOptions): Promise<UploadBlocksResult> {
  const count = checkBlockLayout(o.size, o.blockSize);
  if (!Number.isInteger(o.concurrency) || o.concurrency < 1)
    throw new PublisherError("InvalidConcurrency", `Concurrency must be a whole number ≥ 1, not ${o.concurrency}.`);
  const skip = o.skip ?? new Set<number>();
  const sleep = o.sleep ?? abortableSleep;
  const random = o.random ?? Math.random;
  const maxRefusals = o.maxRefusalsPerBlock ?? 2;
  const maxServerErrors = o.maxServerErrorRetries ?? 3;
  const lengthOf = (i: number): number => Math.min(o.blockSize, o.size - i * o.blockSize);
  const ids = Array.from({ length: count }, (_, i) => blockId(i));

  const stop = new AbortController();
  const signal = o.signal === undefined ? stop.signal : AbortSignal.any([o.signal, stop.signal]);
  // Every block in flight listens to this signal (undici adds an abort listener per request, the retry sleep
  // another): above 10 blocks Node would warn of a listener leak (MaxListenersExceededWarning) where there is none.
  setMaxListeners(Math.max(10, 2 * o.concurrency + 4), signal);
  const positional = isPositional(o.source) ? o.source : undefined;
  const reader = positional === undefined ? new BlockReader(o.source as Readable) : undefined;
  const short = (at: number): PublisherError =>
    new PublisherError("PayloadSizeMismatch", `The content ended at byte ${at} of ${o.size}.`);

  // Blocks handed out in order under a promise-chain lock (the stream's one reader reads under it).
  let next = 0;
  let lock: Promise<unknown> = Promise.resolve();
  let ended = false;
  // A worker gives its buffer back before taking the next block, so at most `concurrency` buffers ever exist.
  // Safe to reuse: putBlock has resolved or thrown, so the transport no longer reads the body.
  const buffers: Buffer[] = [];
  interface Block {
    index: number;
    length: number;
    data: Buffer | StreamedBody;
    buffer?: Buffer;
  }
  const take = (): Promise<Block | undefined> => {
    const p = lock.then(async (): Promise<Block | undefined> => {
      while (next < count && skip.has(next)) {
        const n = lengthOf(next);
        if (reader !== undefined && (await reader.skip(n)) !== n) throw short(reader.position);
        next++;
      }
      if (next >= count) {
        if (!ended) {
          ended = true;
          if (reader !== undefined) await reader.expectEnd("The content");
        }
        return undefined;
      }
      const index = next++;
      const length = lengthOf(index);
      if (positional !== undefined)
        return { index, length, data: positionalBlockBody(positional, index * o.blockSize, length, short) };
      const buffer = buffers.pop() ?? Buffer.allocUnsafe(Math.min(o.blockSize, o.size));
      const data = await reader!.readInto(buffer, length);
      if (data.length !== length) throw short(reader!.position);
      return { index, length, data, buffer };
    });
    lock = p.catch(() => undefined);
    return p;
  };

  let sentBlocks = 0;
  let sentBytes = 0;
  const send = async (index: number, data: Buffer | StreamedBody): Promise<void> => {
    let refusals = 0;
    let serverErrors = 0;
    let url = await o.urls.ready(signal);
    for (;;) {
      try {
        await o.client.putBlock(url.url, ids[index]!, data, signal);
        return;
      } catch (e) {
        if (!(e instanceof StorageError)) throw e;
        if (e.status === 403 && refusals < maxRefusals) {
          refusals++;
          url = await o.urls.refused(url, e, signal);
          continue;
        }
        if (e.status === 500 && serverErrors < maxServerErrors) {
          serverErrors++;
          await sleep(backoffDelay(serverErrors, { baseDelayMs: 1000, maxDelayMs: 30_000, random }), signal);
          url = await o.urls.ready(signal);
          continue;
        }
        throw e;
      }
    }
  };

  let failure: unknown;
  const worker = async (): Promise<void> => {
    try {
      for (;;) {
        if (signal.aborted) return;
        const block = await take();
        if (block === undefined) return;
        await send(block.index, block.data);
        sentBlocks++;
        sentBytes += block.length;
        if (block.buffer !== undefined) buffers.push(block.buffer);
        o.onBlock?.({ index: block.index, id: ids[block.index]!, size: block.length });
      }
    } catch (e) {
      failure ??= e;
      stop.abort();
    }
  };

  try {
    await Promise.all(Array.from({ length: Math.min(o.concurrency, count) }, worker));
  } finally {
    await reader?.close();
  }
  if (o.signal?.aborted) throw abortError(o.signal);
  if (failure !== undefined) throw failure;
  return { ids, sentBlocks, sentBytes };
}
