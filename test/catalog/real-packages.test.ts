// Real community manifests (the corpus's pkgs/ folder, winget-pkgs layout): for each package version, the installer
// the rules choose (derived by hand from the rules and the manifest: the reason is in each row) and an app definition
// that the definition loader `publish` uses accepts, scripts and installer file written beside it, and whose Graph
// body passes the local tenant's strict validation.
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { before, describe, it } from "node:test";
import { stringify } from "yaml";
import { validateMobileAppCreate } from "../../emulator/graph/model/win32LobApp.js";
import { contentHash } from "../../src/core/app-definition/stamp.js";
import { toWin32LobAppCreateBody } from "../../src/core/app-definition/to-graph.js";
import { loadAppDefinition } from "../../src/definitions/load.js";
import type { ShowResult } from "../../src/catalog/catalog.js";
import { showProduct } from "../../src/catalog/catalog.js";
import { WingetFolderSource } from "../../src/catalog/sources/winget-folder.js";
import { generatedFileBytes } from "../../src/catalog/to-definition.js";
import { useScratch } from "../support/scratch.js";
import { WINGET_PKGS } from "../support/winget.js";

interface Expected {
  /** Installers[index] chosen, or the refusal's text. */
  index: number | RegExp;
  type?: string;
  arch?: string;
  /** msi: product code rule; registry: Uninstall key rule; script: detection script. */
  detection?: "msi" | "registry" | "script";
  /** msiexec /x, or the generated script. */
  uninstall?: "msiexec" | "script";
  why: string;
}

// Default request: x64, machine scope.
const X64_MACHINE: Record<string, Expected> = {
  "7zip.7zip 16.0.4": {
    index: 0,
    type: "msi",
    arch: "x64",
    detection: "script",
    uninstall: "script",
    why: "the only installer; no ProductCode in the manifest (the MSI gives it after download)",
  },
  "7zip.7zip 26.03": {
    index: 5,
    type: "wix",
    arch: "x64",
    detection: "msi",
    uninstall: "msiexec",
    why: "x64 exe and wix: wix ranks before exe",
  },
  "Adobe.Acrobat.Reader.64-bit 26.001.21789": {
    index: 0,
    type: "exe",
    arch: "x64",
    detection: "script",
    uninstall: "script",
    why: "one exe; its ProductCode names the Uninstall key, view uncertain for x64",
  },
  "EclipseAdoptium.Temurin.21.JDK 21.0.1.12": {
    index: 0,
    type: "wix",
    arch: "x64",
    detection: "msi",
    uninstall: "msiexec",
    why: "one wix, ProductCode at the root",
  },
  "EclipseAdoptium.Temurin.21.JDK 21.0.12.101": {
    index: 0,
    type: "wix",
    arch: "x64",
    detection: "msi",
    uninstall: "msiexec",
    why: "one wix, ProductCode at the root",
  },
  "Git.Git 2.33.1.windows.1": {
    index: 0,
    type: "inno",
    arch: "x64",
    detection: "script",
    uninstall: "script",
    why: "x64 inno; the x86 one is only a fallback; no ProductCode",
  },
  "Git.Git 2.55.0.5": {
    index: 1,
    type: "inno",
    arch: "x64",
    detection: "script",
    uninstall: "script",
    why: "x64 user [0] and machine [1]: machine scope",
  },
  "Greenshot.Greenshot 1.2.10.6": {
    index: 0,
    type: "inno",
    arch: "x64",
    detection: "script",
    uninstall: "script",
    why: "one inno; Greenshot_is1 key, 64-bit view uncertain",
  },
  "Greenshot.Greenshot 1.3.315": {
    index: 1,
    type: "inno",
    arch: "x86",
    detection: "registry",
    uninstall: "script",
    why: "no x64 installer: x86 fallback, machine [1]; key in the 32-bit view",
  },
  "KeePassXCTeam.KeePassXC 2.5.4": {
    index: 0,
    type: "wix",
    arch: "x64",
    detection: "msi",
    uninstall: "msiexec",
    why: "one wix, its own ProductCode",
  },
  "KeePassXCTeam.KeePassXC 2.7.12": {
    index: 0,
    type: "wix",
    arch: "x64",
    detection: "msi",
    uninstall: "msiexec",
    why: "one wix, root ProductCode",
  },
  "Microsoft.DotNet.DesktopRuntime.8 8.0.12": {
    index: 1,
    type: "burn",
    arch: "x64",
    detection: "script",
    uninstall: "script",
    why: "arm64 [0], x64 [1], x86 [2]: x64",
  },
  "Microsoft.DotNet.DesktopRuntime.8 8.0.31": {
    index: 1,
    type: "burn",
    arch: "x64",
    detection: "script",
    uninstall: "script",
    why: "x64 [1]",
  },
  "Microsoft.Edge 151.0.4129.101": {
    index: 1,
    type: "wix",
    arch: "x64",
    detection: "msi",
    uninstall: "msiexec",
    why: "x86 [0], x64 [1], arm64 [2]: x64",
  },
  "Microsoft.PowerToys 0.101.2362.0": {
    index: 1,
    type: "burn",
    arch: "x64",
    detection: "script",
    uninstall: "script",
    why: "x64 user [0], machine [1]",
  },
  "Microsoft.PowerToys 0.89.0": {
    index: 1,
    type: "burn",
    arch: "x64",
    detection: "script",
    uninstall: "script",
    why: "x64 user [0], machine [1]",
  },
  "Microsoft.Teams 26198.304.4946.9672": {
    index: /msix.*portable|portable.*msix|unsupported for Win32/s,
    why: "msix and zip holding a portable app only",
  },
  "Microsoft.VisualStudioCode 1.135.0": {
    index: 1,
    type: "inno",
    arch: "x64",
    detection: "script",
    uninstall: "script",
    why: "x64 user [0], machine [1]",
  },
  "Microsoft.VisualStudioCode 1.139.1": {
    index: 1,
    type: "inno",
    arch: "x64",
    detection: "script",
    uninstall: "script",
    why: "x64 user [0], machine [1]",
  },
  "Notepad++.Notepad++ 8.4.9": {
    index: 0,
    type: "nullsoft",
    arch: "x64",
    detection: "script",
    uninstall: "script",
    why: "x64 nullsoft [0]",
  },
  "Notepad++.Notepad++ 8.9.8.1": {
    index: 3,
    type: "wix",
    arch: "x64",
    detection: "msi",
    uninstall: "msiexec",
    why: "x64 nullsoft [0] and wix [3]: wix ranks first; zip(portable) unsupported",
  },
  "PuTTY.PuTTY 0.74": {
    index: 0,
    type: "msi",
    arch: "x64",
    detection: "msi",
    uninstall: "msiexec",
    why: "x64 msi [0]",
  },
  "PuTTY.PuTTY 0.85.0.0": {
    index: 0,
    type: "wix",
    arch: "x64",
    detection: "msi",
    uninstall: "msiexec",
    why: "x64 wix [0]; zip(portable) [1] unsupported",
  },
  "Python.Python.3.12 3.12.0a1": {
    index: 1,
    type: "burn",
    arch: "x64",
    detection: "script",
    uninstall: "script",
    why: "x64 user [0], machine [1]",
  },
  "Python.Python.3.12 3.12.10": {
    index: 3,
    type: "burn",
    arch: "x64",
    detection: "script",
    uninstall: "script",
    why: "x86 user/machine, x64 user [2], machine [3]",
  },
  "Rufus.Rufus 4.15": { index: /portable app has no installer/, why: "portable only" },
  "VideoLAN.VLC 3.0.18": {
    index: 0,
    type: "wix",
    arch: "x64",
    detection: "msi",
    uninstall: "msiexec",
    why: "x64 wix [0] before x64 nullsoft [2]",
  },
  "VideoLAN.VLC 3.0.24": {
    index: 6,
    type: "wix",
    arch: "x64",
    detection: "msi",
    uninstall: "msiexec",
    why: "x64 nullsoft [5] and wix [6]: wix",
  },
  "WinSCP.WinSCP 5.17.10": {
    index: 0,
    type: "inno",
    arch: "x86",
    detection: "script",
    uninstall: "script",
    why: "x86 only; no ProductCode",
  },
  "WinSCP.WinSCP 6.5.7": {
    index: 2,
    type: "wix",
    arch: "x86",
    detection: "msi",
    uninstall: "msiexec",
    why: "x86 only: inno user [0], inno machine [1], wix [2]: wix",
  },
  "Zoom.Zoom 7.1.43453": {
    index: 0,
    type: "msi",
    arch: "x64",
    detection: "msi",
    uninstall: "msiexec",
    why: "x64 msi [0] before arm64 [1]",
  },
};

const OTHER_REQUESTS: [string, "x64" | "arm64" | "x86", "machine" | "user", Expected][] = [
  [
    "7zip.7zip 26.03",
    "arm64",
    "machine",
    { index: 3, type: "exe", arch: "arm64", why: "arm64 before any other architecture: the arm64 exe" },
  ],
  ["Microsoft.Edge 151.0.4129.101", "arm64", "machine", { index: 2, type: "wix", arch: "arm64", why: "arm64 wix" }],
  [
    "VideoLAN.VLC 3.0.18",
    "arm64",
    "machine",
    { index: 0, type: "wix", arch: "x64", why: "no arm64: x64 runs on Windows 11 on Arm" },
  ],
  [
    "WinSCP.WinSCP 6.5.7",
    "x64",
    "user",
    {
      index: 0,
      type: "inno",
      arch: "x86",
      detection: "registry",
      why: "user scope: the per-user inno; key in the user's hive",
    },
  ],
  [
    "Microsoft.VisualStudioCode 1.139.1",
    "x64",
    "user",
    {
      index: 0,
      type: "inno",
      arch: "x64",
      detection: "script",
      why: "the user installer; no ProductCode: a script finds it by DisplayName",
    },
  ],
  ["Python.Python.3.12 3.12.10", "x86", "machine", { index: 1, type: "burn", arch: "x86", why: "x86 machine [1]" }],
  [
    "Microsoft.Edge 151.0.4129.101",
    "x64",
    "user",
    { index: /installs for the machine|machine scope.*--scope user/s, why: "machine-only" },
  ],
];

async function writeBeside(dir: string, result: ShowResult): Promise<string> {
  const file = join(dir, "app.yaml");
  await writeFile(file, stringify(result.definition));
  for (const f of result.files) {
    await mkdir(dirname(join(dir, f.path)), { recursive: true });
    await writeFile(join(dir, f.path), generatedFileBytes(f));
  }
  const installer = join(dir, result.content.folder, result.definition!.content.setupFile as string);
  await mkdir(dirname(installer), { recursive: true });
  await writeFile(installer, "installer bytes (a stand-in)");
  return file;
}

describe("real community manifests: installer choice and app definitions", () => {
  let source: WingetFolderSource;
  const scratch = useScratch("catalog-real-");
  before(async () => {
    source = await WingetFolderSource.open(WINGET_PKGS);
  });

  it("the table covers every package version of the corpus", async () => {
    const index = await source.index();
    const all = index.entries.flatMap((e) => (e.versions ?? [e.version]).map((v) => `${e.id} ${v}`)).sort();
    assert.deepEqual(all, Object.keys(X64_MACHINE).sort());
  });

  const cases: [string, "x64" | "arm64" | "x86", "machine" | "user", Expected][] = [
    ...Object.entries(X64_MACHINE).map(([k, e]): [string, "x64", "machine", Expected] => [k, "x64", "machine", e]),
    ...OTHER_REQUESTS,
  ];
  for (const [key, arch, scope, expected] of cases)
    it(`${key} (${arch}, ${scope}): ${expected.why}`, async () => {
      const [id, version] = key.split(" ") as [string, string];
      if (expected.index instanceof RegExp) {
        await assert.rejects(
          showProduct(source, id, { version, architecture: arch, scope }),
          (e: unknown) =>
            e instanceof Error &&
            (e as { code?: string }).code === "NoUsableInstaller" &&
            (expected.index as RegExp).test(e.message),
        );
        return;
      }
      const r = await showProduct(source, id, { version, architecture: arch, scope });
      const chosenIndex = expectedIndex(r);
      assert.equal(chosenIndex, expected.index, `chosen Installers[${chosenIndex}]`);
      assert.equal(r.installer.type, expected.type);
      assert.equal(r.installer.architecture, expected.arch);
      assert.equal(r.installer.scope, scope);
      assert.equal(r.version, version);
      const def = r.definition!;
      if (expected.detection !== undefined) assert.equal(def.detection[0]!.type, expected.detection);
      if (expected.uninstall === "msiexec")
        assert.match(def.uninstall.command, /^msiexec \/x \{[0-9A-F-]{36}\} \/qn \/norestart$/);
      if (expected.uninstall === "script") assert.match(def.uninstall.command, /-File \.\\uninstall\.ps1$/);
      assert.deepEqual(def.requirements?.architectures, [arch]);
      assert.equal(def.install.runAs, scope === "user" ? "user" : "system");
      // The loader publish uses accepts it as it is, with the scripts and installer beside it.
      const file = await writeBeside(await scratch(), r);
      const loaded = await loadAppDefinition(file);
      assert.equal(loaded.definition.version, version);
      assert.equal(loaded.content.kind, "folder");
      // Its Graph body passes the local tenant's strict validation of a win32LobApp.
      const setupFile = loaded.definition.content.setupFile!;
      const create = toWin32LobAppCreateBody(loaded.definition, loaded.assets, {
        package: { fileName: `${setupFile}.intunewin`, setupFile },
        stamp: {
          id: loaded.definition.id,
          version,
          contentHash: contentHash({ kind: "sourceTree", setupFile, files: [] }),
        },
        scopeTagIds: undefined,
      });
      assert.deepEqual(validateMobileAppCreate(create), []);
    });
});

/** The chosen installer's index: the one index missing from `skipped`. */
function expectedIndex(r: ShowResult): number {
  const skipped = new Set(r.skipped.map((s) => s.index));
  for (let i = 0; i <= r.skipped.length; i++) if (!skipped.has(i)) return i;
  return -1;
}

describe("real community manifests: what the definitions say", () => {
  let source: WingetFolderSource;
  before(async () => {
    source = await WingetFolderSource.open(WINGET_PKGS);
  });

  it("an MSI: msiexec /i with /qn /norestart and ALLUSERS=1, the manifest's Custom after it", async () => {
    const r = await showProduct(source, "EclipseAdoptium.Temurin.21.JDK", { version: "21.0.12.101" });
    assert.equal(
      r.definition!.install.command,
      'msiexec /i "OpenJDK21U-jdk_x64_windows_hotspot_21.0.12.1_1.msi" /qn /norestart ALLUSERS=1 ADDLOCAL=ALL',
    );
    assert.equal(r.installer.silentArgs, "/qn /norestart ALLUSERS=1 ADDLOCAL=ALL");
    assert.equal(r.installer.productCode, "{285FFC48-F0BE-425E-9496-8F5E267BC34D}");
  });

  it("an MSI per user: ALLUSERS=2 MSIINSTALLPERUSER=1, run as the user", async () => {
    const r = await showProduct(source, "KeePassXCTeam.KeePassXC", { version: "2.5.4", scope: "user" });
    assert.equal(r.definition!.detection[0]!.type, "msi");
    assert.match(r.definition!.install.command, /ALLUSERS=2 MSIINSTALLPERUSER=1$/);
    assert.equal(r.definition!.install.runAs, "user");
    assert.equal(r.definition!.id, "keepassxcteam.keepassxc-user");
  });

  it("nullsoft: the default /S; inno: the default switches and the manifest's Custom", async () => {
    const npp = await showProduct(source, "Notepad++.Notepad++", { version: "8.4.9" });
    assert.equal(npp.definition!.install.command, '"npp.8.4.9.Installer.x64.exe" /S');
    assert.equal(npp.definition!.id, "notepadpp.notepadpp");
    const winscp = await showProduct(source, "WinSCP.WinSCP", { version: "5.17.10" });
    assert.equal(
      winscp.definition!.install.command,
      '"WinSCP.WinSCP-5.17.10.exe" /SP- /VERYSILENT /SUPPRESSMSGBOXES /NORESTART /ALLUSERS',
    );
  });

  it("burn: the root's Silent and Custom (.NET has /quiet and /norestart apart)", async () => {
    const r = await showProduct(source, "Microsoft.DotNet.DesktopRuntime.8", { version: "8.0.31" });
    assert.equal(r.definition!.install.command, '"windowsdesktop-runtime-8.0.31-win-x64.exe" /quiet /norestart');
  });

  it("an exe with root switches and 17 ExpectedReturnCodes: those that change Intune's outcome are added", async () => {
    const r = await showProduct(source, "Adobe.Acrobat.Reader.64-bit");
    assert.equal(r.definition!.install.command, '"AcroRdrDCx642600121789_MUI.exe" -sfx_nu /sAll /rs /msi');
    const codes = new Map(r.definition!.returnCodes!.map((c) => [c.code, c.type]));
    for (const [code, type] of [
      [0, "success"],
      [1707, "success"],
      [3010, "softReboot"],
      [1641, "hardReboot"],
      [1618, "retry"],
    ] as const)
      assert.equal(codes.get(code), type, `Intune's default ${code}`);
    assert.ok(r.definition!.returnCodes!.length > 5);
  });

  it("detection by DisplayVersion when Windows shows another version (.NET: 8.0.31.36421)", async () => {
    const r = await showProduct(source, "Microsoft.DotNet.DesktopRuntime.8", { version: "8.0.31" });
    const script = r.files.find((f) => f.path === "detect.ps1")!.text;
    assert.match(script, /^\$MinimumVersion = '8\.0\.31\.36421'$/m);
    assert.match(script, /^\$KeyName = '\{208fff39-3440-44c6-b473-38136ba594bf\}'$/m);
    assert.ok(r.explanations.some((e) => /DisplayVersion/.test(e)));
  });

  it("a dependency that is not in the catalog is explained, not declared (KeePassXC → VC++ runtime)", async () => {
    const r = await showProduct(source, "KeePassXCTeam.KeePassXC");
    assert.equal(r.definition!.dependencies, undefined);
    assert.ok(r.explanations.some((e) => /Microsoft\.VCRedist\.2015\+\.x64 is not in this catalog/.test(e)));
  });

  it("the newest version in winget's order when none is asked (PowerToys 0.101 > 0.89)", async () => {
    const r = await showProduct(source, "Microsoft.PowerToys");
    assert.equal(r.version, "0.101.2362.0");
  });

  it("explains the installers it did not choose", async () => {
    const r = await showProduct(source, "Notepad++.Notepad++", { version: "8.9.8.1" });
    const byIndex = new Map(r.skipped.map((s) => [s.index, s.reason]));
    assert.match(byIndex.get(0)!, /wix is preferred to nullsoft/);
    assert.match(byIndex.get(1)!, /x86 is a fallback/);
    assert.match(byIndex.get(2)!, /arm64 installer; x64 was asked/);
    assert.match(byIndex.get(4)!, /unsupported for Win32: a zip holding a portable app/);
  });

  it("MinimumOSVersion → the oldest Windows release Intune offers at or above it", async () => {
    const r = await showProduct(source, "Microsoft.PowerToys");
    assert.equal(r.definition!.requirements!.minimumWindowsRelease, "1803"); // MinimumOSVersion 10.0.17134.0
  });
});
