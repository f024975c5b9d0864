// The publish use case against the local tenant (real emulator with strict validation, embedded Azurite, our own
// packager, sign-in and Graph client): create, idempotent re-run, metadata-only change, both update strategies,
// compensation after a failure, dry run.
import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import { readStamp } from "../../src/core/app-definition/stamp.js";
import { describeFailure, publishError } from "../../src/publish/publish.js";
import type { PublishEvent } from "../../src/publish/publish.js";
import { useScratch } from "../support/scratch.js";
import { copyExamples, load } from "../support/fixtures.js";
import { startPublishTenant } from "../support/tenant.js";
import type { PublishTenant } from "../support/tenant.js";

const scratch = useScratch("ip-publish-");

describe("publish on the local tenant", () => {
  let t: PublishTenant;
  let ex: Awaited<ReturnType<typeof copyExamples>>;

  before(async () => {
    t = await startPublishTenant();
  });
  after(async () => {
    await t.close();
  });
  beforeEach(async () => {
    t.lt.admin.reset();
    ex = await copyExamples(await scratch());
  });

  async function edit(file: string, from: string | RegExp, to: string): Promise<void> {
    const path = join(ex.dir, file);
    const text = await readFile(path, "utf8");
    const next = text.replace(from, to);
    assert.notEqual(next, text, `the edit of ${file} applies`);
    await writeFile(path, next);
  }

  it("publishes the examples: one committed app each, stamped, icons kept; a re-run makes no Graph write", async () => {
    const defs = await load(ex.files);
    const events: PublishEvent[] = [];
    const r = await t.publish(defs, { onEvent: (e) => events.push(e) });
    assert.deepEqual(
      r.outcomes.map((o) => [o.id, o.action, o.status]),
      [
        ["contoso-notes", "create", "ok"],
        ["fabrikam-agent", "create", "ok"],
        ["northwind-printers", "create", "ok"],
      ],
    );
    const apps = t.apps();
    assert.equal(apps.length, 3);
    for (const a of apps) {
      assert.equal(a["publishingState"], "published");
      assert.equal(a["committedContentVersion"], "1");
      const s = readStamp(a["notes"] as string);
      assert.equal(s.status, "valid");
    }
    const notes = apps.find((a) => a["displayName"] === "Contoso Notes")!;
    assert.ok(notes["largeIcon"], "the icon survives the commit PATCH");
    assert.deepEqual(notes["roleScopeTagIds"], ["0"]);
    assert.ok(
      events.some((e) => e.type === "package" && e.id === "contoso-notes"),
      "packaging progress",
    );
    assert.ok(
      events.some((e) => e.type === "upload" && e.event.type === "bytes"),
      "upload progress",
    );
    assert.equal(r.tenant.length, 3);
    assert.ok(r.tenant.every((a) => a.current && a.publishingState === "published"));

    const mark = t.calls.length;
    const again = await t.publish(await load(ex.files));
    assert.deepEqual(
      again.plan.items.map((i) => i.action),
      ["nothing", "nothing", "nothing"],
    );
    assert.deepEqual(t.graphWrites(mark), [], "an idempotent re-run makes no Graph write");
    assert.equal(
      t.calls.slice(mark).filter((c) => !c.url.startsWith(t.lt.graphBaseUrl) && c.method === "PUT").length,
      0,
    );
    assert.equal(t.apps().length, 3);
  });

  it("a metadata-only change PATCHes only the changed properties", async () => {
    await t.publish(await load(ex.files));
    await edit("contoso-notes.yaml", "maxRunTimeInMinutes: 15", "maxRunTimeInMinutes: 20");
    await edit("contoso-notes.yaml", "owner: Workplace Engineering", "owner: Client Platform");
    const mark = t.calls.length;
    const r = await t.publish(await load(ex.files));
    const item = r.plan.items.find((i) => i.id === "contoso-notes")!;
    assert.equal(item.action, "update-metadata");
    assert.deepEqual([...item.changed].sort(), ["installExperience", "owner"]);
    const writes = t.graphWrites(mark);
    assert.equal(writes.length, 1, JSON.stringify(writes));
    assert.equal(writes[0]!.method, "PATCH");
    const app = t.apps().find((a) => a["displayName"] === "Contoso Notes")!;
    assert.equal(app["owner"], "Client Platform");
    assert.equal((app["installExperience"] as { maxRunTimeInMinutes: number }).maxRunTimeInMinutes, 20);
    assert.equal(app["committedContentVersion"], "1", "content untouched");
    assert.ok(app["largeIcon"], "icon untouched");
    const mark2 = t.calls.length;
    await t.publish(await load(ex.files));
    assert.deepEqual(t.graphWrites(mark2), []);
  });

  it("a new version in place: same app id, new committed content version, new stamp", async () => {
    await t.publish(await load(ex.files));
    const before = t.apps().find((a) => a["displayName"] === "Contoso Notes")!;
    await edit("contoso-notes.yaml", 'version: "2.4.1"', 'version: "2.5.0"');
    await edit("contoso-notes.yaml", 'value: "2.4.1"', 'value: "2.5.0"');
    await writeFile(join(ex.dir, "contoso-notes", "source", "app", "README.txt"), "Contoso Notes 2.5.0\r\n");
    const r = await t.publish(await load(ex.files));
    const o = r.outcomes.find((x) => x.id === "contoso-notes")!;
    assert.equal(o.action, "new-version");
    assert.equal(o.strategy, "in-place");
    assert.equal(o.status, "ok", describeFailure(o));
    assert.equal(o.appId, before["id"]);
    assert.equal(o.contentVersionId, "2");
    const apps = t.apps().filter((a) => a["displayName"] === "Contoso Notes");
    assert.equal(apps.length, 1, "still one app");
    const app = apps[0]!;
    assert.equal(app["committedContentVersion"], "2");
    assert.equal(app["displayVersion"], "2.5.0");
    const s = readStamp(app["notes"] as string);
    assert.ok(s.status === "valid" && s.stamp.version === "2.5.0");
    assert.ok(app["largeIcon"]);
    // The other two were untouched; the next run has nothing to do.
    assert.deepEqual(
      r.outcomes.filter((x) => x.id !== "contoso-notes").map((x) => x.action),
      ["nothing", "nothing"],
    );
    const mark = t.calls.length;
    await t.publish(await load(ex.files));
    assert.deepEqual(t.graphWrites(mark), []);
  });

  it("a new version in place writes the new definition with the content: one PATCH, four writes in all", async () => {
    await t.publish(await load(ex.files));
    const before = t.apps().find((a) => a["displayName"] === "Contoso Notes")!;
    await edit("contoso-notes.yaml", 'version: "2.4.1"', 'version: "2.5.0"');
    await edit("contoso-notes.yaml", 'value: "2.4.1"', 'value: "2.5.0"');
    await writeFile(join(ex.dir, "contoso-notes", "source", "app", "README.txt"), "Contoso Notes 2.5.0\r\n");
    const mark = t.calls.length;
    const r = await t.publish(await load(ex.files));
    assert.equal(r.outcomes.find((x) => x.id === "contoso-notes")!.status, "ok");
    const path = (u: string): string =>
      new URL(u).pathname.replace(/^.*\/mobileApps\/[^/]+/, "app").replace(/\/files\/[^/]+/, "/files/{id}");
    // Intune allows 100 writes per app per 20 s: with two PATCHes, 20 in-place updates were 100 writes already.
    assert.deepEqual(
      t.graphWrites(mark).map((c) => `${c.method} ${path(c.url)}`),
      [
        "POST app/microsoft.graph.win32LobApp/contentVersions",
        "POST app/microsoft.graph.win32LobApp/contentVersions/2/files",
        "POST app/microsoft.graph.win32LobApp/contentVersions/2/files/{id}/commit",
        "PATCH app",
      ],
    );
    const app = t.apps().find((a) => a["id"] === before["id"])!;
    assert.equal(app["committedContentVersion"], "2");
    assert.equal(app["displayVersion"], "2.5.0");
    const s = readStamp(app["notes"] as string);
    assert.ok(s.status === "valid" && s.stamp.version === "2.5.0");
    assert.ok(app["largeIcon"], "the icon survives the commit PATCH");
  });

  it("a new version with supersede: a new app, the old one kept; the new one is current afterwards", async () => {
    await t.publish(await load(ex.files));
    const old = t.apps().find((a) => a["displayName"] === "Northwind Printer Drivers")!;
    await edit("northwind-printers.yaml", 'version: "3.1.0"', 'version: "3.2.0"');
    await writeFile(join(ex.dir, "northwind-printers", "source", "drivers", "extra.inf"), "; 3.2\r\n");
    const r = await t.publish(await load(ex.files));
    const o = r.outcomes.find((x) => x.id === "northwind-printers")!;
    assert.equal(o.status, "ok", describeFailure(o));
    assert.equal(o.strategy, "supersede");
    assert.equal(o.supersedes, old["id"]);
    assert.notEqual(o.appId, old["id"]);
    const apps = t.apps().filter((a) => a["displayName"] === "Northwind Printer Drivers");
    assert.equal(apps.length, 2);
    const oldNow = apps.find((a) => a["id"] === old["id"])!;
    assert.equal(oldNow["displayVersion"], "3.1.0", "the old app is kept as it was");
    assert.equal(oldNow["committedContentVersion"], "1");
    const rows = r.tenant.filter((a) => a.id === "northwind-printers");
    assert.deepEqual(
      rows.map((a) => [a.appId, a.version, a.current]),
      [
        [o.appId, "3.2.0", true],
        [old["id"], "3.1.0", false],
      ],
    );
    const mark = t.calls.length;
    const again = await t.publish(await load(ex.files));
    assert.equal(again.plan.items.find((i) => i.id === "northwind-printers")!.action, "nothing");
    assert.deepEqual(again.plan.items.find((i) => i.id === "northwind-printers")!.otherApps, [old["id"]]);
    assert.deepEqual(t.graphWrites(mark), []);
  });

  it("a failure after the app was created deletes it again and says so", async () => {
    const defs = (await load(ex.files)).filter((d) => d.definition.id === "contoso-notes");
    t.lt.admin.addUploadFault({ stage: "commit", outcome: "failed", count: 1 });
    const r = await t.publish(defs);
    const o = r.outcomes[0]!;
    assert.equal(o.status, "failed");
    assert.equal(o.error?.step, "upload");
    assert.equal(o.error?.code, "CommitFileFailed");
    assert.equal(o.compensation?.deleted, true);
    assert.equal(t.apps().length, 0, "no half-made app is left");
    assert.ok(t.graphWrites().some((c) => c.method === "DELETE"));
    const err = publishError(r);
    assert.ok(err);
    assert.match(err.message, /contoso-notes: create failed at upload/);
    assert.match(err.message, /created by this run was deleted again/);
    assert.equal(err.kind, "graph");
    // The next run creates it properly.
    const again = await t.publish(defs);
    assert.equal(again.outcomes[0]!.status, "ok");
    assert.equal(t.apps().length, 1);
  });

  it("when the compensating delete fails too, the error names what was left, and a re-run finishes that app", async () => {
    const defs = (await load(ex.files)).filter((d) => d.definition.id === "contoso-notes");
    t.lt.admin.addUploadFault({ stage: "commit", outcome: "failed", count: 1 });
    t.lt.admin.addFault({ method: "DELETE", path: "/mobileApps/", status: 500, count: 10 });
    const r = await t.publish(defs);
    t.lt.admin.clearFaults();
    const o = r.outcomes[0]!;
    assert.equal(o.compensation?.deleted, false);
    const left = t.apps();
    assert.equal(left.length, 1);
    assert.equal(o.compensation?.appId, left[0]!["id"]);
    assert.equal(o.compensation?.leftover?.contentVersionId, "1");
    const text = describeFailure(o);
    assert.match(text, new RegExp(`still holds app ${String(left[0]!["id"])}, content version 1, content file`));
    const again = await t.publish(defs);
    assert.equal(again.outcomes[0]!.action, "new-version");
    assert.equal(again.outcomes[0]!.strategy, "in-place");
    assert.equal(again.outcomes[0]!.status, "ok", describeFailure(again.outcomes[0]!));
    assert.equal(t.apps().length, 1);
    assert.equal(t.apps()[0]!["committedContentVersion"], "2");
  });

  it("publishes apps concurrently, never more at once than the pool allows", async () => {
    const defs = await load(ex.files);
    let running = 0;
    let most = 0;
    const started = new Set<string>();
    const r = await t.publish(defs, {
      concurrency: 2,
      onEvent: (e) => {
        if (e.type === "step" && !started.has(e.id)) {
          started.add(e.id);
          most = Math.max(most, ++running);
        } else if (e.type === "done") running--;
      },
    });
    assert.ok(r.outcomes.every((o) => o.status === "ok"));
    assert.equal(most, 2, "two apps in flight at once, not three");
  });

  it("12 apps at once under the caller's signal: no listener-leak warning, and the caller's signal gets no listener", async () => {
    // Copies of contoso-notes without its category (a sixth write each would meet Intune's 100 writes / 20 s).
    const text = (await readFile(join(ex.dir, "contoso-notes.yaml"), "utf8")).replace(
      /^categories:.*\n(?: +- .*\n)*/m,
      "",
    );
    const files: string[] = [];
    for (let i = 0; i < 12; i++) {
      const file = join(ex.dir, `copy-${i}.yaml`);
      await writeFile(
        file,
        text
          .replace(/^id: .*$/m, `id: copy-${i}`)
          .replace(/^displayName: .*$/m, `displayName: Contoso Notes copy ${i}`),
      );
      files.push(file);
    }
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on("warning", onWarning);
    const caller = new AbortController();
    let most = 0;
    try {
      const r = await t.publish(await load(files), {
        concurrency: 12,
        signal: caller.signal,
        onEvent: () => (most = Math.max(most, getEventListeners(caller.signal, "abort").length)),
      });
      assert.deepEqual(
        r.outcomes.filter((o) => o.status !== "ok").map((o) => describeFailure(o)),
        [],
      );
      assert.equal(r.outcomes.length, 12);
      await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
    } finally {
      process.off("warning", onWarning);
    }
    assert.deepEqual(
      warnings.filter((w) => w.name === "MaxListenersExceededWarning").map((w) => w.message),
      [],
    );
    assert.equal(most, 0, "the run listens to its own signal, not to the caller's");
  });

  it("a changed icon is a metadata change: one PATCH with largeIcon", async () => {
    await t.publish(await load(ex.files));
    const northwindIcon = await readFile(join(ex.dir, "northwind-printers", "icon.png"));
    await writeFile(join(ex.dir, "contoso-notes", "icon.png"), northwindIcon);
    const mark = t.calls.length;
    const r = await t.publish(await load(ex.files));
    const item = r.plan.items.find((i) => i.id === "contoso-notes")!;
    assert.equal(item.action, "update-metadata");
    assert.deepEqual(item.changed, ["largeIcon"]);
    assert.equal(t.graphWrites(mark).length, 1);
    const app = t.apps().find((a) => a["displayName"] === "Contoso Notes")!;
    assert.equal((app["largeIcon"] as { value: string }).value, northwindIcon.toString("base64"));
  });

  it("Graph calls for one new app, state polls apart: at most 12", async () => {
    // The base flow (the benchmark's figure of at most 12 calls): fabrikam-agent minus its targeting, whose name
    // lookups and /assign are counted by the targeting tests.
    const defs = (await load(ex.files)).filter((d) => d.definition.id === "fabrikam-agent");
    for (const d of defs) {
      d.assignments = [];
      delete d.definition.targeting;
      delete d.definition.assignments;
      delete d.definition.enrollmentStatusPages;
    }
    const mark = t.calls.length;
    const r = await t.publish(defs);
    assert.equal(r.outcomes[0]!.status, "ok");
    const graph = t.calls.slice(mark).filter((c) => c.url.startsWith(t.lt.graphBaseUrl));
    const polls = graph.filter((c) => c.method === "GET" && /\/files\/[^/?]+$/.test(new URL(c.url).pathname));
    const others = graph.length - polls.length;
    assert.ok(others <= 12, `${others} Graph calls besides ${polls.length} state polls`);
  });

  it("a cancelled run still deletes the app it created (the delete has its own signal)", async () => {
    const defs = (await load(ex.files)).filter((d) => d.definition.id === "contoso-notes");
    const controller = new AbortController();
    const r = await t.publish(defs, {
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === "upload" && e.event.type === "stage" && e.event.stage === "file") controller.abort();
      },
    });
    const o = r.outcomes[0]!;
    assert.equal(o.status, "failed");
    assert.equal(o.error?.kind, "cancelled");
    assert.equal(o.compensation?.deleted, true, describeFailure(o));
    assert.equal(t.apps().length, 0);
  });

  it("an unknown scope tag is a definition error at its line, before any write", async () => {
    await edit("contoso-notes.yaml", "scopeTags: [Default]", "scopeTags: [Default, Paris Office]");
    const mark = t.calls.length;
    await assert.rejects(t.publish(await load(ex.files)), (e: Error) => {
      assert.equal((e as { kind?: string }).kind, "input");
      assert.match(
        e.message,
        /contoso-notes\.yaml:\d+:\d+: scopeTags\[1\]: The tenant has no scope tag named "Paris Office"/,
      );
      return true;
    });
    assert.deepEqual(t.graphWrites(mark), []);
  });

  it("an in-place upload stopped half-way resumes on the next run: same package, same content version", async () => {
    const journalDir = join(ex.dir, "state");
    await t.publish(await load(ex.files));
    await edit("contoso-notes.yaml", 'version: "2.4.1"', 'version: "2.5.0"');
    await writeFile(join(ex.dir, "contoso-notes", "source", "app", "data.bin"), Buffer.alloc(200_000, 7));
    const defs = (await load(ex.files)).filter((d) => d.definition.id === "contoso-notes");
    const controller = new AbortController();
    const first = await t.publish(defs, {
      journalDir,
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === "upload" && e.event.type === "stage" && e.event.stage === "blockList") controller.abort();
      },
    });
    assert.equal(first.outcomes[0]!.error?.kind, "cancelled");
    assert.equal(first.outcomes[0]!.compensation, undefined, "an existing app is never deleted");
    const app = t.apps().find((a) => a["displayName"] === "Contoso Notes")!;
    assert.equal(app["committedContentVersion"], "1", "still the old content");
    assert.equal(readStamp(app["notes"] as string).status === "valid" && app["displayVersion"], "2.4.1");

    const events: PublishEvent[] = [];
    const second = await t.publish(defs, { journalDir, onEvent: (e) => events.push(e) });
    const o = second.outcomes[0]!;
    assert.equal(o.status, "ok", describeFailure(o));
    assert.equal(o.strategy, "in-place");
    assert.equal(o.upload?.resumed, true);
    assert.equal(o.upload?.blocksSent, 0, "every block was already in storage");
    assert.equal(o.contentVersionId, "2", "the content version of the first attempt");
    assert.ok(events.some((e) => e.type === "step" && e.detail.startsWith("reuse the package")));
    const now = t.apps().find((a) => a["displayName"] === "Contoso Notes")!;
    assert.equal(now["committedContentVersion"], "2");
    assert.equal(now["displayVersion"], "2.5.0");
    assert.deepEqual(await readdir(journalDir).then((n) => n.filter((x) => x !== "packages")), [], "journal removed");
  });

  it("a dry run returns the plan and writes nothing", async () => {
    const mark = t.calls.length;
    const r = await t.publish(await load(ex.files), { dryRun: true });
    assert.equal(r.dryRun, true);
    assert.deepEqual(
      r.plan.items.map((i) => i.action),
      ["create", "create", "create"],
    );
    assert.deepEqual(t.graphWrites(mark), []);
    assert.equal(t.apps().length, 0);
  });
});
