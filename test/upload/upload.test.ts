// The content upload engine against the local tenant (real emulator, embedded Azurite, packages made by our
// packager): the happy path and the failures users hit (docs/reference/graph-win32-upload.md §3;
// docs/reference/publisher-landscape.md §3.1).
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { open, readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, afterEach, before, describe, it } from "node:test";
import { ManualClock } from "../../emulator/clock.js";
import { recordingSleep } from "../../src/clients/http/testing/scripted-server.js";
import type { MimeContentWire } from "../../src/core/wire/graph.js";
import type { PackageResult } from "../../src/intunewin/package.js";
import { openPackage } from "../../src/intunewin/read.js";
import { uploadContent, UploadError } from "../../src/publish/upload/index.js";
import type { UploadContentOptions, UploadProgressEvent } from "../../src/publish/upload/index.js";
import { createApp, getApp, makePackage, storageReply, tempDir } from "../support/fixtures.js";
import { isPutBlock, startTestTenant, type TestTenant } from "../support/tenant.js";

const BLOCK = 64 * 1024;
const FAST_POLL = { initialIntervalMs: 10, factor: 1.5, maxIntervalMs: 50 };
const ICON: MimeContentWire = {
  "@odata.type": "#microsoft.graph.mimeContent",
  type: "image/png",
  value: "iVBORw0KGgo=",
};

function options(t: TestTenant, appId: string, pkg: PackageResult, extra: Partial<UploadContentOptions> = {}) {
  return {
    graph: t.graph,
    appId,
    packagePath: pkg.path,
    blockSize: BLOCK,
    concurrency: 3,
    poll: FAST_POLL,
    storage: { transport: t.blob.send },
    ...extra,
  } satisfies UploadContentOptions;
}

describe("uploadContent on the local tenant", () => {
  let t: TestTenant;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let pkg: PackageResult;

  before(async () => {
    dir = await tempDir();
    // ~5.5 blocks of 64 KiB: the last block is short.
    pkg = await makePackage(dir.path, 5 * BLOCK + 20_000);
    // PATCH answers 200 with the app here (204 on the other tenants): both are accepted (§2.8).
    t = await startTestTenant({ mobileApps: { clearLargeIconOnCommitPatch: true, patchReturnsBody: true } });
  });
  after(async () => {
    await t.close();
    await dir.remove();
  });
  afterEach(() => {
    t.lt.admin.clearFaults();
    t.blob.before = undefined;
  });

  it("uploads in parallel blocks, commits, points the app at the content and keeps its icon", async () => {
    const appId = await createApp(t.graph);
    t.blob.reset();
    // Each Put Block is held 50 ms, so a parallel engine overlaps them whatever the machine's load.
    t.blob.before = async (req) => {
      if (isPutBlock(req)) await new Promise((r) => setTimeout(r, 50));
      return undefined;
    };
    const events: UploadProgressEvent[] = [];
    const r = await uploadContent(options(t, appId, pkg, { largeIcon: ICON, onProgress: (e) => events.push(e) }));

    const expectedBlocks = Math.ceil(pkg.encryptedSize / BLOCK);
    assert.equal(r.blockCount, expectedBlocks);
    assert.ok(expectedBlocks >= 5);
    assert.equal(r.blocksSent, expectedBlocks);
    assert.equal(r.bytesSent, pkg.encryptedSize);
    assert.equal(t.blob.putBlocks().length, expectedBlocks, "one Put Block per block");
    assert.ok(t.blob.maxInFlight > 1, `blocks went in parallel (max in flight ${t.blob.maxInFlight})`);
    assert.ok(t.blob.maxInFlight <= 3, "never more than the concurrency");
    const ids = t.blob.putBlocks().map((c) => decodeURIComponent(/blockid=([^&]+)/.exec(c.url)![1]!));
    assert.equal(new Set(ids.map((id) => id.length)).size, 1, "fixed-width block ids");

    const app = await getApp(t.graph, appId);
    assert.equal(app.committedContentVersion, r.contentVersionId);
    assert.equal(app.publishingState, "published");
    assert.equal(r.publishingState, "published");
    assert.deepEqual(app.largeIcon?.value, ICON.value, "largeIcon re-sent with the commit PATCH");

    const bytes = events.filter((e) => e.type === "bytes");
    assert.equal(bytes.at(-1)?.bytesDone, pkg.encryptedSize);
    assert.ok(
      bytes.every((e, i) => i === 0 || e.bytesDone >= bytes[i - 1]!.bytesDone),
      "monotonic progress",
    );
    const states = events.filter((e) => e.type === "state").map((e) => e.uploadState);
    assert.ok(states.includes("azureStorageUriRequestSuccess"));
    assert.equal(states.at(-1), "commitFileSuccess");
  });

  it("sends 16 blocks at a time when the caller sets no concurrency (the default)", async () => {
    const appId = await createApp(t.graph);
    t.blob.reset();
    // The first 16 Put Blocks wait for each other (or for 3 s, so a smaller default fails instead of hanging): the
    // engine must have 16 in flight at once.
    const gate = 16;
    let arrived = 0;
    let open!: () => void;
    const opened = new Promise<void>((r) => (open = r));
    const failsafe = setTimeout(open, 3000);
    t.blob.before = async (req) => {
      if (isPutBlock(req) && arrived < gate) {
        if (++arrived === gate) open();
        await opened;
      }
      return undefined;
    };
    try {
      const { concurrency: _omitted, ...rest } = options(t, appId, pkg, { blockSize: 16 * 1024 });
      const r = await uploadContent(rest);
      assert.ok(r.blockCount > gate, `enough blocks to fill the default (${r.blockCount})`);
      assert.equal(t.blob.maxInFlight, 16, `max in flight ${t.blob.maxInFlight}`);
      assert.equal(r.publishingState, "published");
    } finally {
      clearTimeout(failsafe);
    }
  });

  it("without largeIcon, the emulated service clears the icon (the quirk the option exists for)", async () => {
    const appId = await createApp(t.graph);
    await t.graph.patch(`/deviceAppManagement/mobileApps/${appId}`, {
      "@odata.type": "#microsoft.graph.win32LobApp",
      largeIcon: ICON,
    });
    await uploadContent(options(t, appId, pkg));
    assert.equal((await getApp(t.graph, appId)).largeIcon ?? null, null);
  });

  it("fails with a typed commitFileFailed error when the package was altered after packaging", async () => {
    const tampered = join(dir.path, "tampered.intunewin");
    await writeTampered(pkg.path, tampered);
    const appId = await createApp(t.graph);
    const err = await rejection(
      uploadContent(options(t, appId, { ...pkg, path: tampered }, { journalPath: join(dir.path, "t.journal") })),
    );
    assert.equal(err.code, "CommitFileFailed");
    assert.equal(err.kind, "graph");
    assert.equal(err.stage, "commit");
    assert.equal(err.uploadState, "commitFileFailed");
    assert.ok(err.leftover.fileId && err.leftover.contentVersionId, "names what was left in the tenant");
    assert.ok(err.clientRequestId, "carries the client-request-id of the last Graph call");
    assertNoSecrets(err, pkg);
  });

  it("renews the SAS on a 403 from storage mid-upload (admin.expireUploadUrl) and finishes", async () => {
    const appId = await createApp(t.graph);
    t.blob.reset();
    t.graphCalls.reset();
    let fileId: string | undefined;
    let seen = 0;
    t.blob.before = async (req) => {
      if (isPutBlock(req) && ++seen === 3) await t.lt.admin.expireUploadUrl(fileId!);
      return undefined;
    };
    const events: UploadProgressEvent[] = [];
    try {
      const r = await uploadContent(
        options(t, appId, pkg, {
          concurrency: 1,
          onProgress: (e) => {
            events.push(e);
            if (e.type === "stage" && e.fileId !== undefined) fileId = e.fileId;
          },
        }),
      );
      assert.equal(r.renewals, 1);
      assert.equal(t.blob.putBlocks().filter((c) => c.status === 403).length, 1, "exactly one block refused");
      assert.equal(t.blob.putBlocks().filter((c) => c.status === 201).length, r.blockCount, "every block stored");
      assert.equal(t.graphCalls.matching("POST", /\/renewUpload$/).length, 1);
      assert.deepEqual(
        events.filter((e) => e.type === "renewed").map((e) => e.reason),
        ["refused"],
      );
      assert.equal((await getApp(t.graph, appId)).committedContentVersion, r.contentVersionId);
    } finally {
      t.blob.before = undefined;
    }
  });

  it("reports a failed renewal as a typed error at the renewal stage", async () => {
    const appId = await createApp(t.graph);
    let fileId: string | undefined;
    t.blob.before = async (req) => {
      const id = fileId;
      if (isPutBlock(req) && id !== undefined) {
        fileId = undefined;
        t.lt.admin.addUploadFault({ stage: "renewal", outcome: "failed", count: 1 });
        await t.lt.admin.expireUploadUrl(id);
      }
      return undefined;
    };
    try {
      const err = await rejection(
        uploadContent(
          options(t, appId, pkg, {
            concurrency: 1,
            onProgress: (e) => {
              if (e.type === "stage" && e.stage === "blocks") fileId = e.fileId;
            },
          }),
        ),
      );
      assert.equal(err.code, "AzureStorageUriRenewalFailed");
      assert.equal(err.stage, "renewal");
      assert.equal(err.uploadState, "azureStorageUriRenewalFailed");
      assertNoSecrets(err, pkg);
    } finally {
      t.blob.before = undefined;
    }
  });

  it("reports Graph refusing renewUpload as a graph error at the renewal stage, with Graph's request-id", async () => {
    const appId = await createApp(t.graph);
    let fileId: string | undefined;
    t.blob.before = async (req) => {
      const id = fileId;
      if (isPutBlock(req) && id !== undefined) {
        fileId = undefined; // once, although two blocks are in flight
        t.lt.admin.addFault({ method: "POST", path: "/renewUpload$", status: 400, count: 1 });
        await t.lt.admin.expireUploadUrl(id);
      }
      return undefined;
    };
    try {
      const err = await rejection(
        uploadContent(
          options(t, appId, pkg, {
            concurrency: 2,
            onProgress: (e) => {
              if (e.type === "stage" && e.stage === "blocks") fileId = e.fileId;
            },
          }),
        ),
      );
      assert.equal(err.kind, "graph");
      assert.equal(err.stage, "renewal");
      assert.ok(err.requestId, "Graph's request-id");
      assert.match(err.message, /renewUpload/);
      assertNoSecrets(err, pkg);
    } finally {
      t.blob.before = undefined;
    }
  });

  it("renews proactively when the URL is about to lapse", async () => {
    const appId = await createApp(t.graph);
    // The emulator's URLs live 10 minutes: "renew when less than 10 min − 300 ms remain" makes one due mid-upload.
    t.blob.before = async (req) => {
      if (isPutBlock(req)) await new Promise((r) => setTimeout(r, 120));
      return undefined;
    };
    const events: UploadProgressEvent[] = [];
    try {
      const r = await uploadContent(
        options(t, appId, pkg, {
          concurrency: 1,
          renewal: { renewBeforeMs: 10 * 60_000 - 300, minRenewIntervalMs: 0 },
          onProgress: (e) => events.push(e),
        }),
      );
      assert.ok(r.renewals >= 1, `renewed ${r.renewals} times`);
      const firstRenewal = events.findIndex((e) => e.type === "renewed");
      const firstBlock = events.findIndex((e) => e.type === "bytes" && e.blocksDone > 0);
      assert.ok(firstBlock >= 0 && firstBlock < firstRenewal, "not renewed before the URL aged");
      assert.ok(events.filter((e) => e.type === "renewed").every((e) => e.reason === "proactive"));
    } finally {
      t.blob.before = undefined;
    }
  });

  it("survives a 429 storm, 503s and a dropped connection on Graph, and 503/500 from storage", async () => {
    const waits = recordingSleep();
    const t2 = await startTestTenant({ retry: { sleep: waits.sleep } });
    try {
      const appId = await createApp(t2.graph);
      const a = t2.lt.admin;
      a.addFault({ method: "POST", path: "/contentVersions$", status: 503, retryAfter: 1, count: 2 });
      a.addFault({ method: "POST", path: "/files$", status: 429, retryAfter: 2, count: 3 });
      a.addFault({ method: "GET", path: "/files/[^/]+$", status: 429, retryAfter: 3, count: 4 });
      a.addFault({ method: "GET", path: "/files/[^/]+$", dropConnection: true, count: 1 });
      a.addFault({ method: "POST", path: "/commit$", status: 503, count: 1 });
      a.addFault({ method: "PATCH", path: "/mobileApps/[^/]+$", status: 429, retryAfter: 1, count: 2 });
      let n = 0;
      t2.blob.before = (req) => {
        if (!isPutBlock(req)) return undefined;
        n++;
        if (n === 2) return storageReply(req, 503, "ServerBusy", { "retry-after": "1" });
        if (n === 4) return storageReply(req, 500, "OperationTimedOut");
        return undefined;
      };
      const r = await uploadContent(
        options(t2, appId, pkg, {
          sleep: waits.sleep,
          storage: { transport: t2.blob.send, retry: { sleep: waits.sleep } },
        }),
      );
      assert.equal((await getApp(t2.graph, appId)).committedContentVersion, r.contentVersionId);
      assert.deepEqual(
        t2.graphCalls.calls.filter((c) => c.status === 429).length,
        3 + 4 + 2,
        "every 429 was answered, then retried",
      );
      assert.ok(waits.waits.includes(2000) && waits.waits.includes(3000), "Graph's Retry-After honoured");
      assert.ok(waits.waits.filter((w) => w === 1000).length >= 4, "storage's and Graph's 1 s Retry-After honoured");
      assert.equal(t2.graphCalls.calls.filter((c) => c.status === "error").length, 1, "one dropped poll, retried");
      assert.equal(t2.blob.putBlocks().filter((c) => c.status === 503 || c.status === 500).length, 2);
      assert.equal(t2.blob.putBlocks().filter((c) => c.status === 201).length, r.blockCount);
    } finally {
      await t2.close();
    }
  });

  it("survives storage's own faults (emulator, storage endpoint): ServerBusy, a dropped and a lost Put Block, a 500, a lost block list", async () => {
    const waits = recordingSleep();
    const t2 = await startTestTenant({ retry: { sleep: waits.sleep } });
    try {
      const appId = await createApp(t2.graph);
      const a = t2.lt.admin;
      // Faults match method and path; the first PUTs to the blob are Put Blocks (the block list comes last).
      a.addFault({ method: "PUT", path: "^/devstoreaccount1/", status: 503, retryAfter: 1, count: 2 });
      a.addFault({ method: "PUT", path: "^/devstoreaccount1/", dropConnection: true, count: 1 });
      a.addFault({ method: "PUT", path: "^/devstoreaccount1/", dropResponse: true, count: 1 });
      a.addFault({ method: "PUT", path: "^/devstoreaccount1/", status: 500, count: 1 });
      // The block list's answer lost (the list was committed): Put Block List is safe to repeat.
      a.addFault({ method: "PUT", path: "^/devstoreaccount1/", query: "comp=blocklist", dropResponse: true, count: 1 });
      const r = await uploadContent(
        options(t2, appId, pkg, {
          sleep: waits.sleep,
          storage: { transport: t2.blob.send, retry: { sleep: waits.sleep } },
        }),
      );
      assert.equal((await getApp(t2.graph, appId)).committedContentVersion, r.contentVersionId);
      const statuses = t2.blob.putBlocks().map((c) => c.status);
      assert.equal(statuses.filter((s) => s === 503).length, 2, JSON.stringify(statuses));
      assert.equal(statuses.filter((s) => s === 500).length, 1, JSON.stringify(statuses));
      assert.equal(statuses.filter((s) => s === "error").length, 2, "a dropped and a lost answer, both resent");
      assert.equal(
        statuses.filter((s) => s === 201).length,
        r.blockCount,
        "each block acknowledged once (the lost one was staged twice, its first answer lost)",
      );
      assert.equal(waits.waits.filter((w) => w === 1000).length >= 2, true, "storage's Retry-After honoured");
      assert.deepEqual(
        t2.blob.calls.filter((c) => c.method === "PUT" && /[?&]comp=blocklist/.test(c.url)).map((c) => c.status),
        ["error", 201],
        "the block list's lost answer, then the list sent again",
      );
      assert.deepEqual(
        a.listFaults().map((f) => f.remaining),
        [],
        "every fault struck",
      );
    } finally {
      await t2.close();
    }
  });

  it("gets a fresh token when Graph refuses an expired one mid-upload", async () => {
    const clock = new ManualClock();
    const t3 = await startTestTenant({
      clock,
      uploadDelays: { sasIssueMs: 0, renewalMs: 0, commitMs: 0, commitMsPerMiB: 0 },
      // Tokens live 10 minutes on the tenant's clock, but the provider claims an hour (a stale cache, a skewed
      // clock): only Graph's 401 can tell.
      tokenProvider: (lt) => async () => ({
        token: lt.admin.issueToken({ lifetimeSeconds: 600 }),
        expiresOn: Date.now() + 3_600_000,
      }),
    });
    try {
      const appId = await createApp(t3.graph);
      let n = 0;
      t3.blob.before = (req) => {
        if (isPutBlock(req) && ++n === 2) clock.advance(20 * 60_000);
        return undefined;
      };
      const r = await uploadContent(options(t3, appId, pkg));
      assert.equal((await getApp(t3.graph, appId)).committedContentVersion, r.contentVersionId);
      assert.ok(
        t3.graphCalls.calls.some((c) => c.status === 401),
        "Graph refused the expired token",
      );
      assert.ok(t3.tokenCalls.includes(true), "a forced refresh followed");
    } finally {
      await t3.close();
    }
  });

  it("ends a stuck commit with a typed timeout at the deadline", async () => {
    const appId = await createApp(t.graph);
    t.lt.admin.addUploadFault({ stage: "commit", outcome: "stuck", count: 1 });
    const err = await rejection(
      uploadContent(options(t, appId, pkg, { deadlines: { commitMs: 400, commitMsPerGiB: 0 } })),
    );
    // The stuck commit ends as the deadline's typed timeout (a hang would be the test runner's timeout instead).
    assert.equal(err.kind, "timeout");
    assert.equal(err.code, "UploadStateDeadline");
    assert.equal(err.stage, "commit");
    assert.equal(err.uploadState, "commitFilePending");
  });

  it("ends a stuck upload-URL request with a typed timeout, and reports a failed one as such", async () => {
    const appId = await createApp(t.graph);
    t.lt.admin.addUploadFault({ stage: "sasRequest", outcome: "stuck", count: 1 });
    const stuck = await rejection(uploadContent(options(t, appId, pkg, { deadlines: { sasRequestMs: 300 } })));
    assert.equal(stuck.kind, "timeout");
    assert.equal(stuck.stage, "sasRequest");
    assert.equal(stuck.uploadState, "azureStorageUriRequestPending");

    t.lt.admin.addUploadFault({ stage: "sasRequest", outcome: "failed", count: 1 });
    const failed = await rejection(uploadContent(options(t, appId, pkg)));
    assert.equal(failed.kind, "graph");
    assert.equal(failed.code, "AzureStorageUriRequestFailed");

    t.lt.admin.addUploadFault({ stage: "commit", outcome: "timedOut", count: 1 });
    const timedOut = await rejection(uploadContent(options(t, appId, pkg)));
    assert.equal(timedOut.code, "CommitFileTimedOut");
    assert.equal(timedOut.uploadState, "commitFileTimedOut");
  });

  it("stops on cancel with a cancelled error and leaves a journal naming the staged blocks", async () => {
    const appId = await createApp(t.graph);
    const journalPath = join(dir.path, "cancel.journal");
    const ac = new AbortController();
    const err = await rejection(
      uploadContent(
        options(t, appId, pkg, {
          concurrency: 2,
          journalPath,
          signal: ac.signal,
          onProgress: (e) => {
            if (e.type === "bytes" && e.blocksDone === 2) ac.abort();
          },
        }),
      ),
    );
    assert.equal(err.kind, "cancelled");
    assert.equal(err.stage, "blocks");
    assert.equal(err.leftover.journalPath, journalPath);
    assert.ok(existsSync(journalPath));
    const journal = JSON.parse(await readFile(journalPath, "utf8")) as { acknowledged: string[]; fileId: string };
    assert.ok(journal.acknowledged.length >= 2, `journal holds ${journal.acknowledged.length} blocks`);
    assert.equal(journal.fileId, err.leftover.fileId);
    assert.match(err.hint ?? "", /resume/);
  });
});

/** Copies the package with one byte of its encrypted payload flipped (the payload entry is stored, not deflated). */
async function writeTampered(from: string, to: string): Promise<void> {
  const bytes = await readFile(from);
  const pkg = await openPackage(from);
  const size = pkg.payloadSize;
  pkg.close();
  // The payload ends where Detection.xml's local header starts; flip a byte well inside the ciphertext.
  const detectionHeader = bytes.indexOf(Buffer.from("IntuneWinPackage/Metadata/Detection.xml")) - 30;
  const at = detectionHeader - Math.floor(size / 2);
  bytes[at]! ^= 0x40;
  const fh = await open(to, "w");
  await fh.writeFile(bytes);
  await fh.close();
}

function assertNoSecrets(err: Error, pkg: PackageResult): void {
  const text = `${err.message} ${(err as UploadError).hint ?? ""} ${JSON.stringify(err)}`;
  assert.doesNotMatch(text, /sig=(?!REDACTED)/);
  for (const secret of [pkg.detection.EncryptionInfo.EncryptionKey, pkg.detection.EncryptionInfo.MacKey])
    assert.ok(!text.includes(secret), "no key in the error");
}

async function rejection(p: Promise<unknown>): Promise<UploadError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof UploadError, `expected an UploadError, got ${String(e)}`);
    return e;
  }
  assert.fail("expected the upload to fail");
}
