// Blocks in flight chosen for an upload when the caller sets none: one upload alone, and the apps of a publish run
// sharing one budget of block buffers, in bytes (a caller's large block size no longer multiplies it).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BLOCK_BUDGET, uploadLayoutFor } from "../../src/publish/publish.js";
import {
  BLOCK_BUFFER_BUDGET,
  concurrencyFor,
  DEFAULT_BLOCK_SIZE,
  DEFAULT_CONCURRENCY,
} from "../../src/publish/upload/index.js";

const MiB = 1024 * 1024;

describe("upload layout", () => {
  it("defaults to 32 MiB blocks, 4 in flight: 128 MiB of blocks", () => {
    assert.equal(DEFAULT_BLOCK_SIZE, 32 * MiB);
    assert.equal(DEFAULT_CONCURRENCY, 4);
    assert.equal(BLOCK_BUFFER_BUDGET, 128 * MiB);
    assert.equal(concurrencyFor(DEFAULT_BLOCK_SIZE), 4);
  });

  it("fills the budget with a caller's block size, 1 to 16 blocks in flight", () => {
    assert.equal(concurrencyFor(16 * MiB), 8);
    assert.equal(concurrencyFor(32 * MiB), 4);
    assert.equal(concurrencyFor(64 * MiB), 2);
    assert.equal(concurrencyFor(100 * MiB), 1);
    assert.equal(concurrencyFor(64 * 1024), 16);
  });

  it("shares the budget between the apps of a publish run, 1 block per app at least", () => {
    const rows = [1, 2, 4, 8, 16].map((apps) => ({ apps, ...uploadLayoutFor(apps) }));
    assert.deepEqual(
      rows.map((r) => [r.apps, r.blockSize / MiB, r.concurrency]),
      [
        [1, 32, 4],
        [2, 32, 2],
        [4, 32, 1],
        [8, 32, 1],
        [16, 32, 1],
      ],
    );
    // Above 4 apps the minimum of 1 block each passes the budget: block buffers exist only for a deflated payload
    // (a stored one is read while it is sent).
    for (const r of rows.filter((x) => x.apps <= 4))
      assert.ok(r.apps * r.blockSize * r.concurrency <= BLOCK_BUDGET, `${r.apps} apps`);
  });

  it("keeps what the caller set and fits the rest to the share", () => {
    // A 32 MiB block with the pool's default of 8 apps: 1 block each (256 MiB), not 2 (512 MiB).
    assert.deepEqual(uploadLayoutFor(8, { blockSize: 32 * MiB }), { blockSize: 32 * MiB, concurrency: 1 });
    assert.deepEqual(uploadLayoutFor(1, { blockSize: 32 * MiB }), { blockSize: 32 * MiB, concurrency: 4 });
    assert.deepEqual(uploadLayoutFor(8, { blockSize: 64 * 1024 }), { blockSize: 64 * 1024, concurrency: 2 });
    assert.deepEqual(uploadLayoutFor(1, { blockSize: 64 * 1024 }), { blockSize: 64 * 1024, concurrency: 16 });
    assert.deepEqual(uploadLayoutFor(8, { concurrency: 3 }), { blockSize: 32 * MiB, concurrency: 3 });
    assert.deepEqual(uploadLayoutFor(20), { blockSize: 32 * MiB, concurrency: 1 });
  });
});
