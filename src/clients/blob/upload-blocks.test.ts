import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { describe, it } from "node:test";
import { blockId, StorageError } from "./block-blob.js";
import type { BlockBlobClient } from "./block-blob.js";
import type { StreamedBody } from "../http/types.js";
import { uploadBlocks } from "./upload-blocks.js";
import type { UploadUrl, UploadUrlSource } from "./upload-blocks.js";

function content(n: number): Buffer {
  return Buffer.from(Array.from({ length: n }, (_, i) => i % 251));
}

/** The content in odd-sized chunks, as a file stream would deliver it. */
function stream(data: Buffer): Readable {
  const chunks: Buffer[] = [];
  for (let i = 0; i < data.length; i += 7) chunks.push(data.subarray(i, i + 7));
  return Readable.from(chunks);
}

function forbidden(): StorageError {
  return new StorageError({
    status: 403,
    storageCode: "AuthenticationFailed",
    storageMessage: undefined,
    operation: "Put Block",
    url: "https://x/REDACTED",
    requestId: undefined,
    clientRequestId: undefined,
  });
}

/** A Put Block's body as bytes: in memory, or read through (as the transport sends a streamed body). */
async function bytesOf(data: Uint8Array | StreamedBody): Promise<Buffer> {
  if (data instanceof Uint8Array) return Buffer.from(data);
  const pieces: Uint8Array[] = [];
  for await (const piece of data.open()) pieces.push(piece);
  return Buffer.concat(pieces);
}

class FakeStorage implements Pick<BlockBlobClient, "putBlock"> {
  readonly stored = new Map<string, Buffer>();
  readonly puts: { url: string; id: string }[] = [];
  inFlight = 0;
  maxInFlight = 0;
  refuse: (url: string, id: string) => boolean = () => false;
  async putBlock(url: string, id: string, data: Uint8Array | StreamedBody): Promise<void> {
    this.puts.push({ url, id });
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await new Promise((r) => setTimeout(r, 2));
      if (this.refuse(url, id)) throw forbidden();
      this.stored.set(id, await bytesOf(data));
    } finally {
      this.inFlight--;
    }
  }
}

class FakeUrls implements UploadUrlSource {
  current: UploadUrl = { url: "u0", generation: 0 };
  renewals = 0;
  async ready(): Promise<UploadUrl> {
    return this.current;
  }
  async refused(refused: UploadUrl): Promise<UploadUrl> {
    if (refused.generation === this.current.generation) {
      this.renewals++;
      this.current = { url: `u${this.renewals}`, generation: this.renewals };
    }
    return this.current;
  }
}

describe("uploadBlocks", () => {
  it("stores every block exactly, in fixed-width ids, with bounded parallelism", async () => {
    const data = content(1000);
    const storage = new FakeStorage();
    const acks: number[] = [];
    const r = await uploadBlocks({
      client: storage,
      source: stream(data),
      size: data.length,
      blockSize: 64,
      concurrency: 3,
      urls: new FakeUrls(),
      onBlock: (b) => acks.push(b.index),
    });
    assert.equal(r.ids.length, 16);
    assert.equal(r.sentBlocks, 16);
    assert.equal(r.sentBytes, 1000);
    assert.deepEqual(Buffer.concat(r.ids.map((id) => storage.stored.get(id)!)), data);
    assert.equal(storage.maxInFlight, 3);
    assert.deepEqual(
      [...acks].sort((a, b) => a - b),
      [...Array(16).keys()],
    );
  });

  it("positional source: each block read at its offset, skipped blocks never read, a short source refused", async () => {
    const data = content(1000);
    const reads: number[] = [];
    const positional = {
      read: async (buffer: Buffer, length: number, position: number): Promise<number> => {
        reads.push(position);
        return data.copy(buffer, 0, position, Math.min(data.length, position + length));
      },
    };
    const storage = new FakeStorage();
    const r = await uploadBlocks({
      client: storage,
      source: positional,
      size: data.length,
      blockSize: 64,
      concurrency: 4,
      urls: new FakeUrls(),
      skip: new Set([0, 5]),
    });
    assert.equal(r.sentBlocks, 14);
    assert.equal(r.sentBytes, 1000 - 128);
    for (let i = 0; i < 16; i++) {
      if (i === 0 || i === 5) assert.equal(storage.stored.get(blockId(i)), undefined);
      else assert.deepEqual(storage.stored.get(blockId(i)), data.subarray(i * 64, i * 64 + 64));
    }
    assert.deepEqual(
      [...reads].sort((a, b) => a - b),
      [...Array(16).keys()].filter((i) => i !== 0 && i !== 5).map((i) => i * 64),
    );
    const short = { read: async (b: Buffer, l: number, p: number) => data.subarray(0, 900).copy(b, 0, p, p + l) };
    await assert.rejects(
      uploadBlocks({
        client: new FakeStorage(),
        source: short,
        size: 1000,
        blockSize: 64,
        concurrency: 2,
        urls: new FakeUrls(),
      }),
      /The content ended at byte 900 of 1000/,
    );
  });

  it("reads past skipped blocks without sending them", async () => {
    const data = content(500);
    const storage = new FakeStorage();
    const r = await uploadBlocks({
      client: storage,
      source: stream(data),
      size: data.length,
      blockSize: 100,
      concurrency: 2,
      urls: new FakeUrls(),
      skip: new Set([0, 2, 4]),
    });
    assert.deepEqual(storage.puts.map((p) => p.id).sort(), [blockId(1), blockId(3)].sort());
    assert.deepEqual(storage.stored.get(blockId(3)), data.subarray(300, 400));
    assert.equal(r.sentBytes, 200);
  });

  it("renews once when several workers are refused with the same URL, and resends those blocks", async () => {
    const data = content(800);
    const storage = new FakeStorage();
    storage.refuse = (url) => url === "u0";
    const urls = new FakeUrls();
    const r = await uploadBlocks({
      client: storage,
      source: stream(data),
      size: 800,
      blockSize: 100,
      concurrency: 4,
      urls,
    });
    assert.equal(urls.renewals, 1);
    assert.equal(storage.stored.size, 8);
    assert.equal(r.sentBlocks, 8);
  });

  it("gives up on a block refused again after renewals", async () => {
    const storage = new FakeStorage();
    storage.refuse = () => true;
    const urls = new FakeUrls();
    await assert.rejects(
      uploadBlocks({ client: storage, source: stream(content(100)), size: 100, blockSize: 100, concurrency: 1, urls }),
      (e: unknown) => e instanceof StorageError && e.status === 403,
    );
    assert.equal(urls.renewals, 2);
  });

  it("fails when the content is shorter or longer than declared", async () => {
    const urls = new FakeUrls();
    await assert.rejects(
      uploadBlocks({
        client: new FakeStorage(),
        source: stream(content(90)),
        size: 100,
        blockSize: 40,
        concurrency: 2,
        urls,
      }),
      { code: "PayloadSizeMismatch" },
    );
    await assert.rejects(
      uploadBlocks({
        client: new FakeStorage(),
        source: stream(content(101)),
        size: 100,
        blockSize: 40,
        concurrency: 2,
        urls,
      }),
      { code: "PayloadSizeMismatch" },
    );
  });

  it("refuses more than 50 000 blocks and blocks over 100 MiB", async () => {
    const urls = new FakeUrls();
    const base = { client: new FakeStorage(), source: stream(Buffer.alloc(0)), concurrency: 1, urls };
    await assert.rejects(uploadBlocks({ ...base, size: 50_001, blockSize: 1 }), { code: "TooManyBlocks" });
    await assert.rejects(uploadBlocks({ ...base, size: 1, blockSize: 100 * 1024 * 1024 + 1 }), {
      code: "InvalidBlockSize",
    });
  });

  it("stops every worker when the signal aborts, with a cancelled error", async () => {
    const ac = new AbortController();
    const storage = new FakeStorage();
    await assert.rejects(
      uploadBlocks({
        client: storage,
        source: stream(content(1000)),
        size: 1000,
        blockSize: 10,
        concurrency: 2,
        urls: new FakeUrls(),
        signal: ac.signal,
        onBlock: (b) => b.index === 3 && ac.abort(),
      }),
      { kind: "cancelled" },
    );
    assert.ok(storage.puts.length < 10, `${storage.puts.length} blocks sent after the abort`);
  });
});

describe("uploadBlocks memory", () => {
  // What keeps memory flat, checked in a way machine load cannot change: the blocks of a 512 MiB payload are read
  // into at most `concurrency` buffers, reused block after block, and no more than `concurrency` Puts are in flight.
  // (RSS and external-memory figures depend on the load and on when the collector runs: bench/upload.ts measures
  // them.)
  it("streams 512 MiB in 8 MiB blocks × 4 through 4 reused block buffers, never the payload", async () => {
    const size = 512 * 1024 * 1024;
    const blockSize = 8 * 1024 * 1024;
    const chunk = Buffer.alloc(1024 * 1024, 7);
    async function* source() {
      for (let i = 0; i < size / chunk.length; i++) yield chunk;
    }
    const buffers = new Set<ArrayBufferLike>();
    let inFlight = 0;
    let maxInFlight = 0;
    let received = 0;
    let puts = 0;
    const client: Pick<BlockBlobClient, "putBlock"> = {
      async putBlock(_url, _id, data) {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        assert.ok(data instanceof Uint8Array, "a stream's blocks are sent from block buffers");
        buffers.add(data.buffer);
        assert.equal(data.byteLength, blockSize);
        await new Promise((r) => setTimeout(r, 1));
        received += data.length;
        puts++;
        inFlight--;
      },
    };
    await uploadBlocks({
      client,
      source: Readable.from(source()),
      size,
      blockSize,
      concurrency: 4,
      urls: new FakeUrls(),
    });
    assert.equal(received, size);
    assert.equal(puts, 64);
    assert.ok(maxInFlight <= 4, `${maxInFlight} Puts in flight`);
    assert.ok(buffers.size <= 4, `${buffers.size} distinct block buffers for 64 blocks`);
  });
});

describe("uploadBlocks with many blocks in flight", () => {
  it("raises no MaxListenersExceededWarning at concurrency 16, where each request listens to the signal", async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on("warning", onWarning);
    try {
      const data = content(64 * 16);
      const listening: Pick<BlockBlobClient, "putBlock"> = {
        // as undici does for each request given a signal
        async putBlock(_url, _id, _data, signal) {
          const onAbort = (): void => undefined;
          signal?.addEventListener("abort", onAbort);
          try {
            await new Promise((r) => setTimeout(r, 5));
          } finally {
            signal?.removeEventListener("abort", onAbort);
          }
        },
      };
      for (const signal of [undefined, new AbortController().signal]) {
        const r = await uploadBlocks({
          client: listening,
          source: stream(data),
          size: data.length,
          blockSize: 64,
          concurrency: 16,
          urls: new FakeUrls(),
          ...(signal === undefined ? {} : { signal }),
        });
        assert.equal(r.sentBlocks, 16);
      }
      await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
      assert.deepEqual(
        warnings.filter((w) => w.name === "MaxListenersExceededWarning").map((w) => w.message),
        [],
      );
    } finally {
      process.off("warning", onWarning);
    }
  });
});
