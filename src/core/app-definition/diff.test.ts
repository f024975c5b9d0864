import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { changedProperties } from "./diff.js";
import { appDefinitionSchema } from "./schema.js";
import { testDefinition } from "./testing/definitions.js";
import { toWin32LobAppCreateBody, toWin32LobAppPatchBody } from "./to-graph.js";

const def = testDefinition({
  detection: [
    {
      type: "registry",
      keyPath: "HKLM\\SOFTWARE\\Contoso",
      valueName: "V",
      check: "version",
      operator: "equal",
      value: "1.0.0",
    },
  ],
  requirements: { architectures: ["x64", "arm64"] },
  notes: "Mine",
});
const stamp = { id: "contoso-tool", version: "1.0.0", contentHash: `sha256:${"1".repeat(64)}` };
const assets = { scripts: new Map<string, Uint8Array>() };

/** The app as Graph returns it: read-only properties added, keys reordered, sets in another order. */
function asReturned(): Record<string, unknown> {
  const created = toWin32LobAppCreateBody(def, assets, {
    package: { fileName: "install.intunewin", setupFile: "install.ps1" },
    stamp,
    scopeTagIds: ["0", "5"],
  });
  const json = JSON.parse(JSON.stringify(created)) as Record<string, unknown>;
  const reversed = Object.fromEntries(Object.entries(json).reverse());
  return {
    ...reversed,
    id: "6f1c…",
    createdDateTime: "2026-01-01T00:00:00Z",
    publishingState: "published",
    applicableArchitectures: "arm64,x64",
    roleScopeTagIds: ["5", "0"],
    detectionRules: (json.detectionRules as Record<string, unknown>[]).map((r) =>
      Object.fromEntries(Object.entries(r).reverse()),
    ),
    informationUrl: undefined,
  };
}

describe("changedProperties", () => {
  it("finds nothing to change in the app we created", () => {
    const patch = toWin32LobAppPatchBody(def, assets, { stamp, scopeTagIds: ["0", "5"] });
    assert.deepEqual(changedProperties(patch, asReturned()), []);
  });

  it("names what differs", () => {
    const patch = toWin32LobAppPatchBody(def, assets, { stamp, scopeTagIds: ["0"] });
    const actual = {
      ...asReturned(),
      notes: "Mine (edited)",
      installExperience: { runAsAccount: "user", deviceRestartBehavior: "basedOnReturnCode", maxRunTimeInMinutes: 60 },
    };
    assert.deepEqual(changedProperties(patch, actual), ["notes", "installExperience", "roleScopeTagIds"]);
  });

  it("sees a changed rule and a new version's stamp", () => {
    const next = appDefinitionSchema.parse({ ...def, version: "1.1.0" });
    const patch = toWin32LobAppPatchBody(next, assets, {
      stamp: { ...stamp, version: "1.1.0" },
      scopeTagIds: ["0", "5"],
    });
    assert.deepEqual(changedProperties(patch, asReturned()), ["displayVersion", "notes"]);
  });

  it("compares the icon only when Graph returned it", () => {
    const icon = { type: "image/png" as const, bytes: Buffer.from("89504e470d0a1a0a", "hex") };
    const patch = toWin32LobAppPatchBody(def, { ...assets, icon }, { stamp, scopeTagIds: ["0", "5"] });
    assert.deepEqual(changedProperties(patch, asReturned()), []);
    assert.deepEqual(changedProperties(patch, { ...asReturned(), largeIcon: null }), ["largeIcon"]);
    assert.deepEqual(changedProperties(patch, { ...asReturned(), largeIcon: { ...patch.largeIcon } }), []);
  });
});

/**
 * The app as real Graph returns it: every property of the type with its default (what the create never set too),
 * `@odata.type` and default members on nested objects, empty strings read back as null.
 */
function serverShaped(): Record<string, unknown> {
  const app = asReturned();
  const experience = app["installExperience"] as Record<string, unknown>;
  return {
    ...app,
    owner: null,
    developer: null,
    lastModifiedDateTime: "2026-01-02T00:00:00Z",
    uploadState: 1,
    isAssigned: false,
    dependentAppCount: 0,
    supersedingAppCount: 0,
    supersededAppCount: 0,
    committedContentVersion: "1",
    size: 1234,
    largeIcon: null,
    allowedArchitectures: null,
    minimumSupportedOperatingSystem: null,
    activeInstallScript: null,
    activeUninstallScript: null,
    installExperience: {
      "@odata.type": "#microsoft.graph.win32LobAppInstallExperience",
      inUseBehavior: null,
      ...experience,
    },
    returnCodes: (app["returnCodes"] as Record<string, unknown>[]).map((c) => ({
      "@odata.type": "#microsoft.graph.win32LobAppReturnCode",
      ...c,
    })),
    msiInformation: null,
    requirementRules: null,
  };
}

describe("changedProperties against the app as Graph returns it", () => {
  const patch = () => toWin32LobAppPatchBody(def, assets, { stamp, scopeTagIds: ["0", "5"] });

  it("finds nothing to change: server defaults, nested @odata.type and default members are not differences", () => {
    assert.deepEqual(changedProperties(patch(), serverShaped()), []);
    // in-use detection off, either way Graph spells it
    const experience = serverShaped()["installExperience"] as Record<string, unknown>;
    const notEnabled = { ...serverShaped(), installExperience: { ...experience, inUseBehavior: "notEnabled" } };
    assert.deepEqual(changedProperties(patch(), notEnabled), []);
    // `none` in the architecture flags is Graph's zero, not an architecture
    assert.deepEqual(changedProperties(patch(), { ...serverShaped(), applicableArchitectures: "none,x64,arm64" }), []);
  });

  it("still sees what the definition sets, at any depth (and only that: inUseBehavior is not the definition's)", () => {
    const experience = serverShaped()["installExperience"] as Record<string, unknown>;
    const rules = serverShaped()["detectionRules"] as Record<string, unknown>[];
    const cases: [Record<string, unknown>, string][] = [
      [{ installExperience: { ...experience, maxRunTimeInMinutes: 61 } }, "installExperience"],
      [{ detectionRules: [{ ...rules[0], detectionValue: "1.0.1" }] }, "detectionRules"],
      [{ detectionRules: [...rules, rules[0]] }, "detectionRules"],
      [
        { detectionRules: [{ ...rules[0], "@odata.type": "#microsoft.graph.win32LobAppFileSystemDetection" }] },
        "detectionRules",
      ],
      [{ returnCodes: [] }, "returnCodes"],
      [{ owner: "Someone" }, "owner"],
      [
        { requirementRules: [{ "@odata.type": "#microsoft.graph.win32LobAppRegistryRequirement" }] },
        "requirementRules",
      ],
    ];
    for (const [change, name] of cases)
      assert.deepEqual(changedProperties(patch(), { ...serverShaped(), ...change }), [name], JSON.stringify(change));
    const inUse = { ...serverShaped(), installExperience: { ...experience, inUseBehavior: "fail" } };
    assert.deepEqual(changedProperties(patch(), inUse), []);
  });
});
