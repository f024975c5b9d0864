import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { inflateRawSync } from "node:zlib";
import { describe, it } from "node:test";
import { byteEntropy, deflateChunk, STORED_ENTROPY, storedBlocks } from "./compress.js";

const text = (n: number): Buffer =>
  Buffer.from(Array.from({ length: Math.ceil(n / 30) }, (_, i) => `${i} setup started ok\r\n`).join("")).subarray(0, n);

/** Chunks encoded one after another as the compressor does: the previous 32 KiB as dictionary, the last final. */
async function encode(chunks: Buffer[]): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (let i = 0; i < chunks.length; i++) {
    const previous = i > 0 ? chunks[i - 1]!.subarray(-32 * 1024) : undefined;
    out.push(await deflateChunk(chunks[i]!, previous, i === chunks.length - 1));
  }
  return out;
}

describe("deflate chunks", () => {
  it("writes stored blocks of at most 65,535 bytes, the last one final", () => {
    const data = randomBytes(2 * 65_535 + 7);
    const out = storedBlocks(data, true);
    assert.equal(out.length, data.length + 3 * 5);
    const headers = [0, 65_540, 2 * 65_540].map((at) => [out[at], out.readUInt16LE(at + 1), out.readUInt16LE(at + 3)]);
    assert.deepEqual(headers, [
      [0, 65_535, 0],
      [0, 65_535, 0],
      [1, 7, 0xffff - 7],
    ]);
    assert.ok(inflateRawSync(out).equals(data));
    assert.ok(
      inflateRawSync(Buffer.concat([storedBlocks(data.subarray(0, 9), false), out])).equals(
        Buffer.concat([data.subarray(0, 9), data]),
      ),
    );
  });

  it("estimates bytes' entropy: random near 8 bits, text far below, one repeated byte 0", () => {
    assert.ok(byteEntropy(randomBytes(24 * 1024)) >= STORED_ENTROPY);
    assert.ok(byteEntropy(text(24 * 1024)) < 5);
    assert.equal(byteEntropy(Buffer.alloc(100, 7)), 0);
    assert.equal(byteEntropy(Buffer.alloc(0)), 0);
  });

  it("stores random chunks, deflates text, and the pieces make one stream that inflates to the input", async () => {
    const chunks = [
      randomBytes(1024 * 1024),
      text(1024 * 1024),
      randomBytes(777_777),
      text(5_000),
      randomBytes(70_001),
    ];
    const out = await encode(chunks);
    // Stored: exactly the input plus 5 bytes per block of at most 65,535 bytes.
    for (const i of [0, 2, 4]) {
      assert.equal(out[i]!.length, chunks[i]!.length + 5 * Math.ceil(chunks[i]!.length / 65_535), `chunk ${i}`);
    }
    assert.ok(out[1]!.length < chunks[1]!.length / 4, "text is deflated");
    assert.equal(out[4]![out[4]!.length - (70_001 - 65_535) - 5], 1, "the last stored block is final");
    assert.ok(inflateRawSync(Buffer.concat(out)).equals(Buffer.concat(chunks)));
  });

  it("deflates a text chunk that follows a stored one, and ends the stream with it", async () => {
    const chunks = [randomBytes(300_000), text(1024 * 1024)];
    const out = await encode(chunks);
    assert.ok(inflateRawSync(Buffer.concat(out)).equals(Buffer.concat(chunks)));
    assert.throws(() => inflateRawSync(out[0]!, { finishFlush: 4 }), "a stored chunk that is not last is not final");
  });
});
