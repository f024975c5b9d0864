// `npm start`: publishes the example app definitions (examples/apps/*.yaml) to the local tenant — a running
// `intune-publisher emulator start`, else the demo tenant: a local tenant started in this process whose state
// (apps, uploads, assignments) is kept in the user's state folder (<state>/intune-publisher/demo-tenant), so a second
// `npm start` finds everything published and has nothing to do — printing the connection test table, packaging and
// upload progress, and a summary of what the tenant holds. Then the catalog part: searches the local tenant's vendor
// host, shows a product's installer choice, imports a few demo products (definitions + verified installers: among
// them a zip with a nested MSI, and a fixed-URL catalog entry whose version is its MSI's) and publishes them. A
// configured real tenant is never used (every command gets --cloud local). Builds fabrikam-agent's prebuilt package first when it is missing (it is never committed). Runs the compiled CLI (`npm
// ci` builds it; the build is run here when dist/ is missing). Extra arguments go to both `publish` runs (e.g. `npm
// start -- --dry-run`). `npm start -- --fresh` starts the demo tenant afresh (its folder is deleted first).
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { chmod, mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
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
const fresh = process.argv.includes("--fresh");
const extra = process.argv.slice(2).filter((a) => a !== "--fresh");

// One local tenant for both parts: the running one when it has a vendor host, else the demo tenant started here
// and recorded in its own state folder (as `emulator start` records it), so every command below finds the same
// tenant. Its Graph state and uploads persist there between runs.
// Never a configured tenant: every command gets --cloud local, and the AZURE_* variables (which could name another
// authority or credential) are not passed on.
let env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("AZURE_")));
let running = await findRunningLocalTenant(defaultEmulatorStateDir(process.env));
let started;
let stateDir;
const { homeFolder, userStateDir } = await import(dist("src/core/config/dirs.js"));
const demoDir = join(
  userStateDir(process.env, process.platform, homeFolder(process.env, process.platform, homedir)),
  "demo-tenant",
);
if (fresh) await rm(demoDir, { recursive: true, force: true });
await mkdir(demoDir, { recursive: true, mode: 0o700 });
if (running?.vendorUrl === undefined) {
  stateDir = demoDir;
  process.stderr.write(
    `Starting the demo tenant in-process (its state is kept in ${stateDir}; \`npm start -- --fresh\` starts it afresh)...\n`,
  );
  const { startLocalTenant } = await import(dist("emulator/server.js"));
  const { formatLocalTenantRecord } = await import(dist("src/core/config/local-tenant-record.js"));
  started = await startLocalTenant({ stateDir, persist: true, storage: { location: join(stateDir, "blobs") } });
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
  env = { ...env, INTUNE_PUBLISHER_EMULATOR_STATE: stateDir };
  running = await findRunningLocalTenant(stateDir);
}
const run = (args) => main(args, { env });
const section = (title) => process.stdout.write(`\n== ${title}\n`);

try {
  section("Example apps (examples/apps/*.yaml)");
  let code = await run(["publish", ...files, "--cloud", "local", "--test-connection", ...extra]);
  if (code === 0) {
    const source = ["--source", `${running.vendorUrl}/`];
    // winget products of the vendor host (Contoso.ZipTool: a zip with a nested MSI), and Contoso.FixedUrlApp through a
    // catalog entry of our own with a fixed URL (its version is the downloaded MSI's ProductVersion).
    const products = ["Contoso.TinyApp", "Contoso.Notes", "Fabrikam.Sketch", "Contoso.ZipTool"];
    const fixedId = "Contoso.FixedUrlApp";
    section(`Catalog: search the local tenant's vendor host (${running.vendorUrl}) for "demo"`);
    code = await run(["catalog", "search", "demo", ...source, "--no-log-file"]);
    if (code === 0) {
      section("Catalog: the installer Fabrikam.Sketch gets, and why");
      code = await run(["catalog", "show", "Fabrikam.Sketch", ...source, "--no-log-file"]);
    }
    // Imported once into the demo folder and kept, so that a second run publishes the same definitions (and has
    // nothing to do); a product missing there (a demo folder from a version with fewer products) is imported now.
    const out = join(demoDir, "catalog-apps");
    const imported = (id) => existsSync(join(out, id.toLowerCase()));
    const missing = products.filter((id) => !imported(id));
    if (code === 0 && missing.length < products.length && imported(fixedId))
      section(
        `Catalog: ${[...products, fixedId].filter(imported).join(", ")} were imported by an earlier run (${out})`,
      );
    if (code === 0 && (missing.length > 0 || !imported(fixedId))) {
      const temp = await mkdtemp(join(demoDir, "import-"));
      try {
        if (missing.length > 0) {
          section(`Catalog: import ${missing.join(", ")} (definitions + verified installers; a zip's files unpacked)`);
          code = await run(["catalog", "import", ...missing, "--out", join(temp, "apps"), ...source, "--no-log-file"]);
        }
        if (code === 0 && !imported(fixedId)) {
          const entries = join(temp, "entries");
          await mkdir(entries);
          await writeFile(
            join(entries, "fixedurlapp.yaml"),
            [
              `id: ${fixedId}`,
              "name: Contoso Fixed URL App",
              "publisher: Contoso",
              "installer: { type: msi }",
              `source: { kind: fixed, url: "${running.vendorUrl}/latest/${fixedId}/fixedurlapp.msi" }`,
              "",
            ].join("\n"),
          );
          // a folder source: the vendor host's CA is trusted explicitly (as for any HTTPS host with a private CA)
          await writeFile(join(temp, "vendor-ca.pem"), running.caPem);
          section(`Catalog: import ${fixedId} from a catalog entry with a fixed URL (the version is the MSI's)`);
          code = await run([
            "catalog",
            "import",
            fixedId,
            "--out",
            join(temp, "fixed"),
            "--source",
            entries,
            "--ca-certificate",
            join(temp, "vendor-ca.pem"),
            "--no-log-file",
          ]);
        }
        if (code === 0) {
          await mkdir(out, { recursive: true });
          // import writes only into an empty folder: one per import
          for (const dir of ["apps", "fixed"].map((d) => join(temp, d)).filter((d) => existsSync(d)))
            for (const d of readdirSync(dir)) await rename(join(dir, d), join(out, d));
        }
      } finally {
        await rm(temp, { recursive: true, force: true });
      }
    }
    if (code === 0) {
      section("Catalog: publish the imported definitions");
      const defs = readdirSync(out)
        .sort()
        .map((d) => join(out, d, `${d}.yaml`));
      code = await run(["publish", ...defs, "--cloud", "local", ...extra]);
    }
  }
  process.exitCode = code;
} finally {
  await started?.close();
  // The record names a port that is gone: the next run writes it again. The state stays.
  if (stateDir !== undefined) await rm(join(stateDir, "credentials.json"), { force: true });
}
