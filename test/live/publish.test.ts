// Publishing end to end against the tenant under test (test/support/tenant-under-test.ts): the local tenant in
// `npm test`, a real tenant in `npm run test:live`. Only the CLI and Graph reads through our IntuneApi: nothing here
// looks at emulator state. Every app is named `ipub-live-<random> …` and deleted afterwards, even when a test fails.
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { readStamp } from "../../src/core/app-definition/stamp.js";
import type { Win32LobAppWire } from "../../src/core/wire/graph.js";
import { useScratch } from "../support/scratch.js";
import { liveConfig, openTenantUnderTest } from "../support/tenant-under-test.js";
import type { TenantUnderTest } from "../support/tenant-under-test.js";

const scratch = useScratch("ip-live-");

interface PublishJson {
  plan: { id: string; action: string }[];
  outcomes: { id: string; action: string; status: string; appId?: string }[];
}

/** A small definition whose id and name carry the tenant's prefix; `version` changes the content too. */
async function writeDefinition(dir: string, prefix: string, version: string): Promise<string> {
  const source = join(dir, "source");
  await mkdir(source, { recursive: true });
  await writeFile(join(source, "install.ps1"), `Write-Output 'installing ${version}'\r\n`);
  await writeFile(join(source, "uninstall.ps1"), "Write-Output 'uninstalling'\r\n");
  const file = join(dir, "tool.yaml");
  await writeFile(
    file,
    [
      `id: ${prefix}-tool`,
      `displayName: ${prefix} Tool`,
      "publisher: intune-publisher tests",
      `version: "${version}"`,
      "description: Made by intune-publisher's end-to-end tests; deleted when they end.",
      "content: { source: source, setupFile: install.ps1 }",
      "install: { command: powershell.exe -NoProfile -ExecutionPolicy Bypass -File .\\install.ps1 }",
      "uninstall: { command: powershell.exe -NoProfile -ExecutionPolicy Bypass -File .\\uninstall.ps1 }",
      "detection:",
      "  - type: registry",
      "    keyPath: HKEY_LOCAL_MACHINE\\SOFTWARE\\IntunePublisherTests\\Tool",
      "    valueName: Version",
      "    check: version",
      "    operator: greaterThanOrEqual",
      `    value: "${version}"`,
      "",
    ].join("\n"),
  );
  return file;
}

describe(`publish end to end against the ${liveConfig().live ? "live" : "local"} tenant`, () => {
  let t: TenantUnderTest | undefined;
  let work: string;
  const tenant = (): TenantUnderTest => t ?? assert.fail("the tenant under test did not open");
  const ours = async (): Promise<Win32LobAppWire[]> =>
    (await tenant().api.listWin32Apps()).filter((a) => a.displayName.startsWith(tenant().prefix));
  const publish = async (file: string): Promise<PublishJson> => {
    const r = await tenant().cli(["publish", file, "--output", "json"]);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as PublishJson;
  };

  before(async () => {
    t = await openTenantUnderTest(await scratch());
    work = await scratch();
  });
  after(async () => {
    if (t === undefined) return;
    try {
      await t.cleanup();
    } finally {
      await t.close();
    }
  });

  it("publish creates the app with its content committed; a re-run changes nothing", async () => {
    const file = await writeDefinition(work, tenant().prefix, "1.0.0");
    const first = await publish(file);
    assert.deepEqual(
      first.outcomes.map((o) => [o.action, o.status]),
      [["create", "ok"]],
    );
    const apps = await ours();
    assert.equal(apps.length, 1);
    const app = await tenant().api.getApp(apps[0]!.id);
    assert.equal(app.id, first.outcomes[0]!.appId);
    assert.equal(app.displayName, `${tenant().prefix} Tool`);
    assert.equal(app.displayVersion, "1.0.0");
    assert.equal(app.publishingState, "published");
    assert.ok(app.committedContentVersion, "a committed content version");
    const stamp = readStamp(app.notes);
    assert.equal(stamp.status === "valid" ? stamp.stamp.id : stamp.status, `${tenant().prefix}-tool`);

    const again = await publish(file);
    assert.deepEqual(
      again.plan.map((p) => p.action),
      ["nothing"],
    );
    assert.equal((await tenant().api.getApp(app.id)).committedContentVersion, app.committedContentVersion);
  });

  it("a new version replaces the content in place; apps remove deletes the app", async () => {
    const [before] = await ours();
    assert.ok(before, "the app the first test published");
    const file = await writeDefinition(work, tenant().prefix, "1.0.1");
    const r = await publish(file);
    assert.deepEqual(
      r.outcomes.map((o) => [o.action, o.status, o.appId]),
      [["new-version", "ok", before.id]],
    );
    const app = await tenant().api.getApp(before.id);
    assert.equal(app.displayVersion, "1.0.1");
    assert.ok(app.committedContentVersion);
    assert.notEqual(app.committedContentVersion, before.committedContentVersion);

    const removed = await tenant().cli(["apps", "remove", before.id, "--yes"]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.deepEqual(await ours(), []);
  });
});
