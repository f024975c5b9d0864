// The Catalog and subscriptions page in Chromium against the local tenant and its vendor host: search → show →
// subscribe writes a subscriptions file `sync --dry-run` accepts and plans; an invalid override is refused with its
// file:line:column and the file is unchanged; several assignments are added, removed and shown again; Unsubscribe
// asks first and keeps the file's comments; the page is usable with the keyboard.
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser } from "playwright-core";
import type { LocalTenant } from "../../emulator/server.js";
import { emulatorHomeEnv, runCli } from "../support/cli.js";
import { useScratch } from "../support/scratch.js";
import { recordLocalTenant, startLocalTestTenant } from "../support/tenant.js";
import { launchBrowser, openConsole } from "./browser.js";
import type { OpenConsole } from "./browser.js";

const scratch = useScratch("console-catalog-");

describe("console: Catalog and subscriptions page", () => {
  let browser: Browser;
  let lt: LocalTenant;
  let open: OpenConsole;
  let env: NodeJS.ProcessEnv;
  let subs: string;

  before(async () => {
    [browser, lt] = await Promise.all([launchBrowser(), startLocalTestTenant({ throttling: false })]);
    const home = await scratch();
    const stateDir = join(home, "emulator-state");
    env = await emulatorHomeEnv(home, stateDir);
    await recordLocalTenant(stateDir, lt, { vendorUrl: lt.vendor!.origin });
    subs = join(home, "subscriptions.yaml");
    await writeFile(subs, "# Kept by the console test: this comment must survive the edit.\nproducts: []\n");
    open = await openConsole(browser, { env, cwd: home, stateDir });
  });
  after(async () => {
    await open?.close();
    await browser?.close();
    await lt?.close();
  });

  it("search → show → subscribe writes a file sync --dry-run accepts and plans", async () => {
    const { page } = open;
    await page.getByRole("link", { name: "Catalog" }).click();
    await page.waitForSelector("main[data-page=catalog][data-ready]");
    await page.getByLabel("Product name, id or tag").fill("TinyApp");
    await page.getByRole("button", { name: "Search" }).click();
    const results = page.getByRole("table", { name: /^Search results in / });
    await results.waitFor();
    await results.getByRole("button", { name: "Show Contoso.TinyApp" }).click();

    const installer = page.getByRole("table", { name: "Chosen installer" });
    await installer.waitFor();
    assert.match((await installer.textContent()) ?? "", /msi x64, machine scope/);
    assert.match((await page.locator("#definition").textContent()) ?? "", /^id: contoso\.tinyapp$/m);

    await page.getByLabel("Update only (only where an older version is installed)").check();
    // Several assignments: added, one removed again, the others kept in order.
    const assignment = (n: number) => page.getByRole("group", { name: `Assignment ${n}` });
    for (let i = 0; i < 3; i++) await page.getByRole("button", { name: "Add assignment" }).click();
    await assignment(1).getByLabel("Intent").selectOption("required");
    await assignment(1).getByLabel("Assigned to").selectOption("allDevices");
    await assignment(2).getByLabel("Intent").selectOption("uninstall");
    await assignment(3).getByLabel("Intent").selectOption("available");
    await assignment(3).getByLabel("Assigned to").selectOption("group");
    await assignment(3).getByLabel("Group name").fill("Intune - Pilot devices");
    await page.getByRole("button", { name: "Remove assignment 2" }).click();
    assert.equal(await page.getByRole("group", { name: /^Assignment \d$/ }).count(), 2);
    assert.equal(await assignment(2).getByLabel("Group name").inputValue(), "Intune - Pilot devices");
    await page.getByLabel("Install command", { exact: true }).fill('msiexec /i "TinyApp.msi" /qn /norestart');
    await page.getByRole("button", { name: "Subscribe" }).click();
    await page
      .locator("#subscribe-result")
      .getByText(/^Saved in /)
      .waitFor();

    const text = await readFile(subs, "utf8");
    assert.match(text, /^# Kept by the console test: this comment must survive the edit\.$/m);
    assert.match(text, /- id: Contoso\.TinyApp\n/);
    assert.match(text, /mode: updateOnly/);
    assert.match(text, /command: msiexec \/i "TinyApp\.msi" \/qn \/norestart/);
    assert.match(
      text,
      /- intent: required\n\s+target: allDevices\n\s+- intent: available\n\s+group: Intune - Pilot devices\n/,
    );
    assert.doesNotMatch(text, /uninstall\n/);

    const r = await runCli(["sync", "--dry-run", "--subscriptions", subs, "--output", "json", "--no-log-file"], env);
    assert.equal(r.code, 0, r.stderr);
    const plan = JSON.parse(r.stdout) as { dryRun: boolean; products: { id: string; action: string }[] };
    assert.equal(plan.dryRun, true);
    assert.deepEqual(
      plan.products.map((p) => [p.id, p.action]),
      [["Contoso.TinyApp", "create"]],
    );

    // The subscriptions table: the catalog's newest against the tenant's (not published yet).
    const table = page.getByRole("table", { name: /^Subscriptions in / });
    await table.waitFor();
    const row = (await table.locator("tbody tr").allTextContents()).join("\n");
    assert.match(row, /Contoso\.TinyApp/);
    assert.match(row, /not published/);
  });

  it("an invalid override is refused with its position; the file is unchanged", async () => {
    const { page } = open;
    const before = await readFile(subs, "utf8");
    await page
      .getByRole("table", { name: /^Subscriptions in / })
      .getByRole("button", { name: "Edit Contoso.TinyApp" })
      .click();
    await page.getByRole("heading", { name: "Edit the subscription to Contoso.TinyApp" }).waitFor();
    assert.equal(
      await page.getByLabel("Install command", { exact: true }).inputValue(),
      'msiexec /i "TinyApp.msi" /qn /norestart',
    );
    await page.getByLabel("Versions to keep").fill("3");
    await page.getByRole("button", { name: "Save" }).click();
    const alert = page.locator("#subscribe-error");
    await alert.waitFor();
    const message = (await alert.textContent()) ?? "";
    assert.match(message, /the subscriptions file is unchanged/);
    assert.match(
      message,
      /subscriptions\.yaml:\d+:\d+: products\[0\]\.keep: keep and supersedence apply to strategy: supersede/,
    );
    assert.equal(await readFile(subs, "utf8"), before);
  });

  it("the edit form shows every assignment of the subscription", async () => {
    const { page } = open;
    await page
      .getByRole("table", { name: /^Subscriptions in / })
      .getByRole("button", { name: "Edit Contoso.TinyApp" })
      .click();
    await page.getByRole("heading", { name: "Edit the subscription to Contoso.TinyApp" }).waitFor();
    assert.equal(await page.getByRole("group", { name: /^Assignment \d$/ }).count(), 2);
    const second = page.getByRole("group", { name: "Assignment 2" });
    assert.equal(await second.getByLabel("Intent").inputValue(), "available");
    assert.equal(await second.getByLabel("Assigned to").inputValue(), "group");
    assert.equal(await second.getByLabel("Group name").inputValue(), "Intune - Pilot devices");
  });

  it("with the keyboard: search, then Show, moves focus to the product", async () => {
    const { page } = open;
    await page.reload();
    await page.waitForSelector("main[data-page=catalog][data-ready]");
    await page.keyboard.press("Tab");
    await page.keyboard.press("Enter"); // the skip link
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate<string>("document.activeElement.id"), "q");
    await page.keyboard.type("Notes");
    await page.keyboard.press("Enter");
    await page.getByRole("table", { name: /^Search results in / }).waitFor();
    // Tab to the first Show button of the results.
    for (let i = 0; i < 10; i++) {
      await page.keyboard.press("Tab");
      if ((await page.evaluate<string>("document.activeElement.textContent")).startsWith("Show")) break;
    }
    assert.equal(await page.evaluate<string>("document.activeElement.textContent"), "Show Contoso.Notes");
    await page.keyboard.press("Enter");
    await page.getByRole("table", { name: "Chosen installer" }).waitFor();
    assert.equal(await page.evaluate<string>("document.activeElement.id"), "product-h");
  });

  it("a subscription is written only with the page's CSRF token and from the console's origin", async () => {
    const { page, console: c } = open;
    const before = await readFile(subs, "utf8");
    const csrf = (await page.locator('meta[name="csrf-token"]').getAttribute("content")) ?? "";
    const data = { file: subs, id: "Contoso.Notes", mode: "application", assignments: [] };
    const post = (headers: Record<string, string>) =>
      page.request.post(`${c.origin}/api/subscriptions`, { data, headers, failOnStatusCode: false });
    assert.equal((await post({})).status(), 403);
    assert.equal((await post({ "X-CSRF-Token": csrf, Origin: "https://evil.example" })).status(), 403);
    assert.equal(await readFile(subs, "utf8"), before);
    assert.equal((await post({ "X-CSRF-Token": csrf, Origin: c.origin })).status(), 200);
    assert.match(await readFile(subs, "utf8"), /- id: Contoso\.Notes/);
  });

  it("Unsubscribe asks first; confirmed, it removes the product and keeps the file's comments", async () => {
    const { page } = open;
    await page.getByRole("link", { name: "Catalog" }).click();
    await page.waitForSelector("main[data-page=catalog][data-ready]");
    const before = await readFile(subs, "utf8");
    const table = page.getByRole("table", { name: /^Subscriptions in / });
    await table.getByRole("button", { name: "Unsubscribe Contoso.TinyApp" }).click();
    const dialog = page.getByRole("dialog", { name: "Unsubscribe Contoso.TinyApp?" });
    await dialog.waitFor();
    assert.match(
      (await dialog.textContent()) ?? "",
      /Contoso\.TinyApp \(x64, machine\) is removed from .*subscriptions\.yaml/,
    );
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await page.locator("#subscriptions-status").getByText("Contoso.TinyApp is still subscribed.").waitFor();
    assert.equal(await readFile(subs, "utf8"), before);

    await table.getByRole("button", { name: "Unsubscribe Contoso.TinyApp" }).click();
    await dialog.getByRole("button", { name: "Unsubscribe" }).click();
    await page
      .locator("#subscriptions-status")
      .getByText(/^Unsubscribed Contoso\.TinyApp/)
      .waitFor();
    const text = await readFile(subs, "utf8");
    assert.match(text, /^# Kept by the console test: this comment must survive the edit\.$/m);
    assert.doesNotMatch(text, /TinyApp/);
    assert.match(text, /- id: Contoso\.Notes/, "the other product stays");
    const rows = await page
      .getByRole("table", { name: /^Subscriptions in / })
      .locator("tbody tr")
      .allTextContents();
    assert.equal(rows.length, 1);
    assert.match(rows[0]!, /Contoso\.Notes/);
  });

  it("architecture and scope: the preview follows the choice, one without an installer says why, Subscribe writes it, Edit keeps it", async () => {
    const { page, console: c } = open;
    await page.getByRole("link", { name: "Catalog" }).click();
    await page.waitForSelector("main[data-page=catalog][data-ready]");
    await page.getByLabel("Product name, id or tag").fill("Sketch");
    await page.getByRole("button", { name: "Search" }).click();
    await page.getByRole("button", { name: "Show Fabrikam.Sketch" }).click();
    const installer = page.getByRole("table", { name: "Chosen installer" });
    await installer.waitFor();
    assert.equal(await page.getByLabel("Architecture").inputValue(), "x64");
    assert.equal(await page.getByLabel("Scope").inputValue(), "machine");
    assert.match((await installer.textContent()) ?? "", /inno x64, machine scope/);

    await page.getByLabel("Scope").selectOption("user");
    await installer.getByText(/inno x64, user scope/).waitFor();
    assert.match((await page.locator("#definition").textContent()) ?? "", /^id: fabrikam\.sketch-user$/m);

    // x86 devices cannot run the x64 installers: the catalog's reason, no preview
    await page.getByLabel("Architecture").selectOption("x86");
    const why = page.locator("#preview [role=alert]");
    await why.waitFor();
    assert.match((await why.textContent()) ?? "", /has no installer for x86, user scope/);
    assert.equal(await installer.count(), 0);

    await page.getByLabel("Architecture").selectOption("x64");
    await installer.getByText(/inno x64, user scope/).waitFor();
    await page.getByRole("button", { name: "Subscribe", exact: true }).click();
    await page
      .locator("#subscribe-result")
      .getByText(/^Saved in /)
      .waitFor();
    const text = await readFile(subs, "utf8");
    assert.match(text, /- id: Fabrikam\.Sketch\n(\s+source: \S+\n)?\s+scope: user\n/, text);
    assert.doesNotMatch(text, /architecture:/, "the default architecture is not written");
    assert.match(text, /^# Kept by the console test: this comment must survive the edit\.$/m);

    // Edit: the subscription's own choice, shown and kept (another choice is another subscription)
    const table = page.getByRole("table", { name: /^Subscriptions in / });
    await table.getByRole("button", { name: "Edit Fabrikam.Sketch (x64, user)" }).click();
    await page.getByRole("heading", { name: "Edit the subscription to Fabrikam.Sketch" }).waitFor();
    assert.equal(await page.getByLabel("Scope").inputValue(), "user");
    assert.equal(await page.getByLabel("Scope").isDisabled(), true);
    assert.match((await installer.textContent()) ?? "", /inno x64, user scope/);
    await page.getByLabel("Pinned version").fill("5.2.0");
    await page.getByRole("button", { name: "Save" }).click();
    await page
      .locator("#subscribe-result")
      .getByText(/^Saved in /)
      .waitFor();
    const edited = await readFile(subs, "utf8");
    assert.equal(edited.match(/Fabrikam\.Sketch/g)?.length, 1, edited);
    assert.match(edited, /scope: user/);
    assert.match(edited, /pin: 5\.2\.0/);
    assert.match(edited, /^# Kept by the console test: this comment must survive the edit\.$/m);

    // checked on the server through the same schema: an unknown architecture is refused, the file unchanged
    const csrf = (await page.locator('meta[name="csrf-token"]').getAttribute("content")) ?? "";
    const bad = await page.request.post(`${c.origin}/api/subscriptions`, {
      data: { file: subs, id: "Fabrikam.Sketch", architecture: "arm", mode: "application", assignments: [] },
      headers: { "X-CSRF-Token": csrf, Origin: c.origin },
      failOnStatusCode: false,
    });
    assert.equal(bad.status(), 400);
    assert.match(
      ((await bad.json()) as { error: { message: string } }).error.message,
      /^architecture: must be x64, arm64, x86/,
    );
    const show = await page.request.get(`${c.origin}/api/catalog/show?id=Fabrikam.Sketch&scope=everyone`, {
      failOnStatusCode: false,
    });
    assert.equal(show.status(), 400);
    assert.match(
      ((await show.json()) as { error: { message: string } }).error.message,
      /^scope: must be machine or user/,
    );
    assert.equal(await readFile(subs, "utf8"), edited);
  });
});
