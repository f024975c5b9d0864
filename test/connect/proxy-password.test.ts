// A proxy password is kept with the secrets (secrets/<profile>.proxy-password, 0600), never in the profiles file;
// a profiles file that still has one in a proxy URL is refused with the way to move it.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { EXIT_CODES } from "../../src/cli/exit-codes.js";
import { runCli } from "../support/cli.js";

const TENANT = "7f3c2a1e-5b4d-4c6e-9f8a-0b1c2d3e4f50";
const CLIENT = "3d2b1a0f-9e8d-4c7b-a6f5-e4d3c2b1a098";
const PASSWORD = "pr0xy-Passw0rd-4711";
const SECRET = "client-secret-value-0123456789";

describe("proxy password", () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const auth: (string | undefined)[] = [];
  const proxy = createServer((_req, res) => res.writeHead(405).end());
  let proxyUrl = "";

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "proxy-pw-"));
    env = { HOME: dir, XDG_CONFIG_HOME: join(dir, "cfg"), XDG_STATE_HOME: join(dir, "state") };
    // Records the Proxy-Authorization of each CONNECT and refuses it (the target is an .invalid host).
    proxy.on("connect", (req, socket) => {
      auth.push(req.headers["proxy-authorization"]);
      socket.end("HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n");
    });
    await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", () => r()));
    proxyUrl = `127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  });
  after(async () => {
    proxy.closeAllConnections();
    await new Promise<void>((r) => proxy.close(() => r()));
    await rm(dir, { recursive: true, force: true });
  });

  it("connect init moves it to the secrets folder (0600); the transport sends it to the proxy", async () => {
    const init = await runCli(
      [
        "connect",
        "init",
        "--profile",
        "corp",
        "--tenant",
        TENANT,
        "--client-id",
        CLIENT,
        "--secret-env",
        "--authority-host",
        "https://login.intune-publisher.invalid",
        "--proxy",
        `http://proxyuser:${PASSWORD}@${proxyUrl}`,
        "--output",
        "json",
      ],
      { ...env, AZURE_CLIENT_SECRET: SECRET },
    );
    assert.equal(init.code, 0, init.stderr);
    assert.ok(!(init.stdout + init.stderr).includes(PASSWORD));
    const written = JSON.parse(init.stdout) as { configFile: string; proxyPasswordFile: string };
    const profiles = await readFile(written.configFile, "utf8");
    assert.ok(!profiles.includes(PASSWORD), "no password in the profiles file");
    assert.match(profiles, new RegExp(`proxy: http://proxyuser@${proxyUrl}`));
    assert.equal(written.proxyPasswordFile, join(dir, "cfg", "intune-publisher", "secrets", "corp.proxy-password"));
    assert.equal(await readFile(written.proxyPasswordFile, "utf8"), `${PASSWORD}\n`);
    assert.equal((await stat(written.proxyPasswordFile)).mode & 0o777, 0o600);

    const r = await runCli(["connect", "test", "--profile", "corp", "--no-log-file"], env);
    assert.equal(r.code, EXIT_CODES.network, r.stderr);
    assert.ok(!(r.stdout + r.stderr).includes(PASSWORD));
    assert.deepEqual(auth, [`Basic ${Buffer.from(`proxyuser:${PASSWORD}`).toString("base64")}`]);
  });

  it("a profiles file with a password in a proxy URL is refused (exit 8) with how to move it", async () => {
    const file = join(dir, "old.yaml");
    await writeFile(
      file,
      [
        "profiles:",
        "  corp:",
        `    tenant: ${TENANT}`,
        `    clientId: ${CLIENT}`,
        "    credential: { type: secret }",
        `    proxy: http://proxyuser:${PASSWORD}@${proxyUrl}`,
        "",
      ].join("\n"),
    );
    const r = await runCli(["connect", "test", "--config", file, "--no-log-file"], env);
    assert.equal(r.code, EXIT_CODES.config, r.stderr);
    assert.match(
      r.stderr,
      /error: The proxy URL of profile "corp" in .*old\.yaml holds a password; passwords are not kept/,
    );
    assert.match(r.stderr, /hint: Move it: write the password alone to .*secrets.corp\.proxy-password \(chmod 600\)/);
    assert.match(r.stderr, /in the HTTPS_PROXY environment variable instead/);
    assert.ok(!r.stderr.includes(PASSWORD));
  });
});
