// Hostile packages: each is refused with one clear error line, a hint and its documented exit code
// (integrity 10 when data fails its own record, input 9 otherwise), no stack trace, nothing extracted, no staging
// folder left, and no FIFO waited on.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { crc32, deflateRawSync } from "node:zlib";
import { EXIT_CODES } from "../../src/cli/exit-codes.js";
import { escapeControl } from "../../src/cli/safe-output.js";
import { runCli, type CliResult } from "../support/cli.js";
import { craftZip, encryptPayload, packageAround, type CraftedEntry } from "../support/crafted.js";
import { useScratch } from "../support/scratch.js";

const fresh = useScratch("ip-hostile-");
const MiB = 1024 * 1024;

/** A failed run: the exit code, one `error:` line matching `message`, a hint, no stack trace, nothing on stdout. */
function assertRefused(r: CliResult, code: number, message: RegExp): void {
  assert.equal(r.code, code, r.stderr);
  assert.equal(r.stdout, "");
  // Progress lines ("Decrypting: 100% 208 B of 208 B", printed when stderr is not a terminal) may come first.
  const lines = r.stderr
    .trim()
    .split("\n")
    .filter((l) => !/^[A-Z][A-Za-z ]*: \d+% /.test(l));
  assert.match(lines[0]!, /^error: /);
  assert.match(lines[0]!, message);
  assert.doesNotMatch(r.stderr, /internal error|^\s+at /m);
  assert.match(r.stderr, /^hint: /m);
}

/** Unpacks into dir/sub/out and checks that a refusal left dir/sub empty (no output, no staging folder). */
async function unpackRefused(pkg: string, code: number, message: RegExp, flags: string[] = []): Promise<void> {
  const sub = join(pkg, "..", "sub");
  await mkdir(sub, { recursive: true });
  assertRefused(await runCli(["unpack", pkg, "--out", join(sub, "out"), ...flags], {}), code, message);
  assert.deepEqual(await readdir(sub), [], "nothing extracted, no staging folder left");
}

/** A package around an inner zip of the given entries. */
async function packageOf(entries: CraftedEntry[]): Promise<string> {
  return await packageAround(craftZip(entries), await fresh());
}

const text = (name: string, body = name): CraftedEntry => ({ name, data: Buffer.from(body) });

describe("unpack: zip bombs", () => {
  it("refuses entries whose bytes overlap, before writing anything", async () => {
    // One 8 MiB deflated entry and 19 more directory records pointing at the same bytes: 160 MiB from ~8 KiB.
    const content = Buffer.alloc(8 * MiB);
    const data = deflateRawSync(content);
    const entry = (i: number): CraftedEntry => ({
      name: `bomb-${i}.bin`,
      data,
      method: 8,
      size: content.length,
      content,
      ...(i > 0 ? { pointsAt: 0 } : {}),
    });
    const pkg = await packageOf(Array.from({ length: 20 }, (_, i) => entry(i)));
    await unpackRefused(pkg, EXIT_CODES.input, /share bytes \(overlapping entries, the trick behind zip bombs\)/);
  });

  it("refuses an entry whose data runs into the central directory", async () => {
    // b.txt records 4 bytes of its own and the first 16 bytes of the directory (a.txt's record, up to its CRC),
    // with a CRC that matches them: only its range gives it away.
    const head = Buffer.alloc(16);
    head.writeUInt32LE(0x02014b50, 0);
    head.writeUInt16LE(20, 4);
    head.writeUInt16LE(20, 6);
    head.writeUInt16LE(0x0800, 8);
    head.writeUInt16LE(0x21, 14);
    const tail = Buffer.from("tail");
    const pkg = await packageOf([
      text("a.txt"),
      { name: "b.txt", data: tail, size: 20, compressedSize: 20, crc: crc32(Buffer.concat([tail, head])) },
    ]);
    await unpackRefused(pkg, EXIT_CODES.input, /the data of "b.txt" runs into the zip's central directory/);
  });

  it("caps the extracted size at 100 times the package, at least 1 GiB, by default", async () => {
    // 17 entries of 64 MiB of zeros each (64 KiB deflated): 1088 MiB from a package of about 1 MiB.
    const content = Buffer.alloc(64 * MiB);
    const data = deflateRawSync(content);
    const crc = crc32(content);
    const pkg = await packageOf(
      Array.from({ length: 17 }, (_, i) => ({ name: `z${i}.bin`, data, method: 8, size: content.length, crc })),
    );
    assert.ok((await stat(pkg)).size < 2 * MiB);
    await unpackRefused(
      pkg,
      EXIT_CODES.input,
      /would extract 1\.1 GiB or more, over the limit of 1 GiB \(100 times the package's size, at least 1 GiB\)/,
    );
  });

  it("takes another limit from --max-extracted-size", async () => {
    const content = Buffer.alloc(MiB, 7);
    const data = deflateRawSync(content);
    const entries = ["a", "b", "c"].map((name) => ({ name, data, method: 8, size: content.length, content }));
    const pkg = await packageOf(entries);
    await unpackRefused(pkg, EXIT_CODES.input, /over the limit of 2 MiB \(--max-extracted-size\)/, [
      "--max-extracted-size",
      "2MiB",
    ]);
    const out = join(pkg, "..", "ok");
    const r = await runCli(["unpack", pkg, "--out", out, "--max-extracted-size", "3MiB"], {});
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await readFile(join(out, "c")), content);
    assertRefused(
      await runCli(["unpack", pkg, "--out", out, "--max-extracted-size", "lots"], {}),
      EXIT_CODES.usage,
      /--max-extracted-size must be a size such as 500MiB or 20GiB, not "lots"/,
    );
  });

  it("caps the entry count (--max-entries)", async () => {
    const pkg = await packageOf(Array.from({ length: 11 }, (_, i) => text(`f${i}.txt`)));
    await unpackRefused(pkg, EXIT_CODES.input, /holds 11 entries or more, over the limit of 10/, [
      "--max-entries",
      "10",
    ]);
    const r = await runCli(["unpack", pkg, "--out", join(pkg, "..", "ok"), "--max-entries", "11"], {});
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await readdir(join(pkg, "..", "ok"))).length, 11);
  });

  it("refuses more than 100,000 entries by default, from the end record, before reading the directory", async () => {
    const names = Array.from({ length: 100_001 }, (_, i) => `f/${i}`);
    const pkg = await packageOf(names.map((name) => ({ name })));
    await unpackRefused(pkg, EXIT_CODES.input, /holds 100001 entries or more, over the limit of 100000/);
  });
});

const PAYLOAD = "IntuneWinPackage/Contents/IntunePackage.intunewin";
const DETECTION = "IntuneWinPackage/Metadata/Detection.xml";

/** An outer zip made byte by byte: the payload's entry as `payloadEntry` makes it, then Detection.xml. */
async function outerPackage(
  dir: string,
  payloadEntry: (payload: Buffer) => CraftedEntry,
): Promise<{ path: string; payload: Buffer }> {
  const { payload, xml } = encryptPayload(Buffer.from("PK\x05\x06" + "\0".repeat(18))); // an empty inner zip
  const path = join(dir, "crafted.intunewin");
  await writeFile(path, craftZip([payloadEntry(payload), { name: DETECTION, data: Buffer.from(xml) }]));
  return { path, payload };
}

describe("unpack and inspect: crafted outer zips fail cleanly", () => {
  it("an unknown compression method (inspect too)", async () => {
    const { path } = await outerPackage(await fresh(), (payload) => ({ name: PAYLOAD, data: payload, method: 99 }));
    await unpackRefused(path, EXIT_CODES.input, /uses compression method 99; packages use stored \(0\) or deflate/);
    assertRefused(await runCli(["inspect", path], {}), EXIT_CODES.input, /compression method 99/);
  });

  it("a local-header offset that points at no header", async () => {
    const { path } = await outerPackage(await fresh(), (payload) => ({
      name: PAYLOAD,
      data: payload,
      recordedOffset: 3,
    }));
    await unpackRefused(path, EXIT_CODES.input, /points at offset 3, where no local header starts/);
  });

  it("a stored payload shorter than 32 bytes, its local header hidden in the end record's comment", async () => {
    // The payload's record claims 64 bytes at a local header inside the comment, after which 20 bytes follow.
    const { xml } = encryptPayload(Buffer.from("x"));
    const detection: CraftedEntry = { name: DETECTION, data: Buffer.from(xml) };
    const directory = 46 + PAYLOAD.length + 46 + DETECTION.length;
    const commentAt = 30 + DETECTION.length + xml.length + directory + 22;
    const comment = Buffer.alloc(50);
    comment.writeUInt32LE(0x04034b50, 0);
    const path = join(await fresh(), "short.intunewin");
    const payload: CraftedEntry = { name: PAYLOAD, size: 64, compressedSize: 64, pointsAt: commentAt };
    await writeFile(path, craftZip([payload, detection], { comment }));
    await unpackRefused(path, EXIT_CODES.input, /the local header of "[^"]+" lies outside the entries' area/);
  });

  it("a deflated payload whose recorded size lies (integrity)", async () => {
    const { path } = await outerPackage(await fresh(), (payload) => ({
      name: PAYLOAD,
      data: deflateRawSync(payload),
      method: 8,
      size: payload.length + 16,
      content: payload,
    }));
    await unpackRefused(path, EXIT_CODES.integrity, /inflates to fewer bytes than the \d+ its record declares/);
  });

  it("more than 16 entries, from the end record, before the directory is read (inspect)", async () => {
    const { payload, xml } = encryptPayload(Buffer.from("x"));
    const extra = Array.from({ length: 15 }, (_, i) => text(`extra-${i}`));
    const path = join(await fresh(), "many.intunewin");
    await writeFile(
      path,
      craftZip([{ name: PAYLOAD, data: payload }, { name: DETECTION, data: Buffer.from(xml) }, ...extra]),
    );
    assertRefused(await runCli(["inspect", path], {}), EXIT_CODES.input, /it has 17 entries, where a .intunewin has 2/);
  });

  it("a Detection.xml over 1 MiB is refused before it is read", async () => {
    const { payload, xml } = encryptPayload(Buffer.from("x"));
    const big = join(await fresh(), "big.intunewin");
    const padded = Buffer.from(xml + `<!--${"x".repeat(MiB)}-->`);
    await writeFile(
      big,
      craftZip([
        { name: PAYLOAD, data: payload },
        { name: DETECTION, data: padded },
      ]),
    );
    assertRefused(
      await runCli(["inspect", big], {}),
      EXIT_CODES.input,
      /Detection.xml is 1.0 MiB, over the limit of 1 MiB/,
    );
  });

  it("an empty file", async () => {
    const dir = await fresh();
    const empty = join(dir, "empty.intunewin");
    await writeFile(empty, "");
    await unpackRefused(empty, EXIT_CODES.input, /is not a valid .intunewin package: the file is empty/);
    assertRefused(await runCli(["inspect", empty], {}), EXIT_CODES.input, /the file is empty/);
  });

  it("a FIFO named as a package or an MSI is refused at once, never waited on", async () => {
    const dir = await fresh();
    for (const name of ["pipe.intunewin", "pipe.msi"]) execFileSync("mkfifo", [join(dir, name)]);
    await unpackRefused(join(dir, "pipe.intunewin"), EXIT_CODES.input, /is a named pipe \(FIFO\), not a regular file/);
    for (const name of ["pipe.intunewin", "pipe.msi"]) {
      assertRefused(await runCli(["inspect", join(dir, name)], {}), EXIT_CODES.input, /named pipe \(FIFO\)/);
    }
  });
});

describe("unpack: crafted inner zips fail cleanly, before anything is extracted", () => {
  const cases: [string, () => CraftedEntry[], number, RegExp][] = [
    [
      "an unknown compression method",
      () => [{ name: "m.txt", data: Buffer.from("hello"), method: 99 }],
      EXIT_CODES.input,
      /"m.txt" uses compression method 99/,
    ],
    [
      "a local-header offset that points at no header",
      () => [text("a.txt"), { ...text("m.txt"), recordedOffset: 7 }],
      EXIT_CODES.input,
      /"m.txt" points at offset 7, where no local header starts/,
    ],
    [
      "a deflated entry whose recorded size lies (integrity)",
      () => {
        const content = Buffer.from("hello ".repeat(100));
        return [{ name: "m.txt", data: deflateRawSync(content), method: 8, size: 10, content }];
      },
      EXIT_CODES.integrity,
      /"m.txt" inflates to more bytes than the 10 its record declares/,
    ],
    [
      "a symbolic link followed by an entry beneath it",
      () => [
        { name: "a", data: Buffer.from("/etc"), versionMadeBy: (3 << 8) | 20, externalAttributes: 0o120777 * 0x10000 },
        text("a/passwd"),
      ],
      EXIT_CODES.input,
      /the entry "a" is a symbolic link/,
    ],
    ["duplicate names", () => [text("a.txt", "1"), text("a.txt", "2")], EXIT_CODES.input, /two entries named "a.txt"/],
    [
      "names that differ only in case",
      () => [text("Setup.exe"), text("setup.exe")],
      EXIT_CODES.input,
      /"Setup.exe" and "setup.exe", one name on Windows, which ignores case/,
    ],
    [
      "a file, then an entry that needs a folder of its name",
      () => [text("a"), text("a/b")],
      EXIT_CODES.input,
      /"a" is a file, but "a\/b" needs a folder of that name/,
    ],
    [
      "an entry, then a file where its folder is",
      () => [text("a\\b"), text("a-x"), text("A")],
      EXIT_CODES.input,
      /"A" is a file, but "a\/b" needs a folder of that name/,
    ],
    [
      "a folder and a file of one name",
      () => [{ name: "d/" }, text("d")],
      EXIT_CODES.input,
      /name one path as both a file and a folder/,
    ],
    [
      "a name over 255 characters",
      () => [text("x".repeat(300))],
      EXIT_CODES.input,
      /it is 300 characters long; Windows allows 255 per name/,
    ],
    [
      "a path over 1,024 characters",
      () => [text(Array.from({ length: 5 }, () => "d".repeat(250)).join("/"))],
      EXIT_CODES.input,
      /the path is 1254 characters long, over the limit of 1024/,
    ],
    [
      "a name this file system cannot hold (ENAMETOOLONG)",
      () => [text("é".repeat(200))],
      EXIT_CODES.input,
      /is too long a path for this file system \(ENAMETOOLONG\)/,
    ],
    ...(["CON", "aux.txt", "x:ads", "name.", "a|b", "tab\there"] as const).map(
      (name): [string, () => CraftedEntry[], number, RegExp] => [
        `the Windows-unsafe name ${JSON.stringify(name)}`,
        () => [text("ok.txt"), text(`dir/${name}`)],
        EXIT_CODES.input,
        /has a name Windows cannot hold/,
      ],
    ),
  ];
  for (const [what, entries, code, message] of cases) {
    it(what, async () => {
      await unpackRefused(await packageOf(entries()), code, message);
    });
  }
});

describe("package: names Windows cannot hold", () => {
  const refused: [string, RegExp][] = [
    ["..\\..\\..\\Windows\\System32\\evil.dll", /contains "\\", which Windows does not allow in names/],
    ["x:ads", /contains ":"/],
    ["CON", /CON is a reserved device name on Windows/],
    ["aux.txt", /AUX is a reserved device name on Windows, with or without an extension/],
    ["com1.log", /COM1 is a reserved device name/],
    ["trailing.", /ends in a dot, which Windows drops from names/],
    ["trailing ", /ends in a space, which Windows drops from names/],
    ["a<b", /contains "<"/],
    ["a>b", /contains ">"/],
    ['a"b', /contains """/],
    ["a|b", /contains "\|"/],
    ["a?b", /contains "\?"/],
    ["a*b", /contains "\*"/],
    ["bell\x07", /contains the control character U\+0007/],
  ];
  for (const [name, rule] of refused) {
    it(`refuses ${JSON.stringify(name)}, naming the file and the rule`, async () => {
      const src = await fresh();
      await writeFile(join(src, "setup.exe"), "MZ");
      await mkdir(join(src, "sub"));
      await writeFile(join(src, "sub", name), "x");
      const out = await fresh();
      const r = await runCli(["package", "--source", src, "--setup", "setup.exe", "--out", out], {});
      assertRefused(r, EXIT_CODES.input, rule);
      // What reaches the terminal has its control characters escaped (src/cli/safe-output.ts).
      const shown = escapeControl(join("sub", name));
      assert.ok(r.stderr.includes(`"${shown}" in the source folder has a name Windows cannot hold`), r.stderr);
      assert.deepEqual(await readdir(out), [], "nothing written");
    });
  }

  it("refuses a path over 1,024 characters", async () => {
    const src = await fresh();
    await writeFile(join(src, "setup.exe"), "MZ");
    const deep = join(src, ...Array.from({ length: 5 }, (_, i) => `${i}`.repeat(250)));
    await mkdir(deep, { recursive: true });
    await writeFile(join(deep, "f"), "x");
    const r = await runCli(["package", "--source", src, "--setup", "setup.exe", "--out", await fresh()], {});
    assertRefused(r, EXIT_CODES.input, /the path is 1254 characters long, over the limit of 1024/);
  });

  it("refuses two names that differ only in case, and a name that is not UTF-8", async () => {
    const src = await fresh();
    await writeFile(join(src, "Setup.exe"), "MZ");
    await writeFile(join(src, "setup.exe"), "MZ");
    assertRefused(
      await runCli(["package", "--source", src, "--setup", "setup.exe", "--out", await fresh()], {}),
      EXIT_CODES.input,
      /"Setup.exe" and "setup.exe" in the source folder differ only in case/,
    );
    const src2 = await fresh();
    await writeFile(join(src2, "setup.exe"), "MZ");
    await writeFile(Buffer.concat([Buffer.from(src2 + "/bad"), Buffer.from([0xff]), Buffer.from(".txt")]), "x");
    assertRefused(
      await runCli(["package", "--source", src2, "--setup", "setup.exe", "--out", await fresh()], {}),
      EXIT_CODES.input,
      /has a name that is not valid UTF-8/,
    );
  });

  it("accepts names Windows can hold, and unpacks them again", async () => {
    const src = await fresh();
    const names = [
      "setup.exe",
      "a b.txt",
      "CONSOLE.txt",
      "con2.txt",
      "COM10",
      "x.y.z",
      "Ünïcödé ✓.txt",
      "n".repeat(255),
    ];
    for (const n of names) await writeFile(join(src, n), n);
    const out = await fresh();
    const r = await runCli(["package", "--source", src, "--setup", "setup.exe", "--out", out], {});
    assert.equal(r.code, 0, r.stderr);
    const back = join(await fresh(), "back");
    const u = await runCli(["unpack", join(out, "setup.intunewin"), "--out", back], {});
    assert.equal(u.code, 0, u.stderr);
    assert.deepEqual((await readdir(back)).sort(), [...names].sort());
  });

  it("refuses a FIFO in the source folder, and as the setup file", async () => {
    const src = await fresh();
    await writeFile(join(src, "setup.exe"), "MZ");
    execFileSync("mkfifo", [join(src, "pipe")]);
    const out = await fresh();
    assertRefused(
      await runCli(["package", "--source", src, "--setup", "setup.exe", "--out", out], {}),
      EXIT_CODES.input,
      /"pipe" in the source folder is a named pipe \(FIFO\), not a regular file or folder/,
    );
    assertRefused(
      await runCli(["package", "--source", src, "--setup", "pipe", "--out", out], {}),
      EXIT_CODES.input,
      /The setup file "pipe" is not a file/,
    );
    assert.deepEqual(await readdir(out), []);
  });
});
