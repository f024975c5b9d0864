// A proxy that refuses the tunnel (407: it wants authentication; 502: it cannot reach the host) is named in the
// error, with what it answered, and never with its password.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { EXIT_CODES } from "../../src/cli/exit-codes.js";
import { homeEnv, runCli } from "../support/cli.js";
import { useScratch } from "../support/scratch.js";

const PASSWORD = "pr0xy-Refused-Passw0rd-0815";
const scratch = useScratch("ip-proxy-refused-");

describe("a proxy that refuses the tunnel", () => {
  let status = 407;
  const targets: string[] = [];
  const proxy = createServer((_req, res) => res.writeHead(405).end());
  let port = 0;
  before(async () => {
    // Answers every CONNECT with `status`: nothing is tunnelled, nothing leaves the machine.
    proxy.on("connect", (req, socket) => {
      targets.push(req.url ?? "");
      const extra = status === 407 ? 'proxy-authenticate: Basic realm="corp"\r\n' : "";
      const reason = status === 407 ? "Proxy Authentication Required" : "Bad Gateway";
      socket.end(`HTTP/1.1 ${status} ${reason}\r\n${extra}content-length: 0\r\n\r\n`);
    });
    await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", () => r()));
    port = (proxy.address() as AddressInfo).port;
  });
  after(async () => {
    proxy.closeAllConnections();
    await new Promise<void>((r) => proxy.close(() => r()));
  });

  for (const [code, reason, advice] of [
    [407, "Proxy Authentication Required", /hint: The proxy wants a user name and password/],
    [502, "Bad Gateway", /hint: The proxy could not or would not open a connection to login\.microsoftonline\.com/],
  ] as const) {
    it(`${code}: the error names the proxy (no password) and its answer`, async () => {
      status = code;
      const home = await scratch();
      const r = await runCli(
        ["connect", "test", "--no-log-file"],
        homeEnv(home, {
          AZURE_TENANT_ID: "7f3c2a1e-5b4d-4c6e-9f8a-0b1c2d3e4f50",
          AZURE_CLIENT_ID: "3d2b1a0f-9e8d-4c7b-a6f5-e4d3c2b1a098",
          AZURE_CLIENT_SECRET: "client-secret-value-0123456789",
          HTTPS_PROXY: `http://proxyuser:${PASSWORD}@127.0.0.1:${port}`,
        }),
      );
      assert.equal(r.code, EXIT_CODES.network, r.stderr);
      assert.ok(targets.includes("login.microsoftonline.com:443"), targets.join(","));
      assert.ok(
        r.stderr.includes(
          `The proxy http://proxyuser@127.0.0.1:${port} answered ${code} ${reason} to the tunnel for login.microsoftonline.com`,
        ),
        r.stderr,
      );
      assert.match(r.stderr, advice);
      assert.doesNotMatch(r.stderr, /UND_ERR_ABORTED|Could not connect/);
      assert.ok(!(r.stdout + r.stderr).includes(PASSWORD), "the proxy password was shown");
    });
  }
});
