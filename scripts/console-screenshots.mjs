// Screenshots of every console page for docs/console.md (docs/images/console-*.png), taken in Debian's chromium
// against a local tenant started in this process: the Connection page after a test, the Sync and publish page after
// publishing the examples, the Apps page with them, then Catalog, Inventory and Diagnostics, and the Apps page on a
// narrow window. Needs a build (npm run build). Usage: node scripts/console-screenshots.mjs [CHROMIUM]
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = (p) => import(pathToFileURL(join(root, "dist", p)).href);
const { homeEnv } = await dist("test/support/cli.js");
const { copyExamples } = await dist("test/support/fixtures.js");
const { recordLocalTenant, startLocalTestTenant } = await dist("test/support/tenant.js");
const { launchBrowser, openConsole } = await dist("test/console/browser.js");

if (process.argv[2]) process.env["CHROMIUM_PATH"] = process.argv[2];
const out = join(root, "docs", "images");
await mkdir(out, { recursive: true });
const home = await mkdtemp(join(tmpdir(), "console-shots-"));
const lt = await startLocalTestTenant({ throttling: false });
const browser = await launchBrowser();
try {
  const files = (await copyExamples(home)).files;
  const stateDir = join(home, "emulator-state");
  await recordLocalTenant(stateDir, lt);
  const open = await openConsole(browser, { env: homeEnv(home), cwd: home, stateDir });
  const { page } = open;
  const shot = async (name) => {
    await page.screenshot({ path: join(out, `console-${name}.png`), fullPage: true });
    process.stdout.write(`docs/images/console-${name}.png\n`);
  };
  const visit = async (path) => {
    await page.goto(`${open.console.origin}${path}`);
    await page.waitForSelector("main[data-ready]");
  };
  await page.getByRole("button", { name: "Test" }).click();
  await page.getByRole("table", { name: "Intune connection status" }).waitFor();
  await shot("connection");
  await visit("/sync");
  await page.getByLabel("App definition files").fill(files.map((f) => f.slice(home.length + 1)).join("\n"));
  await page.getByRole("button", { name: "Plan", exact: true }).click();
  await page.getByRole("table", { name: /^Plan for / }).waitFor();
  await shot("sync-plan");
  await page.getByRole("button", { name: "Apply", exact: true }).click();
  await page
    .locator("#run-result")
    .getByText(/Run finished/)
    .waitFor({ timeout: 120_000 });
  await shot("sync");
  await visit("/apps");
  await page
    .getByRole("button", { name: /^Details of/ })
    .first()
    .click();
  await page.locator("#detail-h").waitFor();
  await shot("apps");
  for (const path of ["/catalog", "/inventory", "/diagnostics"]) {
    await visit(path);
    await shot(path.slice(1));
  }
  await page.setViewportSize({ width: 400, height: 800 });
  await visit("/connection");
  await shot("narrow");
  await open.close();
} finally {
  await browser.close();
  await lt.close();
  await rm(home, { recursive: true, force: true });
}
