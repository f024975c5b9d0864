// Packages made by `intune-publisher package`, judged by an independent implementation (test/support/independent.ts).
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { copyFile, mkdir, readdir, readFile, symlink, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { runCli } from "../support/cli.js";
import { useScratch } from "../support/scratch.js";
import { decryptPayloadFile, extractEntry, listZip, xmlValue } from "../support/independent.js";
import { fixture } from "../support/paths.js";

const fresh = useScratch("ip-package-");
const sha = (b: Buffer): string => createHash("sha256").update(b).digest("hex");

interface Tree {
  [name: string]: string | Buffer | Tree;
}
async function makeTree(root: string, tree: Tree): Promise<void> {
  await mkdir(root, { recursive: true });
  for (const [name, v] of Object.entries(tree)) {
    const p = join(root, name);
    if (typeof v === "string" || Buffer.isBuffer(v)) await writeFile(p, v);
    else await makeTree(p, v);
  }
}

interface Checked {
  inner: ReturnType<typeof listZip>;
  innerZip: string;
  xml: string;
  xmlBytes: Buffer;
  packagePath: string;
}

/** Packages `source` with the CLI and verifies every layer independently; returns what it found. */
async function packageAndCheck(
  source: string,
  setup: string,
  expectedName = setup.replace(/\.[^.]*$/, ""),
): Promise<Checked> {
  const out = await fresh();
  const r = await runCli(["package", "--source", source, "--setup", setup, "--out", out, "--output", "json"], {});
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout) as Record<string, unknown>;
  const packagePath = join(out, `${expectedName}.intunewin`);
  assert.equal(summary.path, packagePath);
  assert.deepEqual(await readdir(out), [`${expectedName}.intunewin`], "no temporary files are left");

  // Outer zip: exactly two stored entries in the official order, with the official header fields.
  const outer = listZip(packagePath);
  assert.deepEqual(
    outer.map((e) => e.name),
    ["IntuneWinPackage/Contents/IntunePackage.intunewin", "IntuneWinPackage/Metadata/Detection.xml"],
  );
  for (const e of outer) {
    assert.equal(e.method, 0);
    assert.equal(e.flags, 0);
    assert.equal(e.createVersion, 45);
    assert.equal(e.createSystem, 0);
    assert.equal(e.extractVersion, 10);
    assert.equal(e.externalAttr, 0);
    assert.equal(e.extraLength, 0, "central records carry no extra field");
  }
  const raw = await readFile(packagePath);
  assert.equal(raw.readUInt16LE(28), 28, "local extra field is 28 bytes");
  assert.equal(raw.readUInt16LE(30 + 49), 0xa220);
  assert.equal(raw.subarray(30 + 49 + 2, 30 + 49 + 8).toString("hex"), "180028a01400");

  // Detection.xml layout.
  const dir = await fresh();
  const payload = join(dir, "payload.bin");
  const xmlPath = join(dir, "Detection.xml");
  extractEntry(packagePath, outer[0]!.name, payload);
  extractEntry(packagePath, outer[1]!.name, xmlPath);
  const xmlBytes = await readFile(xmlPath);
  const xml = xmlBytes.toString("utf8");
  assert.ok(
    xml.startsWith(
      '<ApplicationInfo xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ToolVersion="1.8.7.0">\r\n',
    ),
  );
  assert.ok(xml.endsWith("\r\n</ApplicationInfo>"), "no trailing newline");
  assert.equal(xml.replaceAll("\r\n", "").includes("\n"), false, "CRLF only");
  const order = [...xml.matchAll(/^ {2}<(\w+)>/gm)].map((m) => m[1]);
  assert.deepEqual(order.slice(0, 5), ["Name", "UnencryptedContentSize", "FileName", "SetupFile", "EncryptionInfo"]);
  assert.deepEqual([...xml.matchAll(/^ {4}<(\w+)>/gm)].map((m) => m[1]).slice(0, 7), [
    "EncryptionKey",
    "MacKey",
    "InitializationVector",
    "Mac",
    "ProfileIdentifier",
    "FileDigest",
    "FileDigestAlgorithm",
  ]);
  assert.equal(xmlValue(xml, "FileName"), "IntunePackage.intunewin");

  // Payload: MAC, IV, decryption and digest by Node's crypto; sizes as the format requires.
  const { plaintext, macOk } = decryptPayloadFile(payload, xml);
  assert.ok(macOk, "HMAC-SHA256(MacKey, IV‖ciphertext) equals the payload's first 32 bytes and Mac");
  assert.equal(plaintext.length, Number(xmlValue(xml, "UnencryptedContentSize")));
  assert.equal(outer[0]!.size, 48 + 16 * Math.floor(plaintext.length / 16) + 16);
  assert.equal(summary.unencryptedContentSize, plaintext.length);
  assert.equal(summary.encryptedSize, outer[0]!.size);
  assert.equal(summary.fileDigest, xmlValue(xml, "FileDigest"));
  const keys = [xmlValue(xml, "EncryptionKey"), xmlValue(xml, "MacKey")];
  assert.ok(
    keys.every((k) => k && !r.stdout.includes(k)),
    "the summary never prints the keys",
  );

  const innerZip = join(dir, "inner.zip");
  await writeFile(innerZip, plaintext);
  const inner = listZip(innerZip);
  for (const e of inner) {
    assert.equal(e.flags, 0x800, `${e.name}: UTF-8 flag`);
    assert.equal(e.createVersion, 20);
    assert.equal(e.createSystem, 0);
    assert.equal(e.extractVersion, 20);
    assert.equal(e.externalAttr, 0);
    assert.equal(e.extraLength, 0);
    assert.equal(e.method, e.size === 0 ? 0 : 8, `${e.name}: deflated unless empty`);
  }
  return { inner, innerZip, xml, xmlBytes, packagePath };
}

describe("package", () => {
  it("packages one file", async () => {
    const src = await fresh();
    await writeFile(join(src, "install.ps1"), "Write-Host 'hello'\r\n".repeat(50));
    const c = await packageAndCheck(src, "install.ps1", "install");
    assert.deepEqual(
      c.inner.map((e) => [e.name, e.sha256]),
      [["install.ps1", sha(await readFile(join(src, "install.ps1")))]],
    );
    assert.equal(xmlValue(c.xml, "Name"), "install.ps1");
    assert.equal(xmlValue(c.xml, "SetupFile"), "install.ps1");
    assert.equal(c.xml.includes("<MsiInfo>"), false);
  });

  it("packages nested folders, empty folders, unicode names and 0-byte files in the official order", async () => {
    const src = await fresh();
    await makeTree(src, {
      "Setup.exe": Buffer.alloc(70_000, 7),
      "b.txt": "b",
      "A.txt": "a",
      "zero.dat": "",
      "Ünïcødé 文件.txt": "unicode",
      sub: { "x.ini": "[x]", deeper: { "y.bin": Buffer.from([1, 2, 3]) }, "Empty Dir": {} },
      Another: { Leaf: {} },
    });
    const mtime = new Date(2024, 1, 27, 10, 21, 48);
    await utimes(join(src, "A.txt"), mtime, mtime);
    const c = await packageAndCheck(src, "Setup.exe", "Setup");
    assert.deepEqual(
      c.inner.map((e) => e.name),
      expectedOrder(),
    );
    for (const e of c.inner.filter((x) => !x.name.endsWith("\\"))) {
      const onDisk = await readFile(join(src, ...e.name.split("\\")));
      assert.equal(e.sha256, sha(onDisk), e.name);
      assert.equal(e.size, onDisk.length);
    }
    const a = c.inner.find((e) => e.name === "A.txt")!;
    assert.deepEqual(a.dateTime, [2024, 2, 27, 10, 21, 48], "entry time is the file's local mtime");
    assert.equal(c.inner.find((e) => e.name === "zero.dat")!.method, 0);
  });

  it("fills MsiInfo from an MSI setup and names the package after it", async () => {
    const src = await fresh();
    await copyFile(fixture("msi", "tinyapp64-2.3.4-x64.msi"), join(src, "TinyApp64.msi"));
    await writeFile(join(src, "transform.mst"), "mst");
    const c = await packageAndCheck(src, "TinyApp64.msi", "TinyApp64");
    assert.equal(xmlValue(c.xml, "Name"), "TinyApp64 Test Fixture");
    assert.equal(xmlValue(c.xml, "SetupFile"), "TinyApp64.msi");
    assert.equal(xmlValue(c.xml, "MsiProductCode"), "{C3D4E5F6-0718-4293-A4B5-C6D7E8F90A1B}");
    assert.equal(xmlValue(c.xml, "MsiProductVersion"), "2.3.4");
    assert.equal(xmlValue(c.xml, "MsiUpgradeCode"), "{9A8B7C6D-5E4F-4031-9281-706F5E4D3C2B}");
    assert.equal(xmlValue(c.xml, "MsiPackageCode"), "{706AC892-7FF4-49E9-B3F6-C4804EE009FF}");
    assert.equal(xmlValue(c.xml, "MsiPublisher"), "Example Fixtures Ltd");
    assert.equal(xmlValue(c.xml, "MsiExecutionContext"), "System");
    assert.equal(xmlValue(c.xml, "MsiIsMachineInstall"), "true");
    const msiOrder = [...c.xml.matchAll(/^ {4}<(Msi\w+)>/gm)].map((m) => m[1]);
    assert.deepEqual(msiOrder, [
      "MsiProductCode",
      "MsiProductVersion",
      "MsiPackageCode",
      "MsiUpgradeCode",
      "MsiExecutionContext",
      "MsiRequiresLogon",
      "MsiRequiresReboot",
      "MsiIsMachineInstall",
      "MsiIsUserInstall",
      "MsiIncludesServices",
      "MsiIncludesODBCDataSource",
      "MsiContainsSystemRegistryKeys",
      "MsiContainsSystemFolders",
      "MsiPublisher",
    ]);
  });

  it("accepts a setup file in a sub-folder and records it with a backslash", async () => {
    const src = await fresh();
    await makeTree(src, { bin: { "setup.cmd": "@echo off" }, "readme.txt": "r" });
    const c = await packageAndCheck(src, join("bin", "setup.cmd"), "setup");
    assert.equal(xmlValue(c.xml, "SetupFile"), "bin\\setup.cmd");
    assert.equal(xmlValue(c.xml, "Name"), "setup.cmd");
  });

  it("follows a symlink that stays inside the source folder", async () => {
    const src = await fresh();
    await makeTree(src, { "install.ps1": "x", data: { "real.txt": "real" } });
    await symlink(join(src, "data", "real.txt"), join(src, "link.txt"));
    const c = await packageAndCheck(src, "install.ps1", "install");
    assert.equal(c.inner.find((e) => e.name === "link.txt")?.sha256, sha(Buffer.from("real")));
  });

  it("compresses a multi-chunk file in parallel into one valid deflate stream", async () => {
    const src = await fresh();
    // 5 MiB: several 1 MiB chunks, half random (incompressible) and half repetitive.
    const rnd = Buffer.alloc(5 * 1024 * 1024);
    for (let i = 0; i < rnd.length; i += 4)
      rnd.writeUInt32LE(i < rnd.length / 2 ? (Math.random() * 2 ** 32) >>> 0 : i % 251, i);
    await writeFile(join(src, "big.bin"), rnd);
    await writeFile(join(src, "setup.exe"), "MZ");
    const c = await packageAndCheck(src, "setup.exe", "setup");
    assert.equal(c.inner.find((e) => e.name === "big.bin")?.sha256, sha(rnd));
  });

  it("stores random chunks and deflates text ones, text after random and a random last chunk included", async () => {
    const src = await fresh();
    const MiB = 1024 * 1024;
    const text = Buffer.from(
      Array.from({ length: 80_000 }, (_, i) => `${i} copy file ${i % 97} done\r\n`).join(""),
    ).subarray(0, MiB);
    // Chunks: random, text, random, text, then a random last chunk of 12,345 bytes (its stored block is final).
    const data = Buffer.concat([randomBytes(MiB), text, randomBytes(MiB), text, randomBytes(12_345)]);
    await writeFile(join(src, "mixed.bin"), data);
    await writeFile(join(src, "setup.exe"), "MZ");
    const c = await packageAndCheck(src, "setup.exe", "setup");
    const e = c.inner.find((x) => x.name === "mixed.bin")!;
    assert.equal(e.sha256, sha(data), "CPython inflates it to the input");
    const random = 2 * MiB + 12_345;
    assert.ok(e.compressSize > random, "the random chunks are kept, as stored blocks");
    assert.ok(e.compressSize < random + (2 * MiB) / 4, "the text chunks are deflated");
  });
});

function expectedOrder(): string[] {
  // Upper-case ordinal order per folder, files and empty folders inline, non-empty folders after, depth first.
  return [
    "A.txt",
    "b.txt",
    "Setup.exe",
    "zero.dat",
    "Ünïcødé 文件.txt",
    "Another\\Leaf\\",
    "sub\\Empty Dir\\",
    "sub\\x.ini",
    "sub\\deeper\\y.bin",
  ];
}
