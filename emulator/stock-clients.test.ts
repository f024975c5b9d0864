import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { repoRoot } from "../test/support/paths.js";
import { startLocalTenant } from "./server.js";

/**
 * The stock clients, with no custom network code at all: a child Node process started with
 * NODE_EXTRA_CA_CERTS = the emulator's ca.pem (docs/reference/entra-auth.md §5.4 option 2) runs msal-node's default
 * fetch client and the Graph JS client's default middleware. Its global fetch refuses hosts other than 127.0.0.1.
 */
const CHILD = `
import { ConfidentialClientApplication } from "@azure/msal-node";
import { Client } from "@microsoft/microsoft-graph-client";
const cfg = JSON.parse(process.argv[1]);
const realFetch = globalThis.fetch;
const hosts = [];
globalThis.fetch = (input, init) => {
  const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
  hosts.push(new URL(url).hostname);
  if (new URL(url).hostname !== "127.0.0.1") return Promise.reject(new Error("blocked " + url));
  return realFetch(input, init);
};
const cca = new ConfidentialClientApplication({ auth: { clientId: cfg.clientId, clientSecret: cfg.secret, authority: cfg.authority, knownAuthorities: [cfg.host], authorityMetadata: cfg.metadata } });
const token = (await cca.acquireTokenByClientCredential({ scopes: ["https://graph.microsoft.com/.default"] })).accessToken;
const graph = Client.init({ authProvider: (done) => done(null, token), baseUrl: cfg.origin, defaultVersion: "beta", customHosts: new Set(["127.0.0.1"]) });
const groups = await graph.api("/groups").select("displayName").get();
process.stdout.write(JSON.stringify({ names: groups.value.map((g) => g.displayName), hosts }));
`;

describe("stock clients trusting the CA through NODE_EXTRA_CA_CERTS", () => {
  it("msal-node's default network client and the Graph client's default middleware work unchanged", async () => {
    const state = await mkdtemp(join(tmpdir(), "stock-"));
    const lt = await startLocalTenant({ stateDir: state, storage: false });
    try {
      const cfg = {
        clientId: lt.clientId,
        secret: lt.clientSecret,
        authority: lt.authority,
        host: lt.host,
        metadata: lt.authorityMetadata,
        origin: lt.authorityHost,
      };
      const child = spawn(process.execPath, ["--input-type=module", "-e", CHILD, JSON.stringify(cfg)], {
        cwd: repoRoot(),
        env: { PATH: process.env["PATH"] ?? "", NODE_EXTRA_CA_CERTS: lt.caCertPath ?? "" },
      });
      let out = "";
      let err = "";
      child.stdout.on("data", (d: Buffer) => (out += d.toString()));
      child.stderr.on("data", (d: Buffer) => (err += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
      assert.equal(code, 0, err);
      const r = JSON.parse(out) as { names: string[]; hosts: string[] };
      assert.deepEqual(r.names, ["Intune - Pilot devices", "Intune - All Windows devices"]);
      assert.ok(r.hosts.length >= 2, "the token POST and the Graph GET went through the global fetch");
      assert.deepEqual([...new Set(r.hosts)], ["127.0.0.1"]);
    } finally {
      await lt.close();
      await rm(state, { recursive: true, force: true });
    }
  });
});
