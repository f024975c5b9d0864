// The shipped examples (examples/apps/*.yaml, examples/apps/targeting/*.yaml) load, and their Graph bodies (apps and
// assignment settings) pass the emulator's strict validation; the YAML examples in docs/app-definitions.md parse.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { cp, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { normalizeAssignmentSettings } from "../../emulator/graph/model/assignment-settings.js";
import { validateMobileAppCreate, validateMobileAppPatch } from "../../emulator/graph/model/win32LobApp.js";
import { parse as parseYaml } from "yaml";
import { targetingFileSchema } from "../core/app-definition/targeting-schema.js";
import type { AssignmentDefinition } from "../core/app-definition/targeting-schema.js";
import { toAssignmentWire } from "../core/targeting/assignments.js";
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
const targeting = join(examples, "targeting");
let work: string;
let loaded: LoadedAppDefinition[];
let fabrikamDigest: string;

before(async () => {
  // Work on a copy: the prebuilt-package example needs its package, which is built here (never committed). The
  // shared targeting file is inside examples/apps, so the definitions need no --allow-path.
  const root = await mkdtemp(join(tmpdir(), "ip-examples-"));
  work = join(root, "apps");
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
  await rm(dirname(work), { recursive: true, force: true });
});

/** Placeholder ids for the names an assignment resolves through Graph (the publish step resolves the real ones). */
function wireOf(a: AssignmentDefinition) {
  return toAssignmentWire({
    definition: a,
    ...(a.group === undefined ? {} : { group: { id: "5a8e1f3c-1d2b-4e6f-8a9b-0c1d2e3f4a5b", displayName: a.group } }),
    ...(a.filter === undefined
      ? {}
      : { filter: { id: "8d1b4c6f-4a5e-4b92-8dce-3f4a5b6c7d8e", displayName: a.filter } }),
  });
}

/** Every assignment's settings as Graph deserializes and validates them (exclusions carry none). */
function assertSettingsAccepted(list: readonly AssignmentDefinition[], where: string): void {
  for (const a of list) {
    const wire = wireOf(a);
    if (a.exclude) assert.equal(wire.settings, null, where);
    else assert.doesNotThrow(() => normalizeAssignmentSettings(wire.settings), `${where}: ${JSON.stringify(a)}`);
  }
}

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

  it("the targeting examples in docs/app-definitions.md parse, and Graph takes their settings", async () => {
    const doc = await readFile(join(repoRoot(), "docs", "app-definitions.md"), "utf8");
    const full = /```yaml\n(# A complete definition with targeting[\s\S]*?)```/.exec(doc)?.[1];
    assert.ok(full, "the complete targeting example");
    const def = parseAppDefinition(full, "docs/app-definitions.md").definition;
    assert.equal(def.id, "contoso-vpn");
    assert.equal(def.supersedence?.keepPreviousVersions, 1);
    assert.deepEqual(
      def.assignments?.map((a) => [a.intent, a.group ?? a.target, a.exclude]),
      [
        ["required", "Intune - All Windows devices", false],
        ["required", "Kiosks", true],
        ["available", "allUsers", false],
        ["uninstall", "0b8f7c8e-5f4e-4c1a-9b2d-3e4f5a6b7c8d", false],
      ],
    );
    assertSettingsAccepted(def.assignments ?? [], "docs/app-definitions.md");
    const shared = /```yaml\n# examples\/apps\/targeting\/pilot\.yaml\n([\s\S]*?)```/.exec(doc)?.[1];
    assert.ok(shared, "the shared targeting file example");
    assert.deepEqual(
      targetingFileSchema.parse(parseYaml(shared)),
      targetingFileSchema.parse(parseYaml(await readFile(join(targeting, "pilot.yaml"), "utf8"))),
      "the doc shows examples/apps/targeting/pilot.yaml as it is",
    );
  });

  it("the shared targeting files parse, and Graph takes their settings", async () => {
    const files = (await readdir(targeting)).filter((f) => f.endsWith(".yaml")).sort();
    assert.deepEqual(files, ["pilot.yaml"]);
    for (const f of files) {
      const parsed = targetingFileSchema.parse(parseYaml(await readFile(join(targeting, f), "utf8")));
      assertSettingsAccepted(parsed.assignments, f);
    }
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

  it("cover targeting: a shared targeting file, own assignments, a filter, an ESP profile, supersedence settings", () => {
    const byId = new Map(loaded.map((l) => [l.definition.id, l]));
    const row = (l: LoadedAppDefinition) =>
      l.assignments.map(({ assignment: a }) => [a.intent, a.group ?? a.target, a.filter ?? null]);
    // contoso-notes has no targeting: a benchmark copies it and counts its writes.
    assert.deepEqual(row(byId.get("contoso-notes")!), []);
    const northwind = byId.get("northwind-printers")!;
    assert.equal(northwind.definition.targeting, "targeting/pilot.yaml");
    assert.deepEqual(row(northwind), [
      ["required", "Intune - Pilot devices", null],
      ["available", "allUsers", null],
    ]);
    assert.deepEqual(northwind.definition.supersedence, {
      type: "update",
      assignments: "move",
      keepPreviousVersions: 1,
    });
    const fabrikam = byId.get("fabrikam-agent")!;
    assert.deepEqual(row(fabrikam), [["required", "allDevices", "Windows 11 only"]]);
    assert.deepEqual(fabrikam.definition.enrollmentStatusPages, ["All users and all devices"]);
    assert.equal(fabrikam.definition.supersedence?.type, "replace");
    for (const l of loaded)
      assertSettingsAccepted(
        l.assignments.map((x) => x.assignment),
        l.file,
      );
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
