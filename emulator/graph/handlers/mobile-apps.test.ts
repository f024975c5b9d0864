import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { BlockBlobClient } from "@azure/storage-blob";
import type { StoragePipelineOptions } from "@azure/storage-blob";
import type { Client } from "@microsoft/microsoft-graph-client";
import type { MobileAppContentFileWire, Win32LobAppWire } from "../../../src/core/wire/graph.js";
import { ManualClock } from "../../clock.js";
import { testSeed } from "../../testing/seed.js";
import { startLocalTenant } from "../../server.js";
import type { LocalTenant } from "../../server.js";
import { CallLog } from "../../testing/clients.js";
import { graphError, tenantGraphClient } from "../../testing/graph-client.js";
import { encryptPayload } from "../../testing/payload.js";
import type { TestPayload } from "../../testing/payload.js";
import { sevenZipAppBody } from "../../testing/publish.js";

const GROUP = "0a000000-0000-4000-8000-00000000000a";
const FILTER = "0f000000-0000-4000-8000-00000000000f";
const CAST = "microsoft.graph.win32LobApp";

const appBody = (name = "7-Zip"): Record<string, unknown> => sevenZipAppBody({ displayName: name, description: name });

describe("Intune Win32 flow (Graph JS client + @azure/storage-blob against the local tenant)", () => {
  let lt: LocalTenant;
  let c: Client;
  const clock = new ManualClock();
  const log = new CallLog();

  before(async () => {
    lt = await startLocalTenant({
      clock,
      uploadDelays: { sasIssueMs: 2000, renewalMs: 1000, commitMs: 3000 },
      seed: testSeed({
        tenantId: "44444444-2222-4333-8444-555555555555",
        roles: ["DeviceManagementApps.ReadWrite.All"],
        secret: "s",
        groups: [{ id: GROUP, displayName: "Pilot" }],
        assignmentFilters: [{ id: FILTER, displayName: "Only x64" }],
      }),
    });
    c = tenantGraphClient(lt, { log });
  });
  after(() => lt.close());

  const blob = (url: string): BlockBlobClient => {
    const options: StoragePipelineOptions & { tlsOptions: { ca: string } } = { tlsOptions: { ca: lt.caCertPem } };
    log.check("BLOB", url);
    return new BlockBlobClient(url, undefined, options);
  };
  const filesUrl = (appId: string, cv: string): string =>
    `/deviceAppManagement/mobileApps/${appId}/${CAST}/contentVersions/${cv}/files`;
  const getFile = async (appId: string, cv: string, fileId: string) =>
    (await c.api(`${filesUrl(appId, cv)}/${fileId}`).get()) as MobileAppContentFileWire;

  /** Create app → content version → file → wait for the URL (advancing the manual clock). */
  async function startUpload(p: TestPayload, name?: string) {
    const app = (await c.api("/deviceAppManagement/mobileApps").post(appBody(name))) as Win32LobAppWire;
    const cv = (await c.api(`/deviceAppManagement/mobileApps/${app.id}/${CAST}/contentVersions`).post({})) as {
      id: string;
    };
    const file = (await c.api(filesUrl(app.id, cv.id)).post({
      "@odata.type": "#microsoft.graph.mobileAppContentFile",
      name: "IntunePackage.intunewin",
      size: p.size,
      sizeEncrypted: p.sizeEncrypted,
      manifest: null,
      isDependency: false,
    })) as MobileAppContentFileWire;
    return { app, cv, file };
  }

  async function uploadBlocks(url: string, payload: Buffer, blockSize = 1024): Promise<string[]> {
    const b = blob(url);
    const ids: string[] = [];
    for (let i = 0, n = 0; i < payload.length; i += blockSize, n++) {
      const id = Buffer.from(String(n).padStart(4, "0")).toString("base64");
      const chunk = payload.subarray(i, i + blockSize);
      await b.stageBlock(id, chunk, chunk.length);
      ids.push(id);
    }
    await b.commitBlockList(ids);
    return ids;
  }

  it("creates a win32LobApp: 201 with the server-set properties (§2.1, §4 item 8)", async () => {
    const app = (await c
      .api("/deviceAppManagement/mobileApps")
      .post({ ...appBody("Arch"), allowedArchitectures: "x64" })) as Win32LobAppWire & { "@odata.type": string };
    assert.match(app.id, /^[0-9a-f-]{36}$/);
    assert.equal(app["@odata.type"], "#microsoft.graph.win32LobApp");
    assert.equal(app.publishingState, "notPublished");
    assert.equal(app.committedContentVersion, null);
    assert.equal(app.size, 0);
    assert.equal(app.applicableArchitectures, "none");
  });

  it("GET returns every property with Graph's default, nested objects typed; lists leave largeIcon out", async () => {
    const minimal = {
      "@odata.type": "#microsoft.graph.win32LobApp",
      displayName: "Defaults",
      fileName: "setup.intunewin",
      setupFilePath: "setup.exe",
      installCommandLine: "setup.exe /S",
      uninstallCommandLine: "setup.exe /U",
      installExperience: { runAsAccount: "user" },
      detectionRules: (appBody()["detectionRules"] as unknown[]).slice(0, 1),
    };
    const created = (await c.api("/deviceAppManagement/mobileApps").post(minimal)) as Record<string, unknown>;
    const got = (await c.api(`/deviceAppManagement/mobileApps/${String(created["id"])}`).get()) as Record<
      string,
      unknown
    >;
    for (const app of [created, got]) {
      assert.deepEqual(app["installExperience"], {
        "@odata.type": "#microsoft.graph.win32LobAppInstallExperience",
        runAsAccount: "user",
        deviceRestartBehavior: "basedOnReturnCode",
        maxRunTimeInMinutes: 60,
        inUseBehavior: null,
      });
      assert.deepEqual(
        (app["returnCodes"] as { returnCode: number; type: string; "@odata.type": string }[]).map((r) => [
          r["@odata.type"],
          r.returnCode,
          r.type,
        ]),
        [
          ["#microsoft.graph.win32LobAppReturnCode", 0, "success"],
          ["#microsoft.graph.win32LobAppReturnCode", 1707, "success"],
          ["#microsoft.graph.win32LobAppReturnCode", 3010, "softReboot"],
          ["#microsoft.graph.win32LobAppReturnCode", 1641, "hardReboot"],
          ["#microsoft.graph.win32LobAppReturnCode", 1618, "retry"],
        ],
      );
      for (const [k, v] of Object.entries({
        applicableArchitectures: "none",
        allowedArchitectures: null,
        allowAvailableUninstall: false,
        minimumSupportedWindowsRelease: null,
        minimumFreeDiskSpaceInMB: null,
        displayVersion: null,
        msiInformation: null,
        description: null,
        publisher: null,
        developer: null,
        owner: null,
        notes: null,
        informationUrl: null,
        privacyInformationUrl: null,
        isFeatured: false,
        largeIcon: null,
        roleScopeTagIds: ["0"],
        dependentAppCount: 0,
        supersedingAppCount: 0,
        supersededAppCount: 0,
        uploadState: 0,
        publishingState: "notPublished",
        isAssigned: false,
        committedContentVersion: null,
        size: 0,
        requirementRules: [],
        activeInstallScript: null,
      }))
        assert.deepEqual(app[k], v, k);
      assert.match(String(app["createdDateTime"]), /^\d{4}-\d{2}-\d{2}T/);
      assert.equal(app["lastModifiedDateTime"], app["createdDateTime"]);
    }
    const list = (await c.api("/deviceAppManagement/mobileApps").get()) as { value: Record<string, unknown>[] };
    const listed = list.value.find((a) => a["id"] === created["id"]);
    assert.ok(listed && !("largeIcon" in listed), "a list leaves largeIcon out");
    assert.equal((listed["installExperience"] as Record<string, unknown>)["maxRunTimeInMinutes"], 60);
    const selected = (await c.api("/deviceAppManagement/mobileApps").select("id,largeIcon").get()) as {
      value: Record<string, unknown>[];
    };
    assert.equal(selected.value.find((a) => a["id"] === created["id"])?.["largeIcon"], null);
  });

  it("refuses an app without a detection rule, and a PATCH without @odata.type (§2.1, §2.8)", async () => {
    const e = await graphError(c.api("/deviceAppManagement/mobileApps").post({ ...appBody(), detectionRules: [] }));
    assert.equal(e.statusCode, 400);
    assert.match(e.message, /at least one detection rule/);
    const app = (await c.api("/deviceAppManagement/mobileApps").post(appBody("Patch me"))) as Win32LobAppWire;
    const p = await graphError(c.api(`/deviceAppManagement/mobileApps/${app.id}`).patch({ displayVersion: "2" }));
    assert.equal(p.statusCode, 400);
    assert.equal(p.code, "ModelValidationFailure");
    await c
      .api(`/deviceAppManagement/mobileApps/${app.id}`)
      .patch({ "@odata.type": "#microsoft.graph.win32LobApp", displayVersion: "2" });
    assert.equal(
      ((await c.api(`/deviceAppManagement/mobileApps/${app.id}`).get()) as Win32LobAppWire).displayVersion,
      "2",
    );
  });

  it("full path: SAS after the delay, block upload with the storage SDK, commit verified, app published", async () => {
    const p = encryptPayload(randomBytes(5000));
    const { app, cv, file } = await startUpload(p);
    assert.equal(cv.id, "1");
    assert.equal(file.uploadState, "azureStorageUriRequestPending");
    assert.equal(file.azureStorageUri, null);
    clock.advance(1999);
    assert.equal((await getFile(app.id, cv.id, file.id)).uploadState, "azureStorageUriRequestPending");
    clock.advance(1);
    const ready = await getFile(app.id, cv.id, file.id);
    assert.equal(ready.uploadState, "azureStorageUriRequestSuccess");
    assert.ok(ready.azureStorageUri);
    assert.match(
      ready.azureStorageUri,
      /^https:\/\/127\.0\.0\.1:\d+\/devstoreaccount1\/[^?]+\.intunewin\.bin\?sv=2017-04-17&sr=b&si=[^&]+&sig=/,
    );
    const ids = await uploadBlocks(ready.azureStorageUri, p.payload);
    const list = await blob(ready.azureStorageUri).getBlockList("committed");
    assert.equal(list.committedBlocks?.length, ids.length);

    // Not yet committed: committedContentVersion is refused (docs/reference/graph-win32-upload.md §4 item 22).
    const early = await graphError(
      c
        .api(`/deviceAppManagement/mobileApps/${app.id}`)
        .patch({ "@odata.type": "#microsoft.graph.win32LobApp", committedContentVersion: "1" }),
    );
    assert.equal(early.statusCode, 400);

    await c.api(`${filesUrl(app.id, cv.id)}/${file.id}/commit`).post({ fileEncryptionInfo: p.fileEncryptionInfo });
    await lt.admin.uploadsSettled();
    assert.equal((await getFile(app.id, cv.id, file.id)).uploadState, "commitFilePending");
    clock.advance(3100);
    const committed = await getFile(app.id, cv.id, file.id);
    assert.equal(committed.uploadState, "commitFileSuccess");
    assert.equal(committed.isCommitted, true);

    const again = await graphError(
      c.api(`${filesUrl(app.id, cv.id)}/${file.id}/commit`).post({ fileEncryptionInfo: p.fileEncryptionInfo }),
    );
    assert.equal(again.statusCode, 400);

    await c
      .api(`/deviceAppManagement/mobileApps/${app.id}`)
      .patch({ "@odata.type": "#microsoft.graph.win32LobApp", committedContentVersion: "1" });
    const published = (await c.api(`/deviceAppManagement/mobileApps/${app.id}`).get()) as Win32LobAppWire;
    assert.equal(published.publishingState, "published");
    assert.equal(published.committedContentVersion, "1");
    assert.equal(published.size, 5000);
  });

  it("tampered content: commit answers 204, then the state becomes commitFileFailed (§4 items 16–21)", async () => {
    const p = encryptPayload(randomBytes(3000));
    const { app, cv, file } = await startUpload(p, "Tampered");
    clock.advance(2000);
    const ready = await getFile(app.id, cv.id, file.id);
    const bad = Buffer.from(p.payload);
    bad[bad.length - 20] = (bad[bad.length - 20] ?? 0) ^ 0xff;
    await uploadBlocks(ready.azureStorageUri ?? "", bad);
    await c.api(`${filesUrl(app.id, cv.id)}/${file.id}/commit`).post({ fileEncryptionInfo: p.fileEncryptionInfo });
    await lt.admin.uploadsSettled();
    clock.advance(3100);
    assert.equal((await getFile(app.id, cv.id, file.id)).uploadState, "commitFileFailed");
  });

  it("a commit with no block list fails asynchronously too", async () => {
    const p = encryptPayload(randomBytes(100));
    const { app, cv, file } = await startUpload(p, "Never uploaded");
    clock.advance(2000);
    await getFile(app.id, cv.id, file.id);
    await c.api(`${filesUrl(app.id, cv.id)}/${file.id}/commit`).post({ fileEncryptionInfo: p.fileEncryptionInfo });
    await lt.admin.uploadsSettled();
    clock.advance(3100);
    assert.equal((await getFile(app.id, cv.id, file.id)).uploadState, "commitFileFailed");
  });

  it("refuses commit before the URL is issued and a body without fileEncryptionInfo (§4 items 11, 16)", async () => {
    const p = encryptPayload(randomBytes(100));
    const { app, cv, file } = await startUpload(p, "Too early");
    const early = await graphError(
      c.api(`${filesUrl(app.id, cv.id)}/${file.id}/commit`).post({ fileEncryptionInfo: p.fileEncryptionInfo }),
    );
    assert.equal(early.statusCode, 400);
    clock.advance(2000);
    await getFile(app.id, cv.id, file.id);
    const missing = await graphError(c.api(`${filesUrl(app.id, cv.id)}/${file.id}/commit`).post({}));
    assert.equal(missing.statusCode, 400);
  });

  it("refuses a file whose sizeEncrypted does not match size (§4 item 10)", async () => {
    const app = (await c.api("/deviceAppManagement/mobileApps").post(appBody("Sizes"))) as Win32LobAppWire;
    const cv = (await c.api(`/deviceAppManagement/mobileApps/${app.id}/${CAST}/contentVersions`).post({})) as {
      id: string;
    };
    const e = await graphError(
      c.api(filesUrl(app.id, cv.id)).post({ name: "x.intunewin", size: 100, sizeEncrypted: 100 }),
    );
    assert.equal(e.statusCode, 400);
  });

  it("renewUpload: 204, renewal pending then success, the same URL keeps working (§2.6, §4 item 13)", async () => {
    const p = encryptPayload(randomBytes(2048));
    const { app, cv, file } = await startUpload(p, "Renewed");
    clock.advance(2000);
    const ready = await getFile(app.id, cv.id, file.id);
    const url = ready.azureStorageUri ?? "";
    await blob(url).stageBlock(Buffer.from("0000").toString("base64"), p.payload.subarray(0, 1024), 1024);
    await c.api(`${filesUrl(app.id, cv.id)}/${file.id}/renewUpload`).post({});
    assert.equal((await getFile(app.id, cv.id, file.id)).uploadState, "azureStorageUriRenewalPending");
    clock.advance(1000);
    const renewed = await getFile(app.id, cv.id, file.id);
    assert.equal(renewed.uploadState, "azureStorageUriRenewalSuccess");
    assert.equal(renewed.azureStorageUri, url);
    const b = blob(url);
    await b.stageBlock(Buffer.from("0001").toString("base64"), p.payload.subarray(1024), p.payload.length - 1024);
    const blocks = await b.getBlockList("uncommitted");
    assert.equal(blocks.uncommittedBlocks?.length, 2, "blocks staged before the renewal survive it");
  });

  it("an expired upload URL answers 403 to the storage SDK until renewUpload extends it", async () => {
    const p = encryptPayload(randomBytes(1024));
    const { app, cv, file } = await startUpload(p, "Expired");
    clock.advance(2000);
    const url = (await getFile(app.id, cv.id, file.id)).azureStorageUri ?? "";
    await lt.admin.expireUploadUrl(file.id);
    const id = Buffer.from("0000").toString("base64");
    await assert.rejects(
      blob(url).stageBlock(id, p.payload, p.payload.length),
      (e: unknown) => (e as { statusCode?: number }).statusCode === 403,
    );
    await c.api(`${filesUrl(app.id, cv.id)}/${file.id}/renewUpload`).post({});
    clock.advance(1000);
    assert.equal((await getFile(app.id, cv.id, file.id)).uploadState, "azureStorageUriRenewalSuccess");
    await blob(url).stageBlock(id, p.payload, p.payload.length);
  });

  it("serves the URL forms of Microsoft's Kiota SDKs: graph.* casts and namespace-qualified actions", async () => {
    const APPS = "/deviceAppManagement/mobileApps";
    const p = encryptPayload(randomBytes(2048));
    const app = (await c.api(APPS).post(appBody("Kiota"))) as Win32LobAppWire;
    // The collection cast filters to that type, with either prefix (mobileLobApp is win32LobApp's base type).
    for (const cast of ["graph.win32LobApp", "microsoft.graph.win32LobApp", "graph.mobileLobApp"]) {
      const list = (await c.api(`${APPS}/${cast}`).query({ $select: "id,displayName" }).get()) as {
        "@odata.context": string;
        value: (Win32LobAppWire & { "@odata.type": string })[];
      };
      assert.ok(
        list.value.some((a) => a.id === app.id),
        cast,
      );
      assert.ok(list.value.every((a) => a["@odata.type"] === "#microsoft.graph.win32LobApp"));
    }
    const one = (await c.api(`${APPS}/${app.id}/graph.win32LobApp`).get()) as Win32LobAppWire;
    assert.equal(one.id, app.id);
    assert.equal(one.displayName, "Kiota");

    // The whole upload through `graph.win32LobApp` and `microsoft.graph.renewUpload` / `microsoft.graph.commit`.
    const versions = `${APPS}/${app.id}/graph.win32LobApp/contentVersions`;
    const cv = (await c.api(versions).post({})) as { id: string };
    const files = `${versions}/${cv.id}/files`;
    const file = (await c.api(files).post({
      "@odata.type": "#microsoft.graph.mobileAppContentFile",
      name: "IntunePackage.intunewin",
      size: p.size,
      sizeEncrypted: p.sizeEncrypted,
      manifest: null,
    })) as MobileAppContentFileWire;
    clock.advance(2000);
    const ready = (await c.api(`${files}/${file.id}`).get()) as MobileAppContentFileWire;
    assert.equal(ready.uploadState, "azureStorageUriRequestSuccess");
    await c.api(`${files}/${file.id}/microsoft.graph.renewUpload`).post({});
    clock.advance(1000);
    assert.equal(
      ((await c.api(`${files}/${file.id}`).get()) as MobileAppContentFileWire).uploadState,
      "azureStorageUriRenewalSuccess",
    );
    await uploadBlocks(ready.azureStorageUri ?? "", p.payload);
    await c.api(`${files}/${file.id}/microsoft.graph.commit`).post({ fileEncryptionInfo: p.fileEncryptionInfo });
    await lt.admin.uploadsSettled();
    clock.advance(3100);
    assert.equal(
      ((await c.api(`${files}/${file.id}`).get()) as MobileAppContentFileWire).uploadState,
      "commitFileSuccess",
    );
    await c
      .api(`${APPS}/${app.id}`)
      .patch({ "@odata.type": "#microsoft.graph.win32LobApp", committedContentVersion: cv.id });

    // Bound actions with either namespace prefix.
    const target = { "@odata.type": "#microsoft.graph.groupAssignmentTarget", groupId: GROUP };
    await c
      .api(`${APPS}/${app.id}/microsoft.graph.assign`)
      .post({ mobileAppAssignments: [{ intent: "required", target }] });
    await c.api(`${APPS}/${app.id}/graph.assign`).post({ mobileAppAssignments: [{ intent: "available", target }] });
    const assigned = (await c.api(`${APPS}/${app.id}/assignments`).get()) as { value: { intent: string }[] };
    assert.deepEqual(
      assigned.value.map((a) => a.intent),
      ["available"],
    );
    await c.api(`${APPS}/${app.id}/microsoft.graph.updateRelationships`).post({ relationships: [] });
    // A cast to a type the app is not, and an unknown qualified segment, are still refused.
    assert.equal((await graphError(c.api(`${APPS}/${app.id}/graph.iosLobApp`).get())).statusCode, 501);
    assert.equal(
      (await graphError(c.api(`${APPS}/${app.id}/graph.mobileLobApp/contentVersions/1/files`).get())).statusCode,
      400,
    );
  });

  it("getPublishingConstraints gives the content size cap", async () => {
    const r = (await c.api("/deviceAppManagement/mobileApps/getPublishingConstraints").get()) as {
      win32LobAppConstraints: { maxContentFileSizeInBytes: number };
    };
    assert.equal(r.win32LobAppConstraints.maxContentFileSizeInBytes, 30_000_000_000);
  });

  it("an injected sasRequest fault ends in azureStorageUriRequestFailed", async () => {
    lt.admin.addUploadFault({ stage: "sasRequest", outcome: "failed", count: 1 });
    const { app, cv, file } = await startUpload(encryptPayload(randomBytes(10)), "Fault");
    clock.advance(2000);
    assert.equal((await getFile(app.id, cv.id, file.id)).uploadState, "azureStorageUriRequestFailed");
  });

  describe("assignments and relationships", () => {
    let published: string;
    let other: string;
    before(async () => {
      const make = async (name: string) => {
        const p = encryptPayload(randomBytes(64));
        const { app, cv, file } = await startUpload(p, name);
        clock.advance(2000);
        const ready = await getFile(app.id, cv.id, file.id);
        await uploadBlocks(ready.azureStorageUri ?? "", p.payload);
        await c.api(`${filesUrl(app.id, cv.id)}/${file.id}/commit`).post({ fileEncryptionInfo: p.fileEncryptionInfo });
        await lt.admin.uploadsSettled();
        clock.advance(3100);
        await getFile(app.id, cv.id, file.id);
        await c
          .api(`/deviceAppManagement/mobileApps/${app.id}`)
          .patch({ "@odata.type": "#microsoft.graph.win32LobApp", committedContentVersion: cv.id });
        return app.id;
      };
      published = await make("Published A");
      other = await make("Published B");
    });

    it("refuses to assign an unpublished app", async () => {
      const app = (await c.api("/deviceAppManagement/mobileApps").post(appBody("Unpublished"))) as Win32LobAppWire;
      const e = await graphError(
        c.api(`/deviceAppManagement/mobileApps/${app.id}/assign`).post({
          mobileAppAssignments: [
            { intent: "required", target: { "@odata.type": "#microsoft.graph.allDevicesAssignmentTarget" } },
          ],
        }),
      );
      assert.equal(e.statusCode, 400);
    });

    it("assign replaces all, assignments adds one, ids follow <group>_<intent>_<mode>, $expand=assignments", async () => {
      await c.api(`/deviceAppManagement/mobileApps/${published}/assign`).post({
        mobileAppAssignments: [
          {
            "@odata.type": "#microsoft.graph.mobileAppAssignment",
            intent: "required",
            target: {
              "@odata.type": "#microsoft.graph.groupAssignmentTarget",
              groupId: GROUP,
              deviceAndAppManagementAssignmentFilterId: FILTER,
              deviceAndAppManagementAssignmentFilterType: "include",
            },
            settings: {
              "@odata.type": "#microsoft.graph.win32LobAppAssignmentSettings",
              notifications: "showAll",
              deliveryOptimizationPriority: "notConfigured",
            },
          },
          { intent: "available", target: { "@odata.type": "#microsoft.graph.allLicensedUsersAssignmentTarget" } },
        ],
      });
      const added = (await c
        .api(`/deviceAppManagement/mobileApps/${published}/assignments`)
        .post({ intent: "required", target: { "@odata.type": "#microsoft.graph.allDevicesAssignmentTarget" } })) as {
        id: string;
      };
      assert.equal(added.id, "adadadad-808e-44e2-905a-0b7873a8a531_1_0");
      const list = (await c.api(`/deviceAppManagement/mobileApps/${published}/assignments`).get()) as {
        value: { id: string }[];
      };
      assert.deepEqual(
        list.value.map((a) => a.id).sort(),
        [`${GROUP}_1_0`, "acacacac-9df4-4c7d-9d50-4ef0226f57a9_0_0", "adadadad-808e-44e2-905a-0b7873a8a531_1_0"].sort(),
      );
      const expanded = (await c.api(`/deviceAppManagement/mobileApps/${published}`).expand("assignments").get()) as {
        isAssigned: boolean;
        assignments: unknown[];
      };
      assert.equal(expanded.isAssigned, true);
      assert.equal(expanded.assignments.length, 3);
      await c.api(`/deviceAppManagement/mobileApps/${published}/assign`).post({ mobileAppAssignments: [] });
      const empty = (await c.api(`/deviceAppManagement/mobileApps/${published}`).get()) as { isAssigned: boolean };
      assert.equal(empty.isAssigned, false);
    });

    it("refuses settings on an exclusion target and an unknown intent", async () => {
      const ex = await graphError(
        c.api(`/deviceAppManagement/mobileApps/${published}/assignments`).post({
          intent: "required",
          target: { "@odata.type": "#microsoft.graph.exclusionGroupAssignmentTarget", groupId: GROUP },
          settings: { notifications: "showAll" },
        }),
      );
      assert.equal(ex.statusCode, 400);
      const intent = await graphError(
        c
          .api(`/deviceAppManagement/mobileApps/${published}/assignments`)
          .post({ intent: "mandatory", target: { "@odata.type": "#microsoft.graph.allDevicesAssignmentTarget" } }),
      );
      assert.equal(intent.statusCode, 400);
      assert.match(intent.message, /Requested value 'mandatory' was not found/);
    });

    it("updateRelationships: both directions visible, self and cycles refused, dependency blocks DELETE", async () => {
      const self = await graphError(
        c.api(`/deviceAppManagement/mobileApps/${published}/updateRelationships`).post({
          relationships: [
            {
              "@odata.type": "#microsoft.graph.mobileAppSupersedence",
              supersedenceType: "update",
              targetId: published,
            },
          ],
        }),
      );
      assert.equal(self.statusCode, 400);
      await c.api(`/deviceAppManagement/mobileApps/${published}/updateRelationships`).post({
        relationships: [
          { "@odata.type": "#microsoft.graph.mobileAppDependency", dependencyType: "autoInstall", targetId: other },
        ],
      });
      const mine = (await c.api(`/deviceAppManagement/mobileApps/${published}/relationships`).get()) as {
        value: { targetId: string; targetType: string }[];
      };
      assert.deepEqual(
        mine.value.map((r) => [r.targetId, r.targetType]),
        [[other, "child"]],
      );
      const theirs = (await c.api(`/deviceAppManagement/mobileApps/${other}/relationships`).get()) as {
        value: { targetId: string; targetType: string }[];
      };
      assert.deepEqual(
        theirs.value.map((r) => [r.targetId, r.targetType]),
        [[published, "parent"]],
      );
      const cycle = await graphError(
        c.api(`/deviceAppManagement/mobileApps/${other}/updateRelationships`).post({
          relationships: [
            { "@odata.type": "#microsoft.graph.mobileAppDependency", dependencyType: "detect", targetId: published },
          ],
        }),
      );
      assert.equal(cycle.statusCode, 400);
      assert.match(cycle.message, /cycle/);
      const del = await graphError(c.api(`/deviceAppManagement/mobileApps/${other}`).delete());
      assert.equal(del.statusCode, 400);
      await c.api(`/deviceAppManagement/mobileApps/${published}/updateRelationships`).post({ relationships: [] });
      await c.api(`/deviceAppManagement/mobileApps/${other}`).delete();
      const gone = await graphError(c.api(`/deviceAppManagement/mobileApps/${other}`).get());
      assert.equal(gone.statusCode, 404);
    });

    it("lists apps with $filter=isof('microsoft.graph.win32LobApp') and $select", async () => {
      const r = (await c
        .api("/deviceAppManagement/mobileApps")
        .filter("isof('microsoft.graph.win32LobApp') and displayName eq 'Published A'")
        .select("displayName,publishingState")
        .get()) as { value: Record<string, unknown>[] };
      assert.equal(r.value.length, 1);
      assert.deepEqual(Object.keys(r.value[0] ?? {}).sort(), ["@odata.type", "displayName", "id", "publishingState"]);
      const none = (await c
        .api("/deviceAppManagement/mobileApps")
        .filter("isof('microsoft.graph.iosLobApp')")
        .get()) as { value: unknown[] };
      assert.equal(none.value.length, 0);
    });
  });

  it("v1.0: beta-only properties are unknown (400) and absent from responses; relationships are beta only (§2.14)", async () => {
    const v1 = tenantGraphClient(lt, { log, version: "v1.0" });
    const rejected = await graphError(v1.api("/deviceAppManagement/mobileApps").post(appBody("v1 legacy")));
    assert.equal(rejected.statusCode, 400);
    assert.equal(rejected.code, "ModelValidationFailure");
    const { detectionRules: _d, displayVersion: _v, installExperience: _i, ...rest } = appBody("v1 rules");
    const created = (await v1.api("/deviceAppManagement/mobileApps").post({
      ...rest,
      installExperience: { runAsAccount: "system", deviceRestartBehavior: "suppress" },
      rules: [
        {
          "@odata.type": "#microsoft.graph.win32LobAppFileSystemRule",
          ruleType: "detection",
          path: "%ProgramFiles%\\7-Zip",
          fileOrFolderName: "7z.exe",
          check32BitOn64System: false,
          operationType: "exists",
          operator: "notConfigured",
          comparisonValue: null,
        },
      ],
    })) as Record<string, unknown>;
    assert.equal(created["roleScopeTagIds"], undefined);
    assert.equal(created["isAssigned"], undefined);
    const beta = (await c.api(`/deviceAppManagement/mobileApps/${String(created["id"])}`).get()) as Record<
      string,
      unknown
    >;
    assert.deepEqual(beta["roleScopeTagIds"], ["0"]);
    const rel = await graphError(
      v1.api(`/deviceAppManagement/mobileApps/${String(created["id"])}/relationships`).get(),
    );
    assert.equal(rel.statusCode, 501);
  });

  it("never called any host but 127.0.0.1", () => {
    assert.ok(log.calls.length > 20);
    assert.deepEqual(
      log.calls.filter((x) => new URL(x.url).hostname !== "127.0.0.1"),
      [],
    );
  });
});

describe("mobileApps switches: patchReturnsBody, clearLargeIconOnCommitPatch, requirePublishedForAssignment off", () => {
  it("answers PATCH with 200 and the app, clears largeIcon on a commit PATCH without it, allows assigning unpublished apps", async () => {
    const clock = new ManualClock();
    const log = new CallLog();
    const lt = await startLocalTenant({
      clock,
      uploadDelays: { sasIssueMs: 10, renewalMs: 10, commitMs: 10 },
      mobileApps: { patchReturnsBody: true, clearLargeIconOnCommitPatch: true, requirePublishedForAssignment: false },
      seed: testSeed({
        tenantId: "88888888-2222-4333-8444-555555555555",
        roles: ["DeviceManagementApps.ReadWrite.All"],
      }),
    });
    try {
      const c = tenantGraphClient(lt, { log });
      const icon = {
        "@odata.type": "#microsoft.graph.mimeContent",
        type: "image/png",
        value: Buffer.from("png").toString("base64"),
      };
      const app = (await c
        .api("/deviceAppManagement/mobileApps")
        .post({ ...appBody("Icon"), largeIcon: icon })) as Win32LobAppWire;
      await c.api(`/deviceAppManagement/mobileApps/${app.id}/assign`).post({
        mobileAppAssignments: [
          { intent: "available", target: { "@odata.type": "#microsoft.graph.allLicensedUsersAssignmentTarget" } },
        ],
      });
      const p = encryptPayload(randomBytes(32));
      await c.api(`/deviceAppManagement/mobileApps/${app.id}/${CAST}/contentVersions`).post({});
      const base = `/deviceAppManagement/mobileApps/${app.id}/${CAST}/contentVersions/1/files`;
      const file = (await c
        .api(base)
        .post({ name: "a", size: p.size, sizeEncrypted: p.sizeEncrypted })) as MobileAppContentFileWire;
      clock.advance(10);
      const url = ((await c.api(`${base}/${file.id}`).get()) as MobileAppContentFileWire).azureStorageUri ?? "";
      const options: StoragePipelineOptions & { tlsOptions: { ca: string } } = { tlsOptions: { ca: lt.caCertPem } };
      log.check("BLOB", url);
      const b = new BlockBlobClient(url, undefined, options);
      await b.stageBlock("MDAwMA==", p.payload, p.payload.length);
      await b.commitBlockList(["MDAwMA=="]);
      await c.api(`${base}/${file.id}/commit`).post({ fileEncryptionInfo: p.fileEncryptionInfo });
      await lt.admin.uploadsSettled();
      clock.advance(20); // commitMs + commitMsPerMiB for the size
      assert.equal(
        ((await c.api(`${base}/${file.id}`).get()) as MobileAppContentFileWire).uploadState,
        "commitFileSuccess",
      );
      const patched = (await c
        .api(`/deviceAppManagement/mobileApps/${app.id}`)
        .patch({ "@odata.type": "#microsoft.graph.win32LobApp", committedContentVersion: "1" })) as Win32LobAppWire;
      assert.equal(patched.publishingState, "published");
      assert.equal(patched.largeIcon, null);
    } finally {
      await lt.close();
    }
  });
});
