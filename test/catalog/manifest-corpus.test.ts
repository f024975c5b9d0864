// winget-cli's own parser test data (see the corpus's EXPECTED.md): every good manifest is read with the values
// winget asserts; every bad one about a field we use is refused with a clear message, when read or when converted.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { isPublisherError } from "../../src/core/errors.js";
import { ManifestError } from "../../src/catalog/errors.js";
import { selectInstaller } from "../../src/catalog/select.js";
import { toDefinition } from "../../src/catalog/to-definition.js";
import type { ManifestFile, WingetManifest } from "../../src/catalog/winget/manifest.js";
import { parseManifest } from "../../src/catalog/winget/manifest.js";
import { cliFile, cliFolder, WINGET_CLI_DATA, WINGET_PKGS } from "../support/winget.js";

const files = readdirSync(WINGET_CLI_DATA);

function parse(name: string): WingetManifest {
  return parseManifest([cliFile(name)]);
}

/** What `catalog show` does after reading: choose an installer and build the definition. */
function convert(manifest: WingetManifest) {
  const selection = selectInstaller(manifest);
  return toDefinition(manifest, { selection, sourceLabel: "test" });
}

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(isPublisherError(e), `a PublisherError, not ${String(e)}`);
    assert.equal(e.kind, "input");
    assert.ok(e.hint, "a hint naming the fix");
    assert.ok(!/\n\s+at /.test(e.message), "no stack trace in the message");
    return e.message;
  }
  assert.fail("not refused");
}

describe("winget manifests: every good file of winget-cli parses", () => {
  const good = files.filter((f) =>
    /^(Manifest-Good|Manifest-Encoding-|Manifest-MSIX-in-|ManifestV1.*-Singleton)/.test(f),
  );
  it("covers the files EXPECTED.md lists", () => assert.ok(good.length >= 45, `${good.length} files`));
  for (const f of good)
    it(f, () => {
      const m = parse(f);
      assert.ok(m.installers.length >= 1);
    });
  for (const folder of files.filter((f) => f.startsWith("MultiFileManifestV1")))
    it(`${folder} (multi-file)`, () => {
      const m = parseManifest(cliFolder(folder));
      assert.equal(m.id, "microsoft.msixsdk");
      assert.equal(m.version, "1.7.32");
    });
  it("reads every encoding winget reads (UTF-8 with and without BOM, UTF-16 LE/BE, ANSI)", () => {
    for (const f of files.filter((x) => x.startsWith("Manifest-Encoding-")))
      assert.equal(parse(f).defaultLocale.packageName, "MSIX SDK\u00a9", f);
  });
});

describe("winget manifests: inheritance as winget computes it (VerifyV1ManifestContent)", () => {
  for (const [folder, count] of [
    ["MultiFileManifestV1", 2],
    ["MultiFileManifestV1_2", 3],
    ["MultiFileManifestV1_4", 4],
    ["MultiFileManifestV1_7", 5],
    ["MultiFileManifestV1_12", 7],
    ["MultiFileManifestV1_30", 7],
  ] as const)
    it(`${folder}: ${count} installers, root fields inherited key by key`, () => {
      const m = parseManifest(cliFolder(folder));
      assert.equal(m.installers.length, count);
      const [msix, exe] = m.installers;
      // Installer[0]: msix x86, own switches, scope user, its own MinimumOSVersion and locale.
      assert.equal(msix!.type, "msix");
      assert.equal(msix!.architecture, "x86");
      assert.equal(msix!.scope, "user");
      assert.equal(msix!.locale, "en-GB");
      assert.equal(msix!.minimumOSVersion, "10.0.1.0");
      assert.equal(msix!.declaredSwitches.Silent, "/s");
      assert.equal(msix!.declaredSwitches.Custom, "/c");
      assert.equal(msix!.packageFamilyName, "Microsoft.DesktopAppInstallerPreview_8wekyb3d8bbwe");
      assert.equal(msix!.productCode, undefined, "ProductCode is not inherited by msix");
      assert.deepEqual(msix!.arpEntries, [], "AppsAndFeaturesEntries are not inherited by msix");
      // Installer[1]: exe x64 with its own ProductCode; everything else from the root.
      assert.equal(exe!.type, "exe");
      assert.equal(exe!.architecture, "x64");
      assert.equal(exe!.productCode, "{Bar}");
      assert.equal(exe!.scope, "machine");
      assert.equal(exe!.minimumOSVersion, "10.0.0.0");
      assert.equal(exe!.declaredSwitches.Silent, "/silence");
      assert.equal(exe!.declaredSwitches.SilentWithProgress, "/silentwithprogress");
      assert.equal(exe!.declaredSwitches.Custom, "/custom");
      assert.equal(exe!.packageFamilyName, undefined, "PackageFamilyName is not inherited by exe");
      assert.deepEqual(exe!.successCodes, [1, 0x80070005]);
      if (folder !== "MultiFileManifestV1") {
        assert.equal(exe!.arpEntries[0]!.displayName, "DisplayName");
        assert.deepEqual(
          exe!.expectedReturnCodes.map((r) => [r.code, r.response]),
          [[10, "packageInUse"]],
        );
      }
      assert.deepEqual(
        exe!.dependencies.packages.map((d) => [d.id, d.minimumVersion]),
        [["Microsoft.MsixSdkDep", "1.0.0"]],
      );
    });

  it("switches merge key by key: an installer's Repair joins the root's switches (1.7+)", () => {
    const m = parseManifest(cliFolder("MultiFileManifestV1_7"));
    const exe = m.installers[1]!;
    assert.equal(exe.declaredSwitches.Repair, "/r");
    assert.equal(exe.declaredSwitches.Silent, "/silence");
    const burn = m.installers[4]!;
    assert.equal(burn.type, "burn");
    assert.equal(burn.productCode, "{Bar}");
    assert.equal(burn.declaredSwitches.Silent, "/silence", "the root's Silent, not burn's default");
  });

  it("a zip inherits the nested installer; others never do (1.4+)", () => {
    const m = parseManifest(cliFolder("MultiFileManifestV1_4"));
    const zip = m.installers[3]!;
    assert.equal(zip.type, "zip");
    assert.equal(zip.nestedType, "portable");
    assert.deepEqual(
      zip.nestedFiles.map((f) => f.relativeFilePath),
      ["relativeFilePath1", "relativeFilePath2"],
    );
    assert.equal(m.installers[1]!.nestedType, undefined);
  });

  it("ProductCode and PackageFamilyName reach only the types that use them (SystemReferenceComplex)", () => {
    const m = parse("Manifest-Good-SystemReferenceComplex.yaml");
    const [a, b, c, d] = m.installers;
    assert.equal(a!.packageFamilyName, "Microsoft.DesktopAppInstaller_8wekyb3d8bbwe");
    assert.equal(a!.productCode, undefined);
    assert.equal(b!.productCode, "{Foo}");
    assert.equal(b!.packageFamilyName, undefined);
    assert.equal(c!.packageFamilyName, "Override_8wekyb3d8bbwe");
    assert.equal(d!.productCode, "Override");
  });

  it("preview manifests (0.1.0) map to the same model: Manifest-Good.yaml", () => {
    const m = parse("Manifest-Good.yaml");
    assert.equal(m.id, "microsoft.msixsdk");
    assert.equal(m.version, "1.7.32");
    assert.equal(m.moniker, "msixsdk");
    const [x86, x64] = m.installers;
    assert.equal(x86!.declaredSwitches.Silent, "/s");
    assert.equal(x86!.declaredSwitches.Upgrade, "/u");
    assert.equal(x86!.scope, "user");
    assert.equal(x86!.upgradeBehavior, "install");
    assert.equal(x64!.declaredSwitches.Silent, "/silence", "inherits the root's switches");
    assert.equal(x64!.declaredSwitches.Upgrade, "/update");
    assert.equal(x64!.upgradeBehavior, "uninstallPrevious");
    assert.equal(x64!.productCode, "{Foo}");
    assert.equal(x64!.sha256.slice(-4), "0000");
    assert.ok(
      m.warnings.some((w) => /Channel/.test(w)),
      "Channel: a warning, ignored as winget ignores it",
    );
  });

  it("fills in the type's default switches where the manifest has none (GetDefaultKnownSwitches)", () => {
    const dir = join(WINGET_PKGS, "manifests/n/Notepad++/Notepad++/8.9.8.1");
    const m = parseManifest(readdirSync(dir).map((n) => ({ name: n, bytes: readFileSync(join(dir, n)) })));
    const nsis = m.installers[0]!;
    assert.equal(nsis.type, "nullsoft");
    assert.equal(nsis.declaredSwitches.Silent, undefined);
    assert.equal(nsis.switches.Silent, "/S");
    assert.equal(nsis.switches.InstallLocation, "/D=<INSTALLPATH>");
    const wix = m.installers[3]!;
    assert.equal(wix.switches.Silent, "/quiet /norestart");
    assert.equal(wix.switches.InstallLocation, 'INSTALLFOLDER="<INSTALLPATH>"', "declared wins over the default");
  });
});

/**
 * Every bad file of winget-cli's parser tests (EXPECTED.md table A), with what we do. Refused when read (the
 * manifest is unusable) or when converted (only the installer is: an installer problem, a type Intune's Win32 model
 * cannot take, or switches we will not run); or read without error, for a field we do not use (the reason says why).
 */
const REFUSED_WHEN_READ: Record<string, RegExp> = {
  "Manifest-Bad-ArchInvalid.yaml": /Installers\[0\]\.Architecture: Invalid field value/,
  "Manifest-Bad-ArchMissing.yaml": /Missing required property 'Arch'/,
  "Manifest-Bad-DifferentCase-camelCase.yaml":
    /All field names should be PascalCased: write InstallerType, not installerType/,
  "Manifest-Bad-DifferentCase-lower.yaml": /PascalCased: write InstallerType, not installertype/,
  "Manifest-Bad-DifferentCase-UPPER.yaml": /PascalCased: write InstallerType, not INSTALLERTYPE/,
  "Manifest-Bad-DuplicateKey.yaml": /Duplicate field found in the manifest/,
  "Manifest-Bad-DuplicateKey-DifferentCase.yaml": /Duplicate field found in the manifest/,
  "Manifest-Bad-DuplicateKey-DifferentCase-lower.yaml": /Duplicate field found in the manifest/,
  "Manifest-Bad-IdInvalid.yaml": /PackageIdentifier: Id is Publisher\.Package/,
  "Manifest-Bad-IdMissing.yaml": /Missing required property 'Id'/,
  "Manifest-Bad-InconsistentSha256.yaml": /Unknown field\. \[AppMoniker\]/,
  "Manifest-Bad-InstallersMissing.yaml": /Missing required property 'Installers'/,
  "Manifest-Bad-InstallerTypeInvalid.yaml": /InstallerType: Invalid field value/,
  "Manifest-Bad-InstallerTypeMissing.yaml": /Invalid field value\. \[InstallerType\] is required/,
  "Manifest-Bad-InstallerUniqueness.yaml": /Duplicate installer entry found/,
  "Manifest-Bad-InstallerUniqueness-DefaultScope.yaml": /Duplicate installer entry found/,
  "Manifest-Bad-InstallerUniqueness-DefaultValues.yaml": /Duplicate installer entry found/,
  "Manifest-Bad-InstallerUniqueness-SameLang.yaml": /Duplicate installer entry found/,
  "Manifest-Bad-InvalidLocale.yaml": /PackageLocale: The locale value is not a well formed bcp47 language tag/,
  "Manifest-Bad-InvalidManifestVersionValue.yaml": /property name 'ManifestVersion'/,
  "Manifest-Bad-InvalidUpdateBehavior.yaml": /UpgradeBehavior: Invalid field value/,
  "Manifest-Bad-NameMissing.yaml": /Missing required property 'Name'/,
  "Manifest-Bad-PublisherMissing.yaml": /Missing required property 'Publisher'/,
  "Manifest-Bad-Sha256Invalid.yaml": /InstallerSha256: Sha256 must be a SHA-256 hash/,
  "Manifest-Bad-SwitchInvalid.yaml": /Unknown field\. \[NotASwitch\]/,
  "Manifest-Bad-UnknownProperty.yaml": /Unknown field\. \[Fake\]/,
  "Manifest-Bad-UnsupportedVersion.yaml": /Unsupported ManifestVersion: 1000\.1\.0/,
  "Manifest-Bad-VersionInvalid.yaml": /PackageVersion must not contain/,
  "Manifest-Bad-VersionMissing.yaml": /Missing required property 'Version'/,
  "Manifest-Bad-ApproximateVersionInPackageVersion.yaml": /Approximate version not allowed\. \[PackageVersion\]/,
  "Manifest-Bad-InconsistentMsixBundleInstallerFields.yaml": /PackageIdentifier is 2 to 8 dot-separated parts/,
  "Manifest-Bad-InconsistentSignedMsixBundleInstallerFields.yaml": /PackageIdentifier is 2 to 8 dot-separated parts/,
};

const REFUSED_WHEN_CONVERTED: Record<string, RegExp> = {
  "Manifest-Bad-ApproximateVersionInArpVersion.yaml": /Approximate version not allowed\. \[DisplayVersion\]/,
  "Manifest-Bad-AppsAndFeaturesEntriesOnMSIX.yaml": /does not write to Apps and Features entry/,
  "Manifest-Bad-BlockedMsiProperty.yaml": /blocked MSI property: TRANSFORMS/,
  "Manifest-Bad-DuplicateReturnCode-ExpectedCodes.yaml": /Duplicate installer return code found/,
  "Manifest-Bad-DuplicateReturnCode-SuccessCodes.yaml": /Duplicate installer return code found/,
  "Manifest-Bad-InconsistentMsixInstallerFields.yaml": /not an http\(s\) URL/,
  "Manifest-Bad-InconsistentSignedMsixInstallerFields.yaml": /not an http\(s\) URL/,
  "Manifest-Bad-InstallerTypeExe-NoSilent.yaml":
    /Silent and SilentWithProgress switches are not specified for InstallerType exe/,
  "Manifest-Bad-InstallerTypeExe-NoSilentRoot.yaml": /Silent and SilentWithProgress switches are not specified/,
  "Manifest-Bad-InstallerTypeExeRoot-NoSilent.yaml": /Silent and SilentWithProgress switches are not specified/,
  "Manifest-Bad-InstallerTypeExeRoot-NoSilentRoot.yaml": /Silent and SilentWithProgress switches are not specified/,
  "Manifest-Bad-InstallerTypePortable-InvalidAppsAndFeatures.yaml": /Only zero or one entry for Apps and Features/,
  "Manifest-Bad-InstallerTypePortable-InvalidCommandAlias.yaml":
    /Portable command alias must not point to a location outside/,
  "Manifest-Bad-InstallerTypePortable-InvalidCommands.yaml": /Only zero or one value for Commands/,
  "Manifest-Bad-InstallerTypePortable-InvalidScope.yaml": /a portable app has no installer/,
  "Manifest-Bad-InstallerTypeZip-DuplicateCommandAlias.yaml": /Duplicate portable command alias found/,
  "Manifest-Bad-InstallerTypeZip-DuplicateRelativeFilePath.yaml": /Duplicate relative file path found/,
  "Manifest-Bad-InstallerTypeZip-InvalidPortableCommandAlias.yaml":
    /Portable command alias must not point to a location outside/,
  "Manifest-Bad-InstallerTypeZip-InvalidRelativeFilePath.yaml":
    /Relative file path must not point to a location outside of archive directory/,
  "Manifest-Bad-InstallerTypeZip-MissingRelativeFilePath.yaml": /Required field missing\. \[RelativeFilePath\]/,
  "Manifest-Bad-InstallerTypeZip-MultipleNestedInstallers.yaml": /Only one entry for NestedInstallerFiles/,
  "Manifest-Bad-InstallerTypeZip-NoNestedInstallerFile.yaml": /Required field missing\. \[NestedInstallerFiles\]/,
  "Manifest-Bad-InstallerTypeZip-NoNestedInstallerType.yaml": /Required field missing\. \[NestedInstallerType\]/,
  "Manifest-Bad-InstallerTypeZip-PortableNotExe.yaml": /The file type of the referenced file is not allowed/,
  "Manifest-Bad-InstallerTypeZip-PortableNotExe_Root.yaml": /The file type of the referenced file is not allowed/,
  "Manifest-Bad-InvalidMsiSwitches.yaml": /Contains invalid MSI switches: @INVALID/,
  "Manifest-Bad-MissingMsixInstallerFields.yaml": /not an http\(s\) URL/,
  "Manifest-Bad-MsixInstaller-PackageVersion.yaml": /not an http\(s\) URL/,
  "Manifest-Bad-NetworkAddressInSwitches.yaml": /contains a network address/,
  "Manifest-Bad-NoSupportedPlatforms.yaml": /not an http\(s\) URL/,
  "Manifest-Bad-ProductCodeOnMSIX.yaml": /does not support ProductCode/,
  "Manifest-Bad-Sha256Missing.yaml": /Required field missing\. \[InstallerSha256\]/,
  "Manifest-Bad-UrlInvalid.yaml": /Invalid field value\. \[InstallerUrl\] Value: NotAUrl/,
  "Manifest-Bad-UrlMissing.yaml": /Required field missing\. \[InstallerUrl\]/,
  "InstallFlowTest_MSStore.yaml": /Microsoft Store app/,
};

/** Read and converted: about fields we do not use, or warning-only in winget too. */
const NOT_OURS: Record<string, string> = {
  "Manifest-Bad-Channel-NotSupported.yaml": "Channel is ignored (winget ignores it too); a warning",
  "Manifest-Bad-DuplicateSha256.yaml":
    "one hash for two URLs is a warning in winget; real manifests do it (PuTTY's zip and msi)",
  "Manifest-Bad-LicenseMissing.yaml": "License is not used; a warning",
  "Manifest-Bad-PackageFamilyNameOnMSI.yaml": "PackageFamilyName is not used (MSIX only); a warning, as in winget",
  "Manifest-Bad-InvalidWindowsFeatureName.yaml": "Windows feature dependencies are not mapped to Intune",
  "InstallFlowTest_LicenseAgreement.yaml": "Agreements are not used (verified-publisher field)",
};

describe("winget manifests: every bad file of winget-cli is refused, or documented as not ours", () => {
  it("every bad file is in exactly one table", () => {
    const bad = files.filter((f) => f.startsWith("Manifest-Bad-") || f.startsWith("InstallFlowTest_"));
    for (const f of bad) {
      const n = [REFUSED_WHEN_READ, REFUSED_WHEN_CONVERTED, NOT_OURS].filter((t) => f in t).length;
      assert.equal(n, 1, `${f} is in ${n} tables`);
    }
    assert.equal(Object.keys({ ...REFUSED_WHEN_READ, ...REFUSED_WHEN_CONVERTED, ...NOT_OURS }).length, bad.length);
  });
  for (const [f, expected] of Object.entries(REFUSED_WHEN_READ))
    it(`${f}: refused when read`, () => {
      const message = refusal(() => parse(f));
      assert.match(message, expected);
      assert.match(message, new RegExp(`${f.replace(/[.+]/g, "\\$&")}:\\d+:\\d+: `), "names file:line:column");
    });
  for (const [f, expected] of Object.entries(REFUSED_WHEN_CONVERTED))
    it(`${f}: refused when converted`, () => {
      const m = parse(f);
      assert.match(
        refusal(() => convert(m)),
        expected,
      );
    });
  for (const [f, why] of Object.entries(NOT_OURS))
    it(`${f}: read (${why})`, () => {
      const m = parse(f);
      assert.ok(m.installers.length > 0);
    });
});

describe("winget manifests: multi-file rules (YamlParser.cpp)", () => {
  const v1 = () => cliFolder("MultiFileManifestV1");
  const edit = (fs: ManifestFile[], match: string, from: RegExp, to: string): ManifestFile[] =>
    fs.map((f) =>
      f.name.includes(match)
        ? { ...f, bytes: Buffer.from(Buffer.from(f.bytes).toString("utf8").replace(from, to)) }
        : f,
    );
  const refused = (fs: ManifestFile[], expected: RegExp) => {
    assert.throws(
      () => parseManifest(fs),
      (e: unknown) => e instanceof ManifestError && expected.test(e.message),
    );
  };

  it("refuses a preview manifest among several files", () =>
    refused([cliFile("Manifest-Good.yaml"), ...v1()], /Preview manifest does not support multi file/));
  it("refuses a singleton among several files", () =>
    refused(
      [...v1(), cliFile("ManifestV1-Singleton.yaml")],
      /should not contain file with the particular ManifestType\. \[ManifestType\] Value: singleton/,
    ));
  it("refuses two installer files", () => {
    const fs = v1();
    const installer = fs.find((f) => f.name.includes("Installer"))!;
    refused(
      [...fs, { ...installer, name: "copy.yaml" }],
      /only one file with the particular ManifestType\. \[ManifestType\] Value: installer/,
    );
  });
  it("refuses an inconsistent PackageVersion, naming the file", () =>
    refused(
      edit(v1(), "Installer", /PackageVersion: 1\.7\.32/, "PackageVersion: 1.7.33"),
      /Installer\.yaml:\d+:\d+: PackageVersion: The multi file manifest has inconsistent field values\. \[PackageVersion\] Value: 1\.7\.33/,
    ));
  it("refuses a default locale that disagrees with the version file", () =>
    refused(
      edit(v1(), "DefaultLocale", /PackageLocale: en-US/, "PackageLocale: fr-FR"),
      /DefaultLocale value in version manifest does not match PackageLocale value/,
    ));
  it("refuses an incomplete set", () =>
    refused(
      v1().filter((f) => !f.name.includes("DefaultLocale")),
      /The multi file manifest is incomplete: no defaultLocale file/,
    ));
  it("refuses a field of a later ManifestVersion", () =>
    refused(
      edit(v1(), "Installer", /InstallerSuccessCodes:/, "ElevationRequirement: elevatesSelf\nInstallerSuccessCodes:"),
      /ElevationRequirement is a field of ManifestVersion 1\.1\.0 and later; this manifest declares 1\.0\.0/,
    ));
  it("ignores, with a warning, unknown fields of a ManifestVersion newer than it knows", () => {
    const newer = edit(
      edit(v1(), "", /ManifestVersion: 1\.0\.0/g, "ManifestVersion: 1.99.0"),
      "Installer",
      /InstallerSuccessCodes:/,
      "FutureField: yes\nInstallerSuccessCodes:",
    );
    const m = parseManifest(newer);
    assert.ok(m.warnings.some((w) => /Unknown field FutureField: ignored/.test(w)));
  });
});
