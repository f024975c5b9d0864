// Categories on the local tenant: publish links a definition's categories after the create, a re-run makes no
// write, a changed list adds and removes exactly the difference (never a PATCH), and an unknown name is a
// positioned definition error before any write.
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import { defaultSeed } from "../../emulator/seed.js";
import { AppDefinitionError } from "../../src/core/app-definition/errors.js";
import { describeFailure } from "../../src/publish/publish.js";
import type { PublishResult } from "../../src/publish/publish.js";
import { useScratch } from "../support/scratch.js";
import { copyExamples, load } from "../support/fixtures.js";
import { startPublishTenant } from "../support/tenant.js";
import type { PublishTenant } from "../support/tenant.js";

const scratch = useScratch("ip-categories-");

describe("publish links categories on the local tenant", () => {
  let t: PublishTenant;
  let ex: Awaited<ReturnType<typeof copyExamples>>;

  before(async () => {
    t = await startPublishTenant({ seed: { ...defaultSeed(), mobileAppCategories: [{ displayName: "Printers" }] } });
  });
  after(async () => {
    await t.close();
  });
  beforeEach(async () => {
    t.lt.admin.reset();
    ex = await copyExamples(await scratch());
  });

  async function setCategories(file: string, list: string): Promise<void> {
    const path = join(ex.dir, file);
    const text = await readFile(path, "utf8");
    const next = text.replace(/^categories: .*$/m, `categories: ${list}`);
    assert.notEqual(next, text, `the edit of ${file} applies`);
    await writeFile(path, next);
  }

  /** Category names linked to the app of a definition, read through the Graph. */
  async function linked(r: PublishResult, id: string): Promise<string[]> {
    const appId = r.tenant.find((a) => a.id === id && a.current)?.appId;
    assert.ok(appId, `an app for ${id}`);
    const cats = await t.session.graph.listAll<{ displayName: string }>(
      `/deviceAppManagement/mobileApps/${appId}/categories`,
    );
    return cats.map((c) => c.displayName).sort();
  }

  const refWrites = (from: number) =>
    t.graphWrites(from).map((c) => `${c.method} ${new URL(c.url).pathname.replace(/^.*\/mobileApps\/[^/]+/, "")}`);

  it("create links the categories; a re-run reads them and makes no write", async () => {
    await setCategories("northwind-printers.yaml", "[printers, Computer Management, Printers]");
    const r = await t.publish(await load(ex.files));
    for (const o of r.outcomes) assert.equal(o.status, "ok", describeFailure(o));
    assert.deepEqual(await linked(r, "contoso-notes"), ["Productivity"]);
    assert.deepEqual(await linked(r, "fabrikam-agent"), ["Computer management", "Data management"]);
    assert.deepEqual(await linked(r, "northwind-printers"), ["Computer management", "Printers"]);
    const notes = r.outcomes.find((o) => o.id === "contoso-notes")!;
    assert.deepEqual(notes.categories, { linked: ["Productivity"], unlinked: [] });
    const create = r.plan.items.find((i) => i.id === "northwind-printers")!;
    assert.deepEqual(
      create.categories?.link.map((c) => c.displayName),
      ["Printers", "Computer management"],
      "names resolve case-insensitively, duplicates once",
    );

    const mark = t.calls.length;
    const again = await t.publish(await load(ex.files));
    assert.deepEqual(
      again.plan.items.map((i) => [i.action, i.categories]),
      [
        ["nothing", undefined],
        ["nothing", undefined],
        ["nothing", undefined],
      ],
    );
    assert.deepEqual(t.graphWrites(mark), [], "an idempotent re-run makes no Graph write");
    assert.ok(
      t.calls.slice(mark).some((c) => c.method === "GET" && /\$expand=[^&]*categories/.test(decodeURIComponent(c.url))),
      "the links were read (with the listing)",
    );
  });

  it("a changed list adds and removes exactly the difference, without a PATCH; dry run shows it first", async () => {
    await t.publish(await load(ex.files));

    await setCategories("contoso-notes.yaml", "[productivity, Business]");
    let mark = t.calls.length;
    const dry = await t.publish(await load(ex.files), { dryRun: true });
    const planned = dry.plan.items.find((i) => i.id === "contoso-notes")!;
    assert.equal(planned.action, "update-metadata");
    assert.deepEqual(planned.changed, []);
    assert.equal(planned.patch, undefined);
    assert.deepEqual(
      planned.categories?.link.map((c) => c.displayName),
      ["Business"],
    );
    assert.deepEqual(planned.categories?.unlink, []);
    assert.ok(planned.reasons.includes("categories: +Business"), planned.reasons.join("; "));
    assert.deepEqual(t.graphWrites(mark), [], "a dry run writes nothing");

    mark = t.calls.length;
    let r = await t.publish(await load(ex.files));
    assert.deepEqual(refWrites(mark), ["POST /categories/$ref"]);
    assert.deepEqual(await linked(r, "contoso-notes"), ["Business", "Productivity"]);
    assert.deepEqual(
      r.plan.items.filter((i) => i.id !== "contoso-notes").map((i) => i.action),
      ["nothing", "nothing"],
    );

    await setCategories("contoso-notes.yaml", "[Business, Photos & Media]");
    mark = t.calls.length;
    r = await t.publish(await load(ex.files));
    assert.deepEqual(refWrites(mark).sort(), [
      "DELETE /categories/" + catId(r, "Productivity") + "/$ref",
      "POST /categories/$ref",
    ]);
    assert.deepEqual(await linked(r, "contoso-notes"), ["Business", "Photos & Media"]);
    assert.deepEqual(r.outcomes.find((o) => o.id === "contoso-notes")?.categories, {
      linked: ["Photos & Media"],
      unlinked: ["Productivity"],
    });

    await setCategories("contoso-notes.yaml", "[]");
    mark = t.calls.length;
    r = await t.publish(await load(ex.files));
    assert.deepEqual(refWrites(mark).length, 2);
    assert.ok(refWrites(mark).every((w) => w.startsWith("DELETE /categories/")));
    assert.deepEqual(await linked(r, "contoso-notes"), []);

    mark = t.calls.length;
    await t.publish(await load(ex.files));
    assert.deepEqual(t.graphWrites(mark), []);
  });

  function catId(r: PublishResult, name: string): string {
    const item = r.plan.items.find((i) => i.id === "contoso-notes")!;
    const c = item.categories?.unlink.find((x) => x.displayName === name);
    assert.ok(c, `${name} is unlinked`);
    return c.id;
  }

  it("a supersede links the categories on the new app", async () => {
    await t.publish(await load(ex.files));
    await setCategories("fabrikam-agent.yaml", "[Business]");
    const text = await readFile(join(ex.dir, "fabrikam-agent.yaml"), "utf8");
    const version = /^version: "?([^"\n]+)"?$/m.exec(text)?.[1];
    assert.ok(version);
    await writeFile(join(ex.dir, "fabrikam-agent.yaml"), text.replace(/^version: .*$/m, `version: "${version}.1"`));
    const r = await t.publish(await load(ex.files));
    const o = r.outcomes.find((x) => x.id === "fabrikam-agent")!;
    assert.equal(o.status, "ok", describeFailure(o));
    assert.equal(o.strategy, "supersede");
    assert.deepEqual(o.categories, { linked: ["Business"], unlinked: [] });
    assert.deepEqual(await linked(r, "fabrikam-agent"), ["Business"]);
  });

  it("an unknown category is a positioned definition error listing the known ones; nothing is written", async () => {
    // "Education" is no built-in category of a stock tenant (Intune has nine): refused here as it would be there.
    await setCategories("contoso-notes.yaml", "[Productivity, Education]");
    const mark = t.calls.length;
    await assert.rejects(t.publish(await load(ex.files)), (e: unknown) => {
      assert.ok(e instanceof AppDefinitionError, String(e));
      assert.equal(e.problems.length, 1);
      const p = e.problems[0]!;
      assert.deepEqual(p.path, ["categories", 1]);
      assert.equal(p.file, join(ex.dir, "contoso-notes.yaml"));
      assert.equal(p.line, 40);
      assert.ok((p.column ?? 0) > 1);
      assert.match(p.message, /no app category named "Education"/);
      assert.match(p.message, /Books & Reference, Business, .*Productivity, Printers/);
      assert.match(e.message, /contoso-notes\.yaml:40:\d+: categories\[1\]/);
      return true;
    });
    assert.deepEqual(t.graphWrites(mark), []);
    assert.equal(t.apps().length, 0);
  });
});
