import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { AppDefinitionInput } from "../app-definition/schema.js";
import { STAMP_PREFIX, stampNotes } from "../app-definition/stamp.js";
import { toWin32LobAppCreateBody } from "../app-definition/to-graph.js";
import { testDefinition } from "../app-definition/testing/definitions.js";
import type { DesiredApp, TenantApp } from "./plan.js";
import { classifyTenantApps, currentApp, planPublish } from "./plan.js";

const HASH_A = `sha256:${"a".repeat(64)}`;
const HASH_B = `sha256:${"b".repeat(64)}`;
const assets = { scripts: new Map<string, Uint8Array>() };

const definition = testDefinition;

function desired(over: Partial<AppDefinitionInput> = {}, contentHash = HASH_A): DesiredApp {
  return { definition: definition(over), assets, contentHash };
}

/** The app as the tenant would hold it after publishing `d` (JSON round trip, read-only properties added). */
function published(
  d: DesiredApp,
  id: string,
  extra: Record<string, unknown> = {},
  stampOver: Partial<{ version: string; contentHash: string }> = {},
): TenantApp {
  const def = d.definition;
  const stamp = { id: def.id, version: def.version, contentHash: d.contentHash, ...stampOver };
  const body = toWin32LobAppCreateBody(def, d.assets, {
    package: { fileName: "install.intunewin", setupFile: "install.ps1" },
    stamp,
  });
  return {
    ...(JSON.parse(JSON.stringify(body)) as Record<string, unknown>),
    id,
    createdDateTime: "2026-01-01T00:00:00Z",
    committedContentVersion: "1",
    publishingState: "published",
    roleScopeTagIds: ["0"],
    ...extra,
  } as TenantApp;
}

function foreign(id: string, notes = "made by hand"): TenantApp {
  return { id, displayName: "Someone else's", notes, committedContentVersion: "1" };
}

describe("classifyTenantApps", () => {
  it("sorts apps into ours, unreadable stamps and others", () => {
    const d = desired();
    const state = classifyTenantApps([
      published(d, "a1"),
      foreign("f1"),
      foreign("f2", `${STAMP_PREFIX}{"v":2}`),
      foreign("f3", null as unknown as string),
    ]);
    assert.deepEqual(
      state.owned.map((o) => o.app.id),
      ["a1"],
    );
    assert.equal(state.foreign, 2);
    assert.deepEqual(
      state.invalid.map((i) => i.appId),
      ["f2"],
    );
  });
});

describe("planPublish", () => {
  it("creates an app no stamped app carries, and ignores apps that are not ours", () => {
    const d = desired();
    const plan = planPublish([d], classifyTenantApps([foreign("f1", "contoso-tool"), { ...foreign("f2") }]));
    assert.equal(plan.items.length, 1);
    assert.equal(plan.items[0]!.action, "create");
    assert.equal(plan.items[0]!.appId, undefined);
    assert.match(plan.items[0]!.reasons[0]!, /no app in the tenant carries/);
    assert.equal(plan.untouched.foreign, 2);
  });

  it("does nothing when version, content and metadata are current", () => {
    const d = desired();
    const plan = planPublish([d], classifyTenantApps([published(d, "a1")]));
    const item = plan.items[0]!;
    assert.equal(item.action, "nothing");
    assert.equal(item.appId, "a1");
    assert.deepEqual(item.changed, []);
  });

  it("PATCHes only the changed properties when only metadata changed", () => {
    const before = desired();
    const after = desired({ description: "New words", install: { command: "install.cmd", maxRunTimeInMinutes: 30 } });
    const plan = planPublish([after], classifyTenantApps([published(before, "a1")]));
    const item = plan.items[0]!;
    assert.equal(item.action, "update-metadata");
    assert.deepEqual(item.changed.sort(), ["description", "installExperience"]);
    assert.deepEqual(Object.keys(item.patch!).sort(), ["@odata.type", "description", "installExperience"]);
    assert.equal((item.patch as Record<string, unknown>)["description"], "New words");
  });

  it("notices an admin's edit in the portal as a metadata change", () => {
    const d = desired();
    const app = published(d, "a1", { displayName: "Renamed by hand" });
    const item = planPublish([d], classifyTenantApps([app])).items[0]!;
    assert.equal(item.action, "update-metadata");
    assert.deepEqual(item.changed, ["displayName"]);
  });

  it("a new version with in-place gives the same app new content", () => {
    const before = desired();
    const after = desired({ version: "1.1.0" }, HASH_B);
    const item = planPublish([after], classifyTenantApps([published(before, "a1")])).items[0]!;
    assert.equal(item.action, "new-version");
    assert.equal(item.strategy, "in-place");
    assert.equal(item.appId, "a1");
    assert.deepEqual(item.current, { version: "1.0.0", contentHash: HASH_A, committed: true });
    assert.ok(item.reasons.some((r) => r.includes("1.0.0 → 1.1.0")));
    assert.ok(item.changed.includes("displayVersion"));
    assert.ok(item.changed.includes("notes"), "the stamp changes");
  });

  it("a new version with supersede plans a new app and keeps the old one", () => {
    const before = desired({ updateStrategy: "supersede" });
    const after = desired({ version: "2.0.0", updateStrategy: "supersede" }, HASH_B);
    const item = planPublish([after], classifyTenantApps([published(before, "a1")])).items[0]!;
    assert.equal(item.action, "new-version");
    assert.equal(item.strategy, "supersede");
    assert.equal(item.supersedes, "a1");
  });

  it("new content under the same version is a new version, with a hint to raise the version", () => {
    const d = desired({}, HASH_B);
    const app = published(desired(), "a1");
    const item = planPublish([d], classifyTenantApps([app])).items[0]!;
    assert.equal(item.action, "new-version");
    assert.ok(item.reasons.some((r) => r.includes("content changed")));
    assert.ok(item.reasons.some((r) => r.includes("consider raising it")));
  });

  it("finishes an app without committed content in place, whatever the strategy", () => {
    const d = desired({ updateStrategy: "supersede" });
    const app = published(d, "a1", { committedContentVersion: null, publishingState: "notPublished" });
    const item = planPublish([d], classifyTenantApps([app])).items[0]!;
    assert.equal(item.action, "new-version");
    assert.equal(item.strategy, "in-place");
    assert.equal(item.appId, "a1");
    assert.match(item.reasons[0]!, /no committed content/);
  });

  it("after a supersede, the newest app is current and the predecessor is listed, not touched", () => {
    const v1 = desired({ updateStrategy: "supersede" });
    const v2 = desired({ version: "2.0.0", updateStrategy: "supersede" }, HASH_B);
    const old = published(v1, "old", { createdDateTime: "2026-01-01T00:00:00Z" });
    const cur = published(v2, "new", { createdDateTime: "2026-02-01T00:00:00Z" });
    const item = planPublish([v2], classifyTenantApps([old, cur])).items[0]!;
    assert.equal(item.action, "nothing");
    assert.equal(item.appId, "new");
    assert.deepEqual(item.otherApps, ["old"]);
  });

  it("prefers the committed app over an older uncommitted one, and a newer uncommitted one over it", () => {
    const d = desired();
    const c = published(d, "c", { createdDateTime: "2026-02-01T00:00:00Z" });
    const olderU = published(d, "u0", { createdDateTime: "2026-01-01T00:00:00Z", committedContentVersion: null });
    const newerU = published(d, "u1", { createdDateTime: "2026-03-01T00:00:00Z", committedContentVersion: null });
    const st = (apps: TenantApp[]) => classifyTenantApps(apps).owned;
    assert.equal(currentApp(st([olderU, c]))?.app.id, "c");
    assert.equal(currentApp(st([c, newerU]))?.app.id, "u1");
  });

  it("warns about unreadable stamps and leaves those apps out of the plan", () => {
    const d = desired();
    const bad = foreign(
      "x1",
      stampNotes("", { id: "contoso-tool", version: "1.0.0", contentHash: HASH_A }) + "\n" + `${STAMP_PREFIX}{}`,
    );
    const plan = planPublish([d], classifyTenantApps([bad]));
    assert.equal(plan.items[0]!.action, "create");
    assert.equal(plan.warnings.length, 1);
    assert.match(plan.warnings[0]!, /x1/);
  });

  it("plans several definitions independently", () => {
    const a = desired();
    const b = desired({ id: "fabrikam-tool", displayName: "Fabrikam Tool" });
    const plan = planPublish([a, b], classifyTenantApps([published(a, "a1")]));
    assert.deepEqual(
      plan.items.map((i) => [i.id, i.action]),
      [
        ["contoso-tool", "nothing"],
        ["fabrikam-tool", "create"],
      ],
    );
  });

  it("resolved scope tags are compared as a set", () => {
    const d: DesiredApp = { ...desired({ scopeTags: ["Default", "Paris"] }), scopeTagIds: ["0", "7"] };
    const same = published(d, "a1", { roleScopeTagIds: ["7", "0"] });
    assert.equal(planPublish([d], classifyTenantApps([same])).items[0]!.action, "nothing");
    const other = published(d, "a1", { roleScopeTagIds: ["0"] });
    const item = planPublish([d], classifyTenantApps([other])).items[0]!;
    assert.deepEqual(item.changed, ["roleScopeTagIds"]);
  });

  it("categories: compared as sets of ids; a difference alone is update-metadata without a PATCH", () => {
    const prod = { id: "P", displayName: "Productivity" };
    const biz = { id: "b", displayName: "Business" };
    const d: DesiredApp = { ...desired({ categories: ["Productivity", "Business"] }), categories: [prod, biz] };
    const same = published(d, "a1", { categories: [{ id: "B" }, { id: "p" }] });
    const none = planPublish([d], classifyTenantApps([same])).items[0]!;
    assert.equal(none.action, "nothing");
    assert.equal(none.categories, undefined);

    const other = published(d, "a1", { categories: [prod, { id: "x", displayName: "Education" }] });
    const item = planPublish([d], classifyTenantApps([other])).items[0]!;
    assert.equal(item.action, "update-metadata");
    assert.deepEqual(item.changed, []);
    assert.equal(item.patch, undefined);
    assert.deepEqual(item.categories, { link: [biz], unlink: [{ id: "x", displayName: "Education" }] });
    assert.deepEqual(item.reasons, ["categories: +Business, -Education"]);

    // Links not read (or categories not resolved): not compared.
    assert.equal(planPublish([d], classifyTenantApps([published(d, "a1")])).items[0]!.action, "nothing");
    assert.equal(
      planPublish([desired({ categories: ["Business"] })], classifyTenantApps([other])).items[0]!.action,
      "nothing",
    );
  });

  it("categories: a new app (create, supersede) links them all; in place carries the difference", () => {
    const biz = { id: "b", displayName: "Business" };
    const d: DesiredApp = { ...desired({ categories: ["Business"], updateStrategy: "supersede" }), categories: [biz] };
    const create = planPublish([d], classifyTenantApps([])).items[0]!;
    assert.deepEqual(create.categories, { link: [biz], unlink: [] });
    const next: DesiredApp = { ...d, definition: { ...d.definition, version: "2.0.0" } };
    const old = published(d, "a1", { categories: [biz] });
    const sup = planPublish([next], classifyTenantApps([old])).items[0]!;
    assert.equal(sup.strategy, "supersede");
    assert.deepEqual(sup.categories, { link: [biz], unlink: [] });
    const inPlace: DesiredApp = {
      ...next,
      definition: { ...next.definition, updateStrategy: "in-place" },
      categories: [],
    };
    const ip = planPublish([inPlace], classifyTenantApps([old])).items[0]!;
    assert.equal(ip.strategy, "in-place");
    assert.deepEqual(ip.categories, { link: [], unlink: [biz] });
  });
});
