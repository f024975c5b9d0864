// The typed Intune endpoint module (src/clients/graph/intune.ts) against the local tenant: each endpoint sends what
// the strict emulator accepts and reads back the wire shapes, through our own HTTP pipeline and Graph client.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { DEFAULT_TENANT_ID, defaultSeed } from "../../emulator/seed.js";
import type { LocalTenant } from "../../emulator/server.js";
import { startLocalTestTenant } from "../support/tenant.js";
import { MemoryStore } from "../../emulator/store.js";
import { win32AppBody } from "../../emulator/testing/publish.js";
import { GraphClient } from "../../src/clients/graph/client.js";
import { IntuneApi } from "../../src/clients/graph/intune.js";
import { createHttpPipeline } from "../../src/clients/http/pipeline.js";
import { createFetchTransport } from "../../src/clients/http/transport.js";
import type { FetchTransport } from "../../src/clients/http/transport.js";
import type { Win32LobAppWritableWire } from "../../src/core/wire/graph.js";
import { ODATA_TYPE } from "../../src/core/wire/graph.js";

const PILOT = "5a8e1f3c-1d2b-4e6f-8a9b-0c1d2e3f4a5b";
const KIOSK_ESP = "2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d";
const body = (name: string) => win32AppBody(name) as unknown as Win32LobAppWritableWire;

describe("IntuneApi on the local tenant", () => {
  let lt: LocalTenant;
  let transport: FetchTransport;
  let api: IntuneApi;
  const store = new MemoryStore();
  /** a published app put straight into the store (relationships and ESP take published apps only) */
  const published = (id: string, displayName: string) =>
    store
      .collection<{ id: string } & Record<string, unknown>>(DEFAULT_TENANT_ID, "mobileApps")
      .put({ id, "@odata.type": ODATA_TYPE.win32LobApp, displayName, publishingState: "published" });

  before(async () => {
    const seed = {
      ...defaultSeed(),
      roleScopeTags: [
        { id: "0", displayName: "Default", isBuiltIn: true },
        { id: "1", displayName: "Europe" },
      ],
      detectedApps: { devices: 4, appsPerDevice: 3, seed: 11 },
    };
    lt = await startLocalTestTenant({ seed, store, pageSize: 2, storage: false, throttling: false });
    transport = createFetchTransport({ trustedCaPem: lt.caCertPem });
    const pipeline = createHttpPipeline({
      transport: transport.send,
      tokenProvider: { getToken: async () => ({ token: lt.admin.issueToken(), expiresOn: Date.now() + 3_600_000 }) },
    });
    api = new IntuneApi(new GraphClient({ pipeline, baseUrl: lt.graphBaseUrl }));
  });
  after(async () => {
    await transport.close();
    await lt.close();
  });

  it("mobile apps: create, list the Win32 ones (every page), read, read the notes, PATCH, delete", async () => {
    const a = await api.createApp(body("Endpoint A"));
    const b = await api.createApp(body("Endpoint B"));
    const c = await api.createApp(body("Endpoint C"));
    const listed = (await api.listWin32Apps()).map((x) => x.id);
    for (const id of [a.id, b.id, c.id]) assert.ok(listed.includes(id), "listed across pages of 2");
    await api.patchApp(a.id, { "@odata.type": ODATA_TYPE.win32LobApp, notes: "hello" });
    const notes = await api.getAppNotes(a.id);
    assert.equal(notes.notes, "hello");
    assert.ok(!("displayName" in notes), "only id and notes are selected");
    const full = await api.getApp(a.id);
    assert.equal(full.displayName, "Endpoint A");
    assert.equal(full.installCommandLine, "setup.exe /S");
    assert.equal((await api.content(a.id).getApp()).id, a.id);
    await api.deleteApp(c.id);
    assert.ok(!(await api.listWin32Apps()).some((x) => x.id === c.id));
  });

  it("assignments, relationships and ESP membership: each whole set written, then read back", async () => {
    const lib = "f1000000-0000-4000-8000-000000000001";
    const tool = "f1000000-0000-4000-8000-000000000002";
    published(lib, "Endpoint lib");
    published(tool, "Endpoint tool");
    await api.assign(tool, [
      {
        "@odata.type": ODATA_TYPE.mobileAppAssignment,
        intent: "required",
        target: { "@odata.type": "#microsoft.graph.groupAssignmentTarget", groupId: PILOT },
        settings: null,
      },
    ]);
    assert.deepEqual(
      (await api.listAssignments(tool)).map((x) => `${x.intent} ${x.target.groupId}`),
      [`required ${PILOT}`],
    );
    await api.assign(tool, []);
    assert.deepEqual(await api.listAssignments(tool), []);

    await api.updateRelationships(tool, [
      { "@odata.type": ODATA_TYPE.mobileAppDependency, dependencyType: "autoInstall", targetId: lib },
    ]);
    const own = await api.listRelationships(tool);
    assert.deepEqual(
      own.map((r) => [r.targetType, r.targetId, r.dependencyType]),
      [["child", lib, "autoInstall"]],
    );
    assert.deepEqual(
      (await api.listRelationships(lib)).map((r) => [r.targetType, r.targetId]),
      [["parent", tool]],
    );

    const profiles = await api.listEspProfiles();
    assert.ok(profiles.length >= 2 && profiles.every((p) => p["@odata.type"] === ODATA_TYPE.espConfiguration));
    const kiosk = await api.getEspProfile(KIOSK_ESP);
    assert.equal(kiosk.displayName, "Kiosk ESP");
    await api.setEspProfileApps(kiosk, [tool]);
    assert.deepEqual((await api.getEspProfile(KIOSK_ESP)).selectedMobileAppIds, [tool]);
    await api.setEspProfileApps(kiosk, []);
  });

  it("categories: the tenant's, linked and unlinked by reference", async () => {
    const app = await api.createApp(body("Endpoint categories"));
    const all = await api.listCategories();
    const productivity = all.find((c) => c.displayName === "Productivity");
    assert.ok(productivity, all.map((c) => c.displayName).join(", "));
    await api.linkCategory(app.id, productivity.id);
    assert.deepEqual(
      (await api.listAppCategories(app.id)).map((c) => c.id),
      [productivity.id],
    );
    await api.unlinkCategory(app.id, productivity.id);
    assert.deepEqual(await api.listAppCategories(app.id), []);
  });

  it("groups by id, by name (case-insensitive, quotes escaped) and by prefix; filters; scope tags", async () => {
    const pilot = await api.getGroup(PILOT);
    assert.deepEqual([pilot.id, pilot.displayName], [PILOT, "Intune - Pilot devices"]);
    assert.deepEqual(
      (await api.listGroupsNamed("intune - PILOT devices")).map((g) => g.id),
      [PILOT],
    );
    assert.deepEqual(await api.listGroupsNamed("O'Brien's devices"), []);
    assert.deepEqual((await api.listGroupsStartingWith("Int", 10)).map((g) => g.displayName).sort(), [
      "Intune - All Windows devices",
      "Intune - Pilot devices",
    ]);
    assert.deepEqual(
      (await api.listAssignmentFilters()).map((f) => [f.displayName, f.platform]),
      [["Windows 11 only", "windows10AndLater"]],
    );
    assert.deepEqual(
      (await api.listScopeTags()).map((t) => t.displayName),
      ["Default", "Europe"],
    );
  });

  it("inventory: every detected app page by page, and the devices of one", async () => {
    const apps = [];
    for await (const a of api.detectedApps()) apps.push(a);
    // 4 devices × 3 apps = 12 installs, one row per app + version
    assert.equal(
      apps.reduce((n, a) => n + a.deviceCount, 0),
      12,
    );
    const first = apps[0]!;
    assert.equal(first.platform, "windows");
    const devices = [];
    for await (const d of api.devicesWithDetectedApp(first.id)) devices.push(d);
    assert.equal(devices.length, first.deviceCount);
    assert.ok(devices.every((d) => d.operatingSystem === "Windows"));
  });
});
