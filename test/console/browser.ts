/**
 * Browser tests of the console: Debian's chromium driven by playwright-core (no browser download), one browser per
 * test file. `openConsole` starts a console in this process and signs a fresh page in through its printed URL.
 */
import { chromium } from "playwright-core";
import type { Browser, Page } from "playwright-core";
import { SecretRegistry } from "../../src/clients/http/redact.js";
import { startConsole } from "../../src/console/server.js";
import type { ConsoleOptions, RunningConsole } from "../../src/console/server.js";
import { localTenantLauncher } from "../../src/publish/connect/local-tenant-launcher.js";

export const CHROMIUM = process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium";

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

export interface OpenConsole {
  console: RunningConsole;
  page: Page;
  /** every response body the page received, for secret scans */
  bodies: string[];
  close(): Promise<void>;
}

export async function openConsole(
  browser: Browser,
  o: Pick<ConsoleOptions, "env" | "cwd" | "stateDir"> & Partial<ConsoleOptions>,
  /** only the accessibility scan sets this: axe-core is injected as an inline script, which the CSP refuses */
  bypassCSP = false,
): Promise<OpenConsole> {
  const running = await startConsole({
    port: 0,
    launcher: localTenantLauncher,
    secrets: new SecretRegistry(),
    ...o,
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, bypassCSP });
  const page = await context.newPage();
  const bodies: string[] = [];
  page.on("response", (r) => {
    void r.text().then(
      (t) => bodies.push(t),
      () => undefined,
    );
  });
  await page.goto(running.url);
  await page.waitForSelector("main[data-ready]");
  return {
    console: running,
    page,
    bodies,
    close: async () => {
      await context.close();
      await running.close();
    },
  };
}
