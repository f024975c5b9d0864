// unpack extracts the inner zip straight from the package, decrypting each piece where it is read (CBC needs only
// the ciphertext block before it): no decrypted copy of the inner zip is written and read back.
import assert from "node:assert/strict";
import { createCipheriv, createHash, createHmac, randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { PublisherError } from "../../src/core/errors.js";
import { openDecryptingSource } from "../../src/intunewin/decrypting-source.js";
import { packageFolder } from "../../src/intunewin/package.js";
import { openPackage } from "../../src/intunewin/read.js";
import { unpackPackage } from "../../src/intunewin/unpack.js";
import { extractEntry, writeOuterZip, writeZip } from "../support/independent.js";
import { useScratch } from "../support/scratch.js";

const fresh = useScratch("ip-unpack-direct-");
const MiB = 1024 * 1024;

/** Bytes this process has passed to write(2) and friends, all threads together (Linux). */
async function bytesWritten(): Promise<number> {
  const io = await readFile("/proc/self/io", "utf8");
  return Number(/^wchar: (\d+)$/m.exec(io)![1]);
}

async function packageOf(dir: string, files: Record<string, Buffer>): Promise<string> {
  const source = join(dir, "source");
  await mkdir(source, { recursive: true });
  for (const [name, data] of Object.entries(files)) await writeFile(join(source, name), data);
  const name = Object.keys(files)[0]!;
  return (await packageFolder({ sourceDir: source, setupFile: name, outDir: join(dir, "pkg") })).path;
}

/** A package whose payload is `plaintext` encrypted without padding checks of ours: any last block may be forged. */
async function rawPackage(dir: string, plaintext: Buffer, declared = plaintext.length): Promise<string> {
  const key = randomBytes(32);
  const macKey = randomBytes(32);
  const iv = randomBytes(16);
  const c = createCipheriv("aes-256-cbc", key, iv).setAutoPadding(false);
  const ct = Buffer.concat([c.update(plaintext), c.final()]);
  const mac = createHmac("sha256", macKey)
    .update(Buffer.concat([iv, ct]))
    .digest();
  await writeFile(join(dir, "payload"), Buffer.concat([mac, iv, ct]));
  const b64 = (b: Buffer): string => b.toString("base64");
  const digest = createHash("sha256").update(plaintext.subarray(0, declared)).digest();
  const xml = `<ApplicationInfo ToolVersion="1.8.7.0"><Name>x</Name><UnencryptedContentSize>${declared}</UnencryptedContentSize><FileName>IntunePackage.intunewin</FileName><SetupFile>x.exe</SetupFile><EncryptionInfo><EncryptionKey>${b64(key)}</EncryptionKey><MacKey>${b64(macKey)}</MacKey><InitializationVector>${b64(iv)}</InitializationVector><Mac>${b64(mac)}</Mac><ProfileIdentifier>ProfileVersion1</ProfileIdentifier><FileDigest>${b64(digest)}</FileDigest><FileDigestAlgorithm>SHA256</FileDigestAlgorithm></EncryptionInfo></ApplicationInfo>`;
  const pkg = join(dir, "raw.intunewin");
  writeOuterZip(pkg, join(dir, "payload"), xml);
  return pkg;
}

/** PKCS#7 padding of `data` to whole blocks. */
function padded(data: Buffer): Buffer {
  const n = 16 - (data.length % 16);
  return Buffer.concat([data, Buffer.alloc(n, n)]);
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof PublisherError, String(e));
    return e.code;
  }
  return "none";
}

describe("unpack from the package, without a decrypted copy", () => {
  it("writes about the extracted bytes only, not the inner zip as well", async () => {
    const dir = await fresh();
    const data = randomBytes(8 * MiB);
    const pkg = await packageOf(dir, { "setup.ps1": Buffer.from("Write-Output ok\r\n"), "data.bin": data });
    const before = await bytesWritten();
    const r = await unpackPackage({ packagePath: pkg, outDir: join(dir, "out") });
    const written = (await bytesWritten()) - before;
    assert.equal(r.files, 2);
    assert.ok((await readFile(join(dir, "out", "data.bin"))).equals(data));
    // Writing the decrypted zip first would add its 8 MiB.
    assert.ok(written < 12 * MiB, `unpack wrote ${written} bytes for 8 MiB of files`);
  });

  it("reads the plaintext at any position, across block and window borders, as --keep-zip decrypts it", async () => {
    const dir = await fresh();
    const text = Buffer.from("log line of some text\r\n".repeat(120_000));
    const pkg = await packageOf(dir, { "setup.ps1": Buffer.from("x"), "a.bin": randomBytes(300_000), "b.txt": text });
    const zip = (await unpackPackage({ packagePath: pkg, outDir: join(dir, "zip"), keepZip: true })).zipPath!;
    const plain = await readFile(zip);
    const opened = await openPackage(pkg);
    try {
      const source = await openDecryptingSource({
        path: pkg,
        reader: (await opened.openPayloadReader())!,
        payloadSize: opened.payloadSize,
        key: Buffer.from(opened.detection.EncryptionInfo.EncryptionKey, "base64"),
        truncated: () => new Error("truncated"),
        badPadding: () => new Error("bad padding"),
      });
      assert.equal(source.size, plain.length);
      const at = [0, 1, 15, 16, 17, 65_535, 65_536, 65_551, 100_003, plain.length - 70_000, plain.length - 17];
      for (const position of at) {
        for (const length of [1, 16, 33, 70_000, 1024 * 1024]) {
          const want = plain.subarray(position, position + length);
          assert.ok((await source.chunk(position, length)).equals(want), `chunk ${position}+${length}`);
          const into = Buffer.alloc(length);
          const n = await source.read(into, position, length);
          assert.ok(into.subarray(0, n).equals(want), `read ${position}+${length}`);
        }
      }
      assert.equal((await source.chunk(plain.length, 10)).length, 0, "nothing past the end");
      await source.close();
    } finally {
      opened.close();
    }
  });

  it("judges the payload before the zip: bad padding, a wrong size, a wrong digest over a damaged zip", async () => {
    const dir = await fresh();
    writeZip(join(dir, "inner.zip"), [{ name: "x.exe", data: "setup" }]);
    const inner = await readFile(join(dir, "inner.zip"));

    const good = await rawPackage(await fresh(), padded(inner), inner.length);
    assert.equal(await code(unpackPackage({ packagePath: good, outDir: join(dir, "good") })), "none");
    assert.deepEqual(await readdir(join(dir, "good")), ["x.exe"]);

    // The last byte says 0: no valid PKCS#7 padding, although the MAC matches.
    const forged = padded(inner);
    forged[forged.length - 1] = 0;
    const bad = await rawPackage(await fresh(), forged, inner.length);
    assert.equal(await code(unpackPackage({ packagePath: bad, outDir: join(dir, "bad") })), "DecryptFailed");

    const size = await rawPackage(await fresh(), padded(inner), inner.length - 1);
    assert.equal(await code(unpackPackage({ packagePath: size, outDir: join(dir, "size") })), "SizeMismatch");

    // Not a zip at all, and its digest is wrong: the digest explains it.
    const body = Buffer.from("not a zip, and not what was signed".repeat(50));
    const p = await rawPackage(await fresh(), padded(body), body.length);
    const xmlDir = await fresh();
    extractEntry(p, "IntuneWinPackage/Metadata/Detection.xml", join(xmlDir, "d.xml"));
    extractEntry(p, "IntuneWinPackage/Contents/IntunePackage.intunewin", join(xmlDir, "payload"));
    const xml = (await readFile(join(xmlDir, "d.xml"), "utf8")).replace(
      /<FileDigest>[^<]*</,
      `<FileDigest>${randomBytes(32).toString("base64")}<`,
    );
    writeOuterZip(join(xmlDir, "junk.intunewin"), join(xmlDir, "payload"), xml);
    const junkCode = await code(unpackPackage({ packagePath: join(xmlDir, "junk.intunewin"), outDir: join(dir, "j") }));
    assert.equal(junkCode, "DigestMismatch");
    for (const out of ["bad", "size", "j"]) await assert.rejects(readdir(join(dir, out)), `nothing in ${out}`);
  });
});
