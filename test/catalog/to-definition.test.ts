// Manifest → app definition, rule by rule, on small manifests written here (and the corpus where it has the case).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { appDefinitionSchema } from "../../src/core/app-definition/schema.js";
import { isPublisherError } from "../../src/core/errors.js";
import { selectInstaller } from "../../src/catalog/select.js";
import type { MsiFacts } from "../../src/catalog/to-definition.js";
import {
  definitionIdFor,
  installerFileName,
  minimumRelease,
  msiSwitchProblem,
  toDefinition,
} from "../../src/catalog/to-definition.js";
import type { WingetManifest } from "../../src/catalog/winget/manifest.js";
import { parseManifest } from "../../src/catalog/winget/manifest.js";

const SHA = "C".repeat(64);

/** A 1.12.0 singleton with one installer, whose lines (indented under `- `) are given. */
function manifest(installer: string[], root: string[] = [], id = "Contoso.App"): WingetManifest {
  const text = [
    `PackageIdentifier: ${id}`,
    "PackageVersion: 2.5.0",
    "PackageLocale: en-US",
    "Publisher: Contoso",
    "PackageName: Contoso App",
    "License: MIT",
    "ShortDescription: An app.",
    ...root,
    "Installers:",
    ...installer.map((l, i) => (i === 0 ? `- ${l}` : `  ${l}`)),
    "ManifestType: singleton",
    "ManifestVersion: 1.12.0",
    "",
  ].join("\n");
  return parseManifest([{ name: "app.yaml", bytes: Buffer.from(text) }]);
}

const base = (type: string, arch = "x64") => [
  `Architecture: ${arch}`,
  `InstallerType: ${type}`,
  "InstallerUrl: https://contoso.example/app.exe",
  `InstallerSha256: ${SHA}`,
];

function convert(m: WingetManifest, msi?: MsiFacts, options: Parameters<typeof selectInstaller>[1] = {}) {
  const plan = toDefinition(m, {
    selection: selectInstaller(m, options),
    sourceLabel: "test",
    ...(msi ? { msi } : {}),
  });
  appDefinitionSchema.parse(plan.definition);
  return plan;
}

const refusedWith = (code: string, pattern: RegExp) => (e: unknown) =>
  isPublisherError(e) && e.kind === "input" && e.code === code && pattern.test(e.message) && e.hint !== undefined;

describe("install commands", () => {
  it("an exe without Silent takes SilentWithProgress; with neither it is refused", () => {
    const p = convert(
      manifest([...base("exe"), "InstallerSwitches:", "  SilentWithProgress: /passive", "  Custom: /norestart"]),
    );
    assert.equal(p.definition.install.command, '"app.exe" /passive /norestart');
    assert.ok(p.explanations.some((e) => /SilentWithProgress is used/.test(e)));
    assert.throws(
      () => convert(manifest(base("exe"))),
      refusedWith("NoSilentSwitches", /Silent and SilentWithProgress switches are not specified/),
    );
  });

  it("installer switches override the root's key by key; Custom comes last", () => {
    const p = convert(
      manifest(
        [...base("inno"), "InstallerSwitches:", "  Custom: /TASKS=desktopicon"],
        ["InstallerSwitches:", "  Silent: /VERYSILENT", "  Custom: /ROOT"],
      ),
    );
    assert.equal(p.definition.install.command, '"app.exe" /VERYSILENT /TASKS=desktopicon');
  });

  it("refuses switches that fetch from the network, use winget's tokens, or change msiexec's operation", () => {
    assert.throws(
      () =>
        convert(manifest([...base("nullsoft"), "InstallerSwitches:", "  Custom: /CONFIG=https://evil.example/c.ini"])),
      refusedWith("UnsafeSwitches", /network address/),
    );
    assert.throws(
      () => convert(manifest([...base("nullsoft"), "InstallerSwitches:", "  Custom: /D=<INSTALLPATH>"])),
      refusedWith("UnsafeSwitches", /<INSTALLPATH>/),
    );
    assert.throws(
      () =>
        convert(
          manifest([...base("msi"), "InstallerSwitches:", "  Custom: /x {00000000-0000-0000-0000-000000000000}"]),
        ),
      refusedWith("UnsafeSwitches", /\/x changes what msiexec does/),
    );
  });

  it("msiexec switches: options and PROPERTY=value only, blocked properties refused (MsiExecArguments rules)", () => {
    assert.equal(
      msiSwitchProblem(
        '/qn /norestart /l*v "C:\\log file.txt" INSTALLDIR="C:\\Program Files\\A" REBOOT=ReallySuppress',
      ),
      undefined,
    );
    assert.match(msiSwitchProblem("TRANSFORMS=evil.mst")!, /blocked MSI property: TRANSFORMS/);
    assert.match(msiSwitchProblem("Patch=x.msp")!, /blocked MSI property: Patch/);
    assert.match(msiSwitchProblem("@INVALID")!, /neither an option nor PROPERTY=value/);
    assert.match(msiSwitchProblem('/qn "unclosed')!, /unclosed quote/);
    assert.match(msiSwitchProblem("/a")!, /changes what msiexec does/);
  });

  it("a zip with a nested installer: extracted, its file run with Windows separators", () => {
    const p = convert(
      manifest([
        ...base("zip"),
        "NestedInstallerType: nullsoft",
        "NestedInstallerFiles:",
        "  - RelativeFilePath: setup/app-setup.exe",
      ]),
    );
    assert.equal(p.definition.install.command, '"setup\\app-setup.exe" /S');
    assert.equal(p.definition.content.setupFile, "setup/app-setup.exe");
    assert.deepEqual(p.content.extract, { archive: "Contoso.App-2.5.0.zip", setupFile: "setup/app-setup.exe" });
  });
});

describe("the MSI's own facts after download", () => {
  const msi = [...base("msi"), "ProductCode: '{11111111-2222-3333-4444-555555555555}'"];

  it("a product code that differs from the manifest's fails: nothing is published", () => {
    assert.throws(
      () => convert(manifest(msi), { productCode: "{99999999-2222-3333-4444-555555555555}", productVersion: "2.5.0" }),
      refusedWith(
        "ProductCodeMismatch",
        /ProductCode is \{99999999-2222-3333-4444-555555555555\}, the manifest says \{11111111/,
      ),
    );
  });

  it("its ProductVersion is what detection compares, explained when it differs from the manifest's", () => {
    const p = convert(manifest(msi), {
      productCode: "{11111111-2222-3333-4444-555555555555}",
      productVersion: "2.5.0.118",
    });
    assert.deepEqual(p.definition.detection, [
      {
        type: "msi",
        productCode: "{11111111-2222-3333-4444-555555555555}",
        operator: "greaterThanOrEqual",
        value: "2.5.0.118",
      },
    ]);
    assert.ok(p.explanations.some((e) => /ProductVersion is 2\.5\.0\.118, the manifest's 2\.5\.0/.test(e)));
  });

  it("a manifest without ProductCode gets an MSI rule and msiexec /x once the MSI is known", () => {
    const m = manifest(base("msi"));
    assert.equal(convert(m).definition.detection[0]!.type, "script");
    const p = convert(m, { productCode: "{abcdefab-2222-3333-4444-555555555555}", productVersion: "2.5" });
    assert.equal(p.definition.uninstall.command, "msiexec /x {ABCDEFAB-2222-3333-4444-555555555555} /qn /norestart");
    assert.equal(p.files.length, 0, "no scripts needed");
  });
});

describe("detection and uninstall without an MSI", () => {
  it("x86 with a ProductCode: a registry rule in the 32-bit view", () => {
    const p = convert(manifest([...base("inno", "x86"), "ProductCode: App_is1"]));
    assert.deepEqual(p.definition.detection, [
      {
        type: "registry",
        keyPath: "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\App_is1",
        valueName: "DisplayVersion",
        check: "version",
        operator: "greaterThanOrEqual",
        value: "2.5.0",
        check32BitOn64System: true,
      },
    ]);
    const uninstall = p.files.find((f) => f.path === "source/uninstall.ps1")!.text;
    assert.match(uninstall, /^\$SilentSwitches = '\/VERYSILENT \/SUPPRESSMSGBOXES \/NORESTART'$/m);
    assert.match(uninstall, /^\$KeyName = 'App_is1'$/m);
  });

  it("a version that is not numeric: a script compares it in winget's order", () => {
    const p = convert(
      manifest([
        ...base("inno", "x86"),
        "ProductCode: App_is1",
        "AppsAndFeaturesEntries:",
        "  - DisplayVersion: 2.5.0-beta",
      ]),
    );
    assert.equal(p.definition.detection[0]!.type, "script");
    assert.match(p.files[0]!.text, /^\$MinimumVersion = '2\.5\.0-beta'$/m);
  });

  it("a ProductCode that cannot be a key name: found by DisplayName instead", () => {
    const p = convert(manifest([...base("nullsoft"), "ProductCode: a\\b"]));
    const script = p.files.find((f) => f.path === "detect.ps1")!.text;
    assert.match(script, /^\$KeyName = ''$/m);
    assert.match(script, /^\$DisplayName = 'Contoso App'$/m);
  });

  it("hostile names reach the scripts only as literals, and the definition still loads", () => {
    const m = manifest(base("nullsoft"), [], "Contoso.App");
    m.defaultLocale.packageName = "App'; Remove-Item -Recurse C:\\ #";
    m.defaultLocale.publisher = "$(Stop-Computer)`";
    const p = convert(m);
    const script = p.files.find((f) => f.path === "detect.ps1")!.text;
    assert.match(script, /^\$DisplayName = 'App''; Remove-Item -Recurse C:\\ #'$/m);
  });
});

describe("return codes, requirements, metadata", () => {
  it("Intune's defaults plus success codes and the ExpectedReturnCodes that change Intune's outcome", () => {
    const p = convert(
      manifest([
        ...base("exe"),
        "InstallerSwitches:",
        "  Silent: /S",
        "InstallerSuccessCodes: [0x80070005]",
        "ExpectedReturnCodes:",
        "  - InstallerReturnCode: 5",
        "    ReturnResponse: packageInUse",
        "  - InstallerReturnCode: 6",
        "    ReturnResponse: rebootRequiredToFinish",
        "  - InstallerReturnCode: 7",
        "    ReturnResponse: diskFull",
      ]),
    );
    const codes = new Map(p.definition.returnCodes!.map((c) => [c.code, c.type]));
    assert.equal(codes.get(-2147024891), "success", "0x80070005 as Windows reports it");
    assert.equal(codes.get(5), "retry");
    assert.equal(codes.get(6), "softReboot");
    assert.equal(codes.has(7), false, "a failure stays a failure");
    assert.equal(codes.get(3010), "softReboot");
  });

  it("MinimumOSVersion → the oldest release Intune offers at or above it; past the list, a build rule", () => {
    assert.equal(minimumRelease(undefined).release, "1607");
    assert.equal(minimumRelease("6.1.7601").release, "1607");
    assert.equal(minimumRelease("10.0.0.0").release, "1607");
    assert.equal(minimumRelease("10.0.17763.0").release, "1809");
    assert.equal(minimumRelease("10.0.17000").release, "1803");
    assert.equal(minimumRelease("10.0.19045").release, "Windows10_22H2");
    assert.equal(minimumRelease("10.0.22000.0").release, "Windows11_21H2");
    const newer = minimumRelease("10.0.26100.0");
    assert.deepEqual([newer.release, newer.build], ["Windows11_23H2", 26100]);
    const p = convert(manifest([...base("nullsoft"), "MinimumOSVersion: 10.0.26100.0"]));
    assert.deepEqual(p.definition.requirements!.rules, [
      {
        type: "registry",
        keyPath: "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion",
        valueName: "CurrentBuildNumber",
        check: "integer",
        operator: "greaterThanOrEqual",
        value: 26100,
      },
    ]);
  });

  it("definition ids: slugs of package ids, suffixed for other architectures and per-user apps, at most 64", () => {
    assert.equal(definitionIdFor("Notepad++.Notepad++"), "notepadpp.notepadpp");
    assert.equal(
      definitionIdFor("Microsoft.VisualStudioCode", "arm64", "user"),
      "microsoft.visualstudiocode-arm64-user",
    );
    const long = definitionIdFor(`${"A".repeat(32)}.${"B".repeat(32)}.${"C".repeat(20)}`, "x86");
    assert.ok(long.length <= 64 && long.endsWith("-x86"), long);
    assert.match(long, /^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?$/);
  });

  it("the download's file name comes from the URL only when it is a safe name of the right type", () => {
    assert.equal(installerFileName("https://a.example/dl/Setup%20App.exe", "A.B", "1", "exe"), "Setup App.exe");
    assert.equal(installerFileName("https://a.example/download?id=3", "A.B", "1", "exe"), "A.B-1.exe");
    assert.equal(installerFileName("https://a.example/%2e%2e%2fevil.msi", "A.B", "1", "msi"), "A.B-1.msi");
    assert.equal(installerFileName("https://a.example/CON.exe", "A.B", "1", "exe"), "A.B-1.exe");
    assert.equal(installerFileName("https://a.example/app.msix", "A.B", "1", "zip"), "A.B-1.zip");
  });

  it("metadata: name, publisher, description, URLs and notes naming the source and package", () => {
    const p = convert(
      manifest(base("nullsoft"), [
        "PackageUrl: https://contoso.example/app",
        "PrivacyUrl: https://contoso.example/privacy",
        "Description: The app.",
      ]),
    );
    const d = p.definition;
    assert.equal(d.displayName, "Contoso App");
    assert.equal(d.publisher, "Contoso");
    assert.equal(d.description, "The app.");
    assert.equal(d.informationUrl, "https://contoso.example/app");
    assert.equal(d.privacyUrl, "https://contoso.example/privacy");
    assert.equal(d.notes, "From the catalog: test, package Contoso.App 2.5.0.");
    const arm = convert(manifest(base("nullsoft", "arm64")), undefined, { architecture: "arm64" });
    assert.equal(arm.definition.displayName, "Contoso App (arm64)");
  });
});
