// `npm start`: publishes the example app definitions (examples/apps/*.yaml) to the local tenant — a running
// `intune-publisher emulator start`, else one started in this process — printing the connection test table,
// packaging and upload progress, and a summary of what the tenant holds. Then the catalog part: searches the local
// tenant's vendor host, shows a product's installer choice, imports a few demo products (definitions + verified
// installers) and publishes them. Builds fabrikam-agent's prebuilt package first when it is missing (it is never
// committed). Runs the compiled CLI (`npm ci` builds it; the build is run here when dist/ is missing). Extra
// arguments go to both `publish` runs (e.g. `npm start -- --dry-run`).
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
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
const { defaultEmulatorStateDir, findRunningLocalTenant } = await import(dist("src/publish/connect/local-tenant.js"));
const extra = process.argv.slice(2);

// One local tenant for both parts: the running one when it has a vendor host, else one started here and recorded
// in a temporary state folder (as `emulator start` records it), so every command below finds the same tenant.
let env = process.env;
let running = await findRunningLocalTenant(defaultEmulatorStateDir(process.env));
let started;
let stateDir;
if (running?.vendorUrl === undefined) {
  process.stderr.write("Starting a local tenant in-process (default seed, vendor host with demo products)...\n");
  const { startLocalTenant } = await import(dist("emulator/server.js"));
  const { formatLocalTenantRecord } = await import(dist("src/core/config/local-tenant-record.js"));
  started = await startLocalTenant();
  stateDir = await mkdtemp(join(tmpdir(), "intune-publisher-start-"));
  await writeFile(join(stateDir, "ca.pem"), started.caCertPem);
  const record = join(stateDir, "credentials.json");
  await writeFile(
    record,
    formatLocalTenantRecord({
      tenantId: started.tenantId,
      clientId: started.clientId,
      clientSecret: started.clientSecret ?? null,
      authorityHost: started.authorityHost,
      graphBaseUrl: started.graphBaseUrl,
      tokenAudience: started.tokenAudience,
      vendorUrl: started.vendor.origin,
    }),
    { mode: 0o600 },
  );
  await chmod(record, 0o600);
  env = { ...process.env, INTUNE_PUBLISHER_EMULATOR_STATE: stateDir };
  running = await findRunningLocalTenant(stateDir);
}
const run = (args) => main(args, { env });
const section = (title) => process.stdout.write(`\n== ${title}\n`);

try {
  section("Example apps (examples/apps/*.yaml)");
  let code = await run(["publish", ...files, "--cloud", "local", "--test-connection", ...extra]);
  if (code === 0) {
    const source = ["--source", `${running.vendorUrl}/`];
    const products = ["Contoso.TinyApp", "Contoso.Notes", "Fabrikam.Sketch"];
    section(`Catalog: search the local tenant's vendor host (${running.vendorUrl}) for "demo"`);
    code = await run(["catalog", "search", "demo", ...source, "--no-log-file"]);
    if (code === 0) {
      section("Catalog: the installer Fabrikam.Sketch gets, and why");
      code = await run(["catalog", "show", "Fabrikam.Sketch", ...source, "--no-log-file"]);
    }
    const out = join(await mkdtemp(join(tmpdir(), "intune-publisher-catalog-")), "apps");
    try {
      if (code === 0) {
        section(`Catalog: import ${products.join(", ")} (definitions + verified installers)`);
        code = await run(["catalog", "import", ...products, "--out", out, ...source, "--no-log-file"]);
      }
      if (code === 0) {
        section("Catalog: publish the imported definitions");
        const defs = readdirSync(out)
          .sort()
          .map((d) => join(out, d, `${d}.yaml`));
        code = await run(["publish", ...defs, "--cloud", "local", ...extra]);
      }
    } finally {
      await rm(dirname(out), { recursive: true, force: true });
    }
  }
  process.exitCode = code;
} finally {
  await started?.close();
  if (stateDir !== undefined) await rm(stateDir, { recursive: true, force: true });
}
