// The shipped examples (examples/apps/*.yaml) load, and their Graph bodies pass the emulator's strict validation.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { cp, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { validateMobileAppCreate, validateMobileAppPatch } from "../../emulator/graph/model/win32LobApp.js";
import { contentHash } from "../core/app-definition/stamp.js";
import { toWin32LobAppCreateBody, toWin32LobAppPatchBody } from "../core/app-definition/to-graph.js";
import { packageFolder } from "../intunewin/package.js";
import type { LoadedAppDefinition } from "./load.js";
import { loadAppDefinitions } from "./load.js";
import { parseAppDefinition } from "./parse.js";

/** The repository root (the folder with package.json and examples/), from the sources or a build. */
function repoRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!(existsSync(join(d, "package.json")) && existsSync(join(d, "examples")))) {
    if (dirname(d) === d) throw new Error("repository root not found");
    d = dirname(d);
  }
  return d;
}

const examples = join(repoRoot(), "examples", "apps");
let work: string;
let loaded: LoadedAppDefinition[];
let fabrikamDigest: string;

before(async () => {
  // Work on a copy: the prebuilt-package example needs its package, which is built here (never committed).
  work = await mkdtemp(join(tmpdir(), "ip-examples-"));
  await cp(examples, work, { recursive: true });
  const built = await packageFolder({
    sourceDir: join(work, "fabrikam-agent", "payload"),
    setupFile: "install.cmd",
    outDir: join(work, "fabrikam-agent", "dist"),
  });
  fabrikamDigest = built.fileDigest;
  const files = (await readdir(work)).filter((f) => f.endsWith(".yaml")).sort();
  loaded = await loadAppDefinitions(files.map((f) => join(work, f)));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

describe("examples/apps", () => {
  it("has the three documented examples, each parsing as committed", async () => {
    const files = (await readdir(examples)).filter((f) => f.endsWith(".yaml")).sort();
    assert.deepEqual(files, ["contoso-notes.yaml", "fabrikam-agent.yaml", "northwind-printers.yaml"]);
    for (const f of files) parseAppDefinition(await readFile(join(examples, f), "utf8"), f);
  });

  it("the example in docs/app-definitions.md parses", async () => {
    const doc = await readFile(join(repoRoot(), "docs", "app-definitions.md"), "utf8");
    const yaml = /```yaml\n(# yaml-language-server[\s\S]*?)```/.exec(doc)?.[1];
    assert.ok(yaml, "the first full YAML example in docs/app-definitions.md");
    assert.equal(parseAppDefinition(yaml, "docs/app-definitions.md").definition.id, "contoso-notes");
  });

  it("load with their files and cover folder + package content, icons, scripts", () => {
    const byId = new Map(loaded.map((l) => [l.definition.id, l]));
    assert.deepEqual([...byId.keys()], ["contoso-notes", "fabrikam-agent", "northwind-printers"]);
    assert.equal(byId.get("contoso-notes")!.content.kind, "folder");
    assert.equal(byId.get("contoso-notes")!.assets.icon?.type, "image/png");
    assert.equal(byId.get("fabrikam-agent")!.content.kind, "package");
    assert.equal(byId.get("fabrikam-agent")!.definition.updateStrategy, "supersede");
    const northwind = byId.get("northwind-printers")!;
    assert.equal(northwind.definition.detection[0]?.type, "script");
    assert.equal(northwind.assets.scripts.size, 2);
  });

  it("map to create and PATCH bodies the emulator accepts", () => {
    for (const l of loaded) {
      const fileName =
        l.content.kind === "package"
          ? basename(l.content.packagePath)
          : `${basename(l.content.setupFile, extname(l.content.setupFile))}.intunewin`;
      const setupFile = l.content.kind === "package" ? "install.cmd" : l.content.setupFile;
      const hash =
        l.content.kind === "package"
          ? contentHash({ kind: "intunewin", fileDigest: fabrikamDigest })
          : contentHash({ kind: "sourceTree", setupFile, files: [] });
      const stamp = { id: l.definition.id, version: l.definition.version, contentHash: hash };
      const create = toWin32LobAppCreateBody(l.definition, l.assets, {
        package: { fileName, setupFile },
        stamp,
        scopeTagIds: l.definition.scopeTags ? ["0"] : undefined,
      });
      assert.deepEqual(validateMobileAppCreate(create), [], l.file);
      const patch = toWin32LobAppPatchBody(l.definition, l.assets, { stamp });
      assert.deepEqual(validateMobileAppPatch(patch, "#microsoft.graph.win32LobApp"), [], l.file);
    }
  });
});
