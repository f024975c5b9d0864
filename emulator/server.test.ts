import assert from "node:assert/strict";
import { connect } from "node:net";
import { describe, it } from "node:test";
import { join } from "node:path";
import { isPublisherError } from "../src/core/errors.js";
import { repoRoot } from "../test/support/paths.js";
import { CallLog, httpsRequest } from "./testing/clients.js";
import { DEFAULT_CLIENT_ID, DEFAULT_TENANT_ID, defaultSeed } from "./seed.js";
import { startLocalTenant } from "./server.js";

/** The error code of a TCP connection attempt to host:port, or "connected". */
function tryConnect(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once("connect", () => {
      socket.destroy();
      resolve("connected");
    });
    socket.once("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

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

  it("listens on loopback only: Graph and storage refuse another loopback address; a non-loopback host is refused before anything starts", async () => {
    const lt = await startLocalTenant({ host: "localhost" });
    try {
      assert.match(lt.authorityHost, /^https:\/\/127\.0\.0\.1:\d+$/);
      const graphPort = Number(new URL(lt.authorityHost).port);
      const blobPort = Number(new URL(lt.blobEndpoint ?? "").port);
      assert.equal(await tryConnect("127.0.0.1", graphPort), "connected");
      assert.equal(await tryConnect("127.0.0.1", blobPort), "connected");
      // A socket bound to 0.0.0.0 would accept these (on Linux all of 127/8 is local); one bound to 127.0.0.1 refuses.
      assert.equal(await tryConnect("127.0.0.2", graphPort), "ECONNREFUSED");
      assert.equal(await tryConnect("127.0.0.2", blobPort), "ECONNREFUSED");
    } finally {
      await lt.close();
    }
    for (const host of ["0.0.0.0", "::", "192.168.1.10", "example.com"]) {
      await assert.rejects(
        startLocalTenant({ host, storage: false }),
        (e: unknown) =>
          isPublisherError(e) &&
          e.kind === "usage" &&
          e.code === "NotLoopback" &&
          e.message.includes("no authentication") &&
          e.message.includes("well-known account key"),
        host,
      );
    }
  });

  it("upload SAS permissions: from the seed, and through the admin API (in process and over HTTP); reset restores the seed's", async () => {
    const lt = await startLocalTenant({ seed: { ...defaultSeed(), uploadSas: { read: false } } });
    const log = new CallLog();
    const admin = (method: string, body?: string) =>
      httpsRequest(lt.caCertPem, log, method, `${lt.authorityHost}/_emulator/upload-sas`, {}, body);
    try {
      assert.deepEqual(lt.admin.uploadSas(), { read: false });
      assert.deepEqual(JSON.parse((await admin("GET")).text), { read: false });
      const put = await admin("PUT", JSON.stringify({ read: true }));
      assert.equal(put.status, 200);
      assert.deepEqual(JSON.parse(put.text), { read: true });
      assert.deepEqual(lt.admin.uploadSas(), { read: true });
      for (const bad of ["{}", '{"read":"no"}', '{"read":true,"write":false}', "not json"]) {
        const r = await admin("PUT", bad);
        assert.equal(r.status, 400, bad);
        assert.match((JSON.parse(r.text) as { error: { message: string } }).error.message, /"read": true\|false/);
      }
      assert.deepEqual(lt.admin.uploadSas(), { read: true });
      lt.admin.setUploadSas({ read: true });
      lt.admin.reset();
      assert.deepEqual(lt.admin.uploadSas(), { read: false }, "reset goes back to the seed");
    } finally {
      await lt.close();
    }
  });
});
