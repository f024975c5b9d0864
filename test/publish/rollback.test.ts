// `rollback` against the local tenant: publish v1 with assignments and an ESP profile, publish v2 with
// updateStrategy supersede (v1 retained), then roll back: assignments and ESP membership move to v1, v2 is
// unassigned and stamped rolled back, publish afterwards has nothing to do and a new version supersedes v1.
import assert from "node:assert/strict";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import { EXIT_CODES } from "../../src/cli/exit-codes.js";
import { readStamp } from "../../src/core/app-definition/stamp.js";
import { ALL_USERS_TARGET, SETTINGS_TYPE, targetDigest } from "../../src/core/targeting/assignments.js";
import { espDigest } from "../../src/core/targeting/esp.js";
import type { MobileAppAssignmentWire } from "../../src/core/wire/graph.js";
import { describeFailure } from "../../src/publish/publish.js";
import { rollback } from "../../src/publish/rollback.js";
import type { RollbackResult } from "../../src/publish/rollback.js";
import { GRAPH_PATHS } from "../../src/clients/graph/paths.js";
import { runCli, homeEnv } from "../support/cli.js";
import { useScratch } from "../support/scratch.js";
import { copyExamples, load } from "../support/fixtures.js";
import { recordLocalTenant, startPublishTenant } from "../support/tenant.js";
import type { PublishTenant } from "../support/tenant.js";

const ENROLLMENT_CONFIGURATIONS = GRAPH_PATHS.enrollmentConfigurations;

const scratch = useScratch("ip-rollback-");

const PILOT = "5a8e1f3c-1d2b-4e6f-8a9b-0c1d2e3f4a5b"; // "Intune - Pilot devices" in the default seed
const ESP_NAME = "All users and all devices"; // the default seed's ESP profile
const DEF = "northwind-printers"; // updateStrategy supersede in the examples

/** northwind-printers' targeting in these tests (the example's own lines from `updateStrategy:` on are replaced). */
const SUPERSEDE = ["updateStrategy: supersede", "supersedence:", "  keepPreviousVersions: 3"];
const TARGETING = [
  ...SUPERSEDE,
  "assignments:",
  "  - intent: required",
  "    group: Intune - Pilot devices",
  "    notifications: showReboot",
  "  - intent: available",
  "    target: allUsers",
  `enrollmentStatusPages: ["${ESP_NAME}"]`,
  "",
].join("\n");
/** 3.2.0 adds an assignment, so its stamp records more than 3.1.0's. */
const TARGETING_V2 = TARGETING.replace(
  "assignments:\n",
  "assignments:\n  - intent: required\n    target: allDevices\n",
);
const ONE_ASSIGNMENT = [
  ...SUPERSEDE,
  "assignments:",
  "  - intent: required",
  "    group: Intune - Pilot devices",
  "",
].join("\n");

describe("rollback on the local tenant", () => {
  let t: PublishTenant;
  let ex: Awaited<ReturnType<typeof copyExamples>>;

  before(async () => {
    // Intune's write limit (100 per app per 20 s, emulated) would pause these publish-heavy tests for seconds.
    t = await startPublishTenant({ throttling: false });
  });
  after(async () => {
    await t.close();
  });
  beforeEach(async () => {
    t.lt.admin.reset();
    ex = await copyExamples(await scratch());
  });

  const file = (id: string) => ex.files.find((f) => f.endsWith(`${id}.yaml`))!;

  /** Replaces the example's lines from `updateStrategy:` on with `tail`. */
  async function target(tail: string): Promise<void> {
    const text = await readFile(file(DEF), "utf8");
    const at = text.indexOf("\nupdateStrategy:");
    assert.ok(at > 0, "the example has updateStrategy");
    await writeFile(file(DEF), `${text.slice(0, at + 1)}${tail}`);
  }

  async function publishOk(ids: string[]): Promise<void> {
    const r = await t.publish(await load(ids.map(file)));
    for (const o of r.outcomes) assert.equal(o.status, "ok", describeFailure(o));
  }

  /** A new version of northwind-printers: new version number and new content. */
  async function bump(version: string): Promise<void> {
    const text = await readFile(file(DEF), "utf8");
    await writeFile(file(DEF), text.replace(/version: "[^"]+"/, `version: "${version}"`));
    const dir = join(ex.dir, DEF, "source", "drivers");
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, `v${version}.inf`), `; ${version}\r\n`);
  }

  const versions = () =>
    t
      .apps()
      .filter((a) => {
        const s = readStamp(a["notes"] as string);
        return s.status === "valid" && s.stamp.id === DEF;
      })
      .map((a) => ({ id: a["id"] as string, stamp: readStamp(a["notes"] as string) }))
      .map(({ id, stamp }) => ({ id, stamp: stamp.status === "valid" ? stamp.stamp : undefined }));
  const appOf = (version: string) => {
    const hits = versions().filter((v) => v.stamp?.version === version);
    assert.equal(hits.length, 1, `one app of version ${version}`);
    return hits[0]!;
  };
  const assignmentsOf = (appId: string) =>
    t.session.graph.listAll<MobileAppAssignmentWire>(`/deviceAppManagement/mobileApps/${appId}/assignments`);
  const espApps = async () => {
    const list = await t.session.graph.listAll<{ displayName: string; selectedMobileAppIds?: string[] }>(
      ENROLLMENT_CONFIGURATIONS,
    );
    return list.find((p) => p.displayName === ESP_NAME)?.selectedMobileAppIds ?? [];
  };
  const contosoId = () => t.apps().find((a) => a["displayName"] === "Contoso Notes")!["id"] as string;

  /** v1 (3.1.0) assigned and in the ESP profile with contoso-notes, then v2 (3.2.0) superseding it. */
  async function twoVersions(): Promise<{ v1: string; v2: string }> {
    await target(TARGETING);
    await writeFile(
      file("contoso-notes"),
      (await readFile(file("contoso-notes"), "utf8")) + `enrollmentStatusPages: ["${ESP_NAME}"]\n`,
    );
    await publishOk(["contoso-notes", DEF]);
    const v1 = appOf("3.1.0").id;
    assert.equal((await assignmentsOf(v1)).length, 2);
    await target(TARGETING_V2);
    await bump("3.2.0");
    await publishOk([DEF]);
    const v2 = appOf("3.2.0").id;
    assert.equal((await assignmentsOf(v1)).length, 0, "publish moved the assignments to v2");
    assert.equal((await assignmentsOf(v2)).length, 3);
    assert.deepEqual([...(await espApps())].sort(), [contosoId(), v2].sort());
    return { v1, v2 };
  }

  it("moves the assignments and ESP membership back to v1, unassigns v2 and moves the stamps", async () => {
    const { v1, v2 } = await twoVersions();
    const v2Stamp = appOf("3.2.0").stamp!;
    const v2Before = await assignmentsOf(v2);
    const mark = t.calls.length;
    const r = await rollback({ graph: t.session.graph, app: DEF });
    const p = r.rollback;
    assert.equal(r.dryRun, false);
    assert.deepEqual(
      [p.definitionId, p.from, p.to],
      [DEF, { appId: v2, version: "3.2.0" }, { appId: v1, version: "3.1.0" }],
    );
    const who = (id: string) => (id === v1 ? "v1" : id === v2 ? "v2" : id);
    assert.deepEqual(p.assignments.map((a) => `${who(a.appId)} ${a.action} ${a.label}`).sort(), [
      "v1 add available: all users",
      "v1 add required: all devices",
      "v1 add required: group Intune - Pilot devices",
      "v2 remove available: all users",
      "v2 remove required: all devices",
      "v2 remove required: group Intune - Pilot devices",
    ]);
    assert.deepEqual(
      p.esp.map((c) => [c.displayName, c.remove, c.add]),
      [[ESP_NAME, [v2], [v1]]],
    );
    assert.deepEqual(p.warnings, []);

    // The tenant: v1 holds exactly what v2 held (settings included), v2 nothing; ESP keeps the other app.
    const strip = (l: MobileAppAssignmentWire[]) =>
      l.map((a) => JSON.stringify({ intent: a.intent, target: a.target, settings: a.settings })).sort();
    assert.deepEqual(strip(await assignmentsOf(v1)), strip(v2Before));
    assert.deepEqual(await assignmentsOf(v2), []);
    const esp = await espApps();
    assert.deepEqual([...esp].sort(), [contosoId(), v1].sort(), "v2 swapped for v1; contoso-notes kept");

    // Stamps: v2 rolled back (its records moved), v1 records what v2 recorded.
    const s1 = appOf("3.1.0").stamp!;
    const s2 = appOf("3.2.0").stamp!;
    assert.equal(s2.rolledBack, true);
    assert.equal(s2.targets, undefined);
    assert.equal(s1.rolledBack, undefined);
    assert.deepEqual(s1.targets, v2Stamp.targets);
    assert.deepEqual(
      [...(s1.targets ?? [])].sort(),
      [targetDigest(`group:${PILOT}`), targetDigest("allUsers"), targetDigest("allDevices")].sort(),
    );
    assert.deepEqual(s1.esp, v2Stamp.esp);
    const espId = (await t.session.graph.listAll<{ id: string; displayName: string }>(ENROLLMENT_CONFIGURATIONS)).find(
      (x) => x.displayName === ESP_NAME,
    )!.id;
    assert.deepEqual(s1.esp, [espDigest(espId)]);
    // The writes, in the order that lets a re-run finish (src/publish/rollback.ts applyRollback).
    const writes = t.graphWrites(mark);
    assert.deepEqual(
      writes.map((w) => `${w.method} ${new URL(w.url).pathname.replace(/^\/beta/, "")}`),
      [
        `POST /deviceAppManagement/mobileApps/${v1}/assign`,
        `PATCH ${ENROLLMENT_CONFIGURATIONS}/${encodeURIComponent(espId)}`,
        `POST /deviceAppManagement/mobileApps/${v2}/assign`,
        `PATCH /deviceAppManagement/mobileApps/${v1}`,
        `PATCH /deviceAppManagement/mobileApps/${v2}`,
      ],
    );

    // The relationship is left: v2 still supersedes v1.
    const rel = await t.session.graph.listAll<{ targetId: string; targetType: string }>(
      `/deviceAppManagement/mobileApps/${v2}/relationships`,
    );
    assert.ok(rel.some((x) => x.targetId === v1 && x.targetType === "child"));

    // publish of the same definition (3.2.0) has nothing to do, and writes nothing.
    const mark2 = t.calls.length;
    const again = await t.publish(await load([file(DEF)]));
    const item = again.plan.items[0]!;
    assert.equal(item.action, "nothing");
    assert.equal(item.appId, v1);
    assert.match(item.reasons.join(" "), /3\.2\.0 was rolled back/);
    assert.equal(item.targeting?.changed, false, JSON.stringify(item.targeting));
    assert.deepEqual(t.graphWrites(mark2), []);

    // A new version supersedes the rolled-back-to app and takes its assignments and ESP place.
    await bump("3.3.0");
    const next = await t.publish(await load([file(DEF)]));
    const o = next.outcomes[0]!;
    assert.equal(o.status, "ok", describeFailure(o));
    assert.equal(o.supersedes, v1);
    const v3 = appOf("3.3.0").id;
    assert.equal((await assignmentsOf(v3)).length, 3);
    assert.deepEqual(await assignmentsOf(v1), []);
    assert.deepEqual([...(await espApps())].sort(), [contosoId(), v3].sort());
  });

  it("--to picks a version; without it the newest previous one; versions passed over are marked too", async () => {
    const { v1, v2 } = await twoVersions();
    await bump("3.3.0");
    await publishOk([DEF]);
    const v3 = appOf("3.3.0").id;
    const plain = await rollback({ graph: t.session.graph, app: DEF, dryRun: true });
    assert.deepEqual(plain.rollback.to, { appId: v2, version: "3.2.0" }, "default: the newest previous version");

    const r = await rollback({ graph: t.session.graph, app: DEF, to: "3.1.0" });
    assert.deepEqual(r.rollback.from, { appId: v3, version: "3.3.0" });
    assert.deepEqual(r.rollback.to, { appId: v1, version: "3.1.0" });
    assert.deepEqual(
      r.rollback.stamps.map((s) => [s.appId, s.rolledBack]),
      [
        [v1, false],
        [v2, true],
        [v3, true],
      ],
    );
    assert.equal((await assignmentsOf(v1)).length, 3);
    assert.deepEqual(await assignmentsOf(v3), []);
    assert.equal(appOf("3.2.0").stamp!.rolledBack, true);
    assert.equal(appOf("3.3.0").stamp!.rolledBack, true);
    assert.deepEqual((await t.publish(await load([file(DEF)]), { dryRun: true })).plan.items[0]!.appId, v1);

    // The same command again: 3.1.0 is current already, nothing is written.
    const mark = t.calls.length;
    const again = await rollback({ graph: t.session.graph, app: DEF, to: "3.1.0" });
    assert.equal(again.rollback.alreadyCurrent, true);
    assert.deepEqual(t.graphWrites(mark), []);

    // Rolling forward to a rolled-back version works the same way.
    const fwd = await rollback({ graph: t.session.graph, app: DEF, to: "3.3.0" });
    assert.deepEqual([fwd.rollback.from.appId, fwd.rollback.to.appId], [v1, v3]);
    assert.equal((await assignmentsOf(v3)).length, 3);
    assert.equal(appOf("3.3.0").stamp!.rolledBack, undefined);
    assert.equal(appOf("3.1.0").stamp!.rolledBack, true);
    assert.equal((await t.publish(await load([file(DEF)]), { dryRun: true })).plan.items[0]!.action, "nothing");

    await assert.rejects(rollback({ graph: t.session.graph, app: DEF, to: "9.9" }), (e: Error & { kind?: string }) => {
      assert.equal(e.kind, "input");
      assert.match(e.message, /northwind-printers has no version "9\.9"/);
      assert.match(e.message, /3\.1\.0 \(app .*rolled back/);
      return true;
    });
  });

  it("nothing to roll back to: one version only, or an in-place definition", async () => {
    await target(TARGETING);
    await publishOk([DEF, "contoso-notes"]);
    for (const app of [DEF, "Contoso Notes"]) {
      const mark = t.calls.length;
      await assert.rejects(rollback({ graph: t.session.graph, app }), (e: Error & { kind?: string; code?: string }) => {
        assert.equal(e.kind, "input");
        assert.equal(e.code, "NothingToRollBack");
        assert.match(e.message, /^Nothing to roll back to: /);
        assert.match(e.message, /Versions of [a-z-]+: \d/);
        return true;
      });
      assert.deepEqual(t.graphWrites(mark), []);
    }
  });

  it("an unknown app is an input error listing our definition ids; an app id resolves to its definition", async () => {
    const { v1, v2 } = await twoVersions();
    await assert.rejects(rollback({ graph: t.session.graph, app: "no-such-app" }), (e: Error & { kind?: string }) => {
      assert.equal(e.kind, "input");
      assert.match(e.message, /"no-such-app"/);
      assert.match(e.message, /Definition ids in the tenant: contoso-notes, northwind-printers\./);
      return true;
    });
    const byId = await rollback({ graph: t.session.graph, app: v1, dryRun: true });
    assert.deepEqual([byId.rollback.definitionId, byId.rollback.to.appId], [DEF, v1]);
    const byName = await rollback({ graph: t.session.graph, app: "northwind printer drivers", dryRun: true });
    assert.equal(byName.rollback.from.appId, v2);
  });

  it("a dry run plans the move and writes nothing", async () => {
    const { v1, v2 } = await twoVersions();
    const mark = t.calls.length;
    const r = await rollback({ graph: t.session.graph, app: DEF, dryRun: true });
    assert.equal(r.dryRun, true);
    assert.equal(r.rollback.assignments.filter((a) => a.action === "add").length, 3);
    assert.equal(r.rollback.esp.length, 1);
    assert.deepEqual(t.graphWrites(mark), []);
    assert.equal((await assignmentsOf(v2)).length, 3);
    assert.equal((await assignmentsOf(v1)).length, 0);
    assert.equal(appOf("3.2.0").stamp!.rolledBack, undefined);
  });

  it("a failure half-way is finished by running the command again", async () => {
    const { v1, v2 } = await twoVersions();
    // The stamp PATCH fails (the commit point): assignments and ESP have moved, the stamps have not.
    t.lt.admin.addFault({ method: "PATCH", path: `/mobileApps/${v2}$`, status: 500, count: 20 });
    let failure: (Error & { kind?: string; hint?: string }) | undefined;
    try {
      await rollback({ graph: t.session.graph, app: DEF });
    } catch (e) {
      failure = e as Error & { kind?: string; hint?: string };
    }
    t.lt.admin.clearFaults();
    assert.ok(failure, "the rollback failed");
    assert.equal(failure.kind, "graph");
    assert.match(failure.message, /stopped at "stamp the current app rolled back"/);
    assert.match(failure.message, /Done before: .*assigned; ESP profile .* updated; .* unassigned; .* stamped current/);
    assert.match(failure.hint ?? "", new RegExp(`rollback ${DEF} --to ${v1}`));
    assert.deepEqual(await assignmentsOf(v2), []);
    assert.equal((await assignmentsOf(v1)).length, 3);
    assert.equal(appOf("3.2.0").stamp!.rolledBack, undefined, "v2 is still current by its stamp");

    const again = await rollback({ graph: t.session.graph, app: DEF, to: v1 });
    assert.deepEqual(again.rollback.from.appId, v2);
    assert.equal((await assignmentsOf(v1)).length, 3, "the re-run kept v1's assignments");
    assert.equal(appOf("3.2.0").stamp!.rolledBack, true);
    assert.deepEqual(appOf("3.1.0").stamp!.targets?.length, 3);
    assert.equal((await t.publish(await load([file(DEF)]), { dryRun: true })).plan.items[0]!.action, "nothing");
  });

  it("without permission to read ESP profiles: a permission error when the stamp records ESP membership", async () => {
    await twoVersions();
    t.lt.admin.addFault({ method: "GET", path: "/deviceEnrollmentConfigurations", status: 403, count: 5 });
    const mark = t.calls.length;
    await assert.rejects(rollback({ graph: t.session.graph, app: DEF }), (e: Error & { kind?: string }) => {
      assert.equal(e.kind, "permission");
      assert.match(e.message, /records ESP membership/);
      assert.match(e.message, /DeviceManagementServiceConfig\.ReadWrite\.All/);
      return true;
    });
    t.lt.admin.clearFaults();
    assert.deepEqual(t.graphWrites(mark), [], "refused before any write");
  });

  it("ESP skipped with a warning when it cannot be read and the stamp records none; the target's own assignments are kept", async () => {
    await target(ONE_ASSIGNMENT);
    await publishOk([DEF]);
    await bump("3.2.0");
    await publishOk([DEF]);
    const v1 = appOf("3.1.0").id;
    // An admin assigned the retained version by hand, on a target the current version does not have.
    await t.session.graph.post(`/deviceAppManagement/mobileApps/${v1}/assign`, {
      mobileAppAssignments: [
        {
          "@odata.type": "#microsoft.graph.mobileAppAssignment",
          intent: "available",
          target: {
            "@odata.type": ALL_USERS_TARGET,
            deviceAndAppManagementAssignmentFilterId: null,
            deviceAndAppManagementAssignmentFilterType: "none",
          },
          settings: {
            "@odata.type": SETTINGS_TYPE,
            notifications: "showAll",
            deliveryOptimizationPriority: "notConfigured",
            installTimeSettings: null,
            restartSettings: null,
            autoUpdateSettings: null,
          },
        },
      ],
    });
    t.lt.admin.addFault({ method: "GET", path: "/deviceEnrollmentConfigurations", status: 403, count: 5 });
    const r = await rollback({ graph: t.session.graph, app: DEF });
    t.lt.admin.clearFaults();
    assert.equal(r.rollback.to.appId, v1);
    assert.equal(r.rollback.esp.length, 0);
    assert.match(r.rollback.warnings.join(" "), /Enrollment Status Page profiles were not checked/);
    assert.deepEqual(
      r.rollback.assignments.filter((a) => a.appId === v1).map((a) => [a.action, a.label]),
      [
        ["add", "required: group Intune - Pilot devices"],
        ["keep", "available: all users"],
      ],
    );
    assert.deepEqual((await assignmentsOf(v1)).map((a) => a.intent).sort(), ["available", "required"]);
    // The hand-made one is not recorded: publish keeps it (made outside the tool) and has nothing to do.
    assert.deepEqual(appOf("3.1.0").stamp!.targets, [targetDigest(`group:${PILOT}`)]);
    const mark = t.calls.length;
    const again = await t.publish(await load([file(DEF)]));
    assert.equal(again.plan.items[0]!.action, "nothing");
    assert.deepEqual(t.graphWrites(mark), []);
  });

  it("the rollback command: table and JSON output, exit codes", async () => {
    const { v1, v2 } = await twoVersions();
    const home = await scratch();
    const stateDir = join(home, "emulator");
    await recordLocalTenant(stateDir, t.lt);
    const env = homeEnv(home, { INTUNE_PUBLISHER_EMULATOR_STATE: stateDir });
    const cli = (...args: string[]) => runCli([...args, "--cloud", "local", "--no-log-file"], env);

    const dry = await cli("rollback", DEF, "--dry-run");
    assert.equal(dry.code, EXIT_CODES.ok, dry.stderr);
    assert.match(dry.stdout, /Rollback of northwind-printers \(Northwind Printer Drivers\) — dry run/);
    assert.match(dry.stdout, new RegExp(`From\\s+3\\.2\\.0\\s+app ${v2}`));
    assert.match(dry.stdout, new RegExp(`required: group Intune - Pilot devices\\s+${v1}\\s+3\\.1\\.0\\s+add`));
    assert.match(dry.stdout, new RegExp(`${ESP_NAME}\\s+${v2} → ${v1}`));
    assert.match(dry.stdout, /Relationships are left as they are/);
    assert.equal((await assignmentsOf(v2)).length, 3);

    const run = await cli("rollback", "Northwind Printer Drivers", "--to", "3.1.0", "--output", "json");
    assert.equal(run.code, EXIT_CODES.ok, run.stderr);
    const doc = JSON.parse(run.stdout) as RollbackResult & { target: { cloud: string; tenantId: string } };
    assert.equal(doc.dryRun, false);
    assert.deepEqual([doc.target.cloud, doc.target.tenantId], ["local", t.lt.tenantId]);
    assert.deepEqual(doc.rollback.from, { appId: v2, version: "3.2.0" });
    assert.deepEqual(doc.rollback.to, { appId: v1, version: "3.1.0" });
    assert.equal(doc.rollback.definitionId, DEF);
    assert.equal(doc.rollback.assignments.length, 6);
    assert.equal(doc.rollback.esp.length, 1);
    assert.deepEqual(await assignmentsOf(v2), []);

    const none = await cli("rollback", DEF);
    assert.equal(none.code, EXIT_CODES.input, none.stderr);
    assert.match(none.stderr, /error: Nothing to roll back to/);

    const unknown = await cli("rollback", "nope");
    assert.equal(unknown.code, EXIT_CODES.input);
    assert.match(unknown.stderr, /Definition ids in the tenant: contoso-notes, northwind-printers/);

    const missing = await runCli(["rollback", "--no-log-file"], env);
    assert.equal(missing.code, EXIT_CODES.usage);
  });
});
