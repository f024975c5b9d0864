// The tenant-under-test harness itself: when a run is live, what reaches the CLI, the one line a skipped
// `npm run test:live` prints, and that clean-up deletes exactly the apps named with the run's prefix.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { repoRoot } from "../support/paths.js";
import { useScratch } from "../support/scratch.js";
import { LIVE_APP_PREFIX, liveConfig, openTenantUnderTest } from "../support/tenant-under-test.js";
import type { TenantUnderTest } from "../support/tenant-under-test.js";
import type { Win32LobAppWritableWire } from "../../src/core/wire/graph.js";

const scratch = useScratch("ip-tut-");
const TENANT = "7f3c2a1e-5b4d-4c6e-9f8a-0b1c2d3e4f50";
const CLIENT = "3d2b1a0f-9e8d-4c7b-a6f5-e4d3c2b1a098";

describe("live configuration", () => {
  it("is live only with INTUNE_PUBLISHER_LIVE=1, a tenant, a client and a credential; says what is missing", () => {
    const full = { AZURE_TENANT_ID: TENANT, AZURE_CLIENT_ID: CLIENT, AZURE_CLIENT_SECRET: "s3cret-s3cret-s3cret" };
    assert.deepEqual(liveConfig(full), { live: false, why: "INTUNE_PUBLISHER_LIVE is not 1" });
    assert.deepEqual(liveConfig({ ...full, INTUNE_PUBLISHER_LIVE: "1", AZURE_TENANT_ID: " " }), {
      live: false,
      why: "INTUNE_PUBLISHER_LIVE=1 but not set: AZURE_TENANT_ID",
    });
    const noCredential = liveConfig({ INTUNE_PUBLISHER_LIVE: "1", AZURE_TENANT_ID: TENANT, AZURE_CLIENT_ID: CLIENT });
    assert.equal(noCredential.live, false);
    assert.match(noCredential.live ? "" : noCredential.why, /not set: AZURE_CLIENT_SECRET \(or /);
  });

  it("passes the CLI only the tenant's variables, and the non-Microsoft cloud settings as flags", () => {
    const c = liveConfig({
      INTUNE_PUBLISHER_LIVE: "1",
      AZURE_TENANT_ID: TENANT,
      AZURE_CLIENT_ID: CLIENT,
      AZURE_FEDERATED_TOKEN_FILE: "/var/run/token",
      AZURE_AUTHORITY_HOST: "https://127.0.0.1:4443",
      INTUNE_PUBLISHER_LIVE_GRAPH_BASE_URL: "https://127.0.0.1:4443/beta",
      INTUNE_PUBLISHER_LIVE_CA_CERTIFICATE: "/tmp/ca.pem",
      HOME: "/home/someone",
      PATH: "/usr/bin",
      XDG_CONFIG_HOME: "/home/someone/.config",
    });
    assert.deepEqual(c, {
      live: true,
      config: {
        env: {
          AZURE_TENANT_ID: TENANT,
          AZURE_CLIENT_ID: CLIENT,
          AZURE_FEDERATED_TOKEN_FILE: "/var/run/token",
          AZURE_AUTHORITY_HOST: "https://127.0.0.1:4443",
        },
        flags: ["--graph-base-url", "https://127.0.0.1:4443/beta", "--ca-certificate", "/tmp/ca.pem"],
      },
    });
  });

  it("`npm run test:live` without a live configuration prints one line saying it is skipped and not a pass", () => {
    const r = spawnSync(process.execPath, ["scripts/test-live.mjs"], {
      cwd: repoRoot(),
      env: { PATH: process.env["PATH"], AZURE_TENANT_ID: TENANT },
      encoding: "utf8",
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, "");
    const lines = r.stdout.split("\n").filter((l) => l !== "");
    assert.equal(lines.length, 1, r.stdout);
    assert.match(lines[0]!, /^test:live SKIPPED, nothing tested \(not a pass\): INTUNE_PUBLISHER_LIVE is not 1; /);
  });
});

describe("clean-up of the tenant under test", () => {
  let t: TenantUnderTest;
  before(async () => {
    t = await openTenantUnderTest(await scratch());
  });
  after(async () => {
    await t.close();
  });

  it("deletes every app named with the run's prefix, and no other app", async () => {
    assert.match(t.prefix, new RegExp(`^${LIVE_APP_PREFIX}[0-9a-f]{8}$`));
    const body = (displayName: string): Win32LobAppWritableWire => ({
      "@odata.type": "#microsoft.graph.win32LobApp",
      displayName,
      publisher: "intune-publisher tests",
      fileName: "setup.intunewin",
      setupFilePath: "install.ps1",
      installCommandLine: "install.cmd",
      uninstallCommandLine: "uninstall.cmd",
      installExperience: { runAsAccount: "system", deviceRestartBehavior: "suppress", maxRunTimeInMinutes: 60 },
      detectionRules: [
        {
          "@odata.type": "#microsoft.graph.win32LobAppRegistryDetection",
          check32BitOn64System: false,
          keyPath: "HKEY_LOCAL_MACHINE\\SOFTWARE\\IntunePublisherTests\\CleanUp",
          valueName: "Version",
          detectionType: "exists",
          operator: "notConfigured",
          detectionValue: null,
        },
      ],
    });
    const mine = [await t.api.createApp(body(`${t.prefix} A`)), await t.api.createApp(body(`${t.prefix} B`))];
    // Another run's app (still a test name, so that a live run creates nothing else); clean-up must leave it.
    const other = await t.api.createApp(body(`${LIVE_APP_PREFIX}other-${t.prefix.slice(-8)}`));
    try {
      assert.deepEqual((await t.cleanup()).sort(), [`${t.prefix} A`, `${t.prefix} B`]);
      const names = (await t.api.listWin32Apps()).map((a) => a.id);
      assert.ok(names.includes(other.id), "the other run's app is still there");
      for (const a of mine) assert.ok(!names.includes(a.id), "the run's apps are gone");
    } finally {
      await t.api.deleteApp(other.id);
    }
  });
});
