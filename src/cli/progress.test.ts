import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { describe, it } from "node:test";
import type { CommandContext } from "./command.js";
import { createProgressBar, fitStatus, knownColumns, LineThrottle, progressText, RateMeter } from "./progress.js";

/** A clock the test moves. */
function clock(): { now: () => number; advance(ms: number): void } {
  let t = 1_000_000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

function context(stderr: PassThrough & { isTTY?: boolean; columns?: number }): CommandContext {
  return {
    stdout: new PassThrough(),
    stderr,
    env: {},
    cwd: "/",
    signal: new AbortController().signal,
    output: "table",
    verbose: false,
  };
}

describe("progress", () => {
  it("the rate and time left follow the bytes over the clock", () => {
    const c = clock();
    const m = new RateMeter(c.now);
    assert.deepEqual(m.sample(0, 100 * 1024 ** 2), { rate: 0, etaSeconds: undefined });
    c.advance(2000);
    const s = m.sample(20 * 1024 ** 2, 100 * 1024 ** 2);
    assert.equal(s.rate, 10 * 1024 ** 2);
    assert.equal(s.etaSeconds, 8);
    assert.equal(progressText(20 * 1024 ** 2, 100 * 1024 ** 2, s), "20% 20.0 MiB of 100.0 MiB, 10.0 MiB/s, 8 s left");
  });

  it("off a terminal: a line at each 10 % step or after 30 s, and one at 100 %", () => {
    const c = clock();
    const t = new LineThrottle(c.now);
    const printed: number[] = [];
    for (let done = 0; done <= 1000; done += 5) {
      c.advance(10);
      if (t.due(done, 1000)) printed.push(done);
    }
    assert.deepEqual(printed, [0, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]);
    assert.equal(t.due(1000, 1000), false, "100 % is said once");

    const slow = new LineThrottle(c.now);
    assert.equal(slow.due(1, 1000), true);
    c.advance(29_000);
    assert.equal(slow.due(2, 1000), false);
    c.advance(1_000);
    assert.equal(slow.due(3, 1000), true, "30 s without a line");
    const unknown = new LineThrottle(c.now);
    assert.equal(unknown.due(1, undefined), true);
    assert.equal(unknown.due(500, undefined), false);
    c.advance(30_000);
    assert.equal(unknown.due(900, undefined), true);
  });

  it("a status line is cut only to a known terminal width", () => {
    const text = "contoso-notes uploading 45% 12.0 MiB of 26.7 MiB, 3.1 MiB/s, 5 s left";
    assert.equal(knownColumns({ columns: 0 }), undefined);
    assert.equal(knownColumns({}), undefined);
    assert.equal(fitStatus(text, knownColumns({ columns: 0 })), text);
    assert.equal(fitStatus(text, knownColumns({ columns: 40 })), text.slice(0, 39));
  });

  it("a bar off a terminal writes whole lines with rate and time left", () => {
    const c = clock();
    const err = new PassThrough();
    let out = "";
    err.on("data", (d: Buffer) => (out += d.toString("utf8")));
    const bar = createProgressBar(context(err), "Packaging", c.now);
    for (let done = 0; done <= 4096; done += 256) {
      c.advance(1000);
      bar.update(done, 4096);
    }
    bar.finish();
    const lines = out.split("\n").filter((l) => l !== "");
    assert.equal(lines[0], "Packaging: 0% 0 B of 4.0 KiB");
    assert.equal(lines.at(-1), "Packaging: 100% 4.0 KiB of 4.0 KiB, 256 B/s");
    assert.ok(
      lines.some((l) => /^Packaging: 50% 2\.0 KiB of 4\.0 KiB, 256 B\/s, 8 s left$/.test(l)),
      out,
    );
    assert.ok(lines.length <= 12, out);
    assert.ok(!out.includes("\r"));
  });

  it("a bar on a terminal of unknown width (0 columns) is drawn whole", () => {
    const c = clock();
    const err = Object.assign(new PassThrough(), { isTTY: true, columns: 0 });
    let out = "";
    err.on("data", (d: Buffer) => (out += d.toString("utf8")));
    const bar = createProgressBar(context(err), "Packaging", c.now);
    c.advance(1000);
    bar.update(1024, 4096);
    c.advance(1000);
    bar.update(2048, 4096);
    bar.finish();
    // eslint-disable-next-line no-control-regex
    assert.match(out, /\rPackaging \[#+-+\] 50% 2\.0 KiB of 4\.0 KiB, 1\.0 KiB\/s, 2 s left\x1b\[K/);
  });
});
