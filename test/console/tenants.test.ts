// The Tenants page in Chromium against a local tenant serving three tenants (the fleet seed) of a tenants file: the
// switcher changes the tenant the Apps page lists, "Test all" shows each tenant's permissions and the explanation of
// a tenant whose consent was revoked, the page passes an axe-core scan and the keyboard reaches its controls.
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { fleetSeed, fleetTenants } from "../../emulator/fleet-seed.js";
import { userStateDir } from "../../src/core/config/dirs.js";
import { defaultHistoryFile, SyncHistory } from "../../src/publish/sync/history.js";
import type { ProductResult } from "../../src/publish/sync/sync.js";
import type { LocalTenant } from "../../emulator/server.js";
import { emulatorHomeEnv, runCli } from "../support/cli.js";
import { repoRoot } from "../support/paths.js";
import { useScratch } from "../support/scratch.js";
import { recordLocalTenant, startLocalTestTenant } from "../support/tenant.js";
import { FLEET_SECRET, fleetTenantsYaml, writeFleetTool } from "../tenants/support.js";
import { launchBrowser, openConsole } from "./browser.js";
import type { OpenConsole } from "./browser.js";

const scratch = useScratch("console-tenants-");

async function seriousViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: join(repoRoot(), "node_modules", "axe-core", "axe.min.js") });
  return page.evaluate<string[]>(
    `axe.run(document, { resultTypes: ["violations"] }).then((r) => r.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => v.id + ": " + v.nodes.map((n) => n.target.join(" ")).join(", ")))`,
  );
}

describe("console: Tenants page", () => {
  let browser: Browser;
  let lt: LocalTenant;
  let open: OpenConsole;
  const fleet = fleetTenants(3);

  before(async () => {
    browser = await launchBrowser();
    const home = await scratch();
    const stateDir = join(home, "emulator");
    const env = await emulatorHomeEnv(home, stateDir);
    lt = await startLocalTestTenant({ stateDir, seed: fleetSeed(3, FLEET_SECRET), vendor: false });
    await recordLocalTenant(stateDir, lt);
    await writeFile(join(home, "tenants.yaml"), fleetTenantsYaml(fleet));
    // an app published to tenant02 only
    const dir = join(home, "apps");
    await writeFleetTool(dir);
    const r = await runCli(
      [
        "publish",
        join(dir, "fleet-tool.yaml"),
        "--tenants-file",
        join(home, "tenants.yaml"),
        "--tenants",
        "tenant02",
        "--no-log-file",
      ],
      env,
    );
    assert.equal(r.code, 0, r.stderr);
    lt.admin.revokeConsent(fleet[2]!.id);
    // a sync on one tenant (the profile's, from the CLI or the console) names no tenant of the file, only the
    // tenant id it ran on; a later publish run on tenant02's id is not a sync
    const history = SyncHistory.open(defaultHistoryFile(userStateDir(env, process.platform, home)));
    const products: ProductResult[] = [
      {
        id: "Contoso.Tool",
        architecture: "x64",
        scope: "machine",
        definitionId: "contoso-tool",
        action: "create",
        status: "ok",
        reason: "new",
        durationMs: 1,
      },
    ];
    history.record(
      { products, startedAt: "2026-12-01T08:30:00.000Z", finishedAt: "2026-12-01T08:31:00.000Z", dryRun: false },
      "console",
      false,
      undefined,
      { kind: "sync", tenantId: fleet[0]!.id },
    );
    history.record(
      { products, startedAt: "2026-12-01T09:00:00.000Z", finishedAt: "2026-12-01T09:01:00.000Z", dryRun: false },
      "manual",
      false,
      undefined,
      { kind: "publish", tenantId: fleet[1]!.id },
    );
    history.close();
    open = await openConsole(browser, { env, cwd: home, stateDir }, true);
  });
  after(async () => {
    await open?.close();
    await browser?.close();
    await lt?.close();
  });

  const visit = async (path: string) => {
    await open.page.goto(`${open.console.origin}${path}`);
    await open.page.waitForSelector("main[data-ready]");
  };
  const choose = async (tenant: string, said: RegExp) => {
    await visit("/tenants");
    await open.page.getByLabel("Tenant the pages work on").selectOption(tenant);
    await open.page.locator("#tenant-choice").getByText(said).waitFor();
  };
  const appsSummary = () => open.page.locator("main").getByText(/Win32 apps, \d+ published by intune-publisher/);

  it("the switcher changes the tenant the Apps page lists (kept by the server, not in the URL)", async () => {
    const { page } = open;
    await choose("tenant02", /work on tenant tenant02/);
    await visit("/apps");
    assert.equal(new URL(page.url()).search, "");
    assert.match((await appsSummary().textContent()) ?? "", new RegExp(`Tenant ${fleet[1]!.id} .*1 published`));
    await page.getByRole("cell", { name: "Fleet Tool" }).first().waitFor();

    await choose("tenant01", /work on tenant tenant01/);
    await visit("/apps");
    assert.match((await appsSummary().textContent()) ?? "", new RegExp(`Tenant ${fleet[0]!.id} .*0 published`));
    assert.equal(await page.getByRole("cell", { name: "Fleet Tool" }).count(), 0);

    // a write without the page's CSRF token is refused
    const refused = await page.evaluate<number>(
      `fetch("/api/tenants/select", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ tenant: "tenant02" }) }).then((r) => r.status)`,
    );
    assert.equal(refused, 403);
    await choose("", /profile chosen on the Connection page/);
  });

  it("Test all: each tenant's permissions and our apps, the revoked tenant's cause and fix", async () => {
    const { page } = open;
    await visit("/tenants");
    const overview = page.getByRole("table", { name: "Tenants overview" });
    assert.equal(await overview.getByRole("row").count(), 4);
    await page.getByRole("button", { name: "Test all" }).click();
    await page
      .locator("#test-summary")
      .getByText("Tested 3 tenant(s): 2 passed, 1 failed.")
      .waitFor({ timeout: 60_000 });
    const row = (name: string) => page.locator(`#tenant-row-${name}`);
    for (const name of ["tenant01", "tenant02"]) {
      assert.match((await row(name).textContent()) ?? "", /6\/6 granted/);
      assert.match((await row(name).textContent()) ?? "", /✓ ok/);
    }
    assert.equal(await page.locator("#tenant-apps-tenant02").textContent(), "1");
    assert.equal(await page.locator("#tenant-apps-tenant01").textContent(), "0");
    assert.match((await row("tenant03").textContent()) ?? "", /0\/6 granted.*✗ AADSTS700016/);
    const alert = page.locator("#tenant-problems").getByRole("alert");
    assert.equal(await alert.count(), 1);
    const text = (await alert.textContent()) ?? "";
    assert.match(text, /^tenant03: .*AADSTS700016/);
    assert.match(text, /Fix: .*admin consent/);
    assert.deepEqual(await seriousViolations(page), []);
    // no secret reached the page
    assert.ok(!open.bodies.some((b) => b.includes(FLEET_SECRET)));
  });

  it("Last sync: a sync run on one tenant shows on the row of the tenant it ran on (a publish run does not)", async () => {
    await visit("/tenants");
    const row = (name: string) => open.page.locator(`#tenant-row-${name}`);
    assert.match((await row("tenant01").textContent()) ?? "", /2026-12-01 08:30: ok, 1 changed, 0 failed/);
    for (const name of ["tenant02", "tenant03"])
      assert.doesNotMatch((await row(name).textContent()) ?? "", /2026-12-01/);
  });

  it("the keyboard reaches the switcher and Test all", async () => {
    const { page } = open;
    await visit("/tenants");
    const reached = new Set<string>();
    for (let i = 0; i < 30 && reached.size < 2; i++) {
      await page.keyboard.press("Tab");
      const id = await page.evaluate<string>("document.activeElement.id");
      if (id === "tenant-select" || id === "test-all") reached.add(id);
    }
    assert.deepEqual([...reached].sort(), ["tenant-select", "test-all"]);
  });

  it("the Connection page's Test follows the tenant chosen and says which it tests; an edited form is tested as it stands", async () => {
    const { page } = open;
    // tenant03's consent is revoked: its test fails where the profile's (the local tenant's default) passes
    await choose("tenant03", /work on tenant tenant03/);
    await visit("/connection");
    const what = page.locator("#test-what");
    assert.match((await what.textContent()) ?? "", /^Test tests tenant tenant03, chosen on the Tenants page/);
    await page.getByRole("button", { name: "Test", exact: true }).click();
    const alert = page.locator("#result").getByRole("alert");
    await alert.waitFor({ timeout: 60_000 });
    const text = (await alert.textContent()) ?? "";
    assert.match(text, /AADSTS700016/);
    assert.match(text, /Tested tenant tenant03/);
    // an edit: the form as it stands is what Test takes
    await page.getByLabel("Application (client) ID").fill("00000000-0000-0000-0000-000000000001");
    assert.match((await what.textContent()) ?? "", /^Test tests the form as it stands \(not saved\)/);

    await choose("", /profile chosen on the Connection page/);
    await visit("/connection");
    assert.match((await what.textContent()) ?? "", /^Test tests the local tenant/);
    await page.getByRole("button", { name: "Test", exact: true }).click();
    await page.locator("#result").getByText("Connection test passed.").waitFor({ timeout: 60_000 });
    assert.match((await page.locator("#result").textContent()) ?? "", /Tested the local tenant/);
  });
});
