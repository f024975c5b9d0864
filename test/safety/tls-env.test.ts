/**
 * NODE_TLS_REJECT_UNAUTHORIZED=0 in the environment must not turn certificate checks off: the CLI runs in a child
 * process with it set, against the local tenant whose CA it is not given (directly, through a CONNECT proxy, and
 * when probing a running local tenant described by a state folder with another CA).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { IncomingMessage } from "node:http";
import { connect as netConnect } from "node:net";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { Duplex } from "node:stream";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { createSelfSignedCertificate } from "../../src/platform/certificates.js";
import type { LocalTenant } from "../../emulator/server.js";
import { EXIT_CODES } from "../../src/cli/exit-codes.js";
import type { ConnectionReport } from "../../src/publish/connect/test-connection.js";
import { localTenantFlags, startLocalTestTenant } from "../support/tenant.js";
import { cliCommand } from "../support/cli.js";
import type { CliResult } from "../support/cli.js";
import { useScratch } from "../support/scratch.js";

const run = promisify(execFile);
const scratch = useScratch("ip-tls-env-");

describe("NODE_TLS_REJECT_UNAUTHORIZED=0 does not turn certificate checks off", () => {
  let lt: LocalTenant;
  let dir: string;
  let cli: { args: string[]; cwd: string };

  before(async () => {
    lt = await startLocalTestTenant({ storage: false });
    dir = await scratch();
    cli = await cliCommand(dir);
  });

  after(async () => {
    await lt.close();
  });

  /** Runs the CLI in a child process whose environment sets NODE_TLS_REJECT_UNAUTHORIZED=0. */
  async function child(args: string[], extra: NodeJS.ProcessEnv = {}): Promise<CliResult> {
    const env = {
      PATH: process.env["PATH"],
      HOME: dir,
      XDG_CONFIG_HOME: join(dir, "config"),
      XDG_STATE_HOME: join(dir, "state"),
      NODE_TLS_REJECT_UNAUTHORIZED: "0",
      AZURE_TENANT_ID: lt.tenantId,
      AZURE_CLIENT_ID: lt.clientId,
      AZURE_CLIENT_SECRET: lt.clientSecret ?? "",
      ...extra,
    };
    try {
      const r = await run(process.execPath, [...cli.args, ...args, "--no-log-file"], {
        cwd: cli.cwd,
        env,
        timeout: 120_000,
      });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (e) {
      const x = e as { code?: unknown; stdout?: string; stderr?: string };
      if (typeof x.code !== "number") throw e;
      return { code: x.code, stdout: x.stdout ?? "", stderr: x.stderr ?? "" };
    }
  }

  const connectTest = (): string[] => ["connect", "test", ...localTenantFlags(lt), "--output", "json"];

  function assertUntrusted(r: CliResult): void {
    assert.equal(r.code, EXIT_CODES.network, r.stderr);
    const report = JSON.parse(r.stdout) as ConnectionReport;
    assert.equal(report.problem?.code, "tls.untrusted", r.stdout);
    assert.match(r.stderr, /^error: The TLS certificate of 127\.0\.0\.1:\d+ is not trusted/m);
  }

  it("a direct connection to a server with an untrusted certificate still fails with a TLS error (exit 7)", async () => {
    assertUntrusted(await child(connectTest()));
  });

  it("through a CONNECT proxy, the origin's certificate is still checked", async () => {
    // A proxy that tunnels every CONNECT to the local tenant, whatever host was asked for.
    const port = Number(new URL(lt.authorityHost).port);
    const targets: string[] = [];
    const proxy = createServer();
    proxy.on("connect", (req: IncomingMessage, client: Duplex, head: Buffer) => {
      targets.push(req.url ?? "");
      const upstream = netConnect(port, "127.0.0.1", () => {
        client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
        if (head.length > 0) upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      upstream.on("error", () => client.destroy());
      client.on("error", () => upstream.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", () => r()));
    try {
      const args = connectTest();
      args[args.indexOf("--authority-host") + 1] = "https://login.intune-publisher.invalid";
      args[args.indexOf("--graph-base-url") + 1] = "https://graph.intune-publisher.invalid/beta";
      const r = await child([...args, "--proxy", `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`]);
      assert.deepEqual(targets, ["login.intune-publisher.invalid:443"]);
      assert.equal(r.code, EXIT_CODES.network, r.stderr);
      assert.match(r.stderr, /^error: The TLS certificate of login\.intune-publisher\.invalid is not trusted/m);
    } finally {
      proxy.closeAllConnections();
      await new Promise<void>((r) => proxy.close(() => r()));
    }
  });

  it("a running local tenant is not used when it does not prove itself with the state folder's CA", async () => {
    const state = join(dir, "emulator-other-ca");
    await mkdir(state, { recursive: true });
    const other = await createSelfSignedCertificate({ subject: "another CA" });
    await writeFile(join(state, "ca.pem"), other.certPem);
    await writeFile(
      join(state, "credentials.json"),
      JSON.stringify({
        tenantId: lt.tenantId,
        clientId: lt.clientId,
        clientSecret: lt.clientSecret,
        authorityHost: lt.authorityHost,
        graphBaseUrl: lt.graphBaseUrl,
        tokenAudience: lt.tokenAudience,
      }),
    );
    const r = await child(["connect", "test", "--cloud", "local", "--state", state, "--output", "json"], {
      AZURE_TENANT_ID: "",
      AZURE_CLIENT_ID: "",
      AZURE_CLIENT_SECRET: "",
    });
    // The probe fails on the foreign CA, so the recorded tenant is reported as not answering; never used.
    assert.doesNotMatch(r.stderr, /Testing the running local tenant/);
    assert.equal(r.code, EXIT_CODES.config, r.stderr);
    assert.match(r.stderr, /^error: The local tenant recorded in .* does not answer/m);
  });
});
