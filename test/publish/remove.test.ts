// `apps remove` against the local tenant: northwind-printers published twice with updateStrategy supersede (3.2.0
// supersedes 3.1.0, holds the assignments and the ESP membership), contoso-notes in the same ESP profile. Dry run,
// confirmation (no terminal, a terminal that says no or yes, --yes), --all-versions, a superseded version, links of
// our other apps and of foreign apps, and a run stopped by a fault on the DELETE that the next run finishes.
import assert from "node:assert/strict";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { after, before, beforeEach, describe, it } from "node:test";
import { EXIT_CODES } from "../../src/cli/exit-codes.js";
import { main } from "../../src/cli/main.js";
import { readStamp } from "../../src/core/app-definition/stamp.js";
import type { RelationshipRow } from "../../src/core/targeting/relationships.js";
import type { MobileAppAssignmentWire, Win32LobAppWire } from "../../src/core/wire/graph.js";
import { describeFailure } from "../../src/publish/publish.js";
import type { RemovalResult } from "../../src/publish/remove.js";
import { removeApps } from "../../src/publish/remove.js";
import { GRAPH_PATHS } from "../../src/clients/graph/paths.js";
import { runCli, homeEnv } from "../support/cli.js";
import type { CliResult } from "../support/cli.js";
import { useScratch } from "../support/scratch.js";
import { copyExamples, load } from "../support/fixtures.js";
import { recordLocalTenant, startPublishTenant } from "../support/tenant.js";
import type { PublishTenant } from "../support/tenant.js";
import { win32AppBody } from "../../emulator/testing/publish.js";

const ENROLLMENT_CONFIGURATIONS = GRAPH_PATHS.enrollmentConfigurations;

const scratch = useScratch("ip-remove-");
const ESP_NAME = "All users and all devices"; // the default seed's ESP profile
const DEF = "northwind-printers"; // updateStrategy supersede in the examples
const TARGETING = [
  "updateStrategy: supersede",
  "supersedence:",
  "  keepPreviousVersions: 3",
  "assignments:",
  "  - intent: required",
  "    group: Intune - Pilot devices",
  "  - intent: available",
  "    target: allUsers",
  `enrollmentStatusPages: ["${ESP_NAME}"]`,
  "",
].join("\n");
const APPS = "/deviceAppManagement/mobileApps";

describe("apps remove on the local tenant", () => {
  let t: PublishTenant;
  let ex: Awaited<ReturnType<typeof copyExamples>>;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    // Intune's write limit (emulated) would pause these publish-heavy tests for seconds.
    t = await startPublishTenant({ throttling: false });
    // A state folder as `emulator start` leaves it, so the CLI finds this tenant with --cloud local.
    const home = await scratch();
    const stateDir = join(home, "emulator");
    await recordLocalTenant(stateDir, t.lt);
    env = homeEnv(home, { INTUNE_PUBLISHER_EMULATOR_STATE: stateDir });
  });
  after(async () => {
    await t.close();
  });
  beforeEach(async () => {
    t.lt.admin.reset();
    ex = await copyExamples(await scratch());
  });

  const cli = (...args: string[]): Promise<CliResult> => runCli([...args, "--cloud", "local", "--no-log-file"], env);
  /** The CLI with a standard input that is a terminal and answers `answer` (null: the input ends unanswered). */
  async function cliOnTerminal(answer: string | null, ...args: string[]): Promise<CliResult> {
    const stdin = Object.assign(new PassThrough(), { isTTY: true });
    const out = new PassThrough();
    const err = new PassThrough();
    const chunks = { out: [] as Buffer[], err: [] as Buffer[] };
    out.on("data", (c: Buffer) => chunks.out.push(c));
    err.on("data", (c: Buffer) => {
      chunks.err.push(c);
      // Answer once the question is asked.
      if (/Type "yes" to go on: $/.test(Buffer.concat(chunks.err).toString()))
        stdin.end(answer === null ? undefined : `${answer}\n`);
    });
    const code = await main([...args, "--cloud", "local", "--no-log-file"], { stdout: out, stderr: err, env, stdin });
    return {
      code,
      stdout: Buffer.concat(chunks.out).toString("utf8"),
      stderr: Buffer.concat(chunks.err).toString("utf8"),
    };
  }

  const file = (id: string) => ex.files.find((f) => f.endsWith(`${id}.yaml`))!;
  async function publishOk(ids: string[]): Promise<void> {
    const r = await t.publish(await load(ids.map(file)));
    for (const o of r.outcomes) assert.equal(o.status, "ok", describeFailure(o));
  }
  const app = (id: string) => t.apps().find((a) => a["id"] === id);
  const versions = () =>
    t
      .apps()
      .map((a) => ({ id: a["id"] as string, stamp: readStamp(a["notes"] as string) }))
      .filter((v) => v.stamp.status === "valid" && v.stamp.stamp.id === DEF)
      .map((v) => ({ id: v.id, version: v.stamp.status === "valid" ? v.stamp.stamp.version : "" }));
  const appOf = (version: string) => versions().find((v) => v.version === version)!.id;
  const contosoId = () => t.apps().find((a) => a["displayName"] === "Contoso Notes")!["id"] as string;
  const espApps = async () => {
    const list = await t.session.graph.listAll<{ displayName: string; selectedMobileAppIds?: string[] }>(
      ENROLLMENT_CONFIGURATIONS,
    );
    return [...(list.find((p) => p.displayName === ESP_NAME)?.selectedMobileAppIds ?? [])].sort();
  };
  const assignmentsOf = (id: string) => t.session.graph.listAll<MobileAppAssignmentWire>(`${APPS}/${id}/assignments`);
  const relationshipsOf = (id: string) => t.session.graph.listAll<RelationshipRow>(`${APPS}/${id}/relationships`);

  /** v1 (3.1.0), then v2 (3.2.0) superseding it with the assignments and the ESP place; contoso-notes in the ESP. */
  async function twoVersions(): Promise<{ v1: string; v2: string }> {
    const text = await readFile(file(DEF), "utf8");
    await writeFile(file(DEF), `${text.slice(0, text.indexOf("\nupdateStrategy:") + 1)}${TARGETING}`);
    await writeFile(
      file("contoso-notes"),
      (await readFile(file("contoso-notes"), "utf8")) + `enrollmentStatusPages: ["${ESP_NAME}"]\n`,
    );
    await publishOk(["contoso-notes", DEF]);
    await writeFile(file(DEF), (await readFile(file(DEF), "utf8")).replace(/version: "[^"]+"/, 'version: "3.2.0"'));
    const dir = join(ex.dir, DEF, "source", "drivers");
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "v3.2.0.inf"), "; 3.2.0\r\n");
    await publishOk([DEF]);
    const v1 = appOf("3.1.0");
    const v2 = appOf("3.2.0");
    assert.deepEqual(await espApps(), [contosoId(), v2].sort());
    assert.equal((await assignmentsOf(v2)).length, 2);
    assert.ok((await relationshipsOf(v2)).some((r) => r.targetType === "child" && r.targetId === v1));
    return { v1, v2 };
  }

  /** A win32LobApp made by hand (no stamp) that depends on `on`. */
  async function foreignDependent(on: string): Promise<string> {
    const a = await t.session.graph.post<Win32LobAppWire>(
      APPS,
      win32AppBody("Hand Made Bundle", { publisher: "Someone", displayVersion: undefined }),
    );
    await t.session.graph.post(`${APPS}/${a.id}/updateRelationships`, {
      relationships: [
        { "@odata.type": "#microsoft.graph.mobileAppDependency", targetId: on, dependencyType: "detect" },
      ],
    });
    return a.id;
  }

  it("--dry-run lists every change (apps, links of our apps, ESP profiles, assignments), in JSON too, and writes nothing", async () => {
    const { v1, v2 } = await twoVersions();
    // Another app of ours depends on v2.
    const contoso = contosoId();
    await t.session.graph.post(`${APPS}/${contoso}/updateRelationships`, {
      relationships: [
        { "@odata.type": "#microsoft.graph.mobileAppDependency", targetId: v2, dependencyType: "autoInstall" },
      ],
    });
    const mark = t.calls.length;
    const r = await removeApps({ graph: t.session.graph, app: DEF, allVersions: true, dryRun: true });
    const p = r.removal;
    assert.equal(r.dryRun, true);
    assert.equal(p.definitionId, DEF);
    assert.deepEqual(
      p.apps.map((a) => [a.appId, a.version]),
      [
        [v2, "3.2.0"],
        [v1, "3.1.0"],
      ],
      "newest first",
    );
    assert.deepEqual(
      p.relationships.map((x) => [x.appId, x.owner, x.text]),
      [
        [contoso, "ours", [`depends on (autoInstall) Northwind Printer Drivers 3.2.0 (${v2})`]],
        [v2, "removed", [`supersedes (update) Northwind Printer Drivers 3.1.0 (${v1})`]],
      ],
    );
    assert.deepEqual(p.relationships[0]!.body, [], "contoso-notes keeps no link");
    assert.deepEqual(
      p.esp.map((c) => [c.displayName, c.remove]),
      [[ESP_NAME, [v2]]],
    );
    assert.deepEqual(p.assignments, [
      { appId: v2, labels: ["required: group Intune - Pilot devices", "available: all users"] },
    ]);
    assert.ok(p.warnings.some((w) => w.includes(`depends on Northwind Printer Drivers 3.2.0 (${v2})`)));
    assert.deepEqual(t.graphWrites(mark), [], "a dry run writes nothing");

    const json = await cli("apps", "remove", DEF, "--all-versions", "--dry-run", "--output", "json");
    assert.equal(json.code, 0, json.stderr);
    const doc = JSON.parse(json.stdout) as RemovalResult;
    assert.equal(doc.dryRun, true);
    assert.deepEqual(doc.removal.apps, p.apps);
    assert.deepEqual(doc.removal.relationships, p.relationships);
    assert.deepEqual(doc.removal.esp, p.esp);
    assert.deepEqual(doc.removal.assignments, p.assignments);
    const table = await cli("apps", "remove", DEF, "--all-versions", "--dry-run");
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^Remove every version of northwind-printers — dry run: nothing was changed/);
    assert.match(
      table.stdout,
      new RegExp(`${v2}\\s+Northwind Printer Drivers\\s+3\\.2\\.0\\s+northwind-printers 3\\.2\\.0`),
    );
    assert.match(
      table.stdout,
      /Contoso Notes \(.+\)\s+intune-publisher\s+depends on \(autoInstall\) Northwind Printer Drivers 3\.2\.0/,
    );
    assert.match(table.stdout, new RegExp(`${ESP_NAME}\\s+${v2}`));
    assert.match(table.stdout, /required: group Intune - Pilot devices/);
    assert.match(table.stderr, /warning: Contoso Notes .* depends on Northwind Printer Drivers 3\.2\.0/);
    assert.equal(versions().length, 2, "nothing was removed");
    assert.deepEqual(await espApps(), [contoso, v2].sort());
  });

  it("without a terminal and without --yes it refuses (exit 64) before any call; a terminal asks, and only yes removes", async () => {
    const { v1, v2 } = await twoVersions();
    const refused = await cli("apps", "remove", v2);
    assert.equal(refused.code, EXIT_CODES.usage, refused.stderr);
    assert.match(
      refused.stderr,
      /error: apps remove deletes apps and asks for a confirmation, but standard input is not a terminal\. Nothing was removed\./,
    );
    assert.match(refused.stderr, /hint: Pass --yes/);
    assert.doesNotMatch(refused.stderr, /local tenant/, "refused before the tenant was even looked for");

    const no = await cliOnTerminal("n", "apps", "remove", v2);
    assert.equal(no.code, EXIT_CODES.cancelled, no.stderr);
    assert.match(no.stderr, /This removal will change the tenant as follows:/);
    assert.match(no.stderr, new RegExp(`${v2}\\s+Northwind Printer Drivers\\s+3\\.2\\.0`));
    assert.match(no.stderr, /supersedes \(update\) Northwind Printer Drivers 3\.1\.0/);
    assert.match(no.stderr, /Delete 1 app as listed\? Type "yes" to go on: /);
    assert.match(no.stderr, /error: Nothing was removed: the removal was not confirmed\./);
    const eof = await cliOnTerminal(null, "apps", "remove", v2);
    assert.equal(eof.code, EXIT_CODES.cancelled, eof.stderr);
    assert.match(eof.stderr, /the removal was not confirmed/);
    // Declined: nothing changed.
    assert.ok(app(v2));
    assert.deepEqual(await espApps(), [contosoId(), v2].sort());
    assert.equal((await assignmentsOf(v2)).length, 2);
    assert.equal((await relationshipsOf(v2)).length, 1);

    const yes = await cliOnTerminal("yes", "apps", "remove", v2, "--output", "json");
    assert.equal(yes.code, 0, yes.stderr);
    assert.equal((JSON.parse(yes.stdout) as RemovalResult).dryRun, false);
    assert.equal(app(v2), undefined, "v2 deleted");
    assert.ok(app(v1), "v1 stays");
    assert.deepEqual(await espApps(), [contosoId()], "v2 left the ESP profile");
  });

  it("removing one version: its own links go first, then its ESP place, its assignments, then the app", async () => {
    const { v1, v2 } = await twoVersions();
    const mark = t.calls.length;
    const r = await removeApps({ graph: t.session.graph, app: v2 });
    assert.equal(r.dryRun, false);
    assert.ok(
      r.removal.warnings.some((w) =>
        /^northwind-printers keeps 1 other version\(s\); 3\.1\.0 .* becomes the version `publish` updates/.test(w),
      ),
      r.removal.warnings.join("\n"),
    );
    assert.equal(app(v2), undefined);
    assert.deepEqual(await relationshipsOf(v1), [], "v1 is no longer superseded");
    assert.deepEqual(await espApps(), [contosoId()]);
    const writes = t.graphWrites(mark).map((c) => `${c.method} ${new URL(c.url).pathname.replace(/^\/beta/, "")}`);
    assert.deepEqual(writes, [
      `POST ${APPS}/${v2}/updateRelationships`,
      `PATCH ${ENROLLMENT_CONFIGURATIONS}/${t.lt.tenantId}_DefaultWindows10EnrollmentCompletionPageConfiguration`,
      `POST ${APPS}/${v2}/assign`,
      `DELETE ${APPS}/${v2}`,
    ]);
  });

  it("--all-versions removes both versions; a name two versions share is ambiguous without it", async () => {
    const { v1, v2 } = await twoVersions();
    const ambiguous = await cli("apps", "remove", DEF, "--yes");
    assert.equal(ambiguous.code, EXIT_CODES.usage, ambiguous.stderr);
    assert.match(ambiguous.stderr, /"northwind-printers" names 2 apps/);
    assert.match(ambiguous.stderr, /hint: .*pass --all-versions to remove every version of northwind-printers/);
    const r = await cli("apps", "remove", "Northwind Printer Drivers", "--all-versions", "--yes");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Removed every version of northwind-printers/);
    assert.deepEqual(versions(), []);
    assert.equal(app(v1), undefined);
    assert.equal(app(v2), undefined);
    assert.deepEqual(await espApps(), [contosoId()]);
    // The definition publishes afresh.
    await publishOk([DEF]);
    assert.equal(versions().length, 1);
  });

  it("a superseded version is removed: the newer version's supersedence link goes first (Intune refuses the delete otherwise)", async () => {
    const { v1, v2 } = await twoVersions();
    // What the old `apps remove` did: the raw DELETE, refused.
    await assert.rejects(t.session.graph.delete(`${APPS}/${v1}`), /superseded by another app/);
    const r = await removeApps({ graph: t.session.graph, app: v1 });
    assert.deepEqual(
      r.removal.relationships.map((x) => [x.appId, x.owner, x.text]),
      [[v2, "ours", [`supersedes (update) Northwind Printer Drivers 3.1.0 (${v1})`]]],
    );
    assert.equal(app(v1), undefined);
    assert.ok(app(v2));
    assert.deepEqual(await relationshipsOf(v2), []);
    assert.equal((await assignmentsOf(v2)).length, 2, "v2 keeps its assignments");
  });

  it("a foreign app's link stops the removal, naming it; --unlink-foreign removes that link too", async () => {
    const { v2 } = await twoVersions();
    const hand = await foreignDependent(v2);
    const refused = await cli("apps", "remove", v2, "--yes");
    assert.equal(refused.code, EXIT_CODES.usage, refused.stderr);
    assert.match(
      refused.stderr,
      new RegExp(
        `these links belong to apps intune-publisher did not publish: Hand Made Bundle \\(${hand}\\) depends on \\(detect\\) Northwind Printer Drivers 3\\.2\\.0 \\(${v2}\\)\\. Nothing was removed\\.`,
      ),
    );
    assert.match(refused.stderr, /hint: Pass --unlink-foreign/);
    assert.ok(app(v2));
    assert.equal((await relationshipsOf(hand)).length, 1);

    const r = await cli("apps", "remove", v2, "--yes", "--unlink-foreign", "--output", "json");
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as RemovalResult;
    assert.deepEqual(
      doc.removal.relationships.map((x) => [x.appId, x.owner]),
      [
        [hand, "foreign"],
        [v2, "removed"],
      ],
    );
    assert.equal(app(v2), undefined);
    assert.ok(app(hand), "the foreign app stays");
    assert.deepEqual(await relationshipsOf(hand), []);
  });

  it("a run stopped at the DELETE (injected fault) has taken the app out of ESP and removed its links; the next run finishes", async () => {
    const { v1, v2 } = await twoVersions();
    t.lt.admin.addFault({ method: "DELETE", path: `/mobileApps/${v2}$`, status: 500, count: 1 });
    const stopped = await cli("apps", "remove", v2, "--yes");
    assert.equal(stopped.code, EXIT_CODES.graph, stopped.stderr);
    assert.match(
      stopped.stderr,
      new RegExp(`error: Removal of ${v2} stopped at "delete Northwind Printer Drivers 3\\.2\\.0 \\(${v2}\\)"`),
    );
    assert.match(
      stopped.stderr,
      /Done before: links of .* removed; ESP profile "All users and all devices" updated; .* unassigned\./,
    );
    assert.match(stopped.stderr, new RegExp(`hint: Run \`intune-publisher apps remove ${v2} --yes\` to finish it`));
    // Everything but the delete happened, ESP first of all.
    assert.ok(app(v2), "the app is still there");
    assert.deepEqual(await espApps(), [contosoId()]);
    assert.deepEqual(await relationshipsOf(v2), []);
    assert.deepEqual(await assignmentsOf(v2), []);

    // The same removal again (here through the use case, whose calls are recorded).
    const mark = t.calls.length;
    const again = await removeApps({ graph: t.session.graph, app: v2 });
    assert.deepEqual(again.removal.relationships, []);
    assert.deepEqual(again.removal.esp, []);
    assert.deepEqual(again.removal.assignments, []);
    assert.equal(app(v2), undefined);
    assert.ok(app(v1));
    const writes = t.graphWrites(mark).map((c) => `${c.method} ${new URL(c.url).pathname.replace(/^\/beta/, "")}`);
    assert.deepEqual(writes, [`DELETE ${APPS}/${v2}`], "the re-run only deletes");
  });
});
