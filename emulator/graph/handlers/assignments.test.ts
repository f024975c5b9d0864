// Sections (§) cited here are those of docs/reference/graph-win32-upload.md.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { GraphError as ClientGraphError } from "@microsoft/microsoft-graph-client";
import type { Client } from "@microsoft/microsoft-graph-client";
import { ManualClock } from "../../clock.js";
import { testSeed } from "../../testing/seed.js";
import { startLocalTenant } from "../../server.js";
import type { LocalTenant } from "../../server.js";
import { MemoryStore } from "../../store.js";
import { CallLog } from "../../testing/clients.js";
import { graphError, tenantGraphClient } from "../../testing/graph-client.js";
import { createPublishedApp, win32AppBody } from "../../testing/publish.js";
import { FILTER_ON_EXCLUSION, wrongPlatformMessage } from "./assignments.js";

const GROUP = "0a000000-0000-4000-8000-00000000000a";
const WIN_FILTER = "0f000000-0000-4000-8000-00000000000f";
const IOS_FILTER = "0f000000-0000-4000-8000-0000000000f2";
const ESP = "7e000000-0000-4000-8000-000000000001";
const APPS = "/deviceAppManagement/mobileApps";

/** The inner `Message` of Intune's JSON-in-message error body (docs/reference/entra-errors.md §2.3). */
function intuneText(e: ClientGraphError): string {
  return (JSON.parse(e.message) as { Message: string }).Message;
}

describe("assignments, relationships and app deletion (Graph JS client against the local tenant)", () => {
  let lt: LocalTenant;
  let c: Client;
  const clock = new ManualClock();
  const log = new CallLog();
  let published: string;

  before(async () => {
    lt = await startLocalTenant({
      clock,
      uploadDelays: { sasIssueMs: 10, renewalMs: 10, commitMs: 10 },
      seed: testSeed({
        tenantId: "45454545-2222-4333-8444-555555555555",
        roles: ["DeviceManagementApps.ReadWrite.All", "DeviceManagementServiceConfig.ReadWrite.All"],
        secret: "s",
        groups: [{ id: GROUP, displayName: "Pilot devices" }],
        assignmentFilters: [
          { id: WIN_FILTER, displayName: "Windows 11 only", rule: '(device.osVersion -startsWith "10.0.22")' },
          { id: IOS_FILTER, displayName: "iOS corporate", platform: "iOS" },
        ],
        roleScopeTags: [
          { id: "0", displayName: "Default", isBuiltIn: true },
          { id: "1", displayName: "Europe" },
        ],
        espProfiles: [{ id: ESP, displayName: "Kiosk ESP", priority: 1 }],
      }),
    });
    c = tenantGraphClient(lt, { log });
    published = await createPublishedApp(c, lt, clock, log, "Assigned");
  });
  after(() => lt.close());

  const add = (body: Record<string, unknown>, appId = published) => c.api(`${APPS}/${appId}/assignments`).post(body);
  const groupTarget = (extra: Record<string, unknown> = {}) => ({
    "@odata.type": "#microsoft.graph.groupAssignmentTarget",
    groupId: GROUP,
    ...extra,
  });
  const clear = () => c.api(`${APPS}/${published}/assign`).post({ mobileAppAssignments: [] });
  /** Settings as clients send them: typed win32LobAppAssignmentSettings unless the case says otherwise. */
  const typed = (settings: unknown): unknown =>
    typeof settings === "object" && settings !== null && !Array.isArray(settings) && !("@odata.type" in settings)
      ? { "@odata.type": "#microsoft.graph.win32LobAppAssignmentSettings", ...settings }
      : settings;
  /** POSTs one required group assignment with these settings (typed), expecting a Graph error. */
  const settingsError = async (settings: unknown) => {
    const e = await graphError(add({ intent: "required", target: groupTarget(), settings: typed(settings) }));
    assert.equal(e.statusCode, 400);
    return e;
  };

  describe("win32LobAppAssignmentSettings (§2.12)", () => {
    it("stores and returns the full shape, filling Graph's defaults", async () => {
      await clear();
      const created = (await add({
        intent: "required",
        target: groupTarget(),
        settings: { "@odata.type": "#microsoft.graph.win32LobAppAssignmentSettings", notifications: "hideAll" },
      })) as { id: string; settings: Record<string, unknown> };
      const expected = {
        "@odata.type": "#microsoft.graph.win32LobAppAssignmentSettings",
        notifications: "hideAll",
        restartSettings: null,
        installTimeSettings: null,
        deliveryOptimizationPriority: "notConfigured",
        autoUpdateSettings: null,
      };
      assert.deepEqual(created.settings, expected);
      const got = (await c.api(`${APPS}/${published}/assignments/${created.id}`).get()) as {
        settings: Record<string, unknown>;
      };
      assert.deepEqual(got.settings, expected);
      // A settings object with only its type gets every default.
      await clear();
      const empty = (await add({ intent: "available", target: groupTarget(), settings: typed({}) })) as {
        settings: Record<string, unknown>;
      };
      assert.deepEqual(empty.settings, { ...expected, notifications: "showAll" });
    });

    it("settings without @odata.type are the abstract mobileAppAssignmentSettings: 400 as Graph answers", async () => {
      await clear();
      const untyped = await graphError(
        add({ intent: "required", target: groupTarget(), settings: { notifications: "showAll" } }),
      );
      assert.equal(untyped.statusCode, 400);
      assert.equal(untyped.code, "ModelValidationFailure");
      assert.match(
        untyped.message,
        /The property 'notifications' does not exist on type 'microsoft\.management\.services\.api\.mobileAppAssignmentSettings'/,
      );
      const empty = await graphError(add({ intent: "required", target: groupTarget(), settings: {} }));
      assert.equal(empty.code, "ModelValidationFailure");
      assert.match(empty.message, /abstract type 'microsoft\.management\.services\.api\.mobileAppAssignmentSettings'/);
      // Nothing was stored.
      assert.deepEqual(((await c.api(`${APPS}/${published}/assignments`).get()) as { value: unknown[] }).value, []);
    });

    it("round-trips the §2.12 example, nested objects typed and nullable members filled", async () => {
      await clear();
      await c.api(`${APPS}/${published}/assign`).post({
        mobileAppAssignments: [
          {
            "@odata.type": "#microsoft.graph.mobileAppAssignment",
            intent: "required",
            target: groupTarget({
              deviceAndAppManagementAssignmentFilterId: WIN_FILTER,
              deviceAndAppManagementAssignmentFilterType: "include",
            }),
            settings: {
              "@odata.type": "#microsoft.graph.win32LobAppAssignmentSettings",
              notifications: "showAll",
              deliveryOptimizationPriority: "foreground",
              installTimeSettings: {
                useLocalTime: false,
                startDateTime: null,
                deadlineDateTime: "2025-01-31T18:00:00.000Z",
              },
              restartSettings: {
                "@odata.type": "#microsoft.graph.win32LobAppRestartSettings",
                gracePeriodInMinutes: 1440,
                countdownDisplayBeforeRestartInMinutes: 15,
              },
              autoUpdateSettings: { autoUpdateSupersededAppsState: "enabled" },
            },
            source: "direct",
          },
        ],
      });
      const list = (await c.api(`${APPS}/${published}/assignments`).get()) as {
        value: { target: Record<string, unknown>; settings: Record<string, unknown> }[];
      };
      assert.equal(list.value.length, 1);
      const a = list.value[0];
      assert.equal(a?.target["deviceAndAppManagementAssignmentFilterId"], WIN_FILTER);
      assert.deepEqual(a?.settings, {
        "@odata.type": "#microsoft.graph.win32LobAppAssignmentSettings",
        notifications: "showAll",
        restartSettings: {
          "@odata.type": "#microsoft.graph.win32LobAppRestartSettings",
          gracePeriodInMinutes: 1440,
          countdownDisplayBeforeRestartInMinutes: 15,
          restartNotificationSnoozeDurationInMinutes: null,
        },
        installTimeSettings: {
          "@odata.type": "#microsoft.graph.mobileAppInstallTimeSettings",
          useLocalTime: false,
          startDateTime: null,
          deadlineDateTime: "2025-01-31T18:00:00.000Z",
        },
        deliveryOptimizationPriority: "foreground",
        autoUpdateSettings: {
          "@odata.type": "#microsoft.graph.win32LobAppAutoUpdateSettings",
          autoUpdateSupersededAppsState: "enabled",
        },
      });
    });

    it("refuses unknown properties at every level with OData's 'does not exist on type' 400", async () => {
      await clear();
      const cases: [unknown, string][] = [
        [{ notify: "showAll" }, "win32LobAppAssignmentSettings"],
        [
          { restartSettings: { gracePeriodInMinutes: 5, countdownDisplayBeforeRestartInMinutes: 5, snooze: 1 } },
          "win32LobAppRestartSettings",
        ],
        [{ installTimeSettings: { useLocalTime: true, deadline: null } }, "mobileAppInstallTimeSettings"],
        [{ autoUpdateSettings: { autoUpdateSupersededApps: "enabled" } }, "win32LobAppAutoUpdateSettings"],
      ];
      for (const [settings, type] of cases) {
        const e = await settingsError(settings);
        assert.equal(e.code, "ModelValidationFailure");
        assert.match(
          e.message,
          new RegExp(`does not exist on type 'microsoft\\.management\\.services\\.api\\.${type}'`),
        );
      }
    });

    it("refuses wrong JSON types with ModelValidationFailure (ODataLib wording)", async () => {
      await clear();
      const cases: [unknown, RegExp][] = [
        [
          { restartSettings: { gracePeriodInMinutes: "1440", countdownDisplayBeforeRestartInMinutes: 15 } },
          /Cannot convert the literal '1440' to the expected type 'Edm\.Int32'/,
        ],
        [
          { restartSettings: { gracePeriodInMinutes: 1.5, countdownDisplayBeforeRestartInMinutes: 15 } },
          /expected type 'Edm\.Int32'/,
        ],
        [
          { restartSettings: { gracePeriodInMinutes: null, countdownDisplayBeforeRestartInMinutes: 15 } },
          /A null value was found for the property named 'gracePeriodInMinutes'/,
        ],
        [{ installTimeSettings: { useLocalTime: "yes" } }, /expected type 'Edm\.Boolean'/],
        [
          { installTimeSettings: { startDateTime: "tomorrow" } },
          /'tomorrow' to the expected type 'Edm\.DateTimeOffset'/,
        ],
        // A date-time without Z or an offset is not an Edm.DateTimeOffset literal.
        [{ installTimeSettings: { deadlineDateTime: "2025-01-31T18:00:00" } }, /Edm\.DateTimeOffset/],
        [{ installTimeSettings: { deadlineDateTime: 20250131 } }, /Edm\.DateTimeOffset/],
        [{ restartSettings: "yes" }, /A 'StartObject' node was expected/],
        [{ autoUpdateSettings: "enabled" }, /A 'StartObject' node was expected/],
        [{ installTimeSettings: [] }, /'StartArray' node was found/],
        [{ notifications: null }, /A null value was found for the property named 'notifications'/],
        [{ notifications: 3 }, /Cannot convert the literal '3'/],
        [{ deliveryOptimizationPriority: "background" }, /Requested value 'background' was not found/],
        [{ autoUpdateSettings: { autoUpdateSupersededAppsState: "on" } }, /Requested value 'on' was not found/],
        [{ "@odata.type": "#microsoft.graph.mobileAppAssignmentSettings" }, /incompatible with the metadata/],
        [
          {
            restartSettings: {
              "@odata.type": "#microsoft.graph.x",
              gracePeriodInMinutes: 1,
              countdownDisplayBeforeRestartInMinutes: 1,
            },
          },
          /incompatible with the metadata/,
        ],
        ["showAll", /A 'StartObject' node was expected/],
      ];
      for (const [settings, message] of cases) {
        const e = await settingsError(settings);
        assert.equal(e.code, "ModelValidationFailure", JSON.stringify(settings));
        assert.match(e.message, message, JSON.stringify(settings));
      }
    });

    it("restart ranges as IntuneWin32App validates them (UNCONFIRMED as a server rule): 400 BadRequest outside", async () => {
      const restart = (grace: number, countdown: number, snooze: number | null) => ({
        restartSettings: {
          gracePeriodInMinutes: grace,
          countdownDisplayBeforeRestartInMinutes: countdown,
          restartNotificationSnoozeDurationInMinutes: snooze,
        },
      });
      for (const [g, cd, s, name] of [
        [0, 15, null, "gracePeriodInMinutes"],
        [20161, 15, null, "gracePeriodInMinutes"],
        [1440, 0, null, "countdownDisplayBeforeRestartInMinutes"],
        [1440, 241, null, "countdownDisplayBeforeRestartInMinutes"],
        [1440, 15, 0, "restartNotificationSnoozeDurationInMinutes"],
        [1440, 15, 713, "restartNotificationSnoozeDurationInMinutes"],
      ] as const) {
        await clear();
        const e = await settingsError(restart(g, cd, s));
        assert.equal(e.code, "BadRequest");
        assert.match(e.message, new RegExp(`^${name} must be between`));
      }
      await clear();
      const missing = await settingsError({ restartSettings: { gracePeriodInMinutes: 5 } });
      assert.equal(missing.code, "BadRequest");
      assert.match(missing.message, /countdownDisplayBeforeRestartInMinutes/);
      for (const [g, cd, s] of [
        [1, 1, 1],
        [20160, 240, 712],
      ] as const) {
        await clear();
        await add({ intent: "required", target: groupTarget(), settings: typed(restart(g, cd, s)) });
      }
    });

    it("a deadline before the availability time is refused; equal or later is fine", async () => {
      await clear();
      const e = await settingsError({
        installTimeSettings: { startDateTime: "2025-02-01T00:00:00Z", deadlineDateTime: "2025-01-31T23:59:59Z" },
      });
      assert.equal(e.code, "BadRequest");
      assert.match(e.message, /deadlineDateTime .* must not be before startDateTime/);
      // Offsets are compared as instants: 01:00+02:00 is 23:00Z the day before.
      await add({
        intent: "required",
        target: groupTarget(),
        settings: typed({
          installTimeSettings: {
            useLocalTime: true,
            startDateTime: "2025-01-31T23:00:00Z",
            deadlineDateTime: "2025-02-01T01:00:00+02:00",
          },
        }),
      });
    });

    it("an exclusion target takes no settings (null is fine)", async () => {
      await clear();
      const e = await graphError(
        add({
          intent: "required",
          target: { "@odata.type": "#microsoft.graph.exclusionGroupAssignmentTarget", groupId: GROUP },
          settings: {},
        }),
      );
      assert.equal(e.statusCode, 400);
      const ok = (await add({
        intent: "required",
        target: { "@odata.type": "#microsoft.graph.exclusionGroupAssignmentTarget", groupId: GROUP },
        settings: null,
      })) as { id: string; settings: unknown };
      assert.equal(ok.id, `${GROUP}_1_1`);
      assert.equal(ok.settings, null);
    });
  });

  describe("targets and filters", () => {
    it("refuses a filter on an exclusion target, through assignments and assign", async () => {
      await clear();
      const target = {
        "@odata.type": "#microsoft.graph.exclusionGroupAssignmentTarget",
        groupId: GROUP,
        deviceAndAppManagementAssignmentFilterId: WIN_FILTER,
        deviceAndAppManagementAssignmentFilterType: "exclude",
      };
      const one = await graphError(add({ intent: "required", target, settings: null }));
      assert.equal(one.statusCode, 400);
      assert.equal(one.code, "BadRequest");
      assert.equal(one.message, FILTER_ON_EXCLUSION);
      const all = await graphError(
        c.api(`${APPS}/${published}/assign`).post({ mobileAppAssignments: [{ intent: "required", target }] }),
      );
      assert.equal(all.message, FILTER_ON_EXCLUSION);
      // A filter id with type "none" is refused too: no filter at all on exclusions.
      const idOnly = await graphError(
        add({
          intent: "required",
          target: { ...target, deviceAndAppManagementAssignmentFilterType: "none" },
        }),
      );
      assert.equal(idOnly.message, FILTER_ON_EXCLUSION);
    });

    it("refuses a filter whose platform is not windows10AndLater, and an unknown filter", async () => {
      await clear();
      const ios = await graphError(
        add({
          intent: "required",
          target: groupTarget({
            deviceAndAppManagementAssignmentFilterId: IOS_FILTER,
            deviceAndAppManagementAssignmentFilterType: "include",
          }),
        }),
      );
      assert.equal(ios.statusCode, 400);
      assert.equal(ios.code, "BadRequest");
      assert.equal(ios.message, wrongPlatformMessage(IOS_FILTER, "iOS"));
      const unknown = await graphError(
        add({
          intent: "required",
          target: groupTarget({
            deviceAndAppManagementAssignmentFilterId: "0f000000-0000-4000-8000-0000000000ff",
            deviceAndAppManagementAssignmentFilterType: "exclude",
          }),
        }),
      );
      assert.equal(unknown.statusCode, 400);
      assert.match(unknown.message, /The assignment filter '0f000000-0000-4000-8000-0000000000ff' does not exist/);
      // A Windows filter in exclude mode on all devices is fine.
      const ok = (await add({
        intent: "required",
        target: {
          "@odata.type": "#microsoft.graph.allDevicesAssignmentTarget",
          deviceAndAppManagementAssignmentFilterId: WIN_FILTER,
          deviceAndAppManagementAssignmentFilterType: "exclude",
        },
      })) as { target: Record<string, unknown> };
      assert.equal(ok.target["deviceAndAppManagementAssignmentFilterType"], "exclude");
    });

    it("refuses a target property its type does not have (400, as Graph's model)", async () => {
      await clear();
      const cases: [Record<string, unknown>, RegExp][] = [
        [groupTarget({ groupName: "Pilot" }), /'groupName' does not exist on type '.*\.groupAssignmentTarget'/],
        [
          { "@odata.type": "#microsoft.graph.allDevicesAssignmentTarget", groupId: GROUP },
          /'groupId' does not exist on type '.*\.allDevicesAssignmentTarget'/,
        ],
      ];
      for (const [target, message] of cases) {
        const e = await graphError(add({ intent: "required", target }));
        assert.equal(e.statusCode, 400);
        assert.equal(e.code, "ModelValidationFailure");
        assert.match(e.message, message);
      }
    });

    it("refuses availableWithoutEnrollment on a win32LobApp (Intune offers it for iOS/Android apps only)", async () => {
      await clear();
      for (const send of [
        () => add({ intent: "availableWithoutEnrollment", target: groupTarget() }),
        () =>
          c.api(`${APPS}/${published}/assign`).post({
            mobileAppAssignments: [{ intent: "availableWithoutEnrollment", target: groupTarget() }],
          }),
      ]) {
        const e = await graphError(send());
        assert.equal(e.statusCode, 400);
        assert.equal(e.code, "BadRequest");
        assert.match(e.message, /'availableWithoutEnrollment' is not supported for a win32LobApp/);
      }
      assert.deepEqual(((await c.api(`${APPS}/${published}/assignments`).get()) as { value: unknown[] }).value, []);
    });

    it("refuses an unknown group with 400", async () => {
      const e = await graphError(
        add({ intent: "available", target: groupTarget({ groupId: "0a000000-0000-4000-8000-0000000000ee" }) }),
      );
      assert.equal(e.statusCode, 400);
      assert.equal(e.code, "BadRequest");
      assert.equal(e.message, "The group '0a000000-0000-4000-8000-0000000000ee' does not exist.");
    });
  });

  describe("the model of assign and updateRelationships (current beta metadata)", () => {
    const post = (appId: string, body: unknown) => graphError(c.api(`${APPS}/${appId}/updateRelationships`).post(body));
    const dependency = (extra: Record<string, unknown> = {}) => ({
      "@odata.type": "#microsoft.graph.mobileAppDependency",
      dependencyType: "autoInstall",
      targetId: published,
      ...extra,
    });

    it("refuses an unknown property of a relationship item, an untyped item and an unknown parameter: 400", async () => {
      const app = (await c.api(APPS).post(win32AppBody("Model"))) as { id: string };
      const unknown = await post(app.id, { relationships: [dependency({ autoInstal: true })] });
      assert.equal(unknown.statusCode, 400);
      assert.equal(unknown.code, "ModelValidationFailure");
      assert.match(
        unknown.message,
        /The property 'autoInstal' does not exist on type 'microsoft\.management\.services\.api\.mobileAppDependency'/,
      );
      // A supersedence property on a dependency is unknown there too.
      const crossed = await post(app.id, { relationships: [dependency({ supersedenceType: "update" })] });
      assert.match(crossed.message, /'supersedenceType' does not exist on type '.*mobileAppDependency'/);
      const untyped = await post(app.id, { relationships: [{ dependencyType: "autoInstall", targetId: published }] });
      assert.equal(untyped.code, "ModelValidationFailure");
      assert.match(untyped.message, /'dependencyType' does not exist on type '.*mobileAppRelationship'/);
      const parameter = await post(app.id, { relationships: [], force: true });
      assert.match(
        parameter.message,
        /parameter 'force' .* not a valid parameter for the operation 'updateRelationships'/,
      );
      const assign = await graphError(
        c.api(`${APPS}/${published}/assign`).post({ mobileAppAssignments: [], keepExisting: true }),
      );
      assert.equal(assign.statusCode, 400);
      assert.match(assign.message, /parameter 'keepExisting' .* the operation 'assign'/);
      // Read-only properties a client echoes back from GET …/relationships are accepted (and ignored).
      await c.api(`${APPS}/${app.id}/updateRelationships`).post({
        relationships: [dependency({ targetDisplayName: "x", targetType: "child", dependentAppCount: 0 })],
      });
      await c.api(`${APPS}/${app.id}/updateRelationships`).post({ relationships: [] });
      await c.api(`${APPS}/${app.id}`).delete();
    });

    it("takes the unknownFutureValue members and inUseBehavior that current beta metadata has", async () => {
      const app = (await c.api(APPS).post({
        ...win32AppBody("Evolvable"),
        installExperience: {
          runAsAccount: "system",
          deviceRestartBehavior: "suppress",
          maxRunTimeInMinutes: 30,
          inUseBehavior: "terminateWithUserInteraction",
        },
      })) as { id: string; installExperience: Record<string, unknown> };
      assert.equal(app.installExperience["inUseBehavior"], "terminateWithUserInteraction");
      const bad = await graphError(
        c.api(`${APPS}/${app.id}`).patch({
          "@odata.type": "#microsoft.graph.win32LobApp",
          installExperience: { runAsAccount: "system", deviceRestartBehavior: "suppress", inUseBehavior: "kill" },
        }),
      );
      assert.equal(bad.code, "ModelValidationFailure");
      assert.match(bad.message, /Requested value 'kill' was not found/);
      await c.api(`${APPS}/${app.id}/updateRelationships`).post({
        relationships: [dependency({ dependencyType: "unknownFutureValue" })],
      });
      await c.api(`${APPS}/${app.id}/updateRelationships`).post({ relationships: [] });
      await c.api(`${APPS}/${app.id}`).patch({
        "@odata.type": "#microsoft.graph.win32LobApp",
        rules: [
          {
            "@odata.type": "#microsoft.graph.win32LobAppRegistryRule",
            ruleType: "detection",
            keyPath: "HKLM\\SOFTWARE\\Contoso",
            operationType: "unknownFutureValue",
          },
        ],
      });
      await c.api(`${APPS}/${app.id}`).delete();
    });
  });

  describe("deleting apps (§2.13, §4 item 24)", () => {
    const relationships = async (appId: string) =>
      ((await c.api(`${APPS}/${appId}/relationships`).get()) as { value: { targetId: string; targetType: string }[] })
        .value;
    const supersede = (from: string, to: string) =>
      c.api(`${APPS}/${from}/updateRelationships`).post({
        relationships: [
          { "@odata.type": "#microsoft.graph.mobileAppSupersedence", supersedenceType: "update", targetId: to },
        ],
      });
    const depend = (from: string, to: string) =>
      c.api(`${APPS}/${from}/updateRelationships`).post({
        relationships: [
          { "@odata.type": "#microsoft.graph.mobileAppDependency", dependencyType: "autoInstall", targetId: to },
        ],
      });

    it("an app that supersedes another can be deleted; its rows vanish and the old app's counts drop", async () => {
      const oldApp = (await c.api(APPS).post(win32AppBody("Old"))) as { id: string };
      const newApp = (await c.api(APPS).post(win32AppBody("New"))) as { id: string };
      await supersede(newApp.id, oldApp.id);
      assert.deepEqual(
        (await relationships(oldApp.id)).map((r) => [r.targetId, r.targetType]),
        [[newApp.id, "parent"]],
      );
      assert.equal(
        ((await c.api(`${APPS}/${oldApp.id}`).get()) as { supersedingAppCount: number }).supersedingAppCount,
        1,
      );
      // The superseded (old) app cannot go while the new one supersedes it.
      const refused = await graphError(c.api(`${APPS}/${oldApp.id}`).delete());
      assert.equal(refused.statusCode, 400);
      assert.match(refused.message, /superseded by another app/);
      await c.api(`${APPS}/${newApp.id}`).delete();
      assert.deepEqual(await relationships(oldApp.id), []);
      const old = (await c.api(`${APPS}/${oldApp.id}`).get()) as { supersedingAppCount: number };
      assert.equal(old.supersedingAppCount, 0);
      await c.api(`${APPS}/${oldApp.id}`).delete();
    });

    it("an app in a dependency cannot be deleted, on either side", async () => {
      const base = await createPublishedApp(c, lt, clock, log, "Runtime");
      const dependent = (await c.api(APPS).post(win32AppBody("Needs runtime"))) as { id: string };
      await depend(dependent.id, base);
      for (const id of [base, dependent.id]) {
        const e = await graphError(c.api(`${APPS}/${id}`).delete());
        assert.equal(e.statusCode, 400);
        assert.match(e.message, /dependency relationship/);
      }
      await c.api(`${APPS}/${dependent.id}/updateRelationships`).post({ relationships: [] });
      await c.api(`${APPS}/${dependent.id}`).delete();
      await c.api(`${APPS}/${base}`).delete();
    });

    it("deleting an app removes it from every ESP's selectedMobileAppIds", async () => {
      const blocking = await createPublishedApp(c, lt, clock, log, "Blocking");
      const esp = `/deviceManagement/deviceEnrollmentConfigurations/${ESP}`;
      await c.api(esp).patch({
        "@odata.type": "#microsoft.graph.windows10EnrollmentCompletionPageConfiguration",
        selectedMobileAppIds: [published, blocking],
      });
      await c.api(`${APPS}/${blocking}`).delete();
      const after = (await c.api(esp).get()) as { selectedMobileAppIds: string[] };
      assert.deepEqual(after.selectedMobileAppIds, [published]);
    });
  });

  describe("scope tags on apps", () => {
    it("refuses an unknown roleScopeTagIds entry on create and PATCH with Intune's observed 400", async () => {
      const e = await graphError(c.api(APPS).post(win32AppBody("Tagged", { roleScopeTagIds: ["0", "7"] })));
      assert.equal(e.statusCode, 400);
      assert.equal(e.code, "BadRequest");
      assert.match(intuneText(e), /^Invalid Role Scope Tag defined 7 - Operation ID/);
      const app = (await c.api(APPS).post(win32AppBody("Tagged", { roleScopeTagIds: ["0", "1"] }))) as {
        id: string;
        roleScopeTagIds: string[];
      };
      assert.deepEqual(app.roleScopeTagIds, ["0", "1"]);
      const p = await graphError(
        c.api(`${APPS}/${app.id}`).patch({ "@odata.type": "#microsoft.graph.win32LobApp", roleScopeTagIds: ["2,3"] }),
      );
      assert.equal(p.statusCode, 400);
      assert.match(intuneText(p), /^Invalid Role Scope Tag defined 2,3 /);
      await c.api(`${APPS}/${app.id}`).patch({ "@odata.type": "#microsoft.graph.win32LobApp", roleScopeTagIds: ["1"] });
      assert.deepEqual(((await c.api(`${APPS}/${app.id}`).get()) as { roleScopeTagIds: string[] }).roleScopeTagIds, [
        "1",
      ]);
    });
  });

  it("never called any host but 127.0.0.1", () => {
    assert.deepEqual(
      log.calls.filter((x) => new URL(x.url).hostname !== "127.0.0.1"),
      [],
    );
  });
});

describe("the dependency limit counts every app connected through a shared dependency (Learn)", () => {
  const TENANT = "46464646-2222-4333-8444-555555555555";
  let lt: LocalTenant;
  let c: Client;
  const store = new MemoryStore();
  const id = (name: string, i = 0) => `d0000000-0000-4000-8000-${name.padStart(8, "0")}${String(i).padStart(4, "0")}`;

  before(async () => {
    lt = await startLocalTenant({
      store,
      storage: false,
      throttling: false,
      seed: testSeed({
        tenantId: TENANT,
        roles: ["DeviceManagementApps.ReadWrite.All"],
      }),
    });
    c = tenantGraphClient(lt);
    // 100 published Win32 apps put straight into the store (uploading each would only slow the test): the shared
    // dependency X, A's and B's own 49 dependencies, and A and B.
    const apps = store.collection<{ id: string } & Record<string, unknown>>(TENANT, "mobileApps");
    const app = (appId: string) =>
      apps.put({
        id: appId,
        "@odata.type": "#microsoft.graph.win32LobApp",
        displayName: appId,
        publishingState: "published",
      });
    for (const a of [id("x"), id("a"), id("b"), id("c")]) app(a);
    for (let i = 1; i <= 49; i++) {
      app(id("a", i));
      app(id("b", i));
    }
  });
  after(() => lt.close());

  const dependOn = (from: string, to: string[]) =>
    c.api(`${APPS}/${from}/updateRelationships`).post({
      relationships: to.map((targetId) => ({
        "@odata.type": "#microsoft.graph.mobileAppDependency",
        dependencyType: "autoInstall",
        targetId,
      })),
    });
  const own = (name: string, n: number) => Array.from({ length: n }, (_, i) => id(name, i + 1));

  it("refuses the link that makes two graphs sharing a dependency exceed 100 apps, each graph alone under it", async () => {
    // A: itself, X and 49 more = 51 apps.
    await dependOn(id("a"), [id("x"), ...own("a", 49)]);
    // B alone would be 51 apps too, but X joins it to A's graph: 51 + 51 − 1 (X once) = 101.
    const e = await graphError(dependOn(id("b"), [id("x"), ...own("b", 49)]));
    assert.equal(e.statusCode, 400);
    assert.match(
      e.message,
      /at most 100 apps.*every app connected through a shared dependency \(this one would have 101\)/,
    );
    // One dependency fewer: exactly 100, accepted.
    await dependOn(id("b"), [id("x"), ...own("b", 48)]);
    // The graph is full: another app depending on X would make 101.
    assert.equal((await graphError(dependOn(id("c"), [id("x")]))).statusCode, 400);
    // Unrelated to the graph: fine.
    await dependOn(id("c"), [id("b", 49)]);
  });
});
