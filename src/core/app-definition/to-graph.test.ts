// Every rule type mapped to the body Graph expects; the emulator's strict validator is the judge (tests may import
// the emulator; src/ never does).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { validateMobileAppCreate, validateMobileAppPatch } from "../../../emulator/graph/model/win32LobApp.js";
import type { DetectionRuleWire, MsiInformationWire, RequirementRuleWire } from "../wire/graph.js";
import { AppDefinitionError } from "./errors.js";
import type { AppDefinitionInput } from "./schema.js";
import { WINDOWS_RELEASES } from "./schema.js";
import { readStamp } from "./stamp.js";
import { testDefinition } from "./testing/definitions.js";
import type { DefinitionAssets } from "./to-graph.js";
import { msiInformationFromDetectionXml, toWin32LobAppCreateBody, toWin32LobAppPatchBody } from "./to-graph.js";

const DETECT_PS1 = "if (Test-Path 'C:\\x') { Write-Output 'ok' }\n";
const REQUIRE_PS1 = "Write-Output (Get-CimInstance Win32_OperatingSystem).Version\n";
const assets: DefinitionAssets = {
  scripts: new Map([
    ["scripts/detect.ps1", Buffer.from(DETECT_PS1)],
    ["scripts/require.ps1", Buffer.from(REQUIRE_PS1)],
  ]),
};
const stamp = { id: "contoso-tool", version: "1.2.3", contentHash: `sha256:${"0f".repeat(32)}` };
const pkg = { fileName: "install.intunewin", setupFile: "install.ps1" };
const WIN32 = "#microsoft.graph.win32LobApp";

function definition(extra: Partial<AppDefinitionInput> = {}) {
  return testDefinition({
    version: "1.2.3",
    install: { command: "powershell.exe -File install.ps1" },
    uninstall: { command: "powershell.exe -File uninstall.ps1" },
    ...extra,
  });
}

/** Create and PATCH bodies for the definition; both must pass the emulator's validation. */
function bodies(extra: Partial<AppDefinitionInput>, msiInformation?: MsiInformationWire) {
  const def = definition(extra);
  const create = toWin32LobAppCreateBody(def, assets, { package: { ...pkg, msiInformation }, stamp });
  assert.deepEqual(validateMobileAppCreate(create), [], JSON.stringify(create, null, 1));
  const patch = toWin32LobAppPatchBody(def, assets, { stamp, msiInformation });
  assert.deepEqual(validateMobileAppPatch(patch, WIN32), [], JSON.stringify(patch, null, 1));
  const patchWithContent = toWin32LobAppPatchBody(def, assets, {
    package: { ...pkg, msiInformation },
    stamp,
  });
  assert.deepEqual(validateMobileAppPatch(patchWithContent, WIN32), []);
  return { create, patch };
}

function detection(
  rule: NonNullable<AppDefinitionInput["detection"]>[number],
  msi?: MsiInformationWire,
): DetectionRuleWire {
  const { create, patch } = bodies({ detection: [rule] }, msi);
  assert.deepEqual(patch.detectionRules, create.detectionRules);
  assert.equal(create.detectionRules?.length, 1);
  return create.detectionRules![0]!;
}

type RequirementInput = NonNullable<NonNullable<AppDefinitionInput["requirements"]>["rules"]>[number];
function requirement(rule: RequirementInput): RequirementRuleWire {
  const { create } = bodies({ requirements: { rules: [rule] } });
  assert.equal(create.requirementRules?.length, 1);
  return create.requirementRules![0]!;
}

const FS = "#microsoft.graph.win32LobAppFileSystemDetection";
const REG = "#microsoft.graph.win32LobAppRegistryDetection";
const b64 = (s: string) => Buffer.from(s).toString("base64");

describe("detection rules → Graph", () => {
  const file = { type: "file", path: "%ProgramFiles%\\Contoso", fileOrFolderName: "tool.exe" } as const;
  const fileWire = {
    "@odata.type": FS,
    path: "%ProgramFiles%\\Contoso",
    fileOrFolderName: "tool.exe",
    check32BitOn64System: false,
  };

  it("file exists", () => {
    assert.deepEqual(detection(file), {
      ...fileWire,
      detectionType: "exists",
      operator: "notConfigured",
      detectionValue: null,
    });
  });
  it("file or folder does not exist (32-bit view)", () => {
    assert.deepEqual(detection({ ...file, check: "doesNotExist", check32BitOn64System: true }), {
      ...fileWire,
      check32BitOn64System: true,
      detectionType: "doesNotExist",
      operator: "notConfigured",
      detectionValue: null,
    });
  });
  it("file version", () => {
    assert.deepEqual(detection({ ...file, check: "version", operator: "greaterThanOrEqual", value: "1.2.3.4" }), {
      ...fileWire,
      detectionType: "version",
      operator: "greaterThanOrEqual",
      detectionValue: "1.2.3.4",
    });
  });
  it("file modified date (ISO date → yyyy-MM-ddTHH:mm:ss.000Z)", () => {
    assert.deepEqual(detection({ ...file, check: "modifiedDate", operator: "greaterThan", value: "2024-05-01" }), {
      ...fileWire,
      detectionType: "modifiedDate",
      operator: "greaterThan",
      detectionValue: "2024-05-01T00:00:00.000Z",
    });
  });
  it("file created date with an offset", () => {
    assert.deepEqual(
      detection({ ...file, check: "createdDate", operator: "lessThan", value: "2024-05-01T12:30:00+02:00" }),
      { ...fileWire, detectionType: "createdDate", operator: "lessThan", detectionValue: "2024-05-01T10:30:00.000Z" },
    );
  });
  it("file size in MB", () => {
    assert.deepEqual(detection({ ...file, check: "sizeInMB", operator: "greaterThan", value: 10 }), {
      ...fileWire,
      detectionType: "sizeInMB",
      operator: "greaterThan",
      detectionValue: "10",
    });
  });

  const reg = { type: "registry", keyPath: "HKEY_LOCAL_MACHINE\\SOFTWARE\\Contoso\\Tool" } as const;
  const regWire = {
    "@odata.type": REG,
    keyPath: "HKEY_LOCAL_MACHINE\\SOFTWARE\\Contoso\\Tool",
    check32BitOn64System: false,
  };

  it("registry key exists", () => {
    assert.deepEqual(detection(reg), {
      ...regWire,
      valueName: null,
      detectionType: "exists",
      operator: "notConfigured",
      detectionValue: null,
    });
  });
  it("registry value does not exist", () => {
    assert.deepEqual(detection({ ...reg, valueName: "Legacy", check: "doesNotExist" }), {
      ...regWire,
      valueName: "Legacy",
      detectionType: "doesNotExist",
      operator: "notConfigured",
      detectionValue: null,
    });
  });
  it("registry string comparison", () => {
    assert.deepEqual(detection({ ...reg, valueName: "Channel", check: "string", operator: "equal", value: "stable" }), {
      ...regWire,
      valueName: "Channel",
      detectionType: "string",
      operator: "equal",
      detectionValue: "stable",
    });
  });
  it("registry integer comparison", () => {
    assert.deepEqual(
      detection({
        ...reg,
        valueName: "Build",
        check: "integer",
        operator: "greaterThanOrEqual",
        value: "42",
        check32BitOn64System: true,
      }),
      {
        ...regWire,
        check32BitOn64System: true,
        valueName: "Build",
        detectionType: "integer",
        operator: "greaterThanOrEqual",
        detectionValue: "42",
      },
    );
  });
  it("registry version comparison", () => {
    assert.deepEqual(
      detection({ ...reg, valueName: "Version", check: "version", operator: "lessThanOrEqual", value: "1.2" }),
      {
        ...regWire,
        valueName: "Version",
        detectionType: "version",
        operator: "lessThanOrEqual",
        detectionValue: "1.2",
      },
    );
  });

  const code = "{23170F69-40C1-2702-2408-000001000000}";
  it("MSI product code", () => {
    assert.deepEqual(detection({ type: "msi", productCode: code }), {
      "@odata.type": "#microsoft.graph.win32LobAppProductCodeDetection",
      productCode: code,
      productVersionOperator: "notConfigured",
      productVersion: null,
    });
  });
  it("MSI product code with a version comparison", () => {
    assert.deepEqual(detection({ type: "msi", productCode: code, operator: "greaterThanOrEqual", value: "24.08" }), {
      "@odata.type": "#microsoft.graph.win32LobAppProductCodeDetection",
      productCode: code,
      productVersionOperator: "greaterThanOrEqual",
      productVersion: "24.08",
    });
  });
  it("MSI product code taken from the packaged MSI", () => {
    const msi = msiInformationFromDetectionXml({
      Name: "7-Zip 24.08 (x64 edition)",
      MsiInfo: {
        MsiProductCode: code,
        MsiProductVersion: "24.08.00.0",
        MsiUpgradeCode: "{23170F69-40C1-2702-0000-000004000000}",
        MsiExecutionContext: "System",
        MsiRequiresReboot: false,
        MsiPublisher: "Igor Pavlov",
      },
    });
    assert.deepEqual(msi, {
      productCode: code,
      productVersion: "24.08.00.0",
      upgradeCode: "{23170F69-40C1-2702-0000-000004000000}",
      requiresReboot: false,
      packageType: "perMachine",
      productName: "7-Zip 24.08 (x64 edition)",
      publisher: "Igor Pavlov",
    });
    assert.deepEqual(detection({ type: "msi" }, msi), {
      "@odata.type": "#microsoft.graph.win32LobAppProductCodeDetection",
      productCode: code,
      productVersionOperator: "notConfigured",
      productVersion: null,
    });
    const create = toWin32LobAppCreateBody(definition({ detection: [{ type: "msi" }] }), assets, {
      package: { ...pkg, msiInformation: msi },
      stamp,
    });
    assert.deepEqual(create.msiInformation, msi);
  });
  it("MSI rule without a product code on a non-MSI package names the field", () => {
    const def = definition({ detection: [{ type: "msi" }] });
    assert.throws(
      () => toWin32LobAppCreateBody(def, assets, { package: pkg, stamp }),
      (e: unknown) => e instanceof AppDefinitionError && e.problems[0]?.path.join(".") === "detection.0.productCode",
    );
  });
  it("PowerShell script (base64 of the file's bytes, signature and 32-bit options)", () => {
    assert.deepEqual(
      detection({ type: "script", script: "scripts/detect.ps1", enforceSignatureCheck: true, runAs32Bit: true }),
      {
        "@odata.type": "#microsoft.graph.win32LobAppPowerShellScriptDetection",
        enforceSignatureCheck: true,
        runAs32Bit: true,
        scriptContent: b64(DETECT_PS1),
      },
    );
  });
});

describe("requirement rules → Graph", () => {
  it("file requirement", () => {
    assert.deepEqual(
      requirement({
        type: "file",
        path: "%SystemRoot%\\System32",
        fileOrFolderName: "msedge.dll",
        check: "version",
        operator: "greaterThan",
        value: "120.0",
      }),
      {
        "@odata.type": "#microsoft.graph.win32LobAppFileSystemRequirement",
        path: "%SystemRoot%\\System32",
        fileOrFolderName: "msedge.dll",
        check32BitOn64System: false,
        detectionType: "version",
        operator: "greaterThan",
        detectionValue: "120.0",
      },
    );
  });
  it("registry requirement", () => {
    assert.deepEqual(
      requirement({
        type: "registry",
        keyPath: "HKLM\\SOFTWARE\\Policies\\Contoso",
        valueName: "Ring",
        check: "integer",
        operator: "equal",
        value: 2,
      }),
      {
        "@odata.type": "#microsoft.graph.win32LobAppRegistryRequirement",
        keyPath: "HKLM\\SOFTWARE\\Policies\\Contoso",
        valueName: "Ring",
        check32BitOn64System: false,
        detectionType: "integer",
        operator: "equal",
        detectionValue: "2",
      },
    );
  });
  it("script requirement, every output type", () => {
    const cases: [RequirementInput, string][] = [
      [{ type: "script", script: "scripts/require.ps1", outputType: "string", operator: "equal", value: "ok" }, "ok"],
      [
        { type: "script", script: "scripts/require.ps1", outputType: "integer", operator: "greaterThan", value: 3 },
        "3",
      ],
      [{ type: "script", script: "scripts/require.ps1", outputType: "float", operator: "lessThan", value: 2.5 }, "2.5"],
      [
        {
          type: "script",
          script: "scripts/require.ps1",
          outputType: "version",
          operator: "greaterThanOrEqual",
          value: "10.0.22621",
        },
        "10.0.22621",
      ],
      [
        { type: "script", script: "scripts/require.ps1", outputType: "boolean", operator: "equal", value: true },
        "true",
      ],
      [
        {
          type: "script",
          script: "scripts/require.ps1",
          outputType: "dateTime",
          operator: "greaterThan",
          value: "2024-01-31",
        },
        "2024-01-31T00:00:00.000Z",
      ],
    ];
    for (const [rule, value] of cases) {
      const r = rule as Extract<RequirementInput, { type: "script" }>;
      assert.deepEqual(requirement(rule), {
        "@odata.type": "#microsoft.graph.win32LobAppPowerShellScriptRequirement",
        displayName: "require.ps1",
        enforceSignatureCheck: false,
        runAs32Bit: false,
        runAsAccount: "system",
        scriptContent: b64(REQUIRE_PS1),
        detectionType: r.outputType,
        operator: r.operator,
        detectionValue: value,
      });
    }
  });
  it("script requirement as the user, with a display name", () => {
    const wire = requirement({
      type: "script",
      script: "scripts/require.ps1",
      displayName: "Windows build",
      runAs: "user",
      enforceSignatureCheck: true,
      runAs32Bit: true,
      outputType: "version",
      operator: "greaterThanOrEqual",
      value: "10.0",
    });
    assert.equal(wire["@odata.type"], "#microsoft.graph.win32LobAppPowerShellScriptRequirement");
    assert.deepEqual(
      wire["@odata.type"] === "#microsoft.graph.win32LobAppPowerShellScriptRequirement" && [
        wire.displayName,
        wire.runAsAccount,
        wire.enforceSignatureCheck,
        wire.runAs32Bit,
      ],
      ["Windows build", "user", true, true],
    );
  });
});

describe("app properties → Graph", () => {
  it("maps metadata, install experience, defaults and the stamp", () => {
    const { create } = bodies({
      description: "Notes app",
      notes: "Admin notes",
      owner: "Workplace",
      developer: "Contoso Dev",
      informationUrl: "https://contoso.example/tool",
      privacyUrl: "https://contoso.example/privacy",
      featured: true,
      allowAvailableUninstall: true,
      install: { command: "setup.exe /S", runAs: "user", restartBehavior: "force", maxRunTimeInMinutes: 1440 },
      requirements: {
        minimumWindowsRelease: "Windows11_23H2",
        architectures: ["arm64", "x64"],
        minimumFreeDiskSpaceMB: 500,
        minimumMemoryMB: 4096,
        minimumProcessors: 2,
        minimumCpuSpeedMHz: 2000,
      },
    });
    const { detectionRules: _d, requirementRules: _r, notes, ...rest } = create;
    assert.deepEqual(rest, {
      "@odata.type": WIN32,
      displayName: "Contoso Tool",
      description: "Notes app",
      publisher: "Contoso",
      displayVersion: "1.2.3",
      isFeatured: true,
      informationUrl: "https://contoso.example/tool",
      privacyInformationUrl: "https://contoso.example/privacy",
      owner: "Workplace",
      developer: "Contoso Dev",
      fileName: "install.intunewin",
      setupFilePath: "install.ps1",
      installCommandLine: "setup.exe /S",
      uninstallCommandLine: "powershell.exe -File uninstall.ps1",
      installExperience: { runAsAccount: "user", deviceRestartBehavior: "force", maxRunTimeInMinutes: 1440 },
      returnCodes: [
        { returnCode: 0, type: "success" },
        { returnCode: 1707, type: "success" },
        { returnCode: 3010, type: "softReboot" },
        { returnCode: 1641, type: "hardReboot" },
        { returnCode: 1618, type: "retry" },
      ],
      allowAvailableUninstall: true,
      applicableArchitectures: "x64,arm64",
      minimumSupportedWindowsRelease: "Windows11_23H2",
      minimumFreeDiskSpaceInMB: 500,
      minimumMemoryInMB: 4096,
      minimumNumberOfProcessors: 2,
      minimumCpuSpeedInMHz: 2000,
      msiInformation: null,
    });
    assert.deepEqual(readStamp(notes), { status: "valid", stamp, userNotes: "Admin notes" });
  });

  it("applies the defaults: description, run as system, 60 minutes, x64+x86, 2H20, Intune's return codes", () => {
    const { create } = bodies({});
    assert.equal(create.description, "Contoso Tool");
    assert.deepEqual(create.installExperience, {
      runAsAccount: "system",
      deviceRestartBehavior: "basedOnReturnCode",
      maxRunTimeInMinutes: 60,
    });
    assert.equal(create.applicableArchitectures, "x86,x64");
    assert.equal(create.minimumSupportedWindowsRelease, "2H20");
    assert.equal(create.returnCodes?.length, 5);
    assert.equal(create.isFeatured, false);
    assert.equal(create.informationUrl, null);
    assert.equal(create.largeIcon, undefined);
    assert.equal(create.roleScopeTagIds, undefined);
  });

  it("uses the given return codes instead of the defaults", () => {
    const { create } = bodies({
      returnCodes: [
        { code: 0, type: "success" },
        { code: 19, type: "failed" },
      ],
    });
    assert.deepEqual(create.returnCodes, [
      { returnCode: 0, type: "success" },
      { returnCode: 19, type: "failed" },
    ]);
  });

  it("sends the icon as mimeContent and the resolved scope tag ids", () => {
    const png = Buffer.from("89504e470d0a1a0a0000000d49484452", "hex");
    const def = definition({});
    const create = toWin32LobAppCreateBody(
      def,
      { ...assets, icon: { type: "image/png", bytes: png } },
      {
        package: pkg,
        stamp,
        scopeTagIds: ["0", "7"],
      },
    );
    assert.deepEqual(validateMobileAppCreate(create), []);
    assert.deepEqual(create.largeIcon, {
      "@odata.type": "#microsoft.graph.mimeContent",
      type: "image/png",
      value: png.toString("base64"),
    });
    assert.deepEqual(create.roleScopeTagIds, ["0", "7"]);
  });

  it("a metadata-only PATCH leaves fileName, setupFilePath and msiInformation alone", () => {
    const { patch } = bodies({});
    assert.equal("fileName" in patch, false);
    assert.equal("setupFilePath" in patch, false);
    assert.equal("msiInformation" in patch, false);
    assert.equal("categories" in patch, false);
    assert.equal(patch["@odata.type"], WIN32);
  });

  it("every Windows release and architecture set we accept is accepted by Graph", () => {
    for (const minimumWindowsRelease of WINDOWS_RELEASES) bodies({ requirements: { minimumWindowsRelease } });
    for (const architectures of [["x86"], ["x64"], ["arm64"], ["x86", "x64", "arm64"]] as const) {
      bodies({ requirements: { architectures: [...architectures] } });
    }
  });

  it("the validator is a real judge: a wrong literal is refused", () => {
    const { create } = bodies({});
    const bad = { ...create, detectionRules: [{ ...create.detectionRules![0]!, operator: "equals" }] };
    assert.notDeepEqual(validateMobileAppCreate(bad), []);
  });
});
