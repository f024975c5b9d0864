// `npm start`: publishes the example app definitions (examples/apps/*.yaml) to the local tenant — a running
// `intune-publisher emulator start`, else one started in this process — printing the connection test table,
// packaging and upload progress, and a summary of what the tenant holds. Builds fabrikam-agent's prebuilt
// package first when it is missing (it is never committed). Runs the compiled CLI (`npm ci` builds it; the build
// is run here when dist/ is missing). Extra arguments go to `publish` (e.g. `npm start -- --dry-run`).
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = (p) => pathToFileURL(join(root, "dist", p)).href;

if (!existsSync(join(root, "dist", "src", "cli", "main.js"))) {
  process.stderr.write("dist/ is missing: building first (npm run build)...\n");
  const r = spawnSync(process.platform === "win32" ? "npm.cmd" : "npm", ["run", "build"], {
    cwd: root,
    stdio: "inherit",
    shell: process.platform === "win32",
  });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const apps = join(root, "examples", "apps");
const fabrikam = join(apps, "fabrikam-agent");
const prebuilt = join(fabrikam, "dist", "install.intunewin");
if (!existsSync(prebuilt)) {
  process.stderr.write("Building the prebuilt package of fabrikam-agent (examples/apps/fabrikam-agent/README.md)...\n");
  const { packageFolder } = await import(dist("src/intunewin/package.js"));
  await packageFolder({
    sourceDir: join(fabrikam, "payload"),
    setupFile: "install.cmd",
    outDir: join(fabrikam, "dist"),
  });
}

const files = readdirSync(apps)
  .filter((f) => f.endsWith(".yaml"))
  .sort()
  .map((f) => join(apps, f));
const { main } = await import(dist("src/cli/main.js"));
process.exitCode = await main(["publish", ...files, "--cloud", "local", "--test-connection", ...process.argv.slice(2)]);
