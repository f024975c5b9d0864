import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { OwnershipStamp } from "../app-definition/stamp.js";
import { stampNotes } from "../app-definition/stamp.js";
import { isPublisherError } from "../errors.js";
import { ALL_USERS_TARGET, GROUP_TARGET } from "../targeting/assignments.js";
import type { MobileAppAssignmentWire, Win32LobAppWire } from "../wire/graph.js";
import { resolveDefinitionId } from "./find.js";
import type { OwnedApp, TenantApp } from "./plan.js";
import { classifyTenantApps } from "./plan.js";
import type { RollbackFacts } from "./rollback.js";
import { passedVersions, planRollback, selectVersions } from "./rollback.js";

const HASH = `sha256:${"a".repeat(64)}`;
const ESP_TYPE = "#microsoft.graph.windows10EnrollmentCompletionPageConfiguration";

function version(n: number, stamp: Partial<OwnershipStamp> = {}, committed = true): TenantApp {
  return {
    id: `app-${n}`,
    displayName: "Contoso Notes",
    createdDateTime: `2026-01-0${n}T00:00:00Z`,
    committedContentVersion: committed ? "1" : null,
    notes: stampNotes("", { id: "notes", version: `${n}.0.0`, contentHash: HASH, ...stamp }),
  };
}

const assignment = (target: string, groupId?: string): MobileAppAssignmentWire => ({
  intent: "required",
  target: { "@odata.type": target as "#microsoft.graph.groupAssignmentTarget", ...(groupId ? { groupId } : {}) },
  settings: null,
});

function facts(apps: TenantApp[], to?: string, over: Partial<RollbackFacts> = {}): RollbackFacts {
  const tenant = classifyTenantApps(apps);
  const { current, target } = selectVersions(tenant, "notes", to);
  return {
    definitionId: "notes",
    mine: tenant.owned,
    current,
    target,
    assignments: new Map(),
    names: {},
    espProfiles: [],
    currentRelationships: [],
    ...over,
  };
}

const code = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    assert.ok(isPublisherError(e), String(e));
    return `${e.code}: ${e.message}`;
  }
  return "no error";
};

describe("rollback planning", () => {
  it("finds the definition by id, app id or name; an unknown one lists our definition ids", () => {
    const apps = [version(1), version(2)];
    const tenant = classifyTenantApps(apps);
    const wire = apps as unknown as Win32LobAppWire[];
    assert.equal(resolveDefinitionId(tenant, wire, "notes"), "notes");
    assert.equal(resolveDefinitionId(tenant, wire, "APP-2"), "notes");
    assert.equal(resolveDefinitionId(tenant, wire, "contoso notes"), "notes");
    assert.match(
      code(() => resolveDefinitionId(tenant, wire, "paint")),
      /^AppNotFound: .*"paint"\. Definition ids in the tenant: notes\./,
    );
  });

  it("rolls back to the newest previous version with content, or the one named; nothing to roll back to is said", () => {
    const apps = [version(1), version(2, {}, false), version(3)];
    const tenant = classifyTenantApps(apps);
    assert.equal(selectVersions(tenant, "notes", undefined).target.app.id, "app-1", "2.0.0 has no content");
    assert.match(
      code(() => selectVersions(tenant, "notes", "2.0.0")),
      /^NoContent: /,
    );
    assert.match(
      code(() => selectVersions(tenant, "notes", "9.0.0")),
      /^VersionNotFound: notes has no version "9\.0\.0"/,
    );
    assert.match(
      code(() => selectVersions(classifyTenantApps([version(1)]), "notes", undefined)),
      /^NothingToRollBack: /,
    );
  });

  it("moves the whole set to the target (its own kept), swaps ESP, marks passed versions, warns of what stays", () => {
    // 1.0.0 ← 2.0.0 ← 3.0.0 (current): rolling back to 1.0.0 passes over 2.0.0.
    const apps = [version(1), version(2), version(3, { targets: ["0000aaaa"], esp: ["0000bbbb"] })];
    const pilot = assignment(GROUP_TARGET, "pilot");
    const users = assignment(ALL_USERS_TARGET);
    const f = facts(apps, "1.0.0", {
      assignments: new Map([
        ["app-3", [pilot]],
        ["app-1", [users]],
        ["app-2", [users]],
      ]),
      names: { groups: new Map([["pilot", "Pilot devices"]]) },
      espProfiles: [
        { "@odata.type": ESP_TYPE, id: "esp-1", displayName: "Kiosk ESP", selectedMobileAppIds: ["APP-3", "other"] },
        { "@odata.type": ESP_TYPE, id: "esp-2", displayName: "Office ESP", selectedMobileAppIds: ["app-2"] },
      ],
      currentRelationships: [
        {
          "@odata.type": "#microsoft.graph.mobileAppDependency",
          targetId: "tool",
          targetDisplayName: "Contoso Tool",
          targetType: "parent",
        },
      ],
    });
    assert.deepEqual(
      passedVersions(f.mine, f.current, f.target).map((o: OwnedApp) => o.app.id),
      ["app-2"],
    );
    const w = planRollback(f);
    assert.deepEqual(
      w.plan.assignments.map((a) => `${a.appId} ${a.action} ${a.label}`),
      [
        "app-1 add required: group Pilot devices",
        "app-1 keep required: all users",
        "app-3 remove required: group Pilot devices",
      ],
    );
    assert.deepEqual(w.targetBody?.length, 2, "the union: the current app's set and the target's own");
    assert.equal(w.clearCurrent, true);
    assert.deepEqual(w.plan.esp, [{ profileId: "esp-1", displayName: "Kiosk ESP", add: ["app-1"], remove: ["app-3"] }]);
    assert.deepEqual(
      w.plan.stamps.map((s) => [s.appId, s.rolledBack, s.targets, s.esp]),
      [
        ["app-1", false, ["0000aaaa"], ["0000bbbb"]],
        ["app-2", true, [], []],
        ["app-3", true, [], []],
      ],
    );
    const warnings = w.plan.warnings.join("\n");
    assert.match(warnings, /"Office ESP" lists app-2 \(notes 2\.0\.0\), a version this rollback passes over/);
    assert.match(warnings, /notes 2\.0\.0 \(app app-2\), a version this rollback passes over, keeps its 1 assignment/);
    assert.match(warnings, /Contoso Tool \(tool\) depends on app-3 .* and still installs it/);
  });

  it("ESP not readable: a warning naming the permission; the target already current: only its stamp", () => {
    const apps = [version(1), version(2)];
    const w = planRollback(facts(apps, undefined, { espProfiles: undefined }));
    assert.match(w.plan.warnings.join(), /were not checked: .* grant DeviceManagementServiceConfig\.ReadWrite\.All/);
    assert.equal(w.targetBody, undefined, "nothing to assign");
    assert.equal(w.clearCurrent, false);

    const again = planRollback(facts([version(1), version(2, { rolledBack: true })], "1.0.0"));
    assert.equal(again.plan.alreadyCurrent, true);
    assert.deepEqual(again.plan.stamps, []);
  });
});
