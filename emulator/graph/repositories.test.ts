import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { JsonFileStore, MemoryStore } from "../store.js";
import { GraphError } from "./errors.js";
import { COLLECTIONS, GraphState } from "./repositories.js";
import type { StoredAssignment } from "./repositories.js";

const TENANT = "7F3C2A1E-5B4D-4C6E-9F8A-0B1C2D3E4F50";
const APP = "0b2f6c1e-9f1a-4a0e-8c55-0d4f1b2a3c4d";

const AT = "2026-01-01T00:00:00.000Z";

const assignment = (groupId: string): StoredAssignment => ({
  id: `${groupId}_1_0`,
  intent: "required",
  target: { "@odata.type": "#microsoft.graph.groupAssignmentTarget", groupId },
});

describe("Graph state repositories", () => {
  it("apps: created with what the server sets, found whatever the id's case, or Graph's 404", () => {
    const t = new GraphState(new MemoryStore()).tenant(TENANT);
    const created = t.apps.create({ displayName: "Contoso Editor", roleScopeTagIds: ["1"] }, AT);
    const { id, displayName, roleScopeTagIds, createdDateTime, publishingState, uploadState, size } = created;
    assert.deepEqual(
      [
        displayName,
        roleScopeTagIds,
        createdDateTime,
        publishingState,
        uploadState,
        size,
        created.committedContentVersion,
      ],
      ["Contoso Editor", ["1"], AT, "notPublished", 0, 0, null],
    );
    assert.equal(created.supersedingAppCount + created.supersededAppCount + created.dependentAppCount, 0);
    assert.equal(t.apps.get(id), created);
    assert.match(created.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(t.apps.require(created.id.toUpperCase()).displayName, "Contoso Editor");
    assert.throws(
      () => t.apps.require("00000000-0000-0000-0000-000000000000"),
      (e: unknown) => e instanceof GraphError && e.status === 404 && e.code === "ResourceNotFound",
    );
  });

  it("content versions are numbered 1, 2, … per app", () => {
    const t = new GraphState(new MemoryStore()).tenant(TENANT);
    assert.equal(t.contentVersions.add(APP).contentVersionId, "1");
    assert.equal(t.contentVersions.add("another-app").contentVersionId, "1");
    assert.equal(t.contentVersions.add(APP).contentVersionId, "2");
    assert.deepEqual(
      t.contentVersions.ofApp(APP).map((v) => v.id),
      [`${APP}|1`, `${APP}|2`],
    );
    assert.equal(t.contentVersions.find(APP.toUpperCase(), "2")?.contentVersionId, "2");
    assert.equal(t.contentVersions.find(APP, "3"), undefined);
  });

  it("assignments: added, replaced as a set, removed; read in the order they were made", () => {
    const t = new GraphState(new MemoryStore()).tenant(TENANT);
    t.assignments.add(APP, assignment("a"));
    t.assignments.add(APP, assignment("b"));
    t.assignments.add("other", assignment("a"));
    assert.deepEqual(
      t.assignments.ofApp(APP).map((a) => a.id),
      ["a_1_0", "b_1_0"],
    );
    t.assignments.replace(APP, [assignment("c")]);
    assert.deepEqual(
      t.assignments.ofApp(APP).map((a) => a.id),
      ["c_1_0"],
    );
    assert.equal(t.assignments.find(APP, "c_1_0")?.target.groupId, "c");
    assert.equal(t.assignments.remove(APP, "c_1_0"), true);
    assert.equal(t.assignments.remove(APP, "c_1_0"), false);
    assert.deepEqual(t.assignments.ofApp(APP), []);
    assert.equal(t.assignments.ofApp("other").length, 1, "another app's assignments stay");
  });

  it("relationships: an app's outgoing links replaced, links to it kept", () => {
    const t = new GraphState(new MemoryStore()).tenant(TENANT);
    const link = (sourceId: string, targetId: string) =>
      ({ id: `${sourceId}_${targetId}`, sourceId, targetId, kind: "dependency", dependencyType: "detect" }) as const;
    t.relationships.put(link("x", "y"));
    t.relationships.put(link("z", "x"));
    t.relationships.replaceOutgoing("x", [link("x", "w")]);
    assert.deepEqual(
      t.relationships
        .touching("x")
        .map((r) => r.id)
        .sort(),
      ["x_w", "z_x"],
    );
    assert.equal(
      t.relationships.deleteWhere((r) => r.targetId === "nothing"),
      false,
    );
    assert.equal(
      t.relationships.deleteWhere((r) => r.sourceId === "x" || r.targetId === "x"),
      true,
    );
    assert.deepEqual(t.relationships.list(), []);
  });

  it("category links and ESP blocking lists lose an app", () => {
    const t = new GraphState(new MemoryStore()).tenant(TENANT);
    t.categoryLinks.link(APP, "cat");
    assert.equal(t.categoryLinks.has(APP, "cat"), true);
    assert.deepEqual(
      t.categoryLinks.ofApp(APP.toUpperCase()).map((l) => l.categoryId),
      ["cat"],
    );
    assert.equal(t.categoryLinks.unlink(APP, "cat"), true);
    assert.equal(t.categoryLinks.has(APP, "cat"), false);

    const esp = "#microsoft.graph.windows10EnrollmentCompletionPageConfiguration";
    t.enrollmentConfigurations.put({ id: "esp", "@odata.type": esp, selectedMobileAppIds: [APP.toUpperCase(), "b"] });
    t.enrollmentConfigurations.put({
      id: "limit",
      "@odata.type": "#microsoft.graph.deviceEnrollmentLimitConfiguration",
    });
    t.enrollmentConfigurations.dropApp(APP);
    assert.deepEqual(t.enrollmentConfigurations.get("esp")?.selectedMobileAppIds, ["b"]);
    assert.equal(t.enrollmentConfigurations.get("limit")?.selectedMobileAppIds, undefined);
  });

  it("tenants are apart, and the records are saved under the collection names graph-state.json has", async () => {
    const dir = await mkdtemp(join(tmpdir(), "repositories-"));
    try {
      const path = join(dir, "graph-state.json");
      const store = await JsonFileStore.open(path);
      const state = new GraphState(store);
      const { id } = state.tenant(TENANT).apps.create({ displayName: "Contoso Editor" }, AT);
      state.tenant(TENANT).contentVersions.add(id);
      assert.deepEqual(state.tenant("another-tenant").apps.list(), []);
      await store.flush();
      const saved = JSON.parse(await readFile(path, "utf8")) as { collections: Record<string, { id: string }[]> };
      const key = (name: string): string => `${TENANT.toLowerCase()}/${name}`;
      assert.deepEqual(
        Object.keys(saved.collections).sort(),
        [key(COLLECTIONS.mobileApps), key(COLLECTIONS.contentVersions)].sort(),
      );
      assert.deepEqual(saved.collections[key(COLLECTIONS.contentVersions)], [
        { id: `${id}|1`, appId: id, contentVersionId: "1" },
      ]);
      const again = await JsonFileStore.open(path);
      const reopened = new GraphState(again);
      assert.equal(reopened.tenant(TENANT).apps.require(id).displayName, "Contoso Editor");
      assert.equal(reopened.isEmpty(), false);
      reopened.clear();
      assert.equal(reopened.isEmpty(), true);
      await again.flush();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
