import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { PUBLISHER_PERMISSIONS } from "../../emulator/seed.js";
import { startLocalTenant } from "../../emulator/server.js";
import type { ConnectionReport } from "../../src/publish/connect/test-connection.js";
import { assertNoSecrets, runCli } from "./support.js";

const TENANT = "0c0ffee0-3333-4444-8555-666677778888";
const APP = "a3000000-0000-4000-8000-000000000001";
const SECRET = "local-discovery-secret-0123456789abcdef";

describe("connect test --cloud local finds a running local tenant", () => {
  it("uses the one described in the emulator's state folder; falls back to in-process when it is gone", async () => {
    const home = await mkdtemp(join(tmpdir(), "connect-local-"));
    const stateDir = join(home, "state", "intune-publisher", "emulator");
    await mkdir(stateDir, { recursive: true });
    const lt = await startLocalTenant({
      storage: false,
      stateDir,
      seed: {
        tenants: [{ id: TENANT, domains: ["fabrikam.onmicrosoft.com"] }],
        appRegistrations: [
          { clientId: APP, displayName: "p", secrets: [{ value: SECRET }], roles: [...PUBLISHER_PERMISSIONS] },
        ],
      },
    });
    const env = { HOME: home, XDG_STATE_HOME: join(home, "state"), XDG_CONFIG_HOME: join(home, "config") };
    try {
      // What `emulator start` writes, plus the address fields this lookup needs.
      await writeFile(
        join(stateDir, "credentials.json"),
        JSON.stringify({
          tenantId: TENANT,
          clientId: APP,
          clientSecret: SECRET,
          authorityHost: lt.authorityHost,
          graphBaseUrl: lt.graphBaseUrl,
        }),
        { mode: 0o600 },
      );
      const r = await runCli(["connect", "test", "--cloud", "local", "--output", "json"], env);
      assertNoSecrets(r, [SECRET]);
      assert.equal(r.code, 0, r.err);
      assert.match(r.err, /^Testing the running local tenant/m);
      const report = JSON.parse(r.out) as ConnectionReport;
      assert.equal(report.settings["tenant"], TENANT);
      assert.equal(report.settings["authority"], `${lt.authorityHost}/${TENANT}`);
    } finally {
      await lt.close();
    }
    try {
      // The same file, but nothing listens any more: a fresh in-process tenant is tested instead.
      const r = await runCli(["connect", "test", "--cloud", "local", "--output", "json"], env);
      assert.equal(r.code, 0, r.err);
      assert.match(r.err, /^Starting a local tenant in-process/m);
      assert.notEqual((JSON.parse(r.out) as ConnectionReport).settings["tenant"], TENANT);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});
