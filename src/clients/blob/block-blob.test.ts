import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { inOrder, recordingSleep, startScriptedServer } from "../http/testing/scripted-server.js";
import type { ScriptedServer } from "../http/testing/scripted-server.js";
import { createFetchTransport } from "../http/transport.js";
import type { FetchTransport } from "../http/transport.js";
import { blockId, BlockBlobClient, parseBlockList, StorageError } from "./block-blob.js";

describe("blockId", () => {
  it("is fixed-width base64 of the zero-padded index, without padding", () => {
    assert.equal(blockId(0), Buffer.from("000000").toString("base64"));
    const ids = [0, 9, 10, 9_999, 10_000, 49_999].map(blockId);
    assert.deepEqual(new Set(ids.map((i) => i.length)), new Set([8]));
    assert.ok(ids.every((i) => /^[A-Za-z0-9]+$/.test(i)));
    assert.equal(Buffer.from(blockId(10_000), "base64").toString(), "010000");
    assert.throws(() => blockId(-1), RangeError);
    assert.throws(() => blockId(1_000_000), RangeError);
  });
});

describe("parseBlockList", () => {
  it("reads committed and uncommitted blocks, single or many, and empty lists", () => {
    const xml =
      '<?xml version="1.0" encoding="utf-8"?><BlockList><CommittedBlocks><Block><Name>MDAwMDAw</Name><Size>5</Size></Block></CommittedBlocks>' +
      "<UncommittedBlocks><Block><Name>MDAwMDAx</Name><Size>7</Size></Block><Block><Name>MDAwMDAy</Name><Size>3</Size></Block></UncommittedBlocks></BlockList>";
    assert.deepEqual(parseBlockList(xml), {
      committed: [{ name: "MDAwMDAw", size: 5 }],
      uncommitted: [
        { name: "MDAwMDAx", size: 7 },
        { name: "MDAwMDAy", size: 3 },
      ],
    });
    assert.deepEqual(parseBlockList("<BlockList><CommittedBlocks /><UncommittedBlocks /></BlockList>"), {
      committed: [],
      uncommitted: [],
    });
  });
});

describe("BlockBlobClient against a scripted server", () => {
  let server: ScriptedServer;
  let transport: FetchTransport;
  const sas = () => `${server.origin}/devstoreaccount1/c/b.intunewin.bin?sv=2017-04-17&sr=b&si=p&sig=SECRETSIG%2B%3D`;

  before(async () => {
    server = await startScriptedServer(
      inOrder(
        { status: 503, headers: { "retry-after": "1" } },
        { status: 201 },
        {
          status: 403,
          headers: { "x-ms-error-code": "AuthenticationFailed", "x-ms-request-id": "rid-1" },
          body: '<?xml version="1.0"?><Error><Code>AuthenticationFailed</Code><Message>Server failed to authenticate the request.\nRequestId:rid-1\nTime:x</Message></Error>',
        },
        { status: 404, headers: { "x-ms-error-code": "BlobNotFound" } },
        { status: 201 },
      ),
    );
    transport = createFetchTransport();
  });
  after(async () => {
    await transport.close();
    await server.close();
  });

  it("sends Put Block with the id, a Content-Length and no Authorization; retries a 503 after Retry-After", async () => {
    const waits = recordingSleep();
    const client = new BlockBlobClient({ transport: transport.send, retry: { sleep: waits.sleep } });
    await client.putBlock(sas(), blockId(3), Buffer.from("hello"));
    assert.deepEqual(waits.waits, [1000]);
    const [first, second] = server.received;
    assert.equal(second?.method, "PUT");
    assert.ok(second?.url.endsWith(`&comp=block&blockid=${encodeURIComponent(blockId(3))}`), second?.url);
    assert.equal(second?.headers["content-length"], "5");
    assert.equal(second?.headers["authorization"], undefined);
    assert.equal(second?.body, "hello");
    assert.equal(
      first?.headers["x-ms-client-request-id"],
      second?.headers["x-ms-client-request-id"],
      "one id per request",
    );
  });

  it("turns a 403 into a StorageError without the SAS signature", async () => {
    const client = new BlockBlobClient({ transport: transport.send });
    await assert.rejects(client.putBlock(sas(), blockId(4), Buffer.from("x")), (e: unknown) => {
      assert.ok(e instanceof StorageError);
      assert.equal(e.status, 403);
      assert.equal(e.storageCode, "AuthenticationFailed");
      assert.equal(e.requestId, "rid-1");
      assert.match(e.message, /Server failed to authenticate the request\./);
      assert.doesNotMatch(e.message + e.url, /SECRETSIG|RequestId:/);
      return true;
    });
  });

  it("reads a missing blob as empty block lists, and writes the block list in order", async () => {
    const client = new BlockBlobClient({ transport: transport.send });
    assert.deepEqual(await client.getBlockList(sas()), { committed: [], uncommitted: [] });
    await client.putBlockList(sas(), [blockId(0), blockId(1)]);
    const list = server.received.at(-1)!;
    assert.ok(list.url.endsWith("&comp=blocklist"));
    assert.equal(
      list.body,
      `<?xml version="1.0" encoding="utf-8"?><BlockList><Latest>${blockId(0)}</Latest><Latest>${blockId(1)}</Latest></BlockList>`,
    );
  });
});
