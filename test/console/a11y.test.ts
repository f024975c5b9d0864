// Every console page in Chromium: an axe-core scan finds no serious or critical violation (after the page has its
// data: the Connection page with a test's tables, the Catalog page with a product shown), the keyboard reaches the skip link and the navigation first,
// and a narrow window needs no sideways scrolling.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import type { LocalTenant } from "../../emulator/server.js";
import { homeEnv } from "../support/cli.js";
import { repoRoot } from "../support/paths.js";
import { useScratch } from "../support/scratch.js";
import { recordLocalTenant, startLocalTestTenant } from "../support/tenant.js";
import { launchBrowser, openConsole } from "./browser.js";
import type { OpenConsole } from "./browser.js";

const scratch = useScratch("console-a11y-");
const PAGES = ["/connection", "/tenants", "/apps", "/sync", "/catalog", "/inventory", "/diagnostics"];

interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

async function axe(page: Page): Promise<Violation[]> {
  await page.addScriptTag({ path: join(repoRoot(), "node_modules", "axe-core", "axe.min.js") });
  return page.evaluate<Violation[]>(
    `axe.run(document, { resultTypes: ["violations"] }).then((r) => r.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(" ")) })))`,
  );
}

describe("console: accessibility and layout", () => {
  let browser: Browser;
  let lt: LocalTenant;
  let open: OpenConsole;
  before(async () => {
    [browser, lt] = await Promise.all([launchBrowser(), startLocalTestTenant()]);
    const home = await scratch();
    const stateDir = join(home, "emulator-state");
    await recordLocalTenant(stateDir, lt, { vendorUrl: lt.vendor!.origin });
    open = await openConsole(browser, { env: homeEnv(home), cwd: home, stateDir }, true);
  });
  after(async () => {
    await open?.close();
    await browser?.close();
    await lt?.close();
  });

  it("axe-core finds no serious or critical violation on any page", async () => {
    const { page, console: c } = open;
    const found: string[] = [];
    for (const path of PAGES) {
      await page.goto(`${c.origin}${path}`);
      await page.waitForSelector("main[data-ready]");
      if (path === "/connection") {
        await page.getByRole("button", { name: "Test" }).click();
        await page.getByRole("table", { name: "Intune connection status" }).waitFor();
      }
      if (path === "/catalog") {
        await page.getByLabel("Product name, id or tag").fill("Contoso");
        await page.getByRole("button", { name: "Search" }).click();
        await page.getByRole("button", { name: "Show Contoso.TinyApp" }).click();
        await page.getByRole("table", { name: "Chosen installer" }).waitFor();
      }
      for (const v of await axe(page))
        if (v.impact === "serious" || v.impact === "critical")
          found.push(`${path}: ${v.id} (${v.impact}) ${v.help}: ${v.nodes.join(", ")}`);
    }
    assert.deepEqual(found, []);
  });

  it("the keyboard reaches the skip link, then the navigation; a narrow window scrolls only downwards", async () => {
    const { page, console: c } = open;
    await page.goto(`${c.origin}/connection`);
    await page.waitForSelector("main[data-ready]");
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate<string>("document.activeElement.textContent"), "Skip to content");
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate<string>("document.activeElement.textContent"), "Connection");
    for (const path of PAGES) {
      await page.setViewportSize({ width: 380, height: 800 });
      await page.goto(`${c.origin}${path}`);
      await page.waitForSelector("main[data-ready]");
      const [scroll, client] = await page.evaluate<number[]>(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]",
      );
      assert.ok(scroll! <= client!, `${path}: ${scroll} px wide in a ${client} px window`);
    }
  });
});
