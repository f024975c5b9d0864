// Zip64: content past 4 GiB in the inner zip (a sparse file, packaged for real) and a payload past 4 GiB in the
// outer zip (records written with the packager's own header functions around a sparse 4 GiB entry).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, open, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { PublisherError } from "../../src/core/errors.js";
import { crc32, crc32Combine } from "../../src/intunewin/crc32.js";
import { locateData, openZipArchive, readItems } from "../../src/intunewin/zip-read.js";
import { centralHeader, endOfCentralDirectory, localHeader, type ZipEntry } from "../../src/intunewin/zip-format.js";
import { decryptPayloadFile, extractEntry, listZip } from "../support/independent.js";

const GiB = 1024 ** 3;
let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), "ip-zip64-"));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

/** Runs `packageFolder` in a child process and returns its summary and peak RSS. */
function packageInChild(source: string, setup: string, out: string): { result: { path: string }; maxRssMiB: number } {
  let mod = fileURLToPath(new URL("../../src/intunewin/package.js", import.meta.url));
  const args: string[] = [];
  if (!existsSync(mod)) {
    mod = mod.replace(/\.js$/, ".ts");
    args.push("--import", "tsx");
  }
  const code = `
    import { packageFolder } from ${JSON.stringify(mod)};
    const r = await packageFolder({ sourceDir: ${JSON.stringify(source)}, setupFile: ${JSON.stringify(setup)}, outDir: ${JSON.stringify(out)} });
    console.log(JSON.stringify({ result: { path: r.path }, maxRssMiB: process.resourceUsage().maxRSS / 1024 }));`;
  const r = spawnSync(process.execPath, [...args, "--input-type=module", "-e", code], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { result: { path: string }; maxRssMiB: number };
}

describe("crc32Combine", () => {
  it("equals zlib's CRC-32 of the concatenation for random splits", () => {
    for (let i = 0; i < 50; i++) {
      const a = Buffer.from(
        Array.from({ length: Math.floor(Math.random() * 300) }, () => Math.floor(Math.random() * 256)),
      );
      const b = Buffer.from(
        Array.from({ length: Math.floor(Math.random() * 300) }, () => Math.floor(Math.random() * 256)),
      );
      assert.equal(crc32Combine(crc32(a), crc32(b), b.length), crc32(Buffer.concat([a, b])));
    }
  });
});

describe("zip64", () => {
  // Peak memory is reported, not asserted (it depends on the machine's load and the collector): bench/package.ts
  // measures it against its target.
  it("packages a 4.5 GiB sparse file with zip64 inner records", async (t) => {
    const src = join(work, "src");
    await mkdir(src);
    await writeFile(join(src, "setup.exe"), "MZ setup");
    const big = await open(join(src, "disk.vhd"), "w");
    await big.truncate(4.5 * GiB); // sparse: zeros cost no disk
    await big.close();
    const out = join(work, "out");
    const { result, maxRssMiB } = packageInChild(src, "setup.exe", out);
    t.diagnostic(`peak RSS of the packaging process: ${maxRssMiB.toFixed(0)} MiB (reported, not asserted)`);

    const dir = join(work, "check");
    await mkdir(dir);
    extractEntry(result.path, "IntuneWinPackage/Contents/IntunePackage.intunewin", join(dir, "payload"));
    extractEntry(result.path, "IntuneWinPackage/Metadata/Detection.xml", join(dir, "d.xml"));
    const xml = await readFile(join(dir, "d.xml"), "utf8");
    const { plaintext, macOk } = decryptPayloadFile(join(dir, "payload"), xml);
    assert.ok(macOk);
    await writeFile(join(dir, "inner.zip"), plaintext);
    const inner = listZip(join(dir, "inner.zip")); // CPython reads the zip64 extra fields and checks CRCs
    const vhd = inner.find((e) => e.name === "disk.vhd")!;
    assert.equal(vhd.size, 4.5 * GiB);
    assert.equal(vhd.extractVersion, 45, "zip64 entries need version 4.5");
    const zeros = createHash("sha256");
    const MiB = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < 4.5 * 1024; i++) zeros.update(MiB);
    assert.equal(vhd.sha256, zeros.digest("hex"), "the 4.5 GiB entry decompresses to the file's bytes");
    assert.equal(inner.find((e) => e.name === "setup.exe")!.size, 8);
  });

  it("writes a zip64 end record when the inner zip has more than 65,535 entries", async () => {
    const src = join(work, "many");
    await mkdir(join(src, "files"), { recursive: true });
    await writeFile(join(src, "setup.exe"), "MZ");
    const count = 65_600;
    for (let i = 0; i < count; i += 500) {
      await Promise.all(
        Array.from({ length: Math.min(500, count - i) }, (_, j) =>
          writeFile(join(src, "files", `f${i + j}.txt`), j % 7 === 0 ? `file ${i + j}` : ""),
        ),
      );
    }
    const { result } = packageInChild(src, "setup.exe", join(work, "many-out"));
    const dir = join(work, "many-check");
    await mkdir(dir);
    extractEntry(result.path, "IntuneWinPackage/Contents/IntunePackage.intunewin", join(dir, "payload"));
    extractEntry(result.path, "IntuneWinPackage/Metadata/Detection.xml", join(dir, "d.xml"));
    const { plaintext } = decryptPayloadFile(join(dir, "payload"), await readFile(join(dir, "d.xml"), "utf8"));
    // The classic end record says 0xFFFF entries; the zip64 record holds the real count.
    const eocd = plaintext.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
    assert.equal(plaintext.readUInt16LE(eocd + 10), 0xffff);
    assert.ok(plaintext.lastIndexOf(Buffer.from([0x50, 0x4b, 0x06, 0x06])) > 0, "zip64 end record present");
    await writeFile(join(dir, "inner.zip"), plaintext);
    const inner = listZip(join(dir, "inner.zip"));
    assert.equal(inner.length, count + 1);
    assert.equal(inner.find((e) => e.name === "files\\f65599.txt")?.size, 0);
    assert.equal(inner.find((e) => e.name === "files\\f7.txt")?.size, "file 7".length);
  });

  it("writes zip64 outer records, rewritten in place, for a payload past 4 GiB", async () => {
    // A stored entry of 4 GiB + 100 zero bytes, laid out exactly as the packager lays out the payload.
    const size = 4 * GiB + 100;
    const zeros = Buffer.alloc(1024 * 1024);
    const crcOfZeros = computeZerosCrc(size, zeros);
    const entry: ZipEntry = {
      name: Buffer.from("IntuneWinPackage/Contents/IntunePackage.intunewin"),
      method: 0,
      flags: 0,
      crc: 0,
      compressedSize: 0,
      uncompressedSize: 0,
      dosTime: 0,
      dosDate: 0x21,
      versionMadeBy: 45,
      versionNeeded: 10,
      localHeaderOffset: 0,
    };
    const path = join(work, "big-outer.zip");
    const fh = await open(path, "w");
    const placeholder = localHeader(entry, { padTo: 28 });
    await fh.write(placeholder, 0, placeholder.length, 0);
    Object.assign(entry, { crc: crcOfZeros, compressedSize: size, uncompressedSize: size });
    const rewritten = localHeader(entry, { padTo: 28 });
    assert.equal(rewritten.length, placeholder.length, "the zip64 field fits in the padding");
    await fh.write(rewritten, 0, rewritten.length, 0);
    const detection = Buffer.from("<ApplicationInfo />");
    const second: ZipEntry = {
      ...entry,
      name: Buffer.from("IntuneWinPackage/Metadata/Detection.xml"),
      crc: crc32(detection),
      compressedSize: detection.length,
      uncompressedSize: detection.length,
      localHeaderOffset: placeholder.length + size,
    };
    const h2 = localHeader(second, { padTo: 28 });
    const cd = Buffer.concat([centralHeader(entry), centralHeader(second)]);
    const tail = Buffer.concat([
      h2,
      detection,
      cd,
      endOfCentralDirectory(2, cd.length, second.localHeaderOffset + h2.length + detection.length),
    ]);
    await fh.write(tail, 0, tail.length, second.localHeaderOffset);
    await fh.close();

    const listing = listZip(path); // CPython: zip64 extra fields, zip64 end record, CRC of all 4 GiB
    assert.deepEqual(
      listing.map((e) => [e.name, e.size]),
      [
        ["IntuneWinPackage/Contents/IntunePackage.intunewin", size],
        ["IntuneWinPackage/Metadata/Detection.xml", detection.length],
      ],
    );
    const { archive, zip } = await openZipArchive(
      { path, what: "test zip" },
      (code, why) => new PublisherError(code, why),
    );
    const entries = await readItems(zip, archive, 2, () => new PublisherError("TooManyEntries", "too many"));
    await locateData(archive, entries); // zip64 sizes and offsets: no overlap, data before the directory
    await archive.close();
    assert.deepEqual(
      entries.map((e) => [e.name, e.uncompressedSize]),
      listing.map((e) => [e.name, e.size]),
    );
  });
});

function computeZerosCrc(size: number, zeros: Buffer): number {
  // CRC-32 of `size` zero bytes from 1 MiB blocks combined: exercises crc32Combine against zlib's crc32.
  const block = crc32(zeros);
  let crc = 0;
  let done = 0;
  while (done + zeros.length <= size) {
    crc = crc32Combine(crc, block, zeros.length);
    done += zeros.length;
  }
  return crc32Combine(crc, crc32(zeros.subarray(0, size - done)), size - done);
}
