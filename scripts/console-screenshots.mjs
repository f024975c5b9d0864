// Screenshots of every console page for docs/console.md (docs/images/console-*.png), taken in Debian's chromium
// against a local tenant started in this process: the Connection page after a test, the Sync and publish page after
// publishing the examples and syncing a subscriptions file (catalog on the local tenant's vendor host), its plans with
// old → new values, the Apps page with them and a removal's confirmation, then Catalog (a product subscribed),
// Inventory and Diagnostics, the Tenants page after Test all (one tenant not consented), and the Connection page on a
// narrow window. Needs a build (npm run build). Usage: node scripts/console-screenshots.mjs [CHROMIUM]
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = (p) => import(pathToFileURL(join(root, "dist", p)).href);
const { homeEnv } = await dist("test/support/cli.js");
const { copyExamples } = await dist("test/support/fixtures.js");
const { recordLocalTenant, startLocalTestTenant } = await dist("test/support/tenant.js");
const { launchBrowser, openConsole } = await dist("test/console/browser.js");
const { DEFAULT_TENANT_ID, defaultSeed } = await dist("emulator/seed.js");
/** a second tenant of the seed where our app registration is not consented: the Tenants page's failing tenant */
const FABRIKAM_TENANT_ID = "5e0b1c2d-3f4a-4b5c-8d6e-7f8091a2b3c4";

if (process.argv[2]) process.env["CHROMIUM_PATH"] = process.argv[2];
const out = join(root, "docs", "images");
await mkdir(out, { recursive: true });
const home = await mkdtemp(join(tmpdir(), "console-shots-"));
const stateDir = join(home, "emulator-state");
const lt = await startLocalTestTenant({ throttling: false, seed: inventorySeed() });
const browser = await launchBrowser();
try {
  const files = (await copyExamples(home)).files;
  const subscriptions = (extra) =>
    writeFile(
      join(home, "subscriptions.yaml"),
      `source: ${lt.vendor.origin}\nproducts:\n  - id: Contoso.TinyApp\n${extra}  - id: Fabrikam.Sketch\n` +
        "autoPublish:\n  minDevices: 3\n",
    );
  await subscriptions("");
  await recordLocalTenant(stateDir, lt, { vendorUrl: lt.vendor.origin });
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
  await page.getByRole("button", { name: "Apply", exact: true }).click();
  const finished = () =>
    page
      .locator("#run-result")
      .getByText(/Run finished/)
      .waitFor({ timeout: 120_000 });
  await finished();
  await page.getByRole("button", { name: "Plan sync" }).click();
  await page.getByRole("table", { name: /^Sync plan for / }).waitFor();
  await page.getByRole("button", { name: "Apply sync" }).click();
  await finished();
  await page.getByRole("table", { name: "Sync and publish runs" }).waitFor();
  await shot("sync");
  // Changed: a definition's owner and a subscription's install command; both plans show old → new.
  const notes = files.find((f) => f.endsWith("contoso-notes.yaml"));
  await writeFile(
    notes,
    (await readFile(notes, "utf8")).replace("owner: Workplace Engineering", "owner: Platform Team"),
  );
  await subscriptions('    overrides:\n      install: { command: "setup.exe /S /LOG" }\n');
  await visit("/sync");
  await page.getByRole("button", { name: "Plan sync" }).click();
  await page.getByRole("table", { name: /^Sync plan for / }).waitFor();
  await page.getByLabel("App definition files").fill(notes.slice(home.length + 1));
  await page.getByRole("button", { name: "Plan", exact: true }).click();
  await page.getByRole("table", { name: /^Plan for / }).waitFor();
  await shot("sync-plan");
  await visit("/apps");
  await page.getByRole("button", { name: "Details of Fabrikam Endpoint Agent 5.2.0" }).click();
  await page.locator("#detail-h").waitFor();
  await shot("apps");
  await page.getByRole("button", { name: "Remove Fabrikam Endpoint Agent 5.2.0" }).click();
  await page.getByRole("dialog").waitFor();
  await shot("apps-remove");
  await page.getByRole("button", { name: "Cancel" }).click();
  await visit("/catalog");
  await page.getByLabel("Product name, id or tag").fill("Contoso");
  await page.getByRole("button", { name: "Search" }).click();
  await page.getByRole("button", { name: "Show Contoso.Notes" }).click();
  await page.getByRole("button", { name: "Add assignment" }).click();
  const assignment = page.getByRole("group", { name: "Assignment 1" });
  await assignment.getByLabel("Intent").selectOption("required");
  await assignment.getByLabel("Assigned to").selectOption("allDevices");
  await page.getByRole("button", { name: "Subscribe", exact: true }).click();
  await page.getByRole("button", { name: "Edit Contoso.Notes" }).waitFor();
  await shot("catalog");
  for (const path of ["/inventory", "/diagnostics"]) {
    await visit(path);
    await shot(path.slice(1));
  }
  // Tenants: a tenants file with the seed's tenant (apps published, inventory cached) and one not consented.
  await writeFile(
    join(home, "tenants.yaml"),
    [
      "tenants:",
      `  - { name: contoso, displayName: Contoso, tenantId: ${DEFAULT_TENANT_ID}, cloud: local, tags: { ring: pilot } }`,
      `  - { name: fabrikam, displayName: Fabrikam, tenantId: ${FABRIKAM_TENANT_ID}, cloud: local, tags: { ring: broad } }`,
      "",
    ].join("\n"),
  );
  await visit("/tenants");
  await page.getByRole("button", { name: "Test all" }).click();
  await page
    .locator("#test-summary")
    .getByText(/^Tested /)
    .waitFor({ timeout: 60_000 });
  await shot("tenants");
  await page.setViewportSize({ width: 400, height: 800 });
  await visit("/connection");
  await shot("narrow");
  await open.close();
} finally {
  await browser.close();
  await lt.close();
  await rm(home, { recursive: true, force: true });
}
/** A few devices with demo products installed, some on older versions, and one product of no catalog. */
function inventorySeed() {
  const devices = Array.from({ length: 5 }, (_, i) => `d0000000-0000-4000-8000-00000000000${i}`);
  const app = (id, displayName, version, publisher, on) => ({
    id,
    displayName,
    version,
    publisher,
    platform: "windows",
    sizeInByte: 0,
    deviceIds: on.map((i) => devices[i]),
  });
  const seed = defaultSeed();
  return {
    ...seed,
    tenants: [
      ...seed.tenants,
      { id: FABRIKAM_TENANT_ID, displayName: "Fabrikam", domains: ["fabrikam.onmicrosoft.com"] },
    ],
    managedDevices: devices.map((id, i) => ({ id, deviceName: `PC-${i + 1}`, operatingSystem: "Windows" })),
    detectedApps: [
      app("i1", "Contoso Notes", "3.1.0", "Contoso", [0, 1, 2]),
      app("i2", "Contoso Notes", "3.10.2", "Contoso", [3]),
      app("i3", "TinyApp64", "2.3.4", "Example Fixtures Ltd", [0, 4]),
      app("i4", "Woodgrove Expenses", "7.2", "Woodgrove Bank", [1, 2, 3, 4]),
    ],
  };
}
