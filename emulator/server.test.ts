import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { join } from "node:path";
import { repoRoot } from "../test/support/paths.js";
import { CallLog, httpsRequest } from "./testing/clients.js";
import { DEFAULT_CLIENT_ID, DEFAULT_TENANT_ID } from "./seed.js";
import { startLocalTenant } from "./server.js";

describe("startLocalTenant", () => {
  it("with no options: the default seed, an ephemeral port, Graph and storage on 127.0.0.1", async () => {
    const lt = await startLocalTenant();
    try {
      assert.match(lt.authorityHost, /^https:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(lt.authority, `${lt.authorityHost}/${DEFAULT_TENANT_ID}`);
      assert.equal(lt.graphBaseUrl, `${lt.authorityHost}/beta`);
      assert.equal(lt.tenantId, DEFAULT_TENANT_ID);
      assert.equal(lt.clientId, DEFAULT_CLIENT_ID);
      assert.equal(lt.clientSecret?.length, 40);
      assert.equal(lt.tokenAudience, "https://graph.microsoft.com");
      assert.equal(lt.caCertPath, undefined);
      assert.match(lt.blobEndpoint ?? "", /^https:\/\/127\.0\.0\.1:\d+\/devstoreaccount1$/);
      assert.equal(JSON.parse(lt.authorityMetadata).token_endpoint, `${lt.authority}/oauth2/v2.0/token`);
    } finally {
      await lt.close();
    }
  });

  it("two instances never collide, and a taken port is an error that leaves nothing running", async () => {
    const a = await startLocalTenant({ storage: false });
    const b = await startLocalTenant({ storage: false });
    try {
      assert.notEqual(a.host, b.host);
      const port = Number(new URL(a.authorityHost).port);
      await assert.rejects(startLocalTenant({ port }), /EADDRINUSE/);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("loads a seed file: examples/seed.yaml, with its seeded fault", async () => {
    const lt = await startLocalTenant({ seed: join(repoRoot(), "examples", "seed.yaml"), storage: false });
    try {
      assert.equal(lt.clientSecret, "local~tenant.Secret_0123456789abcdefghijklm");
      const log = new CallLog();
      const get = () =>
        httpsRequest(lt.caCertPem, log, "GET", `${lt.graphBaseUrl}/deviceManagement/managedDevices`, {
          authorization: `Bearer ${lt.admin.issueToken()}`,
        });
      const first = await get();
      assert.equal(first.status, 429);
      assert.equal(first.headers["retry-after"], "2");
      const second = await get();
      assert.equal(second.status, 200);
      assert.equal(
        (JSON.parse(second.text) as { value: { deviceName: string }[] }).value[0]?.deviceName,
        "DESKTOP-PILOT01",
      );
    } finally {
      await lt.close();
    }
  });

  it("persist without a state folder is refused", async () => {
    await assert.rejects(startLocalTenant({ persist: true, storage: false }), /persist needs a stateDir/);
  });
});
