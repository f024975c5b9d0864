import assert from "node:assert/strict";
import { createHash, createHmac, randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { BlockBlobClient, RestError, type StoragePipelineOptions } from "@azure/storage-blob";
import type { Dispatcher } from "undici-types";
import { startEmbeddedStorage, type EmbeddedStorage, type FileEncryptionInfoWire } from "./index.js";
import { createTlsCertificates, type TlsCertificates } from "../../src/platform/certificates.js";
import { encryptPayload } from "../testing/payload.js";
import { checkEncryptionInfo, verifyPayloadStream } from "./verify-payload.js";

// ---------------------------------------------------------------------------------------------------------------
// Helpers

interface Payload {
  payload: Buffer;
  plaintext: Buffer;
  info: FileEncryptionInfoWire;
  expected: { sizeEncrypted: number; size: number; fileEncryptionInfo: FileEncryptionInfoWire };
}

/** A ProfileVersion1 payload (testing/payload.ts) and what a commit expects of it. */
function buildPayload(plaintext: Buffer, opts: { autoPadding?: boolean } = {}): Payload {
  const p = encryptPayload(plaintext, opts);
  const info = p.fileEncryptionInfo;
  return {
    payload: p.payload,
    plaintext,
    info,
    expected: { sizeEncrypted: p.sizeEncrypted, size: p.size, fileEncryptionInfo: info },
  };
}

/** Fixed-width block ids, as every Intune client sends them (docs/reference/graph-win32-upload.md §2.6). */
function blockId(i: number): string {
  return Buffer.from(String(i).padStart(6, "0")).toString("base64");
}

function chunks(data: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, i + size));
  return out;
}

function flipByte(data: Buffer, index: number): Buffer {
  const copy = Buffer.from(data);
  copy[index] = copy[index]! ^ 0x01;
  return copy;
}

async function* streamOf(data: Buffer, chunkSize: number): AsyncGenerator<Buffer> {
  for (const c of chunks(data, chunkSize)) yield c;
}

// ---------------------------------------------------------------------------------------------------------------
// Pure checks: no storage needed

describe("verifyPayloadStream", () => {
  // Synthetic vector of docs/reference/intunewin-format.md §1.4.
  const seq = (from: number, n: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => from + i));
  const vector = {
    key: seq(0x00, 32),
    macKey: seq(0x20, 32),
    iv: seq(0x40, 16),
    plaintext: Buffer.from("intunewin test vector\n", "ascii"),
    ciphertext: Buffer.from("1dfecec4a276fb0f98e78a60e4b3ca6ebcabc0548ffc2de42fcd824f60cf49b2", "hex"),
    mac: "HNKD7T6lcy1AswVzvt2PIWKur0A69pBYJDG+zFZjRaY=",
    fileDigest: "YnT6XD27WEQVqmgR/empVDSX39a1JigM6ivPAz4qBak=",
  };
  const payload = Buffer.concat([Buffer.from(vector.mac, "base64"), vector.iv, vector.ciphertext]);
  const info: FileEncryptionInfoWire = {
    encryptionKey: vector.key.toString("base64"),
    macKey: vector.macKey.toString("base64"),
    initializationVector: vector.iv.toString("base64"),
    mac: vector.mac,
    profileIdentifier: "ProfileVersion1",
    fileDigest: vector.fileDigest,
    fileDigestAlgorithm: "SHA256",
  };

  it("accepts the test vector of docs/reference/intunewin-format.md §1.4, whatever the chunking", async () => {
    assert.equal(
      createHash("sha256").update(payload).digest("hex"),
      "0235bea02e09106ec00db8e8df4dfb90ce614eb8cc109cb1d01bb9f9215ea602",
    );
    const decoded = checkEncryptionInfo(info);
    assert.ok(decoded.ok);
    for (const size of [1, 7, 31, 32, 33, 47, 48, 49, 80]) {
      const result = await verifyPayloadStream(
        streamOf(payload, size),
        { sizeEncrypted: 80, size: 22 },
        decoded.decoded,
      );
      assert.deepEqual(result, { ok: true }, `chunk size ${size}`);
    }
  });

  it("rejects a MAC computed over the ciphertext only (the classic home-made mistake, §3 item 5)", async () => {
    const badMac = createHmac("sha256", vector.macKey).update(vector.ciphertext).digest();
    const bad = Buffer.concat([badMac, vector.iv, vector.ciphertext]);
    const decoded = checkEncryptionInfo({ ...info, mac: badMac.toString("base64") });
    assert.ok(decoded.ok);
    const result = await verifyPayloadStream(streamOf(bad, 16), { sizeEncrypted: 80, size: 22 }, decoded.decoded);
    assert.equal(result.ok, false);
    assert.equal(!result.ok && result.check, "hmac");
  });

  it("checks fileEncryptionInfo literals, base64 and lengths", () => {
    const cases: [Partial<FileEncryptionInfoWire>, string][] = [
      [{ profileIdentifier: "ProfileVersion2" }, 'profileIdentifier is "ProfileVersion2"'],
      [{ fileDigestAlgorithm: "SHA1" }, 'fileDigestAlgorithm is "SHA1"'],
      [{ encryptionKey: randomBytes(16).toString("base64") }, "encryptionKey decodes to 16 bytes; it must be 32"],
      [{ macKey: randomBytes(31).toString("base64") }, "macKey decodes to 31 bytes; it must be 32"],
      [{ initializationVector: randomBytes(32).toString("base64") }, "initializationVector decodes to 32 bytes"],
      [{ mac: randomBytes(20).toString("base64") }, "mac decodes to 20 bytes; it must be 32"],
      [{ fileDigest: randomBytes(64).toString("base64") }, "fileDigest decodes to 64 bytes; it must be 32"],
      [{ mac: vector.mac.replace(/=$/, "") }, "mac is not valid base64"],
      [{ macKey: "not base64!" }, "macKey is not valid base64"],
    ];
    for (const [patch, fragment] of cases) {
      const result = checkEncryptionInfo({ ...info, ...patch });
      assert.equal(result.ok, false, fragment);
      assert.ok(!result.ok && result.check === "encryptionInfo" && result.reason.includes(fragment), fragment);
    }
    assert.equal(checkEncryptionInfo(info).ok, true);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Embedded Azurite (in memory)

describe("embedded storage (in memory, HTTPS)", () => {
  let certs: TlsCertificates;
  let storage: EmbeddedStorage;
  let trusted: Dispatcher;
  let sdkOptions: StoragePipelineOptions;

  before(async () => {
    certs = await createTlsCertificates();
    storage = await startEmbeddedStorage({ tls: certs });
    // Node 20 bundles undici without exporting it; its global dispatcher's class is undici's Agent. Trust the
    // test CA for this dispatcher only.
    await fetch("data:,");
    const global = (globalThis as Record<symbol, unknown>)[Symbol.for("undici.globalDispatcher.1")] as Dispatcher;
    const Agent = global.constructor as new (opts: { connect: { ca: string } }) => Dispatcher;
    trusted = new Agent({ connect: { ca: certs.caCertPem } });
    // The SDK forwards tlsOptions to its pipeline; its options type omits it (docs/reference/azurite.md §1.1).
    const options: StoragePipelineOptions & { tlsOptions: { ca: string } } = { tlsOptions: { ca: certs.caCertPem } };
    sdkOptions = options;
  });

  after(async () => {
    await storage?.close();
    await trusted?.close();
  });

  async function newUri(ttlMs = 60_000): Promise<string> {
    return storage.createUploadUri({
      container: randomUUID(),
      blobName: `${randomUUID()}/${randomUUID()}.intunewin.bin`,
      expiresOn: new Date(Date.now() + ttlMs),
    });
  }

  async function uploadWithSdk(uri: string, data: Buffer, blockSize = 1000): Promise<void> {
    const client = new BlockBlobClient(uri, undefined, sdkOptions);
    const parts = chunks(data, blockSize);
    for (const [i, part] of parts.entries()) await client.stageBlock(blockId(i), part, part.length);
    await client.commitBlockList(parts.map((_, i) => blockId(i)));
  }

  async function putBlock(uri: string, id: string, body: Buffer): Promise<Response> {
    return fetch(`${uri}&comp=block&blockid=${encodeURIComponent(id)}`, {
      method: "PUT",
      headers: { "x-ms-blob-type": "BlockBlob" },
      body,
      dispatcher: trusted,
    });
  }

  async function errorCode(response: Response): Promise<string | undefined> {
    return /<Code>([^<]+)<\/Code>/.exec(await response.text())?.[1];
  }

  it("hands out Intune-shaped SAS URLs on the HTTPS endpoint", async () => {
    assert.match(storage.blobEndpoint, /^https:\/\/127\.0\.0\.1:\d+\/devstoreaccount1$/);
    const uri = await newUri();
    const escaped = storage.blobEndpoint.replace(/[.]/g, "\\.");
    assert.match(
      uri,
      new RegExp(
        `^${escaped}/[0-9a-f-]{36}/[0-9a-f-]{36}/[0-9a-f-]{36}\\.intunewin\\.bin\\?sv=2017-04-17&sr=b&si=-?\\d+&sig=[^&]+$`,
      ),
    );
  });

  it("rejects a client that does not trust the CA (TLS verification stays on)", async () => {
    const uri = await newUri();
    await assert.rejects(
      fetch(uri, { method: "HEAD" }),
      (e: unknown) =>
        e instanceof TypeError &&
        (e.cause as { code?: string } | undefined)?.code === "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
    );
  });

  it("accepts an upload with the real BlockBlobClient and verifies it", async () => {
    const { payload, expected } = buildPayload(randomBytes(4321));
    const uri = await newUri();
    await uploadWithSdk(uri, payload, 1024);
    const list = await new BlockBlobClient(uri, undefined, sdkOptions).getBlockList("committed");
    assert.deepEqual(
      list.committedBlocks?.map((b) => b.name),
      [0, 1, 2, 3, 4].map(blockId),
    );
    assert.deepEqual(await storage.verifyCommittedContent(uri, expected), { ok: true });
  });

  it("accepts a raw fetch upload (Put Block, Put Block List) as Intune clients send it", async () => {
    const { payload, expected } = buildPayload(randomBytes(3078));
    const uri = await newUri();
    const parts = chunks(payload, 1000);
    for (const [i, part] of parts.entries()) assert.equal((await putBlock(uri, blockId(i), part)).status, 201);
    const xml = `<?xml version="1.0" encoding="utf-8"?><BlockList>${parts.map((_, i) => `<Latest>${blockId(i)}</Latest>`).join("")}</BlockList>`;
    const committed = await fetch(`${uri}&comp=blocklist`, {
      method: "PUT",
      headers: { "Content-Type": "application/xml" },
      body: xml,
      dispatcher: trusted,
    });
    assert.equal(committed.status, 201);
    const got = await fetch(uri, { dispatcher: trusted });
    assert.equal(got.status, 200);
    assert.ok(Buffer.from(await got.arrayBuffer()).equals(payload));
    assert.deepEqual(await storage.verifyCommittedContent(uri, expected), { ok: true });
  });

  it("rejects a tampered signature with 403", async () => {
    const uri = await newUri();
    const sig = new URL(uri).searchParams.get("sig")!;
    const tampered = uri.replace(
      encodeURIComponent(sig),
      encodeURIComponent((sig[0] === "A" ? "B" : "A") + sig.slice(1)),
    );
    assert.notEqual(tampered, uri);
    const response = await putBlock(tampered, blockId(0), Buffer.from("x"));
    assert.equal(response.status, 403);
    assert.equal(await errorCode(response), "AuthorizationFailure");
    assert.equal((await putBlock(uri, blockId(0), Buffer.from("x"))).status, 201);
  });

  it("expires a URL with 403, and renewal makes the same URL work again with its blocks kept", async () => {
    const { payload, expected } = buildPayload(randomBytes(2500));
    const uri = await newUri();
    const other = await newUri();
    const [first, second] = [payload.subarray(0, 1000), payload.subarray(1000)];
    assert.equal((await putBlock(uri, blockId(0), first)).status, 201);

    await storage.expireUploadUri(uri);
    const refused = await putBlock(uri, blockId(1), second);
    assert.equal(refused.status, 403);
    assert.equal(await errorCode(refused), "AuthorizationFailure");
    await assert.rejects(
      new BlockBlobClient(uri, undefined, sdkOptions).stageBlock(blockId(1), second, second.length),
      (e: unknown) => e instanceof RestError && e.statusCode === 403,
    );
    // Only that URL's policy expired.
    assert.equal((await putBlock(other, blockId(0), first)).status, 201);

    await storage.renewUploadUri(uri, new Date(Date.now() + 60_000));
    assert.equal((await putBlock(uri, blockId(1), second)).status, 201);
    await new BlockBlobClient(uri, undefined, sdkOptions).commitBlockList([blockId(0), blockId(1)]);
    assert.deepEqual(await storage.verifyCommittedContent(uri, expected), { ok: true });
  });

  it("keeps every URL of a container working when they are issued concurrently", async () => {
    const container = randomUUID();
    const expiresOn = new Date(Date.now() + 60_000);
    const uris = await Promise.all(
      Array.from({ length: 8 }, (_, i) => storage.createUploadUri({ container, blobName: `f${i}.bin`, expiresOn })),
    );
    assert.equal(new Set(uris.map((u) => new URL(u).searchParams.get("si"))).size, 8);
    await Promise.all([storage.expireUploadUri(uris[0]!), storage.renewUploadUri(uris[1]!, expiresOn)]);
    const statuses = await Promise.all(uris.map(async (u) => (await putBlock(u, blockId(0), Buffer.from("x"))).status));
    assert.deepEqual(statuses, [403, 201, 201, 201, 201, 201, 201, 201]);
  });

  it("refuses a URL whose policy expiry has passed on its own", async () => {
    const uri = await newUri(1_000);
    assert.equal((await putBlock(uri, blockId(0), Buffer.from("x"))).status, 201);
    await new Promise((r) => setTimeout(r, 2_100));
    assert.equal((await putBlock(uri, blockId(1), Buffer.from("y"))).status, 403);
  });

  describe("verifyCommittedContent failures", () => {
    const plaintext = randomBytes(5000);
    const good = buildPayload(plaintext);

    async function verifyUploaded(payload: Buffer, expected: Payload["expected"]) {
      const uri = await newUri();
      await uploadWithSdk(uri, payload);
      return storage.verifyCommittedContent(uri, expected);
    }

    function assertFails(
      result: Awaited<ReturnType<EmbeddedStorage["verifyCommittedContent"]>>,
      check: string,
      fragment: string,
    ) {
      assert.equal(result.ok, false, `expected ${check} failure`);
      if (result.ok) return;
      assert.equal((result as { check?: string }).check, check, result.reason);
      assert.ok(result.reason.includes(fragment), `${JSON.stringify(result.reason)} lacks ${JSON.stringify(fragment)}`);
    }

    it("one flipped byte in the ciphertext fails the HMAC", async () => {
      assertFails(await verifyUploaded(flipByte(good.payload, 48 + 2000), good.expected), "hmac", "HMAC-SHA256");
    });

    it("one flipped byte in the IV fails the IV check", async () => {
      assertFails(await verifyUploaded(flipByte(good.payload, 40), good.expected), "ivHeader", "Bytes 32–47");
    });

    it("one flipped byte in the leading MAC fails the MAC check", async () => {
      assertFails(await verifyUploaded(flipByte(good.payload, 5), good.expected), "macHeader", "Bytes 0–31");
    });

    it("a wrong sizeEncrypted fails the length check", async () => {
      const expected = { ...good.expected, sizeEncrypted: good.expected.sizeEncrypted + 16 };
      assertFails(
        await verifyUploaded(good.payload, expected),
        "blobLength",
        `sizeEncrypted is ${expected.sizeEncrypted}`,
      );
    });

    it("a truncated upload fails the length check", async () => {
      const short = good.payload.subarray(0, good.payload.length - 16);
      assertFails(await verifyUploaded(short, good.expected), "blobLength", `is ${short.length} bytes`);
    });

    it("a wrong size fails the plaintext length check", async () => {
      const expected = { ...good.expected, size: plaintext.length - 1 };
      assertFails(
        await verifyUploaded(good.payload, expected),
        "plaintextLength",
        `but size is ${plaintext.length - 1}`,
      );
    });

    it("a wrong fileDigest fails the digest check", async () => {
      const info = { ...good.info, fileDigest: createHash("sha256").update("other").digest("base64") };
      const expected = { ...good.expected, fileEncryptionInfo: info };
      assertFails(await verifyUploaded(good.payload, expected), "fileDigest", "SHA-256 of the decrypted content");
    });

    it("invalid PKCS#7 padding fails the padding check", async () => {
      // 32 bytes encrypted without padding, ending in 0x00: never valid PKCS#7.
      const unpadded = buildPayload(Buffer.concat([randomBytes(31), Buffer.from([0])]), { autoPadding: false });
      const expected = { ...unpadded.expected, size: 16 };
      assertFails(await verifyUploaded(unpadded.payload, expected), "padding", "PKCS#7");
    });

    it("wrong key lengths fail before any download", async () => {
      const info = { ...good.info, encryptionKey: randomBytes(24).toString("base64") };
      const result = await storage.verifyCommittedContent(await newUri(), {
        ...good.expected,
        fileEncryptionInfo: info,
      });
      assertFails(result, "encryptionInfo", "encryptionKey decodes to 24 bytes");
      const iv = { ...good.info, initializationVector: randomBytes(8).toString("base64") };
      assertFails(
        await verifyUploaded(good.payload, { ...good.expected, fileEncryptionInfo: iv }),
        "encryptionInfo",
        "initializationVector decodes to 8 bytes",
      );
    });

    it("an upload without a committed block list fails", async () => {
      const uri = await newUri();
      assert.equal((await putBlock(uri, blockId(0), good.payload)).status, 201);
      assertFails(
        await storage.verifyCommittedContent(uri, good.expected),
        "blobNotCommitted",
        "No block list was committed",
      );
    });

    it("a blob written with a single Put Blob (no block list) fails", async () => {
      const uri = await newUri();
      await new BlockBlobClient(uri, undefined, sdkOptions).upload(good.payload, good.payload.length);
      assertFails(
        await storage.verifyCommittedContent(uri, good.expected),
        "blobNotCommitted",
        "no committed block list",
      );
    });

    it("nothing uploaded fails", async () => {
      assertFails(await storage.verifyCommittedContent(await newUri(), good.expected), "blobMissing", "No blob");
    });
  });

  it("deleteBlob removes the blob and retires the URL", async () => {
    const { payload, expected } = buildPayload(randomBytes(100));
    const uri = await newUri();
    await uploadWithSdk(uri, payload);
    assert.deepEqual(await storage.verifyCommittedContent(uri, expected), { ok: true });
    await storage.deleteBlob(uri);
    const result = await storage.verifyCommittedContent(uri, expected);
    assert.equal(result.ok, false);
    assert.equal((result as { check?: string }).check, "blobMissing");
    assert.equal((await putBlock(uri, blockId(0), Buffer.from("x"))).status, 403);
    await assert.rejects(storage.renewUploadUri(uri, new Date(Date.now() + 60_000)), /retired/);
  });

  it("the commit retires the URL: Put Block, Put Block List and Put Blob answer 403 AuthenticationFailed as storage does; the verified content stays", async () => {
    const { payload, expected } = buildPayload(randomBytes(3000));
    const uri = await newUri();
    const other = await newUri();
    await uploadWithSdk(uri, payload);
    // The commit's verification starts: from this call on, the URL is refused.
    const verifying = storage.verifyCommittedContent(uri, expected);

    const refused = await putBlock(uri, blockId(0), Buffer.alloc(1000));
    assert.equal(refused.status, 403);
    assert.equal(refused.headers.get("x-ms-error-code"), "AuthenticationFailed");
    assert.ok(refused.headers.get("x-ms-request-id"));
    const body = await refused.text();
    assert.match(body, /^\ufeff?<\?xml version="1\.0" encoding="utf-8"\?><Error><Code>AuthenticationFailed<\/Code>/);
    assert.match(
      body,
      /<Message>Server failed to authenticate the request\. Make sure the value of Authorization header is formed correctly including the signature\.\nRequestId:[0-9a-f-]{36}\nTime:/,
    );
    assert.match(body, /<AuthenticationErrorDetail>[^<]*committed[^<]*<\/AuthenticationErrorDetail><\/Error>$/);
    assert.doesNotMatch(body, /sig=/);

    const sdk = new BlockBlobClient(uri, undefined, sdkOptions);
    const authFailed = (e: unknown) =>
      e instanceof RestError && e.statusCode === 403 && e.code === "AuthenticationFailed";
    await assert.rejects(sdk.stageBlock(blockId(0), Buffer.alloc(10), 10), authFailed);
    await assert.rejects(sdk.commitBlockList([blockId(0)]), authFailed);
    await assert.rejects(sdk.upload(Buffer.alloc(10), 10), authFailed, "Put Blob");
    await assert.rejects(sdk.getBlockList("all"), authFailed);
    await assert.rejects(storage.renewUploadUri(uri, new Date(Date.now() + 60_000)), /retired/);

    assert.deepEqual(await verifying, { ok: true });
    assert.deepEqual(await storage.verifyCommittedContent(uri, expected), { ok: true }, "the content is unchanged");
    // Other URLs are not affected.
    assert.equal((await putBlock(other, blockId(0), Buffer.from("x"))).status, 201);
  });

  it("an upload URL without read permission: Put Block and Put Block List work, Get Block List answers 403 AuthorizationPermissionMismatch; the switch applies to URLs issued or renewed later", async () => {
    const { payload, expected } = buildPayload(randomBytes(2500));
    const before = await newUri();
    assert.equal((await putBlock(before, blockId(0), Buffer.from("x"))).status, 201);
    storage.setUploadSasRead(false);
    let uri: string;
    try {
      assert.equal(storage.uploadSasRead, false);
      uri = await newUri();
      const sdk = new BlockBlobClient(uri, undefined, sdkOptions);
      const parts = chunks(payload, 1000);
      for (const [i, part] of parts.entries()) assert.equal((await putBlock(uri, blockId(i), part)).status, 201);
      await assert.rejects(
        sdk.getBlockList("all"),
        (e: unknown) => e instanceof RestError && e.statusCode === 403 && e.code === "AuthorizationPermissionMismatch",
      );
      await sdk.commitBlockList(parts.map((_, i) => blockId(i)));
      // A URL issued with read keeps it until it is renewed.
      await new BlockBlobClient(before, undefined, sdkOptions).getBlockList("all");
      await storage.renewUploadUri(before, new Date(Date.now() + 60_000));
      await assert.rejects(
        new BlockBlobClient(before, undefined, sdkOptions).getBlockList("all"),
        (e: unknown) => e instanceof RestError && e.code === "AuthorizationPermissionMismatch",
      );
    } finally {
      storage.setUploadSasRead(true);
    }
    assert.equal(storage.uploadSasRead, true);
    await storage.renewUploadUri(before, new Date(Date.now() + 60_000));
    await new BlockBlobClient(before, undefined, sdkOptions).getBlockList("all");
    assert.deepEqual(await storage.verifyCommittedContent(uri, expected), { ok: true });
  });

  it("rejects URLs it did not issue", async () => {
    const uri = await newUri();
    await assert.rejects(storage.renewUploadUri(uri.replace("127.0.0.1", "localhost"), new Date()), /not served/);
    await assert.rejects(storage.renewUploadUri(uri.replace(/&si=[^&]+/, ""), new Date()), /no stored access policy/);
    await assert.rejects(
      storage.createUploadUri({ container: "Bad_Name", blobName: "x", expiresOn: new Date() }),
      /Invalid container name/,
    );
    for (const blobName of ["", "a//b", "../x", "a/./b"]) {
      await assert.rejects(
        storage.createUploadUri({ container: "abc", blobName, expiresOn: new Date() }),
        /Invalid blob name/,
      );
    }
  });
});

describe("embedded storage limits and lifecycle", () => {
  let certs: TlsCertificates;
  before(async () => {
    certs = await createTlsCertificates();
  });

  it("enforces extentMemoryLimitMB with 409 MemoryExtentStoreAtSizeLimit", async () => {
    const storage = await startEmbeddedStorage({ tls: certs, extentMemoryLimitMB: 1 });
    try {
      const options: StoragePipelineOptions & { tlsOptions: { ca: string } } = { tlsOptions: { ca: certs.caCertPem } };
      const uri = await storage.createUploadUri({
        container: "limits",
        blobName: "a.bin",
        expiresOn: new Date(Date.now() + 60_000),
      });
      const client = new BlockBlobClient(uri, undefined, options);
      const block = randomBytes(600 * 1024);
      await client.stageBlock(blockId(0), block, block.length);
      await assert.rejects(
        client.stageBlock(blockId(1), block, block.length),
        (e: unknown) => e instanceof RestError && e.statusCode === 409 && e.code === "MemoryExtentStoreAtSizeLimit",
      );
    } finally {
      await storage.close();
    }
  });

  it("refuses extentMemoryLimitMB together with location", async () => {
    await assert.rejects(
      startEmbeddedStorage({ tls: certs, location: tmpdir(), extentMemoryLimitMB: 10 }),
      /in-memory/,
    );
  });

  it("disk mode keeps blobs and upload URLs across a restart, and a retired URL stays refused", async () => {
    const location = await mkdtemp(join(tmpdir(), "intune-emulator-storage-disk-"));
    try {
      const { payload, expected } = buildPayload(randomBytes(20_000));
      const first = await startEmbeddedStorage({ tls: certs, location });
      const options: StoragePipelineOptions & { tlsOptions: { ca: string } } = { tlsOptions: { ca: certs.caCertPem } };
      let uri: string;
      try {
        uri = await first.createUploadUri({
          container: randomUUID(),
          blobName: "content.intunewin.bin",
          expiresOn: new Date(Date.now() + 60_000),
        });
        const client = new BlockBlobClient(uri, undefined, options);
        const parts = chunks(payload, 6000);
        for (const [i, part] of [...parts.entries()].slice(0, 2))
          await client.stageBlock(blockId(i), part, part.length);
      } finally {
        await first.close();
      }
      assert.ok((await readdir(location)).length > 0, "nothing was written to the location");

      // New port, same data: rebase the URL on the new endpoint.
      const rebase = (s: EmbeddedStorage) =>
        uri.replace(/^https:\/\/127\.0\.0\.1:\d+\/devstoreaccount1/, s.blobEndpoint);
      const second = await startEmbeddedStorage({ tls: certs, location });
      try {
        const moved = rebase(second);
        const client = new BlockBlobClient(moved, undefined, options);
        // The staged blocks and the URL survived; expiry and renewal still work.
        assert.equal((await client.getBlockList("uncommitted")).uncommittedBlocks?.length, 2);
        await second.expireUploadUri(moved);
        await assert.rejects(
          client.getBlockList("all"),
          (e: unknown) => e instanceof RestError && e.statusCode === 403,
        );
        await second.renewUploadUri(moved, new Date(Date.now() + 60_000));
        const parts = chunks(payload, 6000);
        for (const [i, part] of [...parts.entries()].slice(2)) await client.stageBlock(blockId(i), part, part.length);
        await client.commitBlockList(parts.map((_, i) => blockId(i)));
        assert.deepEqual(await second.verifyCommittedContent(moved, expected), { ok: true });
      } finally {
        await second.close();
      }

      const third = await startEmbeddedStorage({ tls: certs, location });
      try {
        const moved = rebase(third);
        assert.deepEqual(await third.verifyCommittedContent(moved, expected), { ok: true });
        await assert.rejects(
          new BlockBlobClient(moved, undefined, options).stageBlock(blockId(0), Buffer.alloc(6000), 6000),
          (e: unknown) => e instanceof RestError && e.statusCode === 403,
          "the commit retired the URL before the restart",
        );
      } finally {
        await third.close();
      }
    } finally {
      await rm(location, { recursive: true, force: true });
    }
  });
});
