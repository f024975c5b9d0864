import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { OwnershipStamp } from "../app-definition/stamp.js";
import type { RelationshipRow } from "../targeting/relationships.js";
import { DEPENDENCY_TYPE, SUPERSEDENCE_TYPE } from "../targeting/relationships.js";
import type { RemovalApp, RemovalFacts } from "./removal.js";
import { planRemoval } from "./removal.js";

const HASH = `sha256:${"a".repeat(64)}`;
const stamp = (version: string): OwnershipStamp => ({ id: "tool", version, contentHash: HASH });
const V1: RemovalApp = {
  id: "v1",
  displayName: "Tool",
  displayVersion: "1.0",
  createdDateTime: "2024-01-01T00:00:00Z",
  committedContentVersion: "1",
  stamp: stamp("1.0"),
};
const V2: RemovalApp = {
  id: "v2",
  displayName: "Tool",
  displayVersion: "2.0",
  createdDateTime: "2024-02-01T00:00:00Z",
  committedContentVersion: "1",
  stamp: stamp("2.0"),
};
const OURS: RemovalApp = {
  id: "ours",
  displayName: "Suite",
  displayVersion: "5",
  stamp: { id: "suite", version: "5", contentHash: HASH },
};
const FOREIGN: RemovalApp = { id: "foreign", displayName: "Bundle", displayVersion: "" };

const sup = (targetId: string, targetType: "child" | "parent"): RelationshipRow => ({
  "@odata.type": SUPERSEDENCE_TYPE,
  targetId,
  targetType,
  supersedenceType: "update",
});
const dep = (targetId: string, targetType: "child" | "parent"): RelationshipRow => ({
  "@odata.type": DEPENDENCY_TYPE,
  targetId,
  targetType,
  dependencyType: "autoInstall",
});

function facts(targets: RemovalApp[], over: Partial<RemovalFacts> = {}): RemovalFacts {
  return {
    targets,
    apps: new Map([V1, V2, OURS, FOREIGN].map((a) => [a.id, a])),
    // v2 supersedes v1; "ours" and "foreign" depend on v1; v1 depends on nothing.
    relationships: new Map([
      ["v1", [sup("v2", "parent"), dep("ours", "parent"), dep("foreign", "parent")]],
      ["v2", [sup("v1", "child")]],
      ["ours", [dep("v1", "child"), dep("other", "child")]],
      ["foreign", [dep("v1", "child")]],
    ]),
    assignments: new Map([["v1", ["required: all devices"]]]),
    espProfiles: [
      {
        id: "esp",
        displayName: "ESP",
        "@odata.type": "#microsoft.graph.windows10EnrollmentCompletionPageConfiguration",
        selectedMobileAppIds: ["x", "V1"],
      },
    ],
    unlinkForeign: false,
    ...over,
  };
}

describe("planRemoval", () => {
  it("a superseded version with dependents: our apps' links first (their other links kept), a foreign app's link blocks", () => {
    const p = planRemoval(facts([V1]));
    assert.deepEqual(
      p.relationships.map((r) => [r.appId, r.owner, r.text, r.body.map((b) => b.targetId)]),
      [
        ["ours", "ours", ["depends on (autoInstall) Tool 1.0 (v1)"], ["other"]],
        ["v2", "ours", ["supersedes (update) Tool 1.0 (v1)"], []],
      ],
    );
    assert.deepEqual(
      p.blocked.map((b) => [b.appId, b.owner, b.text]),
      [["foreign", "foreign", ["depends on (autoInstall) Tool 1.0 (v1)"]]],
    );
    assert.deepEqual(p.esp, [{ profileId: "esp", displayName: "ESP", add: [], remove: ["V1"] }]);
    assert.deepEqual(p.assignments, [{ appId: "v1", labels: ["required: all devices"] }]);
    assert.ok(p.warnings.some((w) => w.startsWith("Suite 5 (ours) depends on Tool 1.0 (v1)")));
    assert.ok(p.warnings.some((w) => w.startsWith("tool keeps 1 other version(s); 2.0 (v2) becomes")));
  });

  it("with unlinkForeign the foreign link is removed too, after ours; an app whose listing was not read is rebuilt from the removed app's rows", () => {
    const f = facts([V1], { unlinkForeign: true });
    (f.relationships as Map<string, RelationshipRow[]>).delete("foreign");
    const p = planRemoval(f);
    assert.deepEqual(p.blocked, []);
    assert.deepEqual(
      p.relationships.map((r) => [r.appId, r.owner, r.body]),
      [
        ["ours", "ours", [{ "@odata.type": DEPENDENCY_TYPE, dependencyType: "autoInstall", targetId: "other" }]],
        ["v2", "ours", []],
        ["foreign", "foreign", []],
      ],
    );
  });

  it("every version: links between removed apps are cleared on the removed app, deletes newest first", () => {
    const p = planRemoval(facts([V1, V2], { unlinkForeign: true }));
    assert.deepEqual(
      p.apps.map((a) => [a.appId, a.version]),
      [
        ["v2", "2.0"],
        ["v1", "1.0"],
      ],
    );
    assert.deepEqual(
      p.relationships.map((r) => [r.appId, r.owner]),
      [
        ["ours", "ours"],
        ["foreign", "foreign"],
        ["v2", "removed"],
      ],
    );
    assert.ok(!p.warnings.some((w) => w.includes("keeps")), "no version left");
  });

  it("unreadable ESP profiles: a warning, no ESP change", () => {
    const p = planRemoval(facts([V2], { espProfiles: undefined }));
    assert.deepEqual(p.esp, []);
    assert.ok(p.warnings.some((w) => w.startsWith("Enrollment Status Page profiles were not checked")));
    assert.deepEqual(
      p.relationships.map((r) => [r.appId, r.owner]),
      [["v2", "removed"]],
    );
  });
});
