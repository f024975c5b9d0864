// A recording HTTP CONNECT proxy for the proxy tests.
import { createServer } from "node:http";
import type { Server } from "node:http";
import { connect as netConnect } from "node:net";
import type { AddressInfo } from "node:net";

/**
 * A minimal HTTP CONNECT forward proxy that records the targets asked for. Hosts under `.invalid` (RFC 6761) are
 * answered 502 (nothing leaves the machine); anything else is tunnelled.
 */
export async function startConnectProxy(): Promise<{ url: string; targets: string[]; close: () => Promise<void> }> {
  const targets: string[] = [];
  const server: Server = createServer((_req, res) => {
    res.statusCode = 405;
    res.end();
  });
  server.on("connect", (req, client, head) => {
    const target = req.url ?? "";
    targets.push(target);
    const [host, port] = target.split(":");
    if (host?.endsWith(".invalid")) {
      client.end("HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n");
      return;
    }
    const upstream = netConnect(Number(port), host ?? "127.0.0.1", () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    targets,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
