// The Sync and publish page in Chromium against the local tenant: the examples' plan, Apply with progress streamed
// live (Server-Sent Events from the engine's events), and the published apps then listed on the Apps page; a sync
// of a subscriptions file (catalog on the vendor host) planned and applied from the page with streamed progress,
// recorded in the history with its results and its redacted log; only the products named (--only); old → new values
// in the publish and sync plans.
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser } from "playwright-core";
import { loadOrCreatePki } from "../../emulator/pki.js";
import { startLocalTenant } from "../../emulator/server.js";
import type { LocalTenant } from "../../emulator/server.js";
import { startVendorHost } from "../../emulator/vendor/host.js";
import type { VendorHost } from "../../emulator/vendor/host.js";
import { defaultLogDir, RunLog } from "../../src/clients/http/log-file.js";
import { SecretRegistry } from "../../src/clients/http/redact.js";
import { homeEnv, runCli } from "../support/cli.js";
import { DUAL_ARCH_PRODUCT, copyExamples } from "../support/fixtures.js";
import { useScratch } from "../support/scratch.js";
import { product } from "../sync/support.js";
import { recordLocalTenant, TEST_UPLOAD_DELAYS } from "../support/tenant.js";
import { launchBrowser, openConsole } from "./browser.js";
import type { OpenConsole } from "./browser.js";

const scratch = useScratch("console-sync-");

describe("console: Sync and publish page", () => {
  let browser: Browser;
  let lt: LocalTenant;
  let open: OpenConsole;
  let files: string[];
  let host: VendorHost;
  let home: string;
  let cliEnv: NodeJS.ProcessEnv;
  let logFile: string;

  before(async () => {
    home = await scratch();
    const stateDir = join(home, "emulator-state");
    [browser, lt] = await Promise.all([
      launchBrowser(),
      startLocalTenant({ stateDir, uploadDelays: TEST_UPLOAD_DELAYS, throttling: false }),
    ]);
    // The catalog and its installers, served with the local tenant's CA (trusted as the local tenant's).
    host = await startVendorHost({
      seed: { products: [product("Contoso.Tool", "1.0.0"), product("Fabrikam.Viewer", "2.0.0")] },
      ca: await loadOrCreatePki(stateDir),
    });
    await writeFile(join(home, "subscriptions.yaml"), `source: ${host.origin}\nproducts:\n  - id: Contoso.Tool\n`);
    files = (await copyExamples(home)).files;
    await recordLocalTenant(stateDir, lt);
    cliEnv = homeEnv(home, { INTUNE_PUBLISHER_EMULATOR_STATE: stateDir });
    // The console's run log, as `intune-publisher console` writes it (the log folder of this home).
    const secrets = new SecretRegistry();
    const logger = new RunLog({ dir: defaultLogDir(homeEnv(home)), command: "console", secrets });
    logFile = logger.path;
    open = await openConsole(browser, {
      env: homeEnv(home),
      cwd: home,
      stateDir,
      secrets,
      logger,
      logFile: logger.path,
    });
  });
  after(async () => {
    await open?.close();
    await browser?.close();
    await host?.close();
    await lt?.close();
  });

  it("plans, applies with live progress per app, and the apps then show on the Apps page", async () => {
    const { page } = open;
    await page.getByRole("link", { name: "Sync and publish" }).click();
    await page.waitForSelector("main[data-page=sync][data-ready]");
    await page.getByLabel("App definition files").fill(files.join("\n"));
    await page.getByRole("button", { name: "Plan", exact: true }).click();
    const plan = page.getByRole("table", { name: /^Plan for / });
    await plan.waitFor();
    assert.equal(await plan.locator("tbody tr").count(), files.length);
    assert.match((await plan.textContent()) ?? "", /create/);

    await page.getByRole("button", { name: "Apply", exact: true }).click();
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

  it("syncs a subscriptions file from the page: its plan, then live progress per product; the history has its results", async () => {
    const { page } = open;
    await page.getByRole("link", { name: "Sync and publish" }).click();
    await page.waitForSelector("main[data-page=sync][data-ready]");
    assert.equal(await page.getByLabel("Subscriptions file").inputValue(), "subscriptions.yaml");
    await page.getByRole("button", { name: "Plan sync" }).click();
    const plan = page.getByRole("table", { name: /^Sync plan for / });
    await plan.waitFor();
    assert.match((await plan.locator("tbody tr").textContent()) ?? "", /Contoso\.Tool1\.0\.0create/);
    assert.match((await page.locator("#sync-plan").textContent()) ?? "", /A real run will download/);

    await page.getByRole("button", { name: "Apply sync" }).click();
    const result = page.locator("#run-result");
    await result.getByText(/Run finished/).waitFor({ timeout: 120_000 });
    assert.match((await result.textContent()) ?? "", /1 app\(s\) published or up to date, 0 failed/);
    // One row per app: the download is reported on the row of the app it is for (its definition id).
    const progress = page.getByRole("table", { name: "Progress" });
    assert.equal(await progress.locator("tbody tr").count(), 1);
    assert.match((await progress.locator("tbody tr").textContent()) ?? "", /^contoso\.tool.*done/);
    const log = (await page.locator("#progress-log").textContent()) ?? "";
    assert.match(log, /contoso\.tool: downloading https:/, "the download was streamed");
    assert.match(log, /commit/i, "the upload's stages were streamed");
    assert.match(log, /: done/);

    const apps = await runCli(["apps", "list", "--cloud", "local", "--output", "json"], cliEnv);
    assert.equal(apps.code, 0, apps.stderr);
    const listed = (JSON.parse(apps.stdout) as { apps: { definitionId?: string; displayName: string }[] }).apps;
    assert.ok(
      listed.some((a) => /Tool/.test(a.displayName) && a.definitionId !== undefined),
      apps.stdout,
    );

    const history = page.getByRole("table", { name: "Sync and publish runs" });
    await history.waitFor();
    const run = history.locator("tbody tr").first();
    assert.match((await run.textContent()) ?? "", /console/);
    assert.match((await run.textContent()) ?? "", /Contoso\.Tool 1\.0\.0: create, ok/);

    // The run's log: the requests it made, redacted (no secret of the tenant's app registration).
    const id = ((await run.locator("td").first().textContent()) ?? "").trim();
    await history.getByRole("button", { name: `Show log of run ${id}` }).click();
    const lines = page.locator("#run-log-lines");
    await lines.waitFor();
    const text = (await lines.textContent()) ?? "";
    assert.match(text, /deviceAppManagement\/mobileApps/, "the run's Graph requests");
    assert.ok(lt.clientSecret !== undefined && lt.clientSecret.length > 8);
    for (const body of [text, ...open.bodies]) assert.ok(!body.includes(lt.clientSecret), "no client secret");
    assert.doesNotMatch(text, /sig=[A-Za-z0-9%]{10,}/, "no SAS signature");
    assert.doesNotMatch(text, /eyJ[A-Za-z0-9_-]{10,}\.eyJ/, "no token");
  });

  it("plans and applies only the products named (--only); a bad inventory max age names the field", async () => {
    const { page } = open;
    await writeFile(
      join(home, "two.yaml"),
      `source: ${host.origin}\nproducts:\n  - id: Contoso.Tool\n  - id: Fabrikam.Viewer\n`,
    );
    await page.getByRole("link", { name: "Sync and publish" }).click();
    await page.waitForSelector("main[data-page=sync][data-ready]");
    await page.getByLabel("Subscriptions file").fill("two.yaml");
    assert.equal(await page.getByLabel("Inventory max age (minutes)").inputValue(), "60");
    await page.getByLabel("Only these products").fill("Fabrikam.Viewer");
    await page.getByRole("button", { name: "Plan sync" }).click();
    const plan = page.getByRole("table", { name: /^Sync plan for / });
    await plan.waitFor();
    assert.equal(await plan.locator("tbody tr").count(), 1);
    assert.match((await plan.locator("tbody tr").textContent()) ?? "", /^Fabrikam\.Viewer2\.0\.0create/);

    await page.getByRole("button", { name: "Apply sync" }).click();
    const result = page.locator("#run-result");
    await result.getByText(/Run finished/).waitFor({ timeout: 120_000 });
    assert.match((await result.textContent()) ?? "", /1 app\(s\) published or up to date, 0 failed/);
    const progress = page.getByRole("table", { name: "Progress" });
    assert.equal(await progress.locator("tbody tr").count(), 1);
    assert.match((await progress.locator("tbody tr").textContent()) ?? "", /^fabrikam\.viewer/);

    await page.getByLabel("Only these products").fill("");
    await page.getByLabel("Inventory max age (minutes)").fill("-5");
    await page.getByRole("button", { name: "Plan sync" }).click();
    await page
      .locator("#sync-plan")
      .getByText(/inventoryMaxAge: give 0 or more minutes/)
      .waitFor();
    await page.getByLabel("Inventory max age (minutes)").fill("60");
    await page.getByLabel("Subscriptions file").fill("subscriptions.yaml");
  });

  it("a product subscribed for two architectures gets a progress row per subscription", async () => {
    const { page } = open;
    await host.admin.publish(DUAL_ARCH_PRODUCT);
    await writeFile(
      join(home, "dual.yaml"),
      `source: ${host.origin}\nproducts:\n  - id: Contoso.Dual\n  - id: Contoso.Dual\n    architecture: arm64\n`,
    );
    await page.getByRole("link", { name: "Sync and publish" }).click();
    await page.waitForSelector("main[data-page=sync][data-ready]");
    await page.getByLabel("Subscriptions file").fill("dual.yaml");
    await page.getByRole("button", { name: "Plan sync" }).click();
    const plan = page.getByRole("table", { name: /^Sync plan for / });
    await plan.waitFor();
    assert.equal(await plan.locator("tbody tr").count(), 2);
    await page.getByRole("button", { name: "Apply sync" }).click();
    const result = page.locator("#run-result");
    await result.getByText(/Run finished/).waitFor({ timeout: 120_000 });
    assert.match((await result.textContent()) ?? "", /2 app\(s\) published or up to date, 0 failed/);
    const rows = page.getByRole("table", { name: "Progress" }).locator("tbody tr");
    const texts = await rows.allTextContents();
    assert.equal(texts.length, 2, texts.join(" | "));
    assert.ok(
      texts.some((t) => /^contoso\.dualdone/.test(t)),
      texts.join(" | "),
    );
    assert.ok(
      texts.some((t) => /^contoso\.dual-arm64done/.test(t)),
      texts.join(" | "),
    );
    const log = (await page.locator("#progress-log").textContent()) ?? "";
    assert.match(log, /contoso\.dual: downloading https:/);
    assert.match(log, /contoso\.dual-arm64: downloading https:/);
    assert.doesNotMatch(log, /Contoso\.Dual: downloading/, "no row under the catalog id alone");
    await page.getByLabel("Subscriptions file").fill("subscriptions.yaml");
  });

  it("a changed definition or subscription shows old → new values in the plan", async () => {
    const { page } = open;
    // An app definition published earlier, now with another owner.
    const notes = files.find((f) => f.endsWith("contoso-notes.yaml"))!;
    await writeFile(
      notes,
      (await readFile(notes, "utf8")).replace("owner: Workplace Engineering", "owner: Platform Team"),
    );
    await page.getByLabel("App definition files").fill(notes);
    await page.getByRole("button", { name: "Plan", exact: true }).click();
    const plan = page.getByRole("table", { name: /^Plan for / });
    await plan.waitFor();
    assert.match((await plan.textContent()) ?? "", /update metadata/);
    assert.match((await plan.textContent()) ?? "", /owner: "Workplace Engineering" → "Platform Team"/);
    // The synced product, now with another install command.
    await writeFile(
      join(home, "subscriptions.yaml"),
      `source: ${host.origin}\nproducts:\n  - id: Contoso.Tool\n    overrides:\n      install: { command: "setup.exe /S /LOG" }\n`,
    );
    await page.getByRole("button", { name: "Plan sync" }).click();
    const syncPlan = page.getByRole("table", { name: /^Sync plan for / });
    await syncPlan.waitFor();
    const row = (await syncPlan.locator("tbody tr").textContent()) ?? "";
    assert.match(row, /update-metadata/);
    assert.match(row, /installCommandLine: ".*" → "setup\.exe \/S \/LOG"/);
  });

  it("lists publish runs in the history with Show log; a run made with --no-log-file says no log was kept", async () => {
    const { page } = open;
    await page.getByRole("link", { name: "Sync and publish" }).click();
    await page.waitForSelector("main[data-page=sync][data-ready]");
    const history = page.getByRole("table", { name: "Sync and publish runs" });
    await history.waitFor();
    // The examples published from the page (the first test): a publish run of the console, with its apps.
    const published = history.locator("tbody tr", { has: page.locator("td:nth-child(2)", { hasText: /^publish$/ }) });
    assert.equal(await published.count(), 1);
    const text = (await published.textContent()) ?? "";
    assert.match(text, /console/);
    assert.match(text, /contoso-notes [\d.]+: create, ok/);
    const id = ((await published.locator("td").first().textContent()) ?? "").trim();
    await history.getByRole("button", { name: `Show log of run ${id}` }).click();
    const lines = page.locator("#run-log-lines");
    await lines.waitFor();
    assert.match((await lines.textContent()) ?? "", /deviceAppManagement\/mobileApps/, "the publish's Graph requests");
    assert.match(
      (await page.locator("#run-log").textContent()) ?? "",
      new RegExp(`From ${logFile}`),
      "the console's log",
    );

    // A CLI publish made with --no-log-file: recorded, and Show log says why there is nothing to show.
    const notes = files.find((f) => f.endsWith("contoso-notes.yaml"))!;
    const r = await runCli(["publish", notes, "--cloud", "local", "--no-log-file"], cliEnv);
    assert.equal(r.code, 0, r.stderr);
    await page.reload();
    await page.waitForSelector("main[data-page=sync][data-ready]");
    const first = history.locator("tbody tr").first();
    await first.waitFor();
    assert.match((await first.textContent()) ?? "", /publish.*manual.*ok \(exit 0\)/);
    const cliRun = ((await first.locator("td").first().textContent()) ?? "").trim();
    await history.getByRole("button", { name: `Show log of run ${cliRun}` }).click();
    await page.locator("#run-log").getByText("this run was made with --no-log-file: no log was kept").waitFor();
    assert.equal(await page.locator("#run-log-lines").count(), 0);
    assert.equal(
      await page
        .locator("#run-log")
        .getByText(/No run log line was written/)
        .count(),
      0,
    );
  });

  it("Diagnostics opens a run log in the page, redacted, and goes back to the list", async () => {
    const { page } = open;
    await page.getByRole("link", { name: "Diagnostics" }).click();
    await page.waitForSelector("main[data-page=diagnostics][data-ready]");
    const logs = page.getByRole("table", { name: "Last run logs" });
    await logs.waitFor();
    const name = basename(logFile);
    const opener = logs.getByRole("button", { name: `Open ${name}` });
    await opener.click();
    const heading = page.getByRole("heading", { name: `Run log ${name}` });
    await heading.waitFor();
    assert.equal(await logs.isVisible(), false, "the log in place of the list");
    assert.equal(await page.evaluate<string>("document.activeElement.id"), "log-file-h", "focus on the log's heading");
    const text = (await page.locator("#log-file-lines").textContent()) ?? "";
    assert.match(text, /deviceAppManagement\/mobileApps/);
    assert.ok(lt.clientSecret !== undefined && !text.includes(lt.clientSecret), "no client secret");
    assert.doesNotMatch(text, /sig=[A-Za-z0-9%]{10,}/, "no SAS signature");
    assert.doesNotMatch(text, /eyJ[A-Za-z0-9_-]{10,}\.eyJ/, "no token");
    await page.getByRole("button", { name: "Back to the run logs" }).click();
    await logs.waitFor();
    assert.equal(await heading.count(), 0);
    assert.equal(
      await page.evaluate<string>("document.activeElement.textContent"),
      `Open ${name}`,
      "focus back on Open",
    );
  });
});
