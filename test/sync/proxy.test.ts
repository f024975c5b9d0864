// sync's installer downloads go through the profile's proxy with the password kept in the secrets folder
// (secrets/<profile>.proxy-password), as Graph calls do; the password never reaches the error.
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Downloader } from "../../src/catalog/download/downloader.js";
import type { Settings } from "../../src/core/config/profile.js";
import { downloadTransportFor } from "../../src/publish/connect/config-store.js";
import { useScratch } from "../support/scratch.js";

const PASSWORD = "dl-Pr0xy-Passw0rd-0815";

describe("sync download transport and the profile's proxy password", () => {
  const scratch = useScratch("ip-sync-proxy-");
  const auth: (string | undefined)[] = [];
  const proxy = createServer((_req, res) => res.writeHead(405).end());
  let port = 0;

  before(async () => {
    // Records the Proxy-Authorization of each CONNECT and refuses it (the target is an .invalid host).
    proxy.on("connect", (req, socket) => {
      auth.push(req.headers["proxy-authorization"]);
      socket.end("HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n");
    });
    await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", () => r()));
    port = (proxy.address() as AddressInfo).port;
  });
  after(async () => {
    proxy.closeAllConnections();
    await new Promise<void>((r) => proxy.close(() => r()));
  });

  it("the installer request carries the password from the secrets file, which no error quotes", async () => {
    const dir = await scratch();
    const passwordFile = join(dir, "corp.proxy-password");
    await writeFile(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
    const settings = {
      proxy: `http://proxyuser@127.0.0.1:${port}`,
      proxyPasswordFile: passwordFile,
      noProxy: undefined,
    } as Settings;
    const transport = await downloadTransportFor(settings);
    try {
      const downloader = new Downloader({
        cacheDir: join(dir, "cache"),
        transport,
        sleep: async () => undefined,
      });
      const err = await downloader
        .download({ url: "https://vendor.intune-publisher.invalid/app.exe", product: "Contoso.Tool", version: "1.0" })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      assert.ok(err instanceof Error, "the proxy refuses the tunnel");
      assert.ok(!JSON.stringify({ m: err.message, s: err.stack }).includes(PASSWORD));
    } finally {
      await transport.close();
    }
    assert.ok(auth.length >= 1, "the download went through the proxy");
    const expected = `Basic ${Buffer.from(`proxyuser:${PASSWORD}`).toString("base64")}`;
    assert.ok(
      auth.every((a) => a === expected),
      `Proxy-Authorization: ${auth.join(", ")}`,
    );
  });
});
