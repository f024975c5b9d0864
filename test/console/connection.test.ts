// The Connection page in Chromium against the local tenant: the six permissions granted, a wrong secret explained
// (AADSTS7000215), a profile saved in the page used by the CLI, and the secret never sent back to the browser.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import type { LocalTenant } from "../../emulator/server.js";
import { homeEnv, runCli } from "../support/cli.js";
import { useScratch } from "../support/scratch.js";
import { recordLocalTenant, startLocalTestTenant } from "../support/tenant.js";
import { launchBrowser, openConsole } from "./browser.js";
import type { OpenConsole } from "./browser.js";

const scratch = useScratch("console-connection-");

/** Fills the form for the local tenant as a configured profile (its endpoints and CA), with `secret`. */
async function fillLocalProfile(page: Page, lt: LocalTenant, name: string, secret: string, ca: string): Promise<void> {
  await page.getByLabel("Profile name").fill(name);
  await page.getByRole("radio", { name: "Local tenant" }).check();
  await page.getByLabel("Authority").fill(lt.authorityHost);
  await page.getByLabel("Graph base URL").fill(lt.graphBaseUrl);
  await page.getByLabel("Tenant (name or ID)").fill(lt.tenantId);
  await page.getByLabel("Application (client) ID").fill(lt.clientId);
  await page.getByRole("radio", { name: "Client secret" }).check();
  await page.getByRole("textbox", { name: "Client secret" }).fill(secret);
  if (!(await page.getByLabel("Extra CA certificate file").isVisible())) await page.getByText("Network").click();
  await page.getByLabel("Extra CA certificate file").fill(ca);
}

describe("console: Connection page", () => {
  let browser: Browser;
  let lt: LocalTenant;
  let home: string;
  let stateDir: string;
  let open: OpenConsole;
  before(async () => {
    [browser, lt] = await Promise.all([launchBrowser(), startLocalTestTenant()]);
    home = await scratch();
    stateDir = join(home, "emulator-state");
    await recordLocalTenant(stateDir, lt);
    open = await openConsole(browser, { env: homeEnv(home), cwd: home, stateDir });
  });
  after(async () => {
    await open?.close();
    await browser?.close();
    await lt?.close();
  });

  it("Test on the local tenant shows the six permissions granted and probed in 'Intune connection status'", async () => {
    const { page } = open;
    assert.equal(await page.getByLabel("Tenant profile used by every page").inputValue(), "");
    // The local cloud's endpoints come from the running local tenant.
    assert.equal(await page.getByLabel("Authority").inputValue(), lt.authorityHost);
    await page.getByRole("button", { name: "Test" }).click();
    const status = page.getByRole("table", { name: "Intune connection status" });
    await status.waitFor();
    const rows = status.locator("tbody tr");
    assert.equal(await rows.count(), 6);
    for (let i = 0; i < 6; i++) {
      const cells = rows.nth(i).locator("td");
      assert.match((await cells.nth(2).textContent()) ?? "", /Granted/);
      assert.match((await cells.nth(3).textContent()) ?? "", /✓/);
    }
    assert.match((await page.getByRole("status").last().textContent()) ?? "", /Connection test passed/);
    assert.equal(new URL(page.url()).search, "", "the token left the address bar");
  });

  it("a wrong secret shows the AADSTS7000215 cause and fix; the secret is never sent back", async () => {
    const { page } = open;
    const wrong = "wrong-secret-Value-0123456789";
    await fillLocalProfile(page, lt, "wrong", wrong, join(stateDir, "ca.pem"));
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByText("Saved profile wrong.").waitFor();
    assert.equal(await page.getByLabel("Tenant profile used by every page").inputValue(), "wrong");
    assert.equal(
      await page.getByRole("textbox", { name: "Client secret" }).inputValue(),
      "",
      "the form never holds it back",
    );
    await page.getByRole("button", { name: "Test" }).click();
    const alert = page.getByRole("alert");
    await alert.waitFor();
    const text = (await alert.textContent()) ?? "";
    assert.match(text, /client secret is wrong/i);
    assert.match(text, /Fix: Paste the secret's Value, not its Secret ID/);
    const html = await page.content();
    for (const body of [html, ...open.bodies]) assert.ok(!body.includes(wrong), "the secret reached the browser");
    const storage = await page.evaluate<string>(
      "JSON.stringify([document.cookie, { ...localStorage }, { ...sessionStorage }])",
    );
    assert.ok(!storage.includes(wrong));
  });

  it("a profile saved in the console is the one the CLI uses (connect test, apps list)", async () => {
    const { page } = open;
    await fillLocalProfile(page, lt, "lab", lt.clientSecret!, join(stateDir, "ca.pem"));
    await page.getByLabel("Secret expiry date").fill("2099-01-31");
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByText("Saved profile lab.").waitFor();
    const env = homeEnv(home);
    const config = await readFile(join(home, "config", "intune-publisher", "config.yaml"), "utf8");
    assert.ok(!config.includes(lt.clientSecret!), "the secret is in its own file, as connect init keeps it");
    const t = await runCli(["connect", "test", "--profile", "lab", "--output", "json"], env);
    assert.equal(t.code, 0, t.stderr);
    const report = JSON.parse(t.stdout) as { settings: Record<string, string>; credential: { expiresOn: string } };
    assert.equal(report.settings["profile"], "lab");
    assert.match(report.credential.expiresOn, /^2099-01-31/);
    const apps = await runCli(["apps", "list", "--profile", "lab", "--output", "json"], env);
    assert.equal(apps.code, 0, apps.stderr);
    assert.equal((JSON.parse(apps.stdout) as { target: { source: string } }).target.source, "profile lab");
    // Diagnostics shows the profile in use, without its secret.
    await page.getByRole("link", { name: "Diagnostics" }).click();
    await page.waitForSelector("main[data-page=diagnostics][data-ready]");
    const settings = page.getByRole("table", { name: "Settings in use (no secrets)" });
    assert.match(
      (await settings.textContent()) ?? "",
      /ProfilelabCloudlocal.*client secret \(stored, expires 2099-01-31/,
    );
    for (const body of [await page.content(), ...open.bodies])
      assert.ok(!body.includes(lt.clientSecret!), "the secret reached the browser");
  });
});
