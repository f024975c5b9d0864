// A file's blocks are read while they are sent: in READ_SLICE slices, never a whole block at once, so memory per
// block in flight does not grow with the block size; a block resent after a storage error is read again from the
// file. Against the local tenant's storage, content checked with the account key.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { BlockBlobClient as SdkBlockBlobClient, StorageSharedKeyCredential } from "@azure/storage-blob";
import { ACCOUNT, ACCOUNT_KEY } from "../../emulator/storage/index.js";
import { BlockBlobClient, blockId } from "../../src/clients/blob/block-blob.js";
import { READ_SLICE, uploadBlocks } from "../../src/clients/blob/upload-blocks.js";
import type { HttpTransport } from "../../src/clients/http/types.js";
import { openPackage } from "../../src/intunewin/read.js";
import type { PackageResult } from "../../src/intunewin/package.js";
import { createApp, makePackage, tempDir } from "../support/fixtures.js";
import { isPutBlock, startTestTenant, type TestTenant } from "../support/tenant.js";

const MiB = 1024 * 1024;
const BLOCK = 1 * MiB;

describe("uploadBlocks from a file: each block streamed from the file while it is sent", () => {
  let t: TestTenant;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let pkg: PackageResult;

  before(async () => {
    dir = await tempDir();
    pkg = await makePackage(dir.path, 2 * BLOCK + 300 * 1024);
    t = await startTestTenant();
  });
  after(async () => {
    await t?.close();
    await dir?.remove();
  });

  /** An upload URL for a new content file, as the engine gets one. */
  async function uploadUrl(): Promise<string> {
    const appId = await createApp(t.graph);
    const base = `/deviceAppManagement/mobileApps/${appId}/microsoft.graph.win32LobApp/contentVersions`;
    const cv = await t.graph.post<{ id: string }>(base, {});
    const file = await t.graph.post<{ id: string }>(`${base}/${cv.id}/files`, {
      name: "setup.intunewin",
      size: pkg.unencryptedContentSize,
      sizeEncrypted: pkg.encryptedSize,
      manifest: null,
      isDependency: false,
    });
    for (;;) {
      const f = await t.graph.get<{ uploadState: string; azureStorageUri: string | null }>(
        `${base}/${cv.id}/files/${file.id}`,
      );
      if (f.uploadState === "azureStorageUriRequestSuccess" && f.azureStorageUri) return f.azureStorageUri;
      assert.ok(f.uploadState.endsWith("Pending"), f.uploadState);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  it("reads every block in slices of at most READ_SLICE, re-reads a block storage failed, and stores it exactly", async () => {
    const url = await uploadUrl();
    const opened = await openPackage(pkg.path);
    const reader = (await opened.openPayloadReader())!;
    assert.ok(reader, "the payload is stored, so it is read by position");
    const size = opened.payloadSize;
    const reads: { position: number; length: number }[] = [];
    const source = {
      read(buffer: Buffer, length: number, position: number): Promise<number> {
        reads.push({ position, length });
        return reader.read(buffer, length, position);
      },
    };
    // Storage's 500 (InternalError) to block 1's first Put Block, after the block was received: the engine resends it.
    let failed = false;
    const send: HttpTransport = async (req) => {
      const res = await t.blob.send(req);
      if (!failed && isPutBlock(req) && req.url.includes(`blockid=${encodeURIComponent(blockId(1))}`)) {
        failed = true;
        return { ...res, status: 500, headers: { "x-ms-error-code": "InternalError" }, bodyText: "" };
      }
      return res;
    };
    const client = new BlockBlobClient({ transport: send });
    try {
      const r = await uploadBlocks({
        client,
        source,
        size,
        blockSize: BLOCK,
        concurrency: 2,
        urls: { ready: async () => ({ url, generation: 0 }), refused: async () => assert.fail("no refusal expected") },
        sleep: async () => undefined,
      });
      await client.putBlockList(url, r.ids);
      assert.equal(r.sentBlocks, 3);
      assert.ok(failed, "block 1 was answered 500 once");

      assert.ok(
        reads.every((x) => x.length <= READ_SLICE),
        `reads of ${[...new Set(reads.map((x) => x.length))].join(", ")} bytes`,
      );
      const readBytes = (from: number, to: number): number =>
        reads.filter((x) => x.position >= from && x.position < to).reduce((n, x) => n + x.length, 0);
      assert.equal(readBytes(0, BLOCK), BLOCK, "block 0 read once");
      assert.equal(readBytes(BLOCK, 2 * BLOCK), 2 * BLOCK, "block 1 read again for its resend");
      assert.equal(readBytes(2 * BLOCK, size), size - 2 * BLOCK, "the last block read once");

      const blob = new SdkBlockBlobClient(url.split("?")[0]!, new StorageSharedKeyCredential(ACCOUNT, ACCOUNT_KEY), {
        tlsOptions: { ca: t.lt.caCertPem },
      } as object);
      const payload = Buffer.alloc(size);
      assert.equal(await reader.read(payload, size, 0), size);
      assert.ok((await blob.downloadToBuffer()).equals(payload), "the committed blob is the payload, byte for byte");
    } finally {
      await reader.close();
      opened.close();
    }
  });
});
