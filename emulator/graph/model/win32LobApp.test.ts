// Sections (§) cited here: docs/reference/graph-win32-upload.md, and docs/reference/intunewin-format.md §1.4.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  NO_DETECTION_RULE,
  READ_ONLY_PROPERTIES,
  WIN32_LOB_APP_TYPE,
  validateCommitBody,
  validateContentFileCreate,
  validateMobileAppCreate,
  validateMobileAppPatch,
  type ValidationProblem,
} from "./win32LobApp.js";
import { fileSystemDetection, sevenZipAppBody } from "../../testing/publish.js";

const API = "microsoft.management.services.api.";
const g = (t: string): string => `#microsoft.graph.${t}`;

const app = sevenZipAppBody;
const fileDetection = fileSystemDetection;

const script = Buffer.from("if (Test-Path C:\\x) { Write-Output 'found' }", "utf8").toString("base64");

function scriptDetection(): Record<string, unknown> {
  return {
    "@odata.type": g("win32LobAppPowerShellScriptDetection"),
    enforceSignatureCheck: false,
    runAs32Bit: false,
    scriptContent: script,
  };
}

function productCodeDetection(): Record<string, unknown> {
  return {
    "@odata.type": g("win32LobAppProductCodeDetection"),
    productCode: "{23170F69-40C1-2702-2408-000001000000}",
    productVersionOperator: "greaterThanOrEqual",
    productVersion: "24.08",
  };
}

function registryRequirement(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    "@odata.type": g("win32LobAppRegistryRequirement"),
    check32BitOn64System: false,
    keyPath: "HKEY_LOCAL_MACHINE\\Software\\X",
    valueName: "Version",
    detectionType: "version",
    operator: "greaterThanOrEqual",
    detectionValue: "1.0",
    ...overrides,
  };
}

function fileRule(ruleType: "detection" | "requirement"): Record<string, unknown> {
  return {
    "@odata.type": g("win32LobAppFileSystemRule"),
    ruleType,
    path: "C:\\Program Files\\X",
    fileOrFolderName: "x.exe",
    check32BitOn64System: false,
    operationType: "exists",
    operator: "notConfigured",
    comparisonValue: null,
  };
}

/** Exactly one problem, with this code, a message containing `fragment`, and (when given) this target. */
function assertOne(problems: ValidationProblem[], code: string, fragment: string, target?: string): void {
  assert.equal(problems.length, 1, JSON.stringify(problems, null, 2));
  const [p] = problems;
  assert.equal(p!.code, code, p!.message);
  assert.ok(p!.message.includes(fragment), `${JSON.stringify(p!.message)} lacks ${JSON.stringify(fragment)}`);
  if (target !== undefined) assert.equal(p!.target, target);
}

function assertValid(problems: ValidationProblem[]): void {
  assert.deepEqual(problems, []);
}

const MODEL = "ModelValidationFailure";
const BAD = "BadRequest";

describe("validateMobileAppCreate", () => {
  it("accepts the §2.1 minimal EXE body", () => {
    assertValid(validateMobileAppCreate(app()));
  });

  it("requires a JSON object", () => {
    assertOne(validateMobileAppCreate([app()]), BAD, "'StartArray'");
    assertOne(validateMobileAppCreate(undefined), BAD, "Empty Payload");
  });

  describe("@odata.type (§4 item 3)", () => {
    it("is required", () => {
      const body = app();
      delete body["@odata.type"];
      assertOne(validateMobileAppCreate(body), MODEL, `abstract type '${API}mobileApp'`, "@odata.type");
    });
    it("must resolve to a known type", () => {
      assertOne(validateMobileAppCreate(app({ "@odata.type": g("win32LobAppX") })), MODEL, "could not be resolved");
    });
    it("must be win32LobApp", () => {
      assertOne(
        validateMobileAppCreate(app({ "@odata.type": g("mobileAppContentFile") })),
        MODEL,
        `specified its type as '${API}mobileAppContentFile', but the type specified in the metadata is '${API}win32LobApp'`,
      );
    });
  });

  describe("properties must exist on their type (§2.1, §4 item 5)", () => {
    it("rejects an unknown top-level property, naming it", () => {
      assertOne(
        validateMobileAppCreate(app({ version: "1.0" })),
        MODEL,
        `The property 'version' does not exist on type '${API}win32LobApp'`,
        "version",
      );
    });
    it("accepts the extra runAs32bit / runAs32Bit keys the real service takes (§2.1)", () => {
      assertValid(validateMobileAppCreate(app({ runAs32bit: false, runAs32Bit: false })));
    });
    it("rejects unknown properties of nested complex types", () => {
      const body = app({ installExperience: { runAsAccount: "system", deviceRestartBehavior: "allow", timeout: 5 } });
      assertOne(
        validateMobileAppCreate(body),
        MODEL,
        `The property 'timeout' does not exist on type '${API}win32LobAppInstallExperience'`,
        "installExperience.timeout",
      );
    });
    it("reproduces IntuneWin32App issue 181 for a requirement without @odata.type", () => {
      const body = app({
        requirementRules: [{ applicableArchitectures: "x64", minimumSupportedWindowsRelease: "1909" }],
      });
      assertOne(
        validateMobileAppCreate(body),
        MODEL,
        `The property 'applicableArchitectures' does not exist on type '${API}win32LobAppRequirement'`,
      );
    });
    it("rejects an unknown property on a concrete rule type", () => {
      const body = app({ detectionRules: [fileDetection({ version: "1" })] });
      assertOne(
        validateMobileAppCreate(body),
        MODEL,
        `'version' does not exist on type '${API}win32LobAppFileSystemDetection'`,
        "detectionRules[0].version",
      );
    });
    it("accepts read-only properties (ignored by the server, §4 item 7) but type-checks them", () => {
      assert.ok(READ_ONLY_PROPERTIES.includes("publishingState"));
      assertValid(validateMobileAppCreate(app({ id: "x", size: 0, publishingState: "notPublished" })));
      assertOne(
        validateMobileAppCreate(app({ publishingState: "done" })),
        MODEL,
        "Requested value 'done' was not found.",
      );
    });
  });

  describe("JSON types", () => {
    it("strings", () => {
      assertValid(validateMobileAppCreate(app({ description: null })));
      assertOne(
        validateMobileAppCreate(app({ displayName: 7 })),
        MODEL,
        "Cannot convert the literal '7' to the expected type 'Edm.String'.",
        "displayName",
      );
    });
    it("booleans, not nullable", () => {
      assertValid(validateMobileAppCreate(app({ isFeatured: true })));
      assertOne(validateMobileAppCreate(app({ isFeatured: "false" })), MODEL, "expected type 'Edm.Boolean'");
      assertOne(
        validateMobileAppCreate(app({ isFeatured: null })),
        MODEL,
        "A null value was found for the property named 'isFeatured', which has the expected type 'Edm.Boolean[Nullable=False]'",
      );
    });
    it("Int32 integers", () => {
      assertValid(validateMobileAppCreate(app({ minimumMemoryInMB: 2048, minimumCpuSpeedInMHz: null })));
      assertOne(
        validateMobileAppCreate(app({ minimumMemoryInMB: 1.5 })),
        MODEL,
        "'1.5' to the expected type 'Edm.Int32'",
      );
      const big = app({ returnCodes: [{ returnCode: 2 ** 31, type: "failed" }] });
      assertOne(validateMobileAppCreate(big), MODEL, "'Edm.Int32'", "returnCodes[0].returnCode");
    });
    it("collections", () => {
      assertOne(
        validateMobileAppCreate(app({ returnCodes: { returnCode: 0, type: "success" } })),
        MODEL,
        "'StartObject' node was found when reading from the JSON reader. A 'StartArray' node was expected.",
      );
      assertOne(
        validateMobileAppCreate(app({ detectionRules: null })),
        MODEL,
        "A null value was found for the property named 'detectionRules'",
      );
    });
    it("roleScopeTagIds are strings", () => {
      assertValid(validateMobileAppCreate(app({ roleScopeTagIds: ["0", "12"] })));
      assertOne(validateMobileAppCreate(app({ roleScopeTagIds: [0] })), MODEL, "'Edm.String'", "roleScopeTagIds[0]");
    });
  });

  describe("required properties (§4 item 4)", () => {
    for (const name of ["displayName", "fileName"]) {
      it(`requires ${name}`, () => {
        const body = app();
        delete body[name];
        assertOne(validateMobileAppCreate(body), BAD, `The property '${name}' is required`, name);
        assertOne(validateMobileAppCreate(app({ [name]: "  " })), BAD, `'${name}' is required`);
      });
    }
    it("requires the UNCONFIRMED ones by default, and not when relaxed", () => {
      const body = app({ installExperience: { deviceRestartBehavior: "allow" } });
      delete body.setupFilePath;
      const problems = validateMobileAppCreate(body);
      assert.deepEqual(
        problems.map((p) => [p.code, p.target]),
        [
          [BAD, "setupFilePath"],
          [BAD, "installExperience.runAsAccount"],
        ],
      );
      assertValid(validateMobileAppCreate(body, { requireUnconfirmed: false }));
    });
  });

  describe("detection rules (§2.1, §2.2, §4 items 4–5)", () => {
    it("requires at least one detection rule, with the service's message", () => {
      const body = app();
      delete body.detectionRules;
      assertOne(validateMobileAppCreate(body), BAD, NO_DETECTION_RULE);
      assert.equal(NO_DETECTION_RULE, "The Win32LobApp must have at least one detection rule specified.");
      assertOne(validateMobileAppCreate(app({ detectionRules: [] })), BAD, NO_DETECTION_RULE);
    });

    it("accepts each detection type", () => {
      for (const rule of [fileDetection(), scriptDetection(), productCodeDetection()]) {
        assertValid(validateMobileAppCreate(app({ detectionRules: [rule] })));
      }
      const registry = { ...registryRequirement(), "@odata.type": g("win32LobAppRegistryDetection") };
      assertValid(validateMobileAppCreate(app({ detectionRules: [registry] })));
    });

    it("rejects a requirement type inside detectionRules (IntuneWin32App issue 136)", () => {
      assertOne(
        validateMobileAppCreate(app({ detectionRules: [registryRequirement()] })),
        MODEL,
        `A value was encountered that has a type name that is incompatible with the metadata. The value specified its type as '${API}win32LobAppRegistryRequirement', but the type specified in the metadata is '${API}win32LobAppDetection'.`,
        "detectionRules[0].@odata.type",
      );
    });

    it("rejects a detection type inside requirementRules", () => {
      assertValid(validateMobileAppCreate(app({ requirementRules: [registryRequirement()] })));
      assertOne(
        validateMobileAppCreate(app({ requirementRules: [fileDetection()] })),
        MODEL,
        `'${API}win32LobAppFileSystemDetection', but the type specified in the metadata is '${API}win32LobAppRequirement'`,
      );
    });

    it("rejects an unknown rule type and a rule without @odata.type", () => {
      assertOne(
        validateMobileAppCreate(
          app({ detectionRules: [fileDetection({ "@odata.type": g("win32LobAppFileDetection") })] }),
        ),
        MODEL,
        "A type named 'microsoft.graph.win32LobAppFileDetection' could not be resolved by the model",
      );
      const untyped = fileDetection();
      delete untyped["@odata.type"];
      assertOne(
        validateMobileAppCreate(app({ detectionRules: [untyped] })),
        MODEL,
        `'path' does not exist on type '${API}win32LobAppDetection'`,
      );
    });

    it("allows one PowerShell detection rule, alone", () => {
      assertValid(validateMobileAppCreate(app({ detectionRules: [scriptDetection()] })));
      assertOne(
        validateMobileAppCreate(app({ detectionRules: [scriptDetection(), scriptDetection()] })),
        BAD,
        "Only one PowerShell script detection rule is allowed.",
      );
      assertOne(
        validateMobileAppCreate(app({ detectionRules: [fileDetection(), scriptDetection()] })),
        BAD,
        "'Manually configure detection rules' or 'Use a custom detection script'",
      );
    });

    it("allows several manual rules but one product-code rule", () => {
      assertValid(
        validateMobileAppCreate(app({ detectionRules: [fileDetection(), productCodeDetection(), fileDetection()] })),
      );
      assertOne(
        validateMobileAppCreate(app({ detectionRules: [productCodeDetection(), productCodeDetection()] })),
        BAD,
        "product code detection rule can be added only once",
      );
    });

    it("requires each rule's key fields", () => {
      assertOne(
        validateMobileAppCreate(app({ detectionRules: [fileDetection({ path: null })] })),
        BAD,
        "The property 'path' is required on win32LobAppFileSystemDetection",
        "detectionRules[0].path",
      );
    });

    it("checks scriptContent is base64", () => {
      const bad = { ...scriptDetection(), scriptContent: "Test-Path C:\\x" };
      assertOne(
        validateMobileAppCreate(app({ detectionRules: [bad] })),
        MODEL,
        "'scriptContent' is not valid base64",
        "detectionRules[0].scriptContent",
      );
    });
  });

  describe("unified rules (§2.2, §4 item 4)", () => {
    function withRules(rules: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> {
      const body = app({ rules, ...extra });
      delete body.detectionRules;
      return body;
    }

    it("accepts rules with a detection rule", () => {
      assertValid(validateMobileAppCreate(withRules([fileRule("detection"), fileRule("requirement")])));
    });

    it("rejects rules together with detectionRules, even empty (IntuneGet PR 203)", () => {
      assertOne(
        validateMobileAppCreate(app({ rules: [] })),
        BAD,
        "'rules' and 'detectionRules' cannot be used together",
      );
      assertOne(
        validateMobileAppCreate(withRules([fileRule("detection")], { requirementRules: [] })),
        BAD,
        "'rules' and 'requirementRules' cannot be used together",
      );
    });

    it("requires a detection rule among rules", () => {
      assertOne(validateMobileAppCreate(withRules([fileRule("requirement")])), BAD, NO_DETECTION_RULE);
    });

    it("refuses the product-code rule as a requirement", () => {
      const productRule = (ruleType: string) => ({
        "@odata.type": g("win32LobAppProductCodeRule"),
        ruleType,
        productCode: "{23170F69-40C1-2702-2408-000001000000}",
        productVersionOperator: "notConfigured",
        productVersion: null,
      });
      assertValid(validateMobileAppCreate(withRules([productRule("detection")])));
      assertOne(
        validateMobileAppCreate(withRules([fileRule("detection"), productRule("requirement")])),
        BAD,
        "not supported as a requirement rule",
        "rules[1]",
      );
    });

    it("applies the PowerShell rules to detection rules in `rules`", () => {
      const scriptRule = {
        "@odata.type": g("win32LobAppPowerShellScriptRule"),
        ruleType: "detection",
        enforceSignatureCheck: false,
        runAs32Bit: false,
        scriptContent: script,
        operationType: "notConfigured",
        operator: "notConfigured",
        comparisonValue: null,
      };
      assertValid(validateMobileAppCreate(withRules([scriptRule, fileRule("requirement")])));
      assertOne(
        validateMobileAppCreate(withRules([scriptRule, fileRule("detection")])),
        BAD,
        "'Use a custom detection script'",
      );
    });

    it("rejects a legacy type inside rules, and a bad ruleType", () => {
      assertOne(
        validateMobileAppCreate(withRules([fileDetection()])),
        MODEL,
        `but the type specified in the metadata is '${API}win32LobAppRule'`,
      );
      assertOne(
        validateMobileAppCreate(withRules([{ ...fileRule("detection"), ruleType: "Detection" }])),
        MODEL,
        "Requested value 'Detection' was not found.",
      );
    });
  });

  describe("enums, spelled exactly (§2.1, §2.2, §4 item 6)", () => {
    const cases: [string, Record<string, unknown>, Record<string, unknown>, string][] = [
      [
        "operator",
        app({
          detectionRules: [fileDetection({ operator: "equal", detectionType: "version", detectionValue: "1.0" })],
        }),
        app({ detectionRules: [fileDetection({ operator: "equals" })] }),
        "equals",
      ],
      [
        "registry detectionType",
        app({ requirementRules: [registryRequirement({ detectionType: "integer" })] }),
        app({ requirementRules: [registryRequirement({ detectionType: "int64" })] }),
        "int64",
      ],
      [
        "runAsAccount",
        app({ installExperience: { runAsAccount: "user", deviceRestartBehavior: "allow" } }),
        app({ installExperience: { runAsAccount: "System", deviceRestartBehavior: "allow" } }),
        "System",
      ],
      [
        "deviceRestartBehavior",
        app({ installExperience: { runAsAccount: "system", deviceRestartBehavior: "basedOnReturnCode" } }),
        app({ installExperience: { runAsAccount: "system", deviceRestartBehavior: "reboot" } }),
        "reboot",
      ],
      [
        "returnCodes type",
        app({ returnCodes: [{ returnCode: 1, type: "failed" }] }),
        app({ returnCodes: [{ returnCode: 1, type: "error" }] }),
        "error",
      ],
      [
        "msiInformation packageType",
        app({
          msiInformation: {
            productCode: "{X}",
            productVersion: "1.0",
            upgradeCode: null,
            requiresReboot: false,
            packageType: "dualPurpose",
            productName: "X",
            publisher: "Y",
          },
        }),
        app({ msiInformation: { productCode: "{X}", packageType: "perDevice" } }),
        "perDevice",
      ],
      [
        "applicableArchitectures",
        app({ applicableArchitectures: "x64,x86,arm64" }),
        app({ applicableArchitectures: "x64,x32" }),
        "x32",
      ],
      [
        "allowedArchitectures",
        app({ applicableArchitectures: "none", allowedArchitectures: "x64,arm64" }),
        app({ allowedArchitectures: "amd64" }),
        "amd64",
      ],
    ];
    for (const [name, valid, invalid, literal] of cases) {
      it(name, () => {
        assertValid(validateMobileAppCreate(valid));
        assertOne(validateMobileAppCreate(invalid), MODEL, `Requested value '${literal}' was not found.`);
      });
    }
  });

  describe("values (§2.1, §4 item 6)", () => {
    it("allowedArchitectures takes only x86, x64 and arm64 combinations, or null", () => {
      assertValid(validateMobileAppCreate(app({ allowedArchitectures: null })));
      assertOne(validateMobileAppCreate(app({ allowedArchitectures: "x64,arm" })), BAD, "does not support 'arm'");
    });
    it("minimumSupportedWindowsRelease rejects v10_* literals", () => {
      assertValid(validateMobileAppCreate(app({ minimumSupportedWindowsRelease: "1903" })));
      assertValid(validateMobileAppCreate(app({ minimumSupportedWindowsRelease: "Windows11_23H2" })));
      assertOne(
        validateMobileAppCreate(app({ minimumSupportedWindowsRelease: "v10_1903" })),
        BAD,
        "'v10_1903' is not a valid minimumSupportedWindowsRelease value.",
      );
    });
    it("accepts the legacy minimumSupportedOperatingSystem object, strictly", () => {
      assertValid(validateMobileAppCreate(app({ minimumSupportedOperatingSystem: { v10_1607: true } })));
      assertOne(
        validateMobileAppCreate(app({ minimumSupportedOperatingSystem: { v11_0: true } })),
        MODEL,
        `'v11_0' does not exist on type '${API}windowsMinimumOperatingSystem'`,
      );
    });
    it("maxRunTimeInMinutes is 1–1440", () => {
      const minutes = (n: number) =>
        app({ installExperience: { runAsAccount: "system", deviceRestartBehavior: "allow", maxRunTimeInMinutes: n } });
      assertValid(validateMobileAppCreate(minutes(1440)));
      assertValid(validateMobileAppCreate(minutes(1)));
      assertOne(
        validateMobileAppCreate(minutes(1441)),
        BAD,
        "between 1 and 1440; it is 1441",
        "installExperience.maxRunTimeInMinutes",
      );
      assertOne(validateMobileAppCreate(minutes(0)), BAD, "it is 0");
    });
    it("largeIcon is a mimeContent with a type and base64 value", () => {
      const png = Buffer.from([0x89, 0x50, 0x4e, 0x47]).toString("base64");
      assertValid(validateMobileAppCreate(app({ largeIcon: { type: "image/png", value: png } })));
      assertValid(
        validateMobileAppCreate(app({ largeIcon: { "@odata.type": g("mimeContent"), type: "image/png", value: png } })),
      );
      assertValid(validateMobileAppCreate(app({ largeIcon: null })));
      assertOne(
        validateMobileAppCreate(app({ largeIcon: { type: "image/png", value: "not base64!" } })),
        MODEL,
        "'Edm.Binary'",
        "largeIcon.value",
      );
      assertOne(validateMobileAppCreate(app({ largeIcon: { value: png } })), BAD, "largeIcon.type is required");
      assertOne(
        validateMobileAppCreate(app({ largeIcon: { type: "image/png", value: png, size: 4 } })),
        MODEL,
        `'size' does not exist on type '${API}mimeContent'`,
      );
      assertOne(
        validateMobileAppCreate(app({ largeIcon: { "@odata.type": g("mimeType"), type: "image/png", value: png } })),
        MODEL,
        "could not be resolved",
      );
    });
  });
});

describe("validateMobileAppPatch (§2.8, §4 item 3, §3 item 11)", () => {
  it("accepts the committedContentVersion PATCH (with largeIcon, §2.8 quirk)", () => {
    assertValid(
      validateMobileAppPatch({ "@odata.type": WIN32_LOB_APP_TYPE, committedContentVersion: "1" }, WIN32_LOB_APP_TYPE),
    );
    const icon = { "@odata.type": g("mimeContent"), type: "image/png", value: "iVBORw==" };
    assertValid(
      validateMobileAppPatch(
        { "@odata.type": WIN32_LOB_APP_TYPE, committedContentVersion: "1", largeIcon: icon },
        WIN32_LOB_APP_TYPE,
      ),
    );
  });
  it("requires @odata.type, failing as Graph does", () => {
    assertOne(
      validateMobileAppPatch({ committedContentVersion: "1" }, WIN32_LOB_APP_TYPE),
      MODEL,
      "Exception has been thrown by the target of an invocation.",
    );
  });
  it("requires @odata.type to equal the stored type", () => {
    assertOne(
      validateMobileAppPatch({ "@odata.type": g("windowsMobileMSI"), displayName: "x" }, WIN32_LOB_APP_TYPE),
      MODEL,
      `specified its type as '${API}windowsMobileMSI', but the type specified in the metadata is '${API}win32LobApp'`,
    );
    assertValid(
      validateMobileAppPatch({ "@odata.type": g("windowsMobileMSI"), displayName: "x" }, g("windowsMobileMSI")),
    );
  });
  it("rejects categories", () => {
    assertOne(
      validateMobileAppPatch({ "@odata.type": WIN32_LOB_APP_TYPE, categories: [] }, WIN32_LOB_APP_TYPE),
      MODEL,
      `Cannot apply PATCH to navigation property 'categories' on entity type '${API}mobileApp'.`,
    );
  });
  it("applies the model and rule checks to the properties present", () => {
    assertValid(
      validateMobileAppPatch(
        { "@odata.type": WIN32_LOB_APP_TYPE, detectionRules: [scriptDetection()] },
        WIN32_LOB_APP_TYPE,
      ),
    );
    assertOne(
      validateMobileAppPatch({ "@odata.type": WIN32_LOB_APP_TYPE, detectionRules: [] }, WIN32_LOB_APP_TYPE),
      BAD,
      NO_DETECTION_RULE,
    );
    assertOne(
      validateMobileAppPatch({ "@odata.type": WIN32_LOB_APP_TYPE, displayName: null }, WIN32_LOB_APP_TYPE),
      BAD,
      "'displayName' is required",
    );
    assertOne(
      validateMobileAppPatch({ "@odata.type": WIN32_LOB_APP_TYPE, setupFile: "x" }, WIN32_LOB_APP_TYPE),
      MODEL,
      "'setupFile' does not exist",
    );
    assertOne(
      validateMobileAppPatch(
        { "@odata.type": WIN32_LOB_APP_TYPE, installExperience: { runAsAccount: "admin" } },
        WIN32_LOB_APP_TYPE,
      ),
      MODEL,
      "Requested value 'admin' was not found.",
    );
  });
});

describe("validateContentFileCreate (§2.4, §4 item 10)", () => {
  const file = (overrides: Record<string, unknown> = {}) => ({
    "@odata.type": g("mobileAppContentFile"),
    name: "IntunePackage.intunewin",
    size: 22160,
    sizeEncrypted: 22224,
    manifest: null,
    isDependency: false,
    ...overrides,
  });

  it("accepts the §2.4 body, with or without @odata.type", () => {
    assertValid(validateContentFileCreate(file()));
    assertValid(validateContentFileCreate({ name: "a.intunewin", size: 1083, sizeEncrypted: 1136 }));
  });
  it("requires name, size and sizeEncrypted", () => {
    for (const name of ["name", "size", "sizeEncrypted"]) {
      const body: Record<string, unknown> = file();
      delete body[name];
      assertOne(validateContentFileCreate(body), BAD, `'${name}' is required`, name);
    }
  });
  it("type-checks sizes and manifest", () => {
    assertOne(validateContentFileCreate(file({ size: "22160" })), MODEL, "'22160' to the expected type 'Edm.Int64'");
    assertOne(validateContentFileCreate(file({ manifest: "<xml/>" })), MODEL, "'Edm.Binary'", "manifest");
    assertOne(validateContentFileCreate(file({ isFrameworkFile: 0 })), MODEL, "'Edm.Boolean'");
    assertOne(
      validateContentFileCreate(file({ fileName: "x" })),
      MODEL,
      `'fileName' does not exist on type '${API}mobileAppContentFile'`,
    );
  });
  it("checks size ≥ 0 and sizeEncrypted ≥ 64", () => {
    assertOne(validateContentFileCreate(file({ size: -1, sizeEncrypted: 64 })), BAD, "size must not be negative");
    assertOne(
      validateContentFileCreate(file({ size: 0, sizeEncrypted: 48 })),
      BAD,
      "sizeEncrypted must be at least 64",
    );
    assertValid(validateContentFileCreate(file({ size: 0, sizeEncrypted: 64 })));
  });
  it("checks sizeEncrypted against §1.4's formula, unless switched off", () => {
    assertOne(
      validateContentFileCreate(file({ sizeEncrypted: 22240 })),
      BAD,
      "a ProfileVersion1 payload of 22160 bytes is 22224 bytes",
    );
    assertValid(validateContentFileCreate(file({ sizeEncrypted: 22240 }), { checkEncryptedSize: false }));
    assertValid(validateContentFileCreate(file({ size: 3078, sizeEncrypted: 3136 })));
  });
  it("checks the maximum content size", () => {
    assertValid(validateContentFileCreate(file(), { maxContentFileSizeInBytes: 22224 }));
    assertOne(
      validateContentFileCreate(file(), { maxContentFileSizeInBytes: 22223 }),
      BAD,
      "exceeds the maximum content file size of 22223 bytes",
    );
  });
});

describe("validateCommitBody (§2.7, §4 item 16)", () => {
  // docs/reference/intunewin-format.md §1.4's synthetic vector, as Detection.xml strings.
  const info = {
    encryptionKey: "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
    macKey: "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=",
    initializationVector: "QEFCQ0RFRkdISUpLTE1OTw==",
    mac: "HNKD7T6lcy1AswVzvt2PIWKur0A69pBYJDG+zFZjRaY=",
    profileIdentifier: "ProfileVersion1",
    fileDigest: "YnT6XD27WEQVqmgR/empVDSX39a1JigM6ivPAz4qBak=",
    fileDigestAlgorithm: "SHA256",
  };

  it("accepts the body with or without the fileEncryptionInfo annotation", () => {
    assertValid(validateCommitBody({ fileEncryptionInfo: info }));
    assertValid(validateCommitBody({ fileEncryptionInfo: { "@odata.type": g("fileEncryptionInfo"), ...info } }));
  });
  it("requires fileEncryptionInfo and each of its fields", () => {
    assertOne(validateCommitBody({}), BAD, "'fileEncryptionInfo' is required");
    const { mac: _mac, ...noMac } = info;
    assertOne(
      validateCommitBody({ fileEncryptionInfo: noMac }),
      BAD,
      "'fileEncryptionInfo.mac' is required",
      "fileEncryptionInfo.mac",
    );
  });
  it("rejects unknown parameters and properties", () => {
    assertOne(
      validateCommitBody({ fileEncryptionInfo: info, size: 1 }),
      MODEL,
      "'size' in the request payload is not a valid parameter",
    );
    assertOne(
      validateCommitBody({ fileEncryptionInfo: { ...info, digest: "x" } }),
      MODEL,
      `'digest' does not exist on type '${API}fileEncryptionInfo'`,
    );
  });
  it("rejects non-base64 binaries synchronously", () => {
    assertOne(
      validateCommitBody({ fileEncryptionInfo: { ...info, macKey: "%%%" } }),
      MODEL,
      "'%%%' to the expected type 'Edm.Binary'",
    );
  });
  it("leaves decoded lengths and literals to the commit-time check (commitFileFailed, not 400)", () => {
    assertValid(
      validateCommitBody({
        fileEncryptionInfo: { ...info, initializationVector: "AAAA", profileIdentifier: "ProfileVersion2" },
      }),
    );
  });
});
