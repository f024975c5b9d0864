import assert from "node:assert/strict";
import { mkdir, mkdtemp, open, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { AppDefinitionError } from "../core/app-definition/errors.js";
import { iconType, loadAppDefinition, loadAppDefinitions } from "./load.js";

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
  dir = await mkdtemp(join(tmpdir(), "ip-catalog-"));
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
      [["detection.0.script", "The script scripts/empty.ps1 is empty."]],
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
    assert.match(big[0]!.message, /keep it under 1048576 bytes/);
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
    assert.match(absent[0]!.message, /The package absent.intunewin does not exist/);
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
