/**
 * `connect init` on a real terminal: the CLI runs under `script` (util-linux), which gives it a pseudo-terminal as
 * stdin, stdout and stderr, so it prompts. Each answer is typed only after its prompt appears. The secret is not
 * echoed: the whole terminal transcript is scanned for it.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { cliCommand } from "../support/cli.js";

const hasScript = spawnSync("script", ["--version"], { encoding: "utf8" }).status === 0;
const SECRET = "Tty~secretVALUE.0123456789_abcdefghijkl";
const APP = "a4000000-0000-4000-8000-000000000001";

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

describe("connect init on a terminal", { skip: hasScript ? false : "`script` (util-linux) is not installed" }, () => {
  it("prompts for the tenant, client ID, credential type, secret and its expiry; the secret is not echoed and lands in a 0600 file", async () => {
    const home = await mkdtemp(join(tmpdir(), "connect-tty-"));
    try {
      const cli = await cliCommand(home);
      const command = [
        process.execPath,
        ...cli.args,
        "connect",
        "init",
        "--profile",
        "lab",
        "--cloud",
        "local",
        "--authority-host",
        "https://127.0.0.1:8443",
        "--graph-base-url",
        "https://127.0.0.1:8443/beta",
        "--no-log-file",
      ]
        .map(quote)
        .join(" ");
      const child = spawn("script", ["-qec", command, "/dev/null"], {
        cwd: cli.cwd,
        env: { PATH: process.env["PATH"], HOME: home, XDG_CONFIG_HOME: join(home, "config"), TERM: "dumb" },
        stdio: ["pipe", "pipe", "pipe"],
      });
      let transcript = "";
      child.stdout.on("data", (d: Buffer) => (transcript += d.toString("utf8")));
      child.stderr.on("data", (d: Buffer) => (transcript += d.toString("utf8")));
      const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
      const answer = async (prompt: RegExp, text: string): Promise<void> => {
        const deadline = Date.now() + 30_000;
        while (!prompt.test(transcript)) {
          if (child.exitCode !== null) assert.fail(`connect init exited before ${String(prompt)}:\n${transcript}`);
          if (Date.now() > deadline) assert.fail(`no prompt ${String(prompt)}:\n${transcript}`);
          await new Promise((r) => setTimeout(r, 25));
        }
        // Give readline a moment to switch the terminal to raw mode before anything is typed.
        await new Promise((r) => setTimeout(r, 100));
        child.stdin.write(`${text}\r`);
      };
      try {
        await answer(/Tenant ID or domain \(e\.g\. contoso\.onmicrosoft\.com\): /, "contoso.onmicrosoft.com");
        await answer(/Application \(client\) ID: /, APP);
        await answer(/Credential: secret, certificate, federated \[secret\]: /, "");
        await answer(/Client secret Value \(not the Secret ID; not shown\): /, SECRET);
        await answer(/Secret expires on \(YYYY-MM-DD, as the portal shows; Enter if unknown\): /, "2027-06-30");
        assert.equal(await exited, 0, transcript);
      } finally {
        if (child.exitCode === null) {
          child.kill("SIGKILL");
          await exited;
        }
      }
      assert.ok(!transcript.includes(SECRET), "the secret was echoed on the terminal");
      assert.match(transcript, /contoso\.onmicrosoft\.com/, "visible answers are echoed");
      const configFile = join(home, "config", "intune-publisher", "config.yaml");
      const config = await readFile(configFile, "utf8");
      assert.match(config, /tenant: contoso\.onmicrosoft\.com/);
      assert.match(config, new RegExp(`clientId: ${APP}`));
      assert.match(config, /expiresOn: "?2027-06-30"?/);
      assert.ok(!config.includes(SECRET), "the secret must not be in the profiles file");
      const secretFile = /secretFile\s+(\S+)/.exec(transcript)?.[1] ?? "";
      assert.ok(secretFile !== "", transcript);
      assert.equal(await readFile(secretFile, "utf8"), `${SECRET}\n`);
      assert.equal((await stat(secretFile)).mode & 0o777, 0o600);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });

  it("without --cloud, asks the cloud; a certificate credential asks for its file", async () => {
    const home = await mkdtemp(join(tmpdir(), "connect-tty-cloud-"));
    try {
      const cli = await cliCommand(home);
      const command = [process.execPath, ...cli.args, "connect", "init", "--profile", "gov", "--no-log-file"]
        .map(quote)
        .join(" ");
      const child = spawn("script", ["-qec", command, "/dev/null"], {
        cwd: cli.cwd,
        env: { PATH: process.env["PATH"], HOME: home, XDG_CONFIG_HOME: join(home, "config"), TERM: "dumb" },
        stdio: ["pipe", "pipe", "pipe"],
      });
      let transcript = "";
      child.stdout.on("data", (d: Buffer) => (transcript += d.toString("utf8")));
      child.stderr.on("data", (d: Buffer) => (transcript += d.toString("utf8")));
      const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
      const answer = async (prompt: RegExp, text: string): Promise<void> => {
        const deadline = Date.now() + 30_000;
        while (!prompt.test(transcript)) {
          if (child.exitCode !== null) assert.fail(`connect init exited before ${String(prompt)}:\n${transcript}`);
          if (Date.now() > deadline) assert.fail(`no prompt ${String(prompt)}:\n${transcript}`);
          await new Promise((r) => setTimeout(r, 25));
        }
        await new Promise((r) => setTimeout(r, 100));
        child.stdin.write(`${text}\r`);
      };
      try {
        await answer(/Cloud: global, usgov \(GCC High\), usgov-dod \(DoD\), china \[global\]: /, "usgov");
        await answer(/Tenant ID or domain/, "contoso.onmicrosoft.us");
        await answer(/Application \(client\) ID: /, APP);
        await answer(/Credential: secret, certificate, federated \[secret\]: /, "certificate");
        await answer(/Certificate file \(PEM with its key, or PFX\): /, join(home, "gov.pem"));
        assert.equal(await exited, 0, transcript);
      } finally {
        if (child.exitCode === null) {
          child.kill("SIGKILL");
          await exited;
        }
      }
      assert.doesNotMatch(transcript, /Client secret/, "no secret is asked for a certificate");
      const config = await readFile(join(home, "config", "intune-publisher", "config.yaml"), "utf8");
      assert.match(config, /cloud: usgov\n/);
      assert.match(config, /type: certificate/);
      assert.ok(config.includes(`path: ${join(home, "gov.pem")}`), config);
      assert.match(transcript, /login\.microsoftonline\.us/, "the GCC High authority, not Global");
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});
