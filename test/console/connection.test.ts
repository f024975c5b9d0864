// The Connection page in Chromium against the local tenant: the six permissions granted, a wrong secret explained
// (AADSTS7000215), a profile saved in the page used by the CLI, and the secret never sent back to the browser; Test
// of unsaved edits (the form as it stands), and a PEM certificate uploaded in the page, stored as the CLI keeps
// credentials and used by the CLI, its key never sent back.
import assert from "node:assert/strict";
import { readFile, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import type { LocalTenant } from "../../emulator/server.js";
import { defaultSeed } from "../../emulator/seed.js";
import { createSelfSignedCertificate } from "../../src/platform/certificates.js";
import type { SelfSignedCertificate } from "../../src/platform/certificates.js";
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
  let cert: SelfSignedCertificate;
  before(async () => {
    // The seed's app registration also accepts this certificate.
    cert = await createSelfSignedCertificate({ subject: "intune-publisher console test" });
    const seed = defaultSeed();
    seed.appRegistrations[0]!.certificates.push({ pem: cert.certPem });
    [browser, lt] = await Promise.all([launchBrowser(), startLocalTestTenant({ seed })]);
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

  it("Test checks unsaved edits: a wrong secret typed but not saved shows AADSTS7000215; the saved profile is untouched", async () => {
    const { page } = open;
    const configFile = join(home, "config", "intune-publisher", "config.yaml");
    const secretFile = join(home, "config", "intune-publisher", "secrets", "lab.secret");
    const [config, secret] = await Promise.all([readFile(configFile, "utf8"), readFile(secretFile, "utf8")]);
    await page.getByRole("link", { name: "Connection" }).click();
    await page.waitForSelector("main[data-page=connection][data-ready]");
    assert.equal(await page.getByLabel("Tenant profile used by every page").inputValue(), "lab");
    const wrong = "unsaved-wrong-secret-Value-42";
    await page.getByRole("textbox", { name: "Client secret" }).fill(wrong);
    await page.getByRole("button", { name: "Test" }).click();
    const alert = page.getByRole("alert");
    await alert.waitFor();
    assert.match((await alert.textContent()) ?? "", /client secret is wrong/i);
    assert.match((await page.locator("#result").textContent()) ?? "", /AADSTS7000215/);
    assert.equal(await readFile(configFile, "utf8"), config, "the profiles file is untouched");
    assert.equal(await readFile(secretFile, "utf8"), secret, "the stored secret is untouched");
    const t = await runCli(["connect", "test", "--profile", "lab", "--output", "json"], homeEnv(home));
    assert.equal(t.code, 0, t.stderr);
    for (const body of [await page.content(), ...open.bodies]) assert.ok(!body.includes(wrong));
    // Unsaved edits that are right pass, still without saving.
    await page.getByRole("textbox", { name: "Client secret" }).fill(lt.clientSecret!);
    await page.getByRole("button", { name: "Test" }).click();
    await page.getByText("Tested the form as it stands; it is not saved.").waitFor();
    assert.equal(await readFile(configFile, "utf8"), config);
  });

  it("a PEM certificate uploaded in the page is stored as the CLI keeps credentials; the CLI's connect test uses it", async () => {
    const { page } = open;
    const secretsDir = join(home, "config", "intune-publisher", "secrets");
    const pem = `${cert.certPem.trim()}\n${cert.keyPem.trim()}\n`;
    await page.getByLabel("Tenant profile used by every page").selectOption("");
    await page.getByText("Using the local tenant.").waitFor();
    await fillLocalProfile(page, lt, "cert", "", join(stateDir, "ca.pem"));
    await page.getByRole("radio", { name: "Certificate" }).check();
    await page
      .getByLabel("Upload a certificate")
      .setInputFiles({ name: "publisher.pem", mimeType: "application/x-pem-file", buffer: Buffer.from(pem) });
    // Test before saving: the upload is tested as it stands, and nothing is stored.
    await page.getByRole("button", { name: "Test" }).click();
    await page.getByText("Tested the form as it stands; it is not saved.").waitFor();
    assert.deepEqual(
      (await readdir(secretsDir)).filter((f) => f.startsWith("cert.")),
      [],
    );
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByText("Saved profile cert.").waitFor();
    const stored = join(secretsDir, "cert.certificate.pem");
    assert.equal(await readFile(stored, "utf8"), pem);
    assert.equal((await stat(stored)).mode & 0o777, 0o600);
    const config = await readFile(join(home, "config", "intune-publisher", "config.yaml"), "utf8");
    assert.ok(config.includes(stored), "the profile names the stored file, as connect init --certificate does");
    assert.ok(!config.includes("PRIVATE KEY"));
    const t = await runCli(["connect", "test", "--profile", "cert", "--output", "json"], homeEnv(home));
    assert.equal(t.code, 0, t.stderr);
    const report = JSON.parse(t.stdout) as {
      token: { credentialType: string };
      credential: { thumbprintSha1: string };
    };
    assert.equal(report.token.credentialType, "certificate");
    assert.equal(report.credential.thumbprintSha1, cert.thumbprintSha1);
    // The saved profile tested from the page too.
    await page.getByRole("button", { name: "Test" }).click();
    await page.getByText("Connection test passed.").waitFor();
    const key = cert.keyPem.split("\n").slice(1, 3).join("\n");
    const storage = await page.evaluate<string>(
      "JSON.stringify([document.cookie, { ...localStorage }, { ...sessionStorage }])",
    );
    for (const body of [await page.content(), storage, ...open.bodies])
      assert.ok(!body.includes(key), "the private key reached the browser");
  });
});
