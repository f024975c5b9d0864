// `npm run test:live`: the end-to-end tests of test/live/ against a real tenant, when INTUNE_PUBLISHER_LIVE=1 and the
// AZURE_* variables say which (docs/testing.md). Otherwise one line says the run was skipped, and that a skipped run
// is not a pass. Needs a build (the npm script builds first).
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";

const { liveConfig } = await import("../dist/test/support/tenant-under-test.js");
const live = liveConfig(process.env);
if (!live.live) {
  console.log(
    `test:live SKIPPED, nothing tested (not a pass): ${live.why}; set INTUNE_PUBLISHER_LIVE=1, AZURE_TENANT_ID, ` +
      "AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or a certificate or federated token), see docs/testing.md.",
  );
  process.exit(0);
}
const dir = join("dist", "test", "live");
const files = readdirSync(dir)
  .filter((f) => f.endsWith(".test.js"))
  .sort()
  .map((f) => join(dir, f));
console.log(`test:live: ${files.length} file(s) against tenant ${process.env["AZURE_TENANT_ID"]}`);
const r = spawnSync(process.execPath, ["--enable-source-maps", "--test", "--test-concurrency=1", ...files], {
  stdio: "inherit",
});
process.exit(r.status ?? 1);
