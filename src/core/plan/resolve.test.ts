import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AppDefinitionError } from "../app-definition/errors.js";
import type { DefinitionProblem, FieldPath } from "../app-definition/errors.js";
import type { AppDefinitionInput } from "../app-definition/schema.js";
import { testDefinition } from "../app-definition/testing/definitions.js";
import { stampNotes } from "../app-definition/stamp.js";
import { assignmentSchema } from "../app-definition/targeting-schema.js";
import type { AssignmentFilterWire, EspProfileWire, GroupWire } from "../wire/graph.js";
import type { TenantApp } from "./plan.js";
import { classifyTenantApps } from "./plan.js";
import type { DefinitionSource, GroupLookup, TargetingInput } from "./resolve.js";
import {
  espNeed,
  groupRefs,
  matchByName,
  needsFilters,
  resolveCategories,
  resolveGroup,
  resolveScopeTags,
  resolveTargeting,
  similarNameWords,
} from "./resolve.js";
import { nameWords } from "./suggest.js";

const PILOT = "5a8e1f3c-1d2b-4e6f-8a9b-0c1d2e3f4a5b";
const KIOSKS = "3e4f5a6b-7c8d-4e9f-8a1b-2c3d4e5f6a7b";
const FINANCE_A = "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f";
const FINANCE_B = "2d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f6a";
const WIN11 = "8d1b4c6f-4a5e-4b92-8dce-3f4a5b6c7d8e";
const IOS = "9e2c5d7a-6c7d-4e8f-9a0b-1c2d3e4f5a6b";
const HASH = `sha256:${"a".repeat(64)}`;

const FILTERS: AssignmentFilterWire[] = [
  { id: WIN11, displayName: "Windows 11 only", platform: "windows10AndLater" },
  { id: IOS, displayName: "iOS corporate", platform: "iOS" },
];
const ESP_TYPE = "#microsoft.graph.windows10EnrollmentCompletionPageConfiguration";
const PROFILES: EspProfileWire[] = [
  { "@odata.type": ESP_TYPE, id: "esp-default", displayName: "All users and all devices" },
  { "@odata.type": ESP_TYPE, id: "esp-kiosk", displayName: "Kiosk ESP" },
];

/** A definition as the loader gives it: problems positioned in `file` (assignments in `assignmentFile`). */
function source(
  id: string,
  over: Partial<AppDefinitionInput> = {},
  assignments: Record<string, unknown>[] = [],
  assignmentFile = `${id}.yaml`,
): DefinitionSource {
  const at = (file: string, path: FieldPath, message: string): DefinitionProblem => ({ path, message, file, line: 1 });
  return {
    definition: testDefinition({ id, displayName: id, ...over }),
    assignments: assignments.map((a, i) => ({
      assignment: assignmentSchema.parse(a),
      problem: (field, message) => at(assignmentFile, ["assignments", i, ...field], message),
    })),
    problem: (path, message) => at(`${id}.yaml`, path, message),
  };
}

/** A win32LobApp of the tenant: ours (stamped with `definitionId`) or not. */
function app(id: string, displayName: string, definitionId?: string, version = "1.0.0"): TenantApp {
  return {
    id,
    displayName,
    displayVersion: version,
    createdDateTime: "2026-01-01T00:00:00Z",
    committedContentVersion: "1",
    notes: definitionId === undefined ? "" : stampNotes("", { id: definitionId, version, contentHash: HASH }),
  };
}

/** The problems of a resolution that must fail, as `file path: message`. */
function problemsOf(f: () => unknown): string[] {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof AppDefinitionError, String(e));
    return e.problems.map((p) => `${p.file} ${p.path.join(".")}: ${p.message}`);
  }
  assert.fail("expected an AppDefinitionError");
}

function input(
  definitions: DefinitionSource[],
  groups: GroupWire[] = [],
  apps: TenantApp[] = [],
  over: Partial<TargetingInput> = {},
): TargetingInput {
  // What the use case reads for each reference: by id, or the groups Graph lists under the name.
  const lookups = new Map<string, GroupLookup>();
  for (const ref of groupRefs(definitions)) {
    const byId = groups.find((g) => g.id === ref.toLowerCase());
    const named = groups.filter((g) => g.displayName.toLowerCase() === ref.toLowerCase());
    // As Graph's $search: a word of the name starts with one of the words searched for.
    const words = similarNameWords(ref);
    const similar = groups.filter((g) => nameWords(g.displayName).some((w) => words.some((s) => w.startsWith(s))));
    lookups.set(
      ref.toLowerCase(),
      /^[0-9a-f-]{36}$/i.test(ref) ? { ref, byId: byId ?? null, named } : { ref, named, similar },
    );
  }
  return {
    definitions,
    tenant: classifyTenantApps(apps),
    win32Apps: apps.map((a) => ({ id: a.id, displayName: a.displayName ?? "", displayVersion: "1.0.0" })),
    groups: lookups,
    filters: FILTERS,
    espProfiles: PROFILES,
    ...over,
  };
}

const GROUPS: GroupWire[] = [
  { id: PILOT, displayName: "Intune - Pilot devices" },
  { id: KIOSKS, displayName: "Kiosks" },
  { id: FINANCE_A, displayName: "Finance" },
  { id: FINANCE_B, displayName: "Finance" },
];

describe("matchByName", () => {
  it("compares case-insensitively; of several, the exact spelling wins", () => {
    const items = [
      { id: "1", displayName: "Pilot" },
      { id: "2", displayName: "PILOT" },
      { id: "3", displayName: "Other" },
    ];
    assert.deepEqual(
      matchByName(items, "pilot").map((x) => x.id),
      ["1", "2"],
    );
    assert.deepEqual(
      matchByName(items, "PILOT").map((x) => x.id),
      ["2"],
    );
    assert.deepEqual(
      matchByName(items, "other").map((x) => x.id),
      ["3"],
    );
    assert.deepEqual(matchByName(items, "none"), []);
  });
});

describe("what to read", () => {
  it("groups as written, filters only when named, ESP required, optional (a supersede) or not at all", () => {
    const a = source("a", {}, [{ intent: "required", group: "Kiosks", filter: "Windows 11 only" }]);
    const b = source("b", { updateStrategy: "supersede" }, [{ intent: "available", target: "allUsers" }]);
    assert.deepEqual(groupRefs([a, b]), ["Kiosks"]);
    assert.equal(needsFilters([a, b]), true);
    assert.equal(needsFilters([b]), false);
    assert.equal(espNeed([a]), "none");
    assert.equal(espNeed([a, b]), "optional");
    assert.equal(espNeed([source("c", { enrollmentStatusPages: ["Kiosk ESP"] }), b]), "required");
    assert.deepEqual(similarNameWords("  Intune - Pilot devices, pilot"), ["int", "pil", "dev"]);
  });
});

describe("resolveGroup", () => {
  it("by id, by name, a missing id, an ambiguous name, a missing name with similar ones", () => {
    const pilot = GROUPS[0]!;
    assert.deepEqual(resolveGroup({ ref: PILOT.toUpperCase(), byId: pilot }), pilot);
    assert.deepEqual(resolveGroup({ ref: "intune - pilot devices", named: [pilot] }), pilot);
    // An id no group has, even when a group happens to be named so.
    const unknown = "00000000-0000-4000-8000-000000000000";
    assert.equal(
      resolveGroup({ ref: unknown, byId: null, named: [] }),
      `No group has the id ${unknown} (and none is named so).`,
    );
    assert.deepEqual(resolveGroup({ ref: unknown, byId: null, named: [{ id: PILOT, displayName: unknown }] }), {
      id: PILOT,
      displayName: unknown,
    });
    assert.equal(
      resolveGroup({ ref: "Finance", named: GROUPS.slice(2) }),
      `2 groups are named "Finance": Finance (${FINANCE_A}), Finance (${FINANCE_B}). Use the group's object id instead.`,
    );
    assert.equal(
      resolveGroup({ ref: "Intune - Pilot", named: [], similar: [pilot] }),
      'No group is named "Intune - Pilot"; groups with similar names: "Intune - Pilot devices".',
    );
    assert.equal(resolveGroup({ ref: "Nobody", named: [], similar: [] }), 'No group is named "Nobody".');
  });
});

describe("resolveTargeting", () => {
  it("turns names into assignment bodies with the tenant's ids, and names for labels", () => {
    const d = source("ok", {}, [
      { intent: "required", group: "intune - PILOT devices", filter: "windows 11 ONLY", filterMode: "exclude" },
      { intent: "uninstall", group: KIOSKS.toUpperCase() },
      { intent: "available", target: "allUsers" },
    ]);
    const r = resolveTargeting(input([d], GROUPS));
    const [pilot, kiosks, users] = r.desired[0]!.assignments;
    assert.equal(pilot?.target.groupId, PILOT);
    assert.equal(pilot?.target.deviceAndAppManagementAssignmentFilterId, WIN11);
    assert.equal(pilot?.target.deviceAndAppManagementAssignmentFilterType, "exclude");
    assert.equal(kiosks?.target.groupId, KIOSKS);
    assert.equal(users?.target["@odata.type"], "#microsoft.graph.allLicensedUsersAssignmentTarget");
    assert.equal(r.names.groups?.get(PILOT), "Intune - Pilot devices");
    assert.equal(r.names.filters?.get(WIN11), "Windows 11 only");
    assert.equal(r.desired[0]!.espProfileIds, undefined, "ESP not managed");
    assert.equal(r.desired[0]!.dependencies, undefined, "dependencies not managed");
  });

  it("every unresolvable name is a positioned problem, in field order, a shared file's problem once", () => {
    const shared = [{ intent: "required", group: "Intune - Pilot" }];
    const bad = source(
      "bad-names",
      { enrollmentStatusPages: ["Kiosk", "kiosk esp"] },
      [
        ...shared,
        { intent: "required", group: "Finance" },
        { intent: "available", target: "allUsers", filter: "Windows 12 only" },
        { intent: "required", target: "allDevices", filter: "iOS corporate" },
        { intent: "uninstall", group: "00000000-0000-4000-8000-000000000000" },
      ],
      "bad.targeting.yaml",
    );
    const other = source("bad-names-2", {}, shared, "bad.targeting.yaml");
    assert.deepEqual(
      problemsOf(() => resolveTargeting(input([bad, other], GROUPS))),
      [
        'bad.targeting.yaml assignments.0.group: No group is named "Intune - Pilot"; groups with similar names: "Intune - Pilot devices".',
        `bad.targeting.yaml assignments.1.group: 2 groups are named "Finance": Finance (${FINANCE_A}), Finance (${FINANCE_B}). Use the group's object id instead.`,
        'bad.targeting.yaml assignments.2.filter: The tenant has no assignment filter named "Windows 12 only" (similar names: "Windows 11 only").',
        'bad.targeting.yaml assignments.3.filter: The assignment filter "iOS corporate" is for iOS; a Win32 app takes a Windows 10 and later filter.',
        "bad.targeting.yaml assignments.4.group: No group has the id 00000000-0000-4000-8000-000000000000 (and none is named so).",
        'bad-names.yaml enrollmentStatusPages.0: The tenant has no Enrollment Status Page profile named "Kiosk" (similar names: "Kiosk ESP").',
      ],
    );
  });

  it("one group named once by name and once by id is one target: refused, naming the first assignment", () => {
    const d = source("twice", {}, [
      { intent: "required", group: "Kiosks" },
      { intent: "available", group: KIOSKS },
    ]);
    assert.deepEqual(
      problemsOf(() => resolveTargeting(input([d], GROUPS))),
      [
        `twice.yaml assignments.1.group: "${KIOSKS}" is the group Kiosks (${KIOSKS}), already assigned by assignment 1 ("Kiosks"); Intune takes one assignment per target and app.`,
      ],
    );
  });

  it("ESP profiles by name; two profiles of one name are refused", () => {
    const d = source("esp", { enrollmentStatusPages: ["kiosk esp", "All users and all devices"] });
    assert.deepEqual([...resolveTargeting(input([d])).desired[0]!.espProfileIds!], ["esp-kiosk", "esp-default"]);
    const twice = [...PROFILES, { "@odata.type": ESP_TYPE, id: "esp-kiosk-2", displayName: "Kiosk ESP" }];
    assert.deepEqual(
      problemsOf(() => resolveTargeting(input([d], [], [], { espProfiles: twice }))),
      [
        'esp.yaml enrollmentStatusPages.0: 2 Enrollment Status Page profiles are named "kiosk esp" (esp-kiosk, esp-kiosk-2); rename one in Intune.',
      ],
    );
  });

  it("dependencies: a definition id, a name our versions share, a name of this run, a foreign app by name or id", () => {
    const apps = [
      app("rt-1", "Runtime", "runtime", "1.0.0"),
      app("rt-2", "Runtime", "runtime", "2.0.0"),
      app("vendor", "Vendor Runtime"),
    ];
    const helper = source("helper", { displayName: "Test helper" });
    const tool = source("tool", {
      dependencies: [{ app: "runtime" }, { app: "test helper", type: "detect" }, { app: "vendor runtime" }],
    });
    // "Runtime" is the name both versions of the runtime definition carry; VENDOR is the foreign app's id.
    const other = source("other", { dependencies: [{ app: "RUNTIME" }, { app: "VENDOR" }] });
    const r = resolveTargeting(input([helper, tool, other], [], apps));
    assert.deepEqual(r.desired[1]!.dependencies, [
      { ref: "runtime", type: "autoInstall", definitionId: "runtime" },
      { ref: "test helper", type: "detect", definitionId: "helper" },
      { ref: "vendor runtime", type: "autoInstall", appId: "vendor", displayName: "Vendor Runtime" },
    ]);
    assert.deepEqual(r.desired[2]!.dependencies, [
      // The dependency follows the definition, so its newest version.
      { ref: "RUNTIME", type: "autoInstall", definitionId: "runtime" },
      { ref: "VENDOR", type: "autoInstall", appId: "vendor", displayName: "Vendor Runtime" },
    ]);
  });

  it("dependencies: two foreign apps of one name, or none, are refused with the candidates", () => {
    const apps = [app("v-1", "Vendor Runtime"), app("v-2", "Vendor Runtime"), app("v-3", "Vendor Tools")];
    const d = source("uses-vendor", { dependencies: [{ app: "vendor runtime" }, { app: "Vendor Runtim" }] });
    assert.deepEqual(
      problemsOf(() => resolveTargeting(input([d], [], apps))),
      [
        'uses-vendor.yaml dependencies.0.app: 2 Win32 apps are named "vendor runtime": Vendor Runtime 1.0.0 (v-1), Vendor Runtime 1.0.0 (v-2). Use the app\'s id or a definition id.',
        'uses-vendor.yaml dependencies.1.app: No definition id or Win32 app is named "Vendor Runtim"; similar apps: "Vendor Runtime", "Vendor Tools".',
      ],
    );
  });
});

describe("scope tags and categories", () => {
  const tags = [
    { id: "0", displayName: "Default", isBuiltIn: true },
    { id: "1", displayName: "Europe" },
  ];

  it("scope tags by name, duplicates dropped; an unknown name lists the tenant's", () => {
    const d = source("tagged", { scopeTags: ["europe", "Default", "EUROPE"] });
    assert.deepEqual(resolveScopeTags([d, source("untagged")], tags), new Map([["tagged", ["1", "0"]]]));
    assert.deepEqual(
      problemsOf(() => resolveScopeTags([source("bad-tag", { scopeTags: ["Default", "Asia"] })], tags)),
      ['bad-tag.yaml scopeTags.1: The tenant has no scope tag named "Asia" (it has: Default, Europe).'],
    );
    const twice = [...tags, { id: "2", displayName: "europe" }, { id: "3", displayName: "Europe" }];
    assert.match(
      problemsOf(() => resolveScopeTags([source("t", { scopeTags: ["EUROPE"] })], twice)).join(),
      /3 scope tags are named "EUROPE" \(1, 2, 3\); rename one in Intune/,
    );
  });

  it("categories by name for every definition ([] when none), duplicates dropped; unknown names listed", () => {
    const known = [
      { id: "c1", displayName: "Business" },
      { id: "c2", displayName: "Productivity" },
    ];
    const d = source("cat", { categories: ["productivity", "Business", "PRODUCTIVITY"] });
    assert.deepEqual(
      resolveCategories([d, source("none")], known),
      new Map([
        [
          "cat",
          [
            { id: "c2", displayName: "Productivity" },
            { id: "c1", displayName: "Business" },
          ],
        ],
        ["none", []],
      ]),
    );
    assert.deepEqual(
      problemsOf(() => resolveCategories([source("bad", { categories: ["Games"] })], known)),
      ['bad.yaml categories.0: The tenant has no app category named "Games" (it has: Business, Productivity).'],
    );
  });
});
