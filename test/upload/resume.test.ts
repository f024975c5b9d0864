// Resumable upload across process restarts: a journal, then storage's own block list, decide what a later
// run sends. Counted at the transport; storage's uncommitted blocks read independently with @azure/storage-blob.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { BlockBlobClient as SdkBlockBlobClient } from "@azure/storage-blob";
import type { StoragePipelineOptions } from "@azure/storage-blob";
import { CONTENT_FILES } from "../../emulator/graph/repositories.js";
import type { FileRecord } from "../../emulator/graph/repositories.js";
import type { PackageResult } from "../../src/intunewin/package.js";
import { resumeOrStart, uploadContent, UploadError } from "../../src/publish/upload/index.js";
import type { UploadContentOptions, UploadProgressEvent } from "../../src/publish/upload/index.js";
import { createApp, getApp, makePackage, tempDir } from "../support/fixtures.js";
import { startTestTenant, type TestTenant } from "../support/tenant.js";

const BLOCK = 64 * 1024;
const FAST_POLL = { initialIntervalMs: 10, factor: 1.5, maxIntervalMs: 50 };

describe("resumeOrStart on the local tenant", () => {
  let t: TestTenant;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let pkg: PackageResult;
  let blockCount: number;

  before(async () => {
    dir = await tempDir();
    pkg = await makePackage(dir.path, 10 * BLOCK + 1000);
    blockCount = Math.ceil(pkg.encryptedSize / BLOCK);
    t = await startTestTenant();
  });
  after(async () => {
    await t.close();
    await dir.remove();
  });

  const options = (appId: string, journalPath: string, extra: Partial<UploadContentOptions> = {}) =>
    ({
      graph: t.graph,
      appId,
      packagePath: pkg.path,
      journalPath,
      blockSize: BLOCK,
      concurrency: 2,
      poll: FAST_POLL,
      storage: { transport: t.blob.send },
      ...extra,
    }) satisfies UploadContentOptions;

  /** Storage's uncommitted blocks of a content file, asked with Microsoft's SDK (not our client). */
  async function uncommittedBlocks(fileId: string): Promise<string[]> {
    const rec = (t.lt.admin.state()[t.lt.tenantId]?.[CONTENT_FILES] as unknown as FileRecord[]).find(
      (f) => f.id === fileId,
    );
    assert.ok(rec?.uploadUri);
    const sdkOptions: StoragePipelineOptions & { tlsOptions: { ca: string } } = { tlsOptions: { ca: t.lt.caCertPem } };
    const list = await new SdkBlockBlobClient(rec.uploadUri, undefined, sdkOptions).getBlockList("uncommitted");
    return (list.uncommittedBlocks ?? []).map((b) => b.name);
  }

  it("after a cancelled upload, sends only the blocks storage lacks, and commits", async () => {
    const appId = await createApp(t.graph);
    const journalPath = join(dir.path, "cancelled.journal");
    const ac = new AbortController();
    const err = await uploadContent(
      options(appId, journalPath, {
        signal: ac.signal,
        onProgress: (e) => {
          if (e.type === "bytes" && e.blocksDone === 4) ac.abort();
        },
      }),
    ).then(
      () => assert.fail("expected a cancellation"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof UploadError && err.kind === "cancelled", String(err));
    const staged = await uncommittedBlocks(err.leftover.fileId!);
    assert.ok(staged.length >= 4 && staged.length < blockCount, `${staged.length} of ${blockCount} staged`);

    t.blob.reset();
    t.graphCalls.reset();
    const events: UploadProgressEvent[] = [];
    const r = await resumeOrStart(options(appId, journalPath, { onProgress: (e) => events.push(e) }));
    assert.equal(r.resumed, true);
    assert.equal(r.fileId, err.leftover.fileId, "the same content file");
    assert.equal(t.blob.putBlocks().length, blockCount - staged.length, "only the missing blocks were sent");
    assert.equal(r.blocksSent, blockCount - staged.length);
    const resumed = events.find((e) => e.type === "resumed");
    assert.equal(resumed?.type === "resumed" ? resumed.blocksPresent : -1, staged.length);
    assert.equal(t.graphCalls.matching("POST", /\/renewUpload$/).length, 1, "the URL was renewed on resume");
    assert.equal(t.graphCalls.matching("POST", /\/contentVersions$/).length, 0, "no new content version");
    const app = await getApp(t.graph, appId);
    assert.equal(app.committedContentVersion, r.contentVersionId);
    assert.equal(existsSync(journalPath), false, "journal removed after success");
  });

  it("after a failure past the commit, only points the app at the content", async () => {
    const appId = await createApp(t.graph);
    const journalPath = join(dir.path, "patch.journal");
    t.lt.admin.addFault({ method: "PATCH", path: `/mobileApps/${appId}$`, status: 400, count: 1 });
    const err = await uploadContent(options(appId, journalPath)).then(
      () => assert.fail("expected the PATCH to fail"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof UploadError && err.stage === "patch", String(err));
    assert.ok(err.requestId, "the Graph request-id of the failed PATCH");

    t.blob.reset();
    t.graphCalls.reset();
    const r = await resumeOrStart(options(appId, journalPath));
    assert.equal(r.resumed, true);
    assert.equal(t.blob.calls.length, 0, "no storage request");
    assert.equal(t.graphCalls.matching("POST", /\/commit$/).length, 0, "no second commit");
    assert.equal((await getApp(t.graph, appId)).committedContentVersion, r.contentVersionId);
  });

  it("starts afresh when the journal is for another package", async () => {
    const appId = await createApp(t.graph);
    const journalPath = join(dir.path, "other.journal");
    const other = await makePackage(dir.path, 3 * BLOCK, "other");
    // A journal written for `pkg` …
    const ac = new AbortController();
    await uploadContent(
      options(appId, journalPath, {
        signal: ac.signal,
        onProgress: (e) => {
          if (e.type === "bytes" && e.blocksDone === 1) ac.abort();
        },
      }),
    ).catch(() => undefined);
    assert.ok(existsSync(journalPath));
    // … resumed with `other`.
    const events: UploadProgressEvent[] = [];
    const r = await resumeOrStart({
      ...options(appId, journalPath),
      packagePath: other.path,
      onProgress: (e) => events.push(e),
    });
    assert.equal(r.resumed, false);
    assert.deepEqual(
      events.filter((e) => e.type === "restarted").map((e) => e.type === "restarted" && e.reason),
      ["the journal is for another package"],
    );
    assert.equal((await getApp(t.graph, appId)).committedContentVersion, r.contentVersionId);
  });

  it("starts afresh from a corrupt journal", async () => {
    const appId = await createApp(t.graph);
    const journalPath = join(dir.path, "corrupt.journal");
    await writeFile(journalPath, "{ not json");
    const r = await resumeOrStart(options(appId, journalPath));
    assert.equal(r.resumed, false);
    assert.equal(r.blocksSent, blockCount);
  });

  it("resumes after kill -9 of the uploading process, in a new process's objects, and ends with one committed version", async () => {
    const appId = await createApp(t.graph);
    const journalPath = join(dir.path, "killed.journal");
    const caPath = join(dir.path, "ca.pem");
    await writeFile(caPath, t.lt.caCertPem);
    const self = fileURLToPath(import.meta.url);
    const child = join(dirname(self), `child-upload${self.endsWith(".ts") ? ".ts" : ".js"}`);
    const proc = spawn(process.execPath, [...(self.endsWith(".ts") ? ["--import", "tsx"] : []), child], {
      env: {
        ...process.env,
        UPLOAD_CHILD_CA: caPath,
        UPLOAD_CHILD_TOKEN: t.lt.admin.issueToken(),
        UPLOAD_CHILD_GRAPH: t.lt.graphBaseUrl,
        UPLOAD_CHILD_APP: appId,
        UPLOAD_CHILD_PACKAGE: pkg.path,
        UPLOAD_CHILD_JOURNAL: journalPath,
        UPLOAD_CHILD_BLOCK: String(BLOCK),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    proc.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const killed = await new Promise<boolean>((resolve) => {
      let out = "";
      proc.stdout.on("data", (c: Buffer) => {
        out += c.toString();
        if (/block 3\n/.test(out) && proc.kill("SIGKILL")) resolve(true);
      });
      proc.on("exit", () => resolve(false));
    });
    assert.ok(killed, `the child was killed mid-upload (stderr: ${stderr.slice(0, 500)})`);
    await new Promise((r) => (proc.exitCode === null && proc.signalCode === null ? proc.on("exit", r) : r(undefined)));

    const journal = JSON.parse(await readFile(journalPath, "utf8")) as { fileId: string; acknowledged: string[] };
    const staged = await uncommittedBlocks(journal.fileId);
    assert.ok(staged.length >= 3 && staged.length < blockCount, `${staged.length} of ${blockCount} staged`);
    t.blob.reset();
    const r = await resumeOrStart(options(appId, journalPath));
    assert.equal(r.fileId, journal.fileId);
    assert.equal(t.blob.putBlocks().length, blockCount - staged.length);
    const app = await getApp(t.graph, appId);
    assert.equal(app.committedContentVersion, r.contentVersionId);
    assert.equal(r.contentVersionId, "1", "one content version: the killed run's");
  });
});
