// The publish and apps commands through the real CLI entry (main), against a running local tenant found in its
// state folder (as `emulator start` leaves it), and the input errors that need no tenant.
import { EXIT_CODES } from "../../src/cli/exit-codes.js";
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { LocalTenant } from "../../emulator/server.js";
import { CHANGES_EXIT_CODE } from "../../src/cli/commands/publish.js";
import type { GraphClient } from "../../src/clients/graph/client.js";
import type { Win32LobAppWire } from "../../src/core/wire/graph.js";
import { runCli, homeEnv } from "../support/cli.js";
import { useScratch } from "../support/scratch.js";
import { copyExamples } from "../support/fixtures.js";
import { win32AppBody } from "../../emulator/testing/publish.js";
import { recordLocalTenant, startTestTenant } from "../support/tenant.js";
import type { TestTenant } from "../support/tenant.js";

const scratch = useScratch("ip-publish-cli-");

describe("publish and apps commands", () => {
  let home: string;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    home = await scratch();
    env = homeEnv(home, { INTUNE_PUBLISHER_EMULATOR_STATE: join(home, "emulator") });
  });
  it("a bad definition is reported with file, line, column and field, exit 9, before any tenant is used", async () => {
    const file = join(home, "bad.yaml");
    await writeFile(
      file,
      [
        "id: contoso-bad",
        "displayName: Bad",
        "publisher: Contoso",
        "version: 1.1",
        "content: { source: nowhere, setupFile: install.ps1 }",
        "install: { command: install.cmd }",
        "uninstall: { command: uninstall.cmd }",
        "detection: []",
        "",
      ].join("\n"),
    );
    const r = await runCli(["publish", file, "--no-log-file"], env);
    assert.equal(r.code, 9, r.stderr);
    assert.match(r.stderr, /bad\.yaml:4:\d+: version: version must be quoted text/);
    assert.match(r.stderr, /bad\.yaml:8:\d+: detection:/);
    assert.doesNotMatch(r.stderr, /local tenant/);
    assert.equal(r.stdout, "");
  });

  it("publish takes any number of files (250 here, each read before any tenant is used); an empty one is a usage error", async () => {
    const files: string[] = [];
    for (let i = 1; i <= 250; i++) {
      const file = join(home, `many-${i}.yaml`);
      await writeFile(file, `id: many-${i}\ndisplayName: Many ${i}\npublisher: Contoso\nversion: 1.${i}\n`);
      files.push(file);
    }
    const r = await runCli(["publish", ...files, "--no-log-file"], env);
    assert.equal(r.code, 9, r.stderr);
    assert.match(r.stderr, /many-1\.yaml:4:\d+: version: version must be quoted text/);
    assert.match(r.stderr, /many-250\.yaml:4:\d+: version: version must be quoted text/);
    const empty = await runCli(["publish", files[0]!, "", "--no-log-file"], env);
    assert.equal(empty.code, EXIT_CODES.usage, empty.stderr);
    assert.match(empty.stderr, /Argument 2 must not be empty/);
  });

  it("publish without a file is a usage error (exit 64)", async () => {
    const r = await runCli(["publish", "--no-log-file"], env);
    assert.equal(r.code, EXIT_CODES.usage);
    assert.match(r.stderr, /at least one app definition/);
  });

  it("with no tenant configured, publish --dry-run plans against a local tenant started in-process", async () => {
    const ex = await copyExamples(await scratch());
    const r = await runCli(["publish", ...ex.files, "--dry-run", "--output", "json", "--no-log-file"], {
      ...env,
      INTUNE_PUBLISHER_EMULATOR_STATE: join(home, "no-emulator-here"),
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /No tenant is configured/);
    assert.match(r.stderr, /Starting a local tenant in-process/);
    const doc = JSON.parse(r.stdout) as { plan: { action: string }[] };
    assert.deepEqual(
      doc.plan.map((i) => i.action),
      ["create", "create", "create"],
    );
  });

  describe("against a running local tenant", () => {
    let lt: LocalTenant;
    let ex: Awaited<ReturnType<typeof copyExamples>>;
    let graph: GraphClient;
    let t: TestTenant;
    const cli = (...args: string[]) => runCli([...args, "--no-log-file"], env);

    before(async () => {
      t = await startTestTenant();
      lt = t.lt;
      graph = t.graph;
      await recordLocalTenant(join(home, "emulator"), lt);
      ex = await copyExamples(await scratch());
    });
    after(async () => {
      await t.close();
    });

    const ourApps = () =>
      Object.values(lt.admin.state()).flatMap((t) => (t["mobileApps"] ?? []) as unknown as Win32LobAppWire[]);

    it("publish --dry-run plans, writes nothing; publish creates; a re-run is up to date", async () => {
      const dry = await cli("publish", ...ex.files, "--dry-run", "--detailed-exitcode", "--output", "json");
      assert.equal(dry.code, CHANGES_EXIT_CODE, dry.stderr);
      assert.match(dry.stderr, /^Planning against the running local tenant \(.*credentials\.json\) \(tenant /m);
      const plan = JSON.parse(dry.stdout) as { dryRun: boolean; plan: { id: string; action: string }[] };
      assert.equal(plan.dryRun, true);
      assert.deepEqual(
        plan.plan.map((i) => [i.id, i.action]),
        [
          ["contoso-notes", "create"],
          ["fabrikam-agent", "create"],
          ["northwind-printers", "create"],
        ],
      );
      assert.equal(ourApps().length, 0);

      const run = await cli("publish", ...ex.files);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /contoso-notes\s+2\.4\.1\s+create\s+done/);
      assert.match(run.stdout, /The tenant \(running local tenant.*\) holds:/);
      assert.match(run.stderr, /contoso-notes: done \(app /);
      assert.equal(ourApps().length, 3);

      const again = await cli("publish", ...ex.files, "--detailed-exitcode");
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /contoso-notes\s+2\.4\.1\s+nothing\s+up to date/);
      assert.equal(ourApps().length, 3);
    });

    it("apps list, show and remove; apps we did not make are refused without --force", async () => {
      const foreign = await graph.post<Win32LobAppWire>(
        "/deviceAppManagement/mobileApps",
        win32AppBody("Hand Made", { publisher: "Someone", displayVersion: undefined }),
      );

      const list = await cli("apps", "list", "--cloud", "local", "--output", "json");
      assert.equal(list.code, 0, list.stderr);
      const listed = JSON.parse(list.stdout) as {
        target: Record<string, string>;
        apps: { appId: string; displayName: string; definitionId?: string }[];
      };
      // Which tenant, never a secret.
      assert.deepEqual(listed.target, {
        cloud: "local",
        tenantId: lt.tenantId,
        clientId: lt.clientId,
        authorityHost: lt.authorityHost,
        graphBaseUrl: lt.graphBaseUrl,
        source: `running local tenant (${join(home, "emulator", "credentials.json")})`,
      });
      assert.ok(!list.stdout.includes(lt.clientSecret ?? "no secret"));
      const rows = listed.apps;
      assert.equal(rows.length, 4);
      assert.equal(rows.find((r) => r.appId === foreign.id)?.definitionId, undefined);
      assert.equal(rows.find((r) => r.displayName === "Contoso Notes")?.definitionId, "contoso-notes");

      const show = await cli("apps", "show", "contoso-notes", "--cloud", "local");
      assert.equal(show.code, 0, show.stderr);
      assert.match(show.stdout, /Name\s+Contoso Notes/);
      assert.match(show.stdout, /Published by intune-publisher\s+yes: contoso-notes 2\.4\.1/);
      assert.match(show.stdout, /Icon\s+image\/png/);

      const byName = await cli("apps", "show", "hand made", "--cloud", "local", "--output", "json");
      assert.equal(byName.code, 0, byName.stderr);
      const shown = JSON.parse(byName.stdout) as { id: string; target: { tenantId: string; source: string } };
      assert.equal(shown.id, foreign.id);
      assert.equal(shown.target.tenantId, lt.tenantId);
      assert.match(shown.target.source, /^running local tenant/);

      const missing = await cli("apps", "show", "no-such-app", "--cloud", "local");
      assert.equal(missing.code, 9);
      assert.match(missing.stderr, /No win32LobApp has the id, name or definition id "no-such-app"/);

      const refused = await cli("apps", "remove", foreign.id, "--cloud", "local", "--yes");
      assert.equal(refused.code, EXIT_CODES.usage);
      assert.match(refused.stderr, /was not published by intune-publisher/);
      assert.match(refused.stderr, /--force/);
      assert.equal(ourApps().length, 4);

      const forced = await cli(
        "apps",
        "remove",
        foreign.id,
        "--cloud",
        "local",
        "--force",
        "--yes",
        "--output",
        "json",
      );
      assert.equal(forced.code, 0, forced.stderr);
      const gone = JSON.parse(forced.stdout) as {
        removal: { apps: { appId: string }[] };
        target: { tenantId: string };
      };
      assert.deepEqual(
        gone.removal.apps.map((a) => a.appId),
        [foreign.id],
      );
      assert.equal(gone.target.tenantId, lt.tenantId);
      const removed = await cli("apps", "remove", "contoso-notes", "--cloud", "local", "--yes");
      assert.equal(removed.code, 0, removed.stderr);
      assert.match(removed.stdout, /^Removed\nDelete app/);
      assert.deepEqual(
        ourApps()
          .map((a) => a.displayName)
          .sort(),
        ["Fabrikam Endpoint Agent", "Northwind Printer Drivers"],
      );

      // publish puts the removed app back, and only that one.
      const back = await cli("publish", ...ex.files, "--output", "json");
      assert.equal(back.code, 0, back.stderr);
      const doc = JSON.parse(back.stdout) as {
        target: { cloud: string; tenantId: string; source: string };
        outcomes: { id: string; action: string; status: string }[];
      };
      assert.deepEqual(
        [doc.target.cloud, doc.target.tenantId, doc.target.source.startsWith("running local tenant")],
        ["local", lt.tenantId, true],
      );
      assert.deepEqual(
        doc.outcomes.map((o) => [o.id, o.action, o.status]),
        [
          ["contoso-notes", "create", "ok"],
          ["fabrikam-agent", "nothing", "ok"],
          ["northwind-printers", "nothing", "ok"],
        ],
      );
    });

    it("a failed commit exits with the Graph error code, and says the new app was deleted", async () => {
      const file = ex.files.find((f) => f.endsWith("contoso-notes.yaml"))!;
      await cli("apps", "remove", "contoso-notes", "--cloud", "local", "--yes");
      lt.admin.addUploadFault({ stage: "commit", outcome: "failed", count: 1 });
      const r = await cli("publish", file);
      assert.equal(r.code, 5, r.stderr);
      assert.match(r.stderr, /error: Publishing failed: contoso-notes: create failed at upload/);
      assert.match(r.stderr, /created by this run was deleted again/);
      assert.equal(ourApps().filter((a) => a.displayName === "Contoso Notes").length, 0);
    });
  });
});
