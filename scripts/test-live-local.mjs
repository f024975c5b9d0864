// Proves the live path without a real tenant: starts `intune-publisher emulator start` in a separate process and
// runs `scripts/test-live.mjs` against it with the AZURE_*-style configuration a real tenant would get, so the tests
// reach it only as a configured tenant (no emulator state). Needs a build. Usage: node scripts/test-live-local.mjs
import { spawn, spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { join } from "node:path";

const home = await mkdtemp(join(tmpdir(), "ip-live-local-"));
const emulator = spawn(
  process.execPath,
  ["bin/intune-publisher.js", "emulator", "start", "--state", join(home, "state"), "--output", "json"],
  { env: { PATH: process.env["PATH"], HOME: home }, stdio: ["ignore", "pipe", "inherit"] },
);
let out = "";
emulator.stdout.on("data", (d) => (out += d.toString("utf8")));
let status = 1;
try {
  let facts;
  while (facts === undefined) {
    if (emulator.exitCode !== null) throw new Error(`emulator start ended (${emulator.exitCode})`);
    try {
      facts = JSON.parse(out);
    } catch {
      await sleep(100);
    }
  }
  const record = JSON.parse(await readFile(join(home, "state", "credentials.json"), "utf8"));
  console.log(`test-live-local: emulator start (pid ${emulator.pid}) at ${record.authorityHost}`);
  const r = spawnSync(process.execPath, ["scripts/test-live.mjs"], {
    stdio: "inherit",
    env: {
      PATH: process.env["PATH"],
      HOME: home,
      INTUNE_PUBLISHER_LIVE: "1",
      AZURE_TENANT_ID: record.tenantId,
      AZURE_CLIENT_ID: record.clientId,
      AZURE_CLIENT_SECRET: record.clientSecret,
      AZURE_AUTHORITY_HOST: record.authorityHost,
      INTUNE_PUBLISHER_LIVE_GRAPH_BASE_URL: record.graphBaseUrl,
      INTUNE_PUBLISHER_LIVE_TOKEN_AUDIENCE: record.tokenAudience,
      INTUNE_PUBLISHER_LIVE_CA_CERTIFICATE: join(home, "state", "ca.pem"),
    },
  });
  status = r.status ?? 1;
} finally {
  emulator.kill("SIGINT");
  await new Promise((r) => (emulator.exitCode !== null ? r() : emulator.once("exit", r)));
  await rm(home, { recursive: true, force: true });
}
process.exit(status);
