// What publish --dry-run, apps and rollback print for people: old → new values, new app ids, counts, and which
// tenant a command uses, through the real CLI entry against a running local tenant.
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runCli, homeEnv } from "../support/cli.js";
import { copyExamples } from "../support/fixtures.js";
import { useScratch } from "../support/scratch.js";
import { recordLocalTenant, startTestTenant } from "../support/tenant.js";
import type { TestTenant } from "../support/tenant.js";

const scratch = useScratch("ip-publish-output-");

interface PlanJson {
  plan: {
    id: string;
    action: string;
    strategy?: string;
    changes?: { property: string; from: string; to: string }[];
  }[];
}

describe("publish and apps output", () => {
  let t: TestTenant;
  let env: NodeJS.ProcessEnv;
  let ex: Awaited<ReturnType<typeof copyExamples>>;
  const cli = (...args: string[]) => runCli([...args, "--no-log-file"], env);
  const edit = async (name: string, from: string, to: string): Promise<void> => {
    const file = join(ex.dir, name);
    const text = await readFile(file, "utf8");
    assert.ok(text.includes(from), `${name} has ${from}`);
    await writeFile(file, text.replace(from, to));
  };

  before(async () => {
    const home = await scratch();
    env = homeEnv(home, { INTUNE_PUBLISHER_EMULATOR_STATE: join(home, "emulator") });
    t = await startTestTenant();
    await recordLocalTenant(join(home, "emulator"), t.lt);
    ex = await copyExamples(await scratch());
    const first = await cli("publish", ...ex.files);
    assert.equal(first.code, 0, first.stderr);
  });
  after(async () => {
    await t.close();
  });

  it("publish --dry-run shows old → new per changed property, the new app of a supersede, and the moved assignments", async () => {
    await edit("contoso-notes.yaml", "owner: Workplace Engineering", "owner: Desktop Team");
    await edit("contoso-notes.yaml", "minimumMemoryMB: 2048", "minimumMemoryMB: 4096");
    await edit("northwind-printers.yaml", 'version: "3.1.0"', 'version: "3.2.0"');

    const table = await cli("publish", ...ex.files, "--dry-run");
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /Changed properties \(tenant → definition\)\n {2}contoso-notes\n/);
    assert.match(table.stdout, /^ {4}owner: "Workplace Engineering" → "Desktop Team"$/m);
    assert.match(table.stdout, /^ {4}minimumMemoryInMB: 2048 → 4096$/m);
    // The supersede creates an app: its row names no existing app.
    const row = table.stdout.split("\n").find((l) => l.startsWith("northwind-printers"));
    assert.match(row ?? "", /^northwind-printers\s+3\.2\.0\s+new version \(supersede\)\s+planned\s+new\s/);
    // The previous version's assignments (two, moved to the new app) are counted as removed.
    assert.match(table.stdout, /previous version .*: assignments removed/);
    assert.match(table.stdout, /assignments \+2 ~0 -2,/);
    assert.match(table.stdout, /^ {4}notes: "….*3\.1\.0.* → "….*3\.2\.0/m);

    const json = await cli("publish", ...ex.files, "--dry-run", "--output", "json");
    assert.equal(json.code, 0, json.stderr);
    const doc = JSON.parse(json.stdout) as PlanJson;
    const notes = doc.plan.find((i) => i.id === "contoso-notes");
    assert.equal(notes?.action, "update-metadata");
    assert.deepEqual(notes?.changes, [
      { property: "owner", from: '"Workplace Engineering"', to: '"Desktop Team"' },
      { property: "minimumMemoryInMB", from: "2048", to: "4096" },
    ]);
  });

  it("apps and rollback say which tenant they work on, in their own words", async () => {
    const run = await cli("publish", ...ex.files);
    assert.equal(run.code, 0, run.stderr);
    // stderr is not a terminal here: progress comes as whole lines, with sizes (and a rate once one is known).
    assert.match(run.stderr, /^northwind-printers: uploading 0% 0 B of \d.* KiB$/m);
    assert.match(run.stderr, /^northwind-printers: uploading 100% \d.* KiB of \d.* KiB/m);
    assert.match(
      run.stderr,
      /^Publishing to the running local tenant \(.*credentials\.json\) \(tenant [0-9a-f-]{36}\)\.$/m,
    );

    const list = await cli("apps", "list");
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stderr, /^Listing the apps of the running local tenant \(.*credentials\.json\) \(tenant /m);
    const back = await cli("rollback", "northwind-printers", "--dry-run");
    assert.equal(back.code, 0, back.stderr);
    assert.match(back.stderr, /^Planning a rollback in the running local tenant \(/m);
    for (const r of [list, back]) assert.doesNotMatch(r.stderr, /publishing|Using the/i);

    // Nothing recorded: a tenant that starts empty and is gone afterwards, said as such.
    const empty = await runCli(["apps", "list", "--no-log-file"], {
      ...env,
      INTUNE_PUBLISHER_EMULATOR_STATE: join(ex.dir, "no-emulator-here"),
    });
    assert.equal(empty.code, 0, empty.stderr);
    assert.match(
      empty.stderr,
      /^Listing the apps of a local tenant started in-process for this command \(tenant .*; it starts from the default seed and is gone when the command ends/m,
    );
  });

  it("apps list marks each of our versions current, kept or rolled back; apps show writes the app out", async () => {
    // After the tests above, northwind-printers 3.2.0 superseded 3.1.0, which is kept.
    const roles = async (): Promise<string[]> => {
      const r = await cli("apps", "list");
      assert.equal(r.code, 0, r.stderr);
      return r.stdout
        .split("\n")
        .filter((l) => l.includes("Northwind"))
        .map((l) => l.replace(/^\S+\s+Northwind Printer Drivers\s+/, "").replace(/\s+/g, " "));
    };
    assert.deepEqual((await roles()).sort(), [
      "3.1.0 published 1 northwind-printers kept",
      "3.2.0 published 1 northwind-printers current",
    ]);
    const back = await cli("rollback", "northwind-printers");
    assert.equal(back.code, 0, back.stderr);
    assert.deepEqual((await roles()).sort(), [
      "3.1.0 published 1 northwind-printers current",
      "3.2.0 published 1 northwind-printers rolled back",
    ]);
    const json = await cli("apps", "list", "--output", "json");
    const listed = JSON.parse(json.stdout) as { apps: { definitionId?: string; status?: string }[] };
    assert.deepEqual(
      listed.apps.filter((a) => a.definitionId === "contoso-notes").map((a) => a.status),
      ["current"],
    );

    const show = await cli("apps", "show", "contoso-notes");
    assert.equal(show.code, 0, show.stderr);
    const field = (name: string): string => new RegExp(`^${name} +(.*)$`, "m").exec(show.stdout)?.[1] ?? "";
    assert.match(field("Size"), /^\d+(\.\d)? (B|KiB|MiB) \(\d+ bytes\)$/);
    assert.equal(field("Scope tags"), "Default (0)");
    assert.equal(field("Categories"), "Productivity");
    assert.equal(
      field("Detection"),
      "registry HKEY_LOCAL_MACHINE\\SOFTWARE\\Contoso\\Notes value Version version >= 2.4.1",
    );
    assert.equal(
      field("Requirements"),
      "Windows release Windows10_22H2 or later; architectures x64, arm64; 50 MB free disk space; 4096 MB memory",
    );
    assert.match(
      field("Install behaviour"),
      /^runs as system; device restart suppressed; at most 15 min; return codes 0 success, /,
    );
    assert.match(field("Install behaviour"), /; uninstall from Company Portal allowed$/);
    assert.match(field("Published by intune-publisher"), /^yes: contoso-notes 2\.4\.1 \(sha256:.*\), current$/);
  });

  it("every name the tenant does not know is reported in one run: scope tag, category, group, filter, ESP profile", async () => {
    const text = (await readFile(join(ex.dir, "contoso-notes.yaml"), "utf8"))
      .replace("id: contoso-notes", "id: contoso-names")
      .replace("categories: [Productivity]", "categories: [Productivity, No Such Category]")
      .replace("scopeTags: [Default]", "scopeTags: [Default, No Such Tag]");
    const file = join(ex.dir, "names.yaml");
    await writeFile(
      file,
      text +
        [
          "assignments:",
          "  - { intent: required, group: No Such Group }",
          "  - { intent: available, target: allUsers, filter: No Such Filter, filterMode: include }",
          "enrollmentStatusPages: [No Such Profile]",
          "",
        ].join("\n"),
    );
    const r = await cli("publish", file, "--dry-run");
    assert.equal(r.code, 9, r.stderr);
    for (const what of [
      /names\.yaml:\d+:\d+: scopeTags\[1\]: .*"No Such Tag"/,
      /names\.yaml:\d+:\d+: categories\[1\]: .*"No Such Category"/,
      /names\.yaml:\d+:\d+: .*"No Such Group"/,
      /names\.yaml:\d+:\d+: .*"No Such Filter"/,
      /names\.yaml:\d+:\d+: .*"No Such Profile"/,
    ])
      assert.match(r.stderr, what);
    assert.equal(r.stdout, "");
  });
});
