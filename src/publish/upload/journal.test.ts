import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { packageDigest, UploadJournal } from "./journal.js";

const entry = {
  version: 1 as const,
  appId: "app",
  contentVersionId: "1",
  fileId: "file",
  packageDigest: "d",
  payloadSize: 300,
  blockSize: 100,
  blockCount: 3,
  acknowledged: [] as string[],
  blockListCommitted: false,
  commitRequested: false,
  createdAt: "2026-01-01T00:00:00.000Z",
};

describe("UploadJournal", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "ip-journal-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("round-trips through the file, coalescing acknowledgements, and leaves no temporary file", async () => {
    const path = join(dir, "sub", "a.journal");
    const { journal, entry: none } = await UploadJournal.open(path);
    assert.equal(none, undefined);
    await journal.set({ ...entry, acknowledged: [] });
    for (const id of ["A", "B", "C"]) void journal.acknowledge(id);
    await journal.flush();
    const again = await UploadJournal.open(path);
    assert.deepEqual(again.entry?.acknowledged, ["A", "B", "C"]);
    assert.equal(again.entry?.fileId, "file");
    assert.deepEqual(await readdir(join(dir, "sub")), ["a.journal"]);
    await again.journal.remove();
    assert.deepEqual(await readdir(join(dir, "sub")), []);
  });

  it("treats an unreadable or foreign file as no journal", async () => {
    const path = join(dir, "bad.journal");
    await writeFile(path, "{ torn");
    assert.equal((await UploadJournal.open(path)).entry, undefined);
    await writeFile(path, JSON.stringify({ ...entry, version: 2 }));
    assert.equal((await UploadJournal.open(path)).entry, undefined);
    assert.equal(JSON.parse(await readFile(path, "utf8")).version, 2, "left as it was");
  });

  it("digests the package by its MAC, file digest and sizes", () => {
    const pkg = (mac: string, size = 300) => ({
      payloadSize: size,
      detection: { UnencryptedContentSize: 200, EncryptionInfo: { Mac: mac, FileDigest: "f" } },
    });
    const d = (p: ReturnType<typeof pkg>) => packageDigest(p as unknown as Parameters<typeof packageDigest>[0]);
    assert.equal(d(pkg("m")), d(pkg("m")));
    assert.notEqual(d(pkg("m")), d(pkg("n")));
    assert.notEqual(d(pkg("m")), d(pkg("m", 301)));
  });
});
