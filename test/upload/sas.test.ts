// The upload URL's SAS on the local tenant: Intune's SAS permissions are not documented, so uploads and
// resumes must work with a SAS that cannot read (Get Block List answers 403), and once a file is committed its URL
// must refuse every write as storage refuses a revoked SAS. Storage is read independently with the account key.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { BlockBlobClient as SdkBlockBlobClient, RestError, StorageSharedKeyCredential } from "@azure/storage-blob";
import type { StoragePipelineOptions } from "@azure/storage-blob";
import { CONTENT_FILES } from "../../emulator/graph/repositories.js";
import type { FileRecord } from "../../emulator/graph/repositories.js";
import { defaultSeed } from "../../emulator/seed.js";
import { ACCOUNT, ACCOUNT_KEY } from "../../emulator/storage/index.js";
import { BlockBlobClient, blockId, StorageError } from "../../src/clients/blob/block-blob.js";
import { openPackage } from "../../src/intunewin/read.js";
import type { PackageResult } from "../../src/intunewin/package.js";
import { resumeOrStart, uploadContent, UploadError } from "../../src/publish/upload/index.js";
import type { UploadContentOptions, UploadProgressEvent } from "../../src/publish/upload/index.js";
import { createApp, getApp, makePackage, tempDir } from "../support/fixtures.js";
import { startTestTenant, type TestTenant } from "../support/tenant.js";

const BLOCK = 64 * 1024;
const FAST_POLL = { initialIntervalMs: 10, factor: 1.5, maxIntervalMs: 50 };

describe("upload URLs on the local tenant: a SAS without read, and read-only after the commit", () => {
  let t: TestTenant;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let pkg: PackageResult;
  let payload: Buffer;
  let blockCount: number;
  let sdkOptions: StoragePipelineOptions;

  before(async () => {
    dir = await tempDir();
    pkg = await makePackage(dir.path, 10 * BLOCK + 1000);
    blockCount = Math.ceil(pkg.encryptedSize / BLOCK);
    const opened = await openPackage(pkg.path);
    try {
      const chunks: Buffer[] = [];
      for await (const c of await opened.openPayload()) chunks.push(c as Buffer);
      payload = Buffer.concat(chunks);
    } finally {
      opened.close();
    }
    // The seed's switch: upload URLs grant create and write only.
    t = await startTestTenant({ seed: { ...defaultSeed(), uploadSas: { read: false } } });
    const options: StoragePipelineOptions & { tlsOptions: { ca: string } } = { tlsOptions: { ca: t.lt.caCertPem } };
    sdkOptions = options;
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

  const fileRecord = (fileId: string): FileRecord => {
    const rec = (t.lt.admin.state()[t.lt.tenantId]?.[CONTENT_FILES] as unknown as FileRecord[]).find(
      (f) => f.id === fileId,
    );
    assert.ok(rec?.uploadUri, `content file ${fileId}`);
    return rec;
  };
  /** The blob behind a content file's upload URL, with the account key: what storage holds, not what the SAS may see. */
  const accountBlob = (fileId: string): SdkBlockBlobClient =>
    new SdkBlockBlobClient(
      fileRecord(fileId).uploadUri!.split("?")[0]!,
      new StorageSharedKeyCredential(ACCOUNT, ACCOUNT_KEY),
      sdkOptions,
    );
  const blockListCalls = () =>
    t.blob.calls.filter((c) => c.method === "GET" && /[?&]comp=blocklist(&|$)/.test(c.url)).map((c) => c.status);
  const blockListPuts = () =>
    t.blob.calls.filter((c) => c.method === "PUT" && /[?&]comp=blocklist(&|$)/.test(c.url)).map((c) => c.status);

  async function assertCommitted(appId: string, contentVersionId: string, fileId: string): Promise<void> {
    assert.equal((await getApp(t.graph, appId)).committedContentVersion, contentVersionId);
    assert.equal(fileRecord(fileId).file.uploadState, "commitFileSuccess", "the tenant verified the content");
    const stored = await accountBlob(fileId).downloadToBuffer();
    assert.ok(stored.equals(payload), "storage holds exactly the package's payload");
  }

  it("a fresh upload needs no read: blocks, block list, commit", async () => {
    const appId = await createApp(t.graph);
    t.blob.reset();
    const r = await uploadContent(options(appId, join(dir.path, "fresh.journal")));
    assert.equal(r.resumed, false);
    assert.equal(r.blocksSent, blockCount);
    assert.deepEqual(blockListCalls(), [], "Get Block List is never needed for a fresh upload");
    assert.deepEqual(blockListPuts(), [201]);
    await assertCommitted(appId, r.contentVersionId, r.fileId);
  });

  it("a crashed upload (kill -9) resumes from the journal when Get Block List answers 403, and commits", async () => {
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
    const recorded = new Set(journal.acknowledged);
    const staged = ((await accountBlob(journal.fileId).getBlockList("uncommitted")).uncommittedBlocks ?? []).map(
      (b) => b.name,
    );
    assert.ok(staged.length >= 3 && staged.length < blockCount, `${staged.length} of ${blockCount} staged`);
    assert.ok(recorded.size >= 1 && [...recorded].every((id) => staged.includes(id)), "the journal is a subset");
    // The SAS itself cannot list blocks.
    await assert.rejects(
      new SdkBlockBlobClient(fileRecord(journal.fileId).uploadUri!, undefined, sdkOptions).getBlockList("all"),
      (e: unknown) => e instanceof RestError && e.statusCode === 403 && e.code === "AuthorizationPermissionMismatch",
    );

    t.blob.reset();
    t.graphCalls.reset();
    const events: UploadProgressEvent[] = [];
    const r = await resumeOrStart(options(appId, journalPath, { onProgress: (e) => events.push(e) }));
    assert.equal(r.resumed, true);
    assert.equal(r.fileId, journal.fileId, "the same content file");
    assert.equal(r.contentVersionId, "1", "no new content version");
    assert.deepEqual(blockListCalls(), [403], "Get Block List was refused once, and not retried with renewals");
    const resumed = events.find((e) => e.type === "resumed");
    assert.ok(resumed?.type === "resumed");
    assert.equal(resumed.source, "journal");
    assert.equal(resumed.blocksPresent, recorded.size);
    assert.equal(t.blob.putBlocks().length, blockCount - recorded.size, "only the blocks the journal lacks");
    assert.equal(t.graphCalls.matching("POST", /\/renewUpload$/).length, 1, "one renewal, on resume");
    assert.deepEqual(blockListPuts(), [201]);
    await assertCommitted(appId, r.contentVersionId, r.fileId);
    assert.equal(existsSync(journalPath), false, "journal removed after success");
  });

  it("blocks the journal recorded but storage lost are sent again when the block list is refused", async () => {
    const appId = await createApp(t.graph);
    const journalPath = join(dir.path, "lost.journal");
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
    // The journal claims every block, as if storage had dropped the uncommitted blocks it had acknowledged.
    const journal = JSON.parse(await readFile(journalPath, "utf8")) as Record<string, unknown>;
    journal["acknowledged"] = Array.from({ length: blockCount }, (_, i) => blockId(i));
    await writeFile(journalPath, JSON.stringify(journal));

    t.blob.reset();
    const r = await resumeOrStart(options(appId, journalPath));
    assert.equal(r.fileId, err.leftover.fileId);
    assert.deepEqual(blockListCalls(), [403]);
    assert.deepEqual(blockListPuts(), [400, 201], "the list naming lost blocks was refused, then accepted");
    assert.equal(t.blob.putBlocks().length, blockCount, "every block the journal vouched for was sent again");
    await assertCommitted(appId, r.contentVersionId, r.fileId);
  });

  it("once committed, the upload URL refuses Put Block, Put Block List and Put Blob with 403 AuthenticationFailed", async () => {
    // Through the admin API: URLs with read again (the refusal below is not a permission matter).
    t.lt.admin.setUploadSas({ read: true });
    try {
      const appId = await createApp(t.graph);
      const r = await uploadContent(options(appId, join(dir.path, "locked.journal")));
      await assertCommitted(appId, r.contentVersionId, r.fileId);
      const sas = fileRecord(r.fileId).uploadUri!;
      const ours = new BlockBlobClient({ transport: t.blob.send });
      const refused = (e: unknown) =>
        e instanceof StorageError &&
        e.status === 403 &&
        e.storageCode === "AuthenticationFailed" &&
        !e.message.includes(new URL(sas).searchParams.get("sig")!);
      await assert.rejects(ours.putBlock(sas, blockId(0), Buffer.alloc(BLOCK)), refused);
      await assert.rejects(ours.putBlockList(sas, [blockId(0)]), refused);
      await assert.rejects(ours.getBlockList(sas), refused);
      await assert.rejects(
        new SdkBlockBlobClient(sas, undefined, sdkOptions).upload(Buffer.alloc(100), 100),
        (e: unknown) => e instanceof RestError && e.statusCode === 403 && e.code === "AuthenticationFailed",
        "Put Blob",
      );
      assert.ok((await accountBlob(r.fileId).downloadToBuffer()).equals(payload), "the committed content is intact");
    } finally {
      t.lt.admin.setUploadSas({ read: false });
    }
  });
});
