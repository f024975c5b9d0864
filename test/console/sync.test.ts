// The Sync and publish page in Chromium against the local tenant: the examples' plan, Apply with progress streamed
// live (Server-Sent Events from the engine's events), and the published apps then listed on the Apps page.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser } from "playwright-core";
import type { LocalTenant } from "../../emulator/server.js";
import { homeEnv } from "../support/cli.js";
import { copyExamples } from "../support/fixtures.js";
import { useScratch } from "../support/scratch.js";
import { recordLocalTenant, startLocalTestTenant } from "../support/tenant.js";
import { launchBrowser, openConsole } from "./browser.js";
import type { OpenConsole } from "./browser.js";

const scratch = useScratch("console-sync-");

describe("console: Sync and publish page", () => {
  let browser: Browser;
  let lt: LocalTenant;
  let open: OpenConsole;
  let files: string[];

  before(async () => {
    [browser, lt] = await Promise.all([launchBrowser(), startLocalTestTenant({ throttling: false })]);
    const home = await scratch();
    files = (await copyExamples(home)).files;
    const stateDir = join(home, "emulator-state");
    await recordLocalTenant(stateDir, lt);
    open = await openConsole(browser, { env: homeEnv(home), cwd: home, stateDir });
  });
  after(async () => {
    await open?.close();
    await browser?.close();
    await lt?.close();
  });

  it("plans, applies with live progress per app, and the apps then show on the Apps page", async () => {
    const { page } = open;
    await page.getByRole("link", { name: "Sync and publish" }).click();
    await page.waitForSelector("main[data-page=sync][data-ready]");
    await page.getByLabel("App definition files").fill(files.join("\n"));
    await page.getByRole("button", { name: "Plan" }).click();
    const plan = page.getByRole("table", { name: /^Plan for / });
    await plan.waitFor();
    assert.equal(await plan.locator("tbody tr").count(), files.length);
    assert.match((await plan.textContent()) ?? "", /create/);

    await page.getByRole("button", { name: "Apply" }).click();
    const result = page.locator("#run-result");
    await result.getByText(/Run finished/).waitFor({ timeout: 120_000 });
    assert.match(
      (await result.textContent()) ?? "",
      new RegExp(`${files.length} app\\(s\\) published or up to date, 0 failed`),
    );
    const progress = page.getByRole("table", { name: "Progress" });
    assert.equal(await progress.locator("tbody tr").count(), files.length);
    for (const row of await progress.locator("tbody tr").all()) assert.match((await row.textContent()) ?? "", /done/);
    const log = (await page.locator("#progress-log").textContent()) ?? "";
    assert.match(log, /commit/i, "the upload's stages were streamed");
    assert.ok((await page.locator("#progress-log li").count()) > files.length * 2, "steps arrived one by one");

    await page.getByRole("link", { name: "See the apps" }).click();
    await page.waitForSelector("main[data-page=apps][data-ready]");
    const ours = page.getByRole("table", { name: /Published by intune-publisher/ });
    assert.equal(await ours.locator("tbody tr").count(), files.length);
    for (const row of await ours.locator("tbody tr").all()) assert.match((await row.textContent()) ?? "", /current/);
  });
});
