import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { AppDefinitionInput } from "../app-definition/schema.js";
import { testDefinition } from "../app-definition/testing/definitions.js";
import { stampNotes } from "../app-definition/stamp.js";
import type { OwnershipStamp } from "../app-definition/stamp.js";
import type { RelationshipRow } from "../targeting/relationships.js";
import { SUPERSEDENCE_TYPE } from "../targeting/relationships.js";
import type { DesiredApp, TenantApp } from "./plan.js";
import { classifyTenantApps, planPublish } from "./plan.js";
import type { DesiredTargeting, TargetingFacts } from "./targeting.js";
import { itemHasChanges, planTargeting } from "./targeting.js";

const HASH = `sha256:${"a".repeat(64)}`;
const assets = { scripts: new Map<string, Uint8Array>() };

const definition = (id: string, over: Partial<AppDefinitionInput> = {}) =>
  testDefinition({ id, displayName: id, ...over });

/** One of our apps in the tenant (only what the planner reads). */
function owned(appId: string, stamp: OwnershipStamp, created: string): TenantApp {
  return {
    id: appId,
    displayName: stamp.id,
    displayVersion: stamp.version,
    notes: stampNotes("", stamp),
    createdDateTime: created,
    committedContentVersion: "1",
    publishingState: "published",
  } as unknown as TenantApp;
}

const noFacts = (over: Partial<TargetingFacts> = {}): TargetingFacts => ({
  assignments: new Map(),
  relationships: new Map(),
  names: {},
  ...over,
});

function plan(defs: DesiredTargeting[], apps: TenantApp[], facts: TargetingFacts) {
  const desired: DesiredApp[] = defs.map((d) => ({ definition: d.definition, assets, contentHash: HASH }));
  const tenant = classifyTenantApps(apps);
  const p = planPublish(desired, tenant);
  planTargeting(p, defs, tenant, facts);
  return p;
}

const supersedence = (targetId: string, targetType: "child" | "parent"): RelationshipRow => ({
  "@odata.type": SUPERSEDENCE_TYPE,
  targetId,
  targetType,
  supersedenceType: "update",
});

describe("planTargeting", () => {
  it("sees a dependency cycle made by two definitions of the same run", () => {
    const a = definition("a", { dependencies: [{ app: "b" }] });
    const b = definition("b", { dependencies: [{ app: "a" }] });
    const p = plan(
      [
        {
          definitionId: "a",
          definition: a,
          assignments: [],
          dependencies: [{ ref: "b", type: "autoInstall", definitionId: "b" }],
        },
        {
          definitionId: "b",
          definition: b,
          assignments: [],
          dependencies: [{ ref: "a", type: "autoInstall", definitionId: "a" }],
        },
      ],
      [],
      noFacts(),
    );
    for (const item of p.items) assert.match(item.targeting!.problems.join(" "), /would form a cycle/, item.id);
  });

  it("one-way dependencies between definitions of a run are fine", () => {
    const a = definition("a", { dependencies: [{ app: "b" }] });
    const p = plan(
      [
        {
          definitionId: "a",
          definition: a,
          assignments: [],
          dependencies: [{ ref: "b", type: "autoInstall", definitionId: "b" }],
        },
        { definitionId: "b", definition: definition("b"), assignments: [] },
      ],
      [],
      noFacts(),
    );
    assert.deepEqual(
      p.items.map((i) => i.targeting!.problems),
      [[], []],
    );
    assert.deepEqual(
      p.items[0]!.targeting!.relationships?.add.map((l) => l.targetId),
      ["new:b"],
    );
  });

  it("retention: keeps the N newest previous versions, refuses the supersede past 10 apps", () => {
    const def = definition("app", {
      version: "5.0.0",
      updateStrategy: "supersede",
      supersedence: { keepPreviousVersions: 2 },
    });
    const versions = ["1.0.0", "2.0.0", "3.0.0", "4.0.0"].map((v, i) =>
      owned(`app-${i + 1}`, { id: "app", version: v, contentHash: HASH }, `2026-01-0${i + 1}T00:00:00Z`),
    );
    const d: DesiredTargeting = { definitionId: "app", definition: def, assignments: [] };
    const p = plan([d], versions, noFacts());
    const t = p.items[0]!.targeting!;
    assert.deepEqual(
      t.retention.map((r) => r.version),
      ["2.0.0", "1.0.0"],
    );
    assert.deepEqual(
      t.relationships?.add.map((l) => `${l.kind} ${l.targetId}`),
      ["supersedence app-4"],
    );
    assert.ok(itemHasChanges(p.items[0]!));

    // app-4 sits in a graph of ten apps already (nine others linked to it): the new version would be the 11th.
    const others = Array.from({ length: 9 }, (_, i) => `other-${i}`);
    const relationships = new Map<string, RelationshipRow[]>([["app-4", others.map((o) => supersedence(o, "parent"))]]);
    const refused = plan([d], versions, noFacts({ relationships }));
    assert.match(refused.items[0]!.targeting!.problems.join(" "), /would hold 11 apps; Intune allows 10/);
  });

  it("retention after a rollback deletes the rolled-back version, never the one being superseded", () => {
    // 1.0 (rolled back to) ← 2.0 (rolled back from): publishing 3.0 supersedes 1.0 and, keeping 1, deletes 2.0.
    const def = definition("app", {
      version: "3.0.0",
      updateStrategy: "supersede",
      supersedence: { keepPreviousVersions: 1 },
    });
    const v1 = owned("app-1", { id: "app", version: "1.0.0", contentHash: HASH }, "2026-01-01T00:00:00Z");
    const v2 = owned(
      "app-2",
      { id: "app", version: "2.0.0", contentHash: `sha256:${"b".repeat(64)}`, rolledBack: true },
      "2026-01-02T00:00:00Z",
    );
    const d: DesiredTargeting = { definitionId: "app", definition: def, assignments: [] };
    const p = plan([d], [v1, v2], noFacts());
    const item = p.items[0]!;
    assert.equal(item.supersedes, "app-1");
    assert.deepEqual(
      item.targeting!.retention.map((r) => r.appId),
      ["app-2"],
    );
    assert.deepEqual(
      item.targeting!.relationships?.add.map((l) => l.targetId),
      ["app-1"],
    );
  });

  it("keepPreviousVersions 10: the oldest kept versions leave the supersedence graph instead of refusing", () => {
    // Ten versions chained 1 ← 2 ← … ← 10; the 11th keeps all ten: 11 apps, so the oldest leaves the graph.
    const def = definition("app", {
      version: "11.0.0",
      updateStrategy: "supersede",
      supersedence: { keepPreviousVersions: 10 },
    });
    const ids = Array.from({ length: 10 }, (_, i) => `app-${i + 1}`);
    const apps = ids.map((id, i) =>
      owned(
        id,
        { id: "app", version: `${i + 1}.0.0`, contentHash: HASH },
        `2026-01-${String(i + 1).padStart(2, "0")}T00:00:00Z`,
      ),
    );
    const relationships = new Map<string, RelationshipRow[]>(
      ids.map((id, i) => [
        id,
        [
          ...(i > 0 ? [supersedence(ids[i - 1]!, "child")] : []),
          ...(i < ids.length - 1 ? [supersedence(ids[i + 1]!, "parent")] : []),
        ],
      ]),
    );
    const d: DesiredTargeting = { definitionId: "app", definition: def, assignments: [] };
    const t = plan([d], apps, noFacts({ relationships })).items[0]!.targeting!;
    assert.deepEqual(t.problems, []);
    assert.deepEqual(t.retention, []);
    assert.deepEqual(
      t.detach.map((x) => x.appId),
      ["app-1"],
    );
    assert.ok(t.changed);
  });
});

describe("planTargeting: links", () => {
  const dependency = (targetId: string, targetType: "child" | "parent"): RelationshipRow => ({
    "@odata.type": "#microsoft.graph.mobileAppDependency",
    targetId,
    targetType,
    dependencyType: "autoInstall",
  });

  it("counts a supersedence graph transitively: a chain of nine leaves room for the new version, ten do not", () => {
    const def = definition("chain", {
      version: "2.0.0",
      updateStrategy: "supersede",
      supersedence: { keepPreviousVersions: 10 },
    });
    const v1 = owned("chain-1", { id: "chain", version: "1.0.0", contentHash: HASH }, "2026-01-01T00:00:00Z");
    const d: DesiredTargeting = { definitionId: "chain", definition: def, assignments: [] };
    // node-0 → node-1 → … → node-7 → chain 1.0.0 (links made by hand); `extra` → node-0 makes it ten.
    const chain = (extra: boolean) => {
      const nodes = [...(extra ? ["extra"] : []), ...Array.from({ length: 8 }, (_, i) => `node-${i}`), "chain-1"];
      const rows = new Map<string, RelationshipRow[]>();
      nodes.forEach((n, i) =>
        rows.set(n, [
          ...(i < nodes.length - 1 ? [supersedence(nodes[i + 1]!, "child")] : []),
          ...(i > 0 ? [supersedence(nodes[i - 1]!, "parent")] : []),
        ]),
      );
      return rows;
    };
    assert.deepEqual(plan([d], [v1], noFacts({ relationships: chain(false) })).items[0]!.targeting!.problems, []);
    const refused = plan([d], [v1], noFacts({ relationships: chain(true) })).items[0]!.targeting!;
    assert.equal(refused.problems.length, 1, refused.problems.join("\n"));
    assert.match(
      refused.problems[0]!,
      /supersedence graph of the new app of chain would hold 11 apps; Intune allows 10/,
    );
  });

  it("a declared dependency list replaces the app's dependencies only; links made by hand to other apps stay", () => {
    const tool = owned("tool-1", { id: "tool", version: "1.0.0", contentHash: HASH }, "2026-01-01T00:00:00Z");
    const rows = new Map([
      ["tool-1", [dependency("rt-1", "child"), dependency("helper-1", "child"), supersedence("old", "child")]],
    ]);
    const d: DesiredTargeting = {
      definitionId: "tool",
      definition: definition("tool", { dependencies: [{ app: "Runtime" }] }),
      assignments: [],
      dependencies: [{ ref: "Runtime", type: "autoInstall", appId: "RT-1", displayName: "Runtime" }],
    };
    const r = plan([d], [tool], noFacts({ relationships: rows })).items[0]!.targeting!.relationships!;
    assert.deepEqual(
      r.remove.map((l) => `${l.kind} ${l.targetId}`),
      ["dependency helper-1"],
    );
    assert.deepEqual(
      r.keep.map((l) => `${l.kind} ${l.targetId}`),
      ["dependency rt-1", "supersedence old"],
    );
    assert.deepEqual(
      r.body.map((b) => b.targetId),
      ["rt-1", "old"],
    );
  });

  it("retention: a version a foreign app links to is kept (blocked, with the reason); our apps that depend on the superseded version follow it", () => {
    const def = definition("rt", {
      version: "3.0.0",
      updateStrategy: "supersede",
      supersedence: { keepPreviousVersions: 0 },
    });
    const apps = [
      owned("rt-1", { id: "rt", version: "1.0.0", contentHash: HASH }, "2026-01-01T00:00:00Z"),
      owned("rt-2", { id: "rt", version: "2.0.0", contentHash: HASH }, "2026-01-02T00:00:00Z"),
      owned("tool", { id: "rt-tool", version: "1.0.0", contentHash: HASH }, "2026-01-02T00:00:00Z"),
    ];
    const relationships = new Map<string, RelationshipRow[]>([
      ["rt-1", [{ ...dependency("vendor", "parent"), targetDisplayName: "Vendor app" }]],
      ["rt-2", [dependency("tool", "parent")]],
    ]);
    const d: DesiredTargeting = { definitionId: "rt", definition: def, assignments: [] };
    const t = plan([d], apps, noFacts({ relationships })).items[0]!.targeting!;
    assert.deepEqual(
      t.retention.map((r) => r.appId),
      ["rt-2"],
    );
    assert.deepEqual(
      t.retentionBlocked.map((b) => [b.appId, b.reason]),
      [["rt-1", "Vendor app (not made by intune-publisher) link to it; remove those links to let it go"]],
    );
    assert.deepEqual(t.dependents, ["tool"]);
    assert.deepEqual(t.relationships, undefined, "the superseded version is deleted: no link to it");
  });
});
