import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { describe, it } from "node:test";
import { ConfidentialClientApplication } from "@azure/msal-node";
import { TrustingNetworkClient } from "../../../emulator/testing/clients.js";
import { runCli } from "../../../test/support/cli.js";
import { isPublisherError } from "../../core/errors.js";
import { EXIT_CODES } from "../exit-codes.js";
import type { CommandContext } from "../command.js";
import command from "./emulator-start.js";

interface Started {
  facts: Record<string, string>;
  stderr: () => string;
  stop(): Promise<number>;
}

/** Runs `emulator start` in this process until it prints its facts; `stop` aborts it as Ctrl-C does. */
async function start(cwd: string, input: Record<string, unknown>): Promise<Started> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (d: Buffer) => (out += d.toString()));
  stderr.on("data", (d: Buffer) => (err += d.toString()));
  const controller = new AbortController();
  const ctx: CommandContext = {
    stdout,
    stderr,
    env: {},
    cwd,
    signal: controller.signal,
    output: "json",
    verbose: false,
  };
  const running = command.run(ctx, command.options.parse(input));
  let failed: unknown;
  running.catch((e: unknown) => (failed = e));
  while (!out.includes("}")) {
    if (failed !== undefined) throw failed;
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    facts: JSON.parse(out) as Record<string, string>,
    stderr: () => err,
    stop: async () => {
      controller.abort();
      return running;
    },
  };
}

describe("emulator start", () => {
  it("prints the connection facts, writes the CA and credentials, serves tokens, and stops on abort", async () => {
    const state = await mkdtemp(join(tmpdir(), "emu-cli-"));
    try {
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      let out = "";
      stdout.on("data", (d: Buffer) => (out += d.toString()));
      const controller = new AbortController();
      const ctx: CommandContext = {
        stdout,
        stderr,
        env: {},
        cwd: state,
        signal: controller.signal,
        output: "json",
        verbose: false,
      };
      const running = command.run(ctx, command.options.parse({ state: "st" }));
      while (!out.includes("}")) await new Promise((r) => setTimeout(r, 20));
      const facts = JSON.parse(out) as Record<string, string>;
      assert.equal(facts["caCertificate"], join(state, "st", "ca.pem"));
      assert.match(facts["graphBaseUrl"] ?? "", /^https:\/\/127\.0\.0\.1:\d+\/beta$/);
      const creds = JSON.parse(await readFile(facts["clientSecretFile"] ?? "", "utf8")) as Record<string, string>;
      // Everything `connect test --cloud local` needs to find and use this tenant.
      assert.deepEqual(Object.keys(creds).sort(), [
        "authorityHost",
        "clientId",
        "clientSecret",
        "graphBaseUrl",
        "tenantId",
        "tokenAudience",
        "vendorUrl",
      ]);
      assert.equal(creds["vendorUrl"], facts["vendorUrl"]);
      assert.match(creds["vendorUrl"] ?? "", /^https:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(creds["clientId"], facts["clientId"]);
      assert.equal(creds["tenantId"], facts["tenantId"]);
      assert.equal(creds["authorityHost"], facts["authorityHost"]);
      assert.equal(creds["graphBaseUrl"], facts["graphBaseUrl"]);
      assert.equal(creds["tokenAudience"], "https://graph.microsoft.com");
      assert.equal(
        (await stat(facts["clientSecretFile"] ?? "")).mode & 0o077,
        0,
        "credentials are private to the user",
      );
      const ca = await readFile(facts["caCertificate"] ?? "", "utf8");
      const authority = facts["authority"] ?? "";
      const cca = new ConfidentialClientApplication({
        auth: {
          clientId: creds["clientId"] ?? "",
          clientSecret: creds["clientSecret"] ?? "",
          authority,
          knownAuthorities: [new URL(authority).host],
        },
        system: { networkClient: new TrustingNetworkClient(ca) },
      });
      const token = await cca.acquireTokenByClientCredential({ scopes: ["https://graph.microsoft.com/.default"] });
      assert.ok(token?.accessToken);
      controller.abort();
      assert.equal(await running, 0);
    } finally {
      await rm(state, { recursive: true, force: true });
    }
  });

  it("a second start on the same state folder refuses and names the running one (pid, URL)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "emu-lock-"));
    try {
      const first = await start(dir, { state: "st" });
      try {
        const credentials = await readFile(join(dir, "st", "credentials.json"), "utf8");
        await assert.rejects(
          start(dir, { state: "st" }),
          (e: unknown) =>
            isPublisherError(e) &&
            e.kind === "input" &&
            e.code === "EmulatorStateInUse" &&
            e.message.includes(`pid ${process.pid}`) &&
            e.message.includes(first.facts["authorityHost"] ?? "no address") &&
            /another --state DIR/.test(e.hint ?? ""),
        );
        // The running tenant's record is untouched.
        assert.equal(await readFile(join(dir, "st", "credentials.json"), "utf8"), credentials);
      } finally {
        assert.equal(await first.stop(), 0);
      }
      // Stopped without --persist: its record and its lock are gone, so the folder can be used again.
      await assert.rejects(stat(join(dir, "st", "credentials.json")), { code: "ENOENT" });
      await assert.rejects(stat(join(dir, "st", "emulator.lock")), { code: "ENOENT" });
      const again = await start(dir, { state: "st" });
      assert.equal(await again.stop(), 0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("a lock left by a process that is gone is taken over with a note", async () => {
    const dir = await mkdtemp(join(tmpdir(), "emu-stale-"));
    try {
      // The pid of a process that has exited.
      const dead = spawnSync(process.execPath, ["-e", ""]).pid;
      await mkdir(join(dir, "st"), { recursive: true });
      await writeFile(
        join(dir, "st", "emulator.lock"),
        JSON.stringify({ pid: dead, hostname: hostname(), startedAt: "2020-01-01T00:00:00Z", nonce: "old" }),
      );
      const s = await start(dir, { state: "st" });
      assert.match(
        s.stderr(),
        new RegExp(`Taking over the lock of .*: its emulator \\(pid ${dead}\\) is no longer running\\.`),
      );
      const lock = JSON.parse(await readFile(join(dir, "st", "emulator.lock"), "utf8")) as Record<string, unknown>;
      assert.equal(lock["pid"], process.pid);
      assert.equal(lock["authorityHost"], s.facts["authorityHost"]);
      assert.equal(await s.stop(), 0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("--persist on a fresh folder creates its blob folder, starts, stops and keeps credentials.json", async () => {
    const dir = await mkdtemp(join(tmpdir(), "emu-persist-"));
    try {
      const s = await start(dir, { state: "fresh/st", persist: true });
      assert.ok((await stat(join(dir, "fresh", "st", "blobs"))).isDirectory());
      assert.equal(await s.stop(), 0);
      // The record stays (later commands then say the tenant is stopped); the lock goes.
      await stat(join(dir, "fresh", "st", "credentials.json"));
      await assert.rejects(stat(join(dir, "fresh", "st", "emulator.lock")), { code: "ENOENT" });
      // --blob-dir naming a new folder is created too.
      const b = await start(dir, { state: "st2", blobDir: "new/blobs" });
      assert.ok((await stat(join(dir, "new", "blobs"))).isDirectory());
      assert.equal(await b.stop(), 0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it(
    "makes its state folder 0700 and its keys 0600; warns about a key or folder others may read",
    { skip: process.platform === "win32" },
    async () => {
      const dir = await mkdtemp(join(tmpdir(), "emu-modes-"));
      try {
        const s = await start(dir, { state: "st" });
        assert.equal(await s.stop(), 0);
        const st = join(dir, "st");
        assert.equal((await stat(st)).mode & 0o777, 0o700);
        for (const key of ["server.key", "token-signing.key"])
          assert.equal((await stat(join(st, key))).mode & 0o777, 0o600);
        await chmod(join(st, "token-signing.key"), 0o644);
        await chmod(st, 0o755);
        const loose = await start(dir, { state: "st" });
        assert.equal(await loose.stop(), 0);
        assert.match(loose.stderr(), /warning: The state folder .*st is open to other users \(mode 755\)/);
        assert.match(
          loose.stderr(),
          /warning: The local tenant's private key .*token-signing\.key is readable by other users \(mode 644\); run chmod 600/,
        );
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );

  it("--host other than loopback is a usage error (exit 64) that names the risk; nothing is started or written", async () => {
    const home = await mkdtemp(join(tmpdir(), "emu-cli-host-"));
    try {
      const state = join(home, "st");
      const r = await runCli(["emulator", "start", "--host", "0.0.0.0", "--state", state, "--no-log-file"], {
        HOME: home,
      });
      assert.equal(r.code, EXIT_CODES.usage, r.stderr);
      assert.match(r.stderr, /error: The local tenant listens on loopback only, not on "0\.0\.0\.0"/);
      assert.match(r.stderr, /no authentication/);
      assert.match(r.stderr, /well-known account key/);
      assert.match(r.stderr, /hint: Use 127\.0\.0\.1 \(the default\) or localhost/);
      assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
      assert.equal(r.stdout, "");
      assert.equal(existsSync(state), false, "no state folder was created");
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});
