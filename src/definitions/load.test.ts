import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, open, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { after, before, describe, it } from "node:test";
import { AppDefinitionError } from "../core/app-definition/errors.js";
import { isPublisherError } from "../core/errors.js";
import type { LoadOptions } from "./load.js";
import { iconType, loadAppDefinition, loadAppDefinitions, scriptTextProblem } from "./load.js";

const BASE = `id: contoso-tool
displayName: Contoso Tool
publisher: Contoso
version: "1.0.0"
content:
  source: src
  setupFile: install.ps1
install:
  command: install.cmd
uninstall:
  command: uninstall.cmd
detection:
  - type: file
    path: '%ProgramFiles%\\Contoso'
    fileOrFolderName: tool.exe
`;
const PNG = Buffer.concat([Buffer.from("89504e470d0a1a0a", "hex"), Buffer.alloc(40, 1)]);
const JPEG = Buffer.concat([Buffer.from("ffd8ffe0", "hex"), Buffer.alloc(40, 2)]);

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "ip-definitions-"));
  await mkdir(join(dir, "src"));
  await writeFile(join(dir, "src", "install.ps1"), "exit 0\n");
  await mkdir(join(dir, "scripts"));
  await writeFile(join(dir, "scripts", "detect.ps1"), "Write-Output 'ok'\n");
  await writeFile(join(dir, "scripts", "empty.ps1"), "");
  await writeFile(join(dir, "icon.png"), PNG);
  await writeFile(join(dir, "icon.jpg"), JPEG);
  await writeFile(join(dir, "icon.gif"), Buffer.from("GIF89a........"));
  await writeFile(join(dir, "big.png"), Buffer.concat([PNG, Buffer.alloc(1024 * 1024)]));
  await writeFile(join(dir, "app.intunewin"), Buffer.from("PK\x03\x04rest-of-a-zip"));
  await writeFile(join(dir, "notzip.intunewin"), Buffer.from("MZ not a zip"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(name: string, text: string): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, text);
  return p;
}

async function refused(name: string, text: string): Promise<{ where: string; field: string; message: string }[]> {
  const file = await write(name, text);
  await assert.rejects(loadAppDefinition(file), AppDefinitionError);
  try {
    await loadAppDefinition(file);
  } catch (e) {
    return (e as AppDefinitionError).problems.map((p) => {
      assert.equal(p.file, file);
      return { where: `${p.line}:${p.column}`, field: p.path.join("."), message: p.message };
    });
  }
  return [];
}

describe("loadAppDefinition", () => {
  it("resolves the content folder, reads scripts and the icon", async () => {
    const file = await write(
      "ok.yaml",
      BASE.replace(/detection:[\s\S]*$/, "detection:\n  - type: script\n    script: scripts\\detect.ps1\n") +
        "icon: icon.png\n",
    );
    const loaded = await loadAppDefinition(file);
    assert.deepEqual(loaded.content, { kind: "folder", sourceDir: join(dir, "src"), setupFile: "install.ps1" });
    assert.equal(Buffer.from(loaded.assets.scripts.get("scripts\\detect.ps1")!).toString(), "Write-Output 'ok'\n");
    assert.equal(loaded.assets.icon?.type, "image/png");
    assert.deepEqual(loaded.locate(["detection", 0, "script"]), { line: 14, column: 13 });
  });

  it("resolves a prebuilt package and a JPEG icon", async () => {
    const file = await write(
      "pkg.yaml",
      BASE.replace("  source: src\n  setupFile: install.ps1\n", "  package: app.intunewin\n") + "icon: icon.jpg\n",
    );
    const loaded = await loadAppDefinition(file);
    assert.deepEqual(loaded.content, { kind: "package", packagePath: join(dir, "app.intunewin"), sizeInBytes: 17 });
    assert.equal(loaded.assets.icon?.type, "image/jpeg");
  });

  it("names missing files with their field and line", async () => {
    const ps = await refused(
      "missing.yaml",
      BASE.replace("source: src", "source: nowhere") +
        "requirements:\n  rules:\n    - type: script\n      script: scripts/none.ps1\n      outputType: boolean\n      operator: equal\n      value: true\nicon: none.png\n",
    );
    assert.deepEqual(
      ps.map((p) => [p.where, p.field]),
      [
        ["6:11", "content.source"],
        ["19:15", "requirements.rules.0.script"],
        ["23:7", "icon"],
      ],
    );
    assert.match(ps[0]!.message, /The source folder nowhere does not exist/);
  });

  it("reports schema, rule and file problems of one file in one run (a schema problem does not stop the rest)", async () => {
    const problems = await refused(
      "many-mistakes.yaml",
      `id: contoso-tool
displayName: Contoso Tool
publisher: Contoso
version: 1.0
categroies: [Productivity]
content:
  source: src
  setupFile: setup-missing.exe
install:
  command: install.cmd
uninstall:
  command: uninstall.cmd
detection:
  - type: file
    path: '%ProgramFiles%\\Contoso'
    fileOrFolderName: bin\\tool.exe
  - type: script
    script: scripts\\missing-detect.ps1
requirements:
  rules:
    - type: registry
      keyPath: SOFTWARE\\Contoso
informationUrl: not-a-url
icon: missing.png
targeting: missing.targeting.yaml
`,
    );
    const fields = problems.map((p) => `${p.where} ${p.field}`);
    assert.deepEqual(fields, [
      "4:10 version",
      "5:1 categroies",
      "16:23 detection.0.fileOrFolderName",
      "22:16 requirements.rules.0.keyPath",
      "23:17 informationUrl",
      "8:14 content.setupFile",
      "18:13 detection.1.script",
      "24:7 icon",
      "25:12 targeting",
    ]);
    assert.match(problems[0]!.message, /version/);
    assert.match(problems[1]!.message, /Unknown key "categroies"/);
    assert.match(problems[2]!.message, /single name/);
    assert.match(problems[3]!.message, /must start with a hive/);
    assert.match(problems[5]!.message, /setup file setup-missing\.exe does not exist/);
    assert.match(problems[6]!.message, /missing-detect\.ps1/);
    assert.match(problems[7]!.message, /missing\.png/);
    assert.match(problems[8]!.message, /missing\.targeting\.yaml/);
  });

  it("a shared targeting file's problems come with the definition's own", async () => {
    const shared = await write("bad.targeting.yaml", "assignments:\n  - intent: sometimes\n    target: allUsers\n");
    const file = await write(
      "with-bad-targeting.yaml",
      BASE.replace("setupFile: install.ps1", "setupFile: gone.ps1") + "targeting: bad.targeting.yaml\n",
    );
    const e = await loadAppDefinition(file).then(
      () => assert.fail("refused"),
      (err: unknown) => err,
    );
    assert.ok(e instanceof AppDefinitionError, String(e));
    assert.deepEqual(
      e.problems.map((p) => `${p.file === shared ? "targeting" : "definition"}:${p.line} ${p.path.join(".")}`),
      ["definition:7 content.setupFile", "targeting:2 assignments.0.intent"],
    );
  });

  it("checks the setup file inside the source folder", async () => {
    const ps = await refused("setup.yaml", BASE.replace("setupFile: install.ps1", "setupFile: setup.exe"));
    assert.deepEqual(
      ps.map((p) => [p.where, p.field]),
      [["7:14", "content.setupFile"]],
    );
    const up = await refused("escape.yaml", BASE.replace("setupFile: install.ps1", "setupFile: ../x.ps1"));
    assert.match(up[0]!.message, /inside content.source/);
  });

  it("refuses an empty script", async () => {
    const ps = await refused(
      "empty.yaml",
      BASE.replace(/detection:[\s\S]*$/, "detection:\n  - type: script\n    script: scripts/empty.ps1\n"),
    );
    assert.deepEqual(
      ps.map((p) => [p.field, p.message]),
      [["detection.0.script", "The detection script scripts/empty.ps1 is empty."]],
    );
  });

  it("checks the icon's type by its bytes and its size (1 MiB)", async () => {
    const gif = await refused("gif.yaml", `${BASE}icon: icon.gif\n`);
    assert.deepEqual(
      gif.map((p) => [p.where, p.field]),
      [["16:7", "icon"]],
    );
    assert.match(gif[0]!.message, /not a PNG or JPEG image/);
    const big = await refused("big.yaml", `${BASE}icon: big.png\n`);
    assert.match(big[0]!.message, /The icon .*big\.png is .*, over the limit of 1 MiB\./);
    assert.equal(iconType(PNG), "image/png");
    assert.equal(iconType(JPEG), "image/jpeg");
    assert.equal(iconType(Buffer.from("GIF89a")), undefined);
  });

  it("checks a prebuilt package: a zip, at most 30 GB", async () => {
    const pkg = (name: string) => BASE.replace("  source: src\n  setupFile: install.ps1\n", `  package: ${name}\n`);
    const notZip = await refused("notzip.yaml", pkg("notzip.intunewin"));
    assert.deepEqual(
      notZip.map((p) => [p.where, p.field]),
      [["6:12", "content.package"]],
    );
    assert.match(notZip[0]!.message, /not a .intunewin package/);
    // A sparse file one byte over Intune's 30 GB limit.
    const huge = join(dir, "huge.intunewin");
    const fh = await open(huge, "w");
    await fh.truncate(30_000_000_001);
    await fh.close();
    const tooBig = await refused("huge.yaml", pkg("huge.intunewin"));
    assert.deepEqual(
      tooBig.map((p) => [p.where, p.field]),
      [["6:12", "content.package"]],
    );
    assert.match(tooBig[0]!.message, /Intune takes at most 30.00 GB per app/);
    await rm(huge);
    const absent = await refused("absent.yaml", pkg("absent.intunewin"));
    assert.match(absent[0]!.message, /The package .*absent\.intunewin does not exist/);
  });

  it("reports a missing definition file as an input error", async () => {
    await assert.rejects(loadAppDefinition(join(dir, "nope.yaml")), (e: unknown) => {
      return e instanceof Error && (e as { code?: string }).code === "AppDefinitionNotFound";
    });
  });

  it("loads several files, reporting every file's problems and duplicate ids", async () => {
    const a = await write("a.yaml", BASE);
    const b = await write("b.yaml", BASE);
    const c = await write("c.yaml", BASE.replace("publisher: Contoso\n", ""));
    await assert.rejects(loadAppDefinitions([a, b, c]), (e: unknown) => {
      assert.ok(e instanceof AppDefinitionError);
      assert.deepEqual(
        e.problems.map((p) => [p.file, p.line, p.path.join(".")]),
        [
          [c, 1, "publisher"],
          [b, 1, "id"],
        ],
      );
      assert.match(e.message, /The id "contoso-tool" is already used by .*a\.yaml/);
      return true;
    });
    assert.equal((await loadAppDefinitions([a])).length, 1);
  });
});

/** BASE with a script detection rule (line 14, column 13) and extra top-level lines. */
const withScript = (script: string, extra = "") =>
  BASE.replace(/detection:[\s\S]*$/, `detection:\n  - type: script\n    script: ${script}\n`) + extra;

/** A sparse file of `size` bytes starting with `head`: large without using the disk. */
async function sparse(path: string, size: number, head = ""): Promise<void> {
  await writeFile(path, head);
  const fh = await open(path, "r+");
  await fh.truncate(size);
  await fh.close();
}

const posix = process.platform !== "win32";

describe("files a definition names: inside the allowed folders, regular, bounded", () => {
  let root: string;
  let apps: string;
  let outside: string;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), "ip-definitions-roots-"));
    apps = join(root, "apps");
    outside = join(root, "outside");
    await mkdir(join(apps, "src"), { recursive: true });
    await mkdir(outside);
    await writeFile(join(apps, "src", "install.ps1"), "exit 0\n");
    await writeFile(join(apps, "detect.ps1"), "Write-Output 'ok'\n");
    await writeFile(join(outside, "secret.txt"), "runner secret\n");
    await writeFile(join(outside, "check.ps1"), "Write-Output 'outside'\n");
    await writeFile(join(outside, "icon.png"), PNG);
    await writeFile(join(outside, "pilot.yaml"), "assignments:\n  - intent: required\n    target: allDevices\n");
    await writeFile(join(outside, "app.intunewin"), Buffer.from("PK\x03\x04rest-of-a-zip"));
    await writeFile(join(outside, "install.ps1"), "exit 0\n");
    await symlink(join(outside, "check.ps1"), join(apps, "link.ps1"));
    await symlink(join(outside, "install.ps1"), join(apps, "src", "setup-link.ps1"));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function problemsOf(name: string, text: string, options: LoadOptions = {}) {
    const file = join(apps, name);
    await writeFile(file, text);
    try {
      await loadAppDefinition(file, options);
    } catch (e) {
      assert.ok(e instanceof AppDefinitionError, String(e));
      return {
        hint: e.hint ?? "",
        problems: e.problems.map((p) => {
          assert.equal(p.file, file);
          return { where: `${p.line}:${p.column}`, field: p.path.join("."), message: p.message };
        }),
      };
    }
    assert.fail(`${name} was accepted`);
  }

  it("refuses a script written as ../, as an absolute path, or as a link leaving the folder, at its position", async () => {
    for (const written of ["../outside/secret.txt", join(outside, "check.ps1"), "link.ps1"]) {
      const r = await problemsOf("escape.yaml", withScript(written));
      assert.deepEqual(
        r.problems.map((p) => [p.where, p.field]),
        [["14:13", "detection.0.script"]],
        written,
      );
      assert.match(
        r.problems[0]!.message,
        /^The detection script .* resolves to .*outside.*, outside the folders this run may read \(.*apps\)\.$/,
      );
      assert.match(r.hint, /--allow-path DIR/);
    }
  });

  it("refuses an icon, targeting file, package and source folder outside the folder, each at its field", async () => {
    const r = await problemsOf(
      "escape-all.yaml",
      BASE.replace("  source: src\n  setupFile: install.ps1\n", "  package: ../outside/app.intunewin\n") +
        "icon: ../outside/icon.png\ntargeting: ../outside/pilot.yaml\n",
    );
    assert.deepEqual(
      r.problems.map((p) => [p.where, p.field]),
      [
        ["6:12", "content.package"],
        ["15:7", "icon"],
        ["16:12", "targeting"],
      ],
    );
    for (const p of r.problems) assert.match(p.message, /outside the folders this run may read/);
    const source = await problemsOf("escape-source.yaml", BASE.replace("source: src", "source: ../outside"));
    assert.deepEqual(
      source.problems.map((p) => [p.where, p.field]),
      [["6:11", "content.source"]],
    );
  });

  it("refuses a setup file that a link takes out of the source folder", async () => {
    const r = await problemsOf("setup-link.yaml", BASE.replace("setupFile: install.ps1", "setupFile: setup-link.ps1"));
    assert.deepEqual(
      r.problems.map((p) => [p.where, p.field, p.message]),
      [["7:14", "content.setupFile", "The setup file setup-link.ps1 resolves outside the source folder src."]],
    );
  });

  it("--allow-path admits a folder: scripts, icon, targeting and package there load", async () => {
    const file = join(apps, "allowed.yaml");
    await writeFile(
      file,
      BASE.replace("  source: src\n  setupFile: install.ps1\n", "  package: ../outside/app.intunewin\n").replace(
        /detection:[\s\S]*$/,
        "detection:\n  - type: script\n    script: ../outside/check.ps1\n" +
          "icon: ../outside/icon.png\ntargeting: ../outside/pilot.yaml\n",
      ),
    );
    for (const allowPaths of [[outside], [relative(root, outside)]]) {
      const loaded = await loadAppDefinition(file, { allowPaths, cwd: root });
      assert.equal(
        Buffer.from(loaded.assets.scripts.get("../outside/check.ps1")!).toString(),
        "Write-Output 'outside'\n",
      );
      assert.equal(loaded.assets.icon?.type, "image/png");
      assert.deepEqual(
        loaded.assignments.map((a) => a.assignment.target),
        ["allDevices"],
      );
      assert.equal(loaded.content.kind, "package");
    }
    // The link to a file in an allowed folder is admitted too; a file beside it that is not .ps1 is not a script.
    const linked = await loadAppDefinition(await writeAndPath("linked.yaml", withScript("link.ps1")), {
      allowPaths: [outside],
    });
    assert.equal(linked.assets.scripts.size, 1);
    const txt = await problemsOf("txt-allowed.yaml", withScript("../outside/secret.txt"), { allowPaths: [outside] });
    assert.match(txt.problems[0]!.message, /is not a \.ps1 file/);
  });

  async function writeAndPath(name: string, text: string): Promise<string> {
    const file = join(apps, name);
    await writeFile(file, text);
    return file;
  }

  it("an --allow-path folder must exist", async () => {
    const file = await writeAndPath("plain.yaml", BASE);
    for (const bad of [join(root, "nowhere"), join(outside, "secret.txt")]) {
      await assert.rejects(loadAppDefinitions([file], { allowPaths: [bad] }), (e: unknown) => {
        assert.ok(isPublisherError(e));
        assert.equal(e.code, "AllowPathNotFolder");
        assert.equal(e.kind, "input");
        assert.ok(e.message.includes(bad), e.message);
        return true;
      });
    }
  });

  it(
    "refuses /dev/zero as a script, icon or targeting file at once, as outside the folder or as a device",
    {
      skip: !posix,
    },
    async () => {
      const direct = await problemsOf("zero.yaml", withScript("/dev/zero", "icon: /dev/zero\ntargeting: /dev/zero\n"));
      assert.deepEqual(
        direct.problems.map((p) => p.field),
        ["detection.0.script", "icon", "targeting"],
      );
      for (const p of direct.problems) assert.match(p.message, /resolves to \/dev\/zero, outside the folders/);
      // Even with /dev allowed (and a .ps1 link to it), a device is never read.
      await symlink("/dev/zero", join(apps, "zero.ps1"));
      const allowed = await problemsOf(
        "zero-allowed.yaml",
        withScript("zero.ps1", "icon: /dev/zero\ntargeting: /dev/zero\n"),
        { allowPaths: ["/dev"] },
      );
      assert.deepEqual(
        allowed.problems.map((p) => p.field),
        ["detection.0.script", "icon", "targeting"],
      );
      for (const p of allowed.problems)
        assert.match(p.message, /\/dev\/zero is a character device, not a regular file\./);
    },
  );

  it(
    "refuses a named pipe as the definition, a script, the icon, the targeting file or the package, without blocking",
    {
      skip: !posix,
      timeout: 60_000, // a guard: before the fix the first read of a pipe never returned
    },
    async () => {
      for (const f of ["pipe.ps1", "pipe.png", "pipe.yaml", "pipe.intunewin", "pipe-definition.yaml"])
        execFileSync("mkfifo", [join(apps, f)]);
      const r = await problemsOf(
        "pipes.yaml",
        withScript("pipe.ps1", "icon: pipe.png\ntargeting: pipe.yaml\n").replace(
          "  source: src\n  setupFile: install.ps1\n",
          "  package: pipe.intunewin\n",
        ),
      );
      assert.deepEqual(
        r.problems.map((p) => p.field),
        ["content.package", "detection.0.script", "icon", "targeting"],
      );
      for (const p of r.problems) assert.match(p.message, /is a named pipe \(FIFO\), not a regular file\./);
      await assert.rejects(loadAppDefinition(join(apps, "pipe-definition.yaml")), (e: unknown) => {
        assert.ok(isPublisherError(e));
        assert.equal(e.code, "NotRegularFile");
        assert.match(e.message, /The app definition .*pipe-definition\.yaml is a named pipe \(FIFO\)/);
        return true;
      });
    },
  );

  it("refuses files over their limit by size, naming it, before reading or parsing them", async () => {
    // 50 MB definition: YAML at the start, so only the size check can refuse it.
    const big = join(apps, "big-definition.yaml");
    await sparse(big, 50 * 1024 * 1024, BASE + "description: |\n  ");
    await assert.rejects(loadAppDefinition(big), (e: unknown) => {
      assert.ok(isPublisherError(e));
      assert.equal(e.code, "FileTooLarge");
      assert.equal(e.kind, "input");
      assert.match(e.message, /The app definition .*big-definition\.yaml is 50 MiB, over the limit of 256 KiB\./);
      return true;
    });
    await sparse(join(apps, "big.ps1"), 50 * 1024 * 1024, "Write-Output 'ok'\n");
    await sparse(join(apps, "big-targeting.yaml"), 300 * 1024, "assignments:\n");
    const r = await problemsOf("bigs.yaml", withScript("big.ps1", "targeting: big-targeting.yaml\n"));
    assert.deepEqual(
      r.problems.map((p) => [p.field, p.message.replace(/ \/\S+\//, " …/")]),
      [
        ["detection.0.script", "The detection script …/big.ps1 is 50 MiB, over the limit of 200 KiB."],
        ["targeting", "The targeting file …/big-targeting.yaml is 300 KiB, over the limit of 256 KiB."],
      ],
    );
  });

  it("takes .ps1 scripts in UTF-8 or UTF-16 with a byte-order mark; refuses other names, binaries, unmarked UTF-16", async () => {
    const utf16le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from("Write-Output 'ok'\r\n", "utf16le")]);
    await writeFile(join(apps, "utf16.ps1"), utf16le);
    await writeFile(join(apps, "utf8bom.ps1"), Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from("exit 0")]));
    await writeFile(join(apps, "detect.PS1"), "exit 0\n");
    for (const ok of ["utf16.ps1", "utf8bom.ps1", "detect.PS1"]) {
      const loaded = await loadAppDefinition(await writeAndPath("ok-script.yaml", withScript(ok)));
      assert.deepEqual(Buffer.from(loaded.assets.scripts.get(ok)!), await readBack(ok), ok);
    }
    await writeFile(join(apps, "detect.txt"), "Write-Output 'ok'\n");
    await writeFile(join(apps, "binary.ps1"), Buffer.concat([PNG, Buffer.alloc(16)]));
    await writeFile(join(apps, "bare16.ps1"), Buffer.from("exit 0", "utf16le"));
    await writeFile(join(apps, "bom-only.ps1"), Buffer.from([0xef, 0xbb, 0xbf]));
    const cases: [string, RegExp][] = [
      ["detect.txt", /^The detection script detect\.txt is not a \.ps1 file: Intune runs .* with PowerShell\.$/],
      [
        "binary.ps1",
        /^The detection script binary\.ps1 is not text: it has a NUL byte at offset 48 \(save it as UTF-8/,
      ],
      ["bare16.ps1", /^The detection script bare16\.ps1 is not text: it has a NUL byte at offset 1 /],
      ["bom-only.ps1", /^The detection script bom-only\.ps1 is empty\.$/],
    ];
    for (const [name, message] of cases) {
      const r = await problemsOf("bad-script.yaml", withScript(name));
      assert.deepEqual(
        r.problems.map((p) => [p.where, p.field]),
        [["14:13", "detection.0.script"]],
        name,
      );
      assert.match(r.problems[0]!.message, message);
    }
    assert.match(scriptTextProblem(Buffer.from([0xfe, 0xff, 0x00])) ?? "", /odd number of bytes/);
  });

  async function readBack(name: string): Promise<Buffer> {
    const { readFile } = await import("node:fs/promises");
    return readFile(join(apps, name));
  }
});
