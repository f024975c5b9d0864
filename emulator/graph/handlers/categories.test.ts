import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Client } from "@microsoft/microsoft-graph-client";
import type { Win32LobAppWire } from "../../../src/core/wire/graph.js";
import { testSeed } from "../../testing/seed.js";
import { startLocalTenant } from "../../server.js";
import type { LocalTenant } from "../../server.js";
import { CallLog } from "../../testing/clients.js";
import { graphError, tenantGraphClient } from "../../testing/graph-client.js";
import { BUILT_IN_CATEGORY_NAMES, builtInCategoryId, categoryGuid } from "../model/categories.js";

const TENANT = "55555555-2222-4333-8444-555555555555";
const SEEDED = "c0000000-0000-4000-8000-0000000000c1";
const APPS = "/deviceAppManagement/mobileApps";
const CATS = "/deviceAppManagement/mobileAppCategories";
/** Intune's fixed id of the built-in "Business" category (the same in every tenant). */
const BUSINESS = "2b73ae71-12c8-49be-b462-3dae769ccd9d";

interface Category {
  id: string;
  displayName: string;
}

function appBody(name: string): Record<string, unknown> {
  return {
    "@odata.type": "#microsoft.graph.win32LobApp",
    displayName: name,
    publisher: "Contoso",
    fileName: "setup.intunewin",
    setupFilePath: "setup.exe",
    installCommandLine: "setup.exe /S",
    uninstallCommandLine: "setup.exe /U",
    installExperience: { runAsAccount: "system", deviceRestartBehavior: "suppress" },
    detectionRules: [
      {
        "@odata.type": "#microsoft.graph.win32LobAppFileSystemDetection",
        path: "%ProgramFiles%\\Contoso",
        fileOrFolderName: "app.exe",
        check32BitOn64System: false,
        detectionType: "exists",
        operator: "notConfigured",
        detectionValue: null,
      },
    ],
  };
}

describe("mobileAppCategories and the categories navigation (Graph JS client against the local tenant)", () => {
  let lt: LocalTenant;
  let c: Client;
  const log = new CallLog();
  const ref = (id: string, origin = "https://graph.microsoft.com") => ({
    "@odata.id": `${origin}/beta/deviceAppManagement/mobileAppCategories/${id}`,
  });
  const linked = async (appId: string): Promise<string[]> =>
    ((await c.api(`${APPS}/${appId}/categories`).get()) as { value: Category[] }).value.map((x) => x.displayName);

  before(async () => {
    lt = await startLocalTenant({
      storage: false,
      seed: testSeed({
        tenantId: TENANT,
        roles: ["DeviceManagementApps.ReadWrite.All"],
        mobileAppCategories: [{ id: SEEDED, displayName: "Line of business" }, { displayName: "Security" }],
      }),
    });
    c = tenantGraphClient(lt, { log });
  });
  after(() => lt.close());

  it("lists Intune's nine built-in categories with their fixed ids, then the seed's; one by id; 404 for an unknown id", async () => {
    const all = ((await c.api(CATS).get()) as { value: Category[] }).value;
    assert.deepEqual(
      all.map((x) => x.displayName),
      [...BUILT_IN_CATEGORY_NAMES, "Line of business", "Security"],
    );
    // The ids a real tenant has (not derived from the name), and nothing a stock tenant lacks.
    assert.deepEqual(Object.fromEntries(all.slice(0, 9).map((x) => [x.displayName, x.id])), {
      "Other apps": "0720a99e-562b-4a77-83f0-9a7523fcf13e",
      "Books & Reference": "f1fc9fe2-728d-4867-9a72-a61e18f8c606",
      "Data management": "046e0b16-76ce-4b49-bf1b-1cc5bd94fb47",
      Productivity: "ed899483-3019-425e-a470-28e901b9790e",
      Business: BUSINESS,
      "Development & Design": "79bc98d4-7ddf-4841-9bc1-5c84a26d7ee8",
      "Photos & Media": "5dcd7a90-0306-4f09-a75d-6b97a243f04e",
      "Collaboration & Social": "f79135dc-8e41-48c1-9a59-ab9a7259c38e",
      "Computer management": "981deed8-6857-4e78-a50e-c3f61d312737",
    });
    assert.equal(builtInCategoryId("business"), BUSINESS);
    for (const missing of ["Education", "Entertainment"])
      assert.ok(!all.some((x) => x.displayName === missing), `${missing} is not a built-in category`);
    assert.equal(all.find((x) => x.displayName === "Line of business")?.id, SEEDED);
    assert.equal(all.find((x) => x.displayName === "Security")?.id, categoryGuid("Security"));
    assert.match(categoryGuid("Security"), /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const one = (await c.api(`${CATS}/${SEEDED}`).get()) as Category;
    assert.equal(one.displayName, "Line of business");
    assert.equal((await graphError(c.api(`${CATS}/${categoryGuid("Nope")}`).get())).statusCode, 404);
    // v1.0 serves them too.
    const v1 = tenantGraphClient(lt, { log, version: "v1.0" });
    assert.equal(((await v1.api(CATS).get()) as { value: Category[] }).value.length, all.length);
  });

  it("links with $ref (Graph's or the local origin), lists, expands, refuses duplicates, unlinks", async () => {
    const app = (await c.api(APPS).post(appBody("Linked"))) as Win32LobAppWire;
    assert.deepEqual(await linked(app.id), []);
    assert.equal(await c.api(`${APPS}/${app.id}/categories/$ref`).post(ref(BUSINESS)), undefined);
    await c.api(`${APPS}/${app.id}/categories/$ref`).post(ref(SEEDED, lt.authorityHost));
    assert.deepEqual(await linked(app.id), ["Business", "Line of business"]);

    const expanded = (await c.api(`${APPS}/${app.id}`).query({ $expand: "categories" }).get()) as {
      categories: Category[];
    };
    assert.deepEqual(
      expanded.categories.map((x) => x.id),
      [BUSINESS, SEEDED],
    );
    const list = (await c.api(APPS).query({ $expand: "categories" }).get()) as {
      value: (Win32LobAppWire & { categories: Category[] })[];
    };
    assert.equal(list.value.find((a) => a.id === app.id)?.categories.length, 2);

    const dup = await graphError(c.api(`${APPS}/${app.id}/categories/$ref`).post(ref(SEEDED)));
    assert.equal(dup.statusCode, 400);

    await c.api(`${APPS}/${app.id}/categories/${BUSINESS}/$ref`).delete();
    assert.deepEqual(await linked(app.id), ["Line of business"]);
    const again = await graphError(c.api(`${APPS}/${app.id}/categories/${BUSINESS}/$ref`).delete());
    assert.equal(again.statusCode, 404);
  });

  it("400 for a malformed $ref body, 404 for an unknown category or app; PATCH with categories stays refused", async () => {
    const app = (await c.api(APPS).post(appBody("Refs"))) as Win32LobAppWire;
    const post = (body: unknown) => graphError(c.api(`${APPS}/${app.id}/categories/$ref`).post(body));
    assert.equal((await post({})).statusCode, 400);
    assert.equal((await post({ "@odata.id": 42 })).statusCode, 400);
    assert.equal((await post(ref(SEEDED, "https://evil.example"))).statusCode, 400);
    assert.equal((await post({ "@odata.id": `https://graph.microsoft.com/beta${APPS}/${app.id}` })).statusCode, 400);
    assert.equal((await post(ref(categoryGuid("Unknown")))).statusCode, 404);
    const noApp = await graphError(c.api(`${APPS}/${categoryGuid("no app")}/categories/$ref`).post(ref(BUSINESS)));
    assert.equal(noApp.statusCode, 404);
    assert.deepEqual(await linked(app.id), []);

    const patch = await graphError(
      c.api(`${APPS}/${app.id}`).patch({ "@odata.type": "#microsoft.graph.win32LobApp", categories: [] }),
    );
    assert.equal(patch.statusCode, 400);
    assert.equal(patch.code, "ModelValidationFailure");
  });

  it("deleting an app drops its links", async () => {
    const app = (await c.api(APPS).post(appBody("Gone"))) as Win32LobAppWire;
    await c.api(`${APPS}/${app.id}/categories/$ref`).post(ref(SEEDED));
    await c.api(`${APPS}/${app.id}`).delete();
    assert.equal((await graphError(c.api(`${APPS}/${app.id}/categories`).get())).statusCode, 404);
  });

  it("reading needs DeviceManagementApps.Read.All or ReadWrite.All; linking needs ReadWrite.All (Intune's 403)", async () => {
    const as = (roles: string[]) => tenantGraphClient(lt, { log, roles });
    const app = (await c.api(APPS).post(appBody("Roles"))) as Win32LobAppWire;
    const reader = as(["DeviceManagementApps.Read.All"]);
    assert.ok(((await reader.api(CATS).get()) as { value: Category[] }).value.length > 0);
    assert.deepEqual(((await reader.api(`${APPS}/${app.id}/categories`).get()) as { value: Category[] }).value, []);
    const denied = await graphError(reader.api(`${APPS}/${app.id}/categories/$ref`).post(ref(SEEDED)));
    assert.equal(denied.statusCode, 403);
    assert.match(denied.message, /DeviceManagementApps\.ReadWrite\.All/);
    const unlinkDenied = await graphError(reader.api(`${APPS}/${app.id}/categories/${SEEDED}/$ref`).delete());
    assert.equal(unlinkDenied.statusCode, 403);
    const none = await graphError(as(["DeviceManagementConfiguration.Read.All"]).api(CATS).get());
    assert.equal(none.statusCode, 403);
  });

  it("never called any host but 127.0.0.1", () => {
    assert.ok(log.calls.length > 10);
    assert.deepEqual(
      log.calls.filter((x) => new URL(x.url).hostname !== "127.0.0.1"),
      [],
    );
  });
});
