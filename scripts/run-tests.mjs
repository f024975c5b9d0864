// Runs every compiled *.test.js under dist/ with node's test runner (its summary lines are what CI reads).
// Node 20's `--test` takes no globs, so the files are listed here. Extra arguments filter by path substring.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";

function collect(dir, out = []) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) collect(p, out);
    else if (entry.name.endsWith(".test.js")) out.push(p);
  }
  return out;
}

const filters = process.argv.slice(2);
const files = ["dist/src", "dist/test", "dist/emulator"]
  .flatMap((d) => {
    try {
      return collect(d);
    } catch {
      return [];
    }
  })
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error("No test files found under dist/: run `npm run build` first.");
  process.exit(1);
}
// test/live/ runs against the local tenant here, never a real one: a real tenant is `npm run test:live`'s.
const env = { ...process.env };
delete env["INTUNE_PUBLISHER_LIVE"];
const r = spawnSync(process.execPath, ["--enable-source-maps", "--test", "--test-concurrency=2", ...files], {
  stdio: "inherit",
  env,
});
process.exit(r.status ?? 1);
