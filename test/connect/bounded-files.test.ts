// Every file the configuration names is read with a bounded reader (src/platform/fs.ts): a device such as
// /dev/zero, a named pipe or an oversized file is refused at once (exit 9) naming the file, instead of reading
// forever or blocking on the pipe. Limits: docs/limits.md.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createSelfSignedCertificate } from "../../src/platform/certificates.js";
import { EXIT_CODES } from "../../src/cli/exit-codes.js";
import { runCli } from "../support/cli.js";

const TENANT = "7f3c2a1e-5b4d-4c6e-9f8a-0b1c2d3e4f50";
const CLIENT = "3d2b1a0f-9e8d-4c7b-a6f5-e4d3c2b1a098";

// A hang (a FIFO opened for blocking reads) fails the test at this deadline instead of stalling the run.
describe("files the configuration names: devices, FIFOs and oversized files are refused", { timeout: 120_000 }, () => {
  let dir: string;
  let fifo: string;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "bounded-"));
    fifo = join(dir, "fifo");
    execFileSync("mkfifo", [fifo]);
    env = { HOME: dir, XDG_CONFIG_HOME: join(dir, "cfg"), XDG_STATE_HOME: join(dir, "state") };
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const refused = (r: { code: number; stderr: string }, what: string, path: string, kind: RegExp): void => {
    assert.equal(r.code, EXIT_CODES.input, r.stderr);
    assert.ok(r.stderr.includes(`The ${what} ${path} is `), r.stderr);
    assert.match(r.stderr, kind);
  };
  const DEVICE = /is a character device, not a regular file/;
  const FIFO = /is a named pipe \(FIFO\), not a regular file/;

  it("the configuration file (--config): /dev/zero, a FIFO, a file over 1 MiB", async () => {
    refused(
      await runCli(["connect", "test", "--config", "/dev/zero", "--no-log-file"], env),
      "configuration file",
      "/dev/zero",
      DEVICE,
    );
    refused(await runCli(["apps", "list", "--config", fifo, "--no-log-file"], env), "configuration file", fifo, FIFO);
    const big = join(dir, "big.yaml");
    await writeFile(big, `# ${"x".repeat(1024 * 1024)}\n`);
    const r = await runCli(["connect", "test", "--config", big, "--no-log-file"], env);
    assert.equal(r.code, EXIT_CODES.input, r.stderr);
    assert.match(r.stderr, /configuration file .*big\.yaml is 1\.0 MiB, over the limit of 1 MiB/);
  });

  it("the credential's files: certificate, key, password, secret and federated token files", async () => {
    const base = { ...env, AZURE_TENANT_ID: TENANT, AZURE_CLIENT_ID: CLIENT };
    refused(
      await runCli(["connect", "test", "--no-log-file"], { ...base, AZURE_CLIENT_CERTIFICATE_PATH: "/dev/zero" }),
      "certificate",
      "/dev/zero",
      DEVICE,
    );
    refused(
      await runCli(["connect", "test", "--no-log-file"], { ...base, AZURE_FEDERATED_TOKEN_FILE: fifo }),
      "federated token file",
      fifo,
      FIFO,
    );
    const pair = await createSelfSignedCertificate({ subject: "bounded" });
    const certOnly = join(dir, "cert-only.pem");
    await writeFile(certOnly, pair.certPem);
    const profiles = join(dir, "profiles.yaml");
    const profile = (credential: string): string =>
      `    tenant: ${TENANT}\n    clientId: ${CLIENT}\n    credential: ${credential}\n`;
    await writeFile(
      profiles,
      [
        "profiles:",
        "  secret:",
        profile(`{ type: secret, secretFile: ${fifo} }`),
        "  key:",
        profile(`{ type: certificate, path: ${certOnly}, keyPath: /dev/zero }`),
        "  password:",
        profile(`{ type: certificate, path: ${certOnly}, passwordFile: ${fifo} }`),
        "  ca:",
        profile(`{ type: federated, tokenFile: ${join(dir, "token")} }`) + `    caCertificate: /dev/zero\n`,
      ].join("\n"),
    );
    await writeFile(join(dir, "token"), "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.\n");
    const run = (p: string) => runCli(["connect", "test", "--config", profiles, "--profile", p, "--no-log-file"], env);
    refused(await run("secret"), "secret file", fifo, FIFO);
    refused(await run("key"), "private key file", "/dev/zero", DEVICE);
    refused(await run("password"), "certificate password file", fifo, FIFO);
    refused(await run("ca"), "CA certificate", "/dev/zero", DEVICE);
  });

  it("the local tenant's state folder: credentials.json and ca.pem", async () => {
    const state = join(dir, "emu-state");
    await mkdir(state, { recursive: true });
    execFileSync("mkfifo", [join(state, "credentials.json")]);
    refused(
      await runCli(["connect", "test", "--cloud", "local", "--state", state, "--no-log-file"], env),
      "local tenant record",
      join(state, "credentials.json"),
      FIFO,
    );
    const other = join(dir, "emu-state-2");
    await mkdir(other, { recursive: true });
    await writeFile(
      join(other, "credentials.json"),
      JSON.stringify({
        tenantId: TENANT,
        clientId: CLIENT,
        clientSecret: "s3cret-s3cret-s3cret",
        authorityHost: "https://127.0.0.1:9",
        graphBaseUrl: "https://127.0.0.1:9/beta",
      }),
    );
    await symlink("/dev/zero", join(other, "ca.pem"));
    refused(
      await runCli(["apps", "list", "--cloud", "local", "--state", other, "--no-log-file"], env),
      "local tenant CA certificate",
      join(other, "ca.pem"),
      DEVICE,
    );
  });

  it("the emulator's seed file", async () => {
    refused(
      await runCli(
        ["emulator", "start", "--seed", "/dev/zero", "--state", join(dir, "seed-state"), "--no-log-file"],
        env,
      ),
      "seed file",
      "/dev/zero",
      DEVICE,
    );
    refused(
      await runCli(["emulator", "start", "--seed", fifo, "--state", join(dir, "seed-state"), "--no-log-file"], env),
      "seed file",
      fifo,
      FIFO,
    );
  });
});
