// The Apps page in Chromium against the local tenant: our apps with their status (current, kept), the detail view
// with group names, and a rollback confirmed in the page that moves the assignments back, as `rollback` does.
import assert from "node:assert/strict";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser } from "playwright-core";
import { readStamp } from "../../src/core/app-definition/stamp.js";
import { describeFailure } from "../../src/publish/publish.js";
import { homeEnv } from "../support/cli.js";
import { copyExamples, load } from "../support/fixtures.js";
import { useScratch } from "../support/scratch.js";
import { recordLocalTenant, startPublishTenant } from "../support/tenant.js";
import type { PublishTenant } from "../support/tenant.js";
import { launchBrowser, openConsole } from "./browser.js";
import type { OpenConsole } from "./browser.js";

const scratch = useScratch("console-apps-");
const DEF = "northwind-printers";
const TARGETING = [
  "updateStrategy: supersede",
  "supersedence:",
  "  keepPreviousVersions: 3",
  "assignments:",
  "  - intent: required",
  "    group: Intune - Pilot devices",
  "",
].join("\n");

describe("console: Apps page", () => {
  let browser: Browser;
  let t: PublishTenant;
  let open: OpenConsole;

  /** Our apps of DEF in the tenant: version → stamp's rolledBack. */
  const versions = () =>
    Object.fromEntries(
      t
        .apps()
        .map((a) => readStamp(a["notes"] as string))
        .flatMap((s) =>
          s.status === "valid" && s.stamp.id === DEF ? [[s.stamp.version, s.stamp.rolledBack === true]] : [],
        ),
    ) as Record<string, boolean>;

  before(async () => {
    [browser, t] = await Promise.all([launchBrowser(), startPublishTenant({ throttling: false })]);
    const home = await scratch();
    const ex = await copyExamples(home);
    const file = ex.files.find((f) => f.endsWith(`${DEF}.yaml`))!;
    const text = await readFile(file, "utf8");
    await writeFile(file, `${text.slice(0, text.indexOf("\nupdateStrategy:") + 1)}${TARGETING}`);
    const publishOk = async () => {
      const r = await t.publish(await load([file]));
      for (const o of r.outcomes) assert.equal(o.status, "ok", describeFailure(o));
    };
    await publishOk();
    // 3.2.0: a new version with new content supersedes 3.1.0, which is kept.
    await writeFile(file, (await readFile(file, "utf8")).replace(/version: "[^"]+"/, 'version: "3.2.0"'));
    await mkdir(join(ex.dir, DEF, "source", "drivers"), { recursive: true });
    await writeFile(join(ex.dir, DEF, "source", "drivers", "v3.2.0.inf"), "; 3.2.0\r\n");
    await publishOk();
    assert.deepEqual(versions(), { "3.1.0": false, "3.2.0": false });
    const stateDir = join(home, "emulator-state");
    await recordLocalTenant(stateDir, t.lt);
    open = await openConsole(browser, { env: homeEnv(home), cwd: home, stateDir });
    await open.page.getByRole("link", { name: "Apps" }).click();
    await open.page.waitForSelector("main[data-page=apps][data-ready]");
  });
  after(async () => {
    await open?.close();
    await browser?.close();
    await t?.close();
  });

  it("lists our apps with definition id and status, and shows an app's assignments by group name", async () => {
    const { page } = open;
    const ours = page.getByRole("table", { name: /Published by intune-publisher/ });
    const current = ours.getByRole("row").filter({ hasText: "3.2.0" });
    const kept = ours.getByRole("row").filter({ hasText: "3.1.0" });
    assert.match((await current.textContent()) ?? "", new RegExp(`${DEF}.*current`));
    assert.match((await kept.textContent()) ?? "", new RegExp(`${DEF}.*kept`));
    await current.getByRole("button", { name: /^Details of/ }).click();
    const detail = page.getByRole("region", { name: "App details" });
    await detail.getByRole("heading", { name: /3\.2\.0/ }).waitFor();
    assert.match((await detail.textContent()) ?? "", /Intune - Pilot devices/);
  });

  it("rolls back from the page after a confirmation that states the plan", async () => {
    const { page } = open;
    await page.getByRole("button", { name: `Roll back ${DEF}` }).click();
    const dialog = page.getByRole("dialog");
    await dialog.waitFor();
    const plan = (await dialog.textContent()) ?? "";
    assert.match(plan, new RegExp(`Rollback of ${DEF}`));
    assert.match(plan, /From3\.2\.0/);
    assert.match(plan, /To3\.1\.0/);
    assert.match(plan, /Intune - Pilot devices/);
    assert.deepEqual(versions(), { "3.1.0": false, "3.2.0": false }, "nothing moves before the confirmation");
    await dialog.getByRole("button", { name: "Roll back" }).click();
    await page.getByText(/: done\.$/).waitFor();
    assert.deepEqual(versions(), { "3.1.0": false, "3.2.0": true });
    const ours = page.getByRole("table", { name: /Published by intune-publisher/ });
    assert.match((await ours.getByRole("row").filter({ hasText: "3.1.0" }).textContent()) ?? "", /current/);
    assert.match((await ours.getByRole("row").filter({ hasText: "3.2.0" }).textContent()) ?? "", /rolled back/);
  });
});
