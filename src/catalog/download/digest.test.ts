/**
 * A download's hash and writes (digest.ts), on this thread and on the hashing thread (hash-worker.ts), real files: bytes written in order and
 * hashed as createHash would, back-pressure through the body's pause/resume, a failed write, a resumed file's prefix,
 * and the thread's death.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { open, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { useScratch } from "../../../test/support/scratch.js";
import { isPublisherError } from "../../core/errors.js";
import { hashThreadsStarted, STAGE_SIZE, STAGES, stopHashThread, StreamDigest } from "./digest.js";
import type { BodyFlow } from "./digest.js";

const sha256 = (b: Buffer): string => createHash("sha256").update(b).digest("hex");

/** A body's flow control, recorded. */
function recorder(): BodyFlow & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    pause: () => calls.push("pause"),
    resume: () => calls.push("resume"),
    stop: () => calls.push("stop"),
  };
}

/** `data` cut into pieces of uneven sizes (TLS records are up to 16 KiB, chunked pieces smaller). */
function pieces(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0, i = 0; at < data.length; i++) {
    const n = [16_384, 1, 7_000, 16_384, 65_536][i % 5]!;
    out.push(data.subarray(at, at + n));
    at += n;
  }
  return out;
}

describe("hashing thread of downloads", () => {
  const scratch = useScratch("ip-digest-");

  for (const [mode, onThread] of [
    ["this thread", false],
    ["hashing thread", true],
  ] as const) {
    it(`${mode}: writes every byte at its position and hashes them in order; the thread is reused by the next download`, async () => {
      const data = randomBytes(3 * STAGE_SIZE + 12_345);
      const path = join(await scratch(), "part");
      await writeFile(path, "HEAD");
      const before = hashThreadsStarted();
      for (let run = 0; run < 2; run++) {
        const handle = await open(path, "r+");
        const digest = new StreamDigest(onThread);
        try {
          digest.target(handle.fd, 4, recorder());
          for (const p of pieces(data)) digest.push(p);
          assert.equal(await digest.digest(), sha256(data));
        } finally {
          digest.close();
          await handle.close();
        }
        assert.deepEqual(await readFile(path), Buffer.concat([Buffer.from("HEAD"), data]));
      }
      assert.ok(hashThreadsStarted() - before <= (onThread ? 1 : 0), "at most one thread, reused by the second run");
    });

    it(`${mode}: pauses the body while every stage waits for the thread and resumes it when one comes back`, async () => {
      const data = randomBytes((STAGES + 3) * STAGE_SIZE);
      const handle = await open(join(await scratch(), "part"), "w");
      const digest = new StreamDigest(onThread);
      const flow = recorder();
      try {
        digest.target(handle.fd, 0, flow);
        // All at once, as a body that ignores pause would: the stages are bounded, the rest waits for one.
        for (const p of pieces(data)) digest.push(p);
        assert.equal(flow.calls[0], "pause", "paused once the stages were all in flight");
        await digest.flush();
        assert.equal(flow.calls.filter((c) => c === "pause").length, flow.calls.filter((c) => c === "resume").length);
        assert.equal(flow.calls.at(-1), "resume");
        assert.equal(await digest.digest(), sha256(data));
      } finally {
        digest.close();
        await handle.close();
      }
    });

    it(`${mode}: a failed write fails the download: the disk's error, the body stopped, no digest`, async () => {
      const path = join(await scratch(), "read-only");
      await writeFile(path, "");
      const handle = await open(path, "r"); // writes to it fail with EBADF
      const digest = new StreamDigest(onThread);
      const flow = recorder();
      try {
        digest.target(handle.fd, 0, flow);
        digest.push(randomBytes(STAGE_SIZE + 1));
        await assert.rejects(digest.flush(), (e: NodeJS.ErrnoException) => e.code === "EBADF");
        assert.ok(flow.calls.includes("stop"));
        assert.throws(
          () => digest.push(Buffer.from("more")),
          (e: NodeJS.ErrnoException) => e.code === "EBADF",
        );
        await assert.rejects(digest.digest());
      } finally {
        digest.close();
        await handle.close();
      }
    });

    it(`${mode}: hashes a resumed file's prefix read back from disk, then the rest as it comes`, async () => {
      const data = randomBytes(2 * STAGE_SIZE + 999);
      const cut = STAGE_SIZE + 17;
      const path = join(await scratch(), "part");
      await writeFile(path, data.subarray(0, cut));
      const handle = await open(path, "r+");
      const digest = new StreamDigest(onThread);
      try {
        assert.equal(await digest.hashFile(path, cut), cut);
        digest.target(handle.fd, cut, recorder());
        for (const p of pieces(data.subarray(cut))) digest.push(p);
        assert.equal(await digest.digest(), sha256(data));
      } finally {
        digest.close();
        await handle.close();
      }
      assert.deepEqual(await readFile(path), data);
    });
  }

  it("the thread's death fails the downloads in flight with an Internal error; the next one starts a new thread", async () => {
    const handle = await open(join(await scratch(), "part"), "w");
    const digest = new StreamDigest(true);
    const flow = recorder();
    try {
      digest.target(handle.fd, 0, flow);
      digest.push(randomBytes(1000));
      await stopHashThread();
      await assert.rejects(digest.flush(), (e: unknown) => {
        assert.ok(isPublisherError(e));
        assert.equal(e.code, "Internal");
        assert.match(e.message, /hashing thread stopped unexpectedly.*not kept/);
        return true;
      });
      assert.ok(flow.calls.includes("stop"));
    } finally {
      digest.close();
      await handle.close();
    }
    const started = hashThreadsStarted();
    const next = new StreamDigest(true);
    try {
      next.push(Buffer.from("abc"));
      assert.equal(await next.digest(), sha256(Buffer.from("abc")));
    } finally {
      next.close();
    }
    assert.equal(hashThreadsStarted(), started + 1);
  });
});
