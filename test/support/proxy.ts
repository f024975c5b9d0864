// A recording HTTP CONNECT proxy for the proxy tests.
import { createServer } from "node:http";
import type { Server } from "node:http";
import { connect as netConnect } from "node:net";
import type { AddressInfo } from "node:net";

const REASONS: Record<number, string> = { 403: "Forbidden", 407: "Proxy Authentication Required", 502: "Bad Gateway" };

/**
 * A minimal HTTP CONNECT forward proxy that records the targets asked for. Hosts under `.invalid` (RFC 6761) are
 * answered 502, or `refuseWith` when set (nothing leaves the machine); anything else is tunnelled.
 */
export async function startConnectProxy(): Promise<{
  url: string;
  targets: string[];
  /** the status every `.invalid` tunnel gets (403, 407 with a Basic challenge, 502…); default 502 */
  refuseWith: number;
  close: () => Promise<void>;
}> {
  const targets: string[] = [];
  let refuseWith = 502;
  const server: Server = createServer((_req, res) => {
    res.statusCode = 405;
    res.end();
  });
  server.on("connect", (req, client, head) => {
    const target = req.url ?? "";
    targets.push(target);
    const [host, port] = target.split(":");
    if (host?.endsWith(".invalid")) {
      const challenge = refuseWith === 407 ? 'proxy-authenticate: Basic realm="corp"\r\n' : "";
      const reason = REASONS[refuseWith] ?? "Refused";
      client.end(`HTTP/1.1 ${refuseWith} ${reason}\r\n${challenge}content-length: 0\r\n\r\n`);
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
    get refuseWith() {
      return refuseWith;
    },
    set refuseWith(status: number) {
      refuseWith = status;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
