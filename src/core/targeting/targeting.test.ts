import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { assignmentSchema } from "../app-definition/targeting-schema.js";
import type { MobileAppAssignmentWire } from "../wire/graph.js";
import {
  canonicalAssignment,
  carriedAssignments,
  planAssignments,
  targetDigest,
  targetKey,
  toAssignmentWire,
} from "./assignments.js";
import { espDigest, nextSelectedApps, planEsp } from "./esp.js";
import type { EspProfile } from "./esp.js";
import type { Link } from "./relationships.js";
import { dependencyGraphSize, planOutgoing, relationshipProblems, supersedenceGraphSize } from "./relationships.js";

const G1 = "5a8e1f3c-1d2b-4e6f-8a9b-0c1d2e3f4a5b";
const G2 = "6b9f2a4d-2e3c-4f70-9bac-1d2e3f4a5b6c";
const G3 = "3e4f5a6b-7c8d-4e9f-8a1b-2c3d4e5f6a7b";

const wire = (a: Record<string, unknown>, groupId?: string): MobileAppAssignmentWire =>
  toAssignmentWire({
    definition: assignmentSchema.parse(a),
    ...(groupId === undefined ? {} : { group: { id: groupId, displayName: groupId } }),
  });

describe("assignments", () => {
  it("an assignment as Graph returns it (defaults filled, dates rewritten) compares equal to the one sent", () => {
    const sent = wire(
      { intent: "required", group: "g", deadline: "2026-12-01T08:00:00Z", restart: { gracePeriodMinutes: 5 } },
      G1,
    );
    const stored: MobileAppAssignmentWire = JSON.parse(JSON.stringify(sent)) as MobileAppAssignmentWire;
    (stored as { id?: string }).id = `${G1}_1_0`;
    const s = stored.settings as Record<string, Record<string, unknown>>;
    s["installTimeSettings"]!["deadlineDateTime"] = "2026-12-01T08:00:00Z";
    assert.equal(canonicalAssignment(stored), canonicalAssignment(sent));
    const other = wire(
      { intent: "required", group: "g", deadline: "2026-12-01T09:00:00Z", restart: { gracePeriodMinutes: 5 } },
      G1,
    );
    assert.notEqual(canonicalAssignment(other), canonicalAssignment(sent));
  });

  it("keeps foreign assignments, removes recorded ones no longer desired, prunes on request", () => {
    const want = [wire({ intent: "required", group: "g1" }, G1)];
    const current = [
      wire({ intent: "available", group: "g1" }, G1), // changed intent
      wire({ intent: "required", group: "g2" }, G2), // ours, dropped
      wire({ intent: "uninstall", group: "g3" }, G3), // made by hand
    ];
    const recorded = [targetDigest(`group:${G1}`), targetDigest(`group:${G2}`)];
    const p = planAssignments(want, current, recorded, false);
    assert.deepEqual(
      p.change.map((r) => r.key),
      [`group:${G1}`],
    );
    assert.deepEqual(
      p.remove.map((r) => r.key),
      [`group:${G2}`],
    );
    assert.deepEqual(
      p.keptForeign.map((r) => r.key),
      [`group:${G3}`],
    );
    assert.deepEqual(
      p.body.map((a) => `${a.intent} ${targetKey(a.target)}`),
      [`required group:${G1}`, `uninstall group:${G3}`],
    );
    assert.deepEqual(p.managed, [targetDigest(`group:${G1}`)]);
    const pruned = planAssignments(want, current, recorded, true);
    assert.deepEqual(
      pruned.remove.map((r) => r.key),
      [`group:${G2}`, `group:${G3}`],
    );
    assert.equal(planAssignments(want, [want[0]!], recorded, false).changed, false);
  });

  it("carries the previous version's foreign assignments only", () => {
    const desired = [wire({ intent: "required", group: "g1" }, G1)];
    const previous = [
      wire({ intent: "available", group: "g1" }, G1),
      wire({ intent: "required", group: "g2" }, G2),
      wire({ intent: "required", group: "g3", exclude: true }, G3),
    ];
    const carried = carriedAssignments(desired, previous, [targetDigest(`group:${G2}`)]);
    assert.deepEqual(
      carried.map((a) => targetKey(a.target)),
      [`exclude:${G3}`],
    );
    assert.equal(carried[0]!.settings, null);
  });
});

describe("assignment intents", () => {
  it("a Win32 app takes required, available and uninstall; availableWithoutEnrollment is refused with the fix", () => {
    for (const intent of ["required", "available", "uninstall"])
      assert.ok(assignmentSchema.safeParse({ intent, target: "allUsers" }).success, intent);
    const r = assignmentSchema.safeParse({ intent: "availableWithoutEnrollment", target: "allUsers" });
    assert.equal(r.success, false);
    assert.deepEqual(r.error?.issues[0]?.path, ["intent"]);
    assert.match(r.error?.issues[0]?.message ?? "", /iOS\/iPadOS and Android .* use available/);
    const other = assignmentSchema.safeParse({ intent: "optional", target: "allUsers" });
    assert.match(other.error?.issues[0]?.message ?? "", /intent must be one of required, available, uninstall\./);
  });
});

describe("ESP membership", () => {
  const profile = (id: string, apps: string[]): EspProfile => ({
    id,
    displayName: id,
    "@odata.type": "#microsoft.graph.windows10EnrollmentCompletionPageConfiguration",
    selectedMobileAppIds: apps,
  });

  it("swaps the replaced version for the current one, keeps other apps, leaves profiles it does not manage", () => {
    const p = planEsp({
      profiles: [profile("kiosk", ["other", "v1"]), profile("default", ["x"])],
      desired: new Set(["kiosk"]),
      managed: [espDigest("kiosk")],
      appId: "new:app",
      otherVersionIds: [],
      replacedIds: ["v1"],
    });
    assert.deepEqual(p.changes, [{ profileId: "kiosk", displayName: "kiosk", add: ["new:app"], remove: ["v1"] }]);
    assert.deepEqual(p.managed, [espDigest("kiosk")]);
    assert.deepEqual(nextSelectedApps(["other", "V1"], ["v2"], ["v1"]), ["other", "v2"]);
  });

  it("a profile dropped from the definition loses every version; one never managed is left alone", () => {
    const p = planEsp({
      profiles: [profile("kiosk", ["other", "v2", "v1"]), profile("byhand", ["v2"])],
      desired: new Set(),
      managed: [espDigest("kiosk")],
      appId: "v2",
      otherVersionIds: ["v1"],
      replacedIds: [],
    });
    assert.deepEqual(p.changes, [{ profileId: "kiosk", displayName: "kiosk", add: [], remove: ["v2", "v1"] }]);
    assert.deepEqual(p.managed, []);
    const unmanaged = planEsp({
      profiles: [profile("kiosk", ["v2"])],
      desired: undefined,
      managed: [espDigest("kiosk")],
      appId: "v2",
      otherVersionIds: [],
      replacedIds: [],
    });
    assert.deepEqual(unmanaged.changes, []);
    assert.deepEqual(unmanaged.managed, [espDigest("kiosk")], "absent = not managed: the record stays");
  });
});

describe("relationships", () => {
  const sup = (s: string, t: string, type = "update"): Link => ({
    kind: "supersedence",
    sourceId: s,
    targetId: t,
    type,
  });
  const dep = (s: string, t: string, type = "autoInstall"): Link => ({
    kind: "dependency",
    sourceId: s,
    targetId: t,
    type,
  });

  it("read-modify-write: other links kept, a retyped link is a change, declared dependencies are the full set", () => {
    const current = [sup("a", "old"), dep("a", "lib"), dep("a", "gone"), sup("a", "legacy")];
    const p = planOutgoing("A", current, {
      set: [sup("a", "old", "replace")],
      dependencies: [dep("a", "lib"), dep("a", "new-lib", "detect")],
    });
    assert.deepEqual(
      p.change.map((l) => `${l.targetId} ${l.type}`),
      ["old replace"],
    );
    assert.deepEqual(
      p.remove.map((l) => l.targetId),
      ["gone"],
    );
    assert.deepEqual(
      p.add.map((l) => l.targetId),
      ["new-lib"],
    );
    assert.deepEqual(p.body.map((b) => b.targetId).sort(), ["legacy", "lib", "new-lib", "old"]);
    assert.equal(planOutgoing("a", current, {}).changed, false);
  });

  it("Intune's limits: self links, cycles, 10 apps per supersedence graph, 100 per dependency graph", () => {
    assert.match(relationshipProblems([dep("a", "a")], ["a"]).join(), /would depend on itself/);
    assert.match(relationshipProblems([dep("a", "b"), dep("b", "c"), dep("c", "a")], ["a"]).join(), /cycle/);
    const chain = (n: number) => Array.from({ length: n - 1 }, (_, i) => sup(`v${i + 1}`, `v${i}`));
    assert.equal(supersedenceGraphSize(chain(10), "v5"), 10);
    assert.deepEqual(relationshipProblems(chain(10), ["v9"]), []);
    assert.match(relationshipProblems(chain(11), ["v10"]).join(), /would hold 11 apps/);
    const deps = (n: number) => Array.from({ length: n }, (_, i) => dep(i === 0 ? "app" : `d${i - 1}`, `d${i}`));
    assert.deepEqual(relationshipProblems(deps(99), ["app"]), []);
    assert.match(relationshipProblems(deps(100), ["app"]).join(), /dependency graph of app would hold 101 apps/);
  });

  it("a dependency graph counts every app connected through a shared dependency, each once (Learn)", () => {
    // A and B each depend on X and on 49 apps of their own: 51 apps each, 101 together (X counted once).
    const own = (app: string, n: number) => Array.from({ length: n }, (_, i) => dep(app, `${app}-${i}`));
    const a = [dep("a", "x"), ...own("a", 49)];
    assert.deepEqual(relationshipProblems(a, ["a"]), []);
    const both = [...a, dep("b", "x"), ...own("b", 49)];
    assert.equal(dependencyGraphSize(both, "a"), 101);
    for (const app of ["a", "b", "x"])
      assert.match(relationshipProblems(both, [app]).join(), new RegExp(`graph of ${app} would hold 101 apps`));
    // One fewer: 100 apps, allowed; supersedence links do not join dependency graphs.
    const hundred = [...a, dep("b", "x"), ...own("b", 48), sup("a", "old-a"), sup("b", "old-b")];
    assert.equal(dependencyGraphSize(hundred, "b"), 100);
    assert.deepEqual(relationshipProblems(hundred, ["a", "b"]), []);
  });
});
