import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { isPublisherError } from "../core/errors.js";
import { formatLimit, readBoundedFile, readBoundedText, resolveInsideRoots } from "./fs.js";

async function refusal(p: Promise<unknown>): Promise<{ code: string; kind: string; message: string }> {
  try {
    await p;
  } catch (e) {
    assert.ok(isPublisherError(e), `expected a PublisherError, got ${String(e)}`);
    return { code: e.code, kind: e.kind, message: e.message };
  }
  assert.fail("expected a refusal");
}

describe("bounded file reads", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "ip-fs-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads a regular file within the limit, byte-order mark removed as text", async () => {
    const p = join(dir, "a.txt");
    await writeFile(p, "\uFEFFhello");
    assert.equal(await readBoundedText({ path: p, what: "test file", maxBytes: 100 }), "hello");
    assert.equal((await readBoundedFile({ path: p, what: "test file", maxBytes: 8 })).length, 8);
  });

  it("refuses a file over the limit, naming file and limit", async () => {
    const p = join(dir, "big.txt");
    await writeFile(p, Buffer.alloc(2048, 0x41));
    const r = await refusal(readBoundedFile({ path: p, what: "icon", maxBytes: 1024 }));
    assert.equal(r.code, "FileTooLarge");
    assert.equal(r.kind, "input");
    assert.match(r.message, /icon .*big\.txt is 2 KiB, over the limit of 1 KiB/);
  });

  it("refuses /dev/zero (a device) without reading it", async () => {
    const r = await refusal(readBoundedFile({ path: "/dev/zero", what: "detection script", maxBytes: 1024 }));
    assert.equal(r.code, "NotRegularFile");
    assert.match(r.message, /character device/);
  });

  it("refuses a FIFO without blocking on it", { skip: process.platform === "win32" }, async () => {
    const p = join(dir, "fifo");
    execFileSync("mkfifo", [p]);
    const r = await refusal(readBoundedFile({ path: p, what: "targeting file", maxBytes: 1024 }));
    assert.equal(r.code, "NotRegularFile");
    assert.match(r.message, /named pipe/);
  });

  it("refuses a folder and a missing file with their own codes", async () => {
    assert.equal((await refusal(readBoundedFile({ path: dir, what: "seed", maxBytes: 10 }))).code, "NotRegularFile");
    assert.equal(
      (await refusal(readBoundedFile({ path: join(dir, "nope"), what: "seed", maxBytes: 10 }))).code,
      "FileNotFound",
    );
  });

  it("keeps paths inside the allowed roots, after following links", async () => {
    const root = join(dir, "defs");
    const outside = join(dir, "outside");
    await mkdir(root, { recursive: true });
    await mkdir(outside, { recursive: true });
    await writeFile(join(root, "ok.ps1"), "x");
    await writeFile(join(outside, "secret.txt"), "x");
    await symlink(join(outside, "secret.txt"), join(root, "link.ps1"));
    assert.equal(await resolveInsideRoots(root, "ok.ps1", [root], { what: "script" }), join(root, "ok.ps1"));
    for (const written of ["../outside/secret.txt", join(outside, "secret.txt"), "link.ps1"]) {
      const r = await refusal(resolveInsideRoots(root, written, [root], { what: "script" }));
      assert.equal(r.code, "OutsideAllowedRoots", written);
    }
    assert.equal(
      await resolveInsideRoots(root, "../outside/secret.txt", [root, outside], { what: "script" }),
      join(outside, "secret.txt"),
    );
  });

  it("words limits", () => {
    assert.equal(formatLimit(1024 * 1024), "1 MiB");
    assert.equal(formatLimit(1536), "1.5 KiB");
    assert.equal(formatLimit(10), "10 bytes");
  });
});
