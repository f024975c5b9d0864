// The Apps page in Chromium against the local tenant: our apps with their status (current, kept), the detail view
// with group names and ESP profiles, a rollback confirmed in the page that moves the assignments back, as
// `rollback` does, and a removal confirmed in the page after a plan naming the app and its assignments, as
// `apps remove` does.
import assert from "node:assert/strict";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser } from "playwright-core";
import { readStamp } from "../../src/core/app-definition/stamp.js";
import { describeFailure } from "../../src/publish/publish.js";
import { homeEnv, runCli } from "../support/cli.js";
import { copyExamples, load } from "../support/fixtures.js";
import { useScratch } from "../support/scratch.js";
import { recordLocalTenant, startPublishTenant } from "../support/tenant.js";
import type { PublishTenant } from "../support/tenant.js";
import { launchBrowser, openConsole } from "./browser.js";
import type { OpenConsole } from "./browser.js";

const scratch = useScratch("console-apps-");
const DEF = "northwind-printers";
const ESP_NAME = "All users and all devices"; // the default seed's ESP profile
/** contoso-notes: assigned to the pilot group and in the seed's ESP profile */
const NOTES_TARGETING = [
  "assignments:",
  "  - intent: available",
  "    group: Intune - Pilot devices",
  `enrollmentStatusPages: ["${ESP_NAME}"]`,
  "",
].join("\n");
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
  let cliEnv: NodeJS.ProcessEnv;

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
    const notes = ex.files.find((f) => f.endsWith("contoso-notes.yaml"))!;
    await writeFile(notes, `${await readFile(notes, "utf8")}\n${NOTES_TARGETING}`);
    const r = await t.publish(await load([notes]));
    for (const o of r.outcomes) assert.equal(o.status, "ok", describeFailure(o));
    const stateDir = join(home, "emulator-state");
    await recordLocalTenant(stateDir, t.lt);
    cliEnv = homeEnv(home, { INTUNE_PUBLISHER_EMULATOR_STATE: stateDir });
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

  it("shows the Enrollment Status Page profiles an app is in, in its details", async () => {
    const { page } = open;
    const ours = page.getByRole("table", { name: /Published by intune-publisher/ });
    await ours.getByRole("button", { name: "Details of Contoso Notes 2.4.1" }).click();
    const detail = page.getByRole("region", { name: "App details" });
    await detail.getByRole("heading", { name: "Contoso Notes 2.4.1" }).waitFor();
    const esp = detail.getByRole("heading", { name: "Enrollment Status Page profiles" });
    assert.equal(await esp.isVisible(), true);
    assert.equal(
      await detail.locator("h3:has-text('Enrollment Status Page profiles') + ul li").textContent(),
      ESP_NAME,
    );
  });

  it("a removal applied with other apps than the plan confirmed removes nothing (NotConfirmed)", async () => {
    const { page } = open;
    const answer = await page.evaluate<{ status: number; body: { error: { code: string; message: string } } }>(`
      fetch("/api/apps/remove", {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          "X-CSRF-Token": document.querySelector('meta[name="csrf-token"]').getAttribute("content"),
        },
        body: JSON.stringify({ app: "contoso-notes", dryRun: false, confirmed: ["00000000-0000-0000-0000-000000000000"] }),
      }).then(async (r) => ({ status: r.status, body: await r.json() }))`);
    assert.equal(answer.body.error.code, "NotConfirmed");
    assert.match(answer.body.error.message, /Nothing was removed/);
    assert.ok(t.apps().some((a) => a["displayName"] === "Contoso Notes"));
  });

  it("removes an app from the page after a confirmation listing the app and its assignments", async () => {
    const { page } = open;
    const listed = async () => {
      const r = await runCli(["apps", "list", "--cloud", "local", "--output", "json"], cliEnv);
      assert.equal(r.code, 0, r.stderr);
      return (JSON.parse(r.stdout) as { apps: { displayName: string }[] }).apps.map((a) => a.displayName);
    };
    assert.ok((await listed()).includes("Contoso Notes"));
    await page.getByRole("button", { name: "Remove Contoso Notes 2.4.1" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.waitFor();
    assert.equal(await dialog.getByRole("heading").first().textContent(), "Remove Contoso Notes 2.4.1");
    const deleted = dialog.getByRole("table", { name: "Apps deleted" });
    assert.match((await deleted.textContent()) ?? "", /Contoso Notes.*2\.4\.1.*contoso-notes/);
    const assignments = dialog.getByRole("table", { name: "Assignments removed" });
    assert.match((await assignments.textContent()) ?? "", /available.*Intune - Pilot devices/);
    const esp = dialog.getByRole("table", { name: "Enrollment Status Page profiles" });
    assert.match((await esp.textContent()) ?? "", new RegExp(ESP_NAME));
    assert.ok((await listed()).includes("Contoso Notes"), "nothing is removed before the confirmation");
    await dialog.getByRole("button", { name: "Remove", exact: true }).click();
    await page.getByText(/^Removed Contoso Notes 2\.4\.1: done\.$/).waitFor();
    assert.ok(!(await listed()).includes("Contoso Notes"), "apps list no longer has it");
    const ours = page.getByRole("table", { name: /Published by intune-publisher/ });
    assert.equal(await ours.getByRole("row").filter({ hasText: "Contoso Notes" }).count(), 0);
  });
});
