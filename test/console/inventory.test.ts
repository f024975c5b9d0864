// The Inventory page in Chromium against a local tenant with a seeded inventory: the products and device counts
// equal `intune-publisher inventory --output json`, the filters give the command's rows, Refresh reads the inventory
// again, and the subscriptions file's auto-publish thresholds and what they would publish are shown.
import assert from "node:assert/strict";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { defaultSeed } from "../../emulator/seed.js";
import { userCacheDir } from "../../src/core/config/dirs.js";
import { startLocalTenant } from "../../emulator/server.js";
import type { LocalTenant } from "../../emulator/server.js";
import { emulatorHomeEnv, runCli } from "../support/cli.js";
import { repoRoot } from "../support/paths.js";
import { useScratch } from "../support/scratch.js";
import { recordLocalTenant } from "../support/tenant.js";
import { launchBrowser, openConsole } from "./browser.js";
import type { OpenConsole } from "./browser.js";

const scratch = useScratch("console-inventory-");
const DEVICES = ["a", "b", "c"].map((x) => `d0000000-0000-4000-8000-00000000000${x}`);

interface Report {
  inventory: { cached: boolean };
  products: { name: string; devices: number; catalogId: string | null; outdatedDevices: number }[];
}

/** The rows of the products table: product name → devices. */
async function shown(page: Page): Promise<[string, number][]> {
  const rows = await page
    .getByRole("table", { name: "Products by device count" })
    .locator("tbody tr")
    .evaluateAll((trs) =>
      trs.map((tr) => {
        const cells = (tr as unknown as { children: ArrayLike<{ textContent: string }> }).children;
        return [cells[0]!.textContent, Number(cells[2]!.textContent)] as [string, number];
      }),
    );
  return rows;
}

describe("console: Inventory page", () => {
  let browser: Browser;
  let lt: LocalTenant;
  let open: OpenConsole;
  let env: NodeJS.ProcessEnv;
  const catalog = join(repoRoot(), "test", "fixtures", "winget", "pkgs");
  const cli = async (...args: string[]): Promise<Report> => {
    const r = await runCli(
      ["inventory", "--cloud", "local", "--catalog", catalog, "--output", "json", "--no-log-file", ...args],
      env,
    );
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as Report;
  };

  before(async () => {
    const home = await scratch();
    const stateDir = join(home, "emulator-state");
    env = await emulatorHomeEnv(home, stateDir);
    const app = (id: string, displayName: string, version: string, publisher: string, devices: string[]) => ({
      id,
      displayName,
      version,
      publisher,
      platform: "windows",
      sizeInByte: 0,
      deviceIds: devices,
    });
    const [a, b, c] = DEVICES as [string, string, string];
    [browser, lt] = await Promise.all([
      launchBrowser(),
      startLocalTenant({
        seed: {
          ...defaultSeed(),
          managedDevices: DEVICES.map((id, i) => ({ id, deviceName: `PC-${i}`, operatingSystem: "Windows" })),
          detectedApps: [
            app("a1", "WinSCP 5.17.10", "5.17.10", "Martin Prikryl", [a, b]),
            app("a2", "WinSCP 6.5.7", "6.5.7", "Martin Prikryl", [c]),
            app("a3", "VLC media player", "3.0.20", "VideoLAN", [a]),
            app("a4", "Contoso Internal Tool", "1.0", "Contoso", [a, b, c]),
          ],
        },
      }),
    ]);
    await recordLocalTenant(stateDir, lt);
    await writeFile(
      join(home, "subscriptions.yaml"),
      "products: []\nautoPublish:\n  minDevices: 2\n  exclude: [VideoLAN.*]\n",
    );
    open = await openConsole(browser, { env, cwd: home, stateDir });
  });
  after(async () => {
    await open?.close();
    await browser?.close();
    await lt?.close();
  });

  it("shows the command's products with the same device counts, its filters, and Refresh", async () => {
    const { page } = open;
    const all = await cli();
    await page.goto(`${open.console.origin}/inventory`);
    await page.waitForSelector("main[data-page=inventory][data-ready]");
    await page.getByLabel("Catalog source").fill(catalog);
    await page.getByRole("button", { name: "Show" }).click();
    await page.waitForSelector("#inventory:not([aria-busy])");
    assert.match((await page.locator("#inventory-summary").textContent()) ?? "", /\(cached\)/, "the command's cache");
    assert.deepEqual(
      await shown(page),
      all.products.map((p) => [p.name, p.devices]),
    );
    assert.ok(all.products.some((p) => p.catalogId === "WinSCP.WinSCP" && p.outdatedDevices === 2));
    assert.match(
      (await page.getByRole("table", { name: "Products by device count" }).textContent()) ?? "",
      /WinSCP\.WinSCP/,
    );

    const unmatched = await cli("--unmatched");
    await page.getByLabel("Unmatched products").check();
    await page.getByRole("button", { name: "Show" }).click();
    await page.waitForSelector("#inventory:not([aria-busy])");
    assert.deepEqual(
      await shown(page),
      unmatched.products.map((p) => [p.name, p.devices]),
    );

    await page.getByRole("button", { name: "Refresh" }).click();
    await page.waitForSelector("#inventory:not([aria-busy])");
    assert.doesNotMatch((await page.locator("#inventory-summary").textContent()) ?? "", /\(cached\)/);
  });

  it("shows the auto-publish thresholds and what the next sync would publish", async () => {
    const { page } = open;
    await page.getByLabel("Unmatched products").uncheck();
    await page.getByRole("button", { name: "Show" }).click();
    await page.waitForSelector("#inventory:not([aria-busy])");
    const auto = page.getByRole("table", { name: "The next sync would auto-publish" });
    await auto.waitFor();
    assert.match(
      (await page.locator("#auto-publish").textContent()) ?? "",
      /at least 2 device\(s\).*excluded: VideoLAN\.\*/,
    );
    const rows = await auto.locator("tbody tr").allTextContents();
    assert.equal(rows.length, 1, rows.join("\n"));
    assert.match(rows[0]!, /WinSCP\.WinSCP.*updateOnly.*3/);
  });

  it("the cache max age field chooses the cached data or a new read; the page says how old the data shown is", async () => {
    const { page } = open;
    await page.goto(`${open.console.origin}/inventory`);
    await page.waitForSelector("main[data-page=inventory][data-ready]");
    await page.waitForSelector("#inventory:not([aria-busy])");
    assert.equal(await page.getByLabel("Cache max age (minutes)").inputValue(), "60", "the command's default");
    await page.getByLabel("Catalog source").fill(catalog);
    // the cached inventory made 30 minutes old
    const dir = join(userCacheDir(env, process.platform, homedir()), "inventory");
    const [name] = await readdir(dir);
    const cache = JSON.parse(await readFile(join(dir, name!), "utf8")) as { inventory: { readAt: string } };
    cache.inventory.readAt = new Date(Date.now() - 30 * 60_000).toISOString();
    await writeFile(join(dir, name!), JSON.stringify(cache));

    await page.getByRole("button", { name: "Show" }).click();
    await page.waitForSelector("#inventory:not([aria-busy])");
    assert.match((await page.locator("#inventory-summary").textContent()) ?? "", /\(cached\)/);
    assert.match(
      (await page.locator("#inventory-age").textContent()) ?? "",
      /^The data shown is 30 minute\(s\) old \(from the cache: at most 60 minute\(s\) old is used\)/,
    );

    await page.getByLabel("Cache max age (minutes)").fill("20");
    await page.getByRole("button", { name: "Show" }).click();
    await page.waitForSelector("#inventory:not([aria-busy])");
    assert.doesNotMatch((await page.locator("#inventory-summary").textContent()) ?? "", /\(cached\)/);
    assert.match((await page.locator("#inventory-age").textContent()) ?? "", /less than a minute old \(read now\)/);

    await page.getByLabel("Cache max age (minutes)").fill("-1");
    await page.getByRole("button", { name: "Show" }).click();
    await page
      .locator("#inventory")
      .getByText(/maxAge: give 0 or more minutes/)
      .waitFor();
    await page.getByLabel("Cache max age (minutes)").fill("60");
  });
});
