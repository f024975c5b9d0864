// Bad input: one clear sentence, a documented exit code, and no partial output.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createCipheriv, createHash, createHmac, randomBytes } from "node:crypto";
import { copyFile, mkdir, readdir, readFile, symlink, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { EXIT_CODES } from "../../src/cli/exit-codes.js";
import { cliCommand, runCli } from "../support/cli.js";
import { useScratch } from "../support/scratch.js";
import { extractEntry, writeOuterZip, writeZip } from "../support/independent.js";
import { fixture } from "../support/paths.js";

const fresh = useScratch("ip-errors-");
/** Asserts a failed run: exit code, one `error:` line matching `message`, a hint, nothing on stdout. */
function assertFailure(r: { code: number; stdout: string; stderr: string }, code: number, message: RegExp): void {
  assert.equal(r.code, code, r.stderr);
  assert.equal(r.stdout, "");
  // Progress lines ("Decrypting: 100% 208 B of 208 B", printed when stderr is not a terminal) may come first.
  const lines = r.stderr
    .trim()
    .split("\n")
    .filter((l) => !/^[A-Z][A-Za-z ]*: \d+% /.test(l));
  assert.match(lines[0]!, /^error: /);
  assert.match(lines[0]!, message);
  assert.match(r.stderr, /^hint: /m);
}

describe("package: bad input", () => {
  it("usage: a missing flag exits 64 and names it", async () => {
    const r = await runCli(["package", "--source", "x", "--out", "y"], {});
    assertFailure(r, EXIT_CODES.usage, /--setup is required/);
    assertFailure(await runCli(["package", "--bogus"], {}), EXIT_CODES.usage, /bogus/);
    assertFailure(await runCli(["nonsense"], {}), EXIT_CODES.usage, /Unknown command "nonsense"/);
  });

  it("a missing source folder", async () => {
    const out = join(await fresh(), "out");
    const r = await runCli(["package", "--source", join(await fresh(), "nope"), "--setup", "a.exe", "--out", out], {});
    assertFailure(r, EXIT_CODES.input, /source folder .* does not exist/);
  });

  it("an empty source folder", async () => {
    const src = await fresh();
    const out = join(await fresh(), "out");
    assertFailure(
      await runCli(["package", "--source", src, "--setup", "a.exe", "--out", out], {}),
      EXIT_CODES.input,
      /is empty/,
    );
  });

  it("a setup file that is absent, or outside the source", async () => {
    const parent = await fresh();
    const src = join(parent, "source");
    await mkdir(src);
    await writeFile(join(src, "other.txt"), "x");
    await writeFile(join(parent, "outside.exe"), "x");
    const out = join(await fresh(), "out");
    assertFailure(
      await runCli(["package", "--source", src, "--setup", "setup.exe", "--out", out], {}),
      EXIT_CODES.input,
      /is not in/,
    );
    assertFailure(
      await runCli(["package", "--source", src, "--setup", join("..", "outside.exe"), "--out", out], {}),
      EXIT_CODES.input,
      /outside the source folder/,
    );
  });

  it("an output folder inside the source", async () => {
    const src = await fresh();
    await writeFile(join(src, "setup.exe"), "x");
    const r = await runCli(["package", "--source", src, "--setup", "setup.exe", "--out", join(src, "out")], {});
    assertFailure(r, EXIT_CODES.input, /output folder .* is inside the source folder/);
    assert.deepEqual(await readdir(src), ["setup.exe"], "nothing was created");
  });

  it("a symlink that escapes the source, leaving no partial output", async () => {
    const src = await fresh();
    await writeFile(join(src, "setup.exe"), "x");
    await symlink("/etc", join(src, "escape"));
    const out = await fresh();
    const r = await runCli(["package", "--source", src, "--setup", "setup.exe", "--out", out], {});
    assertFailure(r, EXIT_CODES.input, /symbolic link to "\/etc", outside the source folder/);
    assert.deepEqual(await readdir(out), []);
  });

  it("a corrupt MSI setup file, leaving no partial output", async () => {
    const src = await fresh();
    await writeFile(join(src, "broken.msi"), randomBytes(4096));
    const out = await fresh();
    assertFailure(
      await runCli(["package", "--source", src, "--setup", "broken.msi", "--out", out], {}),
      EXIT_CODES.input,
      /MSI/,
    );
    assert.deepEqual(await readdir(out), []);
  });
});

describe("package: the output file's size limit", () => {
  it("a write over the file size limit (a real EFBIG under ulimit -f) is named, leaving no partial output", async () => {
    const src = await fresh();
    await writeFile(join(src, "setup.exe"), randomBytes(3 * 1024 * 1024));
    const out = await fresh();
    const { args, cwd } = await cliCommand(await fresh());
    // The shell limits the files its child may write to 512 KiB or 1 MiB (its unit is 512 or 1024 bytes); Node
    // ignores SIGXFSZ, so the write past it fails with EFBIG (on the payload's writer thread).
    const cli = [process.execPath, ...args, "package", "--source", src, "--setup", "setup.exe", "--out", out];
    const r = spawnSync("sh", ["-c", 'ulimit -f 1024 && exec "$@"', "sh", ...cli], {
      cwd,
      encoding: "utf8",
      env: { PATH: process.env["PATH"] },
      timeout: 90_000,
    });
    assertFailure({ code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr }, EXIT_CODES.input, /\(EFBIG\)/);
    assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
    assert.deepEqual(await readdir(out), []);
  });
});

/** A valid package of our own, for tampering. */
async function makePackage(): Promise<string> {
  const src = await fresh();
  await writeFile(join(src, "install.ps1"), "Write-Host hi\r\n".repeat(100));
  const out = await fresh();
  const r = await runCli(["package", "--source", src, "--setup", "install.ps1", "--out", out], {});
  assert.equal(r.code, 0, r.stderr);
  return join(out, "install.intunewin");
}

// The payload starts after the 30-byte local header, the 49-byte name and the 28-byte extra field.
const PAYLOAD_AT = 30 + 49 + 28;

describe("unpack: damaged and malicious packages", () => {
  // The last ciphertext byte also breaks the padding: the MAC failure is still the one reported.
  for (const [what, offset] of [
    ["MAC", 5],
    ["IV", 32 + 3],
    ["ciphertext", 48 + 20],
    ["last ciphertext byte", -1],
  ] as const) {
    it(`a flipped byte in the ${what} fails the MAC check, and nothing decrypted is kept`, async () => {
      const pkg = await makePackage();
      const bytes = await readFile(pkg);
      const payloadSize = bytes.readUInt32LE(18); // the outer local header's compressed size
      bytes[PAYLOAD_AT + (offset < 0 ? payloadSize + offset : offset)]! ^= 0x01;
      await writeFile(pkg, bytes);
      const out = join(await fresh(), "out");
      const r = await runCli(["unpack", pkg, "--out", out], {});
      assertFailure(r, EXIT_CODES.integrity, /MAC .* does not match/);
      await assert.rejects(readdir(out), "no output folder");
      assert.deepEqual(await readdir(join(out, "..")), [], "no staging folder left");
    });
  }

  it("a truncated package", async () => {
    const pkg = await makePackage();
    await truncate(pkg, 900);
    const out = join(await fresh(), "out");
    assertFailure(await runCli(["unpack", pkg, "--out", out], {}), EXIT_CODES.input, /not a valid .intunewin package/);
    assert.deepEqual(await readdir(join(out, "..")), []);
  });

  it("a file that is not a zip", async () => {
    const f = join(await fresh(), "fake.intunewin");
    await writeFile(f, "this is not a zip file at all");
    assertFailure(
      await runCli(["unpack", f, "--out", join(await fresh(), "never")], {}),
      EXIT_CODES.input,
      /not a complete zip file/,
    );
    assertFailure(await runCli(["inspect", f], {}), EXIT_CODES.input, /not a complete zip file/);
  });

  it("a FileDigest that does not match the content", async () => {
    const pkg = await makePackage();
    const dir = await fresh();
    extractEntry(pkg, "IntuneWinPackage/Contents/IntunePackage.intunewin", join(dir, "payload"));
    extractEntry(pkg, "IntuneWinPackage/Metadata/Detection.xml", join(dir, "d.xml"));
    const xml = (await readFile(join(dir, "d.xml"), "utf8")).replace(
      /<FileDigest>[^<]*</,
      `<FileDigest>${randomBytes(32).toString("base64")}<`,
    );
    const forged = join(dir, "forged.intunewin");
    writeOuterZip(forged, join(dir, "payload"), xml);
    const out = join(dir, "out");
    assertFailure(
      await runCli(["unpack", forged, "--out", out], {}),
      EXIT_CODES.integrity,
      /SHA-256 .* does not match its FileDigest/,
    );
    await assert.rejects(readdir(out));
  });

  /** Encrypts an arbitrary inner zip into a package, as a hostile writer could. */
  async function packageOf(innerZip: Buffer, dir: string): Promise<string> {
    const key = randomBytes(32);
    const macKey = randomBytes(32);
    const iv = randomBytes(16);
    const c = createCipheriv("aes-256-cbc", key, iv);
    const ct = Buffer.concat([c.update(innerZip), c.final()]);
    const mac = createHmac("sha256", macKey)
      .update(Buffer.concat([iv, ct]))
      .digest();
    await writeFile(join(dir, "payload"), Buffer.concat([mac, iv, ct]));
    const b64 = (b: Buffer): string => b.toString("base64");
    const xml = `<ApplicationInfo ToolVersion="1.8.7.0"><Name>x</Name><UnencryptedContentSize>${innerZip.length}</UnencryptedContentSize><FileName>IntunePackage.intunewin</FileName><SetupFile>x.exe</SetupFile><EncryptionInfo><EncryptionKey>${b64(key)}</EncryptionKey><MacKey>${b64(macKey)}</MacKey><InitializationVector>${b64(iv)}</InitializationVector><Mac>${b64(mac)}</Mac><ProfileIdentifier>ProfileVersion1</ProfileIdentifier><FileDigest>${b64(createHash("sha256").update(innerZip).digest())}</FileDigest><FileDigestAlgorithm>SHA256</FileDigestAlgorithm></EncryptionInfo></ApplicationInfo>`;
    const pkg = join(dir, "evil.intunewin");
    writeOuterZip(pkg, join(dir, "payload"), xml);
    return pkg;
  }

  for (const name of [
    "..\\..\\evil.txt",
    "../evil.txt",
    "/etc/evil.txt",
    "C:\\Windows\\evil.txt",
    "ok\\..\\..\\evil.txt",
  ]) {
    it(`zip-slip entry ${JSON.stringify(name)} is refused and nothing is extracted`, async () => {
      const dir = await fresh();
      writeZip(join(dir, "inner.zip"), [
        { name: "good.txt", data: "fine" },
        { name, data: "pwned" },
      ]);
      const pkg = await packageOf(await readFile(join(dir, "inner.zip")), dir);
      const out = join(dir, "sub", "out");
      const r = await runCli(["unpack", pkg, "--out", out], {});
      assertFailure(r, EXIT_CODES.input, /outside the output folder/);
      assert.deepEqual(await readdir(join(dir, "sub")), [], "nothing extracted, no staging left");
      await assert.rejects(readFile(join(dir, "evil.txt")));
    });
  }

  it("a hand-made package with backslash and slash separators extracts both", async () => {
    const dir = await fresh();
    writeZip(join(dir, "inner.zip"), [
      { name: "a\\b.txt", data: "back" },
      { name: "c/d.txt", data: "fwd" },
      { name: "e\\", data: "" },
    ]);
    const pkg = await packageOf(await readFile(join(dir, "inner.zip")), dir);
    const out = join(dir, "out");
    const r = await runCli(["unpack", pkg, "--out", out], {});
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await readFile(join(out, "a", "b.txt"), "utf8"), "back");
    assert.equal(await readFile(join(out, "c", "d.txt"), "utf8"), "fwd");
    assert.deepEqual(await readdir(join(out, "e")), []);
  });

  it("refuses a non-empty output folder", async () => {
    const pkg = await makePackage();
    const out = await fresh();
    await writeFile(join(out, "keep.txt"), "mine");
    assertFailure(await runCli(["unpack", pkg, "--out", out], {}), EXIT_CODES.input, /is not empty/);
    assert.deepEqual(await readdir(out), ["keep.txt"]);
  });

  it("inspect rejects an unknown file type and a corrupt MSI", async () => {
    const dir = await fresh();
    await writeFile(join(dir, "a.txt"), "x");
    assertFailure(
      await runCli(["inspect", join(dir, "a.txt")], {}),
      EXIT_CODES.input,
      /neither a .intunewin nor a .msi/,
    );
    await copyFile(fixture("msi", "tinyapp-1.0.0-x86.msi"), join(dir, "t.msi"));
    await truncate(join(dir, "t.msi"), 2048);
    assertFailure(await runCli(["inspect", join(dir, "t.msi")], {}), EXIT_CODES.input, /MSI/);
  });
});
