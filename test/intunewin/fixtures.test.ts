// Real packages made by Microsoft's IntuneWinAppUtil (test/fixtures/intunewin) read back by our reader.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative, sep } from "node:path";
import { after, before, describe, it } from "node:test";
import { crc32 } from "node:zlib";
import { writeDetectionXml } from "../../src/intunewin/detection-xml.js";
import { outerEntry, outerLocalHeader, outerZipTail } from "../../src/intunewin/package.js";
import { openPackage } from "../../src/intunewin/read.js";
import { runCli } from "../support/cli.js";
import { extractEntry } from "../support/independent.js";
import { fixture } from "../support/paths.js";

interface ManifestEntry {
  ToolVersion: string;
  Name: string;
  FileName: string;
  SetupFile: string;
  UnencryptedContentSize: number;
  EncryptionInfo: Record<string, string>;
  decrypted_zip_sha256: string;
  encrypted_inner_size: number;
  decrypted_zip_entries: { name: string; size: number; crc32: string }[];
}

async function walk(root: string): Promise<{ files: Map<string, Buffer>; emptyDirs: Set<string> }> {
  const files = new Map<string, Buffer>();
  const emptyDirs = new Set<string>();
  async function go(dir: string): Promise<void> {
    const names = await readdir(dir, { withFileTypes: true });
    if (names.length === 0 && dir !== root) emptyDirs.add(relative(root, dir).split(sep).join("/"));
    for (const n of names) {
      const p = join(dir, n.name);
      if (n.isDirectory()) await go(p);
      else files.set(relative(root, p).split(sep).join("/"), await readFile(p));
    }
  }
  await go(root);
  return { files, emptyDirs };
}

const manifest = JSON.parse(await readFile(fixture("intunewin", "manifest.json"), "utf8")) as Record<
  string,
  ManifestEntry
>;

describe("official .intunewin fixtures", () => {
  let work: string;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), "ip-fixtures-"));
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it("has fixtures to test", () => assert.ok(Object.keys(manifest).length >= 5));

  for (const [file, m] of Object.entries(manifest)) {
    const pkg = fixture("intunewin", file);

    it(`${file}: unpacks to exactly the listed files, sizes and CRCs`, async () => {
      const out = join(work, file + ".out");
      const r = await runCli(["unpack", pkg, "--out", out, "--output", "json"], {});
      assert.equal(r.code, 0, r.stderr);
      const { files, emptyDirs } = await walk(out);
      const expectedFiles = m.decrypted_zip_entries.filter((e) => !e.name.endsWith("\\") && !e.name.endsWith("/"));
      const expectedDirs = m.decrypted_zip_entries
        .filter((e) => e.name.endsWith("\\") || e.name.endsWith("/"))
        .map((e) => e.name.replaceAll("\\", "/").replace(/\/$/, ""));
      assert.deepEqual([...files.keys()].sort(), expectedFiles.map((e) => e.name.replaceAll("\\", "/")).sort());
      assert.deepEqual([...emptyDirs].sort(), expectedDirs.sort());
      for (const e of expectedFiles) {
        const data = files.get(e.name.replaceAll("\\", "/"))!;
        assert.equal(data.length, e.size, e.name);
        assert.equal((crc32(data) >>> 0).toString(16).padStart(8, "0"), e.crc32, e.name);
      }
      const json = JSON.parse(r.stdout) as { files: number; folders: number };
      assert.equal(json.files, expectedFiles.length);
      assert.equal(json.folders, expectedDirs.length);
    });

    it(`${file}: --keep-zip writes the decrypted inner zip with the listed SHA-256`, async () => {
      const out = join(work, file + ".zip-out");
      const r = await runCli(["unpack", pkg, "--out", out, "--keep-zip", "--output", "json"], {});
      assert.equal(r.code, 0, r.stderr);
      const zipPath = (JSON.parse(r.stdout) as { zipPath: string }).zipPath;
      const zip = await readFile(zipPath);
      assert.equal(createHash("sha256").update(zip).digest("hex"), m.decrypted_zip_sha256);
      assert.equal(zip.length, m.UnencryptedContentSize);
    });

    it(`${file}: inspect returns its Detection.xml values, keys only with --show-keys`, async () => {
      const r = await runCli(["inspect", pkg, "--output", "json"], {});
      assert.equal(r.code, 0, r.stderr);
      const d = JSON.parse(r.stdout) as Record<string, unknown> & { EncryptionInfo: Record<string, string> };
      assert.equal(d.ToolVersion, m.ToolVersion);
      assert.equal(d.Name, m.Name);
      assert.equal(d.FileName, m.FileName);
      assert.equal(d.SetupFile, m.SetupFile);
      assert.equal(d.UnencryptedContentSize, m.UnencryptedContentSize);
      assert.equal(d.EncryptedSize, m.encrypted_inner_size);
      const { EncryptionKey, MacKey, ...publicInfo } = m.EncryptionInfo;
      assert.deepEqual(d.EncryptionInfo, publicInfo);
      assert.ok(!r.stdout.includes(EncryptionKey!) && !r.stdout.includes(MacKey!), "keys must not be printed");
      const withKeys = await runCli(["inspect", pkg, "--output", "json", "--show-keys"], {});
      assert.deepEqual((JSON.parse(withKeys.stdout) as typeof d).EncryptionInfo, m.EncryptionInfo);
      const table = await runCli(["inspect", pkg], {});
      assert.equal(table.code, 0);
      assert.match(table.stdout, new RegExp(`SetupFile\\s+${m.SetupFile.replace(".", "\\.")}`));
      assert.ok(!table.stdout.includes(EncryptionKey!));
    });
  }

  for (const file of Object.keys(manifest)) {
    it(`${file}: our Detection.xml and outer zip writers reproduce Microsoft's bytes exactly`, async () => {
      const path = fixture("intunewin", file);
      const original = await readFile(path);
      const pkg = await openPackage(path);
      pkg.close();
      const dir = join(work, file + ".exact");
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir);
      extractEntry(path, "IntuneWinPackage/Metadata/Detection.xml", join(dir, "d.xml"));
      extractEntry(path, `IntuneWinPackage/Contents/${pkg.detection.FileName}`, join(dir, "payload"));
      const xml = await readFile(join(dir, "d.xml"));
      assert.ok(writeDetectionXml(pkg.detection).equals(xml), "Detection.xml re-serialised byte for byte");
      // The outer zip rebuilt from the same payload, XML and DOS time (read from the original's first header).
      const time = { dosTime: original.readUInt16LE(10), dosDate: original.readUInt16LE(12) };
      const payload = await readFile(join(dir, "payload"));
      const contents = outerEntry(`IntuneWinPackage/Contents/${pkg.detection.FileName}`, time, payload, 0);
      const head = outerLocalHeader(contents);
      const detection = outerEntry("IntuneWinPackage/Metadata/Detection.xml", time, xml, head.length + payload.length);
      const rebuilt = Buffer.concat([head, payload, outerZipTail(contents, detection, xml)]);
      assert.ok(rebuilt.equals(original), "outer zip identical to the official tool's");
    });
  }

  it("the 2020 sample decrypts byte for byte to the zip its repository committed", async () => {
    const out = join(work, "sample-exact");
    const r = await runCli(
      [
        "unpack",
        fixture("intunewin", "sample-txt_tool1.4.0.0-2020.intunewin"),
        "--out",
        out,
        "--keep-zip",
        "--output",
        "json",
      ],
      {},
    );
    assert.equal(r.code, 0, r.stderr);
    const ours = await readFile((JSON.parse(r.stdout) as { zipPath: string }).zipPath);
    const theirs = await readFile(fixture("intunewin", "sample-txt_tool1.4.0.0-2020.decrypted.zip"));
    assert.ok(ours.equals(theirs));
    assert.ok((await stat(out)).isDirectory());
  });
});
