// Targeting and lifecycle on the local tenant: assignments of every intent, target and setting as the
// strict emulator stores them, shared targeting files, name resolution errors before any write, ownership of
// assignments, supersedence (read-modify-write), Intune's chain limit in the plan, assignment carry-over,
// dependencies, retention, Enrollment Status Page membership, idempotent re-runs, and 403s naming the permission.
import assert from "node:assert/strict";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import { parse, stringify } from "yaml";
import { DEFAULT_CLIENT_ID, DEFAULT_TENANT_ID, PUBLISHER_PERMISSIONS } from "../../emulator/seed.js";
import type { SeedInput } from "../../emulator/seed.js";
import { MemoryStore } from "../../emulator/store.js";
import { AppDefinitionError } from "../../src/core/app-definition/errors.js";
import { readStamp } from "../../src/core/app-definition/stamp.js";
import type { MobileAppAssignmentWire } from "../../src/core/wire/graph.js";
import { describeFailure } from "../../src/publish/publish.js";
import type { PublishResult } from "../../src/publish/publish.js";
import { useScratch } from "../support/scratch.js";
import { load } from "../support/fixtures.js";
import { startPublishTenant } from "../support/tenant.js";
import type { PublishTenant } from "../support/tenant.js";

const scratch = useScratch("ip-targeting-");

const APPS = "/deviceAppManagement/mobileApps";
const ESP = "/deviceManagement/deviceEnrollmentConfigurations";
const PILOT = "5a8e1f3c-1d2b-4e6f-8a9b-0c1d2e3f4a5b";
const WINDOWS = "6b9f2a4d-2e3c-4f70-9bac-1d2e3f4a5b6c";
const FINANCE_A = "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f";
const FINANCE_B = "2d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f6a";
const KIOSK_GROUP = "3e4f5a6b-7c8d-4e9f-8a1b-2c3d4e5f6a7b";
const CONTRACTORS = "4f5a6b7c-8d9e-4f0a-9b1c-2d3e4f5a6b7c";
const WIN11_FILTER = "8d1b4c6f-4a5e-4b92-8dce-3f4a5b6c7d8e";
const IOS_FILTER = "9e2c5d7a-6c7d-4e8f-9a0b-1c2d3e4f5a6b";
const DEFAULT_ESP = `${DEFAULT_TENANT_ID}_DefaultWindows10EnrollmentCompletionPageConfiguration`;
const KIOSK_ESP = "2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d";
const SECRET = "targeting~tests.Secret_0123456789abcdefghij";

function seed(roles: readonly string[] = PUBLISHER_PERMISSIONS): SeedInput {
  return {
    tenants: [{ id: DEFAULT_TENANT_ID, displayName: "Contoso", domains: ["contoso.onmicrosoft.com"] }],
    appRegistrations: [
      { clientId: DEFAULT_CLIENT_ID, displayName: "intune-publisher", secrets: [{ value: SECRET }], roles: [...roles] },
    ],
    groups: [
      { id: PILOT, displayName: "Intune - Pilot devices" },
      { id: WINDOWS, displayName: "Intune - All Windows devices" },
      { id: FINANCE_A, displayName: "Finance" },
      { id: FINANCE_B, displayName: "Finance" },
      { id: KIOSK_GROUP, displayName: "Kiosks" },
      { id: CONTRACTORS, displayName: "Contractors" },
    ],
    assignmentFilters: [
      {
        id: WIN11_FILTER,
        displayName: "Windows 11 only",
        platform: "windows10AndLater",
        rule: '(device.osVersion -startsWith "10.0.22")',
      },
      {
        id: IOS_FILTER,
        displayName: "iOS corporate",
        platform: "iOS",
        rule: '(device.deviceOwnership -eq "Corporate")',
      },
    ],
    roleScopeTags: [
      { id: "0", displayName: "Default", isBuiltIn: true },
      { id: "1", displayName: "Europe" },
    ],
    espProfiles: [
      { id: DEFAULT_ESP, displayName: "All users and all devices", priority: 0 },
      { id: KIOSK_ESP, displayName: "Kiosk ESP", priority: 1 },
    ],
  };
}

type Def = Record<string, unknown>;

/** A small definition (one tiny source folder shared by all) with `extra` keys merged in. */
function definition(id: string, version: string, extra: Def = {}): Def {
  return {
    id,
    displayName: `Test ${id}`,
    publisher: "Contoso",
    version,
    content: { source: "src", setupFile: "install.cmd" },
    install: { command: "install.cmd" },
    uninstall: { command: "uninstall.cmd" },
    detection: [
      {
        type: "registry",
        keyPath: `HKEY_LOCAL_MACHINE\\SOFTWARE\\Contoso\\${id}`,
        valueName: "Version",
        check: "exists",
      },
    ],
    ...extra,
  };
}

interface Workspace {
  dir: string;
  write(def: Def, file?: string): Promise<string>;
  writeTargeting(name: string, assignments: Def[]): Promise<string>;
}

async function workspace(): Promise<Workspace> {
  const dir = await scratch();
  await mkdir(join(dir, "src"), { recursive: true });
  await writeFile(join(dir, "src", "install.cmd"), "@echo install\r\n");
  await writeFile(join(dir, "src", "uninstall.cmd"), "@echo uninstall\r\n");
  return {
    dir,
    async write(def, file) {
      const path = join(dir, file ?? `${String(def["id"])}.yaml`);
      await writeFile(path, stringify(def));
      return path;
    },
    async writeTargeting(name, assignments) {
      const path = join(dir, name);
      await writeFile(path, stringify({ assignments }));
      return path;
    },
  };
}

function assertOk(r: PublishResult): void {
  for (const o of r.outcomes) assert.equal(o.status, "ok", describeFailure(o));
}

describe("targeting on the local tenant", () => {
  let t: PublishTenant;
  let ws: Workspace;

  before(async () => {
    // Many writes in a few seconds: Intune's throttling windows (tested elsewhere) would only slow these tests down.
    t = await startPublishTenant({ seed: seed(), throttling: false });
  });
  after(async () => {
    await t.close();
  });
  beforeEach(async () => {
    t.lt.admin.reset();
    ws = await workspace();
  });

  const graph = () => t.session.graph;
  const assignments = (appId: string) =>
    graph().listAll<MobileAppAssignmentWire & { id: string }>(`${APPS}/${appId}/assignments`);
  const relationships = (appId: string) =>
    graph().listAll<{
      "@odata.type": string;
      targetId: string;
      targetType: string;
      supersedenceType?: string;
      dependencyType?: string;
    }>(`${APPS}/${appId}/relationships`);
  const esp = (id: string) => graph().get<{ selectedMobileAppIds: string[] }>(`${ESP}/${id}`);
  /** publishes the definition files, every app ok */
  async function publishOk(files: string[], extra = {}): Promise<PublishResult> {
    const r = await t.publish(await load(files), extra);
    assertOk(r);
    return r;
  }
  const current = (r: PublishResult, id: string): string => {
    const a = r.tenant.find((x) => x.id === id && x.current);
    assert.ok(a, `a current app for ${id}`);
    return a.appId;
  };

  it("serialises every intent, target and setting as Graph stores them; a re-run makes no write", async () => {
    const file = await ws.write(
      definition("all-settings", "1.0.0", {
        assignments: [
          {
            intent: "required",
            group: "Intune - Pilot devices",
            filter: "Windows 11 only",
            filterMode: "exclude",
            notifications: "showReboot",
            deliveryOptimizationPriority: "foreground",
            availableFrom: "2026-12-01T08:00:00Z",
            deadline: "2026-12-08T18:30:00+02:00",
            restart: { gracePeriodMinutes: 1440, countdownMinutes: 30, snoozeMinutes: 240 },
          },
          {
            intent: "required",
            group: WINDOWS,
            useLocalTime: true,
            availableFrom: "2026-12-01T08:00",
            deadline: "2026-12-02 09:15",
          },
          {
            intent: "available",
            target: "allUsers",
            filter: "windows 11 ONLY",
            autoUpdateSupersededApps: true,
            notifications: "hideAll",
          },
          { intent: "uninstall", group: "kiosks", restart: { gracePeriodMinutes: 60 } },
          { intent: "required", target: "allDevices" },
          { intent: "available", group: FINANCE_A },
          { intent: "required", group: "Contractors", exclude: true },
        ],
      }),
    );
    const dry = await t.publish(await load([file]), { dryRun: true });
    const planned = dry.plan.items[0]!.targeting!;
    assert.equal(planned.assignments.add.length, 7);
    assert.deepEqual(planned.problems, []);
    assert.equal(t.apps().length, 0, "the dry run created nothing");

    const r = await publishOk([file]);
    const appId = current(r, "all-settings");
    assert.equal(r.outcomes[0]!.targeting?.assigned, 7);
    const got = await assignments(appId);
    const byTarget = (type: string, groupId?: string) => {
      const a = got.find(
        (x) =>
          x.target["@odata.type"] === `#microsoft.graph.${type}` &&
          (groupId === undefined || x.target.groupId === groupId),
      );
      assert.ok(a, `an assignment to ${type} ${groupId ?? ""}`);
      return a;
    };
    assert.equal(got.length, 7);
    const pilot = byTarget("groupAssignmentTarget", PILOT);
    assert.equal(pilot.intent, "required");
    assert.equal(pilot.target.deviceAndAppManagementAssignmentFilterId, WIN11_FILTER);
    assert.equal(pilot.target.deviceAndAppManagementAssignmentFilterType, "exclude");
    assert.deepEqual(pilot.settings, {
      "@odata.type": "#microsoft.graph.win32LobAppAssignmentSettings",
      notifications: "showReboot",
      deliveryOptimizationPriority: "foreground",
      installTimeSettings: {
        "@odata.type": "#microsoft.graph.mobileAppInstallTimeSettings",
        useLocalTime: false,
        startDateTime: "2026-12-01T08:00:00.000Z",
        deadlineDateTime: "2026-12-08T16:30:00.000Z",
      },
      restartSettings: {
        "@odata.type": "#microsoft.graph.win32LobAppRestartSettings",
        gracePeriodInMinutes: 1440,
        countdownDisplayBeforeRestartInMinutes: 30,
        restartNotificationSnoozeDurationInMinutes: 240,
      },
      autoUpdateSettings: null,
    });
    const local = byTarget("groupAssignmentTarget", WINDOWS);
    assert.equal(local.target.deviceAndAppManagementAssignmentFilterType, "none");
    assert.equal(local.target.deviceAndAppManagementAssignmentFilterId, null);
    assert.deepEqual(local.settings?.["installTimeSettings"], {
      "@odata.type": "#microsoft.graph.mobileAppInstallTimeSettings",
      useLocalTime: true,
      startDateTime: "2026-12-01T08:00:00.000Z",
      deadlineDateTime: "2026-12-02T09:15:00.000Z",
    });
    const users = byTarget("allLicensedUsersAssignmentTarget");
    assert.equal(users.intent, "available");
    assert.equal(users.target.deviceAndAppManagementAssignmentFilterType, "include");
    assert.equal(users.target.deviceAndAppManagementAssignmentFilterId, WIN11_FILTER);
    assert.equal(users.settings?.["notifications"], "hideAll");
    assert.equal(users.settings?.["deliveryOptimizationPriority"], "notConfigured");
    assert.deepEqual(users.settings?.["autoUpdateSettings"], {
      "@odata.type": "#microsoft.graph.win32LobAppAutoUpdateSettings",
      autoUpdateSupersededAppsState: "enabled",
    });
    const kiosks = byTarget("groupAssignmentTarget", KIOSK_GROUP);
    assert.equal(kiosks.intent, "uninstall");
    assert.deepEqual(kiosks.settings?.["restartSettings"], {
      "@odata.type": "#microsoft.graph.win32LobAppRestartSettings",
      gracePeriodInMinutes: 60,
      countdownDisplayBeforeRestartInMinutes: 15,
      restartNotificationSnoozeDurationInMinutes: null,
    });
    assert.equal(kiosks.settings?.["installTimeSettings"], null);
    const devices = byTarget("allDevicesAssignmentTarget");
    assert.equal(devices.intent, "required");
    assert.equal(devices.settings?.["notifications"], "showAll");
    const finance = byTarget("groupAssignmentTarget", FINANCE_A);
    assert.equal(finance.intent, "available");
    const excluded = byTarget("exclusionGroupAssignmentTarget", CONTRACTORS);
    assert.equal(excluded.settings, null);
    assert.equal(excluded.target.deviceAndAppManagementAssignmentFilterType, "none");

    // The stamp records the seven targets; the next run finds nothing to do and writes nothing.
    const stamp = readStamp(t.apps().find((a) => a["id"] === appId)!["notes"] as string);
    assert.ok(stamp.status === "valid");
    assert.equal(stamp.stamp.targets?.length, 7);
    const mark = t.calls.length;
    const again = await publishOk([file]);
    assert.equal(again.plan.items[0]!.action, "nothing");
    assert.equal(again.plan.items[0]!.targeting?.changed, false, JSON.stringify(again.plan.items[0]!.targeting));
    assert.deepEqual(t.graphWrites(mark), []);

    // One setting changes (Kiosks: a snooze added): one /assign with the whole set, the others as they were.
    const edited = parse(await readFile(file, "utf8")) as { assignments: Def[] };
    edited.assignments[3]!["restart"] = { gracePeriodMinutes: 60, snoozeMinutes: 30 };
    await ws.write(edited);
    const mark2 = t.calls.length;
    const changed = await publishOk([file]);
    assert.deepEqual(
      changed.plan.items[0]!.targeting!.assignments.change.map((x) => x.key),
      [`group:${KIOSK_GROUP}`],
    );
    const writes = t.graphWrites(mark2);
    assert.equal(writes.length, 1, JSON.stringify(writes));
    assert.match(writes[0]!.url, /\/assign$/);
    const after = await assignments(appId);
    assert.equal(after.length, 7);
    const restart = after.find((x) => x.target.groupId === KIOSK_GROUP)!.settings?.["restartSettings"] as Record<
      string,
      unknown
    >;
    assert.equal(restart["restartNotificationSnoozeDurationInMinutes"], 30);
    assert.deepEqual(
      after.find((x) => x.target.groupId === PILOT),
      got.find((x) => x.target.groupId === PILOT),
    );
  });

  it("a shared targeting file serves two definitions; a target in both the file and a definition is a positioned error", async () => {
    await ws.writeTargeting("pilot.targeting.yaml", [
      { intent: "required", group: "Intune - Pilot devices" },
      { intent: "available", target: "allUsers" },
    ]);
    const a = await ws.write(definition("shared-a", "1.0.0", { targeting: "pilot.targeting.yaml" }));
    const b = await ws.write(
      definition("shared-b", "1.0.0", {
        targeting: "pilot.targeting.yaml",
        assignments: [{ intent: "uninstall", group: "Kiosks" }],
      }),
    );
    const r = await publishOk([a, b]);
    const keys = async (id: string) =>
      (await assignments(current(r, id)))
        .map((x) => `${x.intent} ${x.target.groupId ?? x.target["@odata.type"]}`)
        .sort();
    assert.deepEqual(await keys("shared-a"), [
      "available #microsoft.graph.allLicensedUsersAssignmentTarget",
      `required ${PILOT}`,
    ]);
    assert.deepEqual(await keys("shared-b"), [
      "available #microsoft.graph.allLicensedUsersAssignmentTarget",
      `required ${PILOT}`,
      `uninstall ${KIOSK_GROUP}`,
    ]);

    const dup = await ws.write(
      definition("shared-c", "1.0.0", {
        targeting: "pilot.targeting.yaml",
        assignments: [
          { intent: "uninstall", group: "Kiosks" },
          { intent: "available", group: "intune - pilot DEVICES" },
        ],
      }),
    );
    const mark = t.calls.length;
    await assert.rejects(load([dup]), (e: Error) => {
      assert.ok(e instanceof AppDefinitionError, String(e));
      assert.match(e.message, /shared-c\.yaml:\d+:\d+: assignments\[1\]/);
      assert.match(e.message, /assigned twice/);
      assert.match(e.message, /targeting file pilot\.targeting\.yaml already has this target/);
      return true;
    });
    assert.equal(t.calls.length, mark, "refused while loading, before any call");
  });

  it("availableWithoutEnrollment (iOS/Android only in Intune) is a positioned definition error naming the fix", async () => {
    const file = await ws.write(
      definition("no-enrollment", "1.0.0", {
        assignments: [
          { intent: "required", group: "Kiosks" },
          { intent: "availableWithoutEnrollment", group: FINANCE_A },
        ],
      }),
    );
    const mark = t.calls.length;
    await assert.rejects(load([file]), (e: Error) => {
      assert.ok(e instanceof AppDefinitionError, String(e));
      assert.equal(e.kind, "input");
      assert.match(
        e.message,
        /no-enrollment\.yaml:\d+:\d+: assignments\[1\]\.intent: availableWithoutEnrollment is for iOS\/iPadOS and Android apps .* use available/,
      );
      return true;
    });
    assert.equal(t.calls.length, mark, "refused while loading, before any call");
  });

  // Which name fails how is unit-tested (src/core/plan/resolve.test.ts); here, the reads behind it on a tenant.
  it("unresolvable names, read through Graph, are positioned errors before any write", async () => {
    await ws.writeTargeting("bad.targeting.yaml", [{ intent: "required", group: "Intune - Pilot" }]);
    const file = await ws.write(
      definition("bad-names", "1.0.0", {
        targeting: "bad.targeting.yaml",
        scopeTags: ["Default", "Asia"],
        assignments: [
          { intent: "available", target: "allUsers", filter: "Windows 12 only" },
          { intent: "uninstall", group: "00000000-0000-4000-8000-000000000000" },
        ],
      }),
    );
    const mark = t.calls.length;
    await assert.rejects(t.publish(await load([file])), (e: Error) => {
      assert.ok(e instanceof AppDefinitionError, String(e));
      assert.match(
        e.message,
        /bad-names\.yaml:\d+:\d+: scopeTags\[1\]: The tenant has no scope tag named "Asia" \(it has: Default, Europe\)/,
      );
      return true;
    });
    await ws.write(
      definition("bad-names", "1.0.0", {
        targeting: "bad.targeting.yaml",
        assignments: [
          { intent: "available", target: "allUsers", filter: "Windows 12 only" },
          { intent: "uninstall", group: "00000000-0000-4000-8000-000000000000" },
        ],
      }),
    );
    await assert.rejects(t.publish(await load([file])), (e: Error) => {
      assert.ok(e instanceof AppDefinitionError, String(e));
      assert.equal(e.kind, "input");
      const m = e.message;
      assert.match(
        m,
        /bad\.targeting\.yaml:\d+:\d+: assignments\[0\]\.group: No group is named "Intune - Pilot"; groups with similar names: .*"Intune - Pilot devices"/,
      );
      assert.match(
        m,
        /bad-names\.yaml:\d+:\d+: assignments\[0\]\.filter: The tenant has no assignment filter named "Windows 12 only" \(similar names: "Windows 11 only"\)/,
      );
      assert.match(m, /assignments\[1\]\.group: No group has the id 00000000-0000-4000-8000-000000000000/);
      assert.equal(e.problems.length, 3);
      return true;
    });
    assert.deepEqual(t.graphWrites(mark), []);
    assert.equal(t.apps().length, 0, "no app was created");
  });

  it("a name written as one word of the tenant's name is suggested (groups found by Graph's $search)", async () => {
    const file = await ws.write(
      definition("one-word", "1.0.0", {
        scopeTags: ["Europa"],
        enrollmentStatusPages: ["Kiosk"],
        assignments: [
          { intent: "required", group: "pilot" },
          { intent: "available", target: "allUsers", filter: "Windows 11" },
        ],
      }),
    );
    const mark = t.calls.length;
    await assert.rejects(t.publish(await load([file])), (e: Error) => {
      assert.ok(e instanceof AppDefinitionError, String(e));
      assert.match(e.message, /scopeTags\[0\]: The tenant has no scope tag named "Europa" \(similar names: "Europe"\)/);
      return true;
    });
    await ws.write(
      definition("one-word", "1.0.0", {
        enrollmentStatusPages: ["Kiosk"],
        assignments: [
          { intent: "required", group: "pilot" },
          { intent: "available", target: "allUsers", filter: "Windows 11" },
        ],
      }),
    );
    await assert.rejects(t.publish(await load([file])), (e: Error) => {
      assert.ok(e instanceof AppDefinitionError, String(e));
      const m = e.message;
      assert.match(
        m,
        /assignments\[0\]\.group: No group is named "pilot"; groups with similar names: "Intune - Pilot devices"\./,
      );
      assert.match(m, /assignments\[1\]\.filter: .* named "Windows 11" \(similar names: "Windows 11 only"\)/);
      assert.match(m, /enrollmentStatusPages\[0\]: .* named "Kiosk" \(similar names: "Kiosk ESP"\)/);
      return true;
    });
    const search = t.calls
      .slice(mark)
      .map((c) => new URL(c.url))
      .find((u) => u.pathname.endsWith("/groups") && u.searchParams.has("$search"));
    assert.equal(search?.searchParams.get("$search"), '"displayName:pil"');
    assert.deepEqual(t.graphWrites(mark), []);
  });

  it("scope tags are applied on create and kept in sync on update", async () => {
    const file = await ws.write(definition("tagged", "1.0.0", { scopeTags: ["Europe"] }));
    const r = await publishOk([file]);
    const id = current(r, "tagged");
    assert.deepEqual(t.apps().find((a) => a["id"] === id)!["roleScopeTagIds"], ["1"]);
    await ws.write(definition("tagged", "1.0.0", { scopeTags: ["europe", "Default"] }));
    const r2 = await publishOk([file]);
    assert.equal(r2.plan.items[0]!.action, "update-metadata");
    assert.deepEqual(t.apps().find((a) => a["id"] === id)!["roleScopeTagIds"], ["1", "0"]);
    const mark = t.calls.length;
    await publishOk([file]);
    assert.deepEqual(t.graphWrites(mark), []);
  });

  it("keeps assignments made outside the tool, prunes them on request, removes the ones it made when dropped", async () => {
    const file = await ws.write(
      definition("owned", "1.0.0", { assignments: [{ intent: "required", group: "Intune - Pilot devices" }] }),
    );
    const r = await publishOk([file]);
    const id = current(r, "owned");
    // An admin adds one by hand.
    await graph().post(`${APPS}/${id}/assignments`, {
      "@odata.type": "#microsoft.graph.mobileAppAssignment",
      intent: "available",
      target: { "@odata.type": "#microsoft.graph.groupAssignmentTarget", groupId: KIOSK_GROUP },
      settings: null,
    });
    let mark = t.calls.length;
    const again = await publishOk([file]);
    assert.deepEqual(
      again.plan.items[0]!.targeting!.assignments.keptForeign.map((x) => x.key),
      [`group:${KIOSK_GROUP}`],
    );
    assert.deepEqual(t.graphWrites(mark), [], "nothing to change: the hand-made one is left alone");
    const targets = async () => (await assignments(id)).map((x) => x.target.groupId).sort();
    assert.deepEqual(await targets(), [PILOT, KIOSK_GROUP].sort());

    // The definition drops Pilot and adds All Windows: Pilot (ours) goes, Kiosks (theirs) stays.
    await ws.write(
      definition("owned", "1.0.0", { assignments: [{ intent: "required", group: "Intune - All Windows devices" }] }),
    );
    const changed = await publishOk([file]);
    const plan = changed.plan.items[0]!.targeting!.assignments;
    assert.deepEqual(
      plan.remove.map((x) => x.key),
      [`group:${PILOT}`],
    );
    assert.deepEqual(
      plan.add.map((x) => x.key),
      [`group:${WINDOWS}`],
    );
    assert.deepEqual(await targets(), [WINDOWS, KIOSK_GROUP].sort());
    const kept = (await assignments(id)).find((x) => x.target.groupId === KIOSK_GROUP)!;
    assert.equal(kept.intent, "available", "the hand-made assignment is sent back as it was");
    mark = t.calls.length;
    await publishOk([file]);
    assert.deepEqual(t.graphWrites(mark), []);

    // pruneAssignments: the hand-made one goes too.
    await ws.write(
      definition("owned", "1.0.0", {
        pruneAssignments: true,
        assignments: [{ intent: "required", group: "Intune - All Windows devices" }],
      }),
    );
    const pruned = await publishOk([file]);
    assert.deepEqual(
      pruned.plan.items[0]!.targeting!.assignments.remove.map((x) => x.key),
      [`group:${KIOSK_GROUP}`],
    );
    assert.deepEqual(await targets(), [WINDOWS]);
  });

  /** `kind type target` rows of an app's own (child) links, sorted */
  const links = async (appId: string): Promise<string[]> =>
    (await relationships(appId))
      .filter((x) => x.targetType === "child")
      .map((x) =>
        x["@odata.type"] === "#microsoft.graph.mobileAppSupersedence"
          ? `supersedes ${x.supersedenceType} ${x.targetId}`
          : `depends ${x.dependencyType} ${x.targetId}`,
      )
      .sort();
  const updateRelationships = (appId: string, rels: Record<string, unknown>[]) =>
    graph().post(`${APPS}/${appId}/updateRelationships`, { relationships: rels });
  const supersedes = (targetId: string, supersedenceType = "update") => ({
    "@odata.type": "#microsoft.graph.mobileAppSupersedence",
    supersedenceType,
    targetId,
  });
  const dependsOn = (targetId: string, dependencyType = "autoInstall") => ({
    "@odata.type": "#microsoft.graph.mobileAppDependency",
    dependencyType,
    targetId,
  });

  it("supersede (replace): the new app supersedes the old one; the old one's other links survive", async () => {
    const base = (v: string) =>
      definition("base", v, {
        updateStrategy: "supersede",
        supersedence: { type: "replace", keepPreviousVersions: 3 },
      });
    const files = [
      await ws.write(base("1.0.0")),
      await ws.write(definition("legacy", "1.0.0")),
      await ws.write(definition("helper", "1.0.0")),
    ];
    const r1 = await publishOk(files);
    const v1 = current(r1, "base");
    const legacy = current(r1, "legacy");
    const helper = current(r1, "helper");
    // Links made by an admin: v1 supersedes legacy and depends on helper.
    await updateRelationships(v1, [supersedes(legacy), dependsOn(helper, "detect")]);

    await ws.write(base("1.1.0"));
    const dry = await t.publish(await load(files), { dryRun: true });
    const planned = dry.plan.items.find((i) => i.id === "base")!.targeting!;
    assert.deepEqual(
      planned.relationships?.add.map((l) => `${l.kind} ${l.type} ${l.targetId}`),
      [`supersedence replace ${v1}`, `dependency detect ${helper}`],
    );
    const r2 = await publishOk(files);
    const v2 = current(r2, "base");
    assert.notEqual(v2, v1);
    assert.deepEqual(await links(v2), [`depends detect ${helper}`, `supersedes replace ${v1}`].sort());
    assert.deepEqual(await links(v1), [`depends detect ${helper}`, `supersedes update ${legacy}`].sort());
    const parents = (await relationships(v1)).filter((x) => x.targetType === "parent").map((x) => x.targetId);
    assert.deepEqual(parents, [v2]);
    const mark = t.calls.length;
    const again = await publishOk(files);
    assert.ok(again.plan.items.every((i) => i.action === "nothing"));
    assert.deepEqual(t.graphWrites(mark), []);
  });

  it("a dependency follows a superseded app even when the dependent is not published in that run", async () => {
    const lib = (v: string) =>
      definition("dep-lib", v, { updateStrategy: "supersede", supersedence: { keepPreviousVersions: 1 } });
    const libFile = await ws.write(lib("1.0.0"));
    const userFile = await ws.write(definition("dep-user", "1.0.0", { dependencies: [{ app: "dep-lib" }] }));
    const r1 = await publishOk([libFile, userFile]);
    const lib1 = current(r1, "dep-lib");
    const user = current(r1, "dep-user");
    assert.deepEqual(await links(user), [`depends autoInstall ${lib1}`]);
    await ws.write(lib("2.0.0"));
    const dry = await t.publish(await load([libFile]), { dryRun: true });
    assert.deepEqual(dry.plan.items[0]!.targeting!.dependents, [user.toLowerCase()]);
    const r2 = await publishOk([libFile]);
    const lib2 = current(r2, "dep-lib");
    assert.deepEqual(r2.outcomes[0]!.targeting?.dependents, [user.toLowerCase()]);
    assert.deepEqual(await links(user), [`depends autoInstall ${lib2}`]);
    // A re-run of both finds nothing to do.
    const mark = t.calls.length;
    const again = await publishOk([libFile, userFile]);
    assert.ok(again.plan.items.every((i) => i.action === "nothing"));
    assert.deepEqual(t.graphWrites(mark), []);
  });

  it("keepPreviousVersions beyond the graph limit: the oldest kept version leaves the supersedence graph, kept", async () => {
    const chain = (v: string) =>
      definition("keep", v, { updateStrategy: "supersede", supersedence: { keepPreviousVersions: 10 } });
    const file = await ws.write(chain("1.0.0"));
    const v1 = current(await publishOk([file]), "keep");
    await ws.write(chain("2.0.0"));
    const v2 = current(await publishOk([file]), "keep");
    await ws.write(chain("3.0.0"));
    const v3 = current(await publishOk([file]), "keep");
    // Seven apps of other definitions hang off 1.0.0 (node-0 → … → node-6 → 1.0.0): ten apps in the graph.
    const nodes: string[] = [];
    for (let i = 0; i < 7; i++) {
      const r = await publishOk([await ws.write(definition(`hang-${i}`, "1.0.0"))]);
      nodes.push(current(r, `hang-${i}`));
    }
    for (let i = 0; i < 7; i++) await updateRelationships(nodes[i]!, [supersedes(i < 6 ? nodes[i + 1]! : v1)]);
    await ws.write(chain("4.0.0"));
    const dry = await t.publish(await load([file]), { dryRun: true });
    const planned = dry.plan.items[0]!.targeting!;
    assert.deepEqual(planned.problems, []);
    assert.deepEqual(
      planned.detach.map((x) => x.appId),
      [v1],
    );
    const r = await publishOk([file]);
    const v4 = current(r, "keep");
    assert.deepEqual(r.outcomes[0]!.targeting?.detached, [v1]);
    assert.deepEqual(await links(v4), [`supersedes update ${v3}`]);
    assert.deepEqual(await links(v2), [], "2.0.0 no longer supersedes 1.0.0");
    assert.deepEqual(
      await links(nodes[6]!),
      [`supersedes update ${v1}`],
      "a link with another app (not a version of this definition) stays",
    );
    assert.ok(
      t.apps().some((a) => a["id"] === v1),
      "1.0.0 is kept",
    );
  });

  it("carries the previous version's assignments: move, then copy, then leave", async () => {
    const carry = (v: string, assignmentsMode: string) =>
      definition("carry", v, {
        updateStrategy: "supersede",
        supersedence: { assignments: assignmentsMode, keepPreviousVersions: 10 },
        assignments: [{ intent: "required", group: "Intune - Pilot devices" }],
      });
    const file = await ws.write(carry("1.0.0", "move"));
    const r1 = await publishOk([file]);
    const v1 = current(r1, "carry");
    await graph().post(`${APPS}/${v1}/assignments`, {
      intent: "available",
      target: { "@odata.type": "#microsoft.graph.groupAssignmentTarget", groupId: KIOSK_GROUP },
      settings: { "@odata.type": "#microsoft.graph.win32LobAppAssignmentSettings", notifications: "hideAll" },
    });
    const targets = async (appId: string) =>
      (await assignments(appId)).map((x) => `${x.intent} ${x.target.groupId}`).sort();
    const both = [`available ${KIOSK_GROUP}`, `required ${PILOT}`];

    await ws.write(carry("2.0.0", "move"));
    const r2 = await publishOk([file]);
    const v2 = current(r2, "carry");
    assert.equal(r2.plan.items[0]!.targeting!.carried, 1);
    assert.deepEqual(await targets(v2), both);
    assert.deepEqual(await targets(v1), [], "move: the previous version is unassigned");
    const carried = (await assignments(v2)).find((x) => x.target.groupId === KIOSK_GROUP)!;
    assert.equal(carried.settings?.["notifications"], "hideAll", "carried with its settings");

    await ws.write(carry("3.0.0", "copy"));
    const r3 = await publishOk([file]);
    const v3 = current(r3, "carry");
    assert.deepEqual(await targets(v3), both);
    assert.deepEqual(await targets(v2), both, "copy: the previous version keeps its assignments");

    await ws.write(carry("4.0.0", "leave"));
    const r4 = await publishOk([file]);
    const v4 = current(r4, "carry");
    assert.deepEqual(await targets(v4), [`required ${PILOT}`]);
    assert.deepEqual(await targets(v3), both, "leave: the previous version keeps its assignments");
    // The hand-made assignment carried to v2 stays "made outside the tool" there.
    const stamp = readStamp(t.apps().find((a) => a["id"] === v4)!["notes"] as string);
    assert.ok(stamp.status === "valid");
    assert.equal(stamp.stamp.targets?.length, 1);
    const mark = t.calls.length;
    await publishOk([file]);
    assert.deepEqual(t.graphWrites(mark), []);
  });

  it("dependencies by definition id and by app name follow the newest version; other links of the app survive", async () => {
    // Resolution by name and the replaced dependency list are unit-tested (src/core/plan); here, the writes.
    const runtime = (v: string) =>
      definition("runtime", v, { updateStrategy: "supersede", supersedence: { keepPreviousVersions: 1 } });
    const helperDef = (v: string) => ({
      ...definition("helper", v, { updateStrategy: "supersede" }),
      displayName: "Test helper",
    });
    const tool = definition("tool", "1.0.0", {
      dependencies: [{ app: "runtime" }, { app: "Test helper", type: "detect" }],
    });
    const files = [
      await ws.write(runtime("1.0.0")),
      await ws.write(helperDef("1.0.0")),
      await ws.write(definition("old-tool", "1.0.0")),
      await ws.write(tool),
    ];
    // "Test helper" is the display name of a definition of the same run (its app is made by this run).
    const r1 = await publishOk(files);
    const [rt1, helper, oldTool, toolId] = ["runtime", "helper", "old-tool", "tool"].map((id) => current(r1, id)) as [
      string,
      string,
      string,
      string,
    ];
    assert.deepEqual(await links(toolId), [`depends autoInstall ${rt1}`, `depends detect ${helper}`].sort());
    // An admin makes tool supersede old-tool: a link the definition does not manage.
    await updateRelationships(toolId, [dependsOn(rt1), dependsOn(helper, "detect"), supersedes(oldTool)]);
    let mark = t.calls.length;
    await publishOk(files);
    assert.deepEqual(t.graphWrites(mark), [], "the links are as declared: nothing to write");

    // runtime 2.0.0 supersedes 1.0.0: tool now depends on 2.0.0, and still supersedes old-tool.
    await ws.write(runtime("2.0.0"));
    const r2 = await publishOk(files);
    const rt2 = current(r2, "runtime");
    assert.deepEqual(
      await links(toolId),
      [`depends autoInstall ${rt2}`, `depends detect ${helper}`, `supersedes update ${oldTool}`].sort(),
    );
    assert.deepEqual(await links(rt2), [`supersedes update ${rt1}`]);

    // runtime 3.0.0 with keepPreviousVersions 1: 1.0.0 is deleted (nothing depends on it any more).
    await ws.write(runtime("3.0.0"));
    const r3 = await publishOk(files);
    const rt3 = current(r3, "runtime");
    assert.deepEqual(r3.outcomes.find((o) => o.id === "runtime")!.targeting?.deleted, [rt1]);
    assert.deepEqual(
      await links(toolId),
      [`depends autoInstall ${rt3}`, `depends detect ${helper}`, `supersedes update ${oldTool}`].sort(),
    );
    assert.deepEqual(
      r3.tenant.filter((a) => a.id === "runtime").map((a) => a.appId),
      [rt3, rt2],
    );
    mark = t.calls.length;
    await publishOk(files);
    assert.deepEqual(t.graphWrites(mark), []);
  });

  it("retention keeps N previous versions, unassigns before deleting, and never deletes an app without our stamp", async () => {
    const ret = (v: string) =>
      definition("ret", v, {
        updateStrategy: "supersede",
        supersedence: { assignments: "copy", keepPreviousVersions: 1 },
        assignments: [{ intent: "required", group: "Kiosks" }],
      });
    const file = await ws.write(ret("1.0.0"));
    const ids: string[] = [];
    for (const v of ["1.0.0", "2.0.0"]) {
      await ws.write(ret(v));
      ids.push(current(await publishOk([file]), "ret"));
    }
    // 1.0.0 loses its stamp (an admin took it over): it is no longer ours to delete.
    const notes = t.apps().find((a) => a["id"] === ids[0])!["notes"] as string;
    await graph().patch(`${APPS}/${ids[0]}`, {
      "@odata.type": "#microsoft.graph.win32LobApp",
      notes: notes.replace(/^.*intune-publisher.*$/m, "").trim() || "taken over",
    });
    assert.notEqual(readStamp(t.apps().find((a) => a["id"] === ids[0])!["notes"] as string).status, "valid");

    await ws.write(ret("3.0.0"));
    const r3 = await publishOk([file]);
    ids.push(current(r3, "ret"));
    assert.deepEqual(r3.plan.items[0]!.targeting!.retention, [], "2.0.0 is the one previous version kept");
    assert.ok(
      t.apps().some((a) => a["id"] === ids[0]),
      "the unstamped app is kept",
    );

    await ws.write(ret("4.0.0"));
    const mark = t.calls.length;
    const dry = await t.publish(await load([file]), { dryRun: true });
    assert.deepEqual(
      dry.plan.items[0]!.targeting!.retention.map((x) => x.version),
      ["2.0.0"],
      "the dry run shows the deletion",
    );
    assert.deepEqual(t.graphWrites(mark), []);
    const r4 = await publishOk([file]);
    ids.push(current(r4, "ret"));
    assert.deepEqual(
      r4.plan.items[0]!.targeting!.retention.map((x) => [x.appId, x.version]),
      [[ids[1], "2.0.0"]],
    );
    const left = t
      .apps()
      .map((a) => a["id"])
      .sort();
    assert.deepEqual(left, [ids[0], ids[2], ids[3]].sort(), "exactly 2.0.0 was deleted");
    // 2.0.0 (which kept its assignment: copy) was unassigned, then deleted.
    const victim = t
      .graphWrites(mark)
      .filter((c) => c.url.includes(ids[1]!))
      .map((c) => `${c.method} ${new URL(c.url).pathname.replace(/^.*\/mobileApps\/[^/]+/, "")}`)
      .filter((c, i, all) => c !== all[i - 1]); // a retried request once
    assert.deepEqual(victim.slice(-2), ["POST /assign", "DELETE "]);
    // The new version supersedes 3.0.0 only; nothing points at the deleted one.
    assert.deepEqual(await links(ids[3]!), [`supersedes update ${ids[2]}`]);
  });

  it("ESP: adds the app to named profiles, swaps the old version for the new, keeps other apps, removes it when dropped", async () => {
    const espApp = (v: string, pages: string[]) =>
      definition("esp-app", v, {
        updateStrategy: "supersede",
        enrollmentStatusPages: pages,
      });
    const file = await ws.write(espApp("1.0.0", ["Kiosk ESP"]));
    const otherFile = await ws.write(definition("esp-other", "1.0.0"));
    const r0 = await publishOk([otherFile]);
    const other = current(r0, "esp-other");
    await graph().patch(`${ESP}/${KIOSK_ESP}`, {
      "@odata.type": "#microsoft.graph.windows10EnrollmentCompletionPageConfiguration",
      selectedMobileAppIds: [other],
    });

    const r1 = await publishOk([file]);
    const v1 = current(r1, "esp-app");
    assert.deepEqual((await esp(KIOSK_ESP)).selectedMobileAppIds, [other, v1]);
    assert.deepEqual((await esp(DEFAULT_ESP)).selectedMobileAppIds, []);
    let mark = t.calls.length;
    await publishOk([file]);
    assert.deepEqual(t.graphWrites(mark), []);

    await ws.write(espApp("2.0.0", ["Kiosk ESP"]));
    const r2 = await publishOk([file]);
    const v2 = current(r2, "esp-app");
    assert.deepEqual((await esp(KIOSK_ESP)).selectedMobileAppIds, [other, v2], "the old id swapped for the new");
    assert.deepEqual(r2.outcomes[0]!.targeting?.esp, ["Kiosk ESP"]);
    mark = t.calls.length;
    await publishOk([file]);
    assert.deepEqual(t.graphWrites(mark), []);

    // The definition now names the default profile only: out of Kiosk ESP, into the default one.
    await ws.write(espApp("2.0.0", ["All users and all devices"]));
    await publishOk([file]);
    assert.deepEqual((await esp(KIOSK_ESP)).selectedMobileAppIds, [other]);
    assert.deepEqual((await esp(DEFAULT_ESP)).selectedMobileAppIds, [v2]);
    await ws.write(espApp("2.0.0", []));
    await publishOk([file]);
    assert.deepEqual((await esp(DEFAULT_ESP)).selectedMobileAppIds, []);
    assert.deepEqual((await esp(KIOSK_ESP)).selectedMobileAppIds, [other]);
    mark = t.calls.length;
    await publishOk([file]);
    assert.deepEqual(t.graphWrites(mark), []);
  });

  it("keepPreviousVersions 0: the previous version is replaced and deleted in the same run", async () => {
    const zero = (v: string) =>
      definition("zero", v, {
        updateStrategy: "supersede",
        supersedence: { keepPreviousVersions: 0 },
        assignments: [{ intent: "required", group: "Kiosks" }],
        enrollmentStatusPages: ["Kiosk ESP"],
      });
    const file = await ws.write(zero("1.0.0"));
    const v1 = current(await publishOk([file]), "zero");
    await ws.write(zero("2.0.0"));
    const r = await publishOk([file]);
    const v2 = current(r, "zero");
    assert.deepEqual(
      t.apps().map((a) => a["id"]),
      [v2],
    );
    assert.deepEqual(r.outcomes[0]!.targeting?.deleted, [v1]);
    assert.deepEqual(await links(v2), [], "no link to a deleted app");
    assert.deepEqual((await esp(KIOSK_ESP)).selectedMobileAppIds, [v2]);
    assert.deepEqual(
      (await assignments(v2)).map((x) => x.target.groupId),
      [KIOSK_GROUP],
    );
    const mark = t.calls.length;
    await publishOk([file]);
    assert.deepEqual(t.graphWrites(mark), []);
  });

  it("a dependency on a definition whose new version failed in the same run stays on the version that exists", async () => {
    const lib = (v: string) => definition("lib", v, { updateStrategy: "supersede" });
    const libFile = await ws.write(lib("1.0.0"));
    const appFile = await ws.write(definition("consumer", "1.0.0", { dependencies: [{ app: "lib" }] }));
    const r1 = await publishOk([libFile, appFile]);
    const lib1 = current(r1, "lib");
    await ws.write(lib("2.0.0"));
    await ws.write(definition("consumer", "1.1.0", { dependencies: [{ app: "lib" }] }));
    t.lt.admin.addUploadFault({ stage: "commit", outcome: "failed", count: 1 });
    const r2 = await t.publish(await load([libFile, appFile]), { concurrency: 1 });
    const libOut = r2.outcomes.find((o) => o.id === "lib")!;
    assert.equal(libOut.status, "failed");
    const consumer = r2.outcomes.find((o) => o.id === "consumer")!;
    assert.equal(consumer.status, "ok", describeFailure(consumer));
    assert.deepEqual(
      await links(current(r2, "consumer")),
      [`depends autoInstall ${lib1}`],
      "still on the version that exists",
    );
    // The next run publishes lib 2.0.0 and moves the dependency to it.
    const r3 = await publishOk([libFile, appFile]);
    assert.deepEqual(await links(current(r3, "consumer")), [`depends autoInstall ${current(r3, "lib")}`]);
  });

  it("a group id in capitals resolves; a hand-added ESP membership follows the new version", async () => {
    const app = (v: string) =>
      definition("caps", v, {
        updateStrategy: "supersede",
        assignments: [{ intent: "required", group: KIOSK_GROUP.toUpperCase() }],
      });
    const file = await ws.write(app("1.0.0"));
    const v1 = current(await publishOk([file]), "caps");
    assert.deepEqual(
      (await assignments(v1)).map((x) => x.target.groupId),
      [KIOSK_GROUP],
    );
    // An admin put 1.0.0 in Kiosk ESP by hand; the definition does not manage ESP.
    await graph().patch(`${ESP}/${KIOSK_ESP}`, {
      "@odata.type": "#microsoft.graph.windows10EnrollmentCompletionPageConfiguration",
      selectedMobileAppIds: [v1],
    });
    await ws.write(app("2.0.0"));
    const v2 = current(await publishOk([file]), "caps");
    assert.deepEqual((await esp(KIOSK_ESP)).selectedMobileAppIds, [v2], "the superseded version is swapped");
    const mark = t.calls.length;
    await publishOk([file]);
    assert.deepEqual(t.graphWrites(mark), []);
  });

  it("retention leaves a version another (foreign) app links to, and re-points our dependants it deletes under", async () => {
    const runtime = (v: string) =>
      definition("rt", v, { updateStrategy: "supersede", supersedence: { keepPreviousVersions: 0 } });
    const rtFile = await ws.write(runtime("1.0.0"));
    const toolFile = await ws.write(definition("rt-tool", "1.0.0", { dependencies: [{ app: "rt" }] }));
    const foreignFile = await ws.write(definition("rt-foreign", "1.0.0"));
    const r1 = await publishOk([rtFile, toolFile, foreignFile]);
    const rt1 = current(r1, "rt");
    const tool = current(r1, "rt-tool");
    // rt 2.0.0 alone (rt-tool not in the run): 1.0.0 is deleted and rt-tool's dependency moves to 2.0.0.
    await ws.write(runtime("2.0.0"));
    const r2 = await publishOk([rtFile]);
    const rt2 = current(r2, "rt");
    assert.deepEqual(r2.outcomes[0]!.targeting?.deleted, [rt1]);
    assert.ok(!t.apps().some((a) => a["id"] === rt1));
    assert.deepEqual(await links(tool), [`depends autoInstall ${rt2}`]);

    // A foreign app (no stamp) that depends on 2.0.0 keeps it from being deleted.
    const foreign = current(r1, "rt-foreign");
    await graph().patch(`${APPS}/${foreign}`, { "@odata.type": "#microsoft.graph.win32LobApp", notes: "by hand" });
    await updateRelationships(foreign, [dependsOn(rt2)]);
    await ws.write(runtime("3.0.0"));
    const r3 = await publishOk([rtFile]);
    const rt3 = current(r3, "rt");
    const planned = r3.plan.items[0]!.targeting!;
    assert.deepEqual(planned.retention, []);
    assert.deepEqual(
      planned.retentionBlocked.map((b) => b.appId),
      [rt2],
    );
    assert.match(planned.retentionBlocked[0]!.reason, /not made by intune-publisher/);
    assert.ok(
      t.apps().some((a) => a["id"] === rt2),
      "2.0.0 is kept",
    );
    assert.deepEqual(await links(rt3), [`supersedes update ${rt2}`]);
    assert.deepEqual(await links(foreign), [`depends autoInstall ${rt2}`], "the foreign link is untouched");
  });

  it("a dependency cycle through links made outside the run is refused in the plan", async () => {
    const files = [
      await ws.write(definition("cyc-runtime", "1.0.0")),
      await ws.write(definition("cyc-lib", "1.0.0")),
      await ws.write(definition("cyc-tool", "1.0.0")),
    ];
    const r1 = await publishOk(files);
    const [runtime, lib, tool] = ["cyc-runtime", "cyc-lib", "cyc-tool"].map((id) => current(r1, id)) as [
      string,
      string,
      string,
    ];
    // runtime → lib → tool, made by hand; tool's definition now wants tool → runtime.
    await updateRelationships(runtime, [dependsOn(lib)]);
    await updateRelationships(lib, [dependsOn(tool)]);
    const toolFile = await ws.write(definition("cyc-tool", "1.0.0", { dependencies: [{ app: "cyc-runtime" }] }));
    const mark = t.calls.length;
    const r = await t.publish(await load([toolFile]));
    const o = r.outcomes[0]!;
    assert.equal(o.status, "failed");
    assert.equal(o.error?.step, "plan", describeFailure(o));
    assert.match(o.error?.message ?? "", /dependency links of .* would form a cycle/);
    assert.deepEqual(t.graphWrites(mark), []);
    assert.deepEqual(await links(tool), []);
  });

  it("two definitions joining one ESP profile in one run: one PATCH with both", async () => {
    const files = [
      await ws.write(definition("esp-one", "1.0.0", { enrollmentStatusPages: ["kiosk esp"] })),
      await ws.write(definition("esp-two", "1.0.0", { enrollmentStatusPages: ["Kiosk ESP"] })),
    ];
    const dry = await t.publish(await load(files), { dryRun: true });
    assert.deepEqual(
      dry.plan.items.map((i) => i.targeting!.esp.map((c) => `${c.displayName} +${c.add.join(",")}`)),
      [["Kiosk ESP +new:esp-one"], ["Kiosk ESP +new:esp-two"]],
    );
    const mark = t.calls.length;
    const r = await publishOk(files);
    const patches = t.graphWrites(mark).filter((c) => c.method === "PATCH" && c.url.includes(KIOSK_ESP));
    assert.equal(patches.length, 1);
    assert.deepEqual(
      [...(await esp(KIOSK_ESP)).selectedMobileAppIds].sort(),
      [current(r, "esp-one"), current(r, "esp-two")].sort(),
    );
  });

  it("a dependency on a definition whose first app failed in the same run: a clear failure, fixed by the next run", async () => {
    const libFile = await ws.write(definition("new-lib", "1.0.0"));
    const appFile = await ws.write(definition("new-consumer", "1.0.0", { dependencies: [{ app: "new-lib" }] }));
    t.lt.admin.addUploadFault({ stage: "commit", outcome: "failed", count: 1 });
    const r = await t.publish(await load([libFile, appFile]), { concurrency: 1 });
    assert.equal(r.outcomes[0]!.status, "failed");
    const o = r.outcomes[1]!;
    assert.equal(o.status, "failed");
    assert.equal(o.error?.step, "relationships");
    assert.equal(o.error?.code, "LinkedAppNotPublished");
    assert.match(o.error?.message ?? "", /The app of new-lib was not published in this run/);
    const again = await publishOk([libFile, appFile]);
    assert.deepEqual(await links(current(again, "new-consumer")), [`depends autoInstall ${current(again, "new-lib")}`]);
  });
});

/**
 * Left out of the restricted registration: scope tags are readable with DeviceManagementRBAC.* or
 * DeviceManagementConfiguration.* (filters need the latter), groups need GroupMember.Read.All, ESP profiles
 * DeviceManagementServiceConfig.*.
 */
const RESTRICTED: readonly string[] = [
  "DeviceManagementRBAC.Read.All",
  "DeviceManagementConfiguration.Read.All",
  "GroupMember.Read.All",
  "DeviceManagementServiceConfig.ReadWrite.All",
];

describe("targeting with missing permissions", () => {
  let t: PublishTenant;
  let ws: Workspace;
  before(async () => {
    t = await startPublishTenant({ seed: seed(PUBLISHER_PERMISSIONS.filter((p) => !RESTRICTED.includes(p))) });
  });
  after(async () => {
    await t.close();
  });
  beforeEach(async () => {
    t.lt.admin.reset();
    ws = await workspace();
  });

  const publishOk = async (files: string[]): Promise<PublishResult> => {
    const r = await t.publish(await load(files));
    assertOk(r);
    return r;
  };

  it("a 403 on scope tags names DeviceManagementRBAC.Read.All", async () => {
    const file = await ws.write(definition("tags", "1.0.0", { scopeTags: ["Europe"] }));
    await assert.rejects(t.publish(await load([file])), (e: Error & { kind?: string; hint?: string }) => {
      assert.equal(e.kind, "permission");
      assert.match(`${e.message} ${e.hint ?? ""}`, /DeviceManagementRBAC\.Read\.All/);
      assert.match(e.message, /scope tag/i);
      return true;
    });
    assert.equal(t.apps().length, 0);
  });

  it("a 403 on groups names GroupMember.Read.All", async () => {
    const file = await ws.write(
      definition("groups", "1.0.0", { assignments: [{ intent: "required", group: "Kiosks" }] }),
    );
    await assert.rejects(t.publish(await load([file])), (e: Error & { kind?: string; hint?: string }) => {
      assert.equal(e.kind, "permission");
      assert.match(e.message, /needs GroupMember\.Read\.All to resolve assignment groups/);
      return true;
    });
    assert.equal(t.apps().length, 0);
    // Built-in targets need no directory read: the app publishes.
    const ok = await ws.write(
      definition("groups", "1.0.0", { assignments: [{ intent: "required", target: "allDevices" }] }),
    );
    assertOk(await t.publish(await load([ok])));
  });

  it("a 403 on assignment filters and ESP profiles names the permission; a supersede without ESP still works", async () => {
    const filtered = await ws.write(
      definition("filtered", "1.0.0", {
        assignments: [{ intent: "required", target: "allDevices", filter: "Windows 11 only" }],
      }),
    );
    await assert.rejects(t.publish(await load([filtered])), (e: Error & { kind?: string }) => {
      assert.equal(e.kind, "permission");
      assert.match(e.message, /needs DeviceManagementConfiguration\.Read\.All to resolve assignment filters/);
      return true;
    });
    const kiosk = await ws.write(definition("kiosk", "1.0.0", { enrollmentStatusPages: ["Kiosk ESP"] }));
    await assert.rejects(t.publish(await load([kiosk])), (e: Error & { kind?: string }) => {
      assert.equal(e.kind, "permission");
      assert.match(e.message, /needs DeviceManagementServiceConfig\.ReadWrite\.All to resolve enrollmentStatusPages/);
      return true;
    });
    assert.equal(t.apps().length, 0);
    const sup = (v: string) => definition("sup", v, { updateStrategy: "supersede" });
    const file = await ws.write(sup("1.0.0"));
    await publishOk([file]);
    await ws.write(sup("2.0.0"));
    await publishOk([file]);
    assert.equal(t.apps().length, 2);
  });
});

describe("Intune's dependency limit in the plan: every app connected through a shared dependency counts", () => {
  let t: PublishTenant;
  let ws: Workspace;
  const store = new MemoryStore();
  const SHARED = "e0000000-0000-4000-8000-000000000000";
  const appId = (i: number) => `e0000000-0000-4000-8000-${String(i).padStart(12, "0")}`;

  before(async () => {
    t = await startPublishTenant({ seed: seed(), throttling: false, store });
    ws = await workspace();
    // Apps made by someone else, published (put straight into the store: uploading 100 would only slow the test):
    // "Shared runtime" and an app that depends on it and on 98 more, a dependency graph of 100 apps already.
    const apps = store.collection<{ id: string } & Def>(DEFAULT_TENANT_ID, "mobileApps");
    const put = (id: string, displayName: string) =>
      apps.put({ id, "@odata.type": "#microsoft.graph.win32LobApp", displayName, publishingState: "published" });
    put(SHARED, "Shared runtime");
    for (let i = 1; i <= 99; i++) put(appId(i), `Vendor app ${i}`);
    await t.session.graph.post(`${APPS}/${appId(99)}/updateRelationships`, {
      relationships: [SHARED, ...Array.from({ length: 98 }, (_, i) => appId(i + 1))].map((targetId) => ({
        "@odata.type": "#microsoft.graph.mobileAppDependency",
        dependencyType: "autoInstall",
        targetId,
      })),
    });
  });
  after(async () => {
    await t.close();
  });

  it("a new app depending on the shared runtime would make 101 apps: refused in the plan, nothing written", async () => {
    // Alone, the new app and its one dependency are 2 apps; joined to the vendor's graph through it, 101.
    const file = await ws.write(definition("joins-graph", "1.0.0", { dependencies: [{ app: "Shared runtime" }] }));
    const dry = await t.publish(await load([file]), { dryRun: true });
    const problems = dry.plan.items.flatMap((i) => i.targeting!.problems);
    assert.match(problems.join(" "), /dependency graph of the new app of joins-graph would hold 101 apps/);
    const mark = t.calls.length;
    const r = await t.publish(await load([file]));
    assert.equal(r.outcomes[0]?.status, "failed");
    assert.equal(r.outcomes[0]?.error?.step, "plan");
    assert.deepEqual(t.graphWrites(mark), [], "refused before any write");
    // Without the dependency the app publishes.
    await ws.write(definition("joins-graph", "1.0.0"));
    assertOk(await t.publish(await load([file])));
  });
});
