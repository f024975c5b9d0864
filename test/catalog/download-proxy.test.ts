// A proxy that refuses a download's tunnel (407: it wants authentication; 403: its rules block the host; 502: it
// cannot reach it) is named as on Graph calls: its URL without the password, what it answered, the net.proxy advice.
// A refusal is not retried; a 502 is, and its advice survives the retries.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createStreamTransport } from "../../src/clients/http/stream-transport.js";
import type { StreamTransport } from "../../src/clients/http/stream-transport.js";
import { Downloader } from "../../src/catalog/download/downloader.js";
import { isPublisherError } from "../../src/core/errors.js";
import type { PublisherError } from "../../src/core/errors.js";
import { startConnectProxy } from "../support/proxy.js";
import { useScratch } from "../support/scratch.js";

const PASSWORD = "d0wnload-Proxy-Passw0rd-4711";
const HOST = "downloads.contoso.invalid";
const URL_ = `https://${HOST}/setup-1.2.3.exe`;
const SHA = "a".repeat(64);
const scratch = useScratch("ip-download-proxy-");

async function failure(p: Promise<unknown>): Promise<PublisherError> {
  const e = await p.then(
    () => assert.fail("the download should fail"),
    (err: unknown) => err,
  );
  assert.ok(isPublisherError(e), String(e));
  return e;
}

describe("catalog downloads through a proxy that refuses the tunnel", () => {
  let proxy: Awaited<ReturnType<typeof startConnectProxy>>;
  let transport: StreamTransport;
  let label: string;
  before(async () => {
    proxy = await startConnectProxy();
    const port = new URL(proxy.url).port;
    label = `http://proxyuser@127.0.0.1:${port}`;
    transport = createStreamTransport({ proxy: { httpsProxy: `http://proxyuser:${PASSWORD}@127.0.0.1:${port}` } });
  });
  after(async () => {
    await transport.close();
    await proxy.close();
  });

  const downloader = async (waits: number[]): Promise<Downloader> =>
    new Downloader({
      cacheDir: join(await scratch(), "cache"),
      transport,
      maxAttempts: 3,
      sleep: async (ms) => {
        waits.push(ms);
      },
    });

  for (const [status, reason, advice] of [
    [407, "Proxy Authentication Required", /wants a user name and password/],
    [403, "Forbidden", new RegExp(`ask its administrator to allow ${HOST.replace(/\./g, "\\.")}`)],
  ] as const) {
    it(`${status}: named with the proxy and its answer, the net.proxy hint, and not retried`, async () => {
      proxy.refuseWith = status;
      proxy.targets.length = 0;
      const waits: number[] = [];
      const e = await failure((await downloader(waits)).download({ url: URL_, sha256: SHA }));
      assert.equal(e.kind, "network", e.code);
      assert.ok(
        e.message.includes(`The proxy ${label} answered ${status} ${reason} to the tunnel for ${HOST}`),
        e.message,
      );
      assert.match(e.hint ?? "", advice);
      assert.match(e.hint ?? "", /docs\/troubleshooting\.md#netproxy/);
      assert.deepEqual(proxy.targets, [`${HOST}:443`], "asked once: a refusal is not retried");
      assert.deepEqual(waits, []);
      assert.ok(!`${e.message} ${e.hint ?? ""}`.includes(PASSWORD), "the proxy password was shown");
    });
  }

  it("502: retried, then named with the proxy, its answer and the net.proxy hint", async () => {
    proxy.refuseWith = 502;
    proxy.targets.length = 0;
    const waits: number[] = [];
    const e = await failure((await downloader(waits)).download({ url: URL_, sha256: SHA }));
    assert.equal(e.code, "DownloadIncomplete");
    assert.ok(e.message.includes(`The proxy ${label} answered 502 Bad Gateway to the tunnel for ${HOST}`), e.message);
    assert.match(e.hint ?? "", /could not or would not open a connection to downloads\.contoso\.invalid/);
    assert.match(e.hint ?? "", /docs\/troubleshooting\.md#netproxy/);
    assert.equal(proxy.targets.length, 3, "three attempts");
    assert.equal(waits.length, 2);
    assert.ok(!`${e.message} ${e.hint ?? ""}`.includes(PASSWORD), "the proxy password was shown");
  });
});
