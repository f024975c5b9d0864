import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { describe, it } from "node:test";
import { ConfidentialClientApplication } from "@azure/msal-node";
import { TrustingNetworkClient } from "../../../emulator/testing/clients.js";
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
});
