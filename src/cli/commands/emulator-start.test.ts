import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { describe, it } from "node:test";
import { ConfidentialClientApplication } from "@azure/msal-node";
import { TrustingNetworkClient } from "../../../emulator/testing/clients.js";
import { runCli } from "../../../test/support/cli.js";
import { EXIT_CODES } from "../exit-codes.js";
import type { CommandContext } from "../command.js";
import command from "./emulator-start.js";

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
      const running = command.run(ctx, command.schema.parse({ state: "st" }));
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
      ]);
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
